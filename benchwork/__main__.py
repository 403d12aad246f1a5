"""``python -m benchwork``: the same command line as ``benchwork``."""

from benchwork.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

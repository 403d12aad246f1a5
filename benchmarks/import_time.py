"""Import time of ``benchwork`` (target <= 0.5 s), with ``import litellm`` for scale.

Each figure is the median of several fresh interpreters, measured inside the interpreter
(so Python's own start-up is excluded).

    python benchmarks/import_time.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

SNIPPET = "import time,os; os.environ.setdefault('LITELLM_LOCAL_MODEL_COST_MAP','True'); t=time.perf_counter(); import {mod}; print(time.perf_counter()-t)"


def measure(mod: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", SNIPPET.format(mod=mod)], capture_output=True,
                             text=True, check=True)  # fmt: skip
        times.append(float(out.stdout.strip()))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bw = measure("benchwork", args.runs)
    api = measure("benchwork.runner._api", args.runs)
    lit = measure("litellm", max(1, args.runs // 2))
    print(f"import benchwork          {bw * 1000:8.1f} ms   (target <= 500 ms)")
    print(
        f"import benchwork.runner._api      {api * 1000:8.1f} ms   (first run(): engine, Polars, aiohttp)"
    )
    print(
        f"import litellm            {lit * 1000:8.1f} ms   (loaded only for non-OpenAI providers)"
    )
    print(f"ratio benchwork/litellm   {bw / lit:8.3f}")


if __name__ == "__main__":
    main()

"""``python -m benchwork.sim``: serve the simulator (see ``benchwork.sim.cli``)."""

import sys

from benchwork.sim.cli import main

sys.exit(main())

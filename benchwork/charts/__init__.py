"""Charts: one call per figure, drawn from the analysis frames, offline by default.

Every chart takes a ``Run``, a results frame or a list of them (or the analysis frame it
draws) and returns an Altair chart. Data is aggregated in Polars first, so a chart of a
million-row run embeds a few rows per target. Importing this package registers the
``benchwork`` theme and an offline renderer (see ``use_renderer``) unless you chose others.
"""

from benchwork.charts._leaderboard import leaderboard, leaderboard_data
from benchwork.charts._theme import (
    OKABE_ITO,
    PALETTE,
    pin_colors,
    register_theme,
    reset_colors,
    target_colors,
)

register_theme()

__all__: list[str] = [
    "OKABE_ITO",
    "PALETTE",
    "leaderboard",
    "leaderboard_data",
    "pin_colors",
    "reset_colors",
    "target_colors",
]

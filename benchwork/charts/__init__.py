"""Charts: one call per figure, drawn from the analysis frames, offline by default.

Every chart takes a ``Run``, a results frame or a list of them (or the analysis frame it
draws) and returns an Altair chart. Data is aggregated in Polars first, so a chart of a
million-row run embeds a few rows per target. Importing this package enables the
``benchwork`` theme and an offline renderer (see ``use_renderer``), unless you chose others;
``save`` writes HTML, SVG, PNG or PDF.
"""

from benchwork.charts._cost import cost_quality, cost_quality_data, pareto
from benchwork.charts._ecdf import ecdf, ecdf_data
from benchwork.charts._errors import errors, errors_data
from benchwork.charts._forest import forest, forest_data
from benchwork.charts._heatmap import heatmap, heatmap_data
from benchwork.charts._jitter import jitter, jitter_data
from benchwork.charts._leaderboard import leaderboard, leaderboard_data
from benchwork.charts._render import enable_offline, save, use_renderer
from benchwork.charts._runs import flips, flips_data
from benchwork.charts._speed import speed, speed_data, ttft_vs_tps, ttft_vs_tps_data
from benchwork.charts._theme import (
    OKABE_ITO,
    PALETTE,
    pin_colors,
    register_theme,
    reset_colors,
    target_colors,
)
from benchwork.charts._tiers import tiers, tiers_data
from benchwork.charts._trends import trends

register_theme()
enable_offline()

__all__: list[str] = [
    "OKABE_ITO",
    "PALETTE",
    "cost_quality",
    "cost_quality_data",
    "ecdf",
    "ecdf_data",
    "enable_offline",
    "errors",
    "errors_data",
    "flips",
    "flips_data",
    "forest",
    "forest_data",
    "heatmap",
    "heatmap_data",
    "jitter",
    "jitter_data",
    "leaderboard",
    "leaderboard_data",
    "pareto",
    "pin_colors",
    "reset_colors",
    "save",
    "speed",
    "speed_data",
    "target_colors",
    "tiers",
    "tiers_data",
    "trends",
    "ttft_vs_tps",
    "ttft_vs_tps_data",
    "use_renderer",
]

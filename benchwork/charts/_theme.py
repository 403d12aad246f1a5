"""One look for every chart: the theme, and a colour per target that stays put.

A target's colour comes from a hash of its name into a colour-blind-safe palette
(Okabe–Ito, then Tableau's colour-blind 10), so it is the same in every chart and every run.
When two targets of one chart hash to the same colour, the one seen earlier in this process
(else the one whose name sorts first) keeps it and the other takes the next free colour;
``pin_colors`` fixes colours by hand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import altair as alt

__all__ = [
    "OKABE_ITO",
    "PALETTE",
    "THEME",
    "color",
    "pin_colors",
    "register_theme",
    "reset_colors",
    "target_colors",
]

#: Okabe & Ito (2008), readable with every common colour-vision deficiency.
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
)
#: Okabe–Ito first (a name's preferred slot is among these), then Tableau colour-blind 10.
PALETTE: tuple[str, ...] = (
    *OKABE_ITO,
    "#006BA4",
    "#FF800E",
    "#ABABAB",
    "#595959",
    "#5F9ED1",
    "#C85200",
    "#898989",
    "#A2C8EC",
    "#FFBC79",
    "#CFCFCF",
)

_pinned: dict[str, str] = {}
_seen: dict[str, str] = {}  # target -> colour it was drawn with in this process

THEME = "benchwork"


def _slot(name: str) -> int:
    """The preferred palette slot of a target: stable across processes (not ``hash()``)."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % 7  # not yellow: too light for text on white


def target_colors(targets: Iterable[str]) -> dict[str, str]:
    """A colour for each target: pinned, else its hashed slot, else the next free one."""
    names = sorted(dict.fromkeys(str(t) for t in targets))
    out: dict[str, str] = {}
    used: set[str] = set()
    order = sorted(names, key=lambda n: (n not in _pinned, n not in _seen, n))
    for name in order:
        want = _pinned.get(name) or _seen.get(name) or PALETTE[_slot(name)]
        if want in used and name not in _pinned:
            start = PALETTE.index(want) if want in PALETTE else 0
            free = [PALETTE[(start + i) % len(PALETTE)] for i in range(len(PALETTE))]
            want = next((c for c in free if c not in used), want)
        out[name] = want
        used.add(want)
        _seen.setdefault(name, want)
    return {n: out[n] for n in names}


def pin_colors(colors: Mapping[str, str]) -> None:
    """Fix the colour of some targets (CSS colours), e.g. ``pin_colors({"gpt-4o": "#000"})``."""
    _pinned.update({str(k): str(v) for k, v in colors.items()})


def reset_colors() -> None:
    """Forget pinned colours and the colours targets were drawn with in this process."""
    _pinned.clear()
    _seen.clear()


def color(targets: Iterable[str], *, legend: bool = True, field: str = "target") -> alt.Color:
    """The colour channel for ``field`` with each target's own colour."""
    mapping = target_colors(targets)
    return alt.Color(
        f"{field}:N",
        scale=alt.Scale(domain=list(mapping), range=list(mapping.values())),
        legend=alt.Legend(title="target") if legend else None,
    )


def _theme() -> Any:
    font = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
    return {
        "config": {
            "font": font,
            "background": "white",
            "view": {"stroke": None, "continuousWidth": 420, "continuousHeight": 260},
            "title": {"fontSize": 14, "anchor": "start", "subtitleColor": "#555", "offset": 8},
            "axis": {
                "labelFontSize": 11,
                "titleFontSize": 12,
                "titleFontWeight": "normal",
                "gridColor": "#e6e6e6",
                "domainColor": "#888",
                "tickColor": "#888",
            },
            "legend": {"labelFontSize": 11, "titleFontSize": 12, "orient": "right"},
            "header": {"labelFontSize": 12, "titleFontSize": 12},
            "range": {"category": list(PALETTE)},
        }
    }


def register_theme() -> None:
    """Register the ``benchwork`` Altair theme; enable it unless another one was chosen."""
    alt.theme.register(THEME, enable=False)(_theme)
    if alt.theme.active == "default":
        alt.theme.enable(THEME)

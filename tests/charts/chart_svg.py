"""Render a chart to SVG through vl-convert and read its marks back (aria labels, geometry)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import vl_convert as vlc

NS = "{http://www.w3.org/2000/svg}"


@dataclass
class Mark:
    """One drawn item: its aria-label fields, its tag and attributes."""

    fields: dict[str, str]
    tag: str
    attrs: dict[str, str]

    @property
    def x(self) -> float:
        m = re.match(r"translate\(([-\d.e]+),([-\d.e]+)\)", self.attrs.get("transform", ""))
        return float(m.group(1)) if m else 0.0

    @property
    def x2(self) -> float:
        return self.x + float(self.attrs.get("x2", 0))


def render(chart: Any) -> str:
    return vlc.vegalite_to_svg(chart.to_dict())


def _named(cls: str, container: str) -> bool:
    """``layer_1_marks`` matches it inside facets (``child_``) and concats (``concat_0_``)."""
    return any(re.fullmatch(rf"(child_|concat_\d+_)*{container}", c) for c in cls.split())


def _fields(label: str) -> dict[str, str]:
    out = {}
    for part in label.split("; "):
        key, _, value = part.partition(": ")
        out[key] = value
    return out


def marks(svg: str, container: str) -> list[Mark]:
    """Items of every mark group with a class ending in ``container`` (``layer_1_marks``)."""
    root = ET.fromstring(svg)
    out = []
    for g in root.iter(f"{NS}g"):
        cls = g.get("class", "")
        if "role-mark" in cls and _named(cls, container):
            for item in g:
                label = item.get("aria-label")
                if label is not None:
                    tag = item.tag.removeprefix(NS)
                    out.append(Mark(_fields(label), tag, dict(item.attrib)))
    return out


def texts(svg: str, container: str) -> list[str]:
    root = ET.fromstring(svg)
    out = []
    for g in root.iter(f"{NS}g"):
        cls = g.get("class", "")
        if "role-mark" in cls and _named(cls, container):
            out += ["".join(t.itertext()) for t in g if t.tag == f"{NS}text"]
    return out


def datasets(chart: Any) -> list[list[dict[str, Any]]]:
    return list(chart.to_dict().get("datasets", {}).values())

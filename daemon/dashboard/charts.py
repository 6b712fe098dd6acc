"""The overview's charts, drawn by pygal on the daemon as SVG that goes into the page.

A chart in the HTML paints with the page's first paint: no charting script to fetch,
evaluate and run in the browser before the first screen is whole. pygal writes each chart
with its own ``<style>`` and ``<script>``, which the page's strict Content-Security-Policy
would refuse; :func:`line` takes both out (and pygal's script-driven tooltip), and
:func:`stylesheet` is pygal's style once, for every chart, served in the page's style
sheet. Its colours are the page's CSS variables (``var(--c1)``...), so a chart follows
light and dark with the rest of the page and needs no redraw when the theme changes.
Each point carries a ``<title>`` ("spend, Oct 12: $1.20"), which the browser shows on hover;
a chart of more than :data:`MAX_DOTS` days draws lines only.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

import pygal
from pygal.style import Style

# pygal appends to sys.meta_path a finder for its map plugins (which we do not use) that
# knows only find_module: every import that reaches it warns (ImportWarning) on 3.11 and
# is ignored by 3.12. Take it out again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__module__ != "pygal"]

COLORS = tuple(f"var(--c{i})" for i in range(1, 7))
STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="var(--muted)",
    foreground_strong="var(--muted)",
    foreground_subtle="var(--line)",
    colors=COLORS,
    font_family="inherit",
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
    value_font_size=11,
    opacity="1",
    opacity_hover="1",
    transition="none",
)
MAX_DOTS = 45  # a line over more days has no dots (a smear, and thousands of elements)


@dataclass(frozen=True, slots=True)
class Series:
    """One line: its label (the legend's), one value per day (None: no value that day)."""

    label: str
    values: Sequence[float | int | None]


def _config(
    width: int, height: int, days: int, lines: int, y_format: Callable[[float], str]
) -> dict[str, Any]:
    return {
        "style": STYLE,
        "js": [],
        "width": width,
        "height": height,
        "disable_xml_declaration": True,
        "explicit_size": False,
        "allow_interruptions": True,  # a None is a gap, not a line through it
        "legend_at_bottom": True,
        # one row of legends: pygal makes room for (series // columns) rows
        "legend_at_bottom_columns": max(1, lines),
        "legend_box_size": 10,
        "truncate_legend": -1,
        "truncate_label": -1,
        "show_minor_x_labels": False,
        "x_labels_major_every": max(1, days // (8 if width > 600 else 4)),
        "margin": 6,
        "spacing": 8,
        "dots_size": 2.5,
        "value_formatter": y_format,
        "print_values": False,
        "show_x_guides": False,
        "max_scale": 6,  # at most about six values on the y axis: a calm chart
    }


def _day_label(day: str) -> str:
    d = dt.date.fromisoformat(day)
    return f"{d:%b} {d.day}"


def line(
    days: Sequence[str],
    series: Sequence[Series],
    *,
    width: int,
    height: int = 220,
    y_format: Callable[[float], str] = str,
    y_range: tuple[float, float] | None = None,
    whole: bool = False,
) -> str:
    """An SVG line chart of ``series`` over ``days`` (``YYYY-MM-DD``), its width and height
    the proportions it scales at; no ``<style>``, no ``<script>``, no inline style.
    ``whole``: the values are counts, ticked at whole numbers only."""
    chart = pygal.Line(**_config(width, height, len(days), len(series), y_format))
    if y_range is not None:
        chart.range = y_range
    top = max((v for s in series for v in s.values if v is not None), default=0)
    if whole and top < 10:  # counts: no tick between 1 and 2 (pygal's would read "1.5")
        chart.y_labels = list(range(int(top) + 1))
    chart.x_labels = [_day_label(d) for d in days]
    for s in series:
        chart.add(s.label, list(s.values), show_dots=len(days) <= MAX_DOTS)
    root = chart.render_tree()
    _strip(root)
    _titles(root, [s.label for s in series])
    return ET.tostring(root, encoding="unicode")


_NUMBER = re.compile(r"\d+\.\d{2,}")
_PLACES = ("x", "y", "cx", "cy", "d", "width", "height", "transform", "points")


def _short(m: re.Match[str]) -> str:
    return f"{float(m.group()):.1f}"


def _strip(root: ET.Element) -> None:
    """pygal's own style, script, tooltip, comments and titles, the hooks of its script and
    the groups left empty: the page has its own, and each is bytes and elements to lay out."""
    root.attrib.pop("id", None)
    for parent in reversed(list(root.iter())):  # children before their parents
        for child in list(parent):
            tag = child.tag if isinstance(child.tag, str) else "comment"  # pygal's tags bare
            classes = child.get("class", "").split()
            if (
                tag in ("style", "script", "comment", "title")
                or "tooltip" in classes
                or (tag in ("g", "defs") and not len(child) and "dots" not in classes)
            ):
                parent.remove(child)
                continue
            if any(c in _HOOKS for c in classes):
                child.set("class", " ".join(c for c in classes if c not in _HOOKS))
            for name in _PLACES:  # to a tenth of a pixel: pygal writes sixteen digits
                if name in child.attrib:
                    child.set(name, _NUMBER.sub(_short, child.attrib[name]))


_HOOKS = {"reactive", "tooltip-trigger", "activate-serie"}


def _titles(root: ET.Element, labels: list[str]) -> None:
    """A ``<title>`` on each point: its series, day and value, shown on hover."""
    for group in root.iter("g"):
        classes = group.get("class", "").split()
        if "series" not in classes:
            continue
        index = next((int(c[6:]) for c in classes if c.startswith("serie-")), -1)
        label = labels[index] if 0 <= index < len(labels) else ""
        for dots in group.iter("g"):
            if dots.get("class") != "dots":
                continue
            value = dots.find("desc[@class='value']")
            day = dots.find("desc[@class='x_label']")
            title = ET.Element("title")
            title.text = f"{label}, {day.text if day is not None else ''}: " + (
                value.text if value is not None and value.text else ""
            )
            for desc in dots.findall("desc"):  # pygal's tooltip script read these
                dots.remove(desc)
            dots.insert(0, title)


_PREFIX = re.compile(r"#chart-[0-9a-f-]+")


def stylesheet() -> str:
    """pygal's style for every chart of the page (``svg.pygal-chart``), in the page's
    colours: what :func:`line` took out of each chart, once."""
    chart = pygal.Line(style=STYLE, js=[])
    for i in range(len(COLORS)):
        chart.add(str(i), [i, i + 1])
    root = chart.render_tree()
    css = "\n".join(node.text or "" for node in root.iter("style"))
    return _PREFIX.sub("svg.pygal-chart", css)

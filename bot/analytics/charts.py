"""The report as SVG charts (matplotlib, no display needed): funnel, daily trend, questions.

The charts are inlined in the inbox's funnel page, whose content-security policy allows no
inline style: matplotlib's `style="..."` attributes and `<style>` element would be dropped and
every shape drawn black. So each chart's styles become SVG presentation attributes (which CSP
does not govern), and its ids get the chart's name as a prefix: three charts on one page would
otherwise share ids such as `figure_1`, and a `url(#...)` could point into the wrong chart.
"""

from __future__ import annotations

import functools
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Dict, Mapping

import matplotlib

matplotlib.use("Agg")  # no display: render to files and strings only
import matplotlib.pyplot as plt  # noqa: E402

from bot.analytics.funnel import STEP_NAMES, FunnelReport  # noqa: E402

_BLUE, _GREY, _ORANGE = "#2563eb", "#9ca3af", "#f59e0b"
WORDS_FILE = Path(__file__).resolve().parent / "chart_words.yml"

_SVG = "http://www.w3.org/2000/svg"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
_RULE = re.compile(r"\*\s*\{([^}]*)\}")  # matplotlib's one rule: `*{stroke-linejoin: ...}`
_URL_REF = re.compile(r"url\(#([^)]+)\)")


def _declarations(css: str) -> Dict[str, str]:
    pairs = (part.split(":", 1) for part in css.split(";") if ":" in part)
    return {name.strip(): value.strip() for name, value in pairs}


def inline_svg(svg: str, name: str) -> str:
    """`svg` (matplotlib's output) made fit to inline under a policy without inline styles:
    styles as presentation attributes, ids prefixed with `chart-<name>-`, no metadata, and
    `role="img"` labelled by the element with id `chart-<name>-caption` (the page's caption)."""
    root = ET.fromstring(svg)
    prefix = f"chart-{name}-"
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == f"{{{_SVG}}}metadata":
                parent.remove(child)
            elif child.tag == f"{{{_SVG}}}style":
                # `*` rules hold inherited properties only: the root's attributes do the same.
                for rule in _RULE.findall(child.text or ""):
                    root.attrib.update(_declarations(rule))
                parent.remove(child)
    for element in root.iter():
        element.tag = element.tag.rpartition("}")[2]  # plain names: HTML puts <svg> in SVG
        style = element.attrib.pop("style", None)
        if style:
            element.attrib.update(_declarations(style))
        if "id" in element.attrib:
            element.set("id", prefix + element.get("id", ""))
        href = element.get(_XLINK_HREF, "")
        if href.startswith("#"):
            element.set(_XLINK_HREF, "#" + prefix + href[1:])
        for attribute in ("clip-path", "mask", "filter", "fill", "stroke"):
            value = element.get(attribute, "")
            if "url(#" in value:
                element.set(attribute, _URL_REF.sub(rf"url(#{prefix}\1)", value))
    root.set("xmlns", _SVG)
    root.set("role", "img")
    root.set("aria-labelledby", prefix + "caption")
    return ET.tostring(root, encoding="unicode")


def _svg(figure, name: str) -> str:  # type: ignore[no-untyped-def]
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    svg = buffer.getvalue()
    return inline_svg(svg[svg.index("<svg") :], name)  # no XML prolog and doctype in HTML


@functools.cache
def _words() -> Mapping[str, str]:
    import yaml

    return yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))


def _say(name: str, **values: Any) -> str:
    """A chart's words (bot/analytics/chart_words.yml), with its {names} filled in."""
    return _words()[name].format(**values)


def funnel_chart(report: FunnelReport) -> str:
    """Horizontal bars: conversations reaching each step, with the share of those who opened."""
    names = list(STEP_NAMES)
    counts = [report.steps[name] for name in names]
    top = counts[0] or 1
    figure, axes = plt.subplots(figsize=(7, 0.32 * len(names) + 0.8))
    bars = axes.barh([n.replace("_", " ") for n in names], counts, color=_BLUE)
    axes.invert_yaxis()
    for bar, count in zip(bars, counts, strict=True):
        axes.text(
            bar.get_width(),
            bar.get_y() + bar.get_height() / 2,
            _say("funnel_share", count=count, percent=f"{100 * count / top:.0f}"),
            va="center",
            fontsize=8,
        )
    axes.set_xlabel(_say("funnel_axis"))
    axes.set_title(_say("funnel_title"))
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure, "funnel")


def daily_chart(report: FunnelReport) -> str:
    """Conversations opened, consented and booked per day."""
    days = list(report.daily)
    figure, axes = plt.subplots(figsize=(7, 2.6))
    for step, colour in (("opened", _GREY), ("consented", _BLUE), ("booked", _ORANGE)):
        counts = [report.daily[d][step] for d in days]
        axes.plot(days, counts, marker="o", label=_say(f"daily_{step}"), color=colour)
    axes.set_title(_say("daily_title"))
    axes.legend(frameon=False, fontsize=8)
    axes.tick_params(axis="x", labelrotation=45, labelsize=7)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure, "daily")


def questions_chart(report: FunnelReport) -> str:
    """Per question: share of visitors asked who dropped off there, and who needed a re-ask."""
    stats = {q: s.as_dict() for q, s in report.questions.items()}
    names = list(stats)
    drop = [100 * (stats[q]["drop_off_rate"] or 0) for q in names]
    reask = [100 * (stats[q]["reask_rate"] or 0) for q in names]
    figure, axes = plt.subplots(figsize=(7, 2.8))
    positions = range(len(names))
    axes.bar(
        [p - 0.2 for p in positions],
        drop,
        width=0.4,
        label=_say("questions_dropped"),
        color=_ORANGE,
    )
    axes.bar(
        [p + 0.2 for p in positions], reask, width=0.4, label=_say("questions_reasked"), color=_BLUE
    )
    axes.set_xticks(list(positions), [q.replace("_", " ") for q in names], fontsize=8)
    axes.set_ylabel(_say("questions_axis"))
    axes.set_title(_say("questions_title"))
    axes.legend(frameon=False, fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure, "questions")


def all_charts(report: FunnelReport) -> Dict[str, str]:
    return {
        "funnel": funnel_chart(report),
        "daily": daily_chart(report),
        "questions": questions_chart(report),
    }

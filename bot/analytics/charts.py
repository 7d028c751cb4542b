"""The report as SVG charts (matplotlib, no display needed): funnel, daily trend, questions."""

from __future__ import annotations

import io
from typing import Dict

import matplotlib

matplotlib.use("Agg")  # no display: render to files and strings only
import matplotlib.pyplot as plt  # noqa: E402

from bot.analytics.funnel import STEP_NAMES, FunnelReport  # noqa: E402

_BLUE, _GREY, _ORANGE = "#2563eb", "#9ca3af", "#f59e0b"


def _svg(figure) -> str:  # type: ignore[no-untyped-def]
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # drop the XML prolog and doctype: inlined in HTML


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
            f" {count} ({100 * count / top:.0f} %)",
            va="center",
            fontsize=8,
        )
    axes.set_xlabel("conversations")
    axes.set_title("Funnel")
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def daily_chart(report: FunnelReport) -> str:
    """Conversations opened, consented and booked per day."""
    days = list(report.daily)
    figure, axes = plt.subplots(figsize=(7, 2.6))
    for step, colour in (("opened", _GREY), ("consented", _BLUE), ("booked", _ORANGE)):
        axes.plot(days, [report.daily[d][step] for d in days], marker="o", label=step, color=colour)
    axes.set_title("Per day")
    axes.legend(frameon=False, fontsize=8)
    axes.tick_params(axis="x", labelrotation=45, labelsize=7)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def questions_chart(report: FunnelReport) -> str:
    """Per question: share of visitors asked who dropped off there, and who needed a re-ask."""
    stats = {q: s.as_dict() for q, s in report.questions.items()}
    names = list(stats)
    drop = [100 * (stats[q]["drop_off_rate"] or 0) for q in names]
    reask = [100 * (stats[q]["reask_rate"] or 0) for q in names]
    figure, axes = plt.subplots(figsize=(7, 2.8))
    positions = range(len(names))
    axes.bar([p - 0.2 for p in positions], drop, width=0.4, label="dropped off", color=_ORANGE)
    axes.bar([p + 0.2 for p in positions], reask, width=0.4, label="re-asked", color=_BLUE)
    axes.set_xticks(list(positions), [q.replace("_", " ") for q in names], fontsize=8)
    axes.set_ylabel("% of visitors asked")
    axes.set_title("Questions")
    axes.legend(frameon=False, fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def all_charts(report: FunnelReport) -> Dict[str, str]:
    return {
        "funnel": funnel_chart(report),
        "daily": daily_chart(report),
        "questions": questions_chart(report),
    }

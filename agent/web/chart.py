"""Geometry of the activity chart (stacked bars of emails and meetings per day) for an inline SVG.

The template draws what this returns; colours come from the stylesheet through classes, so the SVG needs neither
inline styles nor scripts (the page's Content-Security-Policy allows neither).
"""

from __future__ import annotations

from datetime import date
from typing import Any

WIDTH = 720
HEIGHT = 180
MARGIN_LEFT = 36
MARGIN_BOTTOM = 22
MARGIN_TOP = 8


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^n not below ``value`` (at least 1), for a readable top gridline."""
    if value <= 1:
        return 1
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def activity_chart(days: list[dict[str, Any]]) -> dict[str, Any]:
    """Bars (one email and one meeting segment per day), y-axis ticks and month labels, in SVG user units."""
    plot_width = WIDTH - MARGIN_LEFT
    plot_height = HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    top = nice_ceiling(max((d["emails"] + d["meetings"] for d in days), default=0))
    slot = plot_width / max(len(days), 1)
    bar_width = max(slot * 0.8, 1.0)
    scale = plot_height / top
    baseline = MARGIN_TOP + plot_height
    bars, labels = [], []
    previous_month = None
    for index, day in enumerate(days):
        x = MARGIN_LEFT + index * slot + (slot - bar_width) / 2
        email_height = day["emails"] * scale
        meeting_height = day["meetings"] * scale
        title = f"{day['day']}: {day['emails']} email(s), {day['meetings']} meeting(s)"
        bars.append({"x": round(x, 2), "width": round(bar_width, 2), "title": title, "day": day["day"],
                     "email_y": round(baseline - email_height, 2), "email_height": round(email_height, 2),
                     "meeting_y": round(baseline - email_height - meeting_height, 2),
                     "meeting_height": round(meeting_height, 2)})
        month = date.fromisoformat(day["day"]).strftime("%b")
        if month != previous_month:
            labels.append({"x": round(x, 2), "y": HEIGHT - 6, "text": f"{month} {int(day['day'][8:])}"})
            previous_month = month
    ticks = [{"y": round(baseline - value * scale, 2), "value": value} for value in (0, top // 2, top) if value or top]
    return {"width": WIDTH, "height": HEIGHT, "left": MARGIN_LEFT, "baseline": baseline, "top": top,
            "bars": bars, "labels": labels, "ticks": _unique_ticks(ticks),
            "total_emails": sum(d["emails"] for d in days), "total_meetings": sum(d["meetings"] for d in days)}


def _unique_ticks(ticks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[int] = set()
    out = []
    for tick in ticks:
        if tick["value"] not in seen:
            seen.add(tick["value"])
            out.append(tick)
    return out

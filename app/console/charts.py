"""Charts drawn on the server as SVG: no script, no library, readable without colour alone.

Each chart is an `<svg role="img">` with a title and a description naming its series; the page
puts the same numbers in a table beside it. Colours are the Okabe-Ito palette (told apart by
people with colour-blind vision), and each series also has its own marker shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from markupsafe import Markup, escape

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#F0E442")
WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 14, 30


@dataclass(frozen=True)
class Point:
    x: date
    y: float
    low: float | None = None
    high: float | None = None
    n: int = 0


@dataclass
class Series:
    label: str
    points: list[Point] = field(default_factory=list)


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _marker(i: int, x: float, y: float, fill: str, tip: str) -> str:
    shape = i % 3
    title = f"<title>{escape(tip)}</title>"
    if shape == 0:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{fill}">{title}</circle>'
    if shape == 1:
        return (f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" '
                f'fill="{fill}">{title}</rect>')
    return (f'<polygon points="{x:.1f},{y - 4.5:.1f} {x + 4.5:.1f},{y + 3.5:.1f} '
            f'{x - 4.5:.1f},{y + 3.5:.1f}" fill="{fill}">{title}</polygon>')


def swatch(i: int) -> Markup:
    """The legend's sample of series i: its colour and marker."""
    return Markup(f'<svg width="16" height="12" aria-hidden="true" focusable="false">'
                  f'<line x1="0" y1="6" x2="16" y2="6" stroke="{colour(i)}" stroke-width="2"/>'
                  f'{_marker(i, 8, 6, colour(i), "")}</svg>')


def line_chart(chart_id: str, title: str, series: Sequence[Series], since: date, until: date,
               y_min: float, y_max: float, fmt: Callable[[float], str],
               ticks: Sequence[float]) -> Markup:
    """Lines over days [since, until) with a band for each point's interval."""
    days = max((until - since).days - 1, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(d: date) -> float:
        return LEFT + plot_w * (d - since).days / days

    def sy(v: float) -> float:
        v = min(max(v, y_min), y_max)
        return TOP + plot_h * (1 - (v - y_min) / (y_max - y_min))

    names = ", ".join(s.label for s in series) or "no data"
    desc = f"{title} per day for {names}; the shaded band is the 95% interval."
    out = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
           f'aria-labelledby="{chart_id}-t {chart_id}-d" preserveAspectRatio="xMidYMid meet">',
           f'<title id="{chart_id}-t">{escape(title)}</title>',
           f'<desc id="{chart_id}-d">{escape(desc)}</desc>']
    for t in ticks:
        y = sy(t)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
                   f'stroke="#d7dbe3" stroke-width="1"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                   f'{escape(fmt(t))}</text>')
    step = max(1, round(days / 6))
    d = since
    while d < until:
        x = sx(d)
        out.append(f'<text x="{x:.1f}" y="{HEIGHT - 10}" text-anchor="middle">'
                   f'{d.strftime("%b %d")}</text>')
        d += timedelta(days=step)
    for i, s in enumerate(series):
        pts = sorted(s.points, key=lambda p: p.x)
        band = [p for p in pts if p.low is not None and p.high is not None]
        if len(band) >= 2:
            upper = " ".join(f"{sx(p.x):.1f},{sy(p.high):.1f}" for p in band)  # type: ignore[arg-type]
            lower = " ".join(f"{sx(p.x):.1f},{sy(p.low):.1f}" for p in reversed(band))  # type: ignore[arg-type]
            out.append(f'<polygon points="{upper} {lower}" fill="{colour(i)}" '
                       f'fill-opacity="0.13" stroke="none"/>')
        for p in band:
            x = sx(p.x)
            out.append(f'<line x1="{x:.1f}" y1="{sy(p.low):.1f}" x2="{x:.1f}" '  # type: ignore[arg-type]
                       f'y2="{sy(p.high):.1f}" stroke="{colour(i)}" stroke-opacity="0.45"/>')  # type: ignore[arg-type]
        if len(pts) >= 2:
            line = " ".join(f"{sx(p.x):.1f},{sy(p.y):.1f}" for p in pts)
            out.append(f'<polyline points="{line}" fill="none" stroke="{colour(i)}" '
                       f'stroke-width="2"/>')
        for p in pts:
            tip = f"{s.label}, {p.x.isoformat()}: {fmt(p.y)}"
            if p.low is not None and p.high is not None:
                tip += f" ({fmt(p.low)} to {fmt(p.high)})"
            if p.n:
                tip += f", n = {p.n}"
            out.append(_marker(i, sx(p.x), sy(p.y), colour(i), tip))
    if not any(s.points for s in series):
        out.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">'
                   'No data in this window</text>')
    out.append("</svg>")
    return Markup("".join(out))


def bar_chart(chart_id: str, title: str, labels: Sequence[str],
              series: Sequence[tuple[str, Sequence[float]]],
              fmt: Callable[[float], str]) -> Markup:
    """Grouped bars: one group per label, one bar per series (values are shares, 0..1)."""
    n_groups = max(len(labels), 1)
    n_series = max(len(series), 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM - 10
    top = max([v for _, values in series for v in values] + [0.01])
    top = min(1.0, top * 1.15)
    group_w = plot_w / n_groups
    bar_w = max(2.0, group_w * 0.8 / n_series)
    names = " and ".join(name for name, _ in series)
    desc = f"{title}: shares of {names} per bin."
    out = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
           f'aria-labelledby="{chart_id}-t {chart_id}-d" preserveAspectRatio="xMidYMid meet">',
           f'<title id="{chart_id}-t">{escape(title)}</title>',
           f'<desc id="{chart_id}-d">{escape(desc)}</desc>']
    for frac in (0, 0.5, 1):
        v = top * frac
        y = TOP + plot_h * (1 - frac)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
                   f'stroke="#d7dbe3"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(v))}'
                   '</text>')
    for g, label in enumerate(labels):
        gx = LEFT + g * group_w + group_w * 0.1
        for s, (name, values) in enumerate(series):
            v = values[g] if g < len(values) else 0.0
            h = plot_h * (v / top if top else 0)
            x = gx + s * bar_w
            y = TOP + plot_h - h
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 1:.1f}" height="{h:.1f}" '
                       f'fill="{colour(s)}"><title>{escape(f"{name}, {label}: {fmt(v)}")}'
                       '</title></rect>')
        # Every label when they fit, else every other (the page's table has them all).
        every = 1 if group_w >= 70 else 2
        if g % every == 0:
            cx = LEFT + g * group_w + group_w / 2
            text = label if len(label) <= 16 else label[:15] + "…"
            out.append(f'<text x="{cx:.1f}" y="{HEIGHT - 12}" text-anchor="middle">'
                       f'{escape(text)}</text>')
    out.append("</svg>")
    return Markup("".join(out))

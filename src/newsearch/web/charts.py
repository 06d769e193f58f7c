"""Charts drawn on the server as SVG (no JavaScript): the trend page's bars.

    TrendResults ─▶ trend_svg(): one group of bars per period, a bar per query, the counts
                    as <title> tooltips, labels on the time axis thinned to fit
"""

from __future__ import annotations

from html import escape

from ..trends import TrendResults

__all__ = ["SERIES_CLASSES", "trend_svg"]

SERIES_CLASSES = ("s0", "s1", "s2", "s3")  # colours in style.css
WIDTH = 760
HEIGHT = 260
_PAD_LEFT, _PAD_BOTTOM, _PAD_TOP = 44, 36, 10
_MAX_AXIS_LABELS = 12


def trend_svg(trend: TrendResults) -> str:
    """The trend as an SVG bar chart (text escaped; safe to put into a page)."""
    labels = [p for p, _c in trend.series[0].periods] if trend.series else []
    if not labels:
        return ""
    peak = max(c for s in trend.series for _p, c in s.periods) or 1
    plot_w = WIDTH - _PAD_LEFT - 8
    plot_h = HEIGHT - _PAD_BOTTOM - _PAD_TOP
    group = plot_w / len(labels)
    bar = max(0.5, group * 0.8 / len(trend.series))
    names = ", ".join(s.query for s in trend.series)
    out = [f'<svg class="trend-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
           f'aria-label="{escape(f"Articles by {trend.by}: {names}")}" '
           f'xmlns="http://www.w3.org/2000/svg">']
    base = _PAD_TOP + plot_h
    out.append(f'<line class="axis" x1="{_PAD_LEFT}" y1="{base}" x2="{WIDTH - 8}" y2="{base}"/>')
    for frac in (0.5, 1.0):
        y = base - plot_h * frac
        out.append(f'<text class="tick" x="{_PAD_LEFT - 4}" y="{y + 4:.1f}" '
                   f'text-anchor="end">{round(peak * frac):,}</text>')
    step = max(1, -(-len(labels) // _MAX_AXIS_LABELS))
    for i, label in enumerate(labels):
        x0 = _PAD_LEFT + i * group + group * 0.1
        for k, s in enumerate(trend.series):
            n = s.periods[i][1]
            h = plot_h * n / peak
            cls = SERIES_CLASSES[k % len(SERIES_CLASSES)]
            out.append(f'<rect class="{cls}" x="{x0 + k * bar:.2f}" y="{base - h:.2f}" '
                       f'width="{bar:.2f}" height="{h:.2f}"><title>{escape(label)} · '
                       f'{escape(s.query)}: {n:,}</title></rect>')
        if i % step == 0:
            out.append(f'<text class="tick" x="{x0:.1f}" y="{base + 16}">{escape(label)}</text>')
    out.append("</svg>")
    return "".join(out)

"""Server-side SVG charts (no JavaScript, nothing fetched at run time).

``light_chart``: the light distribution as one stacked bar with a legend.
``progress_chart``: spending progress per department — a bar for the execution
rate and a line for the time elapsed (the expected rate) on a 0–100 % scale.
Every value goes through ``Markup.format`` (escaped); sizes are in a viewBox
so the chart fills its card.
"""

from __future__ import annotations

from decimal import Decimal

from markupsafe import Markup

from plugins.monitoring.models import LIGHT_COLOURS, LIGHT_LABELS, Light

ORDER = (Light.RED, Light.YELLOW, Light.GREEN, Light.PENDING)
SVG = Markup('<svg class="{}" viewBox="0 0 {} {}" width="100%" role="img" '
             'xmlns="http://www.w3.org/2000/svg">{}</svg>')


def light_chart(counts: dict[int, int]) -> Markup:
    total = sum(counts.values())
    width, x = 300, 0.0
    parts = []
    for light in ORDER:
        n = counts.get(light, 0)
        if not total or not n:
            continue
        w = width * n / total
        parts.append(Markup('<rect x="{:.1f}" y="0" width="{:.1f}" height="18" fill="{}">'
                            '<title>{} {}</title></rect>').format(
            x, w, LIGHT_COLOURS[light], LIGHT_LABELS[light], n))
        x += w
    for k, light in enumerate(ORDER):
        parts.append(Markup('<rect x="{}" y="28" width="10" height="10" fill="{}"/>'
                            '<text x="{}" y="37" font-size="10">{} {}</text>').format(
            k * 75, LIGHT_COLOURS[light], k * 75 + 13, LIGHT_LABELS[light],
            counts.get(light, 0)))
    return SVG.format("monitoring-lights", width, 46, Markup("").join(parts))


def progress_chart(lines: list[tuple[str, Decimal, Decimal]], yellow: Decimal,
                   red: Decimal) -> Markup:
    """``lines``: (department, execution rate %, expected rate %); a bar is yellow or red
    when the department is that many points behind the time path."""
    label_w, bar_w, row_h = 110, 180, 18
    parts = []
    for n, (name, rate, expected) in enumerate(lines):
        y = n * row_h
        w = bar_w * min(max(rate, Decimal(0)), Decimal(100)) / 100
        mark = label_w + bar_w * min(expected, Decimal(100)) / 100
        gap = expected - rate
        colour = LIGHT_COLOURS[Light.RED if gap >= red else Light.YELLOW if gap >= yellow
                               else Light.GREEN]
        parts.append(Markup(
            '<text x="0" y="{}" font-size="10">{}</text>'
            '<rect x="{}" y="{}" width="{}" height="11" fill="#e9ecef"/>'
            '<rect x="{}" y="{}" width="{:.1f}" height="11" fill="{}">'
            '<title>{} {}% / {}%</title></rect>'
            '<line x1="{:.1f}" x2="{:.1f}" y1="{}" y2="{}" stroke="#343a40" '
            'stroke-width="1.5"/>').format(
            y + 12, name[:10], label_w, y + 3, bar_w, label_w, y + 3, w, colour, name, rate,
            expected, mark, mark, y + 1, y + 16))
    y = row_h * len(lines)
    for pct in (0, 50, 100):
        parts.append(Markup('<text x="{:.0f}" y="{}" font-size="9" text-anchor="middle">'
                            '{}%</text>').format(label_w + bar_w * pct / 100, y + 12, pct))
    return SVG.format("monitoring-progress", label_w + bar_w + 10, y + 16,
                      Markup("").join(parts))

"""Dashboard cards: plugins contribute them through ``jixiao_dashboard_widgets``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app


@dataclass(frozen=True)
class Widget:
    title: str
    value: str
    note: str = ""
    link: str | None = None
    order: int = 100
    #: bootstrap contextual class for the card border: primary, success, warning, danger…
    tone: str = "primary"


def widgets_for(user) -> list[Widget]:
    pm = current_app.extensions["jixiao_plugins"]
    found: list[Widget] = []
    for batch in pm.hook.jixiao_dashboard_widgets(user=user):
        found.extend(batch or [])
    return sorted(found, key=lambda w: (w.order, str(w.title)))

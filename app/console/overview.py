"""The overview (placeholder)."""

from __future__ import annotations

from app.console.web import bp, page, render


@bp.get("/")
@page("events:read")
def overview() -> str:
    return render("placeholder.html", title="Overview")

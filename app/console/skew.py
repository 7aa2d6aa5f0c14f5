"""The Skew page (placeholder: being written)."""

from __future__ import annotations

from app.console.web import bp, page, render


@bp.get("/skew")
@page("datasets:read")
def skew() -> str:
    return render("placeholder.html", title="Skew")

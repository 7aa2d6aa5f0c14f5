"""The Review page (placeholder: being written)."""

from __future__ import annotations

from app.console.web import bp, page, render


@bp.get("/review")
@page("items:review")
def review() -> str:
    return render("placeholder.html", title="Review")

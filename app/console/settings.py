"""The Settings page (placeholder: being written)."""

from __future__ import annotations

from app.console.web import bp, page, render


@bp.get("/settings")
@page("admin")
def settings() -> str:
    return render("placeholder.html", title="Settings")

"""The Daily sample page (placeholder: being written)."""

from __future__ import annotations

from app.console.web import bp, page, render


@bp.get("/samples")
@page("items:read")
def samples() -> str:
    return render("placeholder.html", title="Daily sample")

"""The Datasets page (placeholder: being written)."""

from __future__ import annotations

from app.console.web import bp, page, render


@bp.get("/datasets")
@page("datasets:read")
def datasets() -> str:
    return render("placeholder.html", title="Datasets")

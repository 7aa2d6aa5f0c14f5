"""The Items page (placeholder: being written)."""

from __future__ import annotations

from app.console.web import bp, page, render


@bp.get("/items")
@page("items:read")
def items() -> str:
    return render("placeholder.html", title="Items")

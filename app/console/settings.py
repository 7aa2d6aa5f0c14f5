"""The Settings page (admin): the project's API keys (create, shown once; revoke) and its
taxonomy overrides (the signal each event type and rating maps to).

Every action is on the signed-in key's project only: another project's key prefix is not found.
A new key's token is rendered in the answer to its POST, never stored or redirected with.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, request
from werkzeug.wrappers import Response as BaseResponse

from app.console.web import bp, page, render, signed, transaction
from app.feedback import EVENT_TYPES, RATING_SIGNALS, Signal
from app.models import Project
from app.services import keys, projects
from app.services.errors import Invalid, NotFound
from app.services.keys import Scope

SCOPE_HELP = {
    Scope.EVENTS_WRITE: "send generations, events and conversations",
    Scope.EVENTS_READ: "read events, generations and analytics",
    Scope.DATASETS_READ: "read datasets and pull their files",
    Scope.DATASETS_WRITE: "define datasets and build versions",
    Scope.ITEMS_READ: "read curation items (redacted)",
    Scope.ITEMS_REVIEW: "decide quarantined items",
    Scope.ADMIN: "everything, including keys and the taxonomy",
}
NAME_MAX = 200


def _page(status: int = 200, **extra: Any) -> tuple[str, int]:
    """The page with the keys and the taxonomy as stored, `extra` on top (a form's values and
    error, a new token)."""
    who = signed()
    with transaction() as session:
        project = session.get_one(Project, who.key.project_id)
        rows = keys.list_keys(session, project)
        signals = projects.signal_map(project)
        overrides = project.signal_map or {}
    context: dict[str, Any] = {
        "keys": rows, "mine": who.key.prefix, "scopes": list(Scope), "scope_help": SCOPE_HELP,
        "event_types": list(EVENT_TYPES.values()), "ratings": RATING_SIGNALS,
        "signals": signals, "signal_names": [s.value for s in Signal],
        "chosen_types": overrides.get("types", {}), "chosen_ratings": overrides.get("ratings", {}),
        "create": {"name": "", "scopes": [], "rate_limit": ""}, "create_error": None,
        "taxonomy_error": None, "issued": None, "saved": request.args.get("saved"),
        "revoked": request.args.get("revoked"),
    }
    context.update(extra)
    return render("settings.html", **context), status


@bp.get("/settings")
@page(Scope.ADMIN.value)
def settings() -> tuple[str, int]:
    return _page()


@bp.post("/settings/keys")
@page(Scope.ADMIN.value)
def settings_create_key() -> tuple[str, int]:
    name = request.form.get("name", "").strip()
    chosen = request.form.getlist("scopes")
    rate_limit = request.form.get("rate_limit", "").strip() or None
    values = {"name": name, "scopes": chosen, "rate_limit": rate_limit or ""}
    try:
        if not name or len(name) > NAME_MAX:
            raise Invalid(f"give the key a name of 1 to {NAME_MAX} characters")
        if not chosen:
            raise Invalid("choose at least one scope")
        with transaction() as session:
            project = session.get_one(Project, signed().key.project_id)
            issued = keys.create_key(session, project, name, chosen, rate_limit)
            token, prefix = issued.token, issued.key.prefix
    except Invalid as exc:
        return _page(422, create=values, create_error=f"The key was not created: {exc}.")
    # The token is in this answer only (no-store): it is never shown again.
    return _page(201, issued={"name": name, "prefix": prefix, "token": token})


@bp.get("/settings/keys/<prefix>/revoke")
@page(Scope.ADMIN.value)
def settings_revoke_confirm(prefix: str) -> str:
    with transaction() as session:
        project = session.get_one(Project, signed().key.project_id)
        key = next((k for k in keys.list_keys(session, project) if k.prefix == prefix), None)
        if key is None:
            raise NotFound(f"no API key with prefix {prefix[:40]!r} in this project")
        name, revoked = key.name, key.revoked_at is not None
    return render("settings_revoke.html", prefix=prefix, name=name, revoked=revoked,
                  mine=prefix == signed().key.prefix)


@bp.post("/settings/keys/<prefix>/revoke")
@page(Scope.ADMIN.value)
def settings_revoke(prefix: str) -> BaseResponse:
    with transaction() as session:
        keys.revoke_key(session, prefix, project_id=signed().key.project_id)
    return redirect(f"/settings?revoked={prefix}#keys", 303)


@bp.post("/settings/taxonomy")
@page(Scope.ADMIN.value)
def settings_taxonomy() -> BaseResponse | tuple[str, int]:
    types = {name: request.form.get(f"type.{name}", "") for name in EVENT_TYPES}
    ratings = {str(r): request.form.get(f"rating.{r}", "") for r in RATING_SIGNALS}
    types |= {k[5:]: v for k, v in request.form.items() if k.startswith("type.")}
    ratings |= {k[7:]: v for k, v in request.form.items() if k.startswith("rating.")}
    try:
        overrides = projects.parse_overrides(types, ratings)
        with transaction() as session:
            project = session.get_one(Project, signed().key.project_id)
            projects.set_signal_overrides(project, overrides)
    except Invalid as exc:
        return _page(422, chosen_types=types, chosen_ratings=ratings,
                     taxonomy_error=f"Nothing was changed: {exc}.")
    return redirect("/settings?saved=taxonomy#taxonomy", 303)

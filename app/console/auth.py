"""Signing in with an API key and out again."""

from __future__ import annotations

from flask import g, redirect, request
from flask import session as cookie
from werkzeug.wrappers import Response as BaseResponse

from app.api.ratelimit import client_address, limiter
from app.console.web import SID, bp, idle_and_max, local_path, render, transaction
from app.services import console as sessions
from app.services.keys import KeyRejected, verify_token


@bp.get("/signin")
def signin() -> str | BaseResponse:
    target = local_path(request.args.get("next"))
    if g.get("signed") is not None:
        return redirect(target)
    out = request.args.get("out") == "1"
    return render("signin.html", next=target, error=None, ended=None, signed_out=out)


@bp.post("/signin")
def signin_post() -> tuple[str, int] | BaseResponse:
    target = local_path(request.form.get("next"))
    token = (request.form.get("key") or "").strip()
    if not token:
        return render("signin.html", next=target, error="Enter an API key.", ended=None), 400
    # An address over its failure budget is not even looked at (a 429 page).
    limiter().refuse_failing_client(client_address())
    with transaction() as session:
        try:
            key = verify_token(session, token)
        except KeyRejected as exc:
            limiter().count_failure(client_address())
            error = f"That key was not accepted ({exc}). Check it and try again."
            return render("signin.html", next=target, error=error, ended=None), 401
        previous = cookie.get(SID)
        if isinstance(previous, str):
            sessions.end(session, previous)
        sid = sessions.start(session, key, request.form.get("tz"), *idle_and_max())
    cookie.clear()  # a new session token and a new CSRF token: nothing carried over
    cookie.permanent = True
    cookie[SID] = sid
    return redirect(target)


@bp.post("/signout")
def signout() -> BaseResponse:
    token = cookie.get(SID)
    if isinstance(token, str):
        with transaction() as session:
            sessions.end(session, token)
    cookie.clear()
    return redirect("/signin?out=1")

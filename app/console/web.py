"""What every console page shares: the blueprint, who is signed in, scopes, CSRF, dates, errors.

A console request acts as the API key its session was started with: the same project, the same
scopes, the same services as the HTTP API. A page or control the key may not use is not shown,
and its address answers 403. Every POST carries a CSRF token (Flask-WTF).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import wraps
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, g, redirect, render_template, request
from flask import session as cookie
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.wrappers import Request
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from app.api.errors import Problem
from app.api.ratelimit import limiter
from app.api.request import request_session, runtime
from app.db import unit_of_work
from app.services import console as sessions
from app.services.crypto import KeyMissing, derived_secret
from app.services.errors import Conflict, Invalid, NotFound, Unavailable
from app.services.keys import has_scope

bp = Blueprint("console", __name__, template_folder="templates", static_folder="static",
               static_url_path="/console/static")
csrf = CSRFProtect()

P = ParamSpec("P")
R = TypeVar("R")

SID = "sid"  # the console session token, inside Flask's signed cookie
API_PATHS = ("/v1/", "/healthz", "/readyz")  # no cookie session there


@dataclass(frozen=True)
class NavLink:
    endpoint: str
    label: str
    scopes: tuple[str, ...]


# The pages in the header, each shown only to a key with its scopes.
NAV = (
    NavLink("console.overview", "Overview", ("events:read",)),
    # Review shows whole items, as reading one does in the API: both scopes.
    NavLink("console.review", "Review", ("items:read", "items:review")),
    NavLink("console.samples", "Daily sample", ("items:read",)),
    NavLink("console.items", "Items", ("items:read",)),
    NavLink("console.datasets", "Datasets", ("datasets:read",)),
    NavLink("console.skew", "Skew", ("datasets:read",)),
    NavLink("console.settings", "Settings", ("admin",)),
)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie for the console's pages only (the API takes bearer keys), marked
    Secure when the request came over https."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(API_PATHS):
            return None  # a null session: the API neither reads nor writes the cookie
        try:
            _ensure_secret(app)
        except Problem:
            return None  # the page's before_request answers 503, saying what to configure
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(request.is_secure or app.config.get("SESSION_COOKIE_SECURE"))


def init_console(app: Flask) -> None:
    settings = runtime_settings(app)
    app.config.update(
        SESSION_COOKIE_NAME="winnow_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=settings.console_max_hours * 3600,
        WTF_CSRF_CHECK_DEFAULT=False,  # the API takes bearer keys, not cookies: only forms check
        WTF_CSRF_TIME_LIMIT=None,  # a token lives as long as its session
    )
    app.session_interface = CookieSessions()
    csrf.init_app(app)
    app.register_blueprint(bp)
    # Errors no console view raised (an unknown address, a method a route does not take, an
    # unexpected failure) answer a page too, outside the API's paths.
    app.extensions["winnow.error_page"] = error_page


def runtime_settings(app: Flask) -> Any:
    return app.extensions["winnow"].settings


def _ensure_secret(app: Flask) -> None:
    """The cookie-signing key, on the first console request (a process that serves none needs
    no key): WINNOW_SECRET_KEY, else derived from the encryption key."""
    if app.secret_key:
        return
    settings = runtime_settings(app)
    if settings.secret_key is not None:
        app.secret_key = settings.secret_key.get_secret_value()
        return
    try:
        app.secret_key = derived_secret(settings, "console-cookie")
    except KeyMissing:
        raise Problem(503, "Not configured", "the console needs WINNOW_SECRET_KEY or "
                      "WINNOW_ENCRYPTION_KEY to sign its cookie", slug="not-configured") from None


@contextmanager
def transaction() -> Iterator[Session]:
    with unit_of_work(request_session()) as session:
        yield session


def idle_and_max() -> tuple[Any, Any]:
    from datetime import timedelta

    s = runtime().settings
    return timedelta(minutes=s.console_idle_minutes), timedelta(hours=s.console_max_hours)


@bp.before_request
def _load_signer() -> None:
    _ensure_secret(current_app)
    if request.method == "POST":
        csrf.protect()
    token = cookie.get(SID)
    if not isinstance(token, str):
        return
    idle, longest = idle_and_max()
    with transaction() as session:
        try:
            g.signed = sessions.resume(session, token, idle, longest)
        except sessions.Ended as exc:
            g.ended = str(exc)
    if g.get("ended"):
        cookie.pop(SID, None)
        return
    # A page counts against its key's rate limit like an API call (429 page when over it).
    g.caller = g.signed.key
    limiter().check()


@bp.after_request
def _headers(response: BaseResponse) -> BaseResponse:
    # Pages hold project data: not cached, not framed, nothing loaded from elsewhere.
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def signed() -> sessions.Signed:
    """The signed-in key (only inside a page view)."""
    who: sessions.Signed = g.signed
    return who


def can(scope: str) -> bool:
    who = g.get("signed")
    return who is not None and has_scope(who.key, scope)


def local_path(target: str | None, default: str = "/") -> str:
    """`target` if it is a path on this site, else `default` (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return default
    return target


PageAnswer = BaseResponse | str | tuple[str, int]


def page(*scopes: str) -> Callable[[Callable[P, R]], Callable[P, R | PageAnswer]]:
    """A page for a signed-in key with every one of `scopes`: signed out -> the sign-in page
    (or the page saying why the session ended), without a scope -> 403."""

    def wrap(view: Callable[P, R]) -> Callable[P, R | PageAnswer]:
        @wraps(view)
        def inner(*args: P.args, **kwargs: P.kwargs) -> R | PageAnswer:
            if g.get("signed") is None:
                target = request.full_path if request.query_string else request.path
                if request.method != "GET":  # back to the form's page, not to its POST
                    target = local_path(_referred_path())
                if g.get("ended"):
                    return ended_page(str(g.ended), target)
                return redirect(f"/signin?next={_quote(target)}")
            if not all(can(scope) for scope in scopes):
                abort(403)
            return view(*args, **kwargs)

        return inner

    return wrap


def _referred_path() -> str:
    """The path (and query) of the page a form was sent from, if it was this site's."""
    parts = urlsplit(request.referrer or "")
    if parts.netloc and parts.netloc != request.host:
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


def form_text(name: str) -> str | None:
    """A form field's text with the browser's CRLF line breaks as LF (maxlength counts one
    character per break; the payload limits should too), stripped; None when empty."""
    text = (request.form.get(name) or "").replace("\r\n", "\n").strip()
    return text or None


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


def ended_page(reason: str, target: str) -> tuple[str, int]:
    return render_template("console/signin.html", ended=reason, next=target, error=None), 401


def render(template: str, **context: Any) -> str:
    return render_template(f"console/{template}", **context)


# Days a page can take: anything outside cannot be a day of data, and date arithmetic near
# date.min or date.max overflows.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)


# -- dates in the reader's time zone -------------------------------------------------------

def _zone() -> Any:
    who = g.get("signed")
    return who.zone if who is not None else UTC


def when(value: datetime | str | None, with_time: bool = True) -> Markup:
    """A <time> in the reader's zone; the machine-readable value stays UTC."""
    if value is None:
        return Markup("&mdash;")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return Markup(escape(value))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(_zone())
    text = local.strftime("%Y-%m-%d %H:%M %Z" if with_time else "%Y-%m-%d")
    iso = value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return Markup('<time datetime="{}">{}</time>').format(iso, text)


def today() -> date:
    """The reader's today."""
    return datetime.now(_zone()).date()


@bp.app_template_filter("when")
def _when_filter(value: Any, with_time: bool = True) -> Markup:
    return when(value, with_time)


@bp.app_template_filter("pct")
def _pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f}%"


@bp.app_template_filter("num")
def _num(value: float | int | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


@bp.app_context_processor
def _context() -> dict[str, Any]:
    who = g.get("signed")
    nav = [link for link in NAV
           if who is not None and all(has_scope(who.key, s) for s in link.scopes)]
    return {"signed_in": who, "nav": nav, "can": can}


# -- errors as pages ------------------------------------------------------------------------

def _error(status: int, title: str, detail: str | None) -> tuple[str, int]:
    return render("error.html", status=status, title=title, detail=detail), status


@bp.errorhandler(CSRFError)
def _csrf(exc: CSRFError) -> tuple[str, int]:
    return _error(400, "This form has expired", "The form was missing its security token or "
                  "came from another page. Nothing was changed: go back, reload the page and "
                  "try again.")


@bp.errorhandler(Problem)
def _problem(exc: Problem) -> tuple[str, int]:
    return _error(exc.status, exc.title, exc.detail)


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound) -> tuple[str, int]:
    return _error(404, "Not found", str(exc))


@bp.errorhandler(Invalid)
def _invalid(exc: Invalid) -> tuple[str, int]:
    return _error(422, "Not accepted", str(exc))


@bp.errorhandler(Conflict)
def _conflict(exc: Conflict) -> tuple[str, int]:
    return _error(409, "Conflict", str(exc))


@bp.errorhandler(Unavailable)
def _unavailable(exc: Unavailable) -> tuple[str, int]:
    return _error(503, "Unavailable", str(exc))


def error_page(status: int, title: str) -> BaseResponse | None:
    """The page for an error outside any console view; None on the API's paths."""
    if request.path.startswith(API_PATHS) or request.path.startswith("/console/static/"):
        return None
    detail = _DETAILS.get(status)
    html = render("error.html", status=status, title=title, detail=detail)
    return _headers(current_app.response_class(html, status=status, mimetype="text/html"))


_DETAILS = {
    403: "This API key may not use this page. Sign in with a key that has the scope it needs.",
    404: "There is no such page.",
    405: "This address does not take that kind of request.",
    500: "Something went wrong on our side; it has been logged. Go back and try again.",
}


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException) -> tuple[str, int]:
    status = exc.code or 500
    return _error(status, exc.name, _DETAILS.get(status))

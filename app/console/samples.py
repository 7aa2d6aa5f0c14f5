"""The Daily sample page: one day's stratified sample, one conversation at a time, each given a
verdict (good, bad, unsure), failure modes and a note.

Sample days are UTC days, as the service draws them (the accepted items received that UTC
day), so "today" here is the UTC day, whatever the reader's zone: the same address shows the
same sample to everyone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import redirect, request, url_for
from pydantic import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from app.console.web import (
    FIRST_DAY,
    LAST_DAY,
    PageAnswer,
    bp,
    form_text,
    page,
    render,
    signed,
    transaction,
)
from app.models import Project
from app.payloads.samples import SampledItem, SampleOut, VerdictIn
from app.services import samples as service
from app.services.projects import signal_map

DEFAULT_SIZE = 20


class BadQuery(ValueError):
    """An address the page cannot show; the message says which part and why."""


def utc_today() -> date:
    return datetime.now(UTC).date()


def _day(value: str | None) -> date:
    if not value:
        return utc_today()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise BadQuery(f"date: {value[:40]!r} is no date (YYYY-MM-DD)") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadQuery(f"date: {value} is out of range ({FIRST_DAY} to {LAST_DAY})")
    return day


def _size(value: str | None) -> int:
    if not value:
        return DEFAULT_SIZE
    if not (value.isascii() and value.isdigit() and len(value) <= 9) \
            or not 1 <= int(value) <= service.MAX_SIZE:
        raise BadQuery(f"size: {value[:20]!r} is not a whole number from 1 to "
                       f"{service.MAX_SIZE}")
    return int(value)


def _position(value: str | None, sample: SampleOut) -> int:
    """The 1-based position asked for (kept within the sample), else the first unjudged."""
    if not value:
        return next((n for n, it in enumerate(sample.items, 1) if it.verdict is None), 1)
    if not (value.isascii() and value.isdigit() and len(value) <= 9) or int(value) < 1:
        raise BadQuery(f"i: {value[:20]!r} is no position in the sample (1, 2, ...)")
    return min(int(value), max(1, len(sample.items)))


def _sample(day: date, size: int) -> SampleOut:
    project_id = signed().key.project_id
    with transaction() as session:
        signals = signal_map(session.get_one(Project, project_id))
        return service.daily_sample(session, project_id, day, size, signals)


def next_unjudged(items: list[SampledItem], after: int) -> int:
    """The position of the first item without a verdict after `after` (1-based, wrapping
    round), else the next one (or the last)."""
    count = len(items)
    for step in range(1, count + 1):
        n = (after - 1 + step) % count + 1
        if items[n - 1].verdict is None:
            return n
    return min(after + 1, max(count, 1))


@bp.get("/samples")
@page("items:read")
def samples() -> PageAnswer:
    try:
        day = _day(request.args.get("date"))
        size = _size(request.args.get("size"))
        sample = _sample(day, size)
        position = _position(request.args.get("i"), sample)
    except BadQuery as exc:
        return render("samples.html", error=str(exc), today=utc_today()), 400
    items = sample.items
    current = items[position - 1] if items else None
    saved = request.args.get("saved")

    def at(n: int) -> str:
        return url_for("console.samples", date=day.isoformat(), size=size, i=n)

    def on(d: date) -> str:
        extra: dict[str, Any] = {"size": size} if size != DEFAULT_SIZE else {}
        return url_for("console.samples", date=d.isoformat(), **extra)

    today = utc_today()
    return render(
        "samples.html", error=None, sample=sample, day=day, size=size, today=today,
        position=position, current=current, judged=sum(it.verdict is not None for it in items),
        saved=saved if saved and any(it.item_id == saved for it in items) else None,
        failure_modes=service.FAILURE_MODES, at=at,
        previous_url=at(position - 1) if position > 1 else None,
        next_url=at(position + 1) if position < len(items) else None,
        previous_day=on(day - timedelta(days=1)),
        next_day=on(day + timedelta(days=1)) if day < today else None,
        today_url=on(today) if day != today else None,
    )


@bp.post("/samples/verdict")
@page("items:review")
def samples_verdict() -> PageAnswer:
    form = request.form
    try:
        if not form.get("date"):
            raise BadQuery("date: missing (the sample's day, YYYY-MM-DD)")
        day = _day(form.get("date"))
        size = _size(form.get("size"))
    except BadQuery as exc:
        return render("samples.html", error=str(exc), today=utc_today()), 400
    try:
        body = VerdictIn.model_validate({"verdict": form.get("verdict", ""),
                                         "failure_modes": form.getlist("failure_modes"),
                                         "note": form_text("note")})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'form'}: {e['msg']}"
                             for e in exc.errors())
        return render("samples.html", error=f"The verdict was not recorded ({problems}).",
                      today=utc_today()), 422
    item_id = form.get("item", "")
    key = signed().key
    with transaction() as session:
        service.record_verdict(session, key.project_id, day, item_id, body,
                               actor=f"key:{key.prefix}")
    sample = _sample(day, size)
    here = next((n for n, it in enumerate(sample.items, 1) if it.item_id == item_id), 1)
    target: BaseResponse = redirect(url_for(
        "console.samples", date=day.isoformat(), size=size, i=next_unjudged(sample.items, here),
        saved=item_id), code=303)
    return target

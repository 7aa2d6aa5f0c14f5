"""What Winnow writes to its log: one line per record, control characters escaped, and an access
line per request naming the route template, never the raw path.

A path or header is attacker text: a CR, LF or ESC in it would forge log lines or repaint a
terminal, and a path like `/v1/users/<id>` would keep an erased user's id in the log. Escaping
happens in the log record itself (its message, traceback and stack), so it holds for every
handler and formatter in the process: Winnow's, gunicorn's, waitress', RQ's.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from flask import Flask, Response, g, request

ACCESS = logging.getLogger("winnow.access")
UNMATCHED = "(no route)"  # what the access log names when no route matched: never the path
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """C0 and C1 controls, DEL and the Unicode line separators as visible escapes (\\n, \\x1b)."""
    return _CONTROLS.sub(_escape, text)


class EscapedLogRecord(logging.LogRecord):
    """A record whose message, traceback text and stack come out escaped, whoever formats it."""

    def getMessage(self) -> str:
        return escape_controls(super().getMessage())

    @property
    def exc_text(self) -> str | None:
        return self._exc_text

    @exc_text.setter
    def exc_text(self, value: str | None) -> None:
        self._exc_text = None if value is None else escape_controls(value)

    @property
    def stack_info(self) -> str | None:
        return self._stack_info

    @stack_info.setter
    def stack_info(self, value: str | None) -> None:
        self._stack_info = None if value is None else escape_controls(value)


def escape_every_record() -> None:
    """Make every record of this process an EscapedLogRecord (idempotent)."""
    if logging.getLogRecordFactory() is logging.LogRecord:
        logging.setLogRecordFactory(EscapedLogRecord)


def configure_logging(level: str) -> None:
    """For the long-running commands: Winnow's records (access lines included) and RQ's go to
    stderr, one line each; other libraries' stay at WARNING."""
    escape_every_record()
    root = logging.getLogger()
    if not any(getattr(h, "winnow", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.winnow = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    logging.getLogger("winnow").setLevel(level)


def _start_clock() -> None:
    g.access_started = time.perf_counter()


def _log_access(response: Response) -> Response:
    started: float | None = g.get("access_started")
    elapsed = (time.perf_counter() - started) * 1000 if started is not None else 0.0
    route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    size: Any = response.content_length if response.content_length is not None else "-"
    ACCESS.info('%s "%s %s" %s %s %.0fms', request.remote_addr or "-", request.method[:16],
                route, response.status_code, size, elapsed)
    return response


def init_access_log(app: Flask) -> None:
    """Register first, so the clock starts before authentication and its line is written for
    every answer, errors included."""
    app.before_request(_start_clock)
    app.after_request(_log_access)

"""Label Studio as every part of Winnow meets it: the connection (label-studio-sdk 2.x), its
errors, its health, and the header that authenticates its webhooks to Winnow."""

from __future__ import annotations

from typing import Any

import httpx

from app.config import Settings

# Label Studio sends the project's webhook secret in this header (set up by `winnow labelstudio
# setup`); /v1/hooks/labelstudio compares it in constant time.
SECRET_HEADER = "X-Winnow-Webhook-Secret"


class NotConfigured(RuntimeError):
    """WINNOW_LABEL_STUDIO_URL / _TOKEN are not set."""


class Unavailable(RuntimeError):
    """Label Studio did not answer, or answered with a server error: try again later."""


class Refused(RuntimeError):
    """Label Studio answered 4xx: retrying the same request will not help."""


def connect(settings: Settings) -> Any:
    from label_studio_sdk import LabelStudio

    if not settings.label_studio_url or settings.label_studio_token is None:
        raise NotConfigured("set WINNOW_LABEL_STUDIO_URL and WINNOW_LABEL_STUDIO_TOKEN")
    return LabelStudio(  # type: ignore[no-untyped-call]
        base_url=settings.label_studio_url.rstrip("/"),
        api_key=settings.label_studio_token.get_secret_value(),
        timeout=settings.label_studio_timeout_seconds,
    )


def translate(exc: BaseException) -> BaseException:
    """SDK / httpx errors -> Unavailable or Refused, with no response body (it may quote text)."""
    from label_studio_sdk.core.api_error import ApiError

    if isinstance(exc, httpx.TransportError):
        return Unavailable(f"Label Studio unreachable ({type(exc).__name__})")
    if isinstance(exc, ApiError):
        code = exc.status_code or 0
        if code >= 500 or code in (408, 429):
            return Unavailable(f"Label Studio answered {code}")
        return Refused(f"Label Studio refused the request ({code})")
    return exc


def health(settings: Settings) -> str:
    """ "up", "down" or "not configured" (for /readyz)."""
    if not settings.label_studio_url:
        return "not configured"
    try:
        resp = httpx.get(settings.label_studio_url.rstrip("/") + "/health", timeout=2.0)
    except httpx.HTTPError:
        return "down"
    return "up" if resp.status_code == 200 else "down"

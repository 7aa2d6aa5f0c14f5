"""Settings read from WINNOW_* environment variables, with defaults that run embedded."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from limits import parse_many
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_RATE_LIMIT = "1000/second"
DEFAULT_AUTH_FAILURE_LIMIT = "20/minute"


def default_data_dir() -> Path:
    """Where the embedded mode keeps its SQLite file: $XDG_DATA_HOME/winnow."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "winnow"


class Settings(BaseSettings):
    """Every knob Winnow reads; `docs/configuration.md` lists them for users."""

    model_config = SettingsConfigDict(env_prefix="WINNOW_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    redis_url: str | None = None
    queue_name: str = "winnow"
    rate_limit: str = DEFAULT_RATE_LIMIT
    # Failed authentications (wrong API key, wrong webhook secret) allowed per client address;
    # past it every attempt from that address gets 429 until the window ends.
    auth_failure_limit: str = DEFAULT_AUTH_FAILURE_LIMIT
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_batch_events: int = Field(default=1000, ge=1, le=100_000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)

    # Curation (issue 3). Fernet keys, comma-separated: the first encrypts, all decrypt, so a
    # key can be rotated. Unset: embedded mode keeps one in WINNOW_DATA_DIR/encryption.key.
    encryption_key: SecretStr | None = None
    # spaCy pipeline for PII names: "auto" = the first English pipeline installed, "none" =
    # Presidio's pattern recognizers only, else a package name such as en_core_web_lg.
    spacy_model: str = "auto"
    # Per entity type: redact (default) or reject, e.g. "US_SSN=reject,CREDIT_CARD=reject".
    pii_policy: str = ""
    dedupe_threshold: float = Field(default=0.8, gt=0.0, le=1.0)
    prank_quarantine_at: float = Field(default=0.5, gt=0.0, le=1.0)
    prank_reject_at: float = Field(default=0.8, gt=0.0, le=1.0)
    max_conversation_turns: int = Field(default=200, ge=1, le=10_000)
    # Items still in `received` this long after intake are re-enqueued by the reconciler.
    reconcile_after_seconds: int = Field(default=120, ge=1)
    reconcile_every_seconds: int = Field(default=60, ge=1)
    # How often workers and `winnow up` bring the feedback rollups (analytics) up to date.
    rollup_every_seconds: int = Field(default=15, ge=1)
    # Raw text sealed at intake and still not screened after this long (a job that failed for
    # good, a key the workers lack) is purged: the item ends `failed`, an event's text null.
    sealed_retention_hours: int = Field(default=7 * 24, ge=1, le=24 * 365)

    # The console (issue 16). Signs its session cookie and CSRF tokens; unset, a key is derived
    # from the encryption key, which every process already shares.
    secret_key: SecretStr | None = None
    # A console session ends after this long without a request, and in any case after the
    # maximum; signing out or revoking the key ends it at once.
    console_idle_minutes: int = Field(default=12 * 60, ge=1, le=30 * 24 * 60)
    console_max_hours: int = Field(default=7 * 24, ge=1, le=365 * 24)

    # Annotation (issue 4). Unset URL: no Label Studio, accepted items stay `accepted`.
    label_studio_url: str | None = None
    label_studio_token: SecretStr | None = None
    # Sent by Label Studio's webhook in X-Winnow-Webhook-Secret; required to register it.
    label_studio_webhook_secret: SecretStr | None = None
    # Where Label Studio reaches this service's webhook, e.g. https://winnow.example.com.
    public_url: str | None = None
    annotation_overlap: int = Field(default=1, ge=1, le=20)  # annotators per item
    # Which accepted items reach annotators first.
    annotation_order: Literal["negative_first", "oldest_first", "newest_first"] = (
        "negative_first"
    )
    push_batch_size: int = Field(default=500, ge=1, le=5000)
    # Label Studio advises about 100,000 tasks per project (its lists and exports slow past
    # it): when a Winnow project's review project holds this many, a new one takes new tasks.
    label_studio_tasks_per_project: int = Field(default=100_000, ge=1, le=10_000_000)
    label_studio_timeout_seconds: float = Field(default=30.0, gt=0)
    # Periodic push of waiting items and sync of annotations a lost webhook missed.
    label_studio_sync_every_seconds: int = Field(default=300, ge=5)

    # Datasets (issue 5): where versions are stored. Unset: WINNOW_DATA_DIR/datasets. Any fsspec
    # URL works (s3://bucket/prefix with s3fs installed, gcs://..., memory:// for tests).
    datasets_url: str | None = None
    # Items read per database round trip while building a version.
    dataset_chunk_size: int = Field(default=5000, ge=10, le=100_000)

    @field_validator("rate_limit", "auth_failure_limit")
    @classmethod
    def _valid_rate_limit(cls, value: str) -> str:
        parse_many(value)  # raises ValueError with a clear message on a bad string
        return value

    @field_validator("pii_policy")
    @classmethod
    def _valid_policy(cls, value: str) -> str:
        parse_policy(value)
        return value

    @property
    def policy(self) -> dict[str, Literal["redact", "reject"]]:
        return parse_policy(self.pii_policy)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'winnow.db'}"

    @property
    def embedded(self) -> bool:
        """True when no Redis is configured: in-process queue, in-memory rate limits."""
        return not self.redis_url


def parse_policy(value: str) -> dict[str, Literal["redact", "reject"]]:
    """`TYPE=action,...` -> {TYPE: action}; raises ValueError naming the bad part."""
    policy: dict[str, Literal["redact", "reject"]] = {}
    for part in filter(None, (p.strip() for p in value.split(","))):
        entity, sep, action = part.partition("=")
        entity, action = entity.strip().upper(), action.strip().lower()
        if not sep or not entity.replace("_", "").isalnum():
            raise ValueError(f"{part!r}: expected ENTITY_TYPE=redact or ENTITY_TYPE=reject")
        if action == "redact":
            policy[entity] = "redact"
        elif action == "reject":
            policy[entity] = "reject"
        else:
            raise ValueError(f"{part!r}: the action must be redact or reject")
    return policy

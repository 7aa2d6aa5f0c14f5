"""Settings read from WINNOW_* environment variables, with defaults that run embedded."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_RATE_LIMIT = "1000/second"


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
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_batch_events: int = Field(default=1000, ge=1, le=100_000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)

    @field_validator("rate_limit")
    @classmethod
    def _valid_rate_limit(cls, value: str) -> str:
        from limits import parse_many

        parse_many(value)  # raises ValueError with a clear message on a bad string
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'winnow.db'}"

    @property
    def embedded(self) -> bool:
        """True when no Redis is configured: in-process queue, in-memory rate limits."""
        return not self.redis_url

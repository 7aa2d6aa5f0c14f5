"""Encryption at rest of raw conversation text (Fernet), kept only until screening ends.

The key comes from WINNOW_ENCRYPTION_KEY (comma-separated keys: the first encrypts, every one
decrypts, so keys can be rotated). The embedded mode, with no key configured, creates one in
WINNOW_DATA_DIR/encryption.key readable by its owner only; production refuses to run without a
key, since every API process and worker must share it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from app.config import Settings


class KeyMissing(RuntimeError):
    pass


def _key_file(data_dir: Path) -> str:
    path = data_dir / "encryption.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(Fernet.generate_key())
    return path.read_text().strip()


def _keys(settings: Settings) -> str:
    if settings.encryption_key is not None:
        return settings.encryption_key.get_secret_value()
    if settings.embedded:
        return _key_file(settings.data_dir)
    raise KeyMissing("WINNOW_ENCRYPTION_KEY is not set: with Redis configured, every "
                     "process must share one key (make one with `winnow keys encryption-key`)")


def cipher(settings: Settings) -> MultiFernet:
    return _cipher(_keys(settings))


def derived_secret(settings: Settings, purpose: str) -> bytes:
    """A secret for `purpose` (the console's cookie signing), from the first encryption key:
    every process shares that key already. Rotating it signs every console user out."""
    first = next(k.strip() for k in _keys(settings).split(",") if k.strip())
    return hmac.new(first.encode(), f"winnow:{purpose}".encode(), hashlib.sha256).digest()


@cache
def _cipher(keys: str) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])
    except (ValueError, TypeError):
        raise KeyMissing("WINNOW_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64 bytes "
                         "each), comma-separated") from None


def seal_turns(box: MultiFernet, turns: Sequence[tuple[str, str]],
               metadata: dict[str, Any] | None = None) -> bytes:
    """A shared conversation's raw turns and metadata, screened together by curation."""
    return box.encrypt(orjson.dumps({"turns": turns, "metadata": metadata}))


def open_item(
    box: MultiFernet, token: bytes
) -> tuple[list[tuple[str, str]], dict[str, Any] | None]:
    """The raw turns and metadata; an item sealed before revision 0006 holds the turns only."""
    try:
        data = orjson.loads(box.decrypt(token))
    except InvalidToken:
        raise KeyMissing("the raw text cannot be decrypted with the configured keys") from None
    turns, metadata = (data["turns"], data["metadata"]) if isinstance(data, dict) else (data, None)
    return [(str(role), str(text)) for role, text in turns], metadata


def open_turns(box: MultiFernet, token: bytes) -> list[tuple[str, str]]:
    return open_item(box, token)[0]


def new_key() -> str:
    return Fernet.generate_key().decode()

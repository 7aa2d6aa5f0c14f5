"""Encryption at rest of raw user text, kept only until screening ends.

The key comes from WINNOW_ENCRYPTION_KEY (comma-separated Fernet keys: the first encrypts, every
one decrypts, so keys can be rotated). The embedded mode, with no key configured, creates one in
WINNOW_DATA_DIR/encryption.key readable by its owner only; production refuses to run without a
key, since every API process and worker must share it.

Text is sealed with AES-256-GCM (`cryptography`'s AESGCM, authenticated like Fernet's
AES-CBC + HMAC, about 5x cheaper per token: intake seals every comment and metadata string).
Each configured key yields an AEAD key by HKDF-SHA256; each process seals under its own
subkey (HKDF of that key and a random 128-bit salt carried in the token, renewed every 2^28
tokens), so random 96-bit nonces stay far inside AES-GCM's limits however long a fleet runs.
A token is `w1.` + url-safe base64 of key id (4 bytes) | salt (16) | nonce (12) | ciphertext
and tag; the key id and salt are authenticated data. Fernet tokens, sealed before, still open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import os
import threading
from collections.abc import Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

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


TOKEN_TAG = b"w1."
_INFO = b"winnow:seal:v1"
REKEY_EVERY = 2**28  # tokens under one per-process subkey
_ID, _SALT, _NONCE = 4, 16, 12


def _hkdf(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


class Box:
    """Seals and opens raw text (see the module docstring); thread-safe, fork-safe (nonces
    come from os.urandom)."""

    def __init__(self, fernet_keys: Sequence[bytes]) -> None:
        if not fernet_keys:
            raise ValueError("no key")
        self._fernet = MultiFernet([Fernet(k) for k in fernet_keys])
        masters = [_hkdf(base64.urlsafe_b64decode(k), _INFO) for k in fernet_keys]
        self._masters = {hashlib.sha256(m).digest()[:_ID]: m for m in masters}
        self._first_id = hashlib.sha256(masters[0]).digest()[:_ID]
        self._lock = threading.Lock()
        self._count = itertools.count(1)
        self._sealing = self._new_subkey()

    def _new_subkey(self) -> tuple[bytes, AESGCM]:
        salt = os.urandom(_SALT)
        return self._first_id + salt, AESGCM(self._subkey(self._first_id, salt))

    @lru_cache(maxsize=256)  # noqa: B019 (one Box per process, a few salts per fleet)
    def _subkey(self, key_id: bytes, salt: bytes) -> bytes:
        return _hkdf(self._masters[key_id], _INFO + b":" + salt)

    def encrypt(self, data: bytes) -> bytes:
        if next(self._count) % REKEY_EVERY == 0:
            with self._lock:
                self._sealing = self._new_subkey()
        header, aead = self._sealing
        nonce = os.urandom(_NONCE)
        sealed = aead.encrypt(nonce, data, header)
        return TOKEN_TAG + base64.urlsafe_b64encode(header + nonce + sealed)

    def decrypt(self, token: bytes) -> bytes:
        """The plaintext; InvalidToken if no configured key opens it or it was altered."""
        if not token.startswith(TOKEN_TAG):
            return self._fernet.decrypt(token)
        try:
            raw = base64.urlsafe_b64decode(token[len(TOKEN_TAG):])
        except (binascii.Error, ValueError):
            raise InvalidToken from None
        header, nonce = raw[:_ID + _SALT], raw[_ID + _SALT:_ID + _SALT + _NONCE]
        key_id, salt = header[:_ID], header[_ID:]
        if len(nonce) != _NONCE or key_id not in self._masters:
            raise InvalidToken
        try:
            return AESGCM(self._subkey(key_id, salt)).decrypt(
                nonce, raw[_ID + _SALT + _NONCE:], header)
        except InvalidTag:
            raise InvalidToken from None


def cipher(settings: Settings) -> Box:
    return _cipher(_keys(settings))


def derived_secret(settings: Settings, purpose: str) -> bytes:
    """A secret for `purpose` (the console's cookie signing), from the first encryption key:
    every process shares that key already. Rotating it signs every console user out."""
    first = next(k.strip() for k in _keys(settings).split(",") if k.strip())
    return hmac.new(first.encode(), f"winnow:{purpose}".encode(), hashlib.sha256).digest()


@cache
def _cipher(keys: str) -> Box:
    try:
        return Box([k.strip().encode() for k in keys.split(",") if k.strip()])
    except (ValueError, TypeError, binascii.Error):
        raise KeyMissing("WINNOW_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64 bytes "
                         "each), comma-separated") from None


def seal_turns(box: Box, turns: Sequence[tuple[str, str]],
               metadata: dict[str, Any] | None = None) -> bytes:
    """A shared conversation's raw turns and metadata, screened together by curation."""
    return box.encrypt(orjson.dumps({"turns": turns, "metadata": metadata}))


def open_item(
    box: Box, token: bytes
) -> tuple[list[tuple[str, str]], dict[str, Any] | None]:
    """The raw turns and metadata; an item sealed before revision 0006 holds the turns only."""
    try:
        data = orjson.loads(box.decrypt(token))
    except InvalidToken:
        raise KeyMissing("the raw text cannot be decrypted with the configured keys") from None
    turns, metadata = (data["turns"], data["metadata"]) if isinstance(data, dict) else (data, None)
    return [(str(role), str(text)) for role, text in turns], metadata


def open_turns(box: Box, token: bytes) -> list[tuple[str, str]]:
    return open_item(box, token)[0]


def new_key() -> str:
    return Fernet.generate_key().decode()

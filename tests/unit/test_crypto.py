"""The sealing box: AES-256-GCM tokens under per-process subkeys, Fernet tokens still open."""

from __future__ import annotations

import base64
import threading

import pytest
from cryptography.fernet import Fernet, InvalidToken

from app.services import crypto
from app.services.crypto import TOKEN_TAG, Box


def test_a_sealed_text_opens_and_reveals_nothing() -> None:
    key = Fernet.generate_key()
    box = Box([key])
    secret = b"Call me on +1 202 555 0147, I am Dana Whitfield"
    token = box.encrypt(secret)
    assert token.startswith(TOKEN_TAG)
    assert b"Dana" not in token and b"0147" not in base64.urlsafe_b64decode(token[3:])
    assert box.decrypt(token) == secret
    assert box.encrypt(secret) != token  # a fresh nonce every time
    # Another process of the fleet (its own subkey salt) opens it with the same key.
    assert Box([key]).decrypt(token) == secret


def test_tokens_sealed_with_fernet_before_still_open() -> None:
    key = Fernet.generate_key()
    old = Fernet(key).encrypt(b'{"text": "before"}')
    assert Box([key]).decrypt(old) == b'{"text": "before"}'


def test_rotation_the_first_key_seals_every_key_opens() -> None:
    old_key, new_key = Fernet.generate_key(), Fernet.generate_key()
    sealed_before = Box([old_key]).encrypt(b"kept")
    rotated = Box([new_key, old_key])
    assert rotated.decrypt(sealed_before) == b"kept"
    sealed_after = rotated.encrypt(b"new")
    with pytest.raises(InvalidToken):
        Box([old_key]).decrypt(sealed_after)
    assert Box([new_key]).decrypt(sealed_after) == b"new"


@pytest.mark.parametrize("damage", ["flip", "truncate", "header", "garbage", "empty"])
def test_an_altered_or_foreign_token_is_refused(damage: str) -> None:
    box = Box([Fernet.generate_key()])
    token = box.encrypt(b"payload")
    raw = bytearray(base64.urlsafe_b64decode(token[len(TOKEN_TAG):]))
    if damage == "flip":
        raw[-1] ^= 1
    elif damage == "truncate":
        raw = raw[:30]
    elif damage == "header":
        raw[5] ^= 1  # the salt is authenticated: another subkey, and the tag fails
    altered = TOKEN_TAG + base64.urlsafe_b64encode(bytes(raw))
    if damage == "garbage":
        altered = TOKEN_TAG + b"%%%not-base64%%%"
    elif damage == "empty":
        altered = TOKEN_TAG
    with pytest.raises(InvalidToken):
        box.decrypt(altered)
    with pytest.raises(InvalidToken):  # and a key that never sealed it cannot open it
        Box([Fernet.generate_key()]).decrypt(token)


def test_the_subkey_is_renewed_and_old_tokens_still_open(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(crypto, "REKEY_EVERY", 3)
    box = Box([Fernet.generate_key()])
    tokens = [box.encrypt(str(i).encode()) for i in range(7)]
    salts = {base64.urlsafe_b64decode(t[3:])[4:20] for t in tokens}
    assert len(salts) == 3  # 1-2 under the first subkey, 3-5 the second, 6-7 the third
    assert [box.decrypt(t) for t in tokens] == [str(i).encode() for i in range(7)]


def test_threads_seal_concurrently() -> None:
    box = Box([Fernet.generate_key()])
    out: list[bytes] = []
    lock = threading.Lock()

    def seal(n: int) -> None:
        mine = [box.encrypt(f"{n}-{i}".encode()) for i in range(200)]
        with lock:
            out.extend(mine)

    threads = [threading.Thread(target=seal, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(out)) == 800
    assert {box.decrypt(t) for t in out} == {f"{n}-{i}".encode() for n in range(4)
                                             for i in range(200)}

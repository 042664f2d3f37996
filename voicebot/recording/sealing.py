"""The recordings' key and cipher: AES-256-GCM (``cryptography``), each recording sealed under a
fresh nonce with its call id as associated data, so a file renamed to another call does not open.

A sealed recording: ``VBR1`` | key id (8 bytes: the start of the key's SHA-256) | nonce (12) |
ciphertext and tag. The key id tells which key a recording needs when keys have changed.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"VBR1"
KEY_BYTES = 32
NONCE_BYTES = 12


class SealingError(Exception):
    """A recording cannot be sealed or opened (no key, another key, or a damaged file)."""


@dataclass(frozen=True)
class RecordingKey:
    secret: bytes

    @property
    def key_id(self) -> bytes:
        return hashlib.sha256(self.secret).digest()[:8]

    def seal(self, plain: bytes, call_id: str) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return MAGIC + self.key_id + nonce + AESGCM(self.secret).encrypt(nonce, plain, call_id.encode())

    def open(self, sealed: bytes, call_id: str) -> bytes:
        head = len(MAGIC) + 8 + NONCE_BYTES
        if len(sealed) < head or not sealed.startswith(MAGIC):
            raise SealingError("not a sealed voicebot recording")
        key_id, nonce = sealed[len(MAGIC):len(MAGIC) + 8], sealed[len(MAGIC) + 8:head]
        if key_id != self.key_id:
            raise SealingError(f"sealed under key {key_id.hex()}, but the configured key is {self.key_id.hex()}")
        try:
            return AESGCM(self.secret).decrypt(nonce, sealed[head:], call_id.encode())
        except InvalidTag as exc:
            raise SealingError("the recording was altered or belongs to another call") from exc


def load_key(key_hex: str | None, key_file: Path, *, create: bool = True) -> RecordingKey:
    """The key given as hex, else the one in ``key_file`` (made, readable by its owner only, when
    missing and ``create``)."""
    if key_hex:
        return RecordingKey(_parse(key_hex, "VOICEBOT_RECORDING_KEY / [recording] key"))
    if not key_file.exists():
        if not create:
            raise SealingError(f"no recording key at {key_file}")
        key_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it meanwhile
            pass
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(KEY_BYTES) + "\n")
    for _ in range(50):  # a key file another process is writing this moment
        if text := key_file.read_text().strip():
            return RecordingKey(_parse(text, str(key_file)))
        time.sleep(0.02)
    raise SealingError(f"{key_file} is empty: put the recording key in it (or delete it to make a new one)")


def _parse(text: str, where: str) -> bytes:
    try:
        secret = bytes.fromhex(text.strip())
    except ValueError as exc:
        raise SealingError(f"{where}: the recording key must be {KEY_BYTES * 2} hex digits") from exc
    if len(secret) != KEY_BYTES:
        raise SealingError(f"{where}: the recording key must be {KEY_BYTES * 2} hex digits, not {len(secret) * 2}")
    return secret

"""Backups encrypted at rest with ``ENCRYPTION_KEY``: NaCl's SecretBox (XSalsa20-Poly1305).

An encrypted file is ``MAGIC``, a 16-byte salt, then SecretBox's output (its 24-byte random nonce
and the authenticated ciphertext), so each file opens by itself (`awf import` of one project's
export out of an encrypted backup) and any change to it is detected.

The box key is derived from ENCRYPTION_KEY with Argon2id (``nacl.pwhash``, the interactive limits:
64 MiB, a few tens of ms) and the salt, one salt per backup. ENCRYPTION_KEY is meant to be 32+
random characters, for which a plain hash (blake2b) would do; Argon2id costs nothing noticeable
once per backup and keeps a weak or human-chosen key from being brute-forced off a stolen backup.
"""

from __future__ import annotations

import shutil
from functools import lru_cache
from pathlib import Path

import nacl.utils
from nacl.exceptions import CryptoError
from nacl.pwhash import argon2id
from nacl.secret import SecretBox

from shared.state.backup import BackupError

__all__ = ["MAGIC", "SCHEME", "Sealer", "is_sealed", "open_folder", "open_sealed", "seal_folder"]

MAGIC = b"AWFENC1\n"
SCHEME = "nacl-secretbox+argon2id"
_SALT_BYTES = argon2id.SALTBYTES
_HEADER = len(MAGIC) + _SALT_BYTES


@lru_cache(maxsize=8)
def _box(secret: str, salt: bytes) -> SecretBox:
    key = argon2id.kdf(
        SecretBox.KEY_SIZE,
        secret.encode("utf-8"),
        salt,
        opslimit=argon2id.OPSLIMIT_INTERACTIVE,
        memlimit=argon2id.MEMLIMIT_INTERACTIVE,
    )
    return SecretBox(key)


class Sealer:
    """Encrypts the files of one backup under one fresh salt."""

    def __init__(self, secret: str) -> None:
        self._salt = nacl.utils.random(_SALT_BYTES)
        self._box = _box(secret, self._salt)

    def seal(self, data: bytes) -> bytes:
        return MAGIC + self._salt + bytes(self._box.encrypt(data))


def is_sealed(data: bytes) -> bool:
    return data.startswith(MAGIC)


def open_sealed(data: bytes, secret: str | None, what: str) -> bytes:
    """The plaintext of ``data`` (``data`` itself when not encrypted); BackupError naming
    ``what`` when no key is given or it is not the one the file was sealed with."""
    if not is_sealed(data):
        return data
    if not secret:
        raise BackupError(
            f"{what}: the backup is encrypted; set ENCRYPTION_KEY to the key it was made with"
        )
    salt, sealed = data[len(MAGIC) : _HEADER], data[_HEADER:]
    try:
        return _box(secret, salt).decrypt(sealed)
    except (CryptoError, ValueError):
        raise BackupError(
            f"ENCRYPTION_KEY does not match this backup: {what} does not decrypt with it"
        ) from None


def seal_folder(folder: Path, secret: str, keep: frozenset[str]) -> None:
    """Encrypt every file under ``folder`` in place but those named in ``keep`` (relative)."""
    sealer = Sealer(secret)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.relative_to(folder).as_posix() not in keep:
            path.write_bytes(sealer.seal(path.read_bytes()))


def open_folder(
    folder: Path, dest: Path, secret: str | None, skip: frozenset[str] = frozenset()
) -> None:
    """Copy ``folder`` to ``dest`` with every file decrypted, but those named in ``skip``
    (relative); the first failure stops it."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        if relative.as_posix() in skip:
            continue
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = path.read_bytes()
        if is_sealed(data):
            target.write_bytes(open_sealed(data, secret, relative.as_posix()))
        else:
            shutil.copyfile(path, target)

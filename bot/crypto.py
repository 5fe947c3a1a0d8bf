"""Secrets at rest: Slack tokens and the Teams card key are encrypted with ``PARTSBOT_SECRET_KEY``.

Why: a database dump or backup must not hand out tokens that read every channel and direct message the
bot is in (security review SEC-05). The key lives in the environment, not in the database, so someone who
has only the database (a backup, a read-only reporting user) cannot use what is stored.

The cipher is Fernet from the ``cryptography`` package (AES-128-CBC with HMAC-SHA256, authenticated, with
a timestamp). ``PARTSBOT_SECRET_KEY`` holds one Fernet key, or several separated by commas:
:class:`~cryptography.fernet.MultiFernet` encrypts with the first and decrypts with any. Rotation:

1. put a new key first: ``PARTSBOT_SECRET_KEY=<new>,<old>`` and restart (old values still read);
2. run ``partsbot secrets rotate`` (re-encrypts every stored secret with the new key);
3. drop the old key: ``PARTSBOT_SECRET_KEY=<new>``.

Stored values carry a prefix (``fernet:``) so a value written before encryption was switched on is still
read (and re-encrypted by ``partsbot secrets rotate``). Without a key (development and tests only;
production refuses to start) values are stored as they are, and the README says so.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

PREFIX = "fernet:"
# A Fernet key: 32 bytes, URL-safe base64.
KEY_BYTES = 32


class SecretError(Exception):
    """A stored secret cannot be read with the configured key(s)."""


def new_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _keys(secret_key: str) -> list[str]:
    return [k.strip() for k in secret_key.split(",") if k.strip()]


def check_key(secret_key: str) -> str | None:
    """Why ``secret_key`` cannot be used, or None. Never repeats the key."""
    keys = _keys(secret_key)
    if not keys:
        return "is empty"
    for number, key in enumerate(keys, 1):
        # Checked the way Fernet checks it, without importing cryptography (about 8 MB in every process):
        # only a server that stores secrets (OAuth installs, Teams) needs it.
        try:
            valid = len(base64.urlsafe_b64decode(key.encode())) == KEY_BYTES
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            return f"key {number} is not a Fernet key (`partsbot secret-key` makes one)"
    return None


class Box:
    """Encrypts and decrypts stored secrets with the configured key(s); a no-op box without a key."""

    def __init__(self, secret_key: str) -> None:
        keys = _keys(secret_key)
        self._fernet: MultiFernet | None = None
        if keys:
            from cryptography.fernet import Fernet, MultiFernet

            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    @property
    def enabled(self) -> bool:
        return self._fernet is not None

    def seal(self, value: str | None) -> str | None:
        if value is None or self._fernet is None or value.startswith(PREFIX):
            return value
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    def open(self, value: str | None) -> str | None:
        if value is None or not value.startswith(PREFIX):
            return value
        if self._fernet is None:
            raise SecretError("a stored secret is encrypted but PARTSBOT_SECRET_KEY is not set")
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(value[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise SecretError("a stored secret cannot be decrypted with PARTSBOT_SECRET_KEY") from None

    def rotate(self, value: str | None) -> str | None:
        """Re-encrypt with the first key (and encrypt what was stored in plain text)."""
        if value is None or self._fernet is None:
            return value
        if value.startswith(PREFIX):
            return PREFIX + self._fernet.rotate(value[len(PREFIX) :].encode()).decode()
        return self.seal(value)

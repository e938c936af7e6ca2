"""Secrets kept in the database sealed (encrypted and authenticated), so a database
copy, a backup or an admin page never holds a usable one: Fernet (the cryptography
package, as for the second-factor secrets in `signin.py`) with a key derived from
SECRET_KEY and the secret's purpose. Keys from SECRET_KEY_FALLBACKS still open what
was sealed before a key rotation; re-saving seals with the current key."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _key(secret: str, purpose: str) -> Fernet:
    digest = hashlib.sha256(f"mlteam.sealed:{purpose}:".encode() + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _cipher(purpose: str) -> MultiFernet:
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_key(str(secret), purpose) for secret in secrets])


def seal(purpose: str, text: str) -> str:
    """`text` sealed for `purpose` ("" stays "")."""
    if not text:
        return ""
    return _cipher(purpose).encrypt(text.encode()).decode()


def unseal(purpose: str, sealed: str) -> str | None:
    """What `seal` sealed; "" for ""; None when no current key opens it (SECRET_KEY
    changed without keeping the old one in SECRET_KEY_FALLBACKS)."""
    if not sealed:
        return ""
    try:
        return _cipher(purpose).decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None

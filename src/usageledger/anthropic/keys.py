"""What an Admin key looks like, checked before any network call so a wrong paste fails fast."""

from __future__ import annotations

import re

from ..errors import MalformedKeyError, StandardKeyError

__all__ = ["check_admin_key_shape"]

_ADMIN_PREFIX = "sk-ant-admin01-"
_MIN_SECRET_LENGTH = 20  # characters after the prefix; real keys have far more
_SECRET_CHARACTERS = re.compile(r"^[A-Za-z0-9_-]*$")
_STANDARD_KEY = re.compile(r"^sk-ant-api\d\d-")
_COPY_AGAIN = "Copy the whole key from the Anthropic Console (Settings → Admin keys) and try again."


def check_admin_key_shape(key: str) -> str:
    """Return the key stripped of surrounding blanks, or raise a CredentialError saying what to do."""
    key = key.strip()
    if _STANDARD_KEY.match(key):
        raise StandardKeyError(
            "This is a standard API key (sk-ant-api…), which makes model calls and cannot read usage. "
            "Create an Admin API key (sk-ant-admin01-…) in the Anthropic Console under "
            "Settings → Admin keys, and paste that instead."
        )
    if not key.startswith(_ADMIN_PREFIX):
        raise MalformedKeyError(
            f"That does not look like an Anthropic Admin API key: they start with {_ADMIN_PREFIX}. {_COPY_AGAIN}"
        )
    secret = key[len(_ADMIN_PREFIX) :]
    if not _SECRET_CHARACTERS.match(secret):
        raise MalformedKeyError(
            "That key contains characters an Admin API key never has (spaces, line breaks or punctuation "
            f"other than - and _); it was probably pasted with something else. {_COPY_AGAIN}"
        )
    if len(secret) < _MIN_SECRET_LENGTH:
        raise MalformedKeyError(
            f"That key is too short: only {len(secret)} characters follow {_ADMIN_PREFIX}, and an Admin API "
            f"key has many more; it was probably cut off while copying. {_COPY_AGAIN}"
        )
    return key

"""What an Admin key looks like, checked before any network call so a wrong paste fails fast."""

from __future__ import annotations

import re

from ..errors import MalformedKeyError, StandardKeyError

__all__ = ["check_admin_key_shape"]

_ADMIN_KEY = re.compile(r"^sk-ant-admin01-[A-Za-z0-9_-]{20,}$")
_STANDARD_KEY = re.compile(r"^sk-ant-api\d\d-")


def check_admin_key_shape(key: str) -> str:
    """Return the key stripped of surrounding blanks, or raise a CredentialError saying what to do."""
    key = key.strip()
    if _STANDARD_KEY.match(key):
        raise StandardKeyError(
            "This is a standard API key (sk-ant-api…), which makes model calls and cannot read usage. "
            "Create an Admin API key (sk-ant-admin01-…) in the Anthropic Console under "
            "Settings → Admin keys, and paste that instead."
        )
    if not _ADMIN_KEY.match(key):
        raise MalformedKeyError(
            "That does not look like an Anthropic Admin API key (they start with sk-ant-admin01- and "
            "have no spaces). Copy the whole key from the Anthropic Console and try again."
        )
    return key

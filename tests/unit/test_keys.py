"""Key shapes are checked before any network call."""

from __future__ import annotations

import pytest

from usageledger.anthropic import check_admin_key_shape
from usageledger.errors import CredentialError, MalformedKeyError, StandardKeyError

ADMIN = "sk-ant-admin01-fake-test-key-abcdefghijklmnopqrstuvwxyz"


def test_an_admin_key_passes_and_is_stripped():
    assert check_admin_key_shape(f"  {ADMIN}\n") == ADMIN


@pytest.mark.parametrize(
    ("key", "error"),
    [
        ("sk-ant-api03-fake-test-key-abcdefghijklmnopqrstuvwxyz", StandardKeyError),
        ("sk-ant-admin01-short", MalformedKeyError),
        ("hello", MalformedKeyError),
        ("", MalformedKeyError),
        ("sk-ant-admin01-fake test key with spaces in it", MalformedKeyError),
    ],
)
def test_wrong_shapes_get_a_credential_error_with_advice(key, error):
    """Each wrong shape says what to paste instead, exits 3, and never echoes the key."""
    with pytest.raises(error) as caught:
        check_admin_key_shape(key)
    assert caught.value.exit_code == CredentialError.exit_code == 3
    assert "Admin" in caught.value.message
    if key:
        assert key not in caught.value.message

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


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("sk-ant-admin01-xxxx", "too short: only 4 characters"),
        ("sk-ant-admin01-ab", "too short: only 2 characters"),
        ("sk-ant-admin01-fake test key with spaces in it", "characters an Admin API key never has"),
        ("sk-ant-admin01-fake-test-key-abcdefghij!klmnop", "characters an Admin API key never has"),
        ("sk-ant-adm-fake-test-key-abcdefghijklmnopqrstuvwxyz", "they start with sk-ant-admin01-"),
    ],
)
def test_a_malformed_admin_key_is_told_what_is_wrong_with_it(key, says):
    """Right prefix but too short, or stray characters: the message names the real problem, not the prefix."""
    with pytest.raises(MalformedKeyError) as caught:
        check_admin_key_shape(key)
    assert says in caught.value.message
    assert key not in caught.value.message

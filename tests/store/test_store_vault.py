"""The credential vault: sealing, rotation, the key file, hints."""

from __future__ import annotations

import os
import stat

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import Engine

from usageledger.config import Settings
from usageledger.errors import ConfigError
from usageledger.store import Vault, key_hint, load_credential, rotate_credentials, store_credential

FAKE_KEY = "sk-ant-admin01-fake-demo-key-0000000000000000000000wxyz"


def test_seal_and_open_round_trip(settings: Settings) -> None:
    """What is sealed opens to the same secret; the ciphertext does not contain it."""
    vault = Vault.from_settings(settings)
    ciphertext, kek_id = vault.seal(FAKE_KEY)
    assert FAKE_KEY.encode() not in ciphertext
    assert kek_id == vault.kek_id and len(kek_id) == 16
    assert vault.open(ciphertext, kek_id) == FAKE_KEY


def test_key_file_is_created_once_with_mode_0600(settings: Settings) -> None:
    """Without a secret key, a key file is generated (0600) and reused."""
    first = Vault.from_settings(settings)
    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600
    assert Vault.from_settings(settings).kek_id == first.kek_id
    assert not [p for p in settings.home.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_readable_key_file_is_refused(settings: Settings, mode: int) -> None:
    """A key file readable by group or others is a ConfigError that says how to fix it."""
    Vault.from_settings(settings)
    os.chmod(settings.key_file, mode)
    with pytest.raises(ConfigError, match="chmod 600"):
        Vault.from_settings(settings)


def test_secret_key_may_be_a_fernet_key_or_a_passphrase(settings: Settings) -> None:
    """A Fernet key is used as is; any other string is stretched into one; no key file is written."""
    fernet_key = Fernet.generate_key().decode()
    by_key = Vault.from_settings(settings.model_copy(update={"secret_key": SecretStr(fernet_key)}))
    by_phrase = Vault.from_settings(settings.model_copy(update={"secret_key": SecretStr("test passphrase")}))
    ciphertext, kek_id = by_key.seal("x")
    assert Fernet(fernet_key.encode()).decrypt(ciphertext) == b"x"
    assert by_phrase.open(*by_phrase.seal("y")) == "y"
    assert by_phrase.kek_id != by_key.kek_id
    assert not settings.key_file.exists()


def test_wrong_key_is_a_config_error_without_the_secret(settings: Settings) -> None:
    """Opening with keys that did not seal it says which key is missing, never the secret."""
    ciphertext, kek_id = Vault.from_keys(["test old key"]).seal(FAKE_KEY)
    with pytest.raises(ConfigError, match=kek_id) as info:
        Vault.from_keys(["test other key"]).open(ciphertext, kek_id)
    assert FAKE_KEY not in str(info.value)


def test_vault_repr_shows_no_key() -> None:
    """repr() names the key id only."""
    key = Fernet.generate_key().decode()
    assert key not in repr(Vault.from_keys([key]))


def test_rotation_reseals_every_credential_with_the_newest_key(engine: Engine, connection_id: int) -> None:
    """With "new,old" every old credential opens; rotate re-seals it with new; then old can go."""
    old = Vault.from_keys(["test old key"])
    with engine.begin() as conn:
        store_credential(conn, connection_id, *old.seal(FAKE_KEY))
    both = Vault.from_keys(["test new key", "test old key"])
    with engine.begin() as conn:
        assert both.open(*load_credential(conn, connection_id)) == FAKE_KEY
        assert rotate_credentials(conn, both) == 1
        assert both.rotate(conn) == 0  # idempotent
    new_only = Vault.from_keys(["test new key"])
    with engine.connect() as conn:
        ciphertext, kek_id = load_credential(conn, connection_id)
    assert kek_id == new_only.kek_id
    assert new_only.open(ciphertext, kek_id) == FAKE_KEY


@pytest.mark.parametrize(
    ("secret", "hint"),
    [
        ("sk-ant-admin01-fake-test-key-abcdwxyz", "sk-ant-admin01-…wxyz"),
        ("sk-ant-api03-fake000000000000001234", "sk-ant-api03-…1234"),
        ("sk-ant-admin01-short", "sk-ant-admin01-…"),
        ("fake-other-secret-9876", "…9876"),
        ("", "…"),
    ],
)
def test_key_hint_shows_the_kind_and_last_four(secret: str, hint: str) -> None:
    """Hints never show more than the prefix and the last four characters."""
    assert key_hint(secret) == hint

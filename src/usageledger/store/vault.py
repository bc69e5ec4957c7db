"""The credential vault: admin keys are sealed with a key-encryption key (KEK) before they touch the database.

The KEK comes from `USAGELEDGER_SECRET_KEY` (a Fernet key, or any passphrase, from which a Fernet key is
derived with HKDF-SHA256) or, when unset, from a generated key file beside the database (mode 0600).
Several comma-separated keys rotate: the first seals, every one opens; `rotate_credentials` re-seals
every stored credential with the first. Secrets are never logged; only `key_hint` is ever shown.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, select, update

from usageledger.config import Settings
from usageledger.errors import ConfigError
from usageledger.private_files import make_private_dir
from usageledger.store.tables import credentials

__all__ = ["Vault", "key_hint", "rotate_credentials"]

# `cryptography` is imported where a key is derived, made, sealed or opened: a query command does none
# of that, and the import cost it ~10 ms of its start.

_HKDF_INFO = b"usageledger key-encryption key v1"
_HINT_PREFIX = re.compile(r"^(sk-ant-[a-z]+\d*-)")


def key_hint(secret: str) -> str:
    """What may be shown of a key: its kind prefix and last four characters, e.g. `sk-ant-admin01-…abcd`."""
    match = _HINT_PREFIX.match(secret)
    prefix = match.group(1) if match else ""
    rest = secret[len(prefix) :]
    if len(rest) < 12:  # too short to show any of it safely
        return f"{prefix}…"
    return f"{prefix}…{rest[-4:]}"


def _fernet_key(material: str) -> bytes:
    """A Fernet key as given, or one derived from an arbitrary passphrase."""
    material = material.strip()
    try:
        if len(base64.urlsafe_b64decode(material.encode("ascii"))) == 32:
            return material.encode("ascii")
    except (binascii.Error, ValueError, UnicodeEncodeError):
        pass
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        material.encode("utf-8")
    )
    return base64.urlsafe_b64encode(derived)


def _fingerprint(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def _read_key_file(path: Path) -> list[str]:
    info = path.stat()
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"The key file {path} is readable by other users (mode {stat.S_IMODE(info.st_mode):o}); "
            f"run `chmod 600 {path}` or set USAGELEDGER_SECRET_KEY."
        )
    keys = [line.strip() for line in path.read_text(encoding="ascii").splitlines() if line.strip()]
    if not keys:
        raise ConfigError(
            f"The key file {path} is empty; restore it from a backup or set USAGELEDGER_SECRET_KEY."
        )
    return keys


def _create_key_file(path: Path) -> None:
    """Write a new key to `path` atomically: it appears whole, with mode 0600, or not at all."""
    from cryptography.fernet import Fernet

    make_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(Fernet.generate_key().decode("ascii") + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)  # fails if another process created the key first: then theirs wins
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True, repr=False)
class Vault:
    """Seals and opens secrets with a list of Fernet keys, newest first."""

    _keys: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not self._keys:
            raise ConfigError("No key-encryption key configured.")

    def __repr__(self) -> str:
        return f"Vault(kek_id={self.kek_id!r}, keys={len(self._keys)})"

    @classmethod
    def from_keys(cls, keys: list[str] | tuple[str, ...]) -> Vault:
        return cls(tuple(_fernet_key(key) for key in keys if key.strip()))

    @classmethod
    def from_settings(cls, settings: Settings) -> Vault:
        """The KEK from `settings.secret_key` (comma-separated, newest first), else the key file."""
        if settings.secret_key is not None and settings.secret_key.get_secret_value().strip():
            return cls.from_keys(settings.secret_key.get_secret_value().split(","))
        path = settings.key_file
        if not path.exists():
            _create_key_file(path)
        return cls.from_keys(_read_key_file(path))

    @property
    def kek_id(self) -> str:
        """Fingerprint of the key that seals (never the key itself)."""
        return _fingerprint(self._keys[0])

    @property
    def kek_ids(self) -> tuple[str, ...]:
        return tuple(_fingerprint(key) for key in self._keys)

    def seal(self, secret: str) -> tuple[bytes, str]:
        from cryptography.fernet import Fernet

        return Fernet(self._keys[0]).encrypt(secret.encode("utf-8")), self.kek_id

    def open(self, ciphertext: bytes, kek_id: str) -> str:
        """Decrypt with the key named by `kek_id` (or, failing that, any configured key)."""
        from cryptography.fernet import Fernet, InvalidToken, MultiFernet

        ordered = sorted(self._keys, key=lambda key: _fingerprint(key) != kek_id)
        try:
            return MultiFernet([Fernet(key) for key in ordered]).decrypt(bytes(ciphertext)).decode("utf-8")
        except InvalidToken:
            raise ConfigError(
                f"A stored credential was sealed with key {kek_id}, which is not configured. Add that key to "
                "USAGELEDGER_SECRET_KEY (comma-separated, newest first) or reconnect the connection."
            ) from None

    def reseal(self, ciphertext: bytes, kek_id: str) -> tuple[bytes, str]:
        return self.seal(self.open(ciphertext, kek_id))

    def rotate(self, conn: Connection) -> int:
        """Re-seal every stored credential with the newest key; returns how many changed."""
        return rotate_credentials(conn, self)


def rotate_credentials(conn: Connection, vault: Vault) -> int:
    """Re-seal every credential not sealed by `vault`'s newest key. The caller owns the transaction."""
    rows = conn.execute(
        select(credentials.c.id, credentials.c.ciphertext, credentials.c.kek_id).where(
            credentials.c.kek_id != vault.kek_id
        )
    ).all()
    for row in rows:
        ciphertext, kek_id = vault.reseal(row.ciphertext, row.kek_id)
        conn.execute(
            update(credentials).where(credentials.c.id == row.id).values(ciphertext=ciphertext, kek_id=kek_id)
        )
    return len(rows)

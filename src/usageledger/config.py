"""Settings, built once in `main()` / `create_app()` and passed down. Nothing is read at import time."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("usageledger", appauthor=False))


class Settings(BaseSettings):
    """Every setting, from the environment (prefix `USAGELEDGER_`) or keyword arguments."""

    model_config = SettingsConfigDict(env_prefix="USAGELEDGER_", extra="ignore")

    home: Path = Field(
        default_factory=_default_home, description="Folder of the SQLite database and key file."
    )
    database_url: str | None = Field(default=None, description="sqlite:///… or postgresql+psycopg://…")
    anthropic_base_url: str = Field(default="https://api.anthropic.com", description="Admin API base URL.")
    secret_key: SecretStr | None = Field(default=None, description="Key-encryption key (Fernet, base64).")
    backfill_days: int = Field(default=365, ge=1, le=365, description="How far back the first sync reaches.")
    lookback_days: int = Field(default=3, ge=0, le=31, description="Recent days re-fetched on every sync.")
    max_retries: int = Field(default=4, ge=0, le=10, description="Retries of a failed API call (429/5xx).")
    request_timeout: float = Field(default=60.0, gt=0, description="Seconds before one API call times out.")
    page_limit: int = Field(default=1000, ge=1, le=1000, description="Rows per analytics page.")
    sync_interval_hours: float = Field(
        default=6.0, ge=0, description="`serve` syncs every connection this often (0: only on demand)."
    )
    host: str = Field(default="127.0.0.1", description="Address `serve` listens on.")
    port: int = Field(default=8000, description="Port `serve` listens on.")
    session_secret: SecretStr | None = Field(default=None, description="Signs session cookies.")
    public_url: str | None = Field(
        default=None,
        description="The address people open, e.g. https://usage.example.com (behind a TLS proxy).",
    )
    secure_cookies: bool | None = Field(
        default=None,
        description="Send cookies only over HTTPS; default: on when public_url starts with https://.",
    )
    session_idle_hours: float = Field(
        default=12.0, gt=0, le=24 * 365, description="A web session ends after this long without a request."
    )
    session_lifetime_days: float = Field(
        default=14.0, gt=0, le=365, description="A web session ends this long after sign-in, used or not."
    )

    @property
    def cookies_secure(self) -> bool:
        """Whether cookies carry `Secure`: as set, else whenever the app is published over HTTPS."""
        if self.secure_cookies is not None:
            return self.secure_cookies
        return bool(self.public_url and self.public_url.lower().startswith("https://"))

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'usageledger.db'}"

    @property
    def key_file(self) -> Path:
        return self.home / "secret.key"

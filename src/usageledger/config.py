"""Settings, built once in `main()` / `create_app()` and passed down. Nothing is read at import time.

`Settings` is a frozen dataclass that reads its own environment, not a pydantic-settings model: importing
and building that model cost `usageledger status` ~55 ms of a ~410 ms start (measured against this code
with `bench/bench_cli.py`'s method), for seventeen scalars that need no more than a parser and bounds
each. It keeps what the pydantic model did, and its tests pin that down:

- `Settings()` reads `USAGELEDGER_<NAME>` (the name in any case); keyword arguments win over the
  environment; unknown keyword arguments are ignored.
- Values from the environment are parsed the way pydantic's lax mode parsed them (`" 7 "`, `5.0`, `1_0`
  are 7, 5 and 10 days; booleans are 1/0, true/false, yes/no, on/off, t/f, y/n in any case).
- A bad value raises `ConfigError` (exit 2) with pydantic's wording, naming the variable; the value is
  echoed only for numbers and booleans, never for a URL or a secret.
- Secrets are `SecretStr`: masked in `repr` and `str`, read with `get_secret_value()` (pydantic's own
  `SecretStr`, or any object with that method, is accepted too).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import ConfigError

__all__ = ["ENV_PREFIX", "SecretStr", "Settings"]

ENV_PREFIX = "USAGELEDGER_"


class SecretStr:
    """A string that does not show itself: `repr` and `str` print stars; `get_secret_value()` reads it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"SecretStr({str(self)!r})"

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


Kind = Literal["str", "path", "int", "float", "bool", "secret"]


class _Invalid(ValueError):
    """One value failed its check; `Settings` names the variable."""


@dataclass(frozen=True, slots=True)
class _Spec:
    """How one setting is parsed and bounded, and its default."""

    kind: Kind
    description: str
    default: Callable[[], Any]
    optional: bool = False
    ge: float | None = None
    gt: float | None = None
    le: float | None = None


def _setting(
    kind: Kind,
    description: str,
    default: Any = None,
    *,
    default_factory: Callable[[], Any] | None = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
) -> Any:
    optional = default is None and default_factory is None
    spec = _Spec(
        kind, description, default_factory or (lambda: default), optional=optional, ge=ge, gt=gt, le=le
    )
    return field(metadata={"spec": spec})  # no dataclass default: `Settings.__init__` decides


def _default_home() -> Path:
    # Imported here: only a run that did not set USAGELEDGER_HOME needs the platform's data folder.
    import platformdirs

    return Path(platformdirs.user_data_dir("usageledger", appauthor=False))


# pydantic's lax parsing, reproduced for the kinds we have (see the module docstring).
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})
_WHOLE_FLOAT = re.compile(r"\s*[+-]?\d[\d_]*\.0*\s*")


def _parse_int(value: Any) -> int:
    if isinstance(value, int):
        return int(value)  # True is 1, as pydantic has it
    if isinstance(value, float):
        if not value.is_integer():
            raise _Invalid("Input should be a valid integer, got a number with a fractional part")
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            if _WHOLE_FLOAT.fullmatch(value):
                return int(value.strip().rstrip("0").rstrip("."))
        raise _Invalid("Input should be a valid integer, unable to parse string as an integer")
    raise _Invalid("Input should be a valid integer")


def _parse_float(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise _Invalid("Input should be a valid number, unable to parse string as a number") from None
    raise _Invalid("Input should be a valid number")


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise _Invalid("Input should be a valid boolean, unable to interpret input")


def _parse_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise _Invalid("Input should be a valid string")


def _parse_path(value: Any) -> Path:
    if isinstance(value, str | os.PathLike):
        return Path(value)
    raise _Invalid("Input is not a valid path")


def _parse_secret(value: Any) -> SecretStr:
    if isinstance(value, str):
        return SecretStr(value)
    if callable(getattr(value, "get_secret_value", None)):  # ours, or pydantic's SecretStr
        return SecretStr(_parse_str(value.get_secret_value()))
    raise _Invalid("Input should be a valid string")


_PARSERS: dict[Kind, Callable[[Any], Any]] = {
    "str": _parse_str,
    "path": _parse_path,
    "int": _parse_int,
    "float": _parse_float,
    "bool": _parse_bool,
    "secret": _parse_secret,
}


def _bounded(spec: _Spec, value: Any) -> Any:
    # Written as `not (value >= bound)` so that NaN fails every bound, as it does in pydantic.
    if spec.ge is not None and not value >= spec.ge:
        raise _Invalid(f"Input should be greater than or equal to {spec.ge:g}")
    if spec.gt is not None and not value > spec.gt:
        raise _Invalid(f"Input should be greater than {spec.gt:g}")
    if spec.le is not None and not value <= spec.le:
        raise _Invalid(f"Input should be less than or equal to {spec.le:g}")
    return value


def _check(spec: _Spec, value: Any) -> Any:
    if value is None and spec.optional:
        return None
    return _bounded(spec, _PARSERS[spec.kind](value))


def _environment(environ: Mapping[str, str]) -> dict[str, str]:
    """`USAGELEDGER_*` variables by lower-case setting name (names match in any case, as before)."""
    prefix = ENV_PREFIX.lower()
    return {k.lower()[len(prefix) :]: v for k, v in environ.items() if k.lower().startswith(prefix)}


@dataclass(frozen=True, init=False)
class Settings:
    """Every setting, from keyword arguments, else the environment (`USAGELEDGER_<NAME>`), else its default."""

    home: Path = _setting(
        "path", "Folder of the SQLite database and key file.", default_factory=_default_home
    )
    database_url: str | None = _setting("str", "sqlite:///… or postgresql+psycopg://…")
    anthropic_base_url: str = _setting("str", "Admin API base URL.", "https://api.anthropic.com")
    secret_key: SecretStr | None = _setting("secret", "Key-encryption key (Fernet, base64).")
    backfill_days: int = _setting("int", "How far back the first sync reaches.", 365, ge=1, le=365)
    lookback_days: int = _setting("int", "Recent days re-fetched on every sync.", 3, ge=0, le=31)
    max_retries: int = _setting("int", "Retries of a failed API call (429/5xx).", 4, ge=0, le=10)
    request_timeout: float = _setting("float", "Seconds before one API call times out.", 60.0, gt=0)
    page_limit: int = _setting("int", "Rows per analytics page.", 1000, ge=1, le=1000)
    max_in_flight: int = _setting(
        "int", "API requests one sync keeps in flight at most (a 429 lowers it for a while).", 4, ge=1, le=32
    )
    sync_interval_hours: float = _setting(
        "float",
        "`serve` (or the scheduler) syncs every connection this often (0: only on demand).",
        1.0,
        ge=0,
    )
    directory_refresh_hours: float = _setting(
        "float",
        "A scheduled sync reads the directory (names, keys, members) again once it is this old (0: every sync).",
        24.0,
        ge=0,
    )
    host: str = _setting("str", "Address `serve` listens on.", "127.0.0.1")
    port: int = _setting("int", "Port `serve` listens on.", 8000)
    session_secret: SecretStr | None = _setting("secret", "Signs session cookies.")
    public_url: str | None = _setting(
        "str", "The address people open, e.g. https://usage.example.com (behind a TLS proxy)."
    )
    secure_cookies: bool | None = _setting(
        "bool", "Send cookies only over HTTPS; default: on when public_url starts with https://."
    )
    session_idle_hours: float = _setting(
        "float", "A web session ends after this long without a request.", 12.0, gt=0, le=24 * 365
    )
    session_lifetime_days: float = _setting(
        "float", "A web session ends this long after sign-in, used or not.", 14.0, gt=0, le=365
    )

    def __init__(self, **values: Any) -> None:
        # Keyword arguments, else the environment, else the default; unknown names are ignored.
        env = _environment(os.environ)
        for f in dataclasses.fields(self):
            spec: _Spec = f.metadata["spec"]
            if f.name in values:
                raw, where = values[f.name], f.name
            elif f.name in env:
                raw, where = env[f.name], f"{ENV_PREFIX}{f.name.upper()}"
            else:
                raw, where = spec.default(), f.name
            try:
                value = _check(spec, raw)
            except _Invalid as exc:
                shown = f" (got {raw!r})" if spec.kind in ("int", "float", "bool") else ""
                raise ConfigError(f"a {ENV_PREFIX} setting is invalid: {where}: {exc}{shown}.") from None
            object.__setattr__(self, f.name, value)

    @classmethod
    def names(cls) -> list[str]:
        """Every setting's name, in declaration order (the variable is `USAGELEDGER_` + its upper case)."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def describe(cls, name: str) -> str:
        """The one-line description of setting `name`."""
        spec: _Spec = next(f for f in dataclasses.fields(cls) if f.name == name).metadata["spec"]
        return spec.description

    def model_copy(self, *, update: Mapping[str, Any]) -> Settings:
        """A copy with `update` applied and checked (the name pydantic gave it, kept for its callers)."""
        return Settings(**{**{name: getattr(self, name) for name in self.names()}, **update})

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

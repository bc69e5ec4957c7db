"""Settings read the environment the way the pydantic-settings model they replace did (same names,
defaults, parsing and messages), without importing pydantic.

The expected values below were recorded from that pydantic model (pydantic 2.14, pydantic-settings 2.16)
before it was replaced; each row is one behaviour a deployment may rely on.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from pydantic import SecretStr as PydanticSecretStr

from usageledger.cli import main
from usageledger.config import SecretStr, Settings
from usageledger.errors import ConfigError

DEFAULTS = {
    "database_url": None,
    "anthropic_base_url": "https://api.anthropic.com",
    "secret_key": None,
    "backfill_days": 365,
    "lookback_days": 3,
    "max_retries": 4,
    "request_timeout": 60.0,
    "page_limit": 1000,
    "max_in_flight": 4,
    "sync_interval_hours": 1.0,
    "directory_refresh_hours": 24.0,
    "host": "127.0.0.1",
    "port": 8000,
    "session_secret": None,
    "public_url": None,
    "secure_cookies": None,
    "session_idle_hours": 12.0,
    "session_lifetime_days": 14.0,
}


def test_every_setting_has_its_default_when_nothing_is_set():
    """With no USAGELEDGER_ variable, each setting has the documented default (home: the data folder)."""
    settings = Settings()
    assert {name: getattr(settings, name) for name in DEFAULTS} == DEFAULTS
    assert settings.names() == ["home", *DEFAULTS]
    assert settings.home.name == "usageledger" and settings.home.is_absolute()


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("BACKFILL_DAYS", "365", 365),
        ("BACKFILL_DAYS", "5.0", 5),
        ("BACKFILL_DAYS", " 7 ", 7),
        ("BACKFILL_DAYS", "1_0", 10),
        ("BACKFILL_DAYS", "+5", 5),
        ("LOOKBACK_DAYS", "0", 0),
        ("MAX_IN_FLIGHT", "8", 8),
        ("MAX_IN_FLIGHT", " 1 ", 1),
        ("REQUEST_TIMEOUT", "2.5", 2.5),
        ("REQUEST_TIMEOUT", " 3 ", 3.0),
        ("REQUEST_TIMEOUT", "1e1", 10.0),
        ("REQUEST_TIMEOUT", "inf", math.inf),
        ("SYNC_INTERVAL_HOURS", "0", 0.0),
        ("PORT", "-1", -1),  # no bounds on the port, as before
        ("SECURE_COOKIES", "true", True),
        ("SECURE_COOKIES", "FALSE", False),
        ("SECURE_COOKIES", "yes", True),
        ("SECURE_COOKIES", "off", False),
        ("SECURE_COOKIES", "1", True),
        ("SECURE_COOKIES", "t", True),
        ("SECURE_COOKIES", "n", False),
        ("HOME", "", Path(".")),
        ("HOME", "~/x", Path("~/x")),
        ("DATABASE_URL", "", ""),
        ("PUBLIC_URL", "https://usage.example.com", "https://usage.example.com"),
        ("SESSION_LIFETIME_DAYS", "365", 365.0),
    ],
)
def test_a_variable_is_parsed_as_before(monkeypatch, name, text, expected):
    """USAGELEDGER_<NAME> gives the value (and type) the pydantic model gave it."""
    monkeypatch.setenv(f"USAGELEDGER_{name}", text)
    value = getattr(Settings(), name.lower())
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("BACKFILL_DAYS", "0", "Input should be greater than or equal to 1"),
        ("BACKFILL_DAYS", "366", "Input should be less than or equal to 365"),
        ("BACKFILL_DAYS", "abc", "Input should be a valid integer, unable to parse string as an integer"),
        ("BACKFILL_DAYS", "1.5", "Input should be a valid integer, unable to parse string as an integer"),
        ("BACKFILL_DAYS", "", "Input should be a valid integer, unable to parse string as an integer"),
        ("LOOKBACK_DAYS", "32", "Input should be less than or equal to 31"),
        ("LOOKBACK_DAYS", "-1", "Input should be greater than or equal to 0"),
        ("MAX_RETRIES", "11", "Input should be less than or equal to 10"),
        ("PAGE_LIMIT", "1001", "Input should be less than or equal to 1000"),
        ("MAX_IN_FLIGHT", "0", "Input should be greater than or equal to 1"),
        ("MAX_IN_FLIGHT", "33", "Input should be less than or equal to 32"),
        ("MAX_IN_FLIGHT", "many", "Input should be a valid integer, unable to parse string as an integer"),
        ("REQUEST_TIMEOUT", "0", "Input should be greater than 0"),
        ("REQUEST_TIMEOUT", "nan", "Input should be greater than 0"),
        ("REQUEST_TIMEOUT", "x", "Input should be a valid number, unable to parse string as a number"),
        ("SYNC_INTERVAL_HOURS", "-0.5", "Input should be greater than or equal to 0"),
        ("PORT", "http", "Input should be a valid integer, unable to parse string as an integer"),
        ("SECURE_COOKIES", "", "Input should be a valid boolean, unable to interpret input"),
        ("SECURE_COOKIES", " true ", "Input should be a valid boolean, unable to interpret input"),
        ("SECURE_COOKIES", "2", "Input should be a valid boolean, unable to interpret input"),
        ("SESSION_IDLE_HOURS", "8761", "Input should be less than or equal to 8760"),
        ("SESSION_LIFETIME_DAYS", "0", "Input should be greater than 0"),
    ],
)
def test_a_bad_variable_is_a_config_error_that_names_it(monkeypatch, name, text, message):
    """A bad value raises ConfigError (exit 2) with pydantic's wording, the variable and the value."""
    monkeypatch.setenv(f"USAGELEDGER_{name}", text)
    with pytest.raises(ConfigError) as caught:
        Settings()
    assert caught.value.exit_code == 2
    assert f"USAGELEDGER_{name}: {message} (got {text!r})" in caught.value.message


def test_variable_names_match_in_any_case_and_keywords_win(monkeypatch):
    """`usageledger_port` counts like USAGELEDGER_PORT; a keyword argument beats the environment."""
    monkeypatch.setenv("usageledger_port", "81")
    assert Settings().port == 81
    monkeypatch.setenv("USAGELEDGER_LOOKBACK_DAYS", "9")
    assert Settings(lookback_days=2).lookback_days == 2


@pytest.mark.parametrize(
    ("keywords", "expected"),
    [
        ({"port": "84"}, 84),
        ({"port": 8.0}, 8),
        ({"home": "/tmp/x"}, Path("/tmp/x")),
        ({"request_timeout": 1}, 1.0),
        ({"secure_cookies": "on"}, True),
    ],
)
def test_keyword_arguments_are_parsed_like_variables(keywords, expected):
    """Keyword values are converted to the setting's type; unknown keywords are ignored."""
    ((name, _),) = keywords.items()
    value = getattr(Settings(**keywords, not_a_setting=1), name)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"port": 8.5}, "port: Input should be a valid integer, got a number with a fractional part"),
        ({"backfill_days": 0}, "backfill_days: Input should be greater than or equal to 1"),
        ({"database_url": 5}, "database_url: Input should be a valid string"),
        ({"host": None}, "host: Input should be a valid string"),
        ({"port": None}, "port: Input should be a valid integer"),
        ({"home": None}, "home: Input is not a valid path"),
    ],
)
def test_a_bad_keyword_argument_is_a_config_error(keywords, message):
    """Keyword values are checked as strictly as variables are."""
    with pytest.raises(ConfigError, match=message):
        Settings(**keywords)


def test_secrets_are_masked_and_never_echoed(monkeypatch):
    """repr/str of the settings hide secrets; a secret of the wrong type is refused without its value."""
    monkeypatch.setenv("USAGELEDGER_SECRET_KEY", "kek-value-123")
    settings = Settings(session_secret="cookie-secret-456")
    shown = repr(settings) + str(settings.secret_key) + repr(settings.session_secret)
    assert "kek-value-123" not in shown and "cookie-secret-456" not in shown
    assert settings.secret_key is not None and settings.secret_key.get_secret_value() == "kek-value-123"
    with pytest.raises(ConfigError) as caught:
        Settings(secret_key=12345678)
    assert "12345678" not in caught.value.message


def test_pydantic_secret_strings_are_still_accepted():
    """Callers holding pydantic's SecretStr can pass it on; it becomes ours."""
    settings = Settings(secret_key=PydanticSecretStr("phrase"))
    assert isinstance(settings.secret_key, SecretStr)
    assert settings.secret_key.get_secret_value() == "phrase"


def test_model_copy_changes_only_what_it_is_given_and_checks_it(tmp_path):
    """A copy keeps every other setting; a bad update is refused rather than stored."""
    base = Settings(home=tmp_path, lookback_days=5, secret_key="k")
    copy = base.model_copy(update={"backfill_days": 30})
    assert (copy.backfill_days, copy.lookback_days, copy.home, copy.secret_key) == (
        30,
        5,
        tmp_path,
        base.secret_key,
    )
    assert base.backfill_days == 365
    with pytest.raises(ConfigError):
        base.model_copy(update={"backfill_days": 0})


def test_settings_are_frozen():
    """Settings are built once and passed down: a changed copy, never a changed original."""
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


def test_the_cli_reports_a_bad_variable_and_exits_2(monkeypatch, capsys):
    """`usageledger status` with a bad variable prints one line naming it, and no traceback."""
    monkeypatch.setenv("USAGELEDGER_LOOKBACK_DAYS", "[bold]40")
    assert main(["status"]) == 2
    err = capsys.readouterr().err
    assert "USAGELEDGER_LOOKBACK_DAYS" in err and "'[bold]40'" in err and "Traceback" not in err

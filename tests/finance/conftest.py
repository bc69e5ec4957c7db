"""Finance fixtures: the web fixtures (tests/web/conftest.py), with a backfill long enough to hold all of
last month, so a month with cost can be closed."""

# ruff: noqa: F401, F811  (the web fixtures are imported so pytest finds them here)

from __future__ import annotations

import datetime as dt

import pytest

from tests.web.conftest import (
    _clean_fake,
    accounts,
    acme_connection,
    admin,
    anon,
    app,
    engine,
    fake,
    globex_connection,
    member,
    outsider,
    running_fake,
    tokens,
)
from usageledger.config import Settings
from usageledger.fake import RunningFake


@pytest.fixture
def settings(tmp_path, secret_key: str, running_fake: RunningFake) -> Settings:
    return Settings(
        home=tmp_path,
        secret_key=secret_key,
        anthropic_base_url=running_fake.url,
        backfill_days=70,
        max_retries=1,
    )


@pytest.fixture
def last_month() -> str:
    """Last month (UTC), YYYY-MM: ended, so it can be closed."""
    return (dt.datetime.now(dt.UTC).date().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")

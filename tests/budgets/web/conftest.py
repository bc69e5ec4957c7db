"""The web app's fixtures (tests/web): the fake on loopback, the app on SQLite, signed-in clients, accounts."""

from __future__ import annotations

from tests.web.conftest import (  # noqa: F401
    _clean_fake,
    accounts,
    acme_connection,
    admin,
    anon,
    app,
    engine,
    fake,
    globex_connection,
    login,
    member,
    outsider,
    running_fake,
    settings,
    tokens,
)

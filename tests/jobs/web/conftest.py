"""The web suite's fixtures (a synced SQLite connection, signed-in clients), for the detail-page tests here."""

from tests.web.conftest import (  # noqa: F401  (fixtures, found by pytest by name)
    _clean_fake,
    accounts,
    acme_connection,
    admin,
    app,
    engine,
    fake,
    running_fake,
    settings,
)

"""The integration detail page shows the next scheduled sync, or why there is none (a rejected key)."""

from __future__ import annotations

import datetime as dt
import html

import pytest

from usageledger import store
from usageledger.errors import InvalidKeyError
from usageledger.fake import FAKE_ADMIN_KEY
from usageledger.sync import run_sync
from usageledger.web.templating import _fmt_time

DETAIL = "/settings/integrations/connections/{}"


def test_the_detail_page_shows_the_next_scheduled_sync(admin, engine, acme_connection):
    """An hour (the default interval) after the last sync started."""
    with engine.connect() as conn:
        started = store.get_connection(conn, acme_connection).last_sync_started_at
    page = html.unescape(admin.get(DETAIL.format(acme_connection)).text)
    assert f"Next scheduled sync</dt><dd>{_fmt_time(started + dt.timedelta(hours=1))}</dd>" in page


def test_a_rejected_key_stops_the_schedule_and_the_page_says_so(
    admin, engine, settings, fake, acme_connection
):
    """After the API rejects the key, no sync is scheduled and the page says what to do."""
    fake.add_key(FAKE_ADMIN_KEY, "revoked")
    try:
        with pytest.raises(InvalidKeyError):
            run_sync(settings, engine, acme_connection)
    finally:
        fake.add_key(FAKE_ADMIN_KEY, "admin")
    page = html.unescape(admin.get(DETAIL.format(acme_connection)).text)
    assert "Next scheduled sync" in page
    assert "rejected the key" in page and "Connect again with a new key" in page
    with engine.connect() as conn:
        (state,) = store.list_schedule_states(conn, acme_connection)
    assert state.halted


def test_the_detail_page_and_the_api_show_when_the_directory_was_read(admin, engine, acme_connection):
    """The time the last sync read the workspaces, keys and members: scheduled syncs keep it a day."""
    with engine.connect() as conn:
        read_at = store.get_connection(conn, acme_connection).directory_read_at
    assert read_at is not None
    page = html.unescape(admin.get(DETAIL.format(acme_connection)).text)
    assert f"Directory read</dt><dd>{_fmt_time(read_at)}<br>" in page
    (listed,) = [
        c for c in admin.get("/api/v1/connections").json()["connections"] if c["id"] == acme_connection
    ]
    assert dt.datetime.fromisoformat(listed["directory_read_at"]) == read_at

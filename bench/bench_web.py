"""Benchmark (not a test): detail page and usage API latency on a 1-year, ~730k-row connection (SQLite).

Fills a database straight from the fake's ground truth (365 days × ~2,000 group rows a day, usage and
cost), then times the integration detail page and `/api/v1/usage` as a signed-in admin would call them.
Usage: python bench/bench_web.py [--rows-per-day 2300] [--repeat 15]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet
from fake_store import store_fake_organization  # bench/'s shared set-up (bench/ is on sys.path)
from fastapi.testclient import TestClient

from usageledger import store
from usageledger.config import Settings
from usageledger.fake import FakeOrganization
from usageledger.store import accounts
from usageledger.web import create_app

TODAY = dt.date(2027, 1, 1)  # a full year of fake history: 2026-01-01 .. 2026-12-31


def _fill(engine, rows_per_day: int) -> tuple[int, int]:
    fake = FakeOrganization(seed=3, rows_per_day=rows_per_day, today=TODAY)
    with engine.begin() as conn:
        tenant_id = store.ensure_default_tenant(conn)
    return tenant_id, store_fake_organization(engine, tenant_id, fake, dt.date(2026, 1, 1), TODAY)


def _median_ms(client: TestClient, url: str, repeat: int) -> tuple[float, int]:
    client.get(url)  # warm caches once, as a second visitor would find them
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
    return statistics.median(times), len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows-per-day", type=int, default=2300)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), secret_key=Fernet.generate_key().decode())
        engine = store.create_engine_for(settings)
        store.migrate(engine)
        started = time.perf_counter()
        tenant_id, connection_id = _fill(engine, args.rows_per_day)
        with engine.connect() as conn:
            usage_rows = store.get_connection(conn, connection_id).rows_stored
        print(
            f"filled {usage_rows:,} usage rows (and as many cost rows) in {time.perf_counter() - started:.1f} s"
        )
        with engine.begin() as conn:
            accounts.create_user(conn, tenant_id, "bench@example.com", "bench-password-123", "admin")
            user = accounts.authenticate_user(conn, "bench@example.com", "bench-password-123")
            assert user is not None
            token = accounts.create_access_token(
                conn, tenant_id=tenant_id, user_id=user.id, name="bench"
            ).token
        app = create_app(settings, engine)
        with TestClient(app, headers={"authorization": f"Bearer {token}"}) as api:
            for label, url in [
                (
                    "usage API, default (date × model, 1 year)",
                    f"/api/v1/usage?connection_id={connection_id}&limit=100",
                ),
                (
                    "usage API, month × workspace",
                    f"/api/v1/usage?connection_id={connection_id}&group_by=month,workspace",
                ),
                ("cost API, date", f"/api/v1/cost?connection_id={connection_id}&group_by=date&limit=100"),
            ]:
                median, size = _median_ms(api, url, args.repeat)
                print(f"{label}: median {median:.0f} ms ({size:,} bytes)")
        with TestClient(app) as browser:
            page = browser.get("/login")
            csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            browser.post(
                "/login",
                data={"email": "bench@example.com", "password": "bench-password-123", "csrf_token": csrf},
            )
            median, size = _median_ms(
                browser, f"/settings/integrations/connections/{connection_id}", args.repeat
            )
            print(f"detail page (chart, totals, first table page): median {median:.0f} ms ({size:,} bytes)")
        engine.dispose()


if __name__ == "__main__":
    main()

"""Web fixtures: the fake Admin API on loopback, a migrated SQLite database per test, the app, signed-in clients.

Two usageledger workspaces exist in every test: "Acme" (an admin and a member) and "Globex" (an admin),
so every page and route can be tried across workspaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from usageledger.config import Settings
from usageledger.fake import FAKE_ADMIN_KEY, FakeOrganization, RunningFake, serve_in_thread
from usageledger.store import create_engine_for, migrate
from usageledger.store.accounts import create_access_token, create_tenant, create_user
from usageledger.sync import connect_anthropic, run_sync
from usageledger.web import create_app

PASSWORD = "correct horse battery"
BACKFILL_DAYS = 20
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Account:
    email: str
    tenant_id: int
    user_id: int
    role: str


class RecordingClient(TestClient):
    """A TestClient that remembers every response body, so a test can prove a secret never left the app."""

    bodies: list[bytes]

    def request(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        response = super().request(*args, **kwargs)
        self.bodies.append(response.content + str(response.headers).encode())
        return response

    def csrf(self, path: str = "/settings/integrations") -> str:
        match = CSRF_RE.search(self.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)


@pytest.fixture(scope="session")
def fake() -> FakeOrganization:
    return FakeOrganization(seed=5, rows_per_day=12)


@pytest.fixture(scope="session")
def running_fake(fake: FakeOrganization) -> Iterator[RunningFake]:
    with serve_in_thread(fake) as running:
        yield running


@pytest.fixture(autouse=True)
def _clean_fake(fake: FakeOrganization) -> Iterator[None]:
    fake.faults.clear()
    yield
    fake.faults.clear()


@pytest.fixture
def settings(tmp_path, secret_key: str, running_fake: RunningFake) -> Settings:
    return Settings(
        home=tmp_path,
        secret_key=secret_key,
        anthropic_base_url=running_fake.url,
        backfill_days=BACKFILL_DAYS,
        max_retries=1,
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_engine_for(settings)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Iterator[FastAPI]:
    app = create_app(settings, engine)
    yield app
    app.state.services.syncs.join(30)


@pytest.fixture
def accounts(engine: Engine) -> dict[str, Account]:
    """acme_admin, acme_member (workspace Acme) and globex_admin (workspace Globex)."""
    with engine.begin() as conn:
        acme = create_tenant(conn, "Acme")
        globex = create_tenant(conn, "Globex")
        made = {}
        for key, tenant, role in (("acme_admin", acme, "admin"), ("acme_member", acme, "member"),
                                  ("globex_admin", globex, "admin")):  # fmt: skip
            email = f"{key.replace('_', '.')}@example.com"
            made[key] = Account(email, tenant, create_user(conn, tenant, email, PASSWORD, role), role)
    return made


def _client(app: FastAPI) -> RecordingClient:
    client = RecordingClient(app, base_url="http://testserver", follow_redirects=False)
    client.bodies = []
    return client


def sign_in(client: RecordingClient, email: str, password: str = PASSWORD) -> None:
    token = CSRF_RE.search(client.get("/login").text)
    assert token
    response = client.post(
        "/login", data={"csrf_token": token.group(1), "email": email, "password": password}
    )
    assert response.status_code == 303, response.text


@pytest.fixture
def anon(app: FastAPI, accounts) -> Iterator[RecordingClient]:
    with _client(app) as client:
        yield client


@pytest.fixture
def admin(app: FastAPI, accounts) -> Iterator[RecordingClient]:
    with _client(app) as client:
        sign_in(client, accounts["acme_admin"].email)
        yield client


@pytest.fixture
def member(app: FastAPI, accounts) -> Iterator[RecordingClient]:
    with _client(app) as client:
        sign_in(client, accounts["acme_member"].email)
        yield client


@pytest.fixture
def outsider(app: FastAPI, accounts) -> Iterator[RecordingClient]:
    """The admin of the other workspace (Globex)."""
    with _client(app) as client:
        sign_in(client, accounts["globex_admin"].email)
        yield client


def _connect_and_sync(settings: Settings, engine: Engine, tenant_id: int, name: str) -> int:
    result = connect_anthropic(settings, engine, tenant_id=tenant_id, admin_key=FAKE_ADMIN_KEY, name=name)
    run_sync(settings, engine, result.connection_id, trigger="connect")
    return result.connection_id


@pytest.fixture
def acme_connection(settings: Settings, engine: Engine, accounts) -> int:
    """A synced connection of workspace Acme."""
    return _connect_and_sync(settings, engine, accounts["acme_admin"].tenant_id, "Acme org")


@pytest.fixture
def globex_connection(settings: Settings, engine: Engine, accounts) -> int:
    """A synced connection of workspace Globex."""
    return _connect_and_sync(settings, engine, accounts["globex_admin"].tenant_id, "Globex org")


@pytest.fixture
def tokens(engine: Engine, accounts) -> dict[str, str]:
    """A personal access token per account."""
    out = {}
    with engine.begin() as conn:
        for key, account in accounts.items():
            out[key] = create_access_token(conn, tenant_id=account.tenant_id, user_id=account.user_id,
                                           name=f"{key} script").token  # fmt: skip
    return out


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
def login():
    """`login(client, email, password=PASSWORD)` signs a client in through the sign-in form."""
    return sign_in

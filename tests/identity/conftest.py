"""Identity fixtures: a migrated database (`store_engine`: SQLite and PostgreSQL), the app on SQLite with two
workspaces ("Acme": an admin and a member; "Globex": an admin), signed-in clients and SCIM tokens."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).parent.parent / "store"))


from usageledger.config import Settings  # noqa: E402
from usageledger.store import create_engine_for, migrate
from usageledger.store.accounts import create_tenant, create_user
from usageledger.store.scim_tokens import create_scim_token
from usageledger.web import create_app

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
SCIM_JSON = "application/scim+json"


@dataclass(frozen=True)
class Account:
    email: str
    tenant_id: int
    user_id: int


@pytest.fixture
def store_engine(database_url: str, tmp_path, secret_key: str) -> Iterator[Engine]:
    """A migrated, empty database of each kind."""
    engine = create_engine_for(
        Settings(home=tmp_path / "home", database_url=database_url, secret_key=secret_key)
    )
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(tmp_path, secret_key: str) -> Settings:
    return Settings(home=tmp_path, secret_key=secret_key)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_engine_for(settings)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def app(settings: Settings, engine: Engine) -> FastAPI:
    return create_app(settings, engine)


@pytest.fixture
def accounts(engine: Engine) -> dict[str, Account]:
    with engine.begin() as conn:
        acme, globex = create_tenant(conn, "Acme"), create_tenant(conn, "Globex")
        made = {}
        for key, tenant, role in (("acme_admin", acme, "admin"), ("acme_member", acme, "member"),
                                  ("globex_admin", globex, "admin")):  # fmt: skip
            email = f"{key.replace('_', '.')}@example.com"
            made[key] = Account(email, tenant, create_user(conn, tenant, email, PASSWORD, role))
    return made


class Client(TestClient):
    """A TestClient that remembers every response, so a test can prove a secret never left the app twice."""

    bodies: list[bytes]

    def request(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        response = super().request(*args, **kwargs)
        self.bodies.append(response.content + str(response.headers).encode())
        return response

    def csrf(self, path: str = "/settings/identity") -> str:
        match = CSRF_RE.search(self.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)


def _client(app: FastAPI, email: str | None = None) -> Client:
    client = Client(app, base_url="http://testserver", follow_redirects=False)
    client.bodies = []
    if email:
        token = CSRF_RE.search(client.get("/login").text)
        assert token
        response = client.post(
            "/login", data={"csrf_token": token.group(1), "email": email, "password": PASSWORD}
        )
        assert response.status_code == 303, response.text
    return client


@pytest.fixture
def admin(app: FastAPI, accounts) -> Iterator[Client]:
    with _client(app, accounts["acme_admin"].email) as client:
        yield client


@pytest.fixture
def member(app: FastAPI, accounts) -> Iterator[Client]:
    with _client(app, accounts["acme_member"].email) as client:
        yield client


@pytest.fixture
def scim_tokens(engine: Engine, accounts) -> dict[str, str]:
    """A SCIM token of Acme and one of Globex."""
    with engine.begin() as conn:
        return {
            name: create_scim_token(
                conn, tenant_id=accounts[key].tenant_id, name=name, created_by_user_id=None
            ).token
            for name, key in (("acme", "acme_admin"), ("globex", "globex_admin"))
        }


@pytest.fixture
def acme(app: FastAPI, scim_tokens) -> Iterator[Client]:
    """A SCIM client of workspace Acme (its identity provider)."""
    with _client(app) as client:
        client.headers.update({"authorization": f"Bearer {scim_tokens['acme']}", "content-type": SCIM_JSON})
        yield client


@pytest.fixture
def globex(app: FastAPI, scim_tokens) -> Iterator[Client]:
    with _client(app) as client:
        client.headers.update({"authorization": f"Bearer {scim_tokens['globex']}", "content-type": SCIM_JSON})
        yield client

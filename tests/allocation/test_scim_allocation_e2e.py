"""End to end through SCIM, on SQLite and PostgreSQL: the fake organization (users, deleted users, service
accounts, federated and hidden identities) synced by the real CLI; an admin makes a SCIM token on the
Identity settings page; an identity provider (a test HTTP client against the app) provisions people with
the enterprise extension and groups; then the JSON API's allocation by team, cost center, person and
application adds up to the organization's reported cost to the cent, with the right Unallocated reasons.
"""

# ruff: noqa: F811  (the end-to-end fixtures are imported and used as arguments)

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from tests.e2e.conftest import cli, cli_env, connected, fake, running_fake  # noqa: F401
from usageledger.config import Settings
from usageledger.fake import FakeOrganization
from usageledger.reports.ownership_rules import (
    DELETED_USER,
    FEDERATED_IDENTITY,
    NO_APPLICATION,
    NO_COST_CENTER,
    NO_IDENTITY,
    NO_OWNER,
    NOT_IN_DIRECTORY,
)
from usageledger.store import create_engine_for, ensure_default_tenant
from usageledger.store.accounts import create_user
from usageledger.store.tables import cost_rows
from usageledger.web import create_app

PASSWORD = "correct horse battery"
ADMIN = "it.admin@acme-fake.example"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN_RE = re.compile(r"ulscim_[A-Za-z0-9_-]{40,}")
SCIM_JSON = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CENT = Decimal("0.01")
BY = ("team", "cost_center", "person", "application")
# Who the identity provider provisions, by index into the fake's users: (group, enterprise costCenter).
# Users 6 and 7 are not in the directory at the end (6 never provisioned, 7 provisioned then deleted).
PLAN: dict[int, tuple[str, str | None]] = {
    0: ("Platform", "CC-100"),
    1: ("Research", "CC-200"),
    2: ("Platform", None),  # no cost center, in a team without one: "no cost center"
    3: ("Research", "CC-200"),
    4: ("Platform", "CC-100"),
    5: ("Research", None),
    7: ("Research", "CC-200"),
}
SPENDING = {0, 1, 2, 7}  # the users the fake (seed 11) gives spend in the last 30 days; checked below


@pytest.fixture
def db(cli_env, connected) -> Iterator[Engine]:
    """The synced database (the CLI's connect backfilled it)."""
    engine = create_engine_for(_settings(cli_env))
    yield engine
    engine.dispose()


def _settings(env: dict[str, str]) -> Settings:
    return Settings(
        home=Path(env["USAGELEDGER_HOME"]),
        database_url=env["USAGELEDGER_DATABASE_URL"],
        secret_key=env["USAGELEDGER_SECRET_KEY"],
        anthropic_base_url=env["USAGELEDGER_ANTHROPIC_BASE_URL"],
    )


@pytest.fixture
def admin(cli_env, db) -> Iterator[TestClient]:
    """The app over the synced database, and its admin signed in (the workspace the CLI connected)."""
    with db.begin() as conn:
        create_user(conn, ensure_default_tenant(conn), ADMIN, PASSWORD, "admin")
    with TestClient(create_app(_settings(cli_env), db), base_url="http://testserver",
                    follow_redirects=False) as client:  # fmt: skip
        token = CSRF_RE.search(client.get("/login").text)
        assert token
        signed_in = client.post("/login", data={"csrf_token": token[1], "email": ADMIN, "password": PASSWORD})
        assert signed_in.status_code == 303, signed_in.text
        yield client


def _csrf(client: TestClient, path: str) -> str:
    match = CSRF_RE.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match[1]


@pytest.fixture
def idp(admin) -> Iterator[TestClient]:
    """The identity provider: a SCIM client with a token the admin made on the Identity settings page."""
    made = admin.post("/settings/identity/scim-tokens", data={"csrf_token": _csrf(admin, "/settings/identity"),
                                                              "name": "Okta"})  # fmt: skip
    assert made.status_code == 200, made.text
    token = TOKEN_RE.search(made.text)
    assert token, "the new token is shown once on the page"
    with TestClient(admin.app, base_url="http://testserver") as client:
        client.headers.update({"authorization": f"Bearer {token[0]}", "content-type": SCIM_JSON})
        yield client


def _scim_user(user: dict[str, Any], cost_center: str | None) -> dict[str, Any]:
    first, _, last = str(user["name"]).partition(" ")
    return {
        "schemas": [USER, ENTERPRISE],
        "userName": user["email"],
        "externalId": f"okta-{user['id']}",
        "name": {"givenName": first, "familyName": last},
        "displayName": user["name"],
        # The identity provider spells the address its own way: matching to Anthropic ignores case.
        "emails": [{"value": str(user["email"]).upper(), "primary": True, "type": "work"}],
        "active": True,
        ENTERPRISE: {"department": "Engineering", **({"costCenter": cost_center} if cost_center else {})},
    }


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


@pytest.fixture
def provisioned(fake: FakeOrganization, idp) -> dict[int, str]:
    """Provision as Okta and Entra do: users, a group created with members, one patched in; user 7 is then
    deprovisioned (DELETE). Returns the SCIM id of each user still provisioned."""
    ids = {i: _ok(idp.post("/scim/v2/Users", json=_scim_user(fake.users[i], cc)), 201)["id"]
           for i, (_, cc) in PLAN.items()}  # fmt: skip
    for name in ("Platform", "Research"):
        members = [i for i, (group, _) in PLAN.items() if group == name]
        created = _ok(idp.post("/scim/v2/Groups", json={
            "schemas": [GROUP], "displayName": name, "externalId": f"okta-{name.lower()}",
            "members": [{"value": ids[i]} for i in members[:1]],
        }), 201)  # fmt: skip
        _ok(idp.patch(f"/scim/v2/Groups/{created['id']}", json={"schemas": [PATCH], "Operations": [
            {"op": "add", "path": "members", "value": [{"value": ids[i]} for i in members[1:]]}]}))  # fmt: skip
        group = _ok(idp.get(f"/scim/v2/Groups/{created['id']}"))
        assert {m["value"] for m in group["members"]} == {ids[i] for i in members}
    assert idp.delete(f"/scim/v2/Users/{ids.pop(7)}").status_code == 204
    found = _ok(idp.get("/scim/v2/Users", params={"filter": f'userName eq "{fake.users[0]["email"]}"'}))
    assert found["totalResults"] == 1 and found["Resources"][0][ENTERPRISE]["costCenter"] == "CC-100"
    return ids


def _allocation(client: TestClient, by: str) -> dict[str, Any]:
    return _ok(client.get("/api/v1/allocation", params={"by": by, "period": "30d"}))


def _stored_total(db: Engine, since: dt.date, until: dt.date) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.sum(cost_rows.c.amount_microcents))
                                .where(cost_rows.c.day.between(since, until))).scalar_one())  # fmt: skip


def _spenders(fake: FakeOrganization, since: dt.date, until: dt.date) -> set[str]:
    """Anthropic users with spend in the period, from the fake's truth: as a user actor, or as the creator
    of an API key whose usage is attributed to the key."""
    created_by = {k.id: k.created_by_id for k in fake.directory.api_keys if k.created_by_type == "user"}
    out = set()
    for r in fake.truth_actor_cost(since, until + dt.timedelta(days=1)):
        kind, actor = r.dims.actor_type, r.dims.actor_id
        if kind == "user_actor" and actor:
            out.add(actor)
        elif kind == "api_actor" and actor in created_by:
            out.add(created_by[actor])
    return out


def _reasons(found: dict[str, Any]) -> dict[str, Decimal]:
    return {r["reason"]: Decimal(r["exact_amount_usd"]) for r in found["rows"] if r["unallocated"]}


def _allocated(found: dict[str, Any]) -> dict[str, Decimal]:
    return {r["label"]: Decimal(r["exact_amount_usd"]) for r in found["rows"] if not r["unallocated"]}


def test_scim_provisioned_directory_allocates_the_organizations_cost_to_the_cent(
    fake, db, admin, provisioned
):
    """Team, cost center, person and application each add up to the reported cost: exactly in micro-cents,
    and the shown cents to the reported total rounded to the cent (within a cent of the fake's truth)."""
    workspace = fake.directory.workspaces[0].id
    app = admin.post("/api/v1/applications", headers={"X-CSRF-Token": _csrf(admin, "/allocation/applications")},
                     json={"name": "Console", "resources": [{"subject_type": "workspace", "subject_id": workspace}]})  # fmt: skip
    _ok(app, 201)
    for by in BY:
        found = _allocation(admin, by)
        since, until = (
            dt.date.fromisoformat(found["period"]["since"]),
            dt.date.fromisoformat(found["period"]["until"]),
        )
        stored = Decimal(_stored_total(db, since, until)).scaleb(-8)
        assert stored > 0 and found["balanced"] is True and found["imbalance_note"] is None, by
        assert Decimal(found["exact_total_usd"]) == stored
        assert sum(Decimal(r["exact_amount_usd"]) for r in found["rows"]) == stored, by
        assert Decimal(found["total_usd"]) == stored.quantize(CENT, rounding=ROUND_HALF_EVEN)
        assert sum(Decimal(r["amount_usd"]) for r in found["rows"]) == Decimal(found["total_usd"]), by
        truth = sum(
            (r.amount_cents for r in fake.truth_cost(since, until + dt.timedelta(days=1))), Decimal(0)
        )
        assert abs(Decimal(found["total_usd"]) - truth / 100) <= CENT
    assert "Console" in _allocated(_allocation(admin, "application"))
    assert NO_APPLICATION in _reasons(_allocation(admin, "application"))


def test_people_teams_and_cost_centers_come_from_scim_and_unallocated_says_why(fake, admin, provisioned):
    """Every provisioned user is a person with spend (each uses the Console); the unprovisioned and the
    deprovisioned users, deleted users, federated and hidden identities and unowned service accounts are
    Unallocated with their reason."""
    by_person = _allocation(admin, "person")
    spenders = _spenders(fake, *(dt.date.fromisoformat(by_person["period"][k]) for k in ("since", "until")))
    assert {i for i, u in enumerate(fake.users) if u["id"] in spenders} >= SPENDING  # the test's premise
    people = _allocated(by_person)
    assert set(people) == {fake.users[i]["name"] for i in provisioned if fake.users[i]["id"] in spenders}
    assert all(amount > 0 for amount in people.values())
    person_reasons = _reasons(by_person)
    assert {DELETED_USER, FEDERATED_IDENTITY, NO_IDENTITY, NOT_IN_DIRECTORY, NO_OWNER} <= set(person_reasons)
    assert set(_allocated(_allocation(admin, "team"))) == {"Platform", "Research"}
    by_cost_center = _allocation(admin, "cost_center")
    assert set(_allocated(by_cost_center)) == {"CC-100", "CC-200"}
    assert NO_COST_CENTER in _reasons(by_cost_center)  # user 2: no costCenter, Platform has none


def test_a_scim_deactivation_moves_that_persons_spend_to_not_in_the_directory(fake, admin, idp, provisioned):
    """Okta deactivates a user (PATCH active false): their whole spend moves to Unallocated, to the micro-cent."""
    before = _allocation(admin, "person")
    name = fake.users[1]["name"]
    theirs = _allocated(before)[name]
    _ok(idp.patch(f"/scim/v2/Users/{provisioned[1]}", json={"schemas": [PATCH], "Operations": [
        {"op": "replace", "value": {"active": False}}]}))  # fmt: skip
    after = _allocation(admin, "person")
    assert name not in _allocated(after)
    assert _reasons(after)[NOT_IN_DIRECTORY] == _reasons(before)[NOT_IN_DIRECTORY] + theirs
    assert after["exact_total_usd"] == before["exact_total_usd"] and after["balanced"] is True

"""The allocation pages and JSON API: members read, admins change owners and applications, every change is
an event, and the page's one-click owner form moves spend out of Unallocated."""

# ruff: noqa: F811  (the web fixtures are imported and used as arguments)

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from identity_helpers import add_person, add_team
from sqlalchemy import select

from tests.web.conftest import (  # noqa: F401
    _clean_fake,
    accounts,
    acme_connection,
    admin,
    app,
    engine,
    fake,
    member,
    outsider,
    running_fake,
    settings,
)
from usageledger.store.tables import events

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def people(engine, accounts, fake) -> dict[str, int]:
    """Acme's directory: one team and the fake's first user as a person in it."""
    with engine.begin() as conn:
        tenant = accounts["acme_admin"].tenant_id
        team = add_team(conn, tenant, "Core", "CC-1")
        person = add_person(conn, tenant, fake.users[0]["email"], "First User", team_ids=(team,))
    return {"team": team, "person": person}


def _csrf(client, path: str) -> str:
    match = CSRF_RE.search(client.get(path).text)
    assert match
    return match.group(1)


def _events(engine, kind: str) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(events.c.message, events.c.details).where(events.c.kind == kind)).all()
    return [{"message": r.message, **json.loads(r.details)} for r in rows]


@pytest.mark.parametrize("by", ["team", "cost_center", "person", "application", "product"])
def test_members_read_the_allocation_page_and_api_alike(member, acme_connection, people, by):
    """The page's total is the API's; the API's cent rows add up to its total."""
    data = member.get(f"/api/v1/allocation?by={by}&period=30d").json()
    assert data["balanced"] is True
    assert sum(Decimal(r["amount_usd"]) for r in data["rows"]) == Decimal(data["total_usd"])
    page = member.get(f"/allocation?by={by}&period=30d")
    assert page.status_code == 200
    assert f'id="allocation-total" data-usd="{data["total_usd"]}"' in page.text


def test_a_bad_filter_is_a_sentence_beside_the_filters(member, acme_connection):
    page = member.get("/allocation?by=planet")
    assert page.status_code == 400 and "choose from team" in page.text
    api = member.get("/api/v1/allocation?period=custom&since=2026-02-10&until=2026-02-01")
    assert api.status_code == 400 and api.json()["error"]["type"] == "invalid_request"


def test_members_cannot_change_owners_or_applications(member, people):
    token = _csrf(member, "/allocation/unallocated")
    headers = {"X-CSRF-Token": token}
    assert (
        member.put("/api/v1/owners/api_key/k1", json={"team_id": people["team"]}, headers=headers).status_code
        == 403
    )
    assert member.post("/api/v1/applications", json={"name": "X"}, headers=headers).status_code == 403
    form = {
        "csrf_token": token,
        "subject_type": "api_key",
        "subject_id": "k1",
        "owner": f"team:{people['team']}",
    }
    assert member.post("/allocation/owners", data=form).status_code == 403


def test_an_owner_change_is_an_event_with_who_what_and_when(admin, engine, accounts, people):
    headers = {"X-CSRF-Token": _csrf(admin, "/allocation/unallocated")}
    put = admin.put("/api/v1/owners/workspace/default", json={"person_id": people["person"]}, headers=headers)
    assert put.status_code == 200 and put.json()["subject_id"] == ""
    admin.put("/api/v1/owners/workspace/default", json={"team_id": people["team"]}, headers=headers)
    assert admin.delete("/api/v1/owners/workspace/default", headers=headers).status_code == 204
    logged = _events(engine, "owner_changed")
    assert [(e["old"], e["new"]) for e in logged] == [
        (None, f"person First User (#{people['person']})"),
        (f"person First User (#{people['person']})", f"team Core (#{people['team']})"),
        (f"team Core (#{people['team']})", None),
    ]
    assert {e["user"] for e in logged} == {accounts["acme_admin"].email}


def test_an_owner_must_belong_to_the_workspace(outsider, people):
    """Globex's admin cannot name Acme's person: 404, nothing stored."""
    headers = {"X-CSRF-Token": _csrf(outsider, "/allocation")}
    answer = outsider.put("/api/v1/owners/api_key/k1", json={"person_id": people["person"]}, headers=headers)
    assert answer.status_code == 404
    both = outsider.put("/api/v1/owners/api_key/k1", json={"person_id": 1, "team_id": 1}, headers=headers)
    assert both.status_code in (400, 404)


def test_applications_crud_with_events_and_one_application_per_key(admin, engine, people):
    headers = {"X-CSRF-Token": _csrf(admin, "/allocation/applications")}
    body = {
        "name": "Search",
        "team_id": people["team"],
        "resources": [{"subject_type": "api_key", "subject_id": "k1"}],
    }
    created = admin.post("/api/v1/applications", json=body, headers=headers)
    assert created.status_code == 201, created.text
    app_id = created.json()["id"]
    clash = admin.post("/api/v1/applications", json={**body, "name": "Other"}, headers=headers)
    assert clash.status_code == 409 and "serves one application" in clash.json()["error"]["message"]
    assert admin.post("/api/v1/applications", json=body, headers=headers).status_code == 409  # name taken
    patched = admin.patch(
        f"/api/v1/applications/{app_id}", json={"clear_team": True, "resources": []}, headers=headers
    )
    assert patched.json()["team_id"] is None and patched.json()["resources"] == []
    assert [a["name"] for a in admin.get("/api/v1/applications").json()["applications"]] == ["Search"]
    assert admin.delete(f"/api/v1/applications/{app_id}", headers=headers).status_code == 204
    assert [e["action"] for e in _events(engine, "application_changed")] == ["created", "changed", "deleted"]


def test_assigning_an_owner_on_the_unallocated_page_moves_its_spend(
    admin, member, accounts, acme_connection, people
):
    """The first subject to fix gets a team; it leaves the list and its spend leaves Unallocated."""
    page = admin.get("/allocation/unallocated?period=30d")
    assert page.status_code == 200 and 'class="inline-form assign-owner"' in page.text
    subject = re.search(r'data-subject="([a-z_]+):([^"]*)"', page.text)
    assert subject
    before = admin.get("/api/v1/allocation?by=team&period=30d").json()
    unallocated_before = sum(Decimal(r["exact_amount_usd"]) for r in before["rows"] if r["unallocated"])
    form = {"csrf_token": _csrf(admin, "/allocation/unallocated"), "subject_type": subject.group(1),
            "subject_id": subject.group(2), "owner": f"team:{people['team']}", "period": "30d"}  # fmt: skip
    answer = admin.post("/allocation/owners", data=form)
    assert answer.status_code == 303 and answer.headers["location"] == "/allocation/unallocated?period=30d"
    after_page = admin.get("/allocation/unallocated?period=30d").text
    assert f'data-subject="{subject.group(1)}:{subject.group(2)}"' not in after_page
    after = admin.get("/api/v1/allocation?by=team&period=30d").json()
    assert sum(Decimal(r["exact_amount_usd"]) for r in after["rows"] if r["unallocated"]) < unallocated_before
    assert after["total_usd"] == before["total_usd"] and after["balanced"]
    member_page = member.get("/allocation/unallocated?period=30d").text
    assert "assign-owner" not in member_page  # members read only, and see who changed what
    assert f"{accounts['acme_admin'].email} changed the owner of" in member_page


def test_people_and_applications_pages_render(admin, acme_connection, people):
    assert admin.get("/allocation/people?period=30d").status_code == 200
    page = admin.get("/allocation/applications?period=30d")
    assert page.status_code == 200 and 'id="new-application"' in page.text


def test_applications_are_created_and_changed_with_the_page_forms(admin, member, acme_connection, people):
    """Several keys and workspaces picked in one form land together; Delete removes it; members get 403."""
    token = _csrf(admin, "/allocation/applications")
    form = {"csrf_token": token, "name": "Chatbot", "team_id": str(people["team"]), "period": "30d",
            "resource": ["api_key:k1", "workspace:"]}  # fmt: skip
    answer = admin.post("/allocation/applications", data=form)
    assert answer.status_code == 303 and answer.headers["location"] == "/allocation/applications?period=30d"
    (app,) = admin.get("/api/v1/applications").json()["applications"]
    assert (app["name"], app["team_id"]) == ("Chatbot", people["team"])
    assert {(r["subject_type"], r["subject_id"]) for r in app["resources"]} == {
        ("api_key", "k1"),
        ("workspace", ""),
    }
    edit = {"csrf_token": token, "team_id": "", "resource": ["api_key:k2"], "action": "save"}
    assert admin.post(f"/allocation/applications/{app['id']}", data=edit).status_code == 303
    (changed,) = admin.get("/api/v1/applications").json()["applications"]
    assert changed["team_id"] is None and changed["resources"] == [
        {"subject_type": "api_key", "subject_id": "k2"}
    ]
    member_form = {"csrf_token": _csrf(member, "/allocation/applications"), "action": "delete"}
    assert member.post(f"/allocation/applications/{app['id']}", data=member_form).status_code == 403
    delete = {"csrf_token": token, "action": "delete"}
    assert admin.post(f"/allocation/applications/{app['id']}", data=delete).status_code == 303
    assert admin.get("/api/v1/applications").json()["applications"] == []

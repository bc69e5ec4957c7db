"""A team's cost center, on SQLite and PostgreSQL: admins set and clear it on the Identity page and through
`PUT /api/v1/teams/{id}` (CSRF like every form, members 403, another workspace's team 404), each change a
`team_changed` event naming who; SCIM replacing or patching the group keeps it; a CSV's `team_cost_center`
sets it and never clears it."""

from __future__ import annotations

import html
import json

import pytest
from sqlalchemy import Engine, select

from tests.identity.conftest import _client
from usageledger.identity.csv_import import apply_import, plan_import
from usageledger.store.identity_events import TEAM_CHANGED
from usageledger.store.tables import events
from usageledger.store.teams import TeamFields, create_team, get_team, replace_team

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture
def engine(store_engine: Engine) -> Engine:
    """The app of these tests runs on each kind of database (the identity conftest's is SQLite only)."""
    return store_engine


@pytest.fixture
def team(engine: Engine, accounts) -> int:
    with engine.begin() as conn:
        return create_team(conn, accounts["acme_admin"].tenant_id, TeamFields("Data"), source="scim").id


def _cost_center(engine: Engine, tenant_id: int, team_id: int) -> str | None:
    with engine.connect() as conn:
        return get_team(conn, tenant_id, team_id).cost_center


def _team_events(engine: Engine) -> list[tuple[str, dict]]:
    with engine.connect() as conn:
        rows = conn.execute(select(events.c.message, events.c.details).where(events.c.kind == TEAM_CHANGED)
                            .order_by(events.c.id)).all()  # fmt: skip
    return [(m, json.loads(d)) for m, d in rows]


def test_an_admin_sets_and_clears_a_teams_cost_center_on_the_identity_page(admin, engine, accounts, team):
    acme = accounts["acme_admin"]
    url = f"/settings/identity/teams/{team}/cost-center"
    answer = admin.post(url, data={"csrf_token": admin.csrf(), "cost_center": " CC-42 "})
    assert answer.status_code == 303 and answer.headers["location"] == "/settings/identity#teams"
    page = html.unescape(admin.get("/settings/identity").text)
    assert "Team “Data” now charged to CC-42." in page
    assert 'name="cost_center" value="CC-42"' in page
    assert _cost_center(engine, acme.tenant_id, team) == "CC-42"
    assert admin.post(url, data={"csrf_token": admin.csrf(), "cost_center": ""}).status_code == 303
    assert _cost_center(engine, acme.tenant_id, team) is None
    logged = _team_events(engine)
    assert [m for m, _ in logged] == [
        f"{acme.email} changed the cost center of the team Data: none → CC-42.",
        f"{acme.email} changed the cost center of the team Data: CC-42 → none.",
    ]
    assert logged[0][1] | {"team_id": None} == {"user_id": acme.user_id, "user": acme.email, "team_id": None,
                                                "team": "Data", "field": "cost_center", "old": None,
                                                "new": "CC-42"}  # fmt: skip


def test_the_page_form_refuses_members_a_missing_csrf_token_and_bad_values(
    admin, member, app, engine, accounts, team
):
    url = f"/settings/identity/teams/{team}/cost-center"
    assert (
        member.post(
            url, data={"csrf_token": member.csrf("/allocation/unallocated"), "cost_center": "CC-1"}
        ).status_code
        == 403
    )
    assert admin.post(url, data={"cost_center": "CC-1"}).status_code == 403
    too_long = admin.post(url, data={"csrf_token": admin.csrf(), "cost_center": "C" * 201})
    assert too_long.status_code == 400 and "at most 200 characters" in too_long.text
    with _client(app, accounts["globex_admin"].email) as outsider:
        assert outsider.post(url, data={"csrf_token": outsider.csrf(), "cost_center": "X"}).status_code == 404
    assert _cost_center(engine, accounts["acme_admin"].tenant_id, team) is None
    assert _team_events(engine) == []


def test_the_api_sets_a_teams_cost_center_for_admins_only(admin, member, app, engine, accounts, team):
    headers = {"X-CSRF-Token": admin.csrf()}
    put = admin.put(f"/api/v1/teams/{team}", json={"cost_center": "CC-7"}, headers=headers)
    assert put.status_code == 200, put.text
    assert {k: put.json()[k] for k in ("id", "name", "cost_center", "source", "members")} == {
        "id": team, "name": "Data", "cost_center": "CC-7", "source": "scim", "members": 0}  # fmt: skip
    listed = admin.get("/api/v1/teams").json()["teams"]
    assert [(t["name"], t["cost_center"]) for t in listed] == [("Data", "CC-7")]
    assert member.get("/api/v1/teams").status_code == 200  # members read
    member_put = member.put(
        f"/api/v1/teams/{team}",
        json={"cost_center": "X"},
        headers={"X-CSRF-Token": member.csrf("/allocation/unallocated")},
    )
    assert member_put.status_code == 403
    assert admin.put(f"/api/v1/teams/{team}", json={"cost_center": "X"}).status_code == 403  # no CSRF header
    assert (
        admin.put(
            f"/api/v1/teams/{team}", json={"cost_center": "X", "name": "Y"}, headers=headers
        ).status_code
        == 422
    )
    assert (
        admin.put(f"/api/v1/teams/{team}", json={"cost_center": "C" * 201}, headers=headers).status_code
        == 422
    )
    with _client(app, accounts["globex_admin"].email) as outsider:
        answer = outsider.put(f"/api/v1/teams/{team}", json={"cost_center": "X"},
                              headers={"X-CSRF-Token": outsider.csrf()})  # fmt: skip
        assert answer.status_code == 404 and answer.json()["error"]["message"] == f"No team with id {team}."
    cleared = admin.put(f"/api/v1/teams/{team}", json={"cost_center": None}, headers=headers)
    assert cleared.status_code == 200 and cleared.json()["cost_center"] is None
    assert len(_team_events(engine)) == 2


def test_scim_replacing_or_patching_a_group_keeps_its_cost_center(acme, admin, engine, accounts):
    made = acme.post("/scim/v2/Groups", json={"schemas": [GROUP], "displayName": "Eng"}).json()
    team_id = int(made["id"])
    admin.put(
        f"/api/v1/teams/{team_id}", json={"cost_center": "CC-ENG"}, headers={"X-CSRF-Token": admin.csrf()}
    )
    url = f"/scim/v2/Groups/{team_id}"
    assert acme.put(url, json={"schemas": [GROUP], "displayName": "Engineering"}).status_code == 200
    rename = {"op": "replace", "path": "displayName", "value": "Eng (all)"}
    assert acme.patch(url, json={"schemas": [PATCH], "Operations": [rename]}).status_code == 200
    tenant = accounts["acme_admin"].tenant_id
    with engine.begin() as conn:
        assert get_team(conn, tenant, team_id).fields.display_name == "Eng (all)"
        assert get_team(conn, tenant, team_id).cost_center == "CC-ENG"
        replace_team(conn, tenant, team_id, TeamFields("Eng"))
        assert get_team(conn, tenant, team_id).cost_center == "CC-ENG"


CSV = """email,name,team,cost_center,team_cost_center
ann@acme.io,Ann Lee,Platform,CC-ANN,CC-PLAT
bob@acme.io,Bob Ray,Platform,,
cy@acme.io,Cy Doe,Data,,CC-DATA
"""


def test_a_csvs_team_cost_center_sets_teams_once_and_never_clears(engine, accounts, team):
    """Platform is new, Data exists (from SCIM); Bob's blank says nothing; a second run changes nothing."""
    tenant = accounts["acme_admin"].tenant_id
    with engine.begin() as conn:
        plan = plan_import(conn, tenant, CSV)
        assert plan.ok, plan.errors
        assert plan.team_cost_centers == [("Platform", None, "CC-PLAT"), ("Data", None, "CC-DATA")]
        applied = apply_import(conn, tenant, CSV, actor="hr@acme.io", actor_user_id=None)
        assert applied.summary()["team_cost_centers_set"] == 2
        again = apply_import(conn, tenant, CSV, actor="hr@acme.io")
        assert not again.changes_anything
        blank = apply_import(
            conn, tenant, "email,team,team_cost_center\ncy@acme.io,Data,\n", actor="hr@acme.io"
        )
        assert not blank.changes_anything
    assert _cost_center(engine, tenant, team) == "CC-DATA"
    logged = [m for m, _ in _team_events(engine)]
    assert logged == ["hr@acme.io changed the cost center of the team Platform: none → CC-PLAT.",
                      "hr@acme.io changed the cost center of the team Data: none → CC-DATA."]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("email,team,team_cost_center\na@x.io,T,CC-1\nb@x.io,T,CC-2\n", 3,
         "team 'T' has team_cost_center 'CC-1' on line 2; one team has one cost center"),
        ("email,team_cost_center\na@x.io,CC-1\n", 2, "team_cost_center is given without a team"),
        ("email,team,team_cost_center\na@x.io,T," + "c" * 201 + "\n", 2, "team_cost_center is longer than 200"),
    ],
)  # fmt: skip
def test_a_bad_team_cost_center_is_a_bad_line_and_nothing_is_written(engine, accounts, text, line, message):
    tenant = accounts["acme_admin"].tenant_id
    with engine.begin() as conn:
        plan = plan_import(conn, tenant, text)
    assert [(e.line, e.message) for e in plan.errors if message in e.message] == [
        (line, plan.errors[0].message)
    ]
    assert _team_events(engine) == []


def test_columns_a_file_leaves_out_change_nothing(engine, accounts, team):
    """A file of emails and team cost centers only: names, people's cost centers and memberships stay."""
    tenant = accounts["acme_admin"].tenant_id
    with engine.begin() as conn:
        apply_import(conn, tenant, CSV, actor="hr@acme.io")
        plan = plan_import(conn, tenant, "email,team_cost_center,team\nann@acme.io,CC-NEW,Platform\n")
        assert [(p.action, p.changes) for p in plan.people] == [("unchanged", ())]
        assert plan.team_cost_centers == [("Platform", "CC-PLAT", "CC-NEW")]
        assert not plan_import(conn, tenant, "email\nann@acme.io\ncy@acme.io\n").changes_anything

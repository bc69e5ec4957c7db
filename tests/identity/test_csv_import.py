"""The CSV import: every kind of bad line is reported with its number, nothing is half-applied, and a second
run of the same file changes nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, func, select

from usageledger.errors import UsageError
from usageledger.identity.csv_import import ImportRejected, apply_import, decode_csv, plan_import
from usageledger.store.accounts import create_tenant
from usageledger.store.people import PersonFields, all_people, create_person
from usageledger.store.tables import events, people, team_members, teams
from usageledger.store.teams import TeamFields, create_team, team_names_by_person

GOOD = """Email,Name,Team,Cost_Center
ann@acme.io,Ann Lee,Platform,CC-100
Bob@Acme.io,Bob Ray,Platform,
cy@acme.io,,Data,CC-200
"""


@pytest.fixture
def tenant(store_engine: Engine) -> int:
    with store_engine.begin() as conn:
        return create_tenant(conn, "Acme")


def _counts(engine: Engine) -> tuple[int, int, int, int]:
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (people, teams, team_members, events)
        )


def test_preview_lists_what_would_change_and_writes_nothing(store_engine, tenant):
    before = _counts(store_engine)
    with store_engine.begin() as conn:
        plan = plan_import(conn, tenant, GOOD)
    assert plan.ok
    assert [(p.line, p.email, p.action) for p in plan.people] == [
        (2, "ann@acme.io", "create"), (3, "bob@acme.io", "create"), (4, "cy@acme.io", "create")]  # fmt: skip
    assert plan.teams_to_create == ["Platform", "Data"]
    assert ("bob@acme.io", "Platform") in plan.memberships_added
    assert _counts(store_engine) == before


def test_apply_writes_people_teams_and_one_event_and_second_run_changes_nothing(store_engine, tenant):
    with store_engine.begin() as conn:
        first = apply_import(conn, tenant, GOOD, actor="admin@acme.io", actor_user_id=None)
    assert first.summary()["people_created"] == 3
    with store_engine.connect() as conn:
        found = {p.fields.email: p for p in all_people(conn, tenant)}
        assert found["ann@acme.io"].fields.display_name == "Ann Lee"
        assert found["ann@acme.io"].fields.cost_center == "CC-100"
        assert found["ann@acme.io"].source == "csv"
        assert team_names_by_person(conn, tenant)[found["cy@acme.io"].id] == ["Data"]
        event = conn.execute(select(events).where(events.c.kind == "identity_import")).one()
    assert "admin@acme.io" in event.message and json.loads(event.details)["people_created"] == 3
    after_first = _counts(store_engine)
    with store_engine.begin() as conn:
        second = apply_import(conn, tenant, GOOD, actor="admin@acme.io")
    assert not second.changes_anything and second.count("unchanged") == 3
    assert _counts(store_engine) == after_first  # not even an event


def test_a_changed_file_updates_fields_and_moves_team(store_engine, tenant):
    with store_engine.begin() as conn:
        apply_import(conn, tenant, GOOD, actor="a")
        plan = plan_import(conn, tenant, "email,team,cost_center,name\nann@acme.io,Data,CC-999,Ann Lee\n")
    (ann,) = plan.people
    assert ann.action == "update" and ann.changes == (("cost center", "CC-100", "CC-999"),)
    assert plan.memberships_removed == [("ann@acme.io", "Platform")]
    assert plan.memberships_added == [("ann@acme.io", "Data")]


def test_scim_teams_are_left_alone_by_the_import(store_engine, tenant):
    """A person in a team provisioned by SCIM stays in it; the import only moves CSV memberships."""
    with store_engine.begin() as conn:
        pid = create_person(
            conn, tenant, PersonFields(user_name="ann@acme.io", email="ann@acme.io"), source="scim"
        ).id
        create_team(conn, tenant, TeamFields("Okta Eng"), source="scim", member_ids=[pid])
        apply_import(conn, tenant, "email,team\nann@acme.io,Platform\n", actor="a")
        assert team_names_by_person(conn, tenant)[pid] == ["Okta Eng", "Platform"]


BAD_LINES = [
    ("email,name\n,No Email\n", 2, "email is missing"),
    ("email,name\nnot-an-email,X\n", 2, "not an email address"),
    ("email,name\na@x.io,A\nA@X.io,Again\n", 3, "already on line 2"),
    ("email,name\na@x.io," + "n" * 501 + "\n", 2, "longer than 500"),
    ("email,cost_center\na@x.io," + "c" * 201 + "\n", 2, "longer than 200"),
    ("email,name\na@x.io,A,extra\n", 2, "3 values where the header has 2"),
    ("email,name\na@x.io,A\x00B\n", 2, "control character"),
    ("email,name,department\na@x.io,A,R&D\n", 1, "unknown column 'department'"),
    ("name,team\nA,T\n", 1, "must name an email column"),
    ("email,Email\na@x.io,b@x.io\n", 1, "appears twice"),
    ("", 1, "the file is empty"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_LINES)
def test_every_kind_of_bad_line_is_reported_with_its_number(store_engine, tenant, text, line, message):
    with store_engine.begin() as conn:
        plan = plan_import(conn, tenant, text)
    assert not plan.ok
    assert (plan.errors[0].line, message in plan.errors[0].message) == (line, True), plan.errors


def test_one_bad_line_means_nothing_is_applied(store_engine, tenant):
    """Good lines around a bad one are not written either: the whole file is refused."""
    text = GOOD + "bad-email,Zed,Platform,CC\n" + "dee@acme.io,Dee,NewTeam,\n"
    before = _counts(store_engine)
    with pytest.raises(ImportRejected) as refused, store_engine.begin() as conn:
        apply_import(conn, tenant, text, actor="a")
    assert [e.line for e in refused.value.plan.errors] == [5]
    assert "line 5" in refused.value.message
    assert _counts(store_engine) == before


def test_all_bad_lines_are_listed_not_only_the_first(store_engine, tenant):
    with store_engine.begin() as conn:
        plan = plan_import(conn, tenant, "email\nx\n\ny\na@b.io\na@b.io\n")
    assert [e.line for e in plan.errors] == [2, 4, 6]


def test_files_that_are_not_utf8_or_too_large_are_refused():
    assert decode_csv("\ufeffemail\na@b.io\n".encode()) == "email\na@b.io\n"
    with pytest.raises(UsageError, match="UTF-8"):
        decode_csv("email\nzoë@b.io\n".encode("latin-1"))
    with pytest.raises(UsageError, match="larger than"):
        decode_csv(b"x" * (5 * 1024 * 1024 + 1))


def test_the_fake_organizations_people_csv_imports_cleanly_and_once(store_engine, tenant):
    """The demo's import: every user of the fake but those whose role has no team, in three teams, each
    with a cost center; a second import changes nothing."""
    from usageledger.fake import FakeOrganization
    from usageledger.fake.directory import people_csv

    users = FakeOrganization(seed=7, rows_per_day=20).users
    text = people_csv(users)
    with store_engine.begin() as conn:
        first = apply_import(conn, tenant, text, actor="usageledger demo")
    with store_engine.begin() as conn:
        second = apply_import(conn, tenant, text, actor="usageledger demo")
        imported = all_people(conn, tenant)
    assert first.summary()["people_created"] == len(imported) == len(users) - 1
    assert len(first.teams_to_create) == 3 and not second.changes_anything
    assert all(p.fields.cost_center for p in imported)
    assert {u["email"] for u in users} - {p.fields.email for p in imported} == {
        next(u["email"] for u in users if u["role"] == "claude_code_user")
    }

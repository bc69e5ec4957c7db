"""store.people, store.teams and store.scim_tokens on SQLite and PostgreSQL: tenant scoping, versions, tokens."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from usageledger.errors import ConflictError, NotFoundError, UsageError
from usageledger.store.accounts import create_tenant
from usageledger.store.people import (
    PersonFields,
    create_person,
    delete_person,
    get_person,
    list_people,
    replace_person,
)
from usageledger.store.scim_tokens import (
    SCIM_TOKEN_PREFIX,
    create_scim_token,
    list_scim_tokens,
    record_scim_activity,
    revoke_scim_token,
    tenant_for_scim_token,
)
from usageledger.store.tables import events, scim_tokens
from usageledger.store.teams import (
    TeamFields,
    add_team_member,
    create_team,
    delete_team,
    list_teams,
    member_counts,
    remove_team_member,
    replace_team,
    team_member_ids,
    team_names_by_person,
)


@pytest.fixture
def tenants(store_engine: Engine) -> tuple[int, int]:
    with store_engine.begin() as conn:
        return create_tenant(conn, "Acme"), create_tenant(conn, "Globex")


def _person(conn, tenant: int, name: str, **extra) -> int:
    return create_person(conn, tenant, PersonFields(user_name=name, email=name, **extra), source="scim").id


def test_userName_is_unique_per_tenant_without_regard_to_case(store_engine, tenants):
    """A second 'Ann@x.io' in the same tenant is a conflict; the same name in another tenant is fine."""
    acme, globex = tenants
    with store_engine.begin() as conn:
        _person(conn, acme, "ann@x.io")
        with pytest.raises(ConflictError):
            _person(conn, acme, "ANN@x.io")
        _person(conn, globex, "ann@x.io")
        assert list_people(conn, acme, user_name="Ann@X.io")[0] == 1


def test_email_is_stored_lower_cased_and_found_by_it(store_engine, tenants):
    acme, _ = tenants
    with store_engine.begin() as conn:
        pid = create_person(conn, acme, PersonFields(user_name="Bo", email=" Bo@X.IO "), source="csv").id
        assert get_person(conn, acme, pid).fields.email == "bo@x.io"
        assert [p.id for p in list_people(conn, acme, email="BO@x.io")[1]] == [pid]


def test_another_tenants_person_is_not_found(store_engine, tenants):
    """Reading, replacing or deleting a person through the wrong tenant is NotFound, and changes nothing."""
    acme, globex = tenants
    with store_engine.begin() as conn:
        pid = _person(conn, acme, "cy@x.io")
        for attempt in (
            lambda: get_person(conn, globex, pid),
            lambda: replace_person(conn, globex, pid, PersonFields(user_name="evil")),
            lambda: delete_person(conn, globex, pid),
        ):
            with pytest.raises(NotFoundError):
                attempt()
        assert get_person(conn, acme, pid).fields.user_name == "cy@x.io"


def test_version_moves_only_when_something_changed(store_engine, tenants):
    acme, _ = tenants
    with store_engine.begin() as conn:
        pid = _person(conn, acme, "di@x.io", department="R&D")
        same = replace_person(
            conn, acme, pid, PersonFields(user_name="di@x.io", email="di@x.io", department="R&D")
        )
        assert same.version == 1
        moved = replace_person(conn, acme, pid, PersonFields(user_name="di@x.io", department="Sales"))
        assert (moved.version, moved.fields.department, moved.fields.email) == (2, "Sales", None)
        with pytest.raises(ConflictError):
            replace_person(conn, acme, pid, PersonFields(user_name="di@x.io"), expected_version=1)


def test_pagination_counts_every_match_and_returns_one_page(store_engine, tenants):
    acme, globex = tenants
    with store_engine.begin() as conn:
        ids = [_person(conn, acme, f"p{i}@x.io") for i in range(5)]
        _person(conn, globex, "other@x.io")
        total, page = list_people(conn, acme, offset=2, limit=2)
    assert total == 5
    assert [p.id for p in page] == ids[2:4]


def test_over_long_values_are_refused(store_engine, tenants):
    acme, _ = tenants
    with store_engine.begin() as conn, pytest.raises(UsageError):
        create_person(conn, acme, PersonFields(user_name="x", department="d" * 201), source="scim")


def test_team_members_must_be_people_of_the_same_tenant(store_engine, tenants):
    acme, globex = tenants
    with store_engine.begin() as conn:
        mine, theirs = _person(conn, acme, "ed@x.io"), _person(conn, globex, "fay@x.io")
        with pytest.raises(UsageError):
            create_team(conn, acme, TeamFields("Eng"), source="scim", member_ids=[mine, theirs])
        team = create_team(conn, acme, TeamFields("Eng"), source="scim", member_ids=[mine])
        assert team_member_ids(conn, team.id) == [mine]
        with pytest.raises(NotFoundError):
            replace_team(conn, globex, team.id, TeamFields("Stolen"), member_ids=[theirs])


def test_members_replace_add_remove_and_counts(store_engine, tenants):
    acme, _ = tenants
    with store_engine.begin() as conn:
        a, b, c = (_person(conn, acme, f"{n}@x.io") for n in "abc")
        team = create_team(conn, acme, TeamFields("Ops"), source="scim", member_ids=[a, b])
        replaced = replace_team(conn, acme, team.id, TeamFields("Ops"), member_ids=[b, c])
        assert team_member_ids(conn, team.id) == [b, c] and replaced.version == 2
        assert add_team_member(conn, acme, team.id, a) and not add_team_member(conn, acme, team.id, a)
        assert remove_team_member(conn, acme, team.id, b) and not remove_team_member(conn, acme, team.id, b)
        assert member_counts(conn, acme) == {team.id: 2}
        assert team_names_by_person(conn, acme) == {a: ["Ops"], c: ["Ops"]}
        assert list_teams(conn, acme, display_name="Ops")[0] == 1
        delete_person(conn, acme, c)
        assert team_member_ids(conn, team.id) == [a]
        delete_team(conn, acme, team.id)
        assert list_teams(conn, acme)[0] == 0


def test_team_names_are_unique_per_tenant(store_engine, tenants):
    acme, globex = tenants
    with store_engine.begin() as conn:
        create_team(conn, acme, TeamFields("Eng"), source="csv")
        with pytest.raises(ConflictError):
            create_team(conn, acme, TeamFields("Eng"), source="scim")
        create_team(conn, globex, TeamFields("Eng"), source="csv")


def test_scim_token_is_shown_once_stored_as_hash_and_revocable(store_engine, tenants):
    """The secret is only in the returned value; verification finds the tenant; revocation ends it."""
    acme, globex = tenants
    with store_engine.begin() as conn:
        new = create_scim_token(conn, tenant_id=acme, name="Okta", created_by_user_id=None)
        assert new.token.startswith(SCIM_TOKEN_PREFIX) and len(new.token) > 40
        stored = conn.execute(select(scim_tokens)).one()._mapping
        assert new.token not in str(dict(stored)) and stored["hint"].endswith(new.token[-4:])
        assert tenant_for_scim_token(conn, new.token) == acme
        assert list_scim_tokens(conn, acme)[0].last_used_at is not None
        assert tenant_for_scim_token(conn, new.token + "x") is None
        assert tenant_for_scim_token(conn, "ulpat_" + new.token[7:]) is None
        with pytest.raises(NotFoundError):
            revoke_scim_token(conn, new.row.id, tenant_id=globex)
        revoke_scim_token(conn, new.row.id, tenant_id=acme)
        assert tenant_for_scim_token(conn, new.token) is None


def test_scim_activity_is_one_summary_event_per_hour(store_engine, tenants):
    acme, _ = tenants
    with store_engine.begin() as conn:
        for what in ("users_created", "users_created", "groups_updated"):
            record_scim_activity(conn, acme, what)
        rows = conn.execute(select(events).where(events.c.kind == "scim_provisioned")).all()
    assert len(rows) == 1
    assert rows[0].message == "SCIM provisioning: 1 groups updated, 2 users created."

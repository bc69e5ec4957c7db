"""Owner and application writes on SQLite and PostgreSQL: validated against the tenant, every change logged."""

# ruff: noqa: F811  (the database fixtures come from conftest and are used as arguments)

from __future__ import annotations

import pytest
from identity_helpers import add_person, add_team
from sqlalchemy import Engine

from usageledger.errors import ConflictError, NotFoundError, UsageError
from usageledger.store import ensure_default_tenant, list_events
from usageledger.store.accounts import create_tenant, create_user
from usageledger.store.ownership import (
    Editor,
    clear_owner,
    create_application,
    list_owners,
    set_owner,
    update_application,
)


@pytest.fixture
def tenant(engine: Engine) -> dict[str, int]:
    with engine.begin() as conn:
        tenant = ensure_default_tenant(conn)
        other = create_tenant(conn, "Other")
        return {
            "tenant": tenant,
            "user": create_user(conn, tenant, "admin@example.com", "long enough password", "admin"),
            "team": add_team(conn, tenant, "Core"),
            "person": add_person(conn, tenant, "ada@example.com", "Ada"),
            "foreign_person": add_person(conn, other, "eve@example.com", "Eve"),
        }


def test_setting_replacing_and_clearing_an_owner_logs_each_change(engine: Engine, tenant) -> None:
    editor = Editor(tenant["user"], "admin@example.com")
    t = tenant["tenant"]
    with engine.begin() as conn:
        set_owner(conn, t, "api_key", "k1", person_id=tenant["person"], editor=editor)
        set_owner(conn, t, "api_key", "k1", person_id=tenant["person"], editor=editor)  # unchanged: no event
        set_owner(conn, t, "api_key", "k1", team_id=tenant["team"], editor=editor)
        assert [(o.person_id, o.team_id) for o in list_owners(conn, t)] == [(None, tenant["team"])]
        assert clear_owner(conn, t, "api_key", "k1", editor=editor) is True
        assert clear_owner(conn, t, "api_key", "k1", editor=editor) is False
        logged = list_events(conn, tenant_id=t, kind="owner_changed")
    assert len(logged) == 3
    assert all(
        e.details and e.details["user"] == "admin@example.com" and e.connection_id is None for e in logged
    )
    assert logged[0].details is not None and logged[0].details["new"] is None  # newest first: the clear


@pytest.mark.parametrize(
    ("subject_type", "subject_id", "owner", "error"),
    [
        ("api_key", "k1", {"person_id": "foreign_person"}, NotFoundError),
        ("api_key", "k1", {}, UsageError),
        ("api_key", "k1", {"person_id": "person", "team_id": "team"}, UsageError),
        ("organization", "o1", {"team_id": "team"}, UsageError),
        ("api_key", " ", {"team_id": "team"}, UsageError),
    ],
)
def test_bad_owners_are_refused_with_a_sentence(
    engine: Engine, tenant, subject_type, subject_id, owner, error
) -> None:
    editor = Editor(tenant["user"], "admin@example.com")
    with engine.begin() as conn, pytest.raises(error):
        set_owner(conn, tenant["tenant"], subject_type, subject_id, editor=editor,
                  **{k: tenant[v] for k, v in owner.items()})  # fmt: skip
    with engine.connect() as conn:
        assert list_owners(conn, tenant["tenant"]) == []


def test_a_key_serves_one_application(engine: Engine, tenant) -> None:
    editor = Editor(tenant["user"], "admin@example.com")
    t = tenant["tenant"]
    with engine.begin() as conn:
        search = create_application(conn, t, " Search ", team_id=tenant["team"], resources=[("api_key", "k1")],
                                    editor=editor)  # fmt: skip
        assert search.name == "Search" and search.resources == (("api_key", "k1"),)
        other = create_application(conn, t, "Other", editor=editor)
        with pytest.raises(ConflictError, match="serves one application"):
            update_application(conn, t, other.id, resources=[("api_key", "k1")], editor=editor)
        with pytest.raises(ConflictError, match="exists already"):
            update_application(conn, t, other.id, name="Search", editor=editor)
        moved = update_application(conn, t, search.id, resources=[("workspace", "")], editor=editor)
        assert moved.resources == (("workspace", ""),)

"""The directory in the store, on SQLite and PostgreSQL: names are upserted, memberships replaced whole."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from usageledger.models import (
    ApiKeyInfo,
    Directory,
    RbacGroup,
    RbacGroupMember,
    UserInfo,
    WorkspaceInfo,
    WorkspaceMember,
)
from usageledger.store import get_connection, purge_usage, update_connection, upsert_directory
from usageledger.store.tables import (
    anthropic_api_keys,
    anthropic_rbac_group_members,
    anthropic_rbac_groups,
    anthropic_workspace_members,
)

EXPIRES = dt.datetime(2027, 3, 1, 12, 30, tzinfo=dt.UTC)


def _directory(**lists: object) -> Directory:
    base = Directory(
        workspaces=[WorkspaceInfo("wrk_a", "A"), WorkspaceInfo("wrk_b", "B")],
        api_keys=[
            ApiKeyInfo("apikey_1", "one", "wrk_a", "active", None, "user_gone", "user", None, EXPIRES),
            ApiKeyInfo("apikey_2", "two", "wrk_a", "active", None, "svac_1", "service_account"),
            ApiKeyInfo("apikey_3", "legacy", "wrk_b", "inactive"),  # created_by: null
        ],
        users=[UserInfo("user_a", "a@x.test", "A"), UserInfo("user_b", "b@x.test", "B")],
        workspace_members=[
            WorkspaceMember("wrk_a", "user_a", "workspace_admin"),
            WorkspaceMember("wrk_a", "user_b", "workspace_developer"),
            WorkspaceMember("wrk_b", "user_b", "workspace_user"),
        ],
        rbac_groups=[RbacGroup("grp_1", "Engineering"), RbacGroup("grp_2", "Finance")],
        rbac_group_members=[
            RbacGroupMember("grp_1", "user_a", "a@x.test"),
            RbacGroupMember("grp_2", "user_b", "b@x.test"),
        ],
    )
    for name, value in lists.items():
        setattr(base, name, value)
    return base


def _stored(engine: Engine) -> tuple[set[tuple], set[tuple], set[tuple], set[tuple]]:
    with engine.connect() as conn:
        keys = conn.execute(
            select(
                anthropic_api_keys.c.id,
                anthropic_api_keys.c.created_by_id,
                anthropic_api_keys.c.created_by_type,
                anthropic_api_keys.c.expires_at,
            )
        ).all()
        members = conn.execute(
            select(
                anthropic_workspace_members.c.workspace_id,
                anthropic_workspace_members.c.user_id,
                anthropic_workspace_members.c.workspace_role,
            )
        ).all()
        groups = conn.execute(select(anthropic_rbac_groups.c.id, anthropic_rbac_groups.c.name)).all()
        group_members = conn.execute(
            select(
                anthropic_rbac_group_members.c.rbac_group_id,
                anthropic_rbac_group_members.c.user_id,
                anthropic_rbac_group_members.c.email,
            )
        ).all()
    return (
        {tuple(r) for r in keys},
        {tuple(r) for r in members},
        {tuple(r) for r in groups},
        {tuple(r) for r in group_members},
    )


def test_the_directory_round_trips(engine: Engine, connection_id: int) -> None:
    """Key expiry and creators (a removed user, a service account, none), members and groups read back."""
    directory = _directory()
    with engine.begin() as conn:
        upsert_directory(conn, connection_id, directory)
    keys, members, groups, group_members = _stored(engine)
    assert keys == {
        ("apikey_1", "user_gone", "user", EXPIRES),
        ("apikey_2", "svac_1", "service_account", None),
        ("apikey_3", None, None, None),
    }
    assert members == {
        (m.workspace_id, m.user_id, m.workspace_role) for m in directory.workspace_members or []
    }
    assert groups == {("grp_1", "Engineering"), ("grp_2", "Finance")}
    assert group_members == {("grp_1", "user_a", "a@x.test"), ("grp_2", "user_b", "b@x.test")}


def test_memberships_are_replaced_and_a_removed_member_disappears(engine: Engine, connection_id: int) -> None:
    """The next sync's lists replace the stored ones: a member or group no longer listed is gone."""
    with engine.begin() as conn:
        upsert_directory(conn, connection_id, _directory())
        upsert_directory(
            conn,
            connection_id,
            _directory(
                workspace_members=[WorkspaceMember("wrk_a", "user_a", "workspace_billing")],
                rbac_groups=[RbacGroup("grp_1", "Platform")],
                rbac_group_members=[],
            ),
        )
    _, members, groups, group_members = _stored(engine)
    assert members == {("wrk_a", "user_a", "workspace_billing")}
    assert groups == {("grp_1", "Platform")}
    assert group_members == set()


def test_a_list_that_was_not_read_keeps_what_was_stored(engine: Engine, connection_id: int) -> None:
    """None (the endpoint answered 403/404 this time) is not 'nobody': earlier rows stay."""
    with engine.begin() as conn:
        upsert_directory(conn, connection_id, _directory())
    before = _stored(engine)
    with engine.begin() as conn:
        upsert_directory(
            conn, connection_id, _directory(workspace_members=None, rbac_groups=None, rbac_group_members=None)
        )
    assert _stored(engine) == before


def test_a_member_listed_twice_is_stored_once(engine: Engine, connection_id: int) -> None:
    """A repeated entry (the last one wins) does not break the insert on PostgreSQL or SQLite."""
    twice = [
        WorkspaceMember("wrk_a", "user_a", "workspace_user"),
        WorkspaceMember("wrk_a", "user_a", "workspace_admin"),
    ]
    with engine.begin() as conn:
        upsert_directory(conn, connection_id, _directory(workspace_members=twice))
    assert _stored(engine)[1] == {("wrk_a", "user_a", "workspace_admin")}


def test_purge_removes_memberships_too(engine: Engine, connection_id: int) -> None:
    """Disconnect's purge leaves no directory row of the connection behind, nor a time it was read (so the
    next sync, even a scheduled one that would keep a fresh directory, reads it again)."""
    with engine.begin() as conn:
        upsert_directory(conn, connection_id, _directory())
        update_connection(conn, connection_id, directory_read_at=dt.datetime.now(dt.UTC))
        purge_usage(conn, connection_id)
    assert _stored(engine) == (set(), set(), set(), set())
    with engine.connect() as conn:
        assert get_connection(conn, connection_id).directory_read_at is None

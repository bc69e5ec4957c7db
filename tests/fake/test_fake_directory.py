"""The fake's directory lists beyond names: workspace members, RBAC groups and their members, key creators.

Every response is parsed by the official SDK (2.10.0) with its own models and pagers, on a Console
organization (the default: RBAC groups answer 403) and on an Enterprise one (`rbac_groups=True`).
"""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import pytest
from anthropic.pagination import SyncPage, SyncPageCursor
from anthropic.types.organization import APIKey, RBACGroup, WorkspaceMember
from anthropic.types.organization.rbac_groups import RBACGroupMember

from usageledger.fake import FAKE_ADMIN_KEY, FakeOrganization, serve_in_thread

from .conftest import TODAY


@pytest.fixture(scope="module")
def enterprise() -> Iterator[tuple[FakeOrganization, anthropic.Anthropic]]:
    """An organization that serves RBAC groups, and the SDK pointed at it."""
    fake = FakeOrganization(seed=5, rows_per_day=40, today=TODAY, rbac_groups=True)
    with (
        serve_in_thread(fake) as served,
        anthropic.Anthropic(api_key=FAKE_ADMIN_KEY, base_url=served.url, max_retries=0) as sdk,
    ):
        yield fake, sdk


def test_workspace_members_page_through_with_the_sdk_pager(
    client: anthropic.Anthropic, fake: FakeOrganization
) -> None:
    """Each live workspace's members parse as WorkspaceMember across SyncPages of 2, in the fake's order."""
    live = [w for w in fake.workspaces if w.archived_at is None]
    assert len(live) >= 4
    for workspace in live:
        page = client.organization.workspaces.members.list(workspace.id, limit=2)
        assert isinstance(page, SyncPage)
        members = list(page)
        assert all(isinstance(m, WorkspaceMember) and m.workspace_id == workspace.id for m in members)
        expected = [(u, r) for w, u, r in fake.members if w == workspace.id]
        assert [(m.user_id, m.workspace_role) for m in members] == expected
        assert len(expected) > 2  # more than one page
        if page.has_more:
            assert page.last_id == members[1].user_id


def test_members_of_an_unknown_workspace_are_a_404(client: anthropic.Anthropic) -> None:
    """The SDK raises NotFoundError for a workspace the organization does not have."""
    with pytest.raises(anthropic.NotFoundError):
        client.organization.workspaces.members.list("wrkspc_01nope")


def test_rbac_groups_are_refused_on_a_console_organization(client: anthropic.Anthropic) -> None:
    """By default the fake is a Console organization: RBAC groups answer 403 permission_error."""
    with pytest.raises(anthropic.PermissionDeniedError) as caught:
        client.organization.rbac_groups.list()
    assert "Enterprise" in caught.value.message


def test_rbac_groups_and_members_page_through_on_an_enterprise_organization(enterprise) -> None:
    """Groups and their members parse as RBACGroup/RBACGroupMember across PageCursor pages of 1 and 2."""
    fake, sdk = enterprise
    first = sdk.organization.rbac_groups.list(limit=1)
    assert isinstance(first, SyncPageCursor) and first.next_page
    groups = list(first)
    assert all(isinstance(g, RBACGroup) for g in groups)
    assert [(g.id, g.name) for g in groups] == [(g, n) for g, n, _ in fake.rbac_groups]
    for group in groups:
        members = list(sdk.organization.rbac_groups.members.list(group.id, limit=2))
        assert all(isinstance(m, RBACGroupMember) and m.rbac_group_id == group.id for m in members)
        expected = [(u, e) for g, u, e, _ in fake.rbac_members if g == group.id]
        assert [(m.user_id, m.email) for m in members] == expected and expected


def test_a_bad_page_cursor_is_a_400(enterprise) -> None:
    """A cursor the endpoint never gave is refused, not read as the first page."""
    _, sdk = enterprise
    with pytest.raises(anthropic.BadRequestError):
        sdk.organization.rbac_groups.list(page="not-a-cursor")


def test_keys_carry_expiry_and_every_kind_of_creator(
    client: anthropic.Anthropic, fake: FakeOrganization
) -> None:
    """Keys parse as APIKey: some expire, legacy ones have created_by null, others name users no longer
    listed or service accounts."""
    keys = list(client.organization.api_keys.list(limit=1000))
    assert all(isinstance(k, APIKey) for k in keys)
    listed = {u["id"] for u in fake.users}
    assert any(k.created_by is None for k in keys)
    assert any(k.created_by and k.created_by.type == "service_account" for k in keys)
    assert any(k.created_by and k.created_by.type == "user" and k.created_by.id not in listed for k in keys)
    assert any(k.created_by and k.created_by.id in listed for k in keys)
    expiring = [k for k in keys if k.expires_at is not None]
    assert expiring and all(k.expires_at > k.created_at for k in expiring)
    by_id = {k.id: k for k in fake.directory.api_keys}
    assert all(by_id[k.id].expires_at == k.expires_at for k in keys)

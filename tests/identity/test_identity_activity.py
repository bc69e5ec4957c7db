"""The Identity page's activity list: owner and application changes, CSV imports, SCIM provisioning and SCIM
tokens, newest first, filterable by kind, and only the admin's own workspace's."""

from __future__ import annotations

import html
import re

from tests.identity.conftest import _client
from usageledger.store.identity_events import IDENTITY_EVENT_KINDS
from usageledger.store.ownership import Editor, create_application, set_owner
from usageledger.store.teams import TeamFields, create_team

CSV = "email,name,team,cost_center\nann@acme.io,Ann Lee,Platform,CC-1\n"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def _activity(page: str) -> str:
    """The activity section of the Identity page, unescaped."""
    section = re.search(r'<section class="card" id="identity-activity">(.*?)</section>', page, re.S)
    assert section, "no activity section"
    return html.unescape(section.group(1))


def _kinds_listed(section: str) -> list[str]:
    return re.findall(r'<span class="badge">([a-z_]+)</span>', section)


def _make_one_of_each(admin, acme, engine, accounts) -> None:
    """Every identity event kind, through the paths that write them."""
    assert (
        admin.post(
            "/settings/identity/scim-tokens", data={"csrf_token": admin.csrf(), "name": "Okta"}
        ).status_code
        == 200
    )
    applied = admin.post("/settings/identity/import/apply", data={"csrf_token": admin.csrf(), "content": CSV})
    assert applied.status_code == 303, applied.text
    assert acme.post("/scim/v2/Users", json={"schemas": [USER], "userName": "bo@acme.io"}).status_code == 201
    who = accounts["acme_admin"]
    with engine.begin() as conn:
        team = create_team(conn, who.tenant_id, TeamFields("Data"), source="csv").id
        editor = Editor(who.user_id, who.email)
        set_owner(conn, who.tenant_id, "api_key", "apikey_01", team_id=team, editor=editor)
        create_application(conn, who.tenant_id, "Support bot", team_id=team, editor=editor)
    charged = admin.post(
        f"/settings/identity/teams/{team}/cost-center",
        data={"csrf_token": admin.csrf(), "cost_center": "CC-7"},
    )
    assert charged.status_code == 303
    token_id = re.search(r"/settings/identity/scim-tokens/(\d+)/revoke", admin.get("/settings/identity").text)
    assert token_id
    revoked = admin.post(
        f"/settings/identity/scim-tokens/{token_id[1]}/revoke", data={"csrf_token": admin.csrf()}
    )
    assert revoked.status_code == 303


def test_every_identity_event_kind_is_listed_with_who_did_it(admin, acme, engine, accounts):
    """One event of each declared kind appears on the page, with its message (who, what)."""
    _make_one_of_each(admin, acme, engine, accounts)
    section = _activity(admin.get("/settings/identity").text)
    assert sorted(set(_kinds_listed(section))) == sorted(IDENTITY_EVENT_KINDS)
    owner_line = (
        r"acme\.admin@example\.com changed the owner of api key apikey_01: none → team Data \(#\d+\)\."
    )
    assert re.search(owner_line, section)
    assert "SCIM provisioning: 1 users created." in section
    assert "acme.admin@example.com changed the cost center of the team Data: none → CC-7." in section


def test_the_kind_filter_narrows_the_list_and_keeps_its_choice(admin, acme, engine, accounts):
    _make_one_of_each(admin, acme, engine, accounts)
    page = admin.get("/settings/identity", params={"kind": "identity_import"}).text
    assert _kinds_listed(_activity(page)) == ["identity_import"]
    assert '<option value="identity_import" selected>' in page
    unknown = admin.get("/settings/identity", params={"kind": "sync_started"})
    assert unknown.status_code == 200 and set(_kinds_listed(_activity(unknown.text))) == set(
        IDENTITY_EVENT_KINDS
    )


def test_another_workspaces_admin_sees_none_of_it(admin, acme, engine, accounts, app):
    _make_one_of_each(admin, acme, engine, accounts)
    with _client(app, accounts["globex_admin"].email) as outsider:
        section = _activity(outsider.get("/settings/identity").text)
    assert _kinds_listed(section) == [] and "No events" in section

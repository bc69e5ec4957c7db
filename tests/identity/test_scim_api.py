"""The SCIM service through the app, on SQLite and PostgreSQL: Users and Groups, the enterprise extension,
filters, paging, ETags, errors in SCIM's shape, and a token that never sees another workspace."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from usageledger.store.people import get_person
from usageledger.store.tables import events


@pytest.fixture
def engine(store_engine: Engine) -> Engine:
    """The app of these tests runs on each kind of database (the identity conftest's is SQLite only)."""
    return store_engine


ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def _user(name: str, **extra) -> dict:
    return {
        "schemas": [USER, ENTERPRISE],
        "userName": name,
        "externalId": f"ext-{name}",
        "name": {"givenName": "Ann", "familyName": "Lee"},
        "emails": [{"value": name.upper(), "primary": True, "type": "work"}],
        "active": True,
        ENTERPRISE: {"department": "R&D", "costCenter": "CC-1", "manager": {"value": "42"}},
        **extra,
    }


def _create(client, name: str, **extra) -> dict:
    response = client.post("/scim/v2/Users", json=_user(name, **extra))
    assert response.status_code == 201, response.text
    return response.json()


def test_create_user_lands_enterprise_fields_in_the_store(acme, engine, accounts):
    """department, costCenter and manager.value are stored; the email lower-cased; the answer is SCIM JSON."""
    response = acme.post("/scim/v2/Users", json=_user("ann@acme.io"))
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("application/scim+json")
    body = response.json()
    assert response.headers["etag"] == body["meta"]["version"] == 'W/"1"'
    assert response.headers["location"].endswith(f"/scim/v2/Users/{body['id']}")
    with engine.connect() as conn:
        row = get_person(conn, accounts["acme_admin"].tenant_id, int(body["id"]))
    f = row.fields
    assert (f.department, f.cost_center, f.manager_id, f.email, f.given_name) == (
        "R&D",
        "CC-1",
        "42",
        "ann@acme.io",
        "Ann",
    )
    assert body[ENTERPRISE]["manager"]["value"] == "42"


def test_manager_as_a_bare_string_is_accepted(acme):
    """Microsoft Entra ID sends the manager as a string in PATCH."""
    made = _create(acme, "bo@acme.io")
    response = acme.patch(f"/scim/v2/Users/{made['id']}", json={"schemas": [PATCH], "Operations": [
        {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "777"}]})  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()[ENTERPRISE]["manager"]["value"] == "777"


def test_duplicate_userName_is_409_uniqueness(acme):
    _create(acme, "cy@acme.io")
    response = acme.post("/scim/v2/Users", json=_user("CY@acme.io"))
    assert response.status_code == 409
    assert response.json()["schemas"] == [ERROR] and response.json()["scimType"] == "uniqueness"


@pytest.mark.parametrize(("query", "found"), [
    ('userName eq "dee@acme.io"', 1), ('USERNAME eq "DEE@ACME.IO"', 1), ('externalId eq "ext-dee@acme.io"', 1),
    ('userName eq "nobody@acme.io"', 0)])  # fmt: skip
def test_filters_by_userName_and_externalId(acme, query, found):
    _create(acme, "dee@acme.io")
    _create(acme, "eve@acme.io")
    body = acme.get("/scim/v2/Users", params={"filter": query}).json()
    assert body["totalResults"] == found == len(body["Resources"])


def test_unsupported_filter_is_400_invalidFilter(acme):
    response = acme.get("/scim/v2/Users", params={"filter": 'name.givenName co "A"'})
    assert response.status_code == 400 and response.json()["scimType"] == "invalidFilter"


def test_pagination_by_startIndex_and_count(acme):
    ids = [_create(acme, f"p{i}@acme.io")["id"] for i in range(5)]
    body = acme.get("/scim/v2/Users", params={"startIndex": 2, "count": 2}).json()
    assert (body["totalResults"], body["startIndex"], body["itemsPerPage"]) == (5, 2, 2)
    assert [r["id"] for r in body["Resources"]] == ids[1:3]
    assert acme.get("/scim/v2/Users", params={"count": 0}).json()["Resources"] == []
    assert acme.get("/scim/v2/Users", params={"count": "many"}).status_code == 400


def test_replace_patch_and_delete_a_user(acme):
    """PUT replaces the whole user; Entra's PATCH with "False" deactivates; DELETE removes (then 404)."""
    made = _create(acme, "fay@acme.io")
    url = f"/scim/v2/Users/{made['id']}"
    replaced = acme.put(url, json={"schemas": [USER], "userName": "fay@acme.io", "displayName": "Fay"}).json()
    assert (
        replaced["displayName"] == "Fay"
        and ENTERPRISE not in replaced
        and replaced["meta"]["version"] == 'W/"2"'
    )
    patched = acme.patch(url, json={"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "add", "value": {f"{ENTERPRISE}:department": "Sales", "name.familyName": "Moe"}}]}).json()  # fmt: skip
    assert patched["active"] is False and patched[ENTERPRISE]["department"] == "Sales"
    assert patched["name"]["familyName"] == "Moe"
    assert acme.delete(url).status_code == 204
    assert acme.get(url).status_code == 404


def test_if_match_with_an_old_version_is_412(acme):
    made = _create(acme, "gus@acme.io")
    url = f"/scim/v2/Users/{made['id']}"
    acme.put(url, json={"schemas": [USER], "userName": "gus@acme.io", "displayName": "G"})
    response = acme.put(
        url, json={"schemas": [USER], "userName": "gus@acme.io"}, headers={"if-match": 'W/"1"'}
    )
    assert response.status_code == 412
    assert acme.delete(url, headers={"if-match": 'W/"2"'}).status_code == 204


def test_groups_with_members_add_and_remove_as_okta_and_entra_send_them(acme):
    a, b, c = (_create(acme, f"{n}@acme.io")["id"] for n in ("ha", "ib", "jc"))
    made = acme.post(
        "/scim/v2/Groups", json={"schemas": [GROUP], "displayName": "Eng", "members": [{"value": a}]}
    )
    assert made.status_code == 201, made.text
    url = f"/scim/v2/Groups/{made.json()['id']}"
    acme.patch(
        url,
        json={
            "schemas": [PATCH],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": b}, {"value": c}]}],
        },
    )
    entra_remove = {"op": "Remove", "path": "members", "value": [{"value": a}]}
    okta_remove = {"op": "remove", "path": f'members[value eq "{b}"]'}
    body = acme.patch(url, json={"schemas": [PATCH], "Operations": [entra_remove, okta_remove]}).json()
    assert [m["value"] for m in body["members"]] == [c]
    assert "members" not in acme.get(url, params={"excludedAttributes": "members"}).json()
    found = acme.get("/scim/v2/Groups", params={"filter": 'displayName eq "Eng"'}).json()
    assert found["totalResults"] == 1
    renamed = acme.put(url, json={"schemas": [GROUP], "displayName": "Engineering", "members": []}).json()
    assert renamed["displayName"] == "Engineering" and "members" not in renamed
    assert acme.delete(url).status_code == 204


def test_a_member_that_is_not_a_user_is_refused(acme):
    response = acme.post(
        "/scim/v2/Groups", json={"schemas": [GROUP], "displayName": "X", "members": [{"value": "999"}]}
    )
    assert response.status_code == 400 and response.json()["scimType"] == "invalidValue"


def test_a_token_never_sees_another_workspace(acme, globex):
    """Globex's token gets 404 for Acme's user and group, cannot list them, and cannot add them to a group."""
    user = _create(acme, "kim@acme.io")
    group = acme.post("/scim/v2/Groups", json={"schemas": [GROUP], "displayName": "Acme only"}).json()
    for path in (f"/scim/v2/Users/{user['id']}", f"/scim/v2/Groups/{group['id']}"):
        assert globex.get(path).status_code == 404
        assert globex.delete(path).status_code == 404
    assert globex.put(f"/scim/v2/Users/{user['id']}", json=_user("stolen@x.io")).status_code == 404
    assert globex.get("/scim/v2/Users").json()["totalResults"] == 0
    assert (
        globex.get("/scim/v2/Users", params={"filter": 'userName eq "kim@acme.io"'}).json()["totalResults"]
        == 0
    )
    stolen = globex.post(
        "/scim/v2/Groups", json={"schemas": [GROUP], "displayName": "G", "members": [{"value": user["id"]}]}
    )
    assert stolen.status_code == 400
    assert acme.get(f"/scim/v2/Users/{user['id']}").json()["userName"] == "kim@acme.io"


@pytest.mark.parametrize("authorization", [None, "Bearer ulscim_wrong", "Basic abc", "Bearer "])
def test_missing_or_bad_token_is_401(app, acme, authorization):
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        headers = {"authorization": authorization} if authorization else {}
        response = client.get("/scim/v2/Users", headers=headers)
    assert response.status_code == 401
    assert response.json()["schemas"] == [ERROR] and "bearer" in response.headers["www-authenticate"].lower()


def test_personal_access_tokens_and_sessions_are_not_accepted(app, admin, engine, accounts):
    """The SCIM surface takes only SCIM tokens: an admin's session or personal access token gets 401."""
    from usageledger.store.accounts import create_access_token

    with engine.begin() as conn:
        pat = create_access_token(
            conn, tenant_id=accounts["acme_admin"].tenant_id, user_id=accounts["acme_admin"].user_id, name="x"
        ).token
    assert admin.get("/scim/v2/Users").status_code == 401
    assert admin.get("/scim/v2/Users", headers={"authorization": f"Bearer {pat}"}).status_code == 401


def test_a_revoked_token_is_401(acme, engine, accounts, scim_tokens):
    from usageledger.store.scim_tokens import list_scim_tokens, revoke_scim_token

    assert acme.get("/scim/v2/Users").status_code == 200
    with engine.begin() as conn:
        token = list_scim_tokens(conn, accounts["acme_admin"].tenant_id)[0]
        revoke_scim_token(conn, token.id, tenant_id=accounts["acme_admin"].tenant_id)
    assert acme.get("/scim/v2/Users").status_code == 401


def test_bad_bodies_are_scim_errors_not_500(acme):
    deep = b"[" * 100_000 + b"]" * 100_000
    for body, content in ((None, b"{not json"), (None, b"[]"), (None, deep), ({"schemas": [USER]}, None)):
        response = (
            acme.post("/scim/v2/Users", json=body) if body else acme.post("/scim/v2/Users", content=content)
        )
        assert response.status_code == 400, response.text
        assert response.json()["schemas"] == [ERROR]
    assert acme.get("/scim/v2/Users/abc").status_code == 404
    assert acme.get("/scim/v2/Nothing").json()["status"] == "404"


def test_discovery_describes_what_we_store(acme):
    config = acme.get("/scim/v2/ServiceProviderConfig").json()
    assert config["patch"]["supported"] and config["filter"]["supported"] and not config["bulk"]["supported"]
    types = acme.get("/scim/v2/ResourceTypes").json()
    assert {t["id"] for t in types["Resources"]} == {"User", "Group"}
    user_schema = acme.get(f"/scim/v2/Schemas/{USER}").json()
    assert {a["name"] for a in user_schema["attributes"]} == {
        "userName",
        "name",
        "displayName",
        "active",
        "emails",
    }
    assert acme.post("/scim/v2/ServiceProviderConfig", json={}).status_code == 405


def test_provisioning_is_summed_up_in_one_event(acme, engine):
    for i in range(3):
        _create(acme, f"ev{i}@acme.io")
    with engine.connect() as conn:
        rows = conn.execute(select(events).where(events.c.kind == "scim_provisioned")).all()
    assert len(rows) == 1 and "3 users created" in rows[0].message


def test_entra_work_email_path_replaces_the_email(acme, engine, accounts):
    """Entra's default mapping patches `emails[type eq "work"].value`; we keep one email, so it is replaced."""
    made = _create(acme, "lu@acme.io")
    response = acme.patch(f"/scim/v2/Users/{made['id']}", json={"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "Lu.New@Acme.io"}]})  # fmt: skip
    assert response.status_code == 200, response.text
    with engine.connect() as conn:
        assert (
            get_person(conn, accounts["acme_admin"].tenant_id, int(made["id"])).fields.email
            == "lu.new@acme.io"
        )


def test_an_oversized_body_is_413(acme):
    response = acme.post("/scim/v2/Users", content=b'{"x": "' + b"a" * (1024 * 1024) + b'"}')
    assert response.status_code == 413 and response.json()["schemas"] == [ERROR]

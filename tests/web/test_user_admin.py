"""Admins manage people through the pages and /api/v1/users; a duplicate email is a 409, never a 500."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

import pytest
from sqlalchemy import event, insert

from usageledger.store.accounts import hash_password
from usageledger.store.tables import users

from .conftest import PASSWORD, bearer
from .test_sessions import _csrf

NEW = {"email": "new@example.com", "password": "long enough password", "role": "member"}


def test_admins_list_add_promote_and_remove_users_by_api(anon, tokens, accounts):
    """The whole round trip with a token: add, list, PATCH the role, DELETE."""
    headers = bearer(tokens["acme_admin"])
    added = anon.post("/api/v1/users", json=NEW, headers=headers)
    assert added.status_code == 201 and added.json()["email"] == NEW["email"]
    assert NEW["password"] not in added.text and "argon2" not in added.text
    listed = anon.get("/api/v1/users", headers=headers).json()["users"]
    assert [u["email"] for u in listed] == ["acme.admin@example.com", "acme.member@example.com", NEW["email"]]
    new_id = added.json()["id"]
    promoted = anon.patch(f"/api/v1/users/{new_id}", json={"role": "admin"}, headers=headers)
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    assert anon.delete(f"/api/v1/users/{new_id}", headers=headers).status_code == 204
    assert anon.delete(f"/api/v1/users/{new_id}", headers=headers).json()["error"]["type"] == "not_found"


def test_members_cannot_manage_users(anon, member, tokens, accounts):
    """403 for members on every route and form; nothing changes."""
    headers = bearer(tokens["acme_member"])
    target = accounts["acme_admin"].user_id
    for response in (
        anon.get("/api/v1/users", headers=headers),
        anon.post("/api/v1/users", json=NEW, headers=headers),
        anon.patch(f"/api/v1/users/{target}", json={"role": "member"}, headers=headers),
        anon.delete(f"/api/v1/users/{target}", headers=headers),
    ):
        assert response.status_code == 403 and response.json()["error"]["type"] == "forbidden"
    token = _csrf(member)
    for path, data in (
        (f"/settings/users/{target}/role", {"role": "member"}),
        (f"/settings/users/{target}/delete", {}),
    ):
        assert member.post(path, data={"csrf_token": token, **data}).status_code == 403
    assert anon.get("/api/v1/me", headers=bearer(tokens["acme_admin"])).json()["role"] == "admin"


def test_another_workspaces_users_are_not_found(anon, tokens, accounts):
    """Globex's admin cannot see, change or remove Acme's users (404)."""
    headers = bearer(tokens["globex_admin"])
    target = accounts["acme_member"].user_id
    assert [u["email"] for u in anon.get("/api/v1/users", headers=headers).json()["users"]] == [
        "globex.admin@example.com"
    ]
    assert anon.patch(f"/api/v1/users/{target}", json={"role": "admin"}, headers=headers).status_code == 404
    assert anon.delete(f"/api/v1/users/{target}", headers=headers).status_code == 404


def test_an_admin_cannot_demote_or_remove_themselves(anon, admin, tokens, accounts):
    """A clear 400 (API) or in-place message (page) that says to ask another admin."""
    me = accounts["acme_admin"].user_id
    response = anon.patch(
        f"/api/v1/users/{me}", json={"role": "member"}, headers=bearer(tokens["acme_admin"])
    )
    assert response.status_code == 400 and "ask another admin" in response.json()["error"]["message"]
    page = admin.post(f"/settings/users/{me}/delete", data={"csrf_token": _csrf(admin)})
    assert page.status_code == 400 and "ask another admin" in page.text


@pytest.mark.parametrize("role", ["owner", ""])
def test_an_unknown_role_is_refused(anon, admin, tokens, accounts, role):
    """422 on the API, 400 in place on the page."""
    target = accounts["acme_member"].user_id
    api = anon.patch(f"/api/v1/users/{target}", json={"role": role}, headers=bearer(tokens["acme_admin"]))
    assert api.status_code == 422 and api.json()["error"]["type"] == "validation_error"
    page = admin.post(f"/settings/users/{target}/role", data={"csrf_token": _csrf(admin), "role": role})
    assert page.status_code == 400 and "Role must be one of" in page.text


def test_a_duplicate_email_is_a_409(anon, admin, tokens, accounts):
    """The API answers the conflict envelope; the page shows it in place with 409."""
    taken = {**NEW, "email": accounts["acme_member"].email}
    api = anon.post("/api/v1/users", json=taken, headers=bearer(tokens["acme_admin"]))
    assert api.status_code == 409 and api.json()["error"]["type"] == "conflict"
    page = admin.post("/settings/users", data={"csrf_token": _csrf(admin), **taken})
    assert page.status_code == 409 and "already exists" in page.text


def test_two_admins_adding_the_same_email_at_once_get_a_409_and_no_hash_is_logged(
    admin, engine, accounts, caplog
):
    """The reported race: the request's check passes, another insert commits first, the unique constraint
    fires. The answer is a 409 envelope (not a 500), and no log record or response shows an argon2 hash."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # SQLAlchemy logs statements and parameters
    csrf = _csrf(admin)
    reached = threading.Event()
    answer: dict[str, Any] = {}

    def watch(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        if sql.lstrip().upper().startswith("INSERT INTO USERS"):
            reached.set()

    def add() -> None:
        answer["response"] = admin.post("/api/v1/users", json=NEW, headers={"x-csrf-token": csrf})

    with engine.connect() as other_admin:
        transaction = other_admin.begin()
        other_admin.execute(insert(users).values(
            tenant_id=accounts["acme_admin"].tenant_id, email=NEW["email"], role="member",
            password_hash=hash_password(PASSWORD), created_at=dt.datetime.now(dt.UTC)))  # fmt: skip
        event.listen(engine, "before_cursor_execute", watch)
        request = threading.Thread(target=add)
        request.start()
        try:
            assert reached.wait(30), "the request never reached its insert"
            transaction.commit()
        finally:
            request.join(60)
            event.remove(engine, "before_cursor_execute", watch)
    response = answer["response"]
    assert response.status_code == 409
    assert response.json() == {"error": {"type": "conflict", "message": (
        "A user with this email already exists; sign in or pick another email.")}}  # fmt: skip
    assert caplog.records, "nothing was logged at all: the capture is not working"
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "INSERT INTO users" in logged  # the SQL log was captured, with its parameters hidden
    assert "$argon2" not in logged and "$argon2" not in response.text

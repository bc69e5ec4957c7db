"""Server-side sessions: sign-out, a password change, a role change and a removal end sessions at once."""

from __future__ import annotations

import datetime as dt
import threading

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from usageledger.store.accounts import count_users
from usageledger.store.tables import web_sessions
from usageledger.web import SESSION_COOKIE

from .conftest import CSRF_RE, PASSWORD, bearer

HOME = "/settings/integrations"
NEW_PASSWORD = "a brand new passphrase"


def _browser(app) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def _csrf(client, path: str = HOME) -> str:  # type: ignore[no-untyped-def]
    match = CSRF_RE.search(client.get(path).text)
    assert match, path
    return match.group(1)


def _signed_in(client) -> bool:  # type: ignore[no-untyped-def]
    response = client.get(HOME)
    assert response.status_code in (200, 303)
    return response.status_code == 200


def test_a_copied_cookie_is_worthless_after_sign_out(admin):
    """The reported attack: save the cookie, sign out, replay it: signed out."""
    copied = admin.cookies.get(SESSION_COOKIE)
    assert _signed_in(admin)
    assert admin.post("/logout", data={"csrf_token": _csrf(admin)}).status_code == 303
    admin.cookies.clear()
    admin.cookies.set(SESSION_COOKIE, copied)
    assert not _signed_in(admin)
    assert admin.get("/api/v1/me").status_code == 401


def test_the_cookie_holds_no_user_id(admin, engine):
    """Who is signed in lives in the database: one web_sessions row per sign-in, nothing in the cookie."""
    import base64
    import json

    payload = admin.cookies.get(SESSION_COOKIE).split(".")[0]
    session = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    assert "user_id" not in session and set(session) <= {"session_token", "csrf_token", "flash"}
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(web_sessions)).scalar_one() == 1


def test_changing_your_password_ends_your_other_sessions(app, admin, accounts, login, tokens):
    """The browser that changed it stays signed in (with a new session); every other one is signed out."""
    other = _browser(app)
    login(other, accounts["acme_admin"].email)
    before = admin.cookies.get(SESSION_COOKIE)
    changed = admin.post("/settings/password", data={"csrf_token": _csrf(admin, "/settings/password"),
                         "current_password": PASSWORD, "new_password": NEW_PASSWORD,
                         "new_password_confirm": NEW_PASSWORD})  # fmt: skip
    assert changed.status_code == 303 and changed.headers["location"] == "/overview"
    assert "signed out everywhere else" in admin.get("/overview").text and _signed_in(admin)
    assert not _signed_in(other)
    replay = _browser(app)
    replay.cookies.set(SESSION_COOKIE, before)
    assert not _signed_in(replay)  # the changing browser's old session was rotated away
    # tokens are separate credentials: they keep working until an admin revokes them
    assert admin.get("/api/v1/me", headers=bearer(tokens["acme_admin"])).status_code == 200
    login(other, accounts["acme_admin"].email, NEW_PASSWORD)
    assert _signed_in(other)


def test_password_form_errors_stay_in_place(member):
    """Wrong current password, differing or short new ones: 400 on the form, never a 500; nothing changes."""
    token = _csrf(member, "/settings/password")
    cases = [
        ({"current_password": "not my password", "new_password": NEW_PASSWORD,
          "new_password_confirm": NEW_PASSWORD}, "current password is not right"),
        ({"current_password": PASSWORD, "new_password": NEW_PASSWORD,
          "new_password_confirm": NEW_PASSWORD + "x"}, "differ"),
        ({"current_password": PASSWORD, "new_password": "short", "new_password_confirm": "short"}, "at least 10"),
        ({"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}, "current password is not right"),
    ]  # fmt: skip
    for form, message in cases:
        response = member.post("/settings/password", data={"csrf_token": token, **form})
        assert response.status_code == 400 and message in response.text, message
        assert PASSWORD not in response.text
    assert _signed_in(member)


def test_everyone_finds_the_password_page_in_the_user_menu(member):
    """The header links to the password page for members too."""
    assert 'href="/settings/password"' in member.get(HOME).text
    assert member.get("/settings/password").status_code == 200


def test_a_role_change_signs_the_user_out_and_revokes_their_tokens(admin, member, accounts, tokens):
    """An admin promotes the member: the member's open session and access token stop working at once."""
    headers = bearer(tokens["acme_member"])
    assert _signed_in(member) and admin.get("/api/v1/me", headers=headers).status_code == 200
    changed = admin.post(f"/settings/users/{accounts['acme_member'].user_id}/role",
                         data={"csrf_token": _csrf(admin), "role": "admin"})  # fmt: skip
    assert changed.status_code == 303
    assert not _signed_in(member)
    assert admin.get("/api/v1/me", headers=headers).status_code == 401
    assert admin.get("/api/v1/me", headers=bearer(tokens["acme_admin"])).status_code == 200


def test_a_removed_user_is_signed_out_at_once(admin, member, accounts, tokens):
    """Removing the member ends their session and token on their very next request."""
    removed = admin.post(f"/settings/users/{accounts['acme_member'].user_id}/delete",
                         data={"csrf_token": _csrf(admin)})  # fmt: skip
    assert removed.status_code == 303
    assert not _signed_in(member)
    assert member.get("/api/v1/me", headers=bearer(tokens["acme_member"])).status_code == 401
    page = admin.get("/settings/users").text
    assert "Removed acme.member@example.com" in page and "<td>acme.member@example.com</td>" not in page


def test_an_idle_session_expires(admin, engine):
    """A session unused for longer than the idle timeout (12 h) is signed out, and its row deleted."""
    with engine.begin() as conn:
        conn.execute(
            update(web_sessions).values(last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=13))
        )
    assert not _signed_in(admin)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(web_sessions)).scalar_one() == 0


def test_a_session_past_its_lifetime_expires(admin, engine):
    """However recently used, a session past its absolute lifetime is signed out."""
    with engine.begin() as conn:
        conn.execute(
            update(web_sessions).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    assert not _signed_in(admin)


def test_sign_in_cleans_up_expired_sessions(app, admin, engine, accounts, login):
    """Expired rows do not pile up: the next sign-in of anyone deletes them."""
    with engine.begin() as conn:
        conn.execute(update(web_sessions).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1)))
    login(_browser(app), accounts["acme_member"].email)
    with engine.connect() as conn:
        user_ids = conn.execute(select(web_sessions.c.user_id)).scalars().all()
    assert user_ids == [accounts["acme_member"].user_id]


def test_two_simultaneous_first_runs_make_one_admin(app, engine):
    """Two browsers submit first-run setup at the same instant: one admin; the other is sent to sign in."""
    browsers = [_browser(app), _browser(app)]
    forms = [{"csrf_token": _csrf(b, "/setup"), "workspace": "Acme", "email": f"admin{i}@example.com",
              "password": PASSWORD, "password_confirm": PASSWORD} for i, b in enumerate(browsers)]  # fmt: skip
    barrier = threading.Barrier(2)
    answers: list[str] = ["", ""]

    def submit(i: int) -> None:
        barrier.wait()
        answers[i] = browsers[i].post("/setup", data=forms[i]).headers["location"]

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(answers) == ["/login", HOME]
    with engine.connect() as conn:
        assert count_users(conn) == 1

"""Sign-in, first run, sessions, CSRF, login throttling and the security headers."""

from __future__ import annotations

import re

import pytest

from usageledger.web import SESSION_COOKIE
from usageledger.web.login_limits import LoginPolicy, LoginThrottle, SignInRefused

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
EXPECTED_HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


def _csrf(client, path: str) -> str:
    match = CSRF_RE.search(client.get(path).text)
    assert match, path
    return match.group(1)


def test_first_run_creates_workspace_and_admin(app):
    """With no user, / leads to the first-run page; it creates the workspace and signs its admin in."""
    from fastapi.testclient import TestClient

    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/").headers["location"] == "/setup"
        assert client.get("/login").headers["location"] == "/setup"
        token = _csrf(client, "/setup")
        form = {"csrf_token": token, "workspace": "Acme", "email": "ada@example.com",
                "password": PASSWORD, "password_confirm": PASSWORD}  # fmt: skip
        mismatch = client.post("/setup", data={**form, "password_confirm": "something else"})
        assert mismatch.status_code == 400 and "passwords differ" in mismatch.text
        done = client.post("/setup", data=form)
        assert done.status_code == 303 and done.headers["location"] == "/settings/integrations"
        page = client.get("/settings/integrations")
        assert page.status_code == 200 and "ada@example.com" in page.text
        # once a user exists, the first-run page is gone
        assert client.get("/setup").headers["location"] == "/login"
        again = client.post("/setup", data={**form, "csrf_token": _csrf(client, "/settings/integrations"),
                                             "email": "eve@example.com"})  # fmt: skip
        assert again.status_code == 303 and again.headers["location"] == "/login"


def test_sign_in_and_out(anon, accounts):
    """Sign-in sets a signed HttpOnly SameSite=Lax cookie; sign-out ends the session."""
    assert anon.get("/settings/integrations").headers["location"].startswith("/login?next=")
    token = _csrf(anon, "/login")
    wrong = anon.post("/login", data={"csrf_token": token, "email": accounts["acme_admin"].email,
                                      "password": "not the password"})  # fmt: skip
    assert wrong.status_code == 400 and "Wrong email or password" in wrong.text
    ok = anon.post("/login", data={"csrf_token": token, "email": accounts["acme_admin"].email,
                                   "password": PASSWORD, "next": "/settings/users"})  # fmt: skip
    assert ok.status_code == 303 and ok.headers["location"] == "/settings/users"
    cookie = ok.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert anon.get("/settings/integrations").status_code == 200
    out = anon.post("/logout", data={"csrf_token": _csrf(anon, "/settings/integrations")})
    assert out.status_code == 303
    assert anon.get("/settings/integrations").status_code == 303


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_sign_in_never_redirects_off_site(anon, accounts, target):
    """`next` only ever points inside usageledger."""
    token = _csrf(anon, "/login")
    ok = anon.post("/login", data={"csrf_token": token, "email": accounts["acme_member"].email,
                                   "password": PASSWORD, "next": target})  # fmt: skip
    assert ok.headers["location"] == "/overview"


def test_a_tampered_session_cookie_is_ignored(anon, accounts, login):
    """The session cookie is signed: changing it signs the user out."""
    login(anon, accounts["acme_admin"].email)
    value = anon.cookies.get(SESSION_COOKIE)
    assert anon.get("/settings/integrations").status_code == 200
    anon.cookies.clear()
    anon.cookies.set(SESSION_COOKIE, value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB"))
    assert anon.get("/settings/integrations").status_code == 303


def test_login_is_rate_limited(anon, accounts):
    """After 5 failures, even the right password is refused for a while with 429."""
    email = accounts["acme_admin"].email
    token = _csrf(anon, "/login")
    for _ in range(5):
        assert (
            anon.post(
                "/login", data={"csrf_token": token, "email": email, "password": "nope nope"}
            ).status_code
            == 400
        )
    blocked = anon.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD})
    assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.text
    assert SESSION_COOKIE not in blocked.headers.get("set-cookie", "") or "user_id" not in blocked.text


def _fail(throttle: LoginThrottle, address: str, email: str) -> None:
    with throttle.attempt(address, email):
        pass  # a wrong password: the attempt stays counted


def _refusal(throttle: LoginThrottle, address: str, email: str) -> SignInRefused | None:
    try:
        with throttle.attempt(address, email) as attempt:
            attempt.succeeded()
    except SignInRefused as refused:
        return refused
    return None


def test_login_throttle_window():
    """An address's failures expire after the window; a success clears the account's count."""
    now = [0.0]
    policy = LoginPolicy(address_limit=3, address_window=60, account_free_failures=2, owner_grace=1)
    throttle = LoginThrottle(policy, clock=lambda: now[0])
    for n in range(3):
        _fail(throttle, "1.2.3.4", f"a{n}@example.com")
    refused = _refusal(throttle, "1.2.3.4", "b@example.com")  # same address, other email
    assert refused is not None and refused.status == 429 and 0 < refused.retry_after <= 60
    assert "from this address" in refused.message
    now[0] = 61
    assert _refusal(throttle, "1.2.3.4", "b@example.com") is None
    _fail(throttle, "1.2.3.4", "c@example.com")
    assert _refusal(throttle, "1.2.3.4", "c@example.com") is None  # the success cleared c's count
    _fail(throttle, "5.6.7.8", "c@example.com")
    _fail(throttle, "5.6.7.8", "C@example.com ")  # the same account, however it is typed
    refused = _refusal(throttle, "5.6.7.8", "c@example.com")
    assert refused is not None and "for this account" in refused.message
    assert _refusal(throttle, "9.9.9.9", "c@example.com") is None  # an address that has not been failing


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_forms_without_the_session_csrf_token_are_refused(admin, token):
    """Every POST form needs the session's CSRF token: missing or wrong is 403 and nothing happens."""
    data = {"name": "sneaky"}
    if token is not None:
        data["csrf_token"] = token
    for path in (
        "/settings/tokens",
        "/logout",
        "/settings/users",
        "/settings/integrations/anthropic/connect",
    ):
        response = admin.post(path, data=data)
        assert response.status_code == 403, path
        assert "expired or did not come from usageledger" in response.text
    assert "sneaky" not in admin.get("/settings/users").text
    assert admin.get("/settings/integrations").status_code == 200  # still signed in


def test_login_form_needs_csrf_too(anon, accounts):
    """Even sign-in checks the CSRF token (login CSRF)."""
    response = anon.post("/login", data={"email": accounts["acme_admin"].email, "password": PASSWORD})
    assert response.status_code == 403


@pytest.mark.parametrize(
    "path", ["/login", "/settings/integrations", "/static/app.css", "/api/v1/connections", "/nope", "/api/v1/nope",
             "/openapi.json", "/docs"],
)  # fmt: skip
def test_security_headers_on_every_response(admin, path):
    """Pages, static files, the API and errors all carry the security headers."""
    response = admin.get(path)
    for name, value in EXPECTED_HEADERS.items():
        if path == "/docs" and name == "content-security-policy":
            assert (
                "script-src 'self';" in response.headers[name]
                and "frame-ancestors 'none'" in response.headers[name]
            )
            continue
        assert response.headers[name].startswith(value), (path, name)


def test_no_inline_script_in_pages(admin, acme_connection):
    """CSP forbids inline scripts, so pages have none (only <script src=…> from /static)."""
    for path in ("/settings/integrations", f"/settings/integrations/connections/{acme_connection}",
                 "/settings/users", "/settings/integrations/anthropic/connect", "/docs"):  # fmt: skip
        html = admin.get(path).text
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag, (path, tag)
        assert " style=" not in html, path
        assert "http://" not in html.replace("http://www.w3.org/2000/svg", ""), path

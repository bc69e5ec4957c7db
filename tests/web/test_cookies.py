"""The session cookie is Secure whenever the app is published over HTTPS."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from usageledger.config import Settings
from usageledger.web import SESSION_COOKIE, create_app

from .conftest import CSRF_RE, PASSWORD


def _session_cookie_header(settings: Settings, engine, email: str) -> str:
    """Sign in and return the Set-Cookie header that carries the session."""
    with TestClient(
        create_app(settings, engine), base_url="https://testserver", follow_redirects=False
    ) as client:
        token = CSRF_RE.search(client.get("/login").text)
        assert token
        response = client.post(
            "/login", data={"csrf_token": token.group(1), "email": email, "password": PASSWORD}
        )
        assert response.status_code == 303
        cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie" and SESSION_COOKIE in v]
    assert cookies
    return cookies[-1]


@pytest.mark.parametrize(
    ("public_url", "secure_cookies", "secure"),
    [
        (None, None, False),
        ("http://127.0.0.1:8000", None, False),
        ("https://usage.example.com", None, True),
        ("HTTPS://usage.example.com/", None, True),
        ("https://usage.example.com", False, False),
        (None, True, True),
    ],
)
def test_session_cookie_is_secure_when_served_over_https(
    settings, engine, accounts, public_url, secure_cookies, secure
):
    """An https public URL turns Secure on by default; the explicit setting wins either way."""
    configured = settings.model_copy(update={"public_url": public_url, "secure_cookies": secure_cookies})
    header = _session_cookie_header(configured, engine, accounts["acme_admin"].email)
    assert ("secure" in [part.strip().lower() for part in header.split(";")]) is secure
    assert "httponly" in header.lower()

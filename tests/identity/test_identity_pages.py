"""The Identity settings page without a browser: SCIM tokens shown once and logged without the secret, the
CSV upload → preview → apply, and members kept out."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from usageledger.store.people import all_people
from usageledger.store.tables import events

CSV = "email,name,team,cost_center\nann@acme.io,Ann Lee,Platform,CC-1\nbob@acme.io,Bob Ray,Data,\n"


def _events(engine, kind: str) -> list:
    with engine.connect() as conn:
        return conn.execute(select(events).where(events.c.kind == kind)).all()


def test_members_get_403_on_every_identity_route(member):
    token = member.csrf("/settings/password")
    assert member.get("/settings/identity").status_code == 403
    for path in ("/settings/identity/scim-tokens", "/settings/identity/import", "/settings/identity/import/apply",
                 "/settings/identity/scim-tokens/1/revoke"):  # fmt: skip
        response = member.post(path, data={"csrf_token": token, "name": "x", "content": CSV})
        assert response.status_code == 403, path
    assert "Identity" not in member.get("/settings/password").text.split("<main")[0]


def test_page_shows_the_scim_endpoint_and_a_nav_link(admin):
    page = admin.get("/settings/identity")
    assert page.status_code == 200
    assert "http://testserver/scim/v2" in page.text
    assert 'href="/settings/identity"' in page.text


def test_scim_token_is_shown_once_then_only_its_hint_and_never_in_the_event_log(admin, engine):
    created = admin.post("/settings/identity/scim-tokens", data={"csrf_token": admin.csrf(), "name": "Okta"})
    assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
    token = re.search(r"ulscim_[A-Za-z0-9_-]{40,}", created.text).group(0)
    later = admin.get("/settings/identity").text
    assert token not in later and f"…{token[-4:]}" in later
    logged = _events(engine, "scim_token_created")
    assert (
        len(logged) == 1
        and token not in str(tuple(logged[0]))
        and "acme.admin@example.com" in logged[0].message
    )
    assert sum(token.encode() in body for body in admin.bodies) == 1
    # The token works on the SCIM surface, until it is revoked from the page.
    assert admin.get("/scim/v2/Users", headers={"authorization": f"Bearer {token}"}).status_code == 200
    token_id = re.search(r"/settings/identity/scim-tokens/(\d+)/revoke", later).group(1)
    revoked = admin.post(
        f"/settings/identity/scim-tokens/{token_id}/revoke", data={"csrf_token": admin.csrf()}
    )
    assert revoked.status_code == 303
    assert admin.get("/scim/v2/Users", headers={"authorization": f"Bearer {token}"}).status_code == 401
    assert len(_events(engine, "scim_token_revoked")) == 1


def test_forms_without_the_csrf_token_are_refused(admin):
    assert admin.post("/settings/identity/scim-tokens", data={"name": "Okta"}).status_code == 403
    files = {"file": ("people.csv", CSV.encode(), "text/csv")}
    assert admin.post("/settings/identity/import", files=files).status_code == 403


def test_upload_preview_then_apply(admin, engine, accounts):
    """The preview lists the changes and writes nothing; Apply carries the same content and writes it once."""
    files = {"file": ("people.csv", CSV.encode(), "text/csv")}
    preview = admin.post("/settings/identity/import", data={"csrf_token": admin.csrf()}, files=files)
    assert preview.status_code == 200, preview.text
    assert "ann@acme.io" in preview.text and "create" in preview.text and "Platform" in preview.text
    with engine.connect() as conn:
        assert all_people(conn, accounts["acme_admin"].tenant_id) == []
    carried = html.unescape(
        re.search(r'<textarea name="content"[^>]*>(.*?)</textarea>', preview.text, re.S).group(1)
    )
    assert carried == CSV
    token = re.search(r'name="csrf_token" value="([^"]+)"', preview.text).group(1)
    applied = admin.post("/settings/identity/import/apply", data={"csrf_token": token, "content": carried})
    assert applied.status_code == 303
    with engine.connect() as conn:
        emails = sorted(p.fields.email for p in all_people(conn, accounts["acme_admin"].tenant_id))
    assert emails == ["ann@acme.io", "bob@acme.io"]
    page = admin.get("/settings/identity").text
    assert "Imported: 2 people added" in page and "Ann Lee" in page and "CC-1" in page
    (event,) = _events(engine, "identity_import")
    assert "acme.admin@example.com" in event.message
    again = admin.post("/settings/identity/import/apply", data={"csrf_token": token, "content": carried})
    assert again.status_code == 303 and "Nothing to change" in admin.get("/settings/identity").text
    assert len(_events(engine, "identity_import")) == 1


def test_a_bad_file_shows_every_bad_line_and_no_apply_button(admin, engine, accounts):
    bad = CSV + "not-an-email,X,,\nann@acme.io,Dup,,\n"
    preview = admin.post("/settings/identity/import", data={"csrf_token": admin.csrf()},
                         files={"file": ("p.csv", bad.encode(), "text/csv")})  # fmt: skip
    assert preview.status_code == 400
    assert "2 bad lines" in preview.text and "<td>4</td>" in preview.text and "<td>5</td>" in preview.text
    assert "/import/apply" not in preview.text
    # Applying it anyway (a crafted form) writes nothing.
    applied = admin.post("/settings/identity/import/apply", data={"csrf_token": admin.csrf(), "content": bad})
    assert applied.status_code == 400
    with engine.connect() as conn:
        assert all_people(conn, accounts["acme_admin"].tenant_id) == []


def test_no_file_or_a_binary_file_is_a_clear_message(admin):
    empty = admin.post("/settings/identity/import", data={"csrf_token": admin.csrf()})
    assert empty.status_code == 400 and "Choose a CSV file" in empty.text
    binary = admin.post("/settings/identity/import", data={"csrf_token": admin.csrf()},
                        files={"file": ("p.csv", b"\xff\xfe\x00bad", "text/csv")})  # fmt: skip
    assert binary.status_code == 400 and "not UTF-8" in binary.text


def test_an_oversized_upload_is_413_before_it_is_read(admin):
    big = b"email\n" + b"a@b.io\n" * ((5 * 1024 + 200) * 1024 // 7)
    response = admin.post("/settings/identity/import", data={"csrf_token": admin.csrf()},
                          files={"file": ("p.csv", big, "text/csv")})  # fmt: skip
    assert response.status_code == 413 and "5 MB" in response.text


def test_a_file_just_over_the_limit_is_a_clear_400(admin):
    big = b"email\n" + b"a@b.io\n" * (5 * 1024 * 1024 // 7 + 10)
    response = admin.post("/settings/identity/import", data={"csrf_token": admin.csrf()},
                          files={"file": ("p.csv", big, "text/csv")})  # fmt: skip
    assert response.status_code == 400 and "larger than 5 MB" in response.text

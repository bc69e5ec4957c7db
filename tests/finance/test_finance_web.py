"""Month close over the JSON API and the pages: admins close and enter invoices, members read, bad input is a
clear 400 with nothing written, and every change is in the event log."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from tests.web.conftest import CSRF_RE, bearer
from usageledger.sync import run_sync


def test_months_lists_states_and_last_month_can_be_reconciled(admin, acme_connection, last_month):
    months = admin.get("/api/v1/months?last=3").json()
    assert [m["state"] for m in months][0] == "open" and months[1]["month"] == last_month
    rec = admin.get(f"/api/v1/months/{last_month}").json()
    org = rec["organizations"][0]
    assert rec["state"] in {"provisional", "settled"} and Decimal(org["reported_usd"]) > 0
    assert org["invoiced_usd"] is None and org["difference_usd"] is None


def test_close_with_a_lower_invoice_explains_credits(admin, acme_connection, last_month, tokens):
    reported = Decimal(admin.get(f"/api/v1/months/{last_month}").json()["reported_usd"])
    invoiced = (reported - Decimal("12.5")).quantize(Decimal("0.01"))
    closed = admin.post(f"/api/v1/months/{last_month}/close", json={"invoiced_usd": str(invoiced)},
                        headers={"authorization": f"Bearer {tokens['acme_admin']}"})  # fmt: skip
    assert closed.status_code == 200, closed.text
    org = closed.json()["organizations"][0]
    assert org["state"] == "closed" and Decimal(org["difference_usd"]) == invoiced - reported
    assert "credits" in {r["code"] for r in org["reasons"]}
    again = admin.post(f"/api/v1/months/{last_month}/close", headers=bearer(tokens["acme_admin"]))
    assert again.status_code == 409 and "already closed" in again.json()["error"]["message"]
    kinds = [e["kind"] for e in admin.get("/api/v1/events").json()["events"]]
    assert {"month_closed", "invoice_entered"} <= set(kinds)


def test_a_higher_invoice_names_charges_the_cost_report_leaves_out(
    admin, acme_connection, last_month, tokens
):
    reported = Decimal(admin.get(f"/api/v1/months/{last_month}").json()["reported_usd"])
    put = admin.put(f"/api/v1/months/{last_month}/invoice", json={"invoiced_usd": f"${reported + 100:,.2f}"},
                    headers=bearer(tokens["acme_admin"]))  # fmt: skip
    assert put.status_code == 200, put.text
    org = put.json()["organizations"][0]
    assert org["state"] != "closed" and "charges_not_in_cost_report" in {r["code"] for r in org["reasons"]}


def test_members_read_but_cannot_close(member, acme_connection, last_month, tokens):
    assert member.get(f"/api/v1/months/{last_month}").status_code == 200
    refused = member.post(f"/api/v1/months/{last_month}/close", headers=bearer(tokens["acme_member"]))
    assert refused.status_code == 403
    page = member.get(f"/finance/months/{last_month}")
    assert page.status_code == 200 and "Save invoiced amount" not in page.text and "Download" in page.text


def test_bad_invoice_csv_names_each_line_and_writes_nothing(admin, acme_connection, last_month, tokens):
    org = admin.get(f"/api/v1/months/{last_month}").json()["organizations"][0]["organization_id"]
    text = (f"organization_id,month,invoiced_usd\n{org},{last_month},100.00\n{org},2026-13,5\n"
            f"org_nope,{last_month},1\n{org},{last_month},ten\n")  # fmt: skip
    bad = admin.post("/api/v1/invoices", json={"csv": text}, headers=bearer(tokens["acme_admin"]))
    assert bad.status_code == 400
    message = bad.json()["error"]["message"]
    assert "line 3" in message and "line 4" in message and "line 5" in message and "line 2" not in message
    assert admin.get(f"/api/v1/months/{last_month}").json()["invoiced_usd"] is None
    good = admin.post("/api/v1/invoices", json={"csv": f"organization_id,month,invoiced_usd\n{org},{last_month},100.00\n"},
                      headers=bearer(tokens["acme_admin"]))  # fmt: skip
    assert good.status_code == 200 and good.json() == {"imported": 1}
    assert admin.get(f"/api/v1/months/{last_month}").json()["invoiced_usd"] == "100.00000000"


def test_the_month_page_keeps_what_was_typed_on_a_bad_amount(admin, acme_connection, last_month):
    page = admin.get(f"/finance/months/{last_month}")
    token = CSRF_RE.search(page.text).group(1)
    org = re.search(r'data-organization="([^"]+)"', page.text).group(1)
    bad = admin.post(f"/finance/months/{last_month}/close",
                     data={"csrf_token": token, "organization_id": org, "invoiced_usd": "12,34.5x"})  # fmt: skip
    assert bad.status_code == 400 and "12,34.5x" in bad.text and "US dollars" in bad.text
    assert admin.get(f"/api/v1/months/{last_month}").json()["state"] != "closed"


def test_an_open_month_cannot_be_closed(admin, acme_connection, tokens):
    months = admin.get("/api/v1/months?last=1").json()
    refused = admin.post(f"/api/v1/months/{months[0]['month']}/close", headers=bearer(tokens["acme_admin"]))
    assert refused.status_code == 400 and "has not ended" in refused.json()["error"]["message"]


def test_the_months_page_offers_a_focus_download(admin, acme_connection, last_month):
    page = admin.get("/finance/months")
    assert page.status_code == 200 and f'data-month="{last_month}"' in page.text
    assert 'action="/api/v1/exports/focus"' in page.text
    download = admin.get(f"/api/v1/exports/focus?period={last_month}&format=csv")
    assert download.status_code == 200 and download.text.startswith("BilledCost,")


def test_another_workspace_neither_sees_nor_closes_acme_months(
    outsider, admin, acme_connection, last_month, tokens
):
    org = admin.get(f"/api/v1/months/{last_month}").json()["organizations"][0]["organization_id"]
    assert outsider.get(f"/api/v1/months/{last_month}").json()["organizations"] == []
    refused = outsider.post(f"/api/v1/months/{last_month}/close", json={"organization_id": org},
                            headers=bearer(tokens["globex_admin"]))  # fmt: skip
    assert refused.status_code == 400 and org in refused.json()["error"]["message"]
    assert admin.get(f"/api/v1/months/{last_month}").json()["state"] != "closed"


def test_reopen_over_the_api_is_logged(admin, acme_connection, last_month, tokens):
    auth = bearer(tokens["acme_admin"])
    assert admin.post(f"/api/v1/months/{last_month}/close", headers=auth).json()["state"] == "closed"
    reopened = admin.post(f"/api/v1/months/{last_month}/reopen", headers=auth)
    assert reopened.status_code == 200 and reopened.json()["state"] != "closed"
    again = admin.post(f"/api/v1/months/{last_month}/reopen", headers=auth)
    assert again.status_code == 400 and "is not closed" in again.json()["error"]["message"]
    reopen_events = [e for e in admin.get("/api/v1/events").json()["events"] if e["kind"] == "month_reopened"]
    assert len(reopen_events) == 1 and "acme.admin@example.com" in reopen_events[0]["message"]


def test_the_page_imports_pasted_invoice_lines(admin, acme_connection, last_month):
    page = admin.get(f"/finance/months/{last_month}")
    token = CSRF_RE.search(page.text).group(1)
    org = re.search(r'data-organization="([^"]+)"', page.text).group(1)
    bad = f"organization_id,month,invoiced_usd\n{org},{last_month},12.00\norg_nope,{last_month},1\n"
    refused = admin.post(
        f"/finance/months/{last_month}/import", data={"csrf_token": token, "invoice_csv": bad}
    )
    assert refused.status_code == 400 and "line 3" in refused.text and "org_nope" in refused.text
    assert admin.get(f"/api/v1/months/{last_month}").json()["invoiced_usd"] is None
    good = "\ufeff" + bad.splitlines()[0] + "\n" + bad.splitlines()[1] + "\n"  # pasted with its BOM
    done = admin.post(f"/finance/months/{last_month}/import", data={"csrf_token": token, "invoice_csv": good})
    assert done.status_code == 303 and done.headers["location"] == f"/finance/months/{last_month}"
    assert "Invoiced amounts imported" in admin.get(done.headers["location"]).text
    assert admin.get(f"/api/v1/months/{last_month}").json()["invoiced_usd"] == "12.00000000"


def test_the_page_imports_an_invoice_csv_file_and_shows_a_refused_one_again(
    admin, acme_connection, last_month
):
    """A chosen file (a spreadsheet's CSV: byte-order mark, CRLF) imports like pasted lines; a refused file's
    text comes back in the box, each bad line named; a file that is not UTF-8, or too large, is refused."""
    page = admin.get(f"/finance/months/{last_month}")
    token = CSRF_RE.search(page.text).group(1)
    assert 'enctype="multipart/form-data"' in page.text and 'name="invoice_file"' in page.text
    org = re.search(r'data-organization="([^"]+)"', page.text).group(1)
    url = f"/finance/months/{last_month}/import"

    def upload(content: bytes):
        return admin.post(
            url, data={"csrf_token": token}, files={"invoice_file": ("invoice.csv", content, "text/csv")}
        )

    bad = f"organization_id,month,invoiced_usd\r\n{org},{last_month},34.50\r\norg_nope,{last_month},1\r\n"
    refused = upload(b"\xef\xbb\xbf" + bad.encode())
    assert refused.status_code == 400 and "line 3" in refused.text and "org_nope" in refused.text
    assert f"{org},{last_month},34.50" in refused.text  # shown again in the box, nothing lost
    assert admin.get(f"/api/v1/months/{last_month}").json()["invoiced_usd"] is None
    latin = upload(f"organization_id,month,invoiced_usd\n{org},{last_month},1\n# caf\xe9\n".encode("latin-1"))
    assert latin.status_code == 400 and "not UTF-8" in latin.text
    no_token = admin.post(url, files={"invoice_file": ("invoice.csv", bad.encode(), "text/csv")})
    assert no_token.status_code == 403 and "did not come from usageledger" in no_token.text
    too_large = upload(b"organization_id,month,invoiced_usd\n" + b"x" * (6 * 1024 * 1024))
    assert too_large.status_code == 413
    done = upload(b"\xef\xbb\xbf" + "\r\n".join(bad.split("\r\n")[:2]).encode() + b"\r\n")
    assert done.status_code == 303, done.text
    assert admin.get(f"/api/v1/months/{last_month}").json()["invoiced_usd"] == "34.50000000"


def test_the_overview_names_adjustments_booked_to_its_period(
    admin, acme_connection, last_month, tokens, settings, engine, fake
):
    """A revision of a closed day booked to this month: the overview says how much, beside its figures."""
    assert (
        admin.post(f"/api/v1/months/{last_month}/close", headers=bearer(tokens["acme_admin"])).status_code
        == 200
    )
    assert 'id="adjustments-note"' not in admin.get("/overview?period=this-month").text
    day = dt.date.fromisoformat(f"{last_month}-20")
    fake.revise_days([day])
    run_sync(settings, engine, acme_connection, since=day, until=day, trigger="range")
    this_month = admin.get("/api/v1/months?last=1").json()[0]["organizations"][0]
    note = re.search(r'id="adjustments-note">Not in these figures: <span class="money"[^>]*>([^<]+)<',
                     admin.get("/overview?period=this-month").text)  # fmt: skip
    booked = Decimal(this_month["adjustments_usd"]).quantize(Decimal("0.01"))
    assert note and booked != 0 and note.group(1) == f"{'-' if booked < 0 else ''}${abs(booked):,}"
    closed = admin.get(f"/overview?period={last_month}").text
    assert (
        'id="adjustments-note"' not in closed
    )  # the closed month's figures are frozen, nothing booked to it

"""Budgets and alerts in the web app: the JSON API, the pages, roles, bad input (SQLite)."""

from __future__ import annotations

from tests.web.conftest import bearer


def _org(admin) -> str:
    return admin.get("/api/v1/overview").json()["organizations"][0]["id"]


def test_admins_create_budgets_members_read_and_alerts_are_raised_once(
    admin, member, tokens, acme_connection
) -> None:
    """POST as admin: 201 with actual and forecast; the member reads it; crossed thresholds alert once."""
    org = _org(admin)
    headers = bearer(tokens["acme_admin"])
    created = admin.post("/api/v1/budgets", json={"subject_type": "organization", "subject_id": org,
                                                  "amount_usd": "0.01", "thresholds": [50, 100]}, headers=headers)  # fmt: skip
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["state"] == "over" and body["thresholds"] == [50, 100] and body["forecast"]["method"]
    listed = member.get("/api/v1/budgets", headers=bearer(tokens["acme_member"])).json()
    assert [b["id"] for b in listed["budgets"]] == [body["id"]]
    assert {s["scope_type"] for s in listed["spend_limits"]} == {"organization", "usage_tier", "workspace"}
    # Anthropic's organization limit is set against the organization's spend, the same figure as the overview's
    org_limit = next(s for s in listed["spend_limits"] if s["scope_type"] == "organization")
    spent = admin.get("/api/v1/overview", headers=headers).json()["forecast"]["spent_usd"]
    assert org_limit["amount"] == "50000.00" and org_limit["this_month"]["spent_usd"] == spent
    assert next(s for s in listed["spend_limits"] if s["amount"] is None)["this_month"] is None  # no cap
    alerts = member.get("/api/v1/alerts", headers=bearer(tokens["acme_member"])).json()["alerts"]
    assert sorted(a["threshold_pct"] for a in alerts if a["kind"] == "budget") == [50, 100]
    again = admin.patch(f"/api/v1/budgets/{body['id']}", json={"thresholds": [50, 100]}, headers=headers)
    assert again.status_code == 200
    assert len(admin.get("/api/v1/alerts", headers=headers).json()["alerts"]) == len(
        alerts
    )  # same crossings: no new ones
    refused = member.post("/api/v1/budgets", json={"subject_type": "model", "subject_id": "x", "amount_usd": "5"},
                          headers=bearer(tokens["acme_member"]))  # fmt: skip
    assert refused.status_code == 403
    assert (
        member.delete(f"/api/v1/budgets/{body['id']}", headers=bearer(tokens["acme_member"])).status_code
        == 403
    )
    assert admin.delete(f"/api/v1/budgets/{body['id']}", headers=headers).status_code == 204
    still_open = admin.get("/api/v1/alerts?state=open", headers=headers).json()["alerts"]
    assert [a for a in still_open if a["kind"] == "budget"] == []


def test_bad_input_is_the_error_envelope_and_other_tenants_see_nothing(
    admin, outsider, tokens, acme_connection
) -> None:
    """Bad amount or subject: 400 envelope; a taken subject: 409; another workspace's budget: 404 and not listed."""
    headers = bearer(tokens["acme_admin"])
    for body in ({"subject_type": "planet", "subject_id": "x", "amount_usd": "5"},
                 {"subject_type": "model", "subject_id": "x", "amount_usd": "NaN"},
                 {"subject_type": "model", "subject_id": "x", "amount_usd": "5.001"}):  # fmt: skip
        answer = admin.post("/api/v1/budgets", json=body, headers=headers)
        assert answer.status_code == 400 and answer.json()["error"]["message"]
    first = admin.post(
        "/api/v1/budgets",
        json={"subject_type": "model", "subject_id": "m", "amount_usd": "5"},
        headers=headers,
    )
    assert first.status_code == 201
    taken = admin.post(
        "/api/v1/budgets",
        json={"subject_type": "model", "subject_id": "m", "amount_usd": "6"},
        headers=headers,
    )
    assert taken.status_code == 409
    theirs = bearer(tokens["globex_admin"])
    assert outsider.get("/api/v1/budgets", headers=theirs).json()["budgets"] == []
    assert (
        outsider.patch(
            f"/api/v1/budgets/{first.json()['id']}", json={"amount_usd": "1"}, headers=theirs
        ).status_code
        == 404
    )


def test_the_pages_show_budget_actual_forecast_and_spend_limits(admin, member, acme_connection) -> None:
    """The admin adds a budget with the form; the budgets page, the overview card and the alerts page show it."""
    org = _org(admin)
    page = admin.get("/budgets")
    assert page.status_code == 200 and "Anthropic spend limits" in page.text and "Usage tier" in page.text
    # the form suggests the known subjects: the organization, its workspaces, keys and models
    assert (
        f'<option value="{org}" data-kind="organization">' in page.text and 'data-kind="model"' in page.text
    )
    bad = admin.post("/budgets", data={"csrf_token": admin.csrf("/budgets"), "subject_type": "organization",
                                       "subject_id": org, "amount": "lots", "thresholds": "50,80,100"})  # fmt: skip
    assert bad.status_code == 400 and "is not a number" in bad.text and 'value="lots"' in bad.text
    added = admin.post("/budgets", data={"csrf_token": admin.csrf("/budgets"), "subject_type": "organization",
                                         "subject_id": org, "amount": "0.01", "thresholds": "50,80,100"})  # fmt: skip
    assert added.status_code == 303 and added.headers["location"] == "/budgets"
    shown = admin.get("/budgets")
    assert "Over budget" in shown.text and "new alert(s)" in shown.text
    overview = member.get("/overview")
    assert 'id="budget-card"' in overview.text and "Over budget" in overview.text
    alerts = member.get("/alerts")
    assert alerts.status_code == 200 and alerts.text.count("of its 0.01 USD budget") == 3
    assert member.get("/alerts?state=maybe").status_code == 400
    assert "Add a budget" not in member.get("/budgets").text
    refused = member.post("/budgets", data={"csrf_token": member.csrf("/budgets"), "subject_type": "model",
                                            "subject_id": "x", "amount": "5"})  # fmt: skip
    assert refused.status_code == 403
    kinds = {e["kind"] for e in admin.get("/api/v1/events").json()["events"]}
    assert {"budget_changed", "alert"} <= kinds  # every change and every alert is in the event log

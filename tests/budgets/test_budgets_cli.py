"""`usageledger budgets` and `usageledger alerts` against a synced fake organization (SQLite and PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal


def _budget_alerts(cli, *options: str) -> list[dict]:
    """The budgets' alerts (the fake's spend may also near Anthropic's own limits: kind spend_limit)."""
    found = cli("alerts", "list", "--json", "--kind", "budget", *options).json()
    assert {a["kind"] for a in found} <= {"budget"}
    return found


def test_a_budget_below_this_months_spend_alerts_once_across_syncs(fake, connected, cli) -> None:
    """Created under what is spent: 50/80/100 % alert at once; a later sync raises nothing new."""
    org = fake.organization.id
    created = cli("budgets", "create", "--on", "organization", "--id", org, "--amount", "0.01", "--json")
    assert created.exit_code == 0, created.err
    budget = created.json()[0]
    assert budget["amount_usd"].startswith("0.01") and budget["state"] == "over"
    assert Decimal(budget["actual_usd"]) > Decimal("0.01")
    assert "Alert:" in created.err
    alerts = _budget_alerts(cli)
    assert sorted((a["basis"], a["threshold_pct"]) for a in alerts) == [
        ("actual", 50),
        ("actual", 80),
        ("actual", 100),
    ]
    assert cli("sync").exit_code == 0
    assert len(_budget_alerts(cli)) == 3  # once per crossing, not once per sync
    table = cli("budgets", "list")
    assert table.exit_code == 0 and "over" in table.out


def test_update_and_delete_resolve_and_every_change_is_an_event(fake, connected, cli) -> None:
    """Raising the amount resolves the alerts it undoes; delete resolves the rest; three budget_changed events."""
    org = fake.organization.id
    budget_id = cli(
        "budgets", "create", "--on", "organization", "--id", org, "--amount", "0.01", "--json"
    ).json()[0]["id"]
    raised = cli(
        "budgets", "update", str(budget_id), "--amount", "1000000000", "--thresholds", "90,100", "--json"
    )
    assert raised.exit_code == 0, raised.err
    assert raised.json()[0]["thresholds"] == [90, 100]
    assert _budget_alerts(cli, "--state", "open") == []
    assert cli("budgets", "delete", str(budget_id)).exit_code == 0
    assert cli("budgets", "list", "--json").json() == []
    changes = [e for e in cli("events", "--json").json() if e["kind"] == "budget_changed"]
    assert len(changes) == 3


def test_bad_input_is_a_message_and_exit_2(fake, connected, cli) -> None:
    """A bad subject, amount or threshold: a sentence on stderr, exit 2, nothing stored; a missing id: exit 6."""
    for args in (["--on", "planet", "--id", "x", "--amount", "5"],
                 ["--on", "model", "--id", "claude-x", "--amount", "-5"],
                 ["--on", "model", "--id", "claude-x", "--amount", "five"],
                 ["--on", "model", "--id", "claude-x", "--amount", "5", "--thresholds", "50,abc"]):  # fmt: skip
        result = cli("budgets", "create", *args)
        assert result.exit_code == 2 and "Traceback" not in result.err and result.err.strip()
    assert cli("budgets", "list", "--json").json() == []
    assert cli("budgets", "update", "999", "--amount", "5").exit_code == 6
    assert cli("alerts", "list", "--state", "maybe").exit_code == 2


def test_the_demo_budget_is_set_near_the_organizations_pace(fake, connected, cli) -> None:
    """The demo's budget: whole hundreds of dollars, below the month-end forecast, so the demo shows warnings."""
    from usageledger.cli.budgets import seed_demo_budget
    from usageledger.cli.context import AppContext
    from usageledger.config import Settings

    actx = AppContext(Settings())
    try:
        seed_demo_budget(actx, fake.organization.id)
    finally:
        actx.close()
    [budget] = cli("budgets", "list", "--json").json()
    assert budget["subject_id"] == fake.organization.id
    assert Decimal(budget["amount_usd"]) % 100 == 0 and Decimal(budget["amount_usd"]) > 0
    assert Decimal(budget["forecast"]["high_usd"]) > Decimal(budget["amount_usd"]) * Decimal("0.8")

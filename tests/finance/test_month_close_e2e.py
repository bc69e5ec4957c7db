"""Month close end to end (the fake synced by the real CLI), on SQLite and PostgreSQL: a closed month is
frozen, a later revision of one of its days becomes an adjustment in the next open month and an event."""

# ruff: noqa: F811  (the end-to-end fixtures are imported and used as arguments)

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

from tests.e2e.conftest import cli, cli_env, connected, fake, running_fake  # noqa: F401


def _months(fake) -> tuple[dt.date, dt.date]:
    """(last month's first day, this month's first day) on the fake's clock."""
    this = fake.today.replace(day=1)
    return (this - dt.timedelta(days=1)).replace(day=1), this


def _reconcile(cli, month: dt.date) -> dict:
    result = cli("reconcile", f"{month:%Y-%m}", "--json")
    assert result.exit_code == 0, result.err
    return result.json()


def _cost(cli, month: dt.date) -> Decimal:
    rows = cli("cost", "--period", f"{month:%Y-%m}", "--group-by", "month", "--format", "json").json()
    return sum((Decimal(r["amount_usd"]) for r in rows), Decimal(0))


def _focus_billed(cli, month: dt.date) -> tuple[Decimal, list[dict[str, str]]]:
    exported = cli("export", "focus", "--period", f"{month:%Y-%m}")
    assert exported.exit_code == 0, exported.err
    rows = list(csv.DictReader(io.StringIO(exported.out)))
    return sum((Decimal(r["BilledCost"]) for r in rows), Decimal(0)), rows


def test_a_revision_after_close_is_an_adjustment_in_the_next_open_month(cli, fake, connected):
    """Close last month; the fake revises one of its days; the sync books the delta to this month."""
    last, this = _months(fake)
    before = _reconcile(cli, last)
    assert before["state"] in {"provisional", "settled"}
    closed = cli("close", f"{last:%Y-%m}", "--invoiced", before["reported_usd"])
    assert closed.exit_code == 0, closed.err
    assert "matches" in closed.out and "closed" in closed.out
    frozen_cost, (frozen_focus, _) = _cost(cli, last), _focus_billed(cli, last)
    this_before = _reconcile(cli, this)

    day = last + dt.timedelta(days=20)
    old_truth = sum((r.amount_cents for r in fake.truth_cost(day, day + dt.timedelta(days=1))), Decimal(0))
    fake.revise_days([day])
    new_truth = sum((r.amount_cents for r in fake.truth_cost(day, day + dt.timedelta(days=1))), Decimal(0))
    assert new_truth != old_truth
    synced = cli("sync", "--since", day.isoformat(), "--until", day.isoformat())
    assert synced.exit_code == 0, synced.err

    after = _reconcile(cli, last)
    assert after["state"] == "closed" and after["reported_usd"] == before["reported_usd"]
    assert _cost(cli, last) == frozen_cost and _focus_billed(cli, last)[0] == frozen_focus
    now = _reconcile(cli, this)["organizations"][0]
    delta = Decimal(now["adjustments_usd"])
    assert abs(delta - (new_truth - old_truth) / 100) < Decimal("0.0001")  # stored per row to the micro-cent
    assert Decimal(now["reported_usd"]) - Decimal(now["stored_usd"]) == delta
    assert Decimal(this_before["organizations"][0]["adjustments_usd"]) == 0
    # `cost`'s table is the stored cost: it says beneath it what the adjustments booked to its range add.
    note = re.search(
        r"Not in these figures: (-?)\$([\d,.]+) of adjustments", cli("cost", "--period", f"{this:%Y-%m}").out
    )
    assert note and Decimal(note.group(1) + note.group(2).replace(",", "")) == delta.quantize(Decimal("0.01"))
    assert "Not in these figures" not in cli("cost", "--period", f"{last:%Y-%m}").out  # frozen: none booked
    assert "Not in these figures" not in cli("cost", "--period", f"{this:%Y-%m}", "--format", "csv").out
    revised = after["organizations"][0]["reasons"]
    assert any(r["code"] == "revised_after_close" and f"{this:%Y-%m}" in r["text"] for r in revised)

    events = [e for e in cli("events", "--json").json() if e["kind"] == "adjustment"]
    assert len(events) == 1 and day.isoformat() in events[0]["message"]
    assert {"month_closed", "invoice_entered"} <= {e["kind"] for e in cli("events", "--json").json()}

    # FOCUS: this month's BilledCost adds up to its reported cost, the adjustment included, to the cent.
    billed, rows = _focus_billed(cli, this)
    assert billed == Decimal(now["reported_usd"])
    adjustments = [r for r in rows if r["ChargeCategory"] == "Adjustment"]
    assert adjustments and all(r["ChargePeriodStart"].startswith(day.isoformat()) for r in adjustments)
    assert sum(Decimal(r["BilledCost"]) for r in adjustments) == delta

    # The same revision fetched again books nothing more.
    again = cli("sync", "--since", day.isoformat(), "--until", day.isoformat())
    assert again.exit_code == 0, again.err
    assert Decimal(_reconcile(cli, this)["organizations"][0]["adjustments_usd"]) == delta
    assert len([e for e in cli("events", "--json").json() if e["kind"] == "adjustment"]) == 1


def test_a_closed_month_cannot_be_reopened_once_revisions_were_booked(cli, fake, connected):
    last, _ = _months(fake)
    assert cli("close", f"{last:%Y-%m}").exit_code == 0
    day = last + dt.timedelta(days=20)
    fake.revise_days([day])
    assert cli("sync", "--since", day.isoformat(), "--until", day.isoformat()).exit_code == 0
    refused = cli("close", f"{last:%Y-%m}", "--reopen")
    assert refused.exit_code == 7 and "count twice" in refused.err
    months = cli("months", "--last", "2")
    assert months.exit_code == 0, months.err
    assert re.search(rf"{last:%Y-%m}\s+.\s*closed", months.out) and "open" in months.out


def test_reopen_lets_the_sync_replace_the_days_again(cli, fake, connected):
    """Closed then reopened (before any revision): a later revision replaces the rows, no adjustment."""
    last, this = _months(fake)
    assert cli("close", f"{last:%Y-%m}").exit_code == 0
    reopened = cli("close", f"{last:%Y-%m}", "--reopen")
    assert reopened.exit_code == 0, reopened.err
    assert "month_reopened" in {e["kind"] for e in cli("events", "--json").json()}
    before = _cost(cli, last)
    day = last + dt.timedelta(days=20)
    fake.revise_days([day])
    assert cli("sync", "--since", day.isoformat(), "--until", day.isoformat()).exit_code == 0
    assert _cost(cli, last) != before
    assert Decimal(_reconcile(cli, this)["organizations"][0]["adjustments_usd"]) == 0

"""The month's state, its reasons and the invoice input, as pure functions on hand-made values."""

from __future__ import annotations

import datetime as dt

import pytest

from usageledger.errors import UsageError
from usageledger.reports.month_actions import parse_invoice_csv, parse_usd
from usageledger.reports.month_close import OrganizationMonth, _fill, plan_reasons

OCT = dt.date(2026, 10, 1)
DOLLAR = 100_000_000  # micro-cents


def _line(**values: object) -> OrganizationMonth:
    line = OrganizationMonth(1, "Acme", "org_1", "Acme", OCT)
    for name, value in values.items():
        setattr(line, name, value)
    return line


def _days(amount: int) -> dict[dt.date, int]:
    return {OCT + dt.timedelta(days=i): amount for i in range(31)}


@pytest.mark.parametrize(
    ("today", "cursor", "state", "provisional_days"),
    [
        (dt.date(2026, 10, 15), dt.date(2026, 10, 15), "open", 3),  # not ended: today and the lookback
        (dt.date(2026, 11, 1), dt.date(2026, 11, 1), "provisional", 2),  # 30 and 31 Oct still re-fetched
        (dt.date(2026, 11, 3), dt.date(2026, 11, 3), "settled", 0),  # past the 3-day lookback
        (dt.date(2026, 11, 20), dt.date(2026, 10, 29), "provisional", 3),  # 29-31 Oct never synced
    ],
)
def test_a_months_state_follows_the_lookback_and_the_cursor(today, cursor, state, provisional_days):
    line = _line()
    provisional_from = today - dt.timedelta(days=2)  # lookback 3: today and the 2 days before
    _fill(line, _days(DOLLAR), provisional_from, cursor, today)
    assert (line.state, line.provisional_days) == (state, provisional_days)
    assert line.provisional_microcents == provisional_days * DOLLAR
    assert line.stored_microcents == 31 * DOLLAR  # every stored day, provisional or not


def test_a_lower_invoice_names_credits_and_the_provisional_days():
    line = _line(stored_microcents=100 * DOLLAR, invoiced_microcents=90 * DOLLAR, provisional_days=2,
                 provisional_from=dt.date(2026, 10, 30), provisional_microcents=7 * DOLLAR)  # fmt: skip
    reasons = {r.code: r for r in plan_reasons(line)}
    assert set(reasons) == {"credits", "provisional_days"}
    assert (
        "2 day(s) from 2026-10-30" in reasons["provisional_days"].text
        and "$7.00" in reasons["provisional_days"].text
    )
    assert line.difference_microcents == -10 * DOLLAR


def test_a_higher_invoice_names_charges_left_out_and_revisions_after_close():
    line = _line(stored_microcents=100 * DOLLAR, invoiced_microcents=101 * DOLLAR,
                 adjustments_out_microcents=DOLLAR // 2, adjustments_out_to=["2026-11"])  # fmt: skip
    codes = [r.code for r in plan_reasons(line)]
    assert codes == ["revised_after_close", "charges_not_in_cost_report"]
    assert "+$0.50 booked as adjustments to 2026-11" in plan_reasons(line)[0].text


def test_a_matching_invoice_says_so_and_adjustments_count_in_the_reported_cost():
    line = _line(
        stored_microcents=100 * DOLLAR, adjustments_in_microcents=-DOLLAR, invoiced_microcents=99 * DOLLAR
    )
    assert line.reported_microcents == 99 * DOLLAR and line.difference_microcents == 0
    assert [r.code for r in plan_reasons(line)] == ["matches", "adjustments_included"]


@pytest.mark.parametrize(("typed", "microcents"), [("1234.56", 123_456_000_000), ("$1,234.56", 123_456_000_000),
                                                   ("0", 0), ("0.00000001", 1)])  # fmt: skip
def test_dollars_are_parsed_exactly(typed, microcents):
    assert parse_usd(typed) == microcents


@pytest.mark.parametrize("typed", ["ten", "-5", "NaN", "Infinity", "0.000000001", "1e20", ""])
def test_bad_dollars_are_refused_with_a_message(typed):
    with pytest.raises(UsageError):
        parse_usd(typed)


def test_an_invoice_csv_is_taken_whole_or_not_at_all():
    good = parse_invoice_csv(
        "organization_id,month,invoiced_usd\norg_1,2026-10,10.5\n\norg_1,2026-09,1\n", {"org_1"}
    )
    assert [(line.line, line.month, line.microcents) for line in good] == [
        (2, OCT, 1_050_000_000),
        (4, dt.date(2026, 9, 1), DOLLAR),
    ]
    with pytest.raises(UsageError) as bad:
        parse_invoice_csv("organization_id,month,invoiced_usd\norg_1,2026-10,1\norg_1,2026-10,2\norg_2,2026-10,1\n"
                          "org_1,Oct,1\norg_1,2026-09\n", {"org_1"})  # fmt: skip
    message = bad.value.message
    assert "Nothing was imported" in message
    assert all(f"line {n}" in message for n in (3, 4, 5, 6)) and "line 2:" not in message
    with pytest.raises(UsageError, match="header"):
        parse_invoice_csv("org,month,amount\n", {"org_1"})


@pytest.mark.parametrize("text", ["\r0", "", "organization_id,month,invoiced_usd\n", "\x00,\x00"])
def test_unreadable_or_empty_invoice_files_are_refused_with_a_message(text):
    with pytest.raises(UsageError):
        parse_invoice_csv(text, {"org_1"})

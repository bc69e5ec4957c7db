"""Cost by type and what the cache saved, planned from hand-made stored sums (pure functions)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from usageledger.reports.cost_types import plan_cache_effect, plan_cost_by_type

D1, D2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)
USD = 100_000_000  # micro-cents in a dollar
UNCACHED, READ = ("tokens", "uncached_input_tokens"), ("tokens", "cache_read_input_tokens")


def _effect(usage, cost):
    return plan_cache_effect(usage, cost, cache_read_tokens=1, input_tokens=2)


def test_the_saving_is_priced_from_the_models_stored_token_type_costs():
    """2M cache reads at the model's $3/M uncached cost, less the $0.60 they cost: $5.40, from stored costs."""
    usage = {(D1, "org", "model-a"): (1_000_000, 2_000_000)}
    cost = {(D1, "org", "model-a"): {UNCACHED: 3 * USD, READ: 60 * USD // 100, ("web_search", ""): USD}}
    effect = _effect(usage, cost)
    assert effect.saved_usd == Decimal("5.40")
    assert effect.method == "stored_costs"
    assert "stored cost per token type" in effect.basis


def test_the_effective_price_is_the_models_over_every_broken_out_day():
    """Uncached cost and tokens are summed across days before dividing (a per-model price, not a per-day one)."""
    usage = {(D1, "org", "m"): (1_000_000, 1_000_000), (D2, "org", "m"): (3_000_000, 0)}
    cost = {(D1, "org", "m"): {UNCACHED: 1 * USD, READ: 0}, (D2, "org", "m"): {UNCACHED: 5 * USD}}
    # D2 has no cache reads, so only D1 is weighed: 1M reads × ($1 / 1M) − $0.
    assert _effect(usage, cost).saved_usd == Decimal("1.00")


def test_days_without_a_breakdown_fall_back_to_list_prices_and_say_so():
    """A model whose day was stored combined ('' types) is estimated from its list price: mixed, and said."""
    usage = {
        (D1, "org", "model-a"): (1_000_000, 2_000_000),
        (D1, "org", "claude-sonnet-4-5"): (0, 1_000_000),
        (D1, "org", "no-such-model"): (0, 5),
    }
    cost = {
        (D1, "org", "model-a"): {UNCACHED: 3 * USD, READ: 60 * USD // 100},
        (D1, "org", "claude-sonnet-4-5"): {("", ""): 10 * USD},
    }
    effect = _effect(usage, cost)
    assert effect.saved_usd == Decimal("5.40") + Decimal("2.70")  # sonnet: 1M × ($3 − $0.30)/M
    assert effect.method == "mixed"
    assert effect.unpriced_models == ["no-such-model"]
    assert "list prices" in effect.basis


def test_reads_without_uncached_input_to_price_them_by_use_the_list_price():
    """No uncached input stored for the model: no effective price, so the list price it is."""
    usage = {(D1, "org", "claude-sonnet-4-5"): (0, 1_000_000)}
    cost = {(D1, "org", "claude-sonnet-4-5"): {READ: 30 * USD // 100}}
    effect = _effect(usage, cost)
    assert (effect.saved_usd, effect.method) == (Decimal("2.70"), "list_prices")


def test_cost_by_type_lists_every_type_and_what_was_not_broken_out():
    """Every named type (zero included) with its share; combined rows appear only when there are some."""
    cells = {
        (D1, "org", "m"): {UNCACHED: 6 * USD, ("web_search", ""): 2 * USD},
        (D2, "org", "m"): {("", ""): 2 * USD},
    }
    rows = {r.cost_type: (r.amount, r.share) for r in plan_cost_by_type(cells)}
    assert rows == {
        "tokens": (Decimal(6), Decimal("0.6")),
        "web_search": (Decimal(2), Decimal("0.2")),
        "code_execution": (Decimal(0), Decimal(0)),
        "session_usage": (Decimal(0), Decimal(0)),
        None: (Decimal(2), Decimal("0.2")),
    }
    assert None not in {r.cost_type for r in plan_cost_by_type({(D1, "org", "m"): {UNCACHED: USD}})}

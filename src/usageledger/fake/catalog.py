"""Static facts the fake serves: models and their prices, value sets, the dimensions each endpoint knows.

Prices are held as integers in units of 1e-8 US cents per token (1 USD per million tokens = 10_000
units), so that every cost the fake computes is exact and sums the same in any grouping. The
negotiated discount is 10%: `amount = list_amount * 9 / 10`, kept exact by counting `amount` in
1e-9 cents.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from usageledger.models import DAILY

__all__ = [
    "ANALYTICS_BETA",
    "ANALYTICS_FLOOR",
    "ACTOR_AT",
    "ANALYTICS_GROUP_FIELDS",
    "CLASSIC_COST_GROUP_BY",
    "CLASSIC_USAGE_GROUP_BY",
    "CODE_EXECUTION_UNITS_PER_SPAN",
    "COST_GROUP_BY",
    "COST_ORDER_BY",
    "DIM_INDEX",
    "FAST_MODE_BETA",
    "MODELS",
    "PRODUCTS",
    "TOKEN_TYPES",
    "USAGE_GROUP_BY",
    "USAGE_ORDER_BY",
    "WEB_SEARCH_UNITS_PER_REQUEST",
    "ModelInfo",
    "unit_prices",
]

ANALYTICS_BETA = "analytics-usage-cost-2026-08-24"
FAST_MODE_BETA = "fast-mode-2026-02-01"
ANALYTICS_FLOOR = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

# Position of each modelled dimension in a generated row: the daily grain's, in its declared order,
# then (after the seven usage metrics and the list price) who used it and through which product.
ACTOR_AT = len(DAILY.dimensions) + 8
DIM_INDEX: dict[str, int] = {
    **{name: i for i, name in enumerate(DAILY.dimensions)},
    "actor": ACTOR_AT,
    "product": ACTOR_AT + 1,
}
PRODUCTS: frozenset[str] = frozenset(
    {
        "chat",
        "chat_cowork_unified",
        "claude_code",
        "claude_console",
        "claude_design",
        "claude_in_chrome",
        "claude_tag",
        "cowork",
        "managed_agents_api",
        "message_batches_api",
        "messages_api",
        "office_agent",
    }
)

# Every field of BetaAnalyticsUsageGroup (SDK 2.10.0); the cost group adds cost_type and token_type.
ANALYTICS_GROUP_FIELDS: tuple[str, ...] = (
    "actor",
    "actor_type",
    "agent_id",
    "api_key_id",
    "claude_tag_category",
    "claude_tag_user_id",
    "context_window",
    "deployment_id",
    "environment_id",
    "inference_geo",
    "model",
    "organization_id",
    "product",
    "rbac_group_id",
    "service_tier",
    "session_id",
    "slack_channel_id",
    "speed",
    "user_profile_id",
    "workspace_id",
)
USAGE_GROUP_BY: frozenset[str] = frozenset(ANALYTICS_GROUP_FIELDS)
COST_GROUP_BY: frozenset[str] = USAGE_GROUP_BY | {"cost_type", "token_type"}
USAGE_ORDER_BY: frozenset[str] = frozenset(
    {"output_tokens", "requests", "time", "total_tokens", "uncached_input_tokens"}
)
COST_ORDER_BY: frozenset[str] = frozenset({"amount", "list_amount", "time"})

CLASSIC_USAGE_GROUP_BY: frozenset[str] = frozenset(
    {
        "api_key_id",
        "workspace_id",
        "model",
        "service_tier",
        "context_window",
        "inference_geo",
        "speed",
        "account_id",
        "service_account_id",
    }
)
CLASSIC_COST_GROUP_BY: frozenset[str] = frozenset({"workspace_id", "description"})

# Token types in the order of the usage metrics of a row, as the cost endpoints spell them.
TOKEN_TYPES: tuple[str, ...] = (
    "uncached_input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation.ephemeral_5m_input_tokens",
    "cache_creation.ephemeral_1h_input_tokens",
)
_TOKEN_TYPE_LABELS = ("Input Tokens", "Output Tokens", "Cache Read", "Cache Write 5m", "Cache Write 1h")

WEB_SEARCH_UNITS_PER_REQUEST = 100_000_000  # $10 per 1,000 searches = 1 cent each
CODE_EXECUTION_UNITS_PER_SPAN = 50_000_000  # 0.5 cent per execution span


@dataclass(frozen=True, slots=True)
class ModelInfo:
    name: str
    label: str
    input_usd_per_mtok: tuple[int, int]  # (numerator, denominator) so 0.8 stays exact
    output_usd_per_mtok: tuple[int, int]
    weight: float
    long_context: bool  # has the 200k-1M pricing tier
    inference_geo: bool  # accepts inference_geo (older models report it as unset)
    fast: bool  # offers the fast speed mode
    released: dt.date


MODELS: tuple[ModelInfo, ...] = (
    ModelInfo(
        "claude-opus-4-5", "Claude Opus 4.5", (5, 1), (25, 1), 3.0, False, True, True, dt.date(2025, 11, 24)
    ),
    ModelInfo(
        "claude-sonnet-4-5",
        "Claude Sonnet 4.5",
        (3, 1),
        (15, 1),
        5.0,
        True,
        True,
        False,
        dt.date(2025, 9, 29),
    ),
    ModelInfo(
        "claude-haiku-4-5", "Claude Haiku 4.5", (1, 1), (5, 1), 3.0, False, True, False, dt.date(2025, 10, 15)
    ),
    ModelInfo(
        "claude-opus-4-1", "Claude Opus 4.1", (15, 1), (75, 1), 1.0, False, False, False, dt.date(2025, 8, 5)
    ),
    ModelInfo(
        "claude-sonnet-4", "Claude Sonnet 4", (3, 1), (15, 1), 2.0, True, False, False, dt.date(2025, 5, 22)
    ),
    ModelInfo(
        "claude-3-5-haiku",
        "Claude Haiku 3.5",
        (4, 5),
        (4, 1),
        1.0,
        False,
        False,
        False,
        dt.date(2024, 10, 22),
    ),
)
MODEL_BY_NAME: dict[str, ModelInfo] = {m.name: m for m in MODELS}


def _units(usd: tuple[int, int], num: int, den: int) -> int:
    """USD per million tokens times num/den, in 1e-8 cents per token; exact or it fails loudly."""
    total_num = usd[0] * 10_000 * num
    total_den = usd[1] * den
    if total_num % total_den:
        raise ValueError(f"price {usd} x {num}/{den} is not a whole number of units")
    return total_num // total_den


_PRICE_CACHE: dict[tuple[str | None, str | None, str | None, str | None], tuple[int, ...]] = {}


def unit_prices(
    model: str | None, tier: str | None, window: str | None, speed: str | None
) -> tuple[int, ...]:
    """Per-token prices of one combination, in the order of TOKEN_TYPES (1e-8 cents per token)."""
    key = (model, tier, window, speed)
    cached = _PRICE_CACHE.get(key)
    if cached is not None:
        return cached
    if model is None:
        prices: tuple[int, ...] = (0, 0, 0, 0, 0)
    else:
        info = MODEL_BY_NAME[model]
        num, den = 1, 1
        if tier in ("batch", "flex_discount"):
            den *= 2
        if speed == "fast":
            num *= 6
        in_num, out_num = num, num
        in_den, out_den = den, den
        if window == "200k-1M":
            in_num *= 2
            out_num *= 3
            out_den *= 2
        inp = info.input_usd_per_mtok
        prices = (
            _units(inp, in_num, in_den),
            _units(info.output_usd_per_mtok, out_num, out_den),
            _units(inp, in_num, in_den * 10),  # cache read: 0.1x input
            _units(inp, in_num * 5, in_den * 4),  # 5-minute cache write: 1.25x input
            _units(inp, in_num * 2, in_den),  # 1-hour cache write: 2x input
        )
    _PRICE_CACHE[key] = prices
    return prices


def describe(model: str | None, cost_type: str, token_type: str | None, window: str | None) -> str:
    """The classic cost report's `description` of one cost item."""
    if cost_type == "web_search":
        return "Web Search Usage"
    if cost_type == "code_execution":
        return "Code Execution Usage"
    label = MODEL_BY_NAME[model].label if model else "Unknown model"
    token_label = _TOKEN_TYPE_LABELS[TOKEN_TYPES.index(token_type)] if token_type else "Tokens"
    suffix = " (long context)" if window == "200k-1M" else ""
    return f"{label} Usage - {token_label}{suffix}"


__all__ += ["MODEL_BY_NAME", "describe"]

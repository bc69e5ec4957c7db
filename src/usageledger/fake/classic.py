"""The classic report endpoints: GET /v1/organizations/usage_report/messages and /v1/organizations/cost_report.

As documented (platform.claude.com, Usage and Cost API): pages of daily buckets `{starting_at, ending_at,
results}` with `has_more`/`next_page` (`page_` + base64 of the next bucket's start); `limit` counts buckets
(1d: default 7, max 31). `workspace_id` is null for the default workspace; `inference_geo` is
`not_available` for models without it; `speed` is returned only with the fast-mode beta header. The
usage report leaves out code execution (no tokens); the cost report leaves out Priority Tier costs.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import TYPE_CHECKING, Any

from . import catalog
from .analytics import components
from .generator import amount_text
from .params import QueryParams, floor_day, invalid, parse_int, parse_time

if TYPE_CHECKING:
    from .generator import FakeOrganization, Row

__all__ = ["build_cost_report", "build_usage_report", "self_cursor"]

_DAY = dt.timedelta(days=1)
_USAGE_FILTERS = {
    "api_key_ids": 2,
    "workspace_ids": 1,
    "models": 3,
    "service_tiers": 4,
    "context_window": 5,
    "inference_geos": 6,
    "speeds": 7,
}
_USAGE_DIMS = (
    "api_key_id",
    "workspace_id",
    "model",
    "service_tier",
    "context_window",
    "inference_geo",
    "speed",
)


def _page_token(day: dt.date) -> str:
    return "page_" + base64.b64encode(f"{day.isoformat()}T00:00:00Z".encode()).decode()


def _decode_page(token: str) -> dt.date:
    try:
        if not token.startswith("page_"):
            raise ValueError(token)
        text = base64.b64decode(token[5:], validate=True).decode()
        moment = dt.datetime.fromisoformat(text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid("page: invalid page token; pass the next_page value of the previous response") from None
    return moment.date()


def self_cursor(params: QueryParams) -> str:
    """A token for the page this request asked for (for the repeated_cursor fault)."""
    page = params.get("page")
    if page:
        return page
    starting = parse_time(params.get("starting_at"), "starting_at", required=True)
    assert starting is not None
    return _page_token(starting.date())


def _buckets(
    fake: FakeOrganization, params: QueryParams, *, usage: bool
) -> tuple[list[dt.date], dt.date | None]:
    """The bucket days of this page and the first day of the next page (None when this is the last)."""
    starting = parse_time(params.get("starting_at"), "starting_at", required=True)
    assert starting is not None
    ending = parse_time(params.get("ending_at"), "ending_at", required=False)
    width = params.get("bucket_width") or "1d"
    if width not in (("1d", "1h", "1m") if usage else ("1d",)):
        raise invalid(f"bucket_width: expected {'one of 1d, 1h, 1m' if usage else '1d'}, got {width!r}")
    if width != "1d":
        raise invalid(f"bucket_width: {width!r} is not served by this fake; use '1d'")
    limit = parse_int(params.get("limit"), "limit", default=7, low=1, high=31)
    if ending is not None and ending <= starting:
        raise invalid("ending_at: must be after starting_at")
    first = floor_day(starting).date()
    page = params.get("page")
    if page:
        first = _decode_page(page)
    now = fake.now()
    stop = now.date() + _DAY  # the current, partial bucket is the last one
    if ending is not None:
        stop = min(stop, floor_day(ending).date())  # buckets that end at or before ending_at
    days: list[dt.date] = []
    day = first
    while day < stop and len(days) < limit:
        days.append(day)
        day += _DAY
    return days, (day if day < stop else None)


def _filters(params: QueryParams) -> list[tuple[int, frozenset[str | None]]]:
    result = []
    for name, index in _USAGE_FILTERS.items():
        given = params.getlist(name)
        if given:
            accepted: set[str | None] = set(given)
            if name == "inference_geos" and "not_available" in given:
                accepted.add(None)
            result.append((index, frozenset(accepted)))
    return result


def _group_by(params: QueryParams, allowed: frozenset[str], fast_beta: bool) -> list[str]:
    group_by = []
    for name in params.getlist("group_by"):
        if name not in allowed:
            raise invalid(f"group_by[]: {name!r} is not one of {', '.join(sorted(allowed))}")
        if name == "speed" and not fast_beta:
            raise invalid(
                f"group_by[]: grouping by speed requires the '{catalog.FAST_MODE_BETA}' beta header"
            )
        if name not in group_by:
            group_by.append(name)
    return group_by


def _bucket(day: dt.date, results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "starting_at": f"{day.isoformat()}T00:00:00Z",
        "ending_at": f"{(day + _DAY).isoformat()}T00:00:00Z",
        "results": results,
    }


def _names(key: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple("" if v is None else str(v) for v in key)


def build_usage_report(fake: FakeOrganization, params: QueryParams, betas: list[str]) -> dict[str, Any]:
    fast_beta = catalog.FAST_MODE_BETA in betas
    group_by = _group_by(params, catalog.CLASSIC_USAGE_GROUP_BY, fast_beta)
    days, next_day = _buckets(fake, params, usage=True)
    filters = _filters(params)
    dims = [d for d in _USAGE_DIMS if d in group_by]
    idx = [catalog.DIM_INDEX[d] for d in dims]
    default_ws = fake.default_workspace_id
    data = []
    for day in days:
        acc: dict[tuple[Any, ...], list[int]] = {}
        for row in fake.day_rows(day):
            if row[3] is None or not all(_match(row, i, allowed, default_ws) for i, allowed in filters):
                continue
            key = tuple(row[i] for i in idx)
            found = acc.get(key)
            values = row[8:15]
            acc[key] = list(values) if found is None else [a + b for a, b in zip(found, values, strict=True)]
        results = []
        for key in sorted(acc, key=_names):
            m = acc[key]
            result: dict[str, Any] = {
                "uncached_input_tokens": m[0],
                "cache_creation": {"ephemeral_1h_input_tokens": m[4], "ephemeral_5m_input_tokens": m[3]},
                "cache_read_input_tokens": m[2],
                "output_tokens": m[1],
                "server_tool_use": {"web_search_requests": m[6]},
                "api_key_id": None,
                "workspace_id": None,
                "model": None,
                "service_tier": None,
                "context_window": None,
                "inference_geo": None,
            }
            if fast_beta:
                result["speed"] = None
            for name, value in zip(dims, key, strict=True):
                if name == "workspace_id" and value == default_ws:
                    value = None
                elif name == "inference_geo" and value is None:
                    value = "not_available"
                result[name] = value
            results.append(result)
        data.append(_bucket(day, results))
    return {
        "data": data,
        "has_more": next_day is not None,
        "next_page": _page_token(next_day) if next_day is not None else None,
    }


def _match(row: Row, index: int, allowed: frozenset[str | None], default_ws: str) -> bool:
    value = row[index]
    if value in allowed:
        return True
    return index == 1 and value == default_ws and None in allowed


def build_cost_report(fake: FakeOrganization, params: QueryParams, betas: list[str]) -> dict[str, Any]:
    fast_beta = catalog.FAST_MODE_BETA in betas
    group_by = _group_by(params, catalog.CLASSIC_COST_GROUP_BY, fast_beta)
    days, next_day = _buckets(fake, params, usage=False)
    by_workspace, by_description = "workspace_id" in group_by, "description" in group_by
    default_ws = fake.default_workspace_id
    data = []
    for day in days:
        acc: dict[tuple[Any, ...], int] = {}
        for row in fake.day_rows(day):
            if row[4] == "priority":  # Priority Tier costs are not in the cost report
                continue
            ws = None if not by_workspace or row[1] == default_ws else row[1]
            if not by_description:
                acc[(ws,)] = acc.get((ws,), 0) + row[15]
                continue
            parts = components(row)
            key: tuple[Any, ...]
            for i, units in enumerate(parts):
                if not units:
                    continue
                if i < 5:
                    key = (ws, row[3], "tokens", catalog.TOKEN_TYPES[i], row[4], row[5], row[7])
                else:
                    key = (ws, None, "web_search" if i == 5 else "code_execution", None, None, None, None)
                acc[key] = acc.get(key, 0) + units
        results = []
        for key in sorted(acc, key=_names):
            result: dict[str, Any] = {
                "amount": amount_text(acc[key]),
                "currency": "USD",
                "workspace_id": key[0],
                "description": None,
                "cost_type": None,
                "token_type": None,
                "model": None,
                "service_tier": None,
                "context_window": None,
                "inference_geo": None,
            }
            if fast_beta:
                result["speed"] = None
            if by_description:
                _ws, model, cost_type, token_type, tier, window, speed = key
                result.update(
                    description=catalog.describe(model, cost_type, token_type, window),
                    cost_type=cost_type,
                    token_type=token_type,
                    model=model,
                    service_tier=tier,
                    context_window=window,
                )
                if fast_beta:
                    result["speed"] = speed
            results.append(result)
        data.append(_bucket(day, results))
    return {
        "data": data,
        "has_more": next_day is not None,
        "next_page": _page_token(next_day) if next_day is not None else None,
    }

"""Query parameters of usage and cost queries, shared by the detail page, its CSV and the JSON API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Path, Query
from pydantic import BeforeValidator

from usageledger.errors import UsageError
from usageledger.models import GROUP_FIELDS
from usageledger.reports import FILTER_FIELDS, UsageQuery

__all__ = [
    "DEFAULT_GROUP_BY",
    "FILTER_FIELDS",
    "PathId",
    "QueryId",
    "UsageParams",
    "UsageParamsDep",
    "split_list",
]

DEFAULT_GROUP_BY: tuple[str, ...] = ("date", "model")
MAX_LIMIT = 10_000
MAX_ID = 2**31 - 1

PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this connection.")]


def split_list(values: list[str] | None) -> list[str]:
    """`?a=x,y&a=z` and `?a=x&a=y,z` both mean [x, y, z]; blanks are dropped."""
    out: list[str] = []
    for value in values or []:
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


@dataclass(frozen=True)
class UsageParams:
    connection_id: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    group_by: tuple[str, ...] = DEFAULT_GROUP_BY
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str | None = None
    desc: bool = False
    limit: int | None = None
    offset: int = 0

    def to_query(self, tenant_id: int, **overrides: object) -> UsageQuery:
        """The read model's query: usage with cost beside it; without a `sort`, newest period first and
        then the costliest group first (the CLI keeps the read model's own default, group fields in order)."""
        params = replace(self, **overrides) if overrides else self  # type: ignore[arg-type]
        default_order = params.sort is None
        return UsageQuery(
            tenant_id=tenant_id,
            connection_id=params.connection_id,
            since=params.since,
            until=params.until,
            group_by=params.group_by,
            filters={k: list(v) for k, v in params.filters.items()},
            order_by="amount_usd" if default_order else params.sort,
            descending=True if default_order else params.desc,
            limit=params.limit,
            offset=params.offset,
            with_cost=True,
            newest_first=default_order,
        )

    def replaced(self, **changes: object) -> UsageParams:
        return replace(self, **changes)  # type: ignore[arg-type]

    def with_filter(self, name: str, value: str) -> UsageParams:
        filters = {k: list(v) for k, v in self.filters.items()}
        if value not in filters.setdefault(name, []):
            filters[name].append(value)
        return replace(self, filters=filters)

    def filter_text(self, name: str) -> str:
        return ", ".join(self.filters.get(name, []))

    def query_items(self, *, with_paging: bool = False) -> list[tuple[str, str]]:
        items: list[tuple[str, str]] = []
        if self.since:
            items.append(("since", self.since.isoformat()))
        if self.until:
            items.append(("until", self.until.isoformat()))
        items.append(("group_by", ",".join(self.group_by)))
        for name in FILTER_FIELDS:
            for value in self.filters.get(name, []):
                items.append((name, value))
        if self.sort:
            items.append(("sort", self.sort))
        if self.desc:
            items.append(("desc", "true"))
        if with_paging and self.limit is not None:
            items.append(("limit", str(self.limit)))
            items.append(("offset", str(self.offset)))
        return items

    def query_string(self, *, with_paging: bool = False, **extra: object) -> str:
        items = self.query_items(with_paging=with_paging)
        items += [(k, str(v)) for k, v in extra.items() if v is not None]
        return urlencode(items)


def _blank_is_none(value: object) -> object:
    """An empty date field of a GET form means 'not set'."""
    return None if value == "" else value


OptionalDay = Annotated[dt.date | None, BeforeValidator(_blank_is_none)]


def _usage_params(
    since: Annotated[OptionalDay, Query(description="First day, inclusive (UTC, YYYY-MM-DD).")] = None,
    until: Annotated[OptionalDay, Query(description="Last day, inclusive (UTC, YYYY-MM-DD).")] = None,
    group_by: Annotated[
        list[str] | None,
        Query(description=f"Comma list from: {', '.join(GROUP_FIELDS)}. Default: date,model."),
    ] = None,
    organization: Annotated[list[str] | None, Query(description="Organization id(s).")] = None,
    workspace: Annotated[list[str] | None, Query(description="Workspace id(s).")] = None,
    api_key: Annotated[list[str] | None, Query(description="API key id(s).")] = None,
    model: Annotated[list[str] | None, Query(description="Model name(s).")] = None,
    service_tier: Annotated[list[str] | None, Query(description="Service tier(s).")] = None,
    context_window: Annotated[list[str] | None, Query(description="Context window(s).")] = None,
    sort: Annotated[
        str | None, Query(description="A group field or a metric to sort by.", max_length=64)
    ] = None,
    desc: Annotated[bool, Query(description="Sort descending.")] = False,
) -> UsageParams:
    groups = tuple(dict.fromkeys(split_list(group_by))) or DEFAULT_GROUP_BY
    unknown = [g for g in groups if g not in GROUP_FIELDS]
    if unknown:
        raise UsageError(f"Unknown group_by field(s): {', '.join(unknown)}. Use: {', '.join(GROUP_FIELDS)}.")
    if since and until and since > until:
        raise UsageError("'since' is after 'until'; swap them.")
    raw = {
        "organization": organization,
        "workspace": workspace,
        "api_key": api_key,
        "model": model,
        "service_tier": service_tier,
        "context_window": context_window,
    }
    filters = {name: values for name, values in ((n, split_list(v)) for n, v in raw.items()) if values}
    return UsageParams(
        since=since, until=until, group_by=groups, filters=filters, sort=sort or None, desc=desc
    )


UsageParamsDep = Annotated[UsageParams, Depends(_usage_params)]

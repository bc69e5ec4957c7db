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
from usageledger.reports.periods import CUSTOM_PERIOD, check_days, resolve_period
from usageledger.reports.usage import FILTER_FIELDS, UsageQuery

__all__ = [
    "ALL_STORED",
    "DEFAULT_GROUP_BY",
    "FILTER_FIELDS",
    "PageUsageParams",
    "PageUsageParamsDep",
    "PathId",
    "QueryId",
    "UsageParams",
    "UsageParamsDep",
    "split_list",
]

DEFAULT_GROUP_BY: tuple[str, ...] = ("date", "model")
ALL_STORED = "all"  # the period "every stored day": no range at all
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
    period: str | None = None  # a named period (PERIOD_PRESETS or YYYY-MM); `since`/`until` hold its days
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
        if self.period:  # a named period stays named in links, so "last 7 days" moves with the calendar
            items.append(("period", self.period))
        else:
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
PeriodQuery = Annotated[
    str | None,
    Query(
        max_length=20,
        description="A named period: this-month, last-month, 7d, 30d, 90d, ytd, a month as YYYY-MM (UTC), "
        "or `all` (every stored day). Leave it out, or send `custom`, to use since/until.",
    ),
]


@dataclass(frozen=True)
class _Shape:
    """The parameters every usage query shares, beyond its days."""

    group_by: tuple[str, ...]
    filters: dict[str, list[str]]
    sort: str | None
    desc: bool
    problems: dict[str, str]


def _shape(
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
) -> _Shape:
    problems: dict[str, str] = {}
    asked = tuple(dict.fromkeys(split_list(group_by)))
    unknown = [g for g in asked if g not in GROUP_FIELDS]
    if unknown:
        problems["group_by"] = (
            f"Unknown group_by field(s): {', '.join(unknown)}. Use: {', '.join(GROUP_FIELDS)}."
        )
    groups = tuple(g for g in asked if g in GROUP_FIELDS) or DEFAULT_GROUP_BY
    raw = {
        "organization": organization,
        "workspace": workspace,
        "api_key": api_key,
        "model": model,
        "service_tier": service_tier,
        "context_window": context_window,
    }
    filters = {name: values for name, values in ((n, split_list(v)) for n, v in raw.items()) if values}
    return _Shape(groups, filters, sort or None, desc, problems)


ShapeDep = Annotated[_Shape, Depends(_shape)]


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _days(
    period: str | None, since: dt.date | None, until: dt.date | None, problems: dict[str, str]
) -> tuple[str | None, dt.date | None, dt.date | None]:
    """The named period (if any) and the inclusive days to query; a problem drops the range.

    A named period decides the days and `since`/`until` are ignored (the page's form sends both), as
    does `all`; `custom`, or no period, takes `since`/`until` as given, either of them open.
    """
    named = (period or "").strip().lower()
    if named == ALL_STORED:
        return ALL_STORED, None, None
    if named and named != CUSTOM_PERIOD:
        try:
            resolved = resolve_period(named, None, None, today=_today())
        except UsageError as exc:
            problems["period"] = exc.message
            return None, None, None
        return resolved.key, resolved.start, resolved.last_day
    if since and until and since > until:
        problems["range"] = (
            f"The range starts on {since} but ends on {until}, before it starts; swap the two days."
        )
        return None, None, None
    try:
        check_days(since, until)
    except UsageError as exc:  # too early, too late or too long: dropped, as a reversed range is
        problems["range"] = exc.message
        return None, None, None
    return None, since, until


def _usage_params(
    shape: ShapeDep,
    period: PeriodQuery = None,
    since: Annotated[OptionalDay, Query(description="First day, inclusive (UTC, YYYY-MM-DD).")] = None,
    until: Annotated[OptionalDay, Query(description="Last day, inclusive (UTC, YYYY-MM-DD).")] = None,
) -> UsageParams:
    """The API's and the CSV's parameters: any problem is a 400 with what to change."""
    problems = dict(shape.problems)
    if period and period.strip().lower() != CUSTOM_PERIOD and (since or until):
        problems["period"] = "Send either a named `period` or `since`/`until`, not both."
    named, first, last = _days(period, since, until, problems)
    if problems:
        raise UsageError(" ".join(problems.values()))
    return UsageParams(period=named, since=first, until=last, group_by=shape.group_by,
                       filters=shape.filters, sort=shape.sort, desc=shape.desc)  # fmt: skip


UsageParamsDep = Annotated[UsageParams, Depends(_usage_params)]


@dataclass(frozen=True)
class PageUsageParams:
    """A page's parameters: the query to run, the form as typed, and what was wrong with it (field → message).

    A page never fails on its filters: a problem is shown beside its field, the rest of the form is kept,
    and the query runs without the part that was wrong.
    """

    params: UsageParams
    period: str  # what the period select shows: "all", a preset key, a month, or "custom"
    since_text: str
    until_text: str
    problems: dict[str, str]


def _typed_day(text: str | None, name: str, problems: dict[str, str]) -> dt.date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        problems[name] = f"'{text}' is not a day: write {name} as YYYY-MM-DD, such as 2026-05-01."
        return None


def _page_usage_params(
    shape: ShapeDep,
    period: PeriodQuery = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
) -> PageUsageParams:
    problems = dict(shape.problems)
    first, last = _typed_day(since, "since", problems), _typed_day(until, "until", problems)
    if "since" in problems or "until" in problems:
        first = last = None
    named, first, last = _days(period, first, last, problems)
    if named:
        shown = named
    elif since or until or (period or "").strip().lower() == CUSTOM_PERIOD:
        shown = CUSTOM_PERIOD
    else:
        shown = ALL_STORED  # also what an unknown period (explained beside the field) falls back to
    params = UsageParams(period=named, since=first, until=last, group_by=shape.group_by,
                         filters=shape.filters, sort=shape.sort, desc=shape.desc)  # fmt: skip
    # A named period shows its days (a start for a custom range); typed days are kept as typed.
    since_text = (since or "").strip() if not named else (first.isoformat() if first else "")
    until_text = (until or "").strip() if not named else (last.isoformat() if last else "")
    return PageUsageParams(params, shown, since_text, until_text, problems)


PageUsageParamsDep = Annotated[PageUsageParams, Depends(_page_usage_params)]

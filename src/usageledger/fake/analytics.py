"""GET /v1/organizations/analytics/usage and /cost: validation, aggregation, ordering and pages.

The sorted, aggregated rows of a query are cached (LRU) so that paging through a large window costs
one aggregation, then a slice and the JSON of one page per request. Aggregation works day by day, and
the groups of a day are cached too: usage and cost pages of a window and its ungrouped totals (what a
sync asks for) share them instead of summing the same rows four times. Hour buckets (time_bucket_width=1h)
group the generator's hourly split of each day hour by hour; a day's 24 hours are one cached entry.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import partial
from itertools import chain
from operator import add, itemgetter
from typing import TYPE_CHECKING, Any, TypeVar

from . import catalog
from .generator import amount_text, list_amount_text
from .params import (
    QueryParams,
    decode_cursor,
    encode_cursor,
    floor_day,
    floor_hour,
    invalid,
    parse_int,
    parse_time,
    query_hash,
    rfc3339,
)

if TYPE_CHECKING:
    from .generator import FakeOrganization, Row

__all__ = ["AnalyticsQuery", "RawRows", "ResultCache", "build_page", "parse_query", "self_cursor"]

_DAY = dt.timedelta(days=1)
_HOUR = dt.timedelta(hours=1)
_MAX_RANGE = dt.timedelta(days=31)
_FILTERS = {  # query parameter -> (dimension, allowed values or None for free text)
    "models": ("model", None),
    "workspace_ids": ("workspace_id", None),
    "api_key_ids": ("api_key_id", None),
    "service_tiers": (
        "service_tier",
        {"batch", "flex", "flex_discount", "priority", "priority_on_demand", "standard"},
    ),
    "context_windows": ("context_window", {"0-200k", "200k-1M"}),
    "inference_geos": ("inference_geo", {"global", "us", "not_available"}),
    "speeds": ("speed", {"fast", "standard"}),
    "organization_ids": ("organization_id", None),
    "products": ("product", catalog.PRODUCTS),
}
_COST_FIELDS: tuple[str, ...] = tuple(sorted((*catalog.ANALYTICS_GROUP_FIELDS, "cost_type", "token_type")))


@dataclass(frozen=True, slots=True)
class AnalyticsQuery:
    kind: str  # "usage" or "cost"
    start: dt.datetime
    end: dt.datetime
    width: str | None  # the time bucket: "1d", "1h" or None (one row for the range)
    dims: tuple[str, ...]  # modelled dimensions grouped by, in catalog.DIM_INDEX order
    fan_cost_type: bool
    fan_token_type: bool
    filters: tuple[tuple[int, frozenset[str | None]], ...]
    order_by: str
    descending: bool
    limit: int
    offset: int
    qhash: str

    @property
    def bucketed(self) -> bool:
        return self.width is not None

    def cache_key(self) -> tuple[Any, ...]:
        return (
            self.kind,
            self.start,
            self.end,
            self.width,
            self.dims,
            self.fan_cost_type,
            self.fan_token_type,
            self.filters,
            self.order_by,
            self.descending,
        )


def parse_query(kind: str, params: QueryParams, betas: list[str], fake: FakeOrganization) -> AnalyticsQuery:
    """Validate a request to /analytics/{kind} like the API; raises ApiError (400) on the first problem."""
    if catalog.ANALYTICS_BETA not in betas:
        raise invalid(
            f"This endpoint is in beta: send the header 'anthropic-beta: {catalog.ANALYTICS_BETA}'."
        )
    now = fake.now()
    starting = parse_time(params.get("starting_at"), "starting_at", required=True)
    assert starting is not None
    if starting < catalog.ANALYTICS_FLOOR:
        raise invalid("starting_at: must be no earlier than 2026-01-01T00:00:00Z")
    if starting < now - dt.timedelta(days=365) or starting > now:
        raise invalid("starting_at: must be within the last 365 days")
    width = params.get("time_bucket_width")
    if width not in (None, "", "1d", "1h", "1m"):
        raise invalid(f"time_bucket_width: expected one of '1d', '1h', '1m', got {width!r}")
    if width == "1m":
        raise invalid(f"time_bucket_width: {width!r} is not served by this fake; use '1d' or '1h'")
    bucket = width or None
    ending = parse_time(params.get("ending_at"), "ending_at", required=False)
    if ending is None:
        if bucket:
            raise invalid("ending_at: Field required when time_bucket_width is set")
        ending = min(now, starting + _MAX_RANGE)
    if ending <= starting:
        raise invalid("ending_at: must be after starting_at")
    if ending - starting > _MAX_RANGE:
        raise invalid("The range from starting_at to ending_at may span at most 31 days")
    if bucket is None:
        start, end = floor_hour(starting), floor_hour(ending)
    else:  # whole UTC days or hours: from the one starting_at falls in to the last starting before ending_at
        start, end = (floor_day(starting) if bucket == "1d" else floor_hour(starting)), ending

    allowed = catalog.USAGE_GROUP_BY if kind == "usage" else catalog.COST_GROUP_BY
    group_by: list[str] = []
    for name in params.getlist("group_by"):
        if name not in allowed:
            raise invalid(f"group_by[]: {name!r} is not one of {', '.join(sorted(allowed))}")
        if name not in group_by:
            group_by.append(name)
    fan_cost_type, fan_token_type = "cost_type" in group_by, "token_type" in group_by
    if len([g for g in group_by if g not in ("cost_type", "token_type")]) > 5:
        raise invalid("group_by[]: at most 5 dimensions")
    dims = tuple(d for d in catalog.DIM_INDEX if d in group_by)

    filters: list[tuple[int, frozenset[str | None]]] = []
    for param, (dim, values) in _FILTERS.items():
        given = params.getlist(param)
        if not given:
            continue
        if values is not None and (bad := [v for v in given if v not in values]):
            raise invalid(f"{param}[]: {bad[0]!r} is not one of {', '.join(sorted(values))}")
        accepted: set[str | None] = {v for v in given if v}
        if (param == "api_key_ids" and "" in given) or (
            param == "inference_geos" and "not_available" in given
        ):
            accepted.add(None)
        filters.append((catalog.DIM_INDEX[dim], frozenset(accepted)))

    orders = catalog.USAGE_ORDER_BY if kind == "usage" else catalog.COST_ORDER_BY
    order_by = params.get("order_by") or ("total_tokens" if kind == "usage" else "amount")
    if order_by not in orders:
        raise invalid(f"order_by: expected one of {', '.join(sorted(orders))}, got {order_by!r}")
    order = params.get("order") or "desc"
    if order not in ("asc", "desc"):
        raise invalid(f"order: expected 'asc' or 'desc', got {order!r}")
    limit = parse_int(params.get("limit"), "limit", default=20, low=1, high=1000)
    qhash = query_hash(f"analytics/{kind}", params)
    offset = decode_cursor(params.get("page"), qhash)
    return AnalyticsQuery(
        kind,
        start,
        end,
        bucket,
        dims,
        fan_cost_type,
        fan_token_type,
        tuple(filters),
        order_by,
        order == "desc",
        limit,
        offset,
        qhash,
    )


def self_cursor(kind: str, params: QueryParams) -> str:
    """A cursor to the page this request asked for (for the repeated_cursor fault)."""
    return params.get("page") or encode_cursor(0, query_hash(f"analytics/{kind}", params))


Entry = tuple[Any, ...]  # (bucket day | bucket hour | None, group key, metrics[, components])
_Built = TypeVar("_Built")


@dataclass(slots=True)
class _DayGroups:
    """The groups of one bucket (a day, or an hour as an aware datetime) for one grouping, in first-seen
    order, and their sorted orders (memoized).

    `ranks` (covering every key of `groups`, all below `span`) orders keys by their names.
    """

    day: dt.date
    groups: dict[tuple[Any, ...], tuple[int, ...]]
    ranks: dict[tuple[Any, ...], int]
    span: int
    _entries: list[Entry] | None = None
    _by_name: list[Entry] | None = None
    _by_metric: dict[str, list[Entry]] | None = None

    def by_name(self) -> list[Entry]:
        """(day, key, metrics) sorted by the group's names (None as ""), ties in first-seen order."""
        if self._by_name is None:
            ranks = self.ranks
            self._by_name = self._ordered([ranks[k] for k in self.groups])
        return self._by_name

    def by_metric(self, kind: str) -> list[Entry]:
        """Sorted by the kind's metric, largest first, then by names: a day's order under order_by=time."""
        if self._by_metric is None:
            self._by_metric = {}
        found = self._by_metric.get(kind)
        if found is None:
            ranks, span, items = self.ranks, self.span, self.groups.items()
            if kind == "cost":  # -metric * span + rank orders like (-metric, rank), as 0 <= rank < span
                keys = [ranks[k] - m[7] * span for k, m in items]
            else:
                keys = [ranks[k] - (m[0] + m[1] + m[2] + m[3] + m[4]) * span for k, m in items]
            found = self._by_metric[kind] = self._ordered(keys)
        return found

    def _ordered(self, keys: list[int]) -> list[Entry]:
        if self._entries is None:
            day = self.day
            self._entries = [(day, k, m) for k, m in self.groups.items()]
        return _sorted_by_keys(self._entries, keys)


class _NameRanks:
    """Ranks of group keys in the order of their names (None as ""); equal names get equal ranks.

    Sorting by a precomputed int is far cheaper than comparing tuples of strings. The ranks grow to
    cover every key seen; renumbering never changes the relative order of keys ranked before.
    """

    def __init__(self) -> None:
        self._current: tuple[dict[tuple[Any, ...], int], int] = ({}, 1)

    def covering(self, keys: AbstractSet[tuple[Any, ...]]) -> tuple[dict[tuple[Any, ...], int], int]:
        """(ranks, span): ranks of at least `keys` (and every key seen before), each below span."""
        ranks, span = current = self._current
        if ranks.keys() >= keys:
            return current
        ranks, previous, rank = {}, None, -1
        for key in sorted({*keys, *current[0]}, key=_names):
            names = _names(key)
            if names != previous:
                previous, rank = names, rank + 1
            ranks[key] = rank
        self._current = current = (ranks, rank + 1)
        return current


def _names(key: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple("" if v is None else v for v in key)


def _sorted_by_keys(entries: list[Entry], keys: list[Any]) -> list[Entry]:
    """Entries stably sorted by keys computed beforehand (a key function call per entry costs more)."""
    return [entries[i] for i in sorted(range(len(entries)), key=keys.__getitem__)]


class ResultCache:
    """Two LRUs: aggregated, sorted query results (each with a memo of its rendered group objects), and
    the per-day groups they are built from, which usage, cost and the ungrouped totals share."""

    def __init__(self, size: int = 6, days: int = 128) -> None:
        self._size = size
        self._days_size = days
        self._entries: OrderedDict[tuple[Any, ...], tuple[list[Entry], dict[Any, str]]] = OrderedDict()
        self._days: OrderedDict[tuple[Any, ...], Any] = OrderedDict()  # _DayGroups, or a day's hours
        self._names: dict[tuple[str, ...], _NameRanks] = {}
        self._lock = threading.Lock()

    def get_or_build(
        self, key: tuple[Any, ...], build: Callable[[], list[Entry]]
    ) -> tuple[list[Entry], dict[Any, str]]:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        result: tuple[list[Entry], dict[Any, str]] = (build(), {})
        with self._lock:
            self._entries[key] = result
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return result

    def name_ranks(
        self, fake: FakeOrganization, dims: tuple[str, ...], keys: AbstractSet[tuple[Any, ...]]
    ) -> tuple[dict[tuple[Any, ...], int], int]:
        """Name ranks (and their span) for group keys of these dimensions, covering at least `keys`."""
        with self._lock:
            ranks = self._names.get(dims)
            if ranks is None:  # rank every key the fake can produce at once, not a few more each day
                ranks = self._names[dims] = _NameRanks()
                ranks.covering(set(map(_group_key(dims), fake.combinations())))
            return ranks.covering(keys)

    def get_or_group_day(self, key: tuple[Any, ...], build: Callable[[], _DayGroups]) -> _DayGroups:
        return self._get_or_build_day(key, build)

    def get_or_group_hours(
        self, key: tuple[Any, ...], build: Callable[[], list[_DayGroups]]
    ) -> list[_DayGroups]:
        """A day's 24 hours of groups: one entry of the per-day LRU, as a day of the daily buckets is."""
        return self._get_or_build_day(key, build)

    def _get_or_build_day(self, key: tuple[Any, ...], build: Callable[[], _Built]) -> _Built:
        with self._lock:
            found = self._days.get(key)
            if found is not None:
                self._days.move_to_end(key)
                return found  # type: ignore[no-any-return]
        result = build()
        with self._lock:
            self._days[key] = result
            while len(self._days) > self._days_size:
                self._days.popitem(last=False)
        return result


def _days(start: dt.datetime, end: dt.datetime) -> list[dt.date]:
    """Days whose midnight lies in [start, end)."""
    first = start.date() if start == floor_day(start) else start.date() + _DAY
    days = []
    day = first
    while dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) < end:
        days.append(day)
        day += _DAY
    return days


def components(row: Row) -> list[int]:
    """List-price units of a row per cost component: the five token types, web search, code execution."""
    if row[3] is None:
        return [0, 0, 0, 0, 0, 0, row[15]]
    prices = catalog.unit_prices(row[3], row[4], row[5], row[7])
    return [
        row[8] * prices[0],
        row[9] * prices[1],
        row[10] * prices[2],
        row[11] * prices[3],
        row[12] * prices[4],
        row[14] * catalog.WEB_SEARCH_UNITS_PER_REQUEST,
        0,
    ]


def _group_key(dims: tuple[str, ...]) -> Callable[[Row], tuple[Any, ...]]:
    """The group key of a row (or a combination): the values of these dimensions."""
    idx = [catalog.DIM_INDEX[d] for d in dims]
    if not idx:
        return lambda row: ()
    if len(idx) == 1:
        only = idx[0]
        return lambda row: (row[only],)
    return itemgetter(*idx)


def group_day(fake: FakeOrganization, q: AnalyticsQuery, day: dt.date, cache: ResultCache) -> _DayGroups:
    """One day's rows summed per group key (the grouped dimensions' values), in first-seen order."""
    return _group_rows(fake, q, day, fake.day_rows(day), cache)


def group_hours(
    fake: FakeOrganization, q: AnalyticsQuery, day: dt.date, cache: ResultCache
) -> list[_DayGroups]:
    """Each UTC hour of a day, its rows summed per group key as group_day sums a day's."""
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return [
        _group_rows(fake, q, midnight + hour * _HOUR, rows, cache)
        for hour, rows in enumerate(fake.hour_rows(day))
    ]


def _group_rows(
    fake: FakeOrganization, q: AnalyticsQuery, bucket: dt.date, rows: list[Row], cache: ResultCache
) -> _DayGroups:
    if q.filters:
        rows = [row for row in rows if all(row[i] in allowed for i, allowed in q.filters)]
    fan = q.kind == "cost" and (q.fan_cost_type or q.fan_token_type)
    groups: dict[tuple[Any, ...], tuple[int, ...]] = {}
    if not q.dims and not fan:
        if rows:
            groups[()] = tuple(sum(column) for column in list(zip(*rows, strict=True))[8:16])
        return _DayGroups(bucket, groups, {(): 0}, 1)
    keyfn = _group_key(q.dims)
    found = groups.get
    for row in rows:
        key = keyfn(row)
        values = row[8:16] + tuple(components(row)) if fan else row[8:16]
        summed = found(key)
        groups[key] = values if summed is None else tuple(map(add, summed, values))
    return _DayGroups(bucket, groups, *cache.name_ranks(fake, q.dims, groups.keys()))


def aggregate(fake: FakeOrganization, q: AnalyticsQuery, cache: ResultCache) -> list[Entry]:
    """Sorted (bucket_day | None, group key, metrics[, components]) for a query, every combination.

    The order is by (metric or day, then the other, then group names), ties in first-seen order. It is
    built from cached days, each sorted once per kind, and stable sorts by precomputed int keys (names
    as ranks), which give the same order as one sort by the whole key.
    """
    base = (fake.revision, fake.today, q.kind == "cost" and (q.fan_cost_type or q.fan_token_type))
    if q.width == "1h":
        days = _hours(fake, q, cache, base)
    else:
        days = [
            cache.get_or_group_day((*base, day, q.dims, q.filters), partial(group_day, fake, q, day, cache))
            for day in _days(q.start, q.end)
        ]
    sign = -1 if q.descending else 1
    if q.bucketed and q.order_by == "time":
        ordered = reversed(days) if q.descending else days
        return list(chain.from_iterable(d.by_metric(q.kind) for d in ordered))
    metric = _metric(q.kind, "total_tokens" if q.order_by == "time" else q.order_by)
    if q.bucketed:  # by (bucket, names) already: sorting by metric, then bucket, completes the order
        entries = list(chain.from_iterable(d.by_name() for d in days))
        number = _hour_number if q.width == "1h" else dt.date.toordinal
        return _sorted_by_keys(entries, [(sign * metric(m), number(day)) for day, _, m in entries])
    acc: dict[tuple[Any, ...], tuple[int, ...]] = {}
    for d in days:
        for key, values in d.groups.items():
            summed = acc.get(key)
            acc[key] = values if summed is None else tuple(map(add, summed, values))
    ranks, span = cache.name_ranks(fake, q.dims, acc.keys())
    entries = [(None, k, v) for k, v in acc.items()]
    return _sorted_by_keys(entries, [ranks[k] + sign * metric(v) * span for _, k, v in entries])


def _hours(
    fake: FakeOrganization, q: AnalyticsQuery, cache: ResultCache, base: tuple[Any, ...]
) -> list[_DayGroups]:
    """The groups of every hour that starts in [q.start, q.end), oldest first, from cached days of hours.

    Today's hours end at the current one, so its entry is keyed by that hour too (the real clock moves).
    """
    today, current = fake.today, fake.now().hour
    hours: list[_DayGroups] = []
    for day in _days(floor_day(q.start), q.end):
        key = (*base, "1h", day, q.dims, q.filters, current if day == today else None)
        day_hours = cache.get_or_group_hours(key, partial(group_hours, fake, q, day, cache))
        hours += [h for h in day_hours if q.start <= h.day < q.end]
    return hours


def _hour_number(hour: dt.datetime) -> int:
    """Hours since 0001-01-01: orders hour buckets as an int, as toordinal() orders days."""
    return hour.toordinal() * 24 + hour.hour


def _total_tokens(m: tuple[int, ...]) -> int:
    return m[0] + m[1] + m[2] + m[3] + m[4]


_METRICS: dict[str, Callable[[tuple[int, ...]], int]] = {
    "total_tokens": _total_tokens,
    "output_tokens": itemgetter(1),
    "requests": itemgetter(5),
    "uncached_input_tokens": itemgetter(0),
}


def _metric(kind: str, order_by: str) -> Callable[[tuple[int, ...]], int]:
    if kind == "cost":
        return itemgetter(7)  # amount and list_amount order alike (a fixed discount)
    return _METRICS[order_by]


def _js(value: Any) -> str:
    """A JSON scalar; strings are the fake's own ids and names, escaped only when they need it."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return f'"{value}"' if '"' not in value and "\\" not in value else json.dumps(value)
    return str(value)


def _renderer(fake: FakeOrganization, name: str) -> Callable[[Any], str]:
    """How a grouped dimension's value renders: the actor as its union object (null if hidden)."""
    if name != "actor":
        return _js
    actors = fake.holders.actors
    return lambda actor_id: "null" if actor_id is None else actors[actor_id].json


def _group_template(fields: tuple[str, ...], dims: tuple[str, ...], extra: tuple[str, ...] = ()) -> str:
    """A %-template of a group object: grouped fields (and `extra`) are slots, the rest null."""
    parts = [f'"{name}":%s' if name in dims or name in extra else f'"{name}":null' for name in fields]
    return "{" + ",".join(parts) + "}"


def _slots(fields: tuple[str, ...], dims: tuple[str, ...]) -> list[int]:
    """For each slot of _group_template (in field order), its position in the group key."""
    return [dims.index(name) for name in fields if name in dims]


class RawRows(list[bytes]):
    """The already-rendered JSON objects of a page's `data` array, spliced into the response as is.

    Bytes, one per row: joining them once is far cheaper than building and copying one large string.
    """


def _cost_json(units: int, requests: int | None) -> str:
    return f'{{"amount":"{amount_text(units)}","list_amount":"{list_amount_text(units)}","currency":"USD","requests":{_js(requests)}}}'


def build_page(fake: FakeOrganization, q: AnalyticsQuery, cache: ResultCache) -> dict[str, Any]:
    """The page for a validated query; `data` is pre-rendered JSON (RawRows)."""
    clock = (fake.revision, fake.today) if q.width != "1h" else (fake.revision, fake.today, fake.now().hour)
    entries, memo = cache.get_or_build((*q.cache_key(), *clock), lambda: aggregate(fake, q, cache))
    page = entries[q.offset : q.offset + q.limit]
    fields = catalog.ANALYTICS_GROUP_FIELDS if q.kind == "usage" else _COST_FIELDS
    template = _group_template(fields, q.dims)
    slots = _slots(fields, q.dims)
    render = [_renderer(fake, name) for name in q.dims]
    memo[None] = f'"starting_at":"{rfc3339(q.start)}","ending_at":"{rfc3339(q.end)}"'
    out = RawRows()
    fan: _FanOut | None = None
    for bucket, key, m in page:
        bounds = memo.get(bucket)
        if bounds is None:
            bounds = memo[bucket] = (
                f'"starting_at":"{bucket.isoformat()}T00:00:00Z",'
                f'"ending_at":"{(bucket + _DAY).isoformat()}T00:00:00Z"'
                if q.width == "1d"
                else f'"starting_at":"{rfc3339(bucket)}","ending_at":"{rfc3339(bucket + _HOUR)}"'
            )
        group = memo.get(key)
        if group is None:
            group = memo[key] = template % tuple(render[i](key[i]) for i in slots) if slots else template
        if q.kind == "usage":
            out.append(
                (
                    f'{{{bounds},"group":{group},"usage":{{"uncached_input_tokens":{m[0]},"cache_creation":'
                    f'{{"ephemeral_5m_input_tokens":{m[3]},"ephemeral_1h_input_tokens":{m[4]}}},'
                    f'"cache_read_input_tokens":{m[2]},"output_tokens":{m[1]},"requests":{m[5]},'
                    f'"server_tool_use":{{"web_search_requests":{m[6]}}},"total_tokens":{m[0] + m[1] + m[2] + m[3] + m[4]}}}}}'
                ).encode()
            )
        elif not (q.fan_cost_type or q.fan_token_type):
            out.append(f'{{{bounds},"group":{group},"cost":{_cost_json(m[7], m[5])}}}'.encode())
        else:
            fan = fan or _FanOut(fake, q)
            out.extend(fan.rows(bounds, key, m))
    end = q.offset + len(page)
    has_more = end < len(entries)
    return {
        "data": out,
        "has_more": has_more,
        "next_page": encode_cursor(end, q.qhash) if has_more else None,
        "data_refreshed_at": rfc3339(fake.data_refreshed_at()),
    }


class _FanOut:
    """The rows of a group fanned out by cost_type/token_type, as the SDK documents them: one per token type
    (cost type `tokens`) when `token_type` is grouped, else one for tokens; with `cost_type`, web search and
    code execution too; components that cost nothing are left out; `requests` is null.
    The group template and renderers are built once per page, not once per group."""

    def __init__(self, fake: FakeOrganization, q: AnalyticsQuery) -> None:
        self._by_token_type = q.fan_token_type
        self._by_cost_type = q.fan_cost_type
        extra = ("cost_type", "token_type")
        self._template = _group_template(_COST_FIELDS, q.dims, extra)
        self._slots = [
            (q.dims.index(name) if name in q.dims else name, _renderer(fake, name))
            for name in _COST_FIELDS
            if name in q.dims or name in extra
        ]

    def rows(self, bounds: str, key: tuple[Any, ...], m: tuple[int, ...]) -> list[bytes]:
        parts: list[tuple[str, str | None, int]] = []
        tokens = m[8:13]
        if self._by_token_type:
            parts += [
                ("tokens", tt, units) for tt, units in zip(catalog.TOKEN_TYPES, tokens, strict=True) if units
            ]
        elif sum(tokens):
            parts.append(("tokens", None, sum(tokens)))
        if self._by_cost_type:  # `token_type` alone returns the token rows only (the SDK's words)
            if m[13]:
                parts.append(("web_search", None, m[13]))
            if m[14]:
                parts.append(("code_execution", None, m[14]))
        rows = []
        for cost_type, token_type, units in parts:
            types = {"cost_type": cost_type, "token_type": token_type}
            group = self._template % tuple(
                render(key[at] if isinstance(at, int) else types[at]) for at, render in self._slots
            )
            rows.append(f'{{{bounds},"group":{group},"cost":{_cost_json(units, None)}}}'.encode())
        return rows

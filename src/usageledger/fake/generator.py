"""FakeOrganization: a seeded directory and deterministic daily usage, the ground truth of the fake API.

A generated row is a plain tuple, the dimensions in the order of `models.DAILY.dimensions` followed by the
metrics in the order of `models.USAGE_METRICS`, the list price in 1e-8 cents, then the actor it is
attributed to (an id of `fake.actors`) and the product (see `catalog.DIM_INDEX`):

    (organization_id, workspace_id, api_key_id, model, service_tier, context_window, inference_geo, speed,
     uncached_input, output, cache_read, cache_5m, cache_1h, requests, web_search_requests, list_units,
     actor, product)

Each combination has one actor and one product, so both grains sum the same rows.

One row per day and combination; the same day always yields the same rows (for a seed and revision).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from operator import mul
from random import Random
from typing import TYPE_CHECKING, Any

from usageledger.models import (
    DAILY,
    ActorDimensions,
    CostRecord,
    Dimensions,
    Directory,
    HourlyDimensions,
    Organization,
    UsageRecord,
)

from . import catalog
from .actors import Holders, product_of
from .anomalies import Injection, inject
from .directory import FakeKey, FakeWorkspace, build_directory, key_combos
from .faults import FaultPlan
from .hourly import HOURS, HourlySplit
from .spend_limits import build_spend_limits

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = ["FAKE_ADMIN_KEY", "KEY_KINDS", "CallCounter", "FakeOrganization", "Row"]

FAKE_ADMIN_KEY = "sk-ant-admin01-fake-demo-key-0000000000000000000000"
KEY_KINDS = frozenset({"admin", "revoked", "no_usage_scope", "analytics_off"})
FIRST_DAY = dt.date(2026, 1, 1)

Row = tuple[Any, ...]
Combo = tuple[str, str, str | None, str | None, str | None, str | None, str | None, str | None]

_WIDTH = len(DAILY.dimensions)  # a row's dimensions come first, then its metrics
_NO_USAGE = (0,) * (catalog.ACTOR_AT - _WIDTH)
_DAY_CACHE_SIZE = 96
_HOUR_CACHE_SIZE = 6  # a day split by hour is ~20x its rows (19 MB at 2,300 a day): lookback + today
_HOUR = dt.timedelta(hours=1)
_TIER_WEIGHT = {"standard": 1.0, "batch": 2.5, "priority": 1.5}


class CallCounter(Counter[str]):
    """Requests received per path; `reset()` forgets them."""

    def reset(self) -> None:
        self.clear()


@dataclass(frozen=True, slots=True)
class _ComboInfo:
    combo: Combo
    weight: float
    active_from: dt.date
    active_until: dt.date | None
    caching: float
    web_search: bool
    who: tuple[str, str | None]  # actor id and product


class FakeOrganization:
    """A deterministic organization: directory, daily usage and cost, revisions, keys, faults, calls."""

    def __init__(
        self,
        seed: int = 7,
        rows_per_day: int = 120,
        today: dt.date | None = None,
        *,
        name: str | None = None,
        admin_key: str = FAKE_ADMIN_KEY,
        rbac_groups: bool = False,
        anomalies: tuple[Injection, ...] = (),
    ) -> None:
        """`rbac_groups=True` serves the RBAC groups endpoints as a Claude Enterprise organization does;
        by default they answer 403 as on a Console (API platform) organization, like the demo's.
        `anomalies` injects spikes and step changes (`fake.anomalies`) into the generated usage."""
        if rows_per_day < 1:
            raise ValueError("rows_per_day must be at least 1")
        self.seed = seed
        self.rows_per_day = rows_per_day
        self._today = today
        self.faults = FaultPlan()
        self.calls = CallCounter()
        self.keys: dict[str, str] = {admin_key: "admin"}
        self._lock = threading.Lock()
        self._days: OrderedDict[tuple[dt.date, int], list[Row]] = OrderedDict()
        self._hours: OrderedDict[tuple[dt.date, int], list[list[Row]]] = OrderedDict()
        self._revisions: dict[dt.date, int] = {}
        self.revision = 0  # bumps on every revise_days, so cached query results go stale
        built = build_directory(Random(seed), rows_per_day)
        self.organization: Organization = (
            Organization(id=built.organization.id, name=name) if name else built.organization
        )
        self.directory: Directory = built.directory
        self.fake_keys: list[FakeKey] = built.keys
        self.workspaces: list[FakeWorkspace] = built.workspaces
        self.users: list[dict[str, Any]] = built.users
        self.default_workspace_id: str = built.default_workspace_id
        self.rbac_groups_enabled = rbac_groups
        self.anomalies = anomalies
        self.members: list[tuple[str, str, str]] = built.members
        self.rbac_groups: list[tuple[str, str, dt.datetime]] = built.rbac_groups
        self.rbac_members: list[tuple[str, str, str, dt.datetime]] = built.rbac_members
        assert built.holders is not None
        self.holders: Holders = built.holders
        self._combos = self._build_combos(built.keys)
        self._hourly = HourlySplit(seed, (w.id for w in built.workspaces))
        # Anthropic's own caps (fake.spend_limits); set its `mode` to make the endpoint refuse.
        self.spend_limits = build_spend_limits(min(w.created_at for w in built.workspaces), built.workspaces)
        self._app: Starlette | None = None

    # -- clock ---------------------------------------------------------------------------------
    @property
    def today(self) -> dt.date:
        return self._today if self._today is not None else dt.datetime.now(dt.UTC).date()

    def now(self) -> dt.datetime:
        """The fake's clock: the real time, or 09:00 UTC of the injected `today`."""
        if self._today is not None:
            return dt.datetime.combine(self._today, dt.time(9, 0), tzinfo=dt.UTC)
        return dt.datetime.now(dt.UTC)

    def data_refreshed_at(self) -> dt.datetime:
        return self.now().replace(microsecond=0) - dt.timedelta(minutes=7)

    # -- keys and app ----------------------------------------------------------------------------
    def add_key(self, key: str, kind: str) -> None:
        """Register an admin key of a kind: admin, revoked, no_usage_scope or analytics_off."""
        if kind not in KEY_KINDS:
            raise ValueError(f"unknown key kind {kind!r}; use one of {sorted(KEY_KINDS)}")
        self.keys[key] = kind

    @property
    def app(self) -> Starlette:
        if self._app is None:
            from .app import create_app

            self._app = create_app(self)
        return self._app

    # -- universe of combinations ----------------------------------------------------------------
    def _build_combos(self, keys: list[FakeKey]) -> list[_ComboInfo]:
        rng = Random(self.seed * 7919 + 1)
        org = self.organization.id
        combos: list[_ComboInfo] = []
        holders = self.holders
        console = 0
        for key in keys:
            for model_name, tier, window, geo, speed in key_combos(key):
                if key.id is None:  # the Console's usage: each combination one of its users
                    holder = holders.console[console % len(holders.console)]
                    console += 1
                else:
                    holder = holders.by_key[key.id]
                own_product = holders.console_products.get(holder.id, "messages_api")
                who = (holder.id, product_of(holder, tier, model_name, own_product))
                weight = key.weight * rng.uniform(0.3, 1.7)
                start = key.active_from
                if model_name is None:
                    weight *= 0.2
                else:
                    model = catalog.MODEL_BY_NAME[model_name]
                    start = max(start, model.released)
                    weight *= model.weight * _TIER_WEIGHT[tier or "standard"]
                    weight *= (0.4 if window == "200k-1M" else 1.0) * (0.3 if speed == "fast" else 1.0)
                combo: Combo = (org, key.workspace_id, key.id, model_name, tier, window, geo, speed)
                combos.append(
                    _ComboInfo(combo, weight, start, key.active_until, key.caching, key.web_search, who)
                )
        return combos

    def combinations(self) -> list[Row]:
        """Every combination that can ever have usage, as a row without any (dimensions at DIM_INDEX)."""
        return [(*info.combo, *_NO_USAGE, *info.who) for info in self._combos]

    # -- one day ---------------------------------------------------------------------------------
    def day_rows(self, day: dt.date) -> list[Row]:
        """The rows of one day (empty before 2026-01-01 and from `today` on). Do not mutate."""
        if day < FIRST_DAY or day >= self.today:
            return []
        return self._generated_rows(day)

    def _generated_rows(self, day: dt.date) -> list[Row]:
        """The whole day's rows, today's included (hour_rows serves today up to now)."""
        rev = self._revisions.get(day, 0)
        key = (day, rev)
        with self._lock:
            rows = self._days.get(key)
            if rows is not None:
                self._days.move_to_end(key)
                return rows
        rows = self._generate_day(day, rev)
        with self._lock:
            self._days[key] = rows
            while len(self._days) > _DAY_CACHE_SIZE:
                self._days.popitem(last=False)
        return rows

    def hour_rows(self, day: dt.date) -> list[list[Row]]:
        """The rows of each UTC hour of a day (24 lists, hour 0 first), summing exactly to the day's rows.

        Today's rows are the whole day's, served only up to and including the current hour (the hours
        already served never change as the clock moves on); later hours and later days are empty.
        Do not mutate.
        """
        if day < FIRST_DAY or day > self.today:
            return [[] for _ in range(HOURS)]
        key = (day, self._revisions.get(day, 0))
        with self._lock:
            hours = self._hours.get(key)
            if hours is not None:
                self._hours.move_to_end(key)
        if hours is None:
            hours = self._hourly.split_day(day, self._generated_rows(day), metric_prices)
            with self._lock:
                self._hours[key] = hours
                while len(self._hours) > _HOUR_CACHE_SIZE:
                    self._hours.popitem(last=False)
        if day == self.today:
            served = self.now().hour + 1
            return hours[:served] + [[] for _ in range(HOURS - served)]
        return hours

    def _active(self, day: dt.date) -> list[_ComboInfo]:
        return [
            c
            for c in self._combos
            if c.active_from <= day and (c.active_until is None or day < c.active_until)
        ]

    def _generate_day(self, day: dt.date, rev: int) -> list[Row]:
        rng = Random(self.seed * 1_000_003 + day.toordinal())
        active = self._active(day)
        progress = (day - FIRST_DAY).days / 365
        weekend = day.weekday() >= 5
        count = round(self.rows_per_day * (0.82 if weekend else 1.07) * (0.96 + 0.08 * progress))
        chosen = sorted(rng.sample(range(len(active)), min(count, len(active))))
        scale = (0.35 if weekend else 1.0) * (0.6 + 0.9 * progress)
        rows = [self._make_row(active[i], rng, scale) for i in chosen]
        for r in range(1, rev + 1):
            rows = self._revise(rows, active, Random(self.seed * 7_000_003 + day.toordinal() * 31 + r), scale)
        return inject(rows, day, self.anomalies)

    @staticmethod
    def _make_row(info: _ComboInfo, rng: Random, scale: float) -> Row:
        combo = info.combo
        model, tier, window, speed = combo[3], combo[4], combo[5], combo[7]
        requests = max(1, int(info.weight * scale * 40 * rng.lognormvariate(0.0, 0.7)))
        if model is None:  # code execution: execution spans, no tokens, billed per span
            spans = requests * catalog.CODE_EXECUTION_UNITS_PER_SPAN
            return (*combo, 0, 0, 0, 0, 0, requests, 0, spans, *info.who)
        per_request = rng.randint(250_000, 400_000) if window == "200k-1M" else rng.randint(300, 6_000)
        uncached = requests * per_request
        output = requests * rng.randint(80, 900)
        cache_read = int(uncached * info.caching * rng.uniform(0.5, 4.0))
        cache_5m = int(uncached * info.caching * rng.uniform(0.02, 0.25))
        cache_1h = int(uncached * info.caching * rng.uniform(0.0, 0.08)) if rng.random() < 0.3 else 0
        web = int(requests * rng.uniform(0.02, 0.3)) if info.web_search and tier == "standard" else 0
        prices = catalog.unit_prices(model, tier, window, speed)
        units = (
            uncached * prices[0]
            + output * prices[1]
            + cache_read * prices[2]
            + cache_5m * prices[3]
            + cache_1h * prices[4]
            + web * catalog.WEB_SEARCH_UNITS_PER_REQUEST
        )
        return (*combo, uncached, output, cache_read, cache_5m, cache_1h, requests, web, units, *info.who)

    def _revise(self, rows: list[Row], active: list[_ComboInfo], rng: Random, scale: float) -> list[Row]:
        """Late data: some rows grow, one combination disappears, one appears."""
        revised: list[Row] = []
        for row in rows:
            if rng.random() < 0.3:
                factor = 1 + rng.uniform(0.01, 0.15)
                metrics = [int(v * factor) for v in row[8:15]]
                metrics[5] = max(metrics[5], row[13])
                revised.append(_reprice(row[:8], metrics) + row[catalog.ACTOR_AT :])
            else:
                revised.append(row)
        if len(revised) > 1:
            del revised[rng.randrange(len(revised))]
        present = {row[:8] for row in revised}
        missing = [c for c in active if c.combo not in present]
        if missing:
            revised.append(self._make_row(missing[rng.randrange(len(missing))], rng, scale))
        return revised

    def revise_days(self, days: Iterable[dt.date]) -> None:
        """Change the numbers of these days (and drop/add a combination), as late data does."""
        with self._lock:
            for day in days:
                self._revisions[day] = self._revisions.get(day, 0) + 1
            self.revision += 1

    # -- ground truth ----------------------------------------------------------------------------
    def iter_rows(self, start: dt.date, end: dt.date) -> Iterable[tuple[dt.date, Row]]:
        day = start
        while day < end:
            for row in self.day_rows(day):
                yield day, row
            day += dt.timedelta(days=1)

    def truth_usage(self, start: dt.date, end: dt.date) -> list[UsageRecord]:
        """One record per day x full dimension tuple, `end` exclusive."""
        return [
            UsageRecord(
                day,
                Dimensions._make(row[:_WIDTH]),
                row[8],
                row[9],
                row[10],
                row[11],
                row[12],
                row[13],
                row[14],
            )
            for day, row in self.iter_rows(start, end)
        ]

    def truth_cost(self, start: dt.date, end: dt.date) -> list[CostRecord]:
        """One record per day x full dimension tuple, amounts in cents (10% below list), `end` exclusive."""
        return [
            CostRecord(
                day,
                Dimensions._make(row[:_WIDTH]),
                amount_cents(row[15]),
                list_amount_cents(row[15]),
                "USD",
                row[13],
            )
            for day, row in self.iter_rows(start, end)
        ]

    def iter_hour_rows(self, start: dt.datetime, end: dt.datetime) -> Iterable[tuple[dt.datetime, Row]]:
        """(hour, row) for every hour that starts in [start, end), as aware UTC datetimes."""
        day = start.astimezone(dt.UTC).date()
        while (midnight := dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)) < end:
            for hour, rows in enumerate(self.hour_rows(day)):
                moment = midnight + hour * _HOUR
                if rows and start <= moment < end:
                    for row in rows:
                        yield moment, row
            day += dt.timedelta(days=1)

    def truth_hourly_usage(self, start: dt.datetime, end: dt.datetime) -> list[UsageRecord]:
        """The hourly grain as it should be stored: one record per hour x workspace and model, `end` exclusive."""
        sums: dict[tuple[dt.datetime, HourlyDimensions], list[int]] = {}
        for hour, row in self.iter_hour_rows(start, end):
            metrics = sums.setdefault((hour, _hourly_dims(row)), [0] * 7)
            for i, value in enumerate(row[_WIDTH : _WIDTH + 7]):
                metrics[i] += value
        return [UsageRecord(hour, dims, *m) for (hour, dims), m in sums.items()]

    def truth_hourly_cost(self, start: dt.datetime, end: dt.datetime) -> list[CostRecord]:
        """The hourly grain's cost as stored: per hour x workspace and model, whole (the grain does not break
        cost out by type, so its breakdown is ()), `end` exclusive."""
        sums: dict[tuple[dt.datetime, HourlyDimensions], tuple[int, int]] = {}
        for hour, row in self.iter_hour_rows(start, end):
            key = (hour, _hourly_dims(row))
            units, requests = sums.get(key, (0, 0))
            sums[key] = (units + row[15], requests + row[13])
        return [
            CostRecord(hour, dims, amount_cents(units), list_amount_cents(units), "USD", requests, ())
            for (hour, dims), (units, requests) in sums.items()
        ]

    def _actor_dims(self, row: Row) -> ActorDimensions:
        """A row's dimensions at the actor grain; identities that cannot be shown have neither kind nor id."""
        actor = self.holders.actors[row[catalog.ACTOR_AT]]
        return ActorDimensions(
            row[0],
            actor.type,
            actor.id if actor.type is not None else None,
            row[catalog.ACTOR_AT + 1],
            row[3],
            row[1],
            row[7],
        )

    def truth_actor_usage(self, start: dt.date, end: dt.date) -> list[UsageRecord]:
        """The actor grain as it should be stored: one record per day x actor dimensions, `end` exclusive.

        Rows of identities that cannot be shown (null actor) are summed into one record.
        """
        sums: dict[tuple[dt.date, ActorDimensions], list[int | None]] = {}
        for day, row in self.iter_rows(start, end):
            metrics = sums.setdefault((day, self._actor_dims(row)), [0] * 7)
            for i, value in enumerate(row[_WIDTH : _WIDTH + 7]):
                metrics[i] = (metrics[i] or 0) + value
        return [UsageRecord(day, dims, *m) for (day, dims), m in sums.items()]  # type: ignore[arg-type]

    def truth_actor_cost(self, start: dt.date, end: dt.date) -> list[CostRecord]:
        """Cost at the actor grain as stored: whole (the grain does not break cost out by type, so its
        breakdown is ()), null actors summed, `end` exclusive."""
        sums: dict[tuple[dt.date, ActorDimensions], tuple[int, int]] = {}
        for day, row in self.iter_rows(start, end):
            key = (day, self._actor_dims(row))
            units, requests = sums.get(key, (0, 0))
            sums[key] = (units + row[15], requests + row[13])
        return [
            CostRecord(day, dims, amount_cents(units), list_amount_cents(units), "USD", requests, ())
            for (day, dims), (units, requests) in sums.items()
        ]

    def truth_cost_by_type(self, start: dt.date, end: dt.date) -> list[CostRecord]:
        """Cost as the sync stores it: per day × dimensions × cost type and token type, `end` exclusive."""
        from .breakdown import truth_cost_by_type  # the fan-out's split lives beside the endpoint's

        return truth_cost_by_type(self.iter_rows(start, end), lambda row: Dimensions._make(row[:_WIDTH]))

    def truth_actor_cost_by_type(self, start: dt.date, end: dt.date) -> list[CostRecord]:
        """The actor grain's cost as stored: per day × actor dimensions × cost and token type, null actors summed."""
        from .breakdown import truth_cost_by_type

        return truth_cost_by_type(self.iter_rows(start, end), self._actor_dims)


_HOURLY_AT = [catalog.DIM_INDEX[name] for name in HourlyDimensions._fields]


def _hourly_dims(row: Row) -> HourlyDimensions:
    return HourlyDimensions._make([row[i] for i in _HOURLY_AT])


def _reprice(dims: tuple[Any, ...], metrics: list[int]) -> Row:
    if dims[3] is None:
        return (*dims, 0, 0, 0, 0, 0, metrics[5], 0, metrics[5] * catalog.CODE_EXECUTION_UNITS_PER_SPAN)
    return (*dims, *metrics, sum(map(mul, metric_prices(dims), metrics)))


def metric_prices(dims: tuple[Any, ...]) -> tuple[int, ...]:
    """List units per unit of each of the 7 metrics of a row with these dimensions: a row's list units
    are the sum of its metrics times these (tokens at their prices, web searches, code execution spans)."""
    if dims[3] is None:  # code execution: each request is billed as execution spans
        return (0, 0, 0, 0, 0, catalog.CODE_EXECUTION_UNITS_PER_SPAN, 0)
    prices = catalog.unit_prices(dims[3], dims[4], dims[5], dims[7])
    return (*prices, 0, catalog.WEB_SEARCH_UNITS_PER_REQUEST)


def list_amount_cents(list_units: int) -> Decimal:
    """List price in cents from 1e-8-cent units."""
    return Decimal(list_units).scaleb(-8)


def amount_cents(list_units: int) -> Decimal:
    """Negotiated (10% off) price in cents from list units."""
    return Decimal(list_units * 9).scaleb(-9)


def format_cents(value: Decimal) -> str:
    """A decimal string in plain notation without trailing zeros, e.g. '1234.5' or '0'."""
    return format(value.normalize(), "f")


def list_amount_text(list_units: int) -> str:
    """`format_cents(list_amount_cents(units))`, fast (it renders every cost row the fake serves)."""
    whole, frac = divmod(list_units, 100_000_000)
    return f"{whole}.{frac:08d}".rstrip("0") if frac else str(whole)


def amount_text(list_units: int) -> str:
    """`format_cents(amount_cents(units))`, fast."""
    whole, frac = divmod(list_units * 9, 1_000_000_000)
    return f"{whole}.{frac:09d}".rstrip("0") if frac else str(whole)


__all__ += [
    "amount_cents",
    "amount_text",
    "format_cents",
    "list_amount_cents",
    "list_amount_text",
    "metric_prices",
]

"""The actor grain of one window: written beside the daily grain, in its transaction, and checked against it.

A day's rows with `actor: null` are distinct identities the server cannot render (or cannot show this
reader), each its own row, so several can share every visible dimension. They are not a repeated page:
they are held back and summed into one row per natural key, written when the window's pages are done.
Rows that name an actor go straight to the writer, which still refuses a repeated key there (a cursor
that led back to an earlier page).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy.engine import Connection

from .. import store
from ..anthropic import ActorPage
from ..models import ACTOR, TOKEN_METRICS, ActorInfo, CostRecord, UsageRecord, Window
from .events import record_event, record_grain_mismatch

__all__ = ["ActorWindow", "DayTotals", "check_grains", "note_actor_grain_skipped"]

_CENT = Decimal("0.01")


def _add(a: int | None, b: int | None) -> int | None:
    """A metric the source may not report (None) stays None only while every part is None."""
    if a is None:
        return b
    return a if b is None else a + b


# Where a record keeps its day, its tokens and its cost (positions of the NamedTuples, read by C-level
# getters: these sums run over every row of a backfill).
_DAY = itemgetter(0)
_TOKENS = tuple(itemgetter(UsageRecord._fields.index(name)) for name in TOKEN_METRICS)
_AMOUNT = itemgetter(CostRecord._fields.index("amount_cents"))


class DayTotals:
    """Tokens (uncached input, output, cache read, cache 5m, cache 1h) and cost in cents, per day.

    A page lists its rows in runs of one day (reports are ordered by time): each run is summed by C-level
    `sum`s. Rows out of order only make more runs; the sums are the same.
    """

    __slots__ = ("cents", "tokens")

    def __init__(self) -> None:
        self.tokens: dict[dt.date, list[int]] = {}
        self.cents: dict[dt.date, Decimal] = {}

    def add_usage(self, records: Iterable[UsageRecord]) -> None:
        tokens = self.tokens
        for day, run in groupby(records, _DAY):
            rows = list(run)
            t = tokens.get(day)
            if t is None:
                t = tokens[day] = [0] * len(_TOKENS)
            for i, token_count in enumerate(_TOKENS):
                t[i] += sum(map(token_count, rows))

    def add_cost(self, records: Iterable[CostRecord]) -> None:
        cents = self.cents
        for day, run in groupby(records, _DAY):
            cents[day] = sum(map(_AMOUNT, run), cents.get(day, Decimal(0)))

    def window_tokens(self) -> tuple[int, ...]:
        """Every day's tokens added up, in the order of `tokens`."""
        return tuple(sum(day[i] for day in self.tokens.values()) for i in range(len(_TOKENS)))

    def window_cents(self) -> Decimal:
        return sum(self.cents.values(), Decimal(0))

    def differences(self, other: DayTotals) -> list[str]:
        """Each day whose tokens differ, or whose cost differs by more than a cent, said in words."""
        problems = []
        zero = [0] * len(_TOKENS)
        for day in sorted(self.tokens.keys() | other.tokens.keys()):
            mine, theirs = self.tokens.get(day, zero), other.tokens.get(day, zero)
            if mine != theirs:
                problems.append(f"{day}: tokens {tuple(mine)} vs {tuple(theirs)}")
        for day in sorted(self.cents.keys() | other.cents.keys()):
            mine_c, theirs_c = self.cents.get(day, Decimal(0)), other.cents.get(day, Decimal(0))
            if abs(mine_c - theirs_c) > _CENT:
                problems.append(f"{day}: cost {mine_c} vs {theirs_c} cents")
        return problems


def _sum_usage(a: UsageRecord, b: UsageRecord) -> UsageRecord:
    return UsageRecord(
        a.day,
        a.dims,
        a.uncached_input_tokens + b.uncached_input_tokens,
        a.output_tokens + b.output_tokens,
        a.cache_read_input_tokens + b.cache_read_input_tokens,
        a.cache_creation_5m_input_tokens + b.cache_creation_5m_input_tokens,
        a.cache_creation_1h_input_tokens + b.cache_creation_1h_input_tokens,
        _add(a.requests, b.requests),
        a.web_search_requests + b.web_search_requests,
    )


def _sum_cost(a: CostRecord, b: CostRecord) -> CostRecord:
    return CostRecord(
        a.day,
        a.dims,
        a.amount_cents + b.amount_cents,
        a.list_amount_cents + b.list_amount_cents,
        a.currency,
        _add(a.requests, b.requests),
        a.breakdown,
    )


class ActorWindow:
    """Writes one window of the actor grain through its own WindowWriter, in the caller's transaction."""

    def __init__(
        self,
        conn: Connection,
        connection_id: int,
        run_id: int,
        window: Window,
        inserts: store.InsertThread | None = None,
    ) -> None:
        self._conn = conn
        self._connection_id = connection_id
        self._writer = store.WindowWriter(conn, connection_id, run_id, window, grain=ACTOR, inserts=inserts)
        self.totals = DayTotals()
        self._held_usage: dict[tuple[dt.date, Any], UsageRecord] | None = None
        self._held_cost: dict[tuple[dt.date, Any, Any], CostRecord] | None = None
        self._actors: dict[ActorInfo, dt.date] = {}

    def write_usage(self, page: ActorPage[UsageRecord]) -> None:
        records = page.records
        self.totals.add_usage(records)
        held = self._held_usage = {} if self._held_usage is None else self._held_usage
        passing = []
        for r in records:
            if r.dims[2] is not None:  # an actor id: a key the API lists once
                passing.append(r)
                continue
            key = (r.day, r.dims)
            earlier = held.get(key)
            held[key] = r if earlier is None else _sum_usage(earlier, r)
        self._writer.write_usage(passing)
        self._note_actors(page)

    def write_cost(self, page: ActorPage[CostRecord]) -> None:
        records = page.records
        self.totals.add_cost(records)
        held = self._held_cost = {} if self._held_cost is None else self._held_cost
        passing = []
        for r in records:
            if r.dims[2] is not None:
                passing.append(r)
                continue
            key = (r.day, r.dims, r.breakdown)  # each cost and token type of a null actor is its own row
            earlier = held.get(key)
            held[key] = r if earlier is None else _sum_cost(earlier, r)
        self._writer.write_cost(passing)
        self._note_actors(page)

    def _note_actors(self, page: ActorPage[UsageRecord] | ActorPage[CostRecord]) -> None:
        actors = self._actors
        for actor, day in page.actors.items():
            if actors.get(actor, day) <= day:
                actors[actor] = day

    def finish(self) -> store.WindowResult:
        """Write the summed null-actor rows and who each actor is, then finish the writer."""
        if self._held_usage is not None:
            self._writer.write_usage(self._held_usage.values())
        if self._held_cost is not None:
            self._writer.write_cost(self._held_cost.values())
        self._writer.wait_for_inserts()  # the connection runs nothing else while the insert thread does
        store.upsert_actors(self._conn, self._connection_id, self._actors)
        return self._writer.finish()


def check_grains(
    conn: Connection, connection: store.ConnectionRow, window: Window, daily: DayTotals, actor: DayTotals
) -> None:
    """Both grains hold the same usage: per day, their tokens must be equal and their cost within a cent."""
    problems = actor.differences(daily)
    if problems:
        record_grain_mismatch(
            conn,
            connection,
            "actor",
            f"The actor grain does not add up to the daily grain between {window.start} and "
            f"{window.end - dt.timedelta(days=1)} (actor vs daily)",
            problems,
            "re-sync this range later with --since/--until.",
        )


def note_actor_grain_skipped(conn: Connection, connection: store.ConnectionRow) -> None:
    """The classic reports have no actors: say once, not on every sync, that the actor grain stays empty."""
    if store.list_events(conn, connection_id=connection.id, kind="grain_skipped", limit=1):
        return
    record_event(
        conn,
        connection,
        "grain_skipped",
        "info",
        "This connection reads the classic usage and cost reports, which do not say who used what: usage "
        "by actor and product is not synced. A key that can read the analytics endpoints brings it.",
    )

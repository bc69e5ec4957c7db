"""Writing one window of synced rows: replace, never add.

`WindowWriter` upserts usage and cost records on their natural key (connection, day, every dimension)
with `INSERT … ON CONFLICT … DO UPDATE`, stamping each row with the sync run that wrote it. `finish()`
then deletes the window's rows this run did not write (they vanished upstream), so re-syncing a
day replaces it exactly, and rebuilds the window's rollups (store.rollups) when any row was written or
deleted: a window whose rows did not move already has them. Rows are plain tuples sent a few hundred
to a statement (store.bulk): this is the hot path of a backfill.

A report never lists one group twice; if a page does (a cursor led back to an earlier page), the
window fails with RepeatedRowError. Into a window with no stored rows (a backfill) rows go with a
plain INSERT, and the natural key's unique constraint refuses the repeat at no cost; into a window
with stored rows the writer remembers the keys it wrote.

Days of a closed month (store.closes) are frozen: their stored rows are kept as they are (and summed into
the rollups again), and the re-fetched numbers of such a day go to `book_revisions`, which books any
difference as an adjustment in the first open month. Nothing else of the writer knows about closes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any

from sqlalchemy import Connection, update
from sqlalchemy.exc import IntegrityError

from usageledger.models import DAILY, CostRecord, Grain, UsageRecord, Window
from usageledger.store.bulk import BulkInsert, parameter_mark
from usageledger.store.closes import book_revisions, frozen_days
from usageledger.store.insert_thread import InsertFailed, InsertThread
from usageledger.store.rollups import RollupSums
from usageledger.store.tables import connections

__all__ = [
    "RepeatedRowError",
    "WindowResult",
    "WindowWriter",
    "cents_to_microcents",
    "delete_by_key_sql",
    "on_conflict_update_sql",
]

_EXACT = Context(prec=80, rounding=ROUND_HALF_EVEN)


def _decimal(value: Decimal | str | int) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def cents_to_microcents(cents: Decimal | str | int) -> int:
    """Exact: cents × 1,000,000, rounded half-even to an integer (never through float)."""
    return round(_decimal(cents).scaleb(6, _EXACT))


class RepeatedRowError(ValueError):
    """A window received the same row (day and dimensions) twice; nothing of the window is kept."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"the same {kind} row was written twice in one window")
        self.kind = kind


@dataclass(frozen=True, slots=True)
class WindowResult:
    usage_rows: int
    cost_rows: int
    revised: int
    removed: int  # stored rows that vanished upstream
    # Cost rows stored before cost was broken out by type (a combined total, '' types), replaced by the
    # broken-out rows of their day: a change of how the day is stored, not late data, so not in `removed`.
    restated: int = 0
    # Cost rows of closed days whose re-fetched numbers differ: booked as adjustments, the rows kept.
    adjusted: int = 0


def _key_columns(key: tuple[str, ...], bucket: str = "day") -> tuple[str, ...]:
    return ("connection_id", bucket, *key)


def on_conflict_update_sql(key: tuple[str, ...], metrics: tuple[str, ...], bucket: str = "day") -> str:
    """The suffix that makes an INSERT of a grain's rows replace the numbers of a row already stored."""
    updates = ", ".join(f"{name} = excluded.{name}" for name in (*metrics, "sync_run_id"))
    return f"ON CONFLICT ({', '.join(_key_columns(key, bucket))}) DO UPDATE SET {updates}"


def delete_by_key_sql(key: tuple[str, ...], table: str, placeholder: str, bucket: str = "day") -> str:
    """A DELETE of one row by its natural key (connection, time bucket, `key`), for executemany."""
    conditions = " AND ".join(f"{name} = {placeholder}" for name in _key_columns(key, bucket))
    return f"DELETE FROM {table} WHERE {conditions}"


def _select_sql(key: tuple[str, ...], table: str, metrics: tuple[str, ...], placeholder: str) -> str:
    return (
        f"SELECT day, {', '.join(key)}, {', '.join(metrics)} FROM {table} "
        f"WHERE connection_id = {placeholder} AND day >= {placeholder} AND day < {placeholder}"
    )


def _layout(
    grain: Grain, kind: str
) -> tuple[str, tuple[str, ...], tuple[str, ...], dict[str, tuple[str, ...]]]:
    """A kind's table, natural key (after connection and day), metrics and rollups in this grain.

    Cost rows are keyed by the cost breakdown too (cost type, token type): a row that predates it (''
    for both) is another key, so re-fetching its day deletes it like any row that vanished upstream.
    """
    if kind == "usage":
        return grain.usage_table, grain.dimensions, grain.usage_metrics, grain.rollups
    return grain.cost_table, grain.cost_dimensions, grain.cost_metrics, grain.all_cost_rollups()


def _whole(breakdown: tuple[str | None, ...]) -> tuple[str, ...]:
    """The stored breakdown of a grain that keeps each group's cost whole: none."""
    return ()


class _StoredValues(dict[tuple[str | None, ...], tuple[str, ...]]):
    """Dimension values → as stored: '' for None (a NULL would not be unique in the natural key).

    A page repeats few groups (a group's dimensions recur every day), so each is made once, on its first
    lookup, and found by the dict's own lookup after that."""

    def __missing__(self, values: tuple[str | None, ...]) -> tuple[str, ...]:
        stored = self[values] = tuple([v or "" for v in values])
        return stored


class _Target:
    """Per-table state of a window: statements, the rows stored before this run, counters.

    A row tuple is (connection, day, dimensions…, metrics…, sync run): `key` and `numbers` slice it.
    """

    __slots__ = (
        "before",
        "breakdown",
        "delete_sql",
        "frozen",
        "frozen_new",
        "insert",
        "key",
        "keys",
        "kind",
        "matched",
        "numbers",
        "removed",
        "seen",
        "sent",
        "sums",
        "written",
    )

    def __init__(
        self,
        conn: Connection,
        grain: Grain,
        kind: str,
        placeholder: str,
        before: dict[tuple[Any, ...], tuple[Any, ...]],
    ) -> None:
        self.kind = kind
        table, key, metrics, rollups = _layout(grain, kind)
        columns = (*_key_columns(key), *metrics, "sync_run_id")
        width = 2 + len(key)
        self.key = slice(1, width)  # day and natural key
        self.numbers = slice(width, -1)  # metrics
        self.breakdown = len(key) - len(grain.dimensions)  # the key's last values: cost type, token type
        self.sums = RollupSums(grain, kind, columns) if rollups else None
        # Nothing stored yet: a plain INSERT, and the unique natural key refuses a repeated row.
        self.insert = BulkInsert(conn, table, columns, on_conflict_update_sql(key, metrics) if before else "")
        self.delete_sql = delete_by_key_sql(key, table, placeholder)
        self.before = before
        self.keys: set[tuple[Any, ...]] | None = set() if before else None  # written, when upserting
        self.seen = False
        self.written = 0
        self.matched = 0  # written rows that were stored before (the rest are new)
        self.sent = 0  # rows inserted or upserted: new or revised (unchanged ones are not sent)
        self.removed = 0  # stored rows deleted as vanished upstream
        # Closed days (store.closes): their stored rows, kept as they are, and the numbers re-fetched for them.
        self.frozen: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self.frozen_new: dict[tuple[Any, ...], tuple[Any, ...]] = {}


class WindowWriter:
    """Upserts the rows of one window for one sync run; call `finish()` once the window is complete.

    Rows stored before are loaded at construction (natural key → numbers). A record whose numbers are
    unchanged is not rewritten; a changed one is upserted and counted as revised; a stored row that no
    record of this run matched has vanished upstream and is deleted by `finish()`. The connection's
    sync lock guarantees nobody else writes the window meanwhile.
    """

    def __init__(
        self,
        conn: Connection,
        connection_id: int,
        run_id: int,
        window: Window,
        grain: Grain = DAILY,
        inserts: InsertThread | None = None,
    ) -> None:
        """`inserts`: run the row inserts in that thread (store.insert_thread); `finish` waits for them."""
        self._conn = conn
        self._inserts = inserts
        self._connection_id = connection_id
        self._run_id = run_id
        self._window = window
        self._grain = grain
        self._sqlite = conn.dialect.name == "sqlite"
        self._day_cache: dict[dt.date, Any] = {}
        self._heads: dict[dt.date, tuple[int, Any]] = {}
        self._dims = _StoredValues()
        self._revised = 0
        mark = parameter_mark(conn)
        closed = frozen_days(conn, connection_id, window.start, window.end)
        self._frozen = frozenset(self._day_value(day) for day in closed)  # days as bound: text on SQLite
        self._usage = self._target(grain, "usage", mark)
        self._cost = self._target(grain, "cost", mark)

    def _target(self, grain: Grain, kind: str, placeholder: str) -> _Target:
        table, key, metrics, _ = _layout(grain, kind)
        before = self._load(_select_sql(key, table, metrics, placeholder), 1 + len(key))
        frozen = {k: v for k, v in before.items() if k[0] in self._frozen} if self._frozen else {}
        for k in frozen:  # not in `before`: neither replaced nor deleted as vanished
            del before[k]
        target = _Target(self._conn, grain, kind, placeholder, before)
        target.frozen = frozen
        return target

    def _day_value(self, day: dt.date) -> Any:
        """How a day is bound: ISO text on SQLite (as SQLAlchemy's Date stores it), a date elsewhere."""
        value = self._day_cache.get(day)
        if value is None:
            value = self._day_cache[day] = day.isoformat() if self._sqlite else day
        return value

    def _load(self, sql: str, width: int) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        """Natural key (day, dimensions[, breakdown]) → numbers of the rows stored before this run."""
        params = (self._connection_id, self._day_value(self._window.start), self._day_value(self._window.end))
        result = self._conn.exec_driver_sql(sql, params)
        try:
            raw = result.cursor.fetchall() if result.cursor is not None else []
        finally:
            result.close()
        return {tuple(row[:width]): tuple(row[width:]) for row in raw}

    # The hot path of a backfill builds each row by concatenating tuples that are looked up, not
    # built: a page repeats few days and few groups (a group's dimensions recur every day), so each
    # day's bound value and each dimensions tuple with '' for None are made once, then found in a dict.

    def _day_and_id(self, day: dt.date) -> tuple[int, Any]:
        """(connection, the day as bound): the head of every row of that day."""
        head = self._heads[day] = (self._connection_id, self._day_value(day))
        return head

    def write_usage(self, records: Iterable[UsageRecord]) -> int:
        """Upsert one page of usage records; returns how many were written."""
        heads, head_of, stored, tail = (
            self._heads.get,
            self._day_and_id,
            self._dims.__getitem__,
            (self._run_id,),
        )
        # A record is (day, dimensions, metrics in the order of the grain's usage metrics).
        rows = [(heads(r[0]) or head_of(r[0])) + stored(r[1]) + r[2:] + tail for r in records]
        self._send(self._divert_frozen(rows, self._usage) if self._frozen else rows, self._usage)
        return len(rows)

    def write_cost(self, records: Iterable[CostRecord]) -> int:
        """Upsert one page of cost records (cents → exact integer micro-cents); returns how many."""
        heads, head_of, stored, run, exact = (
            self._heads.get,
            self._day_and_id,
            self._dims.__getitem__,
            self._run_id,
            _EXACT,
        )
        # A grain that keeps cost whole has no breakdown columns: a record's (a default of all None) is not
        # stored, and two records of one group would be the same row (RepeatedRowError).
        breakdown_of = stored if self._grain.cost_breakdown else _whole
        rows = [
            (heads(day) or head_of(day))
            + stored(group)
            + breakdown_of(breakdown)
            + (round(amount.scaleb(6, exact)), round(list_amount.scaleb(6, exact)), currency, requests, run)
            # Unpacked, not read by name: a NamedTuple's attributes cost a lookup each, on the hot path.
            for day, group, amount, list_amount, currency, requests, breakdown in records
        ]
        self._send(self._divert_frozen(rows, self._cost) if self._frozen else rows, self._cost)
        return len(rows)

    def _divert_frozen(self, rows: list[tuple[Any, ...]], target: _Target) -> list[tuple[Any, ...]]:
        """The rows of open days; those of closed days are set aside (natural key → numbers), not written."""
        kept = []
        for row in rows:
            if row[1] in self._frozen:
                key = row[target.key]
                if key in target.frozen_new:
                    raise RepeatedRowError(target.kind)
                target.frozen_new[key] = row[target.numbers]
            else:
                kept.append(row)
        target.seen = True
        return kept

    def _send(self, rows: list[tuple[Any, ...]], target: _Target) -> int:
        target.seen = True
        if not rows:
            return 0
        target.written += len(rows)
        if target.sums is not None:
            target.sums.add(rows)  # every row, unchanged ones too: the rollups are rebuilt from them
        keys = target.keys
        if keys is not None:  # rows were stored before: skip unchanged rows, count revised ones
            before, changed, revised = target.before, [], 0
            key_of, numbers_of = target.key, target.numbers
            for row in rows:
                key = row[key_of]
                if key in keys:
                    raise RepeatedRowError(target.kind)
                keys.add(key)
                old = before.pop(key, None)
                if old is None:
                    changed.append(row)
                    continue
                target.matched += 1
                if old != row[numbers_of]:
                    revised += 1
                    changed.append(row)
            self._revised += revised
            rows = changed
        if rows:
            target.sent += len(rows)
            with _repeated_rows_refused(target.kind):
                target.insert.send(self._conn, rows, via=self._inserts, what=target.kind)
        return target.written

    def wait_for_inserts(self) -> None:
        """Return once the rows handed to the insert thread are stored: before the connection runs anything
        else. A repeated row among them raises RepeatedRowError."""
        if self._inserts is not None:
            with _repeated_rows_refused("usage or cost"):
                self._inserts.wait()

    def finish(self) -> WindowResult:
        """Delete the window's stored rows this run did not see (only for kinds it wrote) and report."""
        self.wait_for_inserts()
        removed = restated = 0
        stored_delta = []
        for target in (self._usage, self._cost):
            gone = 0
            if target.seen and target.before:
                cid = self._connection_id
                self._conn.exec_driver_sql(target.delete_sql, [(cid, *key) for key in target.before])
                gone = len(target.before)
                restated += _restated(target)
                target.before = {}
            target.removed = gone
            removed += gone
            stored_delta.append(target.written - target.matched - gone)
        removed -= restated
        # Row counts live on the connection: counting a year of rows on every page view is too slow.
        # They count the daily grain, the one the pages show; other grains hold the same usage again.
        if self._grain is DAILY:
            self._conn.execute(
                update(connections)
                .where(connections.c.id == self._connection_id)
                .values(
                    usage_rows_stored=connections.c.usage_rows_stored + stored_delta[0],
                    cost_rows_stored=connections.c.cost_rows_stored + stored_delta[1],
                )
            )
        adjusted = self._keep_frozen()
        for target in (self._usage, self._cost):
            # Rollups are written with their rows, in the same transaction: when no row of the window
            # was sent or deleted (an hourly sync's lookback that did not move), its stored rollups and
            # their monthly twins are already these sums, and rewriting them would only churn the database.
            if target.seen and target.sums is not None and (target.sent or target.removed):
                target.sums.replace_window(
                    self._conn, self._connection_id, self._window.start, self._window.end
                )
        return WindowResult(
            usage_rows=self._usage.written,
            cost_rows=self._cost.written,
            revised=self._revised,
            removed=removed,
            restated=restated,
            adjusted=adjusted,
        )

    def _keep_frozen(self) -> int:
        """Sum the kept rows of closed days into the rollups again; book the daily grain's cost revisions."""
        cid, run = self._connection_id, self._run_id
        for target in (self._usage, self._cost):
            if target.seen and target.sums is not None and target.frozen:
                target.sums.add([(cid, *key, *numbers, run) for key, numbers in target.frozen.items()])
        cost = self._cost
        if self._grain is not DAILY or not cost.seen or not (cost.frozen or cost.frozen_new):
            return 0
        return book_revisions(self._conn, cid, run, cost.frozen, cost.frozen_new)


@contextmanager
def _repeated_rows_refused(kind: str) -> Iterator[None]:
    """The unique natural key's refusal of an insert as the RepeatedRowError it means (the same row twice
    in one window), whether the insert ran here or in the insert thread (labelled with its kind there)."""
    try:
        yield
    except InsertFailed as failed:
        error = failed.error
        if isinstance(error, IntegrityError) and "unique" in str(error.orig).lower():
            raise RepeatedRowError(failed.what or kind) from None
        raise error from None
    except IntegrityError as exc:
        if "unique" not in str(exc.orig).lower():
            raise
        raise RepeatedRowError(kind) from None


def _restated(target: _Target) -> int:
    """The target's vanished rows that are combined totals ('' breakdown) of a day this run broke out."""
    width = target.breakdown
    if not width or not target.keys:
        return 0
    broken_out_days = {key[0] for key in target.keys if any(key[-width:])}
    return sum(1 for key in target.before if key[0] in broken_out_days and not any(key[-width:]))

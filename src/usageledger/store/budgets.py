"""Budgets: a monthly amount for one subject (an organization, workspace, API key, model, team, cost center,
person or application) with the thresholds, in percent, that raise an alert when spend or its forecast
crosses them.

Amounts are exact: parsed from text as Decimal US dollars (at most two decimals) and stored as integer
micro-cents, as the cost rows are. Every create, change and delete writes a `budget_changed` event in the
same transaction, saying who changed what from what to what, so the event log is the audit trail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
    delete,
    select,
    update,
)

from usageledger.errors import ConflictError, NotFoundError, UsageError

from .runs import add_event
from .tables import UTCDateTime, applications, connections, metadata, people, teams

__all__ = [
    "BUDGET_SUBJECTS",
    "DEFAULT_THRESHOLDS",
    "BudgetRow",
    "create_budget",
    "delete_budget",
    "get_budget",
    "list_budgets",
    "parse_amount",
    "parse_thresholds",
    "update_budget",
]

# What a budget can be set on, and how each is called where people read it. The first four are read from
# the daily grain's dimensions; the others from allocation (who owns the spend).
BUDGET_SUBJECTS: dict[str, str] = {
    "organization": "Organization",
    "workspace": "Workspace",
    "api_key": "API key",
    "model": "Model",
    "team": "Team",
    "cost_center": "Cost center",
    "person": "Person",
    "application": "Application",
}
DEFAULT_THRESHOLDS: tuple[int, ...] = (50, 80, 100)
_MAX_THRESHOLDS = 10
_MAX_THRESHOLD_PCT = 1000
_MAX_AMOUNT = Decimal("1000000000")  # a billion dollars a month: anything above is a typo
_MICROCENTS_PER_USD = 100_000_000

budgets = Table(
    "budgets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("subject_type", String(40), nullable=False),  # a key of BUDGET_SUBJECTS
    Column("subject_id", String(200), nullable=False),  # the Anthropic id, model name, or our team/person id
    Column("amount_microcents", BigInteger, nullable=False),  # per calendar month (UTC)
    Column("thresholds", String(100), nullable=False),  # percents, ascending, comma-separated: "50,80,100"
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id", "subject_type", "subject_id", name="uq_budgets_subject"),
)


@dataclass(frozen=True, slots=True)
class BudgetRow:
    id: int
    tenant_id: int
    subject_type: str
    subject_id: str
    amount_microcents: int
    thresholds: tuple[int, ...]
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def amount_usd(self) -> Decimal:
        return Decimal(self.amount_microcents).scaleb(-8)


def parse_amount(text: str | Decimal) -> int:
    """Dollars as text ("1500", "1,500.50") → micro-cents; UsageError for anything not a positive amount."""
    raw = str(text).strip().removeprefix("$").replace(",", "").replace("_", "")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise UsageError(
            f"The amount {str(text)!r} is not a number; give US dollars such as 1500 or 1500.50."
        ) from None
    if not amount.is_finite() or amount <= 0:
        raise UsageError("The amount must be more than 0 US dollars.")
    if amount > _MAX_AMOUNT:
        raise UsageError(f"The amount must be at most {_MAX_AMOUNT:,} US dollars a month.")
    if amount != amount.quantize(Decimal("0.01")):
        raise UsageError("The amount may have at most two decimals (cents).")
    return int(amount * _MICROCENTS_PER_USD)


def parse_thresholds(text: str | None) -> tuple[int, ...]:
    """ "50, 80,100" → (50, 80, 100); empty → the defaults; UsageError for anything else."""
    if text is None or not str(text).strip():
        return DEFAULT_THRESHOLDS
    parts = [p.strip().removesuffix("%") for p in str(text).split(",") if p.strip()]
    if not all(p.isdigit() for p in parts):
        raise UsageError(
            f"Thresholds are whole percents separated by commas, such as 50,80,100; not {text!r}."
        )
    values = sorted({int(p) for p in parts})
    if not values or values[0] < 1 or values[-1] > _MAX_THRESHOLD_PCT:
        raise UsageError(f"Each threshold must be between 1 and {_MAX_THRESHOLD_PCT} percent.")
    if len(values) > _MAX_THRESHOLDS:
        raise UsageError(f"A budget has at most {_MAX_THRESHOLDS} thresholds.")
    return tuple(values)


def _check_subject(subject_type: str, subject_id: str) -> tuple[str, str]:
    if subject_type not in BUDGET_SUBJECTS:
        raise UsageError(f"A budget is set on one of {', '.join(BUDGET_SUBJECTS)}; not {subject_type!r}.")
    subject_id = subject_id.strip()
    if not subject_id or len(subject_id) > 200:
        raise UsageError(
            f"Name the {BUDGET_SUBJECTS[subject_type].lower()} the budget is for (its id, 1–200 characters)."
        )
    return subject_type, subject_id


# Subjects that must exist in the workspace (an id typed wrong would otherwise count nothing, silently).
_KNOWN_SUBJECTS = {
    "organization": (connections, connections.c.organization_id),
    "team": (teams, teams.c.id),
    "person": (people, people.c.id),
    "application": (applications, applications.c.id),
}


def _check_known(conn: Connection, tenant_id: int, subject_type: str, subject_id: str) -> None:
    if subject_type not in _KNOWN_SUBJECTS:
        return  # workspaces, keys and models are known only once they have spend; a new one may not yet
    table, column = _KNOWN_SUBJECTS[subject_type]
    wanted: object = subject_id
    if column.type.python_type is int:
        if not subject_id.isdigit():
            raise UsageError(
                f"A {BUDGET_SUBJECTS[subject_type].lower()} is named by its number here; not {subject_id!r}."
            )
        wanted = int(subject_id)
    found = conn.execute(
        select(column).where(table.c.tenant_id == tenant_id, column == wanted).limit(1)
    ).first()
    if found is None:
        raise UsageError(
            f"There is no {BUDGET_SUBJECTS[subject_type].lower()} {subject_id!r} in this workspace; "
            "check the id (the Allocation and Integrations pages list them)."
        )


def _row(r: object) -> BudgetRow:
    m = r._mapping  # type: ignore[attr-defined]
    return BudgetRow(
        m["id"], m["tenant_id"], m["subject_type"], m["subject_id"], int(m["amount_microcents"]),
        tuple(int(p) for p in m["thresholds"].split(",")), m["created_at"], m["updated_at"],
    )  # fmt: skip


def _describe(row: BudgetRow) -> str:
    thresholds = "/".join(str(t) for t in row.thresholds)
    return (
        f"{BUDGET_SUBJECTS[row.subject_type].lower()} {row.subject_id}: {row.amount_usd:,.2f} USD a month, "
        f"alerts at {thresholds} %"
    )


def _event(conn: Connection, row: BudgetRow, actor: str, verb: str, before: BudgetRow | None = None) -> None:
    message = f"{actor} {verb} the budget of {_describe(row)}"
    if before is not None and before != row:
        message += f" (was {before.amount_usd:,.2f} USD at {'/'.join(str(t) for t in before.thresholds)} %)"
    add_event(
        conn,
        tenant_id=row.tenant_id,
        connection_id=None,
        kind="budget_changed",
        level="info",
        message=message + ".",
        details={
            "budget_id": row.id,
            "action": verb,
            "by": actor,
            "subject_type": row.subject_type,
            "subject_id": row.subject_id,
            "amount_usd": str(row.amount_usd),
            "thresholds": list(row.thresholds),
        },
    )


def list_budgets(conn: Connection, tenant_id: int) -> list[BudgetRow]:
    query = (
        select(budgets)
        .where(budgets.c.tenant_id == tenant_id)
        .order_by(budgets.c.subject_type, budgets.c.subject_id)
    )
    return [_row(r) for r in conn.execute(query)]


def get_budget(conn: Connection, tenant_id: int, budget_id: int) -> BudgetRow:
    """NotFoundError for a budget that does not exist or belongs to another tenant."""
    found = conn.execute(
        select(budgets).where(budgets.c.tenant_id == tenant_id, budgets.c.id == budget_id)
    ).first()
    if found is None:
        raise NotFoundError(
            f"There is no budget #{budget_id} in this workspace; `usageledger budgets list` shows them."
        )
    return _row(found)


def create_budget(
    conn: Connection,
    tenant_id: int,
    *,
    subject_type: str,
    subject_id: str,
    amount: str | Decimal,
    thresholds: str | None = None,
    actor: str,
) -> BudgetRow:
    """A new budget (and its event); ConflictError when the subject has one already."""
    subject_type, subject_id = _check_subject(subject_type, subject_id)
    amount_microcents, pcts = parse_amount(amount), parse_thresholds(thresholds)
    _check_known(conn, tenant_id, subject_type, subject_id)
    taken = conn.execute(
        select(budgets.c.id).where(
            budgets.c.tenant_id == tenant_id,
            budgets.c.subject_type == subject_type,
            budgets.c.subject_id == subject_id,
        )
    ).first()
    if taken is not None:
        raise ConflictError(
            f"The {BUDGET_SUBJECTS[subject_type].lower()} {subject_id} has a budget already (#{taken.id}); change that one."
        )
    now = dt.datetime.now(dt.UTC)
    result = conn.execute(
        budgets.insert().values(
            tenant_id=tenant_id,
            subject_type=subject_type,
            subject_id=subject_id,
            amount_microcents=amount_microcents,
            thresholds=",".join(map(str, pcts)),
            created_at=now,
            updated_at=now,
        )  # fmt: skip
    )
    assert result.inserted_primary_key is not None
    row = get_budget(conn, tenant_id, int(result.inserted_primary_key[0]))
    _event(conn, row, actor, "created")
    return row


def update_budget(
    conn: Connection,
    tenant_id: int,
    budget_id: int,
    *,
    amount: str | Decimal | None = None,
    thresholds: str | None = None,
    actor: str,
) -> BudgetRow:
    """Change the amount and/or thresholds (None keeps one); an event says from what to what."""
    before = get_budget(conn, tenant_id, budget_id)
    values: dict[str, object] = {}
    if amount is not None and str(amount).strip():
        values["amount_microcents"] = parse_amount(amount)
    if thresholds is not None and thresholds.strip():
        values["thresholds"] = ",".join(map(str, parse_thresholds(thresholds)))
    if not values:
        raise UsageError("Give a new amount and/or new thresholds.")
    values["updated_at"] = dt.datetime.now(dt.UTC)
    conn.execute(update(budgets).where(budgets.c.id == budget_id).values(**values))
    row = get_budget(conn, tenant_id, budget_id)
    _event(conn, row, actor, "changed", before)
    return row


def delete_budget(conn: Connection, tenant_id: int, budget_id: int, *, actor: str) -> BudgetRow:
    row = get_budget(conn, tenant_id, budget_id)
    conn.execute(delete(budgets).where(budgets.c.id == budget_id))
    _event(conn, row, actor, "deleted")
    return row


__all__ += ["budgets"]

"""An allocation for a request: the period, organization and `by` the pages and the JSON API share.

Ownership changes come here too, so the page's form and the API call the same function with the
signed-in user as the editor the event log names.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from usageledger.errors import UsageError
from usageledger.reports.allocation import ALLOCATION_DIMENSIONS, Allocation, allocate
from usageledger.reports.periods import Period
from usageledger.store.accounts import UserRow
from usageledger.store.ownership import Editor
from usageledger.web.views_overview import OverviewForm, resolve_form, utc_today

__all__ = ["AllocationForm", "editor_of", "read_allocation", "read_period", "subject_id_from_path"]

# The default workspace has no id ('' in the store); a URL path names it so.
DEFAULT_WORKSPACE = "default"


@dataclass(frozen=True, slots=True)
class AllocationForm:
    """The filter form as typed, so the page can show it back after an error."""

    by: str = "team"
    period: str = ""
    since: str = ""
    until: str = ""
    organization: str = ""

    @property
    def period_form(self) -> OverviewForm:
        return OverviewForm(self.period, self.since, self.until, self.organization)

    @property
    def organization_id(self) -> str | None:
        return self.organization.strip() or None


def read_period(form: AllocationForm) -> Period:
    today = utc_today()
    period = resolve_form(form.period_form, today)
    if period.start > today:
        raise UsageError(f"The range starts on {period.start}, after today ({today}); pick days up to today.")
    return period


def read_allocation(conn: Connection, tenant_id: int, form: AllocationForm) -> Allocation:
    """The allocation the form asks for; UsageError (a sentence saying what to type) for a bad form."""
    if form.by not in ALLOCATION_DIMENSIONS:
        raise UsageError(f"Cannot allocate by {form.by!r}; choose from {', '.join(ALLOCATION_DIMENSIONS)}.")
    return allocate(conn, tenant_id, form.by, read_period(form), form.organization_id)


def editor_of(user: UserRow) -> Editor:
    return Editor(user.id, user.email)


def subject_id_from_path(subject_type: str, subject_id: str) -> str:
    return "" if subject_type == "workspace" and subject_id == DEFAULT_WORKSPACE else subject_id

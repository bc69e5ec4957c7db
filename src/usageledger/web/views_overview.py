"""The overview for a request: the query parameters the page and the JSON API share, read into one call.

Both take `period` (a preset, `custom`, or a month `YYYY-MM`), `since`/`until` (ISO days, inclusive; used
when the period is `custom` or not given) and `organization` (an id; none means all together). Days are
read here rather than by FastAPI so that a mistyped day gets our sentence, not a validation dump.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import Connection

from usageledger.config import Settings
from usageledger.errors import UsageError
from usageledger.reports.overview import OrganizationOption, Overview, build_overview
from usageledger.reports.periods import CUSTOM_PERIOD, Period, resolve_period
from usageledger.reports.today_by_hour import TodayByHour
from usageledger.store import list_connections
from usageledger.web.chart_cost import CostDay, render_cost_chart

__all__ = [
    "OverviewForm",
    "cost_chart",
    "hour_chart",
    "organization_options",
    "read_overview",
    "resolve_form",
    "utc_today",
]


@dataclass(frozen=True, slots=True)
class OverviewForm:
    """The filter form as typed, so the page can show it back after an error."""

    period: str = ""
    since: str = ""
    until: str = ""
    organization: str = ""

    def is_custom(self) -> bool:
        return self.period == CUSTOM_PERIOD or (not self.period and bool(self.since or self.until))


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _day(text: str, name: str) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{name} must be a day written YYYY-MM-DD, such as 2026-11-01; not {text!r}."
        ) from None


def resolve_form(form: OverviewForm, today: dt.date) -> Period:
    """The period the form asks for: a preset ignores the day fields (the page always sends both)."""
    if form.is_custom():
        since, until = _day(form.since, "'Since'"), _day(form.until, "'Until'")
        if since is None and until is None:
            raise UsageError("A custom range needs a first or a last day (YYYY-MM-DD).")
        return resolve_period(None, since, until, today=today)
    return resolve_period(form.period or None, None, None, today=today)


def read_overview(conn: Connection, settings: Settings, tenant_id: int, form: OverviewForm) -> Overview:
    """The overview the form asks for; UsageError (a sentence saying what to type) for a bad form."""
    today = utc_today()
    period = resolve_form(form, today)
    if period.start > today:
        raise UsageError(f"The range starts on {period.start}, after today ({today}); pick days up to today.")
    return build_overview(
        conn,
        tenant_id=tenant_id,
        period=period,
        today=today,
        organization=form.organization.strip() or None,
        lookback_days=settings.lookback_days,
        sync_interval_hours=settings.sync_interval_hours,
    )


def cost_chart(overview: Overview) -> Markup:
    days = [CostDay(d.day, d.amount, d.previous_amount, d.provisional) for d in overview.days]
    return render_cost_chart(
        days,
        title=f"Reported cost per day, {overview.period.label.lower()} (UTC)",
        previous_label=overview.previous.label,
    )


def _hour_name(hour: dt.date) -> str:
    return f"{hour:%H}:00–{hour:%H}:59 UTC"


def _hour_axis(hour: dt.date) -> str:
    return f"{hour:%H}:00"


def hour_chart(today: TodayByHour) -> Markup:
    """Today's cost by hour as bars, yesterday's same hours as the faint line."""
    hours = [CostDay(h.hour, h.amount, h.previous, False) for h in today.hours]
    return render_cost_chart(
        hours,
        title=f"Reported cost by hour, today so far ({today.day.isoformat()}, UTC)",
        previous_label="Yesterday, same hour",
        axis_name=_hour_axis,
        name_of=_hour_name,
        heading="Hour",
        empty="No cost yet today.",
        provisional_legend=False,
    )


def organization_options(conn: Connection, tenant_id: int) -> list[OrganizationOption]:
    """The organization filter's choices when there is no overview to take them from (after a bad filter)."""
    seen: dict[str, OrganizationOption] = {}
    for c in list_connections(conn, tenant_id):
        if c.organization_id and c.organization_id not in seen:
            seen[c.organization_id] = OrganizationOption(
                c.organization_id, c.organization_name or c.organization_id, c.id
            )
    return sorted(seen.values(), key=lambda o: (o.name.lower(), o.id))

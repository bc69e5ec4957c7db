"""Company settings › Notifications (admins only; members get the 403 page): the destinations alerts go to
— add one (email, Slack, signed webhook), send a test, delete — and the latest delivery attempts.

A secret typed into the form is sealed at once and never put back into a page: a form refused for a bad
setting comes back with everything else as typed and the secret field empty. A signing secret generated for
a webhook is shown once, in the response to its creation (never in a redirect, the session or a URL).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from usageledger.errors import UsageLedgerError
from usageledger.notify import (
    KINDS,
    SECURITY_MODES,
    add_destination,
    dispatch,
    pause_destination,
    remove_destination,
    test_notice,
)
from usageledger.notify.dispatch import DeliveryOptions
from usageledger.store import Vault, scrub_soon
from usageledger.store.accounts import UserRow
from usageledger.store.destinations import get_destination, list_deliveries, list_destinations
from usageledger.web.api_destinations import TEST_SEND_RETRY
from usageledger.web.deps import AdminUser, CsrfForm, ServicesDep
from usageledger.web.params import PathId
from usageledger.web.templating import flash, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGE = "/settings/destinations"
_FIELDS = (
    "kind",
    "name",
    "host",
    "port",
    "security",
    "username",
    "sender",
    "recipients",
    "url",
)  # never the secret
RECENT_DELIVERIES = 20


def _page(
    request: Request, services: ServicesDep, user: UserRow, status: int = 200, **extra: Any
) -> HTMLResponse:
    with services.engine.connect() as conn:
        context: dict[str, Any] = {
            "destinations": list_destinations(conn, user.tenant_id),
            "deliveries": list_deliveries(conn, user.tenant_id, limit=RECENT_DELIVERIES),
        }
    context.update(
        title="Notifications",
        kinds=KINDS,
        security_modes=SECURITY_MODES,
        error=None,
        form={**dict.fromkeys(_FIELDS, ""), "kind": "email", "security": "starttls"},
        generated=None,
    )
    context.update(extra)
    response = render(request, "destinations.html", status, **context)
    response.headers["cache-control"] = "no-store"
    return response


@router.get(PAGE)
def destinations_page(request: Request, services: ServicesDep, user: AdminUser) -> Response:
    return _page(request, services, user)


@router.post(PAGE)
def add(request: Request, services: ServicesDep, user: AdminUser, form: CsrfForm) -> Response:
    kept = {name: str(form.get(name, "")) for name in _FIELDS}
    kind = kept["kind"]
    settings = {"url": kept["url"]} if kind == "webhook" else {k: kept[k] for k in _FIELDS[2:8]}
    try:
        with services.engine.begin() as conn:
            added = add_destination(
                conn,
                Vault.from_settings(services.settings),
                tenant_id=user.tenant_id,
                kind=kind,
                name=kept["name"],
                settings=settings,
                secret=str(form.get("secret", "")),
                by=user.email,
            )
    except UsageLedgerError as exc:  # a bad setting, or a name taken: said beside the form, all else kept
        return _page(request, services, user, 400, error=exc.message, form=kept)
    if added.generated_secret:  # rendered directly, never via a redirect, so it is never in the session
        return _page(request, services, user, generated=added)
    flash(request, f"Destination “{added.row.name}” added. Send a test to check it.")
    return RedirectResponse(PAGE, status_code=303)


@router.post(f"{PAGE}/{{destination_id}}/test")
def test_send(
    request: Request, destination_id: PathId, services: ServicesDep, user: AdminUser, form: CsrfForm
) -> Response:
    with services.engine.connect() as conn:
        row = get_destination(conn, destination_id, tenant_id=user.tenant_id)
    public = services.settings.public_url
    notice = test_notice(user.tenant_id, row.name, by=user.email,
                         link=f"{public.rstrip('/')}{PAGE}" if public else None)  # fmt: skip
    [outcome] = dispatch(
        services.engine,
        Vault.from_settings(services.settings),
        notice,
        destination_id=row.id,
        options=DeliveryOptions(retry=TEST_SEND_RETRY),
    )
    if outcome.delivered:
        flash(request, f"Test delivered to “{row.name}” ({outcome.attempts} attempt(s)).")
    else:
        flash(
            request,
            f"The test to “{row.name}” failed after {outcome.attempts} attempt(s): {outcome.error}",
            "error",
        )
    return RedirectResponse(PAGE, status_code=303)


@router.post(f"{PAGE}/{{destination_id}}/pause")
def pause(
    request: Request, destination_id: PathId, services: ServicesDep, user: AdminUser, form: CsrfForm
) -> Response:
    paused = form.get("paused", "true") != "false"
    with services.engine.begin() as conn:
        row = pause_destination(conn, destination_id, tenant_id=user.tenant_id, paused=paused, by=user.email)
    flash(request, f"Destination “{row.name}” {'paused: it gets no alerts' if paused else 'resumed'}.")
    return RedirectResponse(PAGE, status_code=303)


@router.post(f"{PAGE}/{{destination_id}}/delete")
def delete(
    request: Request, destination_id: PathId, services: ServicesDep, user: AdminUser, form: CsrfForm
) -> Response:
    with services.engine.begin() as conn:
        gone = remove_destination(conn, destination_id, tenant_id=user.tenant_id, by=user.email)
    if scrub_soon(services.settings, services.engine):
        flash(request, f"Destination “{gone.name}” deleted; its secret is erased.")
    else:
        flash(
            request,
            f"Destination “{gone.name}” deleted; a long database reader holds its erased secret's "
            "old bytes, which usageledger removes when the reader ends (at the next start at the latest).",
        )
    return RedirectResponse(PAGE, status_code=303)

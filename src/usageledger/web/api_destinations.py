"""The JSON API for notification destinations: list and read (members too), add, test-send, delete
(admins), and the delivery log.

Secrets are write-only: `secret` is accepted on creation and never returned (only `secret_hint`); the one
exception is a signing secret the server generated because none was given, returned once in the 201.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from usageledger.notify import (
    RetryPolicy,
    add_destination,
    dispatch,
    pause_destination,
    remove_destination,
    test_notice,
)
from usageledger.notify.dispatch import DeliveryOptions
from usageledger.store import Vault
from usageledger.store.destinations import get_destination, list_deliveries, list_destinations
from usageledger.web.deps import ApiAdmin, ApiUser, ServicesDep
from usageledger.web.params import PathId
from usageledger.web.schemas import ErrorOut

__all__ = ["TEST_SEND_RETRY", "router"]

# A test send answers while the admin waits: two quick attempts, not the patient production policy.
TEST_SEND_RETRY = RetryPolicy(attempts=2, wait_initial=0.5, wait_max=1.0, wait_jitter=0.2, timeout=20.0)

_ERRORS = {
    status: {"model": ErrorOut, "description": text}
    for status, text in {
        400: "Invalid settings (the message says which)",
        401: "Not signed in / bad token",
        403: "Forbidden (members may only read, or CSRF)",
        404: "No such destination in your workspace",
        409: "A destination of that name exists",
        422: "Validation error",
    }.items()
}

router = APIRouter(prefix="/api/v1/destinations", tags=["notifications"], responses=_ERRORS)  # type: ignore[arg-type]


class DestinationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: Literal["email", "slack", "webhook"]
    name: str
    enabled: bool
    config: dict[str, Any] = Field(description="The settings that are not secret.")
    secret_hint: str = Field(description="All that is ever shown of the secret.")
    created_by: str
    created_at: dt.datetime


class DestinationCreatedOut(DestinationOut):
    generated_secret: str | None = Field(
        None, description="A signing secret generated because none was given; shown only in this response."
    )


class DestinationsOut(BaseModel):
    destinations: list[DestinationOut]


class DestinationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["email", "slack", "webhook"]
    name: str = Field(max_length=200)
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="email: host, port, security (starttls|ssl|none), username, sender, recipients; "
        "webhook: url; slack: none.",
    )
    secret: SecretStr | None = Field(
        None,
        description="Write-only. email: the SMTP password; slack: the incoming webhook URL; webhook: the "
        "signing secret (omit it to have one generated).",
    )


class DestinationPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(description="false pauses the destination: it keeps its settings, gets no alerts.")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    alert_id: int = Field(description="0 for a test send.")
    destination_id: int | None
    destination_name: str
    destination_kind: str
    attempt: int
    status: Literal["delivered", "failed"]
    response_code: int | None
    error: str | None
    at: dt.datetime


class DeliveriesOut(BaseModel):
    deliveries: list[DeliveryOut]


class TestSendOut(BaseModel):
    delivered: bool
    attempts: int
    response_code: int | None
    error: str | None


@router.get("", response_model=DestinationsOut, summary="Notification destinations")
def destinations(user: ApiUser, services: ServicesDep) -> DestinationsOut:
    with services.engine.connect() as conn:
        rows = list_destinations(conn, user.tenant_id)
    return DestinationsOut(destinations=[DestinationOut.model_validate(row) for row in rows])


@router.post("", response_model=DestinationCreatedOut, status_code=201, summary="Add a destination")
def create(body: DestinationIn, user: ApiAdmin, services: ServicesDep) -> DestinationCreatedOut:
    """The secret is sealed at once and never returned; 400 names the setting that is wrong."""
    secret = body.secret.get_secret_value() if body.secret is not None else ""
    with services.engine.begin() as conn:
        added = add_destination(
            conn,
            Vault.from_settings(services.settings),
            tenant_id=user.tenant_id,
            kind=body.kind,
            name=body.name,
            settings=body.settings,
            secret=secret,
            by=user.email,
        )
    out = DestinationCreatedOut.model_validate(added.row)
    out.generated_secret = added.generated_secret
    return out


@router.get("/deliveries", response_model=DeliveriesOut, summary="The delivery log")
def deliveries(
    user: ApiUser,
    services: ServicesDep,
    alert_id: int | None = Query(None, ge=0, description="Only this alert's deliveries (0: test sends)."),
    destination_id: int | None = Query(None, ge=1),
    limit: int = Query(100, ge=1, le=1000),
) -> DeliveriesOut:
    """Every attempt, newest first: a delivery retried twice has three entries."""
    with services.engine.connect() as conn:
        rows = list_deliveries(
            conn, user.tenant_id, alert_id=alert_id, destination_id=destination_id, limit=limit
        )
    return DeliveriesOut(deliveries=[DeliveryOut.model_validate(row) for row in rows])


@router.get("/{destination_id}", response_model=DestinationOut, summary="One destination")
def destination(destination_id: PathId, user: ApiUser, services: ServicesDep) -> DestinationOut:
    with services.engine.connect() as conn:
        return DestinationOut.model_validate(get_destination(conn, destination_id, tenant_id=user.tenant_id))


@router.post("/{destination_id}/test", response_model=TestSendOut, summary="Send a test notification")
def test_send(destination_id: PathId, user: ApiAdmin, services: ServicesDep) -> TestSendOut:
    """Delivered or not, the answer is 200 with the outcome; a failure is in the delivery log and the events."""
    with services.engine.connect() as conn:
        row = get_destination(conn, destination_id, tenant_id=user.tenant_id)
    public = services.settings.public_url
    notice = test_notice(user.tenant_id, row.name, by=user.email,
                         link=f"{public.rstrip('/')}/settings/destinations" if public else None)  # fmt: skip
    [outcome] = dispatch(
        services.engine,
        Vault.from_settings(services.settings),
        notice,
        destination_id=row.id,
        options=DeliveryOptions(retry=TEST_SEND_RETRY),
    )
    return TestSendOut(
        delivered=outcome.delivered,
        attempts=outcome.attempts,
        response_code=outcome.response_code,
        error=outcome.error,
    )


@router.patch("/{destination_id}", response_model=DestinationOut, summary="Pause or resume a destination")
def change(
    destination_id: PathId, body: DestinationPatch, user: ApiAdmin, services: ServicesDep
) -> DestinationOut:
    with services.engine.begin() as conn:
        row = pause_destination(
            conn, destination_id, tenant_id=user.tenant_id, paused=not body.enabled, by=user.email
        )
    return DestinationOut.model_validate(row)


@router.delete("/{destination_id}", status_code=204, summary="Delete a destination")
def delete(destination_id: PathId, user: ApiAdmin, services: ServicesDep) -> Response:
    """The sealed secret is overwritten and deleted; the delivery log is kept."""
    from usageledger.store import scrub_soon

    with services.engine.begin() as conn:
        remove_destination(conn, destination_id, tenant_id=user.tenant_id, by=user.email)
    scrub_soon(services.settings, services.engine)  # its bytes leave the files now, or at the next start
    return Response(status_code=204)

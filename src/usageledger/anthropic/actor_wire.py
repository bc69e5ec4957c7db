"""The actor grain's pages as msgspec reads them: the `actor` union → kind and id, plus who the actor is.

The SDK renders `group.actor` as a union tagged by `type` (`user_actor`, `service_account_actor`,
`federated_actor`, `api_actor`) or null. The store keeps an actor as (kind, id): a user's `user_id`, a
service account's `service_account_id`, an API key's `api_key_id`, and for a federated identity a stable
id made of the provider's kind, the identity it is bound to (AWS account, Azure subscription, GCP project,
OIDC issuer) and the subject (the ARN of an AWS role is one actor across its sessions, so the per-session
`signed_principal` is left out). A null actor becomes (None, None); such rows are summed by the sync.

The federated id is `kind:bound:subject` with `%` and `:` percent-escaped in `bound` only, so it is
collision-free: the kind has no `:`, the escaped bound has none, and everything after the second `:` is the
subject, colons and all. (Unescaped, an OIDC issuer `https://a:b` with subject `c` and issuer `https://a`
with subject `b:c` were one id.) Account, subscription and project ids have neither character, so their ids
read as before; an absent issuer or subject is written empty, as the API's null and "" name no one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Generic, TypeVar

import msgspec

from ..models import ACTOR, ActorDimensions, ActorInfo, CostRecord, UsageRecord
from .wire import (
    _CURSOR,
    ReportPage,
    _Cost,
    _day_of,
    _decode_report,
    _moment,
    _new_tuple,
    _Usage,
    breakdown_getter,
    cost_record,
    usage_record,
)

__all__ = ["ActorPage", "actor_of", "parse_actor_cost", "parse_actor_usage"]

R = TypeVar("R")


class _UserActor(msgspec.Struct, tag_field="type", tag="user_actor", frozen=True, gc=False):
    user_id: str
    email_address: str | None = None
    name: str | None = None
    deleted: bool = False


class _ServiceAccountActor(
    msgspec.Struct, tag_field="type", tag="service_account_actor", frozen=True, gc=False
):
    service_account_id: str


class _ApiActor(msgspec.Struct, tag_field="type", tag="api_actor", frozen=True, gc=False):
    api_key_id: str


class _AwsProvider(msgspec.Struct, tag_field="type", tag="aws", frozen=True, gc=False):
    account_id: str


class _AzureProvider(msgspec.Struct, tag_field="type", tag="azure", frozen=True, gc=False):
    subscription_id: str


class _GcpProvider(msgspec.Struct, tag_field="type", tag="gcp", frozen=True, gc=False):
    project_number: str


class _OidcProvider(msgspec.Struct, tag_field="type", tag="oidc", frozen=True, gc=False):
    issuer: str | None = None


class _FederatedActor(msgspec.Struct, tag_field="type", tag="federated_actor", frozen=True, gc=False):
    provider: _AwsProvider | _AzureProvider | _GcpProvider | _OidcProvider
    subject: str | None = None


_Actor = _UserActor | _ServiceAccountActor | _ApiActor | _FederatedActor


class _ActorGroup(msgspec.Struct, gc=False):
    organization_id: str | None = None
    actor: _Actor | None = None
    product: str | None = None
    model: str | None = None
    workspace_id: str | None = None
    speed: str | None = None


# The group above must carry exactly the grain's dimensions (the actor as one field for kind and id).
assert ("organization_id", "actor", *ACTOR.dimensions[3:]) == _ActorGroup.__struct_fields__


class _ActorUsageRow(msgspec.Struct, gc=False):
    starting_at: str
    group: _ActorGroup
    usage: _Usage


# A cost row's group adds the breakdown fields (cost_type, token_type) to the grain's.
_ActorCostGroup = msgspec.defstruct(
    "_ActorCostGroup",
    [(name, str | None, None) for name in ACTOR.cost_breakdown],
    bases=(_ActorGroup,),
    gc=False,
    module=__name__,
)
_breakdown_values = breakdown_getter(ACTOR.cost_breakdown)


class _ActorCostRow(msgspec.Struct, gc=False):
    starting_at: str
    group: _ActorCostGroup  # type: ignore[valid-type]
    cost: _Cost


_Row = TypeVar("_Row", _ActorUsageRow, _ActorCostRow)


class _ActorReport(msgspec.Struct, Generic[_Row], gc=False):
    data: list[_Row]


_USAGE = msgspec.json.Decoder(_ActorReport[_ActorUsageRow])
_COST = msgspec.json.Decoder(_ActorReport[_ActorCostRow])


def _federated_id(actor: _FederatedActor) -> str:
    p = actor.provider
    if isinstance(p, _AwsProvider):
        bound_to = p.account_id
    elif isinstance(p, _AzureProvider):
        bound_to = p.subscription_id
    elif isinstance(p, _GcpProvider):
        bound_to = p.project_number
    else:
        bound_to = p.issuer or ""
    escaped = bound_to.replace("%", "%25").replace(":", "%3A")  # '%' first, so escapes stay unambiguous
    return f"{type(p).__struct_config__.tag}:{escaped}:{actor.subject or ''}"


def actor_of(actor: _Actor | None) -> ActorInfo | None:
    """Kind, id and (for a user) email, name and deleted; None for a null actor."""
    if actor is None:
        return None
    if isinstance(actor, _UserActor):
        return ActorInfo("user_actor", actor.user_id, actor.email_address, actor.name, actor.deleted)
    if isinstance(actor, _ServiceAccountActor):
        return ActorInfo("service_account_actor", actor.service_account_id)
    if isinstance(actor, _ApiActor):
        return ActorInfo("api_actor", actor.api_key_id)
    return ActorInfo("federated_actor", _federated_id(actor))


class ActorPage(ReportPage[R]):
    """A page of the actor grain: its records, and every actor they name with the last day it was seen."""

    __slots__ = ("_actors",)

    def __init__(
        self,
        has_more: bool,
        next_page: str | None,
        data_refreshed_at: dt.datetime | None,
        decode: Callable[[], list[R]],
        actors: Callable[[], dict[ActorInfo, dt.date]],
    ) -> None:
        super().__init__(has_more, next_page, data_refreshed_at, decode)
        self._actors = actors  # what `decode` found

    @property
    def actors(self) -> dict[ActorInfo, dt.date]:
        self.records  # noqa: B018  (decoding the rows is what finds the actors)
        return self._actors()


class _Dims:
    """Builds a row's dimensions and notes its actor; one instance per page.

    A page names each actor on many rows: the actor structs are frozen (hashable), so its kind and id
    are worked out once per actor and page, and who it is (an ActorInfo) only when `actors` is read.
    """

    __slots__ = ("_days", "_ids", "organization_id")

    def __init__(self, organization_id: str | None) -> None:
        self.organization_id = organization_id
        self._ids: dict[_Actor, tuple[str, str]] = {}
        self._days: dict[_Actor, dt.date] = {}  # the last day each actor was seen

    def __call__(self, day: dt.date, g: _ActorGroup) -> ActorDimensions:
        actor = g.actor
        if actor is None:
            kind = actor_id = None
        else:
            ids = self._ids.get(actor)
            if ids is None:
                info = actor_of(actor)
                assert info is not None
                ids = self._ids[actor] = (info.actor_type, info.actor_id)
            kind, actor_id = ids
            if self._days.get(actor, day) <= day:
                self._days[actor] = day
        values = (
            g.organization_id or self.organization_id,
            kind,
            actor_id,
            g.product,
            g.model,
            g.workspace_id,
            g.speed,
        )
        dims: ActorDimensions = _new_tuple(ActorDimensions, values)  # a tuple, without NamedTuple's __new__
        return dims

    def actors(self) -> dict[ActorInfo, dt.date]:
        """Every actor the page names (as the store keeps it) with the last day it was seen."""
        actors: dict[ActorInfo, dt.date] = {}
        for actor, day in self._days.items():
            info = actor_of(actor)
            assert info is not None
            if actors.get(info, day) <= day:
                actors[info] = day
        return actors


def _page(
    body: bytes, what: str, decode: Callable[[_Dims], list[R]], organization_id: str | None
) -> ActorPage[R]:
    cursor = _decode_report(_CURSOR, body, what)
    dims = _Dims(organization_id)
    refreshed = _moment(cursor.data_refreshed_at)
    return ActorPage(cursor.has_more, cursor.next_page, refreshed, lambda: decode(dims), dims.actors)


def parse_actor_usage(body: bytes, organization_id: str | None) -> ActorPage[UsageRecord]:
    def decode(dims: _Dims) -> list[UsageRecord]:
        records = []
        for row in _decode_report(_USAGE, body, "actor usage").data:
            day = _day_of(row.starting_at)
            records.append(usage_record(day, dims(day, row.group), row.usage))
        return records

    return _page(body, "actor usage", decode, organization_id)


def parse_actor_cost(body: bytes, organization_id: str | None) -> ActorPage[CostRecord]:
    def decode(dims: _Dims) -> list[CostRecord]:
        records = []
        for row in _decode_report(_COST, body, "actor cost").data:
            day = _day_of(row.starting_at)
            group = row.group
            records.append(cost_record(day, dims(day, group), row.cost, _breakdown_values(group)))
        return records

    return _page(body, "actor cost", decode, organization_id)

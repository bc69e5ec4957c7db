"""Who used each combination, and through which product: the fake's actors, as the analytics API shows them.

The analytics endpoints attribute usage to "the user if one is attributed, else the service account,
else the federated (cloud-platform) identity, else the API key". The fake gives each API key a holder
of one of those kinds, and the key-less Console usage to users (some of them deleted since). A few
holders are identities the server cannot render: their rows read `actor: null`, each identity its own
row, so one day can hold several rows with identical visible dimensions. They share one workspace and
one product, so such rows do occur.

Holders are drawn after the directory is built, from a stream of their own: the directory's ids and
every day's usage stay exactly what they were before actors existed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from random import Random
from typing import Any

__all__ = ["FakeActor", "assign_actors", "product_of"]

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
DELETED_USER_NAME = "Deleted User"
HIDDEN_IDENTITIES = 3
_CONSOLE_PRODUCTS = ("chat", "claude_code", "cowork", "claude_console")


@dataclass(frozen=True, slots=True)
class FakeActor:
    """One identity usage can be attributed to; `json` is the group's `actor` as the API renders it."""

    id: str  # user_…, svac_…, apikey_…, a federated subject; hidden identities: hidden_…
    type: str | None  # user_actor | service_account_actor | federated_actor | api_actor; None if hidden
    json: str
    deleted: bool = False


def _tagged(rng: Random, prefix: str) -> str:
    return prefix + "01" + "".join(rng.choice(_ALPHABET) for _ in range(22))


def _actor(actor_id: str, kind: str | None, body: dict[str, Any] | None, deleted: bool = False) -> FakeActor:
    rendered = "null" if body is None else json.dumps({**body, "type": kind}, separators=(",", ":"))
    return FakeActor(actor_id, kind, rendered, deleted)


def user_actor(user: dict[str, Any]) -> FakeActor:
    return _actor(
        str(user["id"]),
        "user_actor",
        {"user_id": user["id"], "email_address": user["email"], "name": user["name"], "deleted": False},
    )


def deleted_user_actor(user_id: str) -> FakeActor:
    """A user removed from the organization: still attributed, as "Deleted User" without an email."""
    body = {"user_id": user_id, "email_address": None, "name": DELETED_USER_NAME, "deleted": True}
    return _actor(user_id, "user_actor", body, deleted=True)


def product_of(holder: FakeActor, tier: str | None, model: str | None, console_product: str) -> str | None:
    """The product a combination's usage is reported under: code execution has none."""
    if model is None:
        return None
    if tier == "batch":
        return "message_batches_api"
    if holder.type == "user_actor" or holder.type is None:
        return console_product
    return "messages_api"


@dataclass(slots=True)
class Holders:
    """Each key's holder, the Console's users, and every actor by id (hidden ones included)."""

    by_key: dict[str, FakeActor]
    console: list[FakeActor]
    console_products: dict[str | None, str]  # holder id (None: an API key's) -> the product it uses
    actors: dict[str, FakeActor]
    deleted_user_ids: list[str]
    service_account_ids: list[str]


def assign_actors(rng: Random, keys: list[Any], users: list[dict[str, Any]]) -> Holders:
    """Holders of every key (`keys` are FakeKey; the one with id None is the Console)."""
    deleted = [_tagged(rng, "user_") for _ in range(2)]
    service_accounts = [_tagged(rng, "svac_") for _ in range(2)]
    listed = [user_actor(u) for u in users]
    gone = [deleted_user_actor(i) for i in deleted]
    holders: dict[str, FakeActor] = {}
    api_keys = [k for k in keys if k.id is not None]
    # Hidden identities use keys of one workspace, the one with the most keys, and one product.
    by_workspace: dict[str, list[Any]] = {}
    for key in api_keys[6:]:
        by_workspace.setdefault(key.workspace_id, []).append(key)
    crowded = max(by_workspace.values(), key=len) if by_workspace else []
    hidden_keys = {k.id for k in crowded[:HIDDEN_IDENTITIES]}
    # Keys in use all year hold one of each kind, whatever the seed; the rest are drawn.
    steady = [k.id for k in api_keys if k.active_until is None and k.id not in hidden_keys]
    steady.sort(key=lambda key_id: next(k.active_from for k in api_keys if k.id == key_id))
    guaranteed = dict(zip(steady, ("user", "deleted", "service_account", "federated"), strict=False))
    hidden_n = 0
    for key in api_keys:
        kind = (
            guaranteed.get(key.id)
            or rng.choices(
                ("user", "deleted", "service_account", "federated", "api"), (0.15, 0.05, 0.15, 0.05, 0.6)
            )[0]
        )
        if key.id in hidden_keys:
            hidden_n += 1
            holders[key.id] = _actor(f"hidden_{hidden_n:02d}", None, None)
        elif kind == "user":  # a key a user holds (Claude Code)
            holders[key.id] = rng.choice(listed)
        elif kind == "deleted":  # held by a user removed since
            holders[key.id] = rng.choice(gone)
        elif kind == "service_account":
            svac = rng.choice(service_accounts)
            holders[key.id] = _actor(svac, "service_account_actor", {"service_account_id": svac})
        elif kind == "federated":
            project = str(rng.randrange(10**11, 10**12))
            subject = f"serviceAccount:batch@{project}.iam.gserviceaccount.com"
            body = {"provider": {"type": "gcp", "project_number": project}, "subject": subject}
            holders[key.id] = _actor(f"gcp:{project}:{subject}", "federated_actor", body)
        else:
            holders[key.id] = _actor(key.id, "api_actor", {"api_key_id": key.id})
    console = [*listed, gone[0]]
    products: dict[str | None, str] = {None: "messages_api"}
    for actor in (*listed, *gone):
        products[actor.id] = rng.choice(_CONSOLE_PRODUCTS)
    for actor in holders.values():
        if actor.type is None:
            products[actor.id] = "claude_code"  # hidden identities share a product, so their rows collide
    actors = {a.id: a for a in (*holders.values(), *console)}
    return Holders(holders, console, products, actors, deleted, service_accounts)


__all__ += ["DELETED_USER_NAME", "Holders", "deleted_user_actor", "user_actor"]

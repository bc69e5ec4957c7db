"""The seeded directory of the fake organization: workspaces, users, API keys and what each key uses."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from dataclasses import dataclass, field, replace
from random import Random

from usageledger.models import (
    ApiKeyInfo,
    Directory,
    Organization,
    RbacGroup,
    RbacGroupMember,
    UserInfo,
    WorkspaceInfo,
    WorkspaceMember,
)

from . import catalog
from .actors import Holders, assign_actors

__all__ = [
    "PLATFORM_TEAM",
    "BuiltDirectory",
    "FakeKey",
    "FakeWorkspace",
    "build_directory",
    "key_combos",
    "people_csv",
]

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_COLORS = ("#6C5BB9", "#C8553D", "#2E86AB", "#3B8B5A", "#D4A017", "#8E6C8A")
_WORKSPACES = (
    # name, created, archived, default geo, share of keys
    ("Default Workspace", dt.datetime(2024, 9, 2, 10, tzinfo=dt.UTC), None, "global", 0.15),
    ("Production", dt.datetime(2024, 11, 14, 16, tzinfo=dt.UTC), None, "us", 0.38),
    ("Research", dt.datetime(2025, 2, 3, 9, tzinfo=dt.UTC), None, "global", 0.15),
    ("Internal Tools", dt.datetime(2025, 4, 22, 13, tzinfo=dt.UTC), None, "global", 0.1),
    ("Batch Pipelines", dt.datetime(2025, 6, 9, 8, tzinfo=dt.UTC), None, "us", 0.12),
    (
        "Legacy Chatbot",
        dt.datetime(2024, 10, 1, 12, tzinfo=dt.UTC),
        dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC),
        "global",
        0.1,
    ),
)
_USERS = (
    ("Ada Okafor", "admin"),
    ("Bruno Lindqvist", "developer"),
    ("Chen Wei", "developer"),
    ("Dara Haddad", "billing"),
    ("Eitan Moreau", "developer"),
    ("Farah Nakamura", "user"),
    ("Gus Abernathy", "claude_code_user"),
    ("Hana Petrov", "admin"),
)
# The company's identity provider's view of those users (the demo imports it as people): team and cost
# center by role. The Claude Code user is not in it: the demo shows spend of someone not in the directory.
PLATFORM_TEAM = "Platform"  # the admins' team, which runs the organization's pipelines
_IDP_TEAMS = {
    "admin": (PLATFORM_TEAM, "CC-100"),
    "developer": ("Applied AI", "CC-200"),
    "billing": ("Finance", "CC-300"),
    "user": ("Applied AI", "CC-200"),
}
_KEY_PURPOSES = (
    "backend",
    "chat",
    "search",
    "etl",
    "agent",
    "eval",
    "support-bot",
    "summarizer",
    "ci",
    "notebook",
)


def _tagged(rng: Random, prefix: str) -> str:
    return prefix + "01" + "".join(rng.choice(_ALPHABET) for _ in range(22))


@dataclass(frozen=True, slots=True)
class FakeWorkspace:
    id: str
    name: str
    created_at: dt.datetime
    archived_at: dt.datetime | None
    default_geo: str
    color: str
    compartment_id: str
    is_default: bool


@dataclass(frozen=True, slots=True)
class FakeKey:
    """An API key (or, with `id=None`, usage not authenticated by a key: the Console)."""

    id: str | None
    name: str
    workspace_id: str
    created_by: str | None  # None: a legacy key whose creator is not recorded (`created_by: null`)
    created_at: dt.datetime
    status: str
    active_from: dt.date
    active_until: dt.date | None
    partial_key_hint: str
    weight: float
    models: tuple[str, ...]
    batch: bool = False
    priority: bool = False
    long_context: bool = False
    geos: tuple[str, ...] = ("global",)
    fast: bool = False
    code_execution: bool = False
    web_search: bool = False
    caching: float = 0.5
    created_by_type: str = "user"  # or "service_account"
    expires_at: dt.datetime | None = None


@dataclass(slots=True)
class BuiltDirectory:
    organization: Organization
    directory: Directory
    workspaces: list[FakeWorkspace] = field(default_factory=list)
    users: list[dict[str, object]] = field(default_factory=list)
    keys: list[FakeKey] = field(default_factory=list)  # includes the Console pseudo-key
    default_workspace_id: str = ""
    holders: Holders | None = None  # who each key's usage is attributed to (fake.actors)
    # (workspace id, user id, workspace role), every non-archived workspace's members in user-id order
    members: list[tuple[str, str, str]] = field(default_factory=list)
    # RBAC groups (id, name) and their members (group id, user id, email, added at)
    rbac_groups: list[tuple[str, str, dt.datetime]] = field(default_factory=list)
    rbac_members: list[tuple[str, str, str, dt.datetime]] = field(default_factory=list)


def key_combos(key: FakeKey) -> list[tuple[str | None, str | None, str | None, str | None, str | None]]:
    """(model, service_tier, context_window, inference_geo, speed) of every combination a key can use."""
    combos: list[tuple[str | None, str | None, str | None, str | None, str | None]] = []
    if key.code_execution:
        combos.append((None, None, None, None, None))
    for name in key.models:
        model = catalog.MODEL_BY_NAME[name]
        tiers = ["standard"] + (["batch"] if key.batch else []) + (["priority"] if key.priority else [])
        windows = ["0-200k"] + (["200k-1M"] if key.long_context and model.long_context else [])
        geos: list[str | None] = list(key.geos) if model.inference_geo else [None]
        speeds = ["standard"] + (["fast"] if key.fast and model.fast else [])
        for tier in tiers:
            for window in windows:
                for geo in geos:
                    for speed in speeds:
                        if tier == "batch" and (speed == "fast" or window == "200k-1M"):
                            continue
                        combos.append((name, tier, window, geo, speed))
    return combos


def _make_key(rng: Random, n: int, workspace: FakeWorkspace, users: list[dict[str, object]]) -> FakeKey:
    purpose = _KEY_PURPOSES[n % len(_KEY_PURPOSES)]
    name = f"{workspace.name.lower().replace(' ', '-')}-{purpose}-{n:02d}"
    if rng.random() < 0.75:
        created = dt.datetime(2025, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
            days=rng.randrange(360), hours=rng.randrange(24)
        )
    else:
        created = dt.datetime(2026, 1, 5, tzinfo=dt.UTC) + dt.timedelta(
            days=rng.randrange(280), hours=rng.randrange(24)
        )
    created = max(created, workspace.created_at + dt.timedelta(days=1))
    active_from = max(created.date() + dt.timedelta(days=1), dt.date(2026, 1, 1))
    active_until: dt.date | None = None
    status = "active"
    if workspace.archived_at is not None:
        status, active_until = "archived", workspace.archived_at.date()
    elif rng.random() < 0.08:
        status, active_until = "inactive", active_from + dt.timedelta(days=rng.randrange(30, 200))
    pool = [m.name for m in catalog.MODELS]
    weights = [m.weight for m in catalog.MODELS]
    models: list[str] = []
    while len(models) < rng.randint(2, 5):
        pick = rng.choices(pool, weights)[0]
        if pick not in models:
            models.append(pick)
    geos = (workspace.default_geo,) if rng.random() < 0.7 else ("global", "us")
    creator = rng.choice([u for u in users if u["role"] in ("admin", "developer")])
    secret_tail = "".join(rng.choice(_ALPHABET) for _ in range(4))
    return FakeKey(
        id=_tagged(rng, "apikey_"),
        name=name,
        workspace_id=workspace.id,
        created_by=str(creator["id"]),
        created_at=created,
        status=status,
        active_from=active_from,
        active_until=active_until,
        partial_key_hint=f"sk-ant-api03-{secret_tail[:2]}...{secret_tail}AA",
        weight=rng.lognormvariate(0.0, 0.9),
        models=tuple(sorted(models)),
        batch=rng.random() < 0.35 or workspace.name == "Batch Pipelines",
        priority=rng.random() < 0.12,
        long_context=rng.random() < 0.2,
        geos=geos,
        fast=rng.random() < 0.15,
        code_execution=rng.random() < 0.15,
        web_search=rng.random() < 0.3,
        caching=rng.choice((0.0, 0.3, 0.8, 1.5)),
    )


def _guarantee_features(key: FakeKey, n: int) -> FakeKey:
    """The first keys between them use every value set, whatever the seed."""
    if n == 1:
        return replace(key, priority=True, web_search=True)
    if n == 2:
        return replace(key, long_context=True, models=tuple(sorted({*key.models, "claude-sonnet-4-5"})))
    if n == 3:
        return replace(key, fast=True, models=tuple(sorted({*key.models, "claude-opus-4-5"})))
    if n == 4:
        return replace(
            key, code_execution=True, batch=True, models=tuple(sorted({*key.models, "claude-3-5-haiku"}))
        )
    return key


def _created_by_holder(key: FakeKey, holders: Holders) -> FakeKey:
    """A key held by a service account or by a user removed since was created by that holder."""
    holder = holders.by_key.get(key.id or "")
    if holder is not None and holder.type == "service_account_actor":
        return replace(key, created_by=holder.id, created_by_type="service_account")
    if holder is not None and holder.deleted:
        return replace(key, created_by=holder.id)
    return key


_WORKSPACE_ROLE = {
    "admin": "workspace_admin",
    "billing": "workspace_billing",
    "developer": "workspace_developer",
    "claude_code_user": "workspace_restricted_developer",
    "user": "workspace_user",
}
_RBAC_GROUPS = ("Engineering", "Finance", "Research Platform")


def _add_memberships(built: BuiltDirectory, rng: Random) -> None:
    """Who is in which workspace and RBAC group; legacy keys without a creator; keys that expire."""
    users = sorted(built.users, key=lambda u: str(u["id"]))
    for ws in built.workspaces:
        if ws.archived_at is not None:
            continue
        for user in users:
            # Org admins administer every workspace; the others belong to about two in three.
            if user["role"] == "admin" or rng.random() < 0.65:
                built.members.append((ws.id, str(user["id"]), _WORKSPACE_ROLE[str(user["role"])]))
    for i, name in enumerate(_RBAC_GROUPS):
        created = dt.datetime(2025, 3, 3, 9, tzinfo=dt.UTC) + dt.timedelta(days=41 * i)
        group_id = _tagged(rng, "rbac_group_")
        built.rbac_groups.append((group_id, name, created))
        for user in users:
            if rng.random() < 0.5 or user is users[i]:  # no group is empty, whatever the seed
                added = created + dt.timedelta(days=rng.randrange(200))
                built.rbac_members.append((group_id, str(user["id"]), str(user["email"]), added))
    holders = built.holders
    assert holders is not None
    by_api = [k for k in built.keys if k.id is not None and holders.by_key[k.id].type == "api_actor"]
    legacy = {by_api[0].id} if by_api else set()  # at least one key has `created_by: null`
    legacy |= {k.id for k in by_api[1:] if rng.random() < 0.15}
    keys = []
    for key in built.keys:
        expires = key.created_at + dt.timedelta(days=730) if rng.random() < 0.2 else None
        if key.id in legacy:
            key = replace(key, created_by=None, created_by_type="user")
        keys.append(replace(key, expires_at=expires) if key.id is not None else key)
    built.keys = keys


def build_directory(rng: Random, rows_per_day: int) -> BuiltDirectory:
    """A directory sized so that about `rows_per_day` distinct combinations can have usage each day."""
    org = Organization(id=str(uuid.UUID(int=rng.getrandbits(128), version=4)), name="Acme Fake Robotics")
    built = BuiltDirectory(organization=org, directory=Directory())
    for i, (name, created, archived, geo, _share) in enumerate(_WORKSPACES):
        ws = FakeWorkspace(
            _tagged(rng, "wrkspc_"),
            name,
            created,
            archived,
            geo,
            _COLORS[i],
            _tagged(rng, "cmpt_"),
            is_default=i == 0,
        )
        built.workspaces.append(ws)
    built.default_workspace_id = built.workspaces[0].id
    for i, (name, role) in enumerate(_USERS):
        first = name.split()[0].lower()
        built.users.append(
            {
                "id": _tagged(rng, "user_"),
                "name": name,
                "email": f"{first}@acme-fake.example",
                "role": role,
                "added_at": dt.datetime(2024, 9, 2, 10, tzinfo=dt.UTC) + dt.timedelta(days=37 * i, hours=i),
            }
        )
    default = built.workspaces[0]
    console = FakeKey(
        id=None,
        name="Console",
        workspace_id=default.id,
        created_by="",
        created_at=default.created_at,
        status="active",
        active_from=dt.date(2026, 1, 1),
        active_until=None,
        partial_key_hint="",
        weight=0.3,
        models=("claude-haiku-4-5", "claude-opus-4-5", "claude-sonnet-4-5"),
    )
    built.keys.append(console)
    target = max(1.8 * rows_per_day * 1.1, 1.0)
    universe = len(key_combos(console))
    shares = [w[4] for w in _WORKSPACES]
    n = 0
    while n < 12 or universe < target:
        workspace = (
            rng.choices(built.workspaces, shares)[0] if n >= len(built.workspaces) else built.workspaces[n]
        )
        key = _guarantee_features(_make_key(rng, n, workspace, built.users), n)
        built.keys.append(key)
        universe += len(key_combos(key))
        n += 1
    built.holders = holders = assign_actors(Random(rng.getrandbits(64)), built.keys, built.users)
    built.keys = [_created_by_holder(key, holders) for key in built.keys]
    # Drawn last, from a stream of their own: ids and usage stay what they were before these existed.
    _add_memberships(built, Random(rng.getrandbits(64)))
    built.directory.workspaces = [
        WorkspaceInfo(w.id, w.name, w.archived_at, w.created_at) for w in built.workspaces
    ]
    built.directory.api_keys = [
        ApiKeyInfo(
            k.id,
            k.name,
            k.workspace_id,
            k.status,
            k.partial_key_hint,
            k.created_by,
            k.created_by_type if k.created_by is not None else None,
            k.created_at,
            k.expires_at,
        )
        for k in built.keys
        if k.id is not None
    ]
    built.directory.workspace_members = [WorkspaceMember(*m) for m in built.members]
    built.directory.rbac_groups = [RbacGroup(g, name) for g, name, _ in built.rbac_groups]
    built.directory.rbac_group_members = [RbacGroupMember(g, u, e) for g, u, e, _ in built.rbac_members]
    built.directory.users = [
        UserInfo(str(u["id"]), str(u["email"]), str(u["name"]), str(u["role"]), u["added_at"])  # type: ignore[arg-type]
        for u in built.users
    ]
    return built


def people_csv(users: list[dict[str, object]]) -> str:
    """The fake's users as the identity import's CSV (email,name,team,cost_center), as an HR export would
    list them: each with a team and cost center by role, except users whose role has none."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("email", "name", "team", "cost_center"))
    for user in users:
        if (placed := _IDP_TEAMS.get(str(user["role"]))) is not None:
            writer.writerow((user["email"], user["name"], *placed))
    return out.getvalue()

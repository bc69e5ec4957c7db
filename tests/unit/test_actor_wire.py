"""The actor grain's pages: each kind of actor decodes to its stored kind and id, and to who it is."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from usageledger.anthropic.actor_wire import parse_actor_cost, parse_actor_usage
from usageledger.errors import MalformedResponseError
from usageledger.models import ActorDimensions, ActorInfo

_USAGE = {
    "uncached_input_tokens": 1,
    "output_tokens": 2,
    "cache_read_input_tokens": 3,
    "cache_creation": {"ephemeral_5m_input_tokens": 4, "ephemeral_1h_input_tokens": 5},
    "requests": 6,
    "server_tool_use": {"web_search_requests": 7},
}


def _row(actor: dict[str, Any] | None, day: str = "2026-03-02", **extra: Any) -> dict[str, Any]:
    group = {
        "actor": actor,
        "product": "claude_code",
        "model": "claude-fake-model",
        "workspace_id": "wrkspc_a",
        "speed": None,
        "api_key_id": None,
    }
    return {"starting_at": f"{day}T00:00:00Z", "ending_at": "x", "group": group, **extra}


def _page(*rows: dict[str, Any]) -> bytes:
    return json.dumps({"data": list(rows), "has_more": False, "next_page": None}).encode()


USER = {
    "type": "user_actor",
    "user_id": "user_01A",
    "email_address": "ada@example.test",
    "name": "Ada",
    "deleted": False,
}
DELETED = {
    "type": "user_actor",
    "user_id": "user_01B",
    "email_address": None,
    "name": "Deleted User",
    "deleted": True,
}


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (USER, ActorInfo("user_actor", "user_01A", "ada@example.test", "Ada", False)),
        (DELETED, ActorInfo("user_actor", "user_01B", None, "Deleted User", True)),
        (
            {"type": "service_account_actor", "service_account_id": "svac_01"},
            ActorInfo("service_account_actor", "svac_01"),
        ),
        ({"type": "api_actor", "api_key_id": "apikey_01"}, ActorInfo("api_actor", "apikey_01")),
        (
            {
                "type": "federated_actor",
                "provider": {"type": "aws", "account_id": "123456789012", "signed_principal": "arn:sts:s1"},
                "subject": "arn:aws:iam::123456789012:role/batch",
            },
            ActorInfo("federated_actor", "aws:123456789012:arn:aws:iam::123456789012:role/batch"),
        ),
        (
            {
                "type": "federated_actor",
                "provider": {"type": "gcp", "project_number": "42"},
                "subject": "user:a",
            },
            ActorInfo("federated_actor", "gcp:42:user:a"),
        ),
        (
            {
                "type": "federated_actor",
                "provider": {"type": "azure", "subscription_id": "sub-1"},
                "subject": None,
            },
            ActorInfo("federated_actor", "azure:sub-1:"),
        ),
        (
            {
                "type": "federated_actor",
                "provider": {"type": "oidc", "issuer": "https://idp.test"},
                "subject": "s",
            },
            ActorInfo("federated_actor", "oidc:https%3A//idp.test:s"),
        ),
    ],
)
def test_each_kind_of_actor_decodes_to_its_kind_id_and_identity(actor, expected) -> None:
    """The union → (kind, id) in the row's dimensions, and the actor's identity beside the page."""
    page = parse_actor_usage(_page(_row(actor, usage=_USAGE)), "org_1")
    (record,) = page.records
    assert record.dims == ActorDimensions(
        "org_1", expected.actor_type, expected.actor_id, "claude_code", "claude-fake-model", "wrkspc_a", None
    )
    assert record[2:] == (1, 2, 3, 4, 5, 6, 7)
    assert page.actors == {expected: dt.date(2026, 3, 2)}


def test_an_aws_role_is_one_actor_across_its_sessions() -> None:
    """Two sessions of one IAM role (different signed principals) are the same actor."""
    sessions = [
        {
            "type": "federated_actor",
            "provider": {
                "type": "aws",
                "account_id": "1",
                "signed_principal": f"arn:aws:sts::1:assumed/r/{s}",
            },
            "subject": "arn:aws:iam::1:role/r",
        }
        for s in ("s1", "s2")
    ]
    page = parse_actor_usage(_page(*(_row(a, usage=_USAGE) for a in sessions)), "org_1")
    assert len({r.dims for r in page.records}) == 1


def test_a_null_actor_has_neither_kind_nor_id_and_names_no_one() -> None:
    """`actor: null` rows keep their visible dimensions; no identity is recorded for them."""
    page = parse_actor_cost(
        _page(
            _row(None, cost={"amount": "1.5", "list_amount": "2", "currency": "USD", "requests": None}),
            _row(None, cost={"amount": "0.25", "list_amount": "1", "currency": "USD", "requests": 3}),
        ),
        "org_1",
    )
    assert [r.dims[1:3] for r in page.records] == [(None, None), (None, None)]
    assert page.actors == {}


def test_an_actor_keeps_the_last_day_it_was_seen_on() -> None:
    """The same user on two days of a page is one identity, seen last on the later day."""
    page = parse_actor_usage(
        _page(_row(USER, "2026-03-02", usage=_USAGE), _row(USER, "2026-03-04", usage=_USAGE)), None
    )
    assert list(page.actors.values()) == [dt.date(2026, 3, 4)]


def test_an_unknown_actor_kind_is_a_malformed_page_that_says_where() -> None:
    """A kind we cannot store is refused with the field named, never stored as something else."""
    page = parse_actor_usage(_page(_row({"type": "robot_actor", "robot_id": "r"}, usage=_USAGE)), None)
    with pytest.raises(MalformedResponseError, match=r"malformed actor usage page.*actor"):
        _ = page.records


def _federated(provider: dict[str, Any], subject: str | None) -> dict[str, Any]:
    return {"type": "federated_actor", "provider": provider, "subject": subject}


@pytest.mark.parametrize(
    ("one", "other"),
    [
        # A colon moved between the issuer and the subject: one id when the parts were joined unescaped.
        (
            _federated({"type": "oidc", "issuer": "https://idp.test:8443"}, "team"),
            _federated({"type": "oidc", "issuer": "https://idp.test"}, "8443:team"),
        ),
        (
            _federated({"type": "aws", "account_id": "1:2"}, "x"),
            _federated({"type": "aws", "account_id": "1"}, "2:x"),
        ),
        # An issuer that spells out an escape is not the issuer whose ':' was escaped.
        (
            _federated({"type": "oidc", "issuer": "https%3A//idp.test"}, "s"),
            _federated({"type": "oidc", "issuer": "https://idp.test"}, "s"),
        ),
    ],
)
def test_different_federated_identities_never_share_an_id(one, other) -> None:
    """Two identities whose parts join to the same text unescaped keep two ids, and each id is stable."""
    page = parse_actor_usage(
        _page(_row(one, usage=_USAGE), _row(other, usage=_USAGE), _row(one, usage=_USAGE)), "o"
    )
    ids = [record.dims.actor_id for record in page.records]
    assert ids[0] != ids[1] and ids[0] == ids[2]
    assert len(page.actors) == 2

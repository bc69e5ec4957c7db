"""The ownership rules, row by row: every owner, team and cost-center path and every Unallocated reason."""

from __future__ import annotations

import pytest

from usageledger.reports.ownership_rules import (
    DELETED_USER,
    FEDERATED_IDENTITY,
    NO_API_KEY,
    NO_COST_CENTER,
    NO_IDENTITY,
    NO_OWNER,
    NO_TEAM,
    NOT_A_PERSON,
    NOT_IN_DIRECTORY,
    ActorIdentity,
    ApplicationInfo,
    Directory,
    KeyInfo,
    Owner,
    PersonInfo,
    SpendGroup,
    TeamInfo,
    plan_attribution,
)

PLATFORM = TeamInfo(1, "Platform", "CC-100")
ZEBRA = TeamInfo(2, "Zebra", "CC-200")
NOCC = TeamInfo(3, "Alpha no cc", None)
ADA = PersonInfo(10, "Ada", "ada@example.com", "CC-ADA", (PLATFORM, ZEBRA))
BOB = PersonInfo(11, "Bob", "bob@example.com", None, (PLATFORM,))
CAROL = PersonInfo(12, "Carol", "carol@example.com", None, ())
DAN = PersonInfo(13, "Dan", "dan@example.com", None, (NOCC,))
SEARCH = ApplicationInfo(100, "Search", ZEBRA.id)
ORPHAN_APP = ApplicationInfo(101, "Orphan", None)


def _directory(**changes: object) -> Directory:
    base = Directory(
        actors={
            ("user_actor", "user_ada"): ActorIdentity("Ada@Example.com"),
            ("user_actor", "user_gone"): ActorIdentity(None, deleted=True),
            ("user_actor", "user_stranger"): ActorIdentity("stranger@example.com"),
        },
        user_emails={"user_ada": "ada@example.com", "user_bob": "bob@example.com", "user_carol": "carol@example.com",
                     "user_dan": "dan@example.com", "user_x": "x@example.com"},
        api_keys={
            "key_bob": KeyInfo("user", "user_bob"),
            "key_left": KeyInfo("user", "user_left_org"),
            "key_x": KeyInfo("user", "user_x"),
            "key_svc": KeyInfo("service_account", "svac_1"),
            "key_svc2": KeyInfo("service_account", "svac_2"),
            "key_legacy": KeyInfo(None, None),
            "key_carol": KeyInfo("user", "user_carol"),
            "key_dan": KeyInfo("user", "user_dan"),
        },
        people_by_email={p.email: p for p in (ADA, BOB, CAROL, DAN) if p.email},
        people={p.id: p for p in (ADA, BOB, CAROL, DAN)},
        teams={t.id: t for t in (PLATFORM, ZEBRA, NOCC)},
        owners={("service_account", "svac_1"): Owner(team_id=PLATFORM.id),
                ("api_key", "key_bob"): Owner(person_id=ADA.id),
                ("workspace", "wrk_owned"): Owner(person_id=BOB.id)},
        applications={("api_key", "key_x"): SEARCH, ("workspace", "wrk_app"): ORPHAN_APP},
    )  # fmt: skip
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def _attr(kind: str | None, actor_id: str | None, workspace: str = "wrk_1", **changes: object):
    return plan_attribution(_directory(**changes), SpendGroup(kind, actor_id, workspace))


def test_user_actor_matches_a_person_by_email_case_insensitively():
    """A user actor belongs to the person with its email; their first team by name and their cost center."""
    a = _attr("user_actor", "user_ada")
    assert (a.person, a.team, a.cost_center, a.owner_reason) == (ADA, PLATFORM, "CC-ADA", None)


def test_user_actor_email_falls_back_to_the_users_directory():
    """Without an actor record the Anthropic users list gives the email; no own cost center: the team's."""
    a = _attr("user_actor", "user_bob")
    assert (a.person, a.team, a.cost_center) == (BOB, PLATFORM, "CC-100")


@pytest.mark.parametrize(
    ("kind", "actor_id", "reason"),
    [
        ("user_actor", "user_gone", DELETED_USER),
        ("user_actor", "user_stranger", NOT_IN_DIRECTORY),
        ("user_actor", "user_unknown", NOT_IN_DIRECTORY),
        ("service_account_actor", "svac_2", NO_OWNER),
        ("federated_actor", "gcp:1:sub", FEDERATED_IDENTITY),
        (None, None, NO_IDENTITY),
        ("api_actor", None, NO_API_KEY),
        ("api_actor", "key_left", NOT_IN_DIRECTORY),
        ("api_actor", "key_unknown", NO_OWNER),
        ("api_actor", "key_legacy", NO_OWNER),
        ("api_actor", "key_svc2", NO_OWNER),
    ],
)
def test_unowned_spend_says_why(kind, actor_id, reason):
    """Each way to have no owner is Unallocated everywhere, with the owner's reason."""
    a = _attr(kind, actor_id)
    assert a.person is None and a.owner_team is None and a.team is None and a.cost_center is None
    assert (a.owner_reason, a.team_reason, a.cost_center_reason, a.person_reason) == (reason,) * 4


def test_api_key_override_beats_its_creator():
    a = _attr("api_actor", "key_bob")
    assert a.person == ADA and a.subject == ("api_key", "key_bob")


def test_api_key_without_override_belongs_to_its_creator():
    a = _attr("api_actor", "key_bob", owners={})
    assert a.person == BOB


def test_key_created_by_a_service_account_takes_that_accounts_owner():
    """A team owner: team and cost center are the team's; by person it is Unallocated, owned by a team."""
    a = _attr("api_actor", "key_svc")
    assert (a.owner_team, a.team, a.cost_center, a.person, a.person_reason) == (
        PLATFORM, PLATFORM, "CC-100", None, NOT_A_PERSON,
    )  # fmt: skip


def test_service_account_override():
    a = _attr("service_account_actor", "svac_1")
    assert a.owner_team == PLATFORM and a.subject == ("service_account", "svac_1")


@pytest.mark.parametrize(
    ("kind", "actor_id"),
    [("federated_actor", "gcp:1:sub"), (None, None), ("user_actor", "user_gone"), ("api_actor", "key_left"),
     ("service_account_actor", "svac_2"), ("api_actor", None)],
)  # fmt: skip
def test_workspace_override_owns_what_nothing_else_does(kind, actor_id):
    a = _attr(kind, actor_id, "wrk_owned")
    assert (a.person, a.owner_reason, a.team) == (BOB, None, PLATFORM)


def test_workspace_override_does_not_replace_a_real_owner():
    assert _attr("user_actor", "user_ada", "wrk_owned").person == ADA


def test_application_team_wins_over_the_owners_team():
    """The key serves Search (team Zebra): its team is Zebra; its cost center stays the owner's."""
    a = _attr("api_actor", "key_x", people_by_email={"x@example.com": CAROL})
    assert (a.application, a.person, a.team, a.cost_center_reason) == (SEARCH, CAROL, ZEBRA, NO_COST_CENTER)


def test_application_of_the_workspace_applies_when_the_key_has_none():
    a = _attr("api_actor", "key_bob", "wrk_app")
    assert a.application == ORPHAN_APP and a.team == PLATFORM  # the app has no team: the owner's


def test_unowned_application_spend_goes_to_the_application_team():
    a = _attr("federated_actor", "gcp:1:sub", applications={("workspace", "wrk_1"): SEARCH})
    assert (a.team, a.cost_center, a.person_reason) == (ZEBRA, "CC-200", FEDERATED_IDENTITY)


def test_person_without_team_or_cost_center():
    a = _attr("api_actor", "key_carol")
    assert (a.person, a.team_reason, a.cost_center_reason) == (CAROL, NO_TEAM, NO_COST_CENTER)


def test_person_team_without_cost_center():
    a = _attr("api_actor", "key_dan")
    assert (a.team, a.cost_center_reason) == (NOCC, NO_COST_CENTER)


def test_override_naming_a_missing_person_is_no_owner():
    a = _attr("api_actor", "key_bob", owners={("api_key", "key_bob"): Owner(person_id=999)})
    assert a.owner_reason == NO_OWNER

"""SCIM resources (scim2-models) to and from store rows, request parsing, filters and the identity providers' quirks.

A User is `User[EnterpriseUser]`: userName, name, displayName, the primary email, active, externalId, and
from the enterprise extension department, costCenter and manager.value. A Group is a team with members
(person ids). What we do not store (phone numbers, addresses …) is not in the schema we publish, so an
identity provider never believes it was kept.

Quirks accepted on input, because Okta and Microsoft Entra ID send them:
- `manager` as a bare string, or as an object without `$ref` (scim2-models requires `$ref` on creation);
- a group `remove` of `members` with a `value` list instead of a filter in the path (Entra);
- `"active": "False"` as a string (scim2-models coerces it);
- `emails[type eq "work"].value` as a path (Entra's default mapping): we keep one email, so it is that one.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from scim2_models import (
    Context,
    Email,
    EnterpriseUser,
    Group,
    GroupMember,
    InvalidFilterException,
    InvalidSyntaxException,
    InvalidValueException,
    Manager,
    Meta,
    Name,
    PatchOp,
    ResponseParameters,
    SCIMException,
    User,
)

from usageledger.store.people import PersonFields, PersonRow
from usageledger.store.teams import TeamFields, TeamRow

__all__ = [
    "ENTERPRISE_URN",
    "GroupFilter",
    "ScimUser",
    "UserFilter",
    "fields_of_group",
    "fields_of_user",
    "group_of_team",
    "parse_filter",
    "parse_group",
    "parse_patch",
    "parse_response_parameters",
    "parse_user",
    "user_of_person",
    "weak_etag",
]

ScimUser = User[EnterpriseUser]
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
UserFilter = dict[str, str]
GroupFilter = dict[str, str]

# Only equality on the attributes identity providers look resources up by (RFC 7644 §3.4.2.2 subset).
_EQ = re.compile(r'^\s*([A-Za-z][\w.:-]*)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)
_USER_FILTERS = {
    "username": "user_name",
    "externalid": "external_id",
    "emails.value": "email",
    "emails": "email",
}
_EMAIL_BY_TYPE = re.compile(r'^emails\[\s*type\s+eq\s+"[^"]*"\s*\]\.value$', re.IGNORECASE)
_GROUP_FILTERS = {"displayname": "display_name", "externalid": "external_id"}


def weak_etag(version: int) -> str:
    return f'W/"{version}"'


def _scim_error(exc: ValidationError) -> SCIMException:
    """A pydantic refusal as the SCIM error it names (scim2-models tags its errors `scim_<scimType>`)."""
    errors = exc.errors()
    if not errors:
        return InvalidValueException(detail="The request is not a valid SCIM resource.")
    first = errors[0]
    kind = str(first.get("type", ""))
    where = ".".join(str(p) for p in first.get("loc", ()))
    detail = f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid request"))
    if kind == "scim_invalidSyntax":
        return InvalidSyntaxException(detail=detail)
    error = InvalidValueException(detail=detail)
    if kind.startswith("scim_") and kind != "scim_error":
        error.scim_type = kind.removeprefix("scim_")
    return error


def _lenient_manager(value: Any) -> Any:
    """A manager as scim2-models accepts it: an object with a value (and a `$ref`, which it requires)."""
    if isinstance(value, str):
        value = {"value": value}
    if isinstance(value, dict) and value.get("value") and not value.get("$ref"):
        value = {**value, "$ref": f"Users/{value['value']}"}
    return value


def _lenient_user_payload(payload: Any) -> Any:
    if not isinstance(payload, dict):
        raise InvalidSyntaxException(detail="The request body must be a JSON object.")
    extension = payload.get(ENTERPRISE_URN)
    if isinstance(extension, dict) and extension.get("manager") not in (None, "", {}):
        payload = {
            **payload,
            ENTERPRISE_URN: {**extension, "manager": _lenient_manager(extension["manager"])},
        }
    elif isinstance(extension, dict) and "manager" in extension:
        payload = {**payload, ENTERPRISE_URN: {k: v for k, v in extension.items() if k != "manager"}}
    return payload


def parse_user(payload: Any, *, replacing: bool = False) -> PersonFields:
    """The person a POST or PUT body describes; SCIMException (400) when it is not a valid User."""
    context = Context.RESOURCE_REPLACEMENT_REQUEST if replacing else Context.RESOURCE_CREATION_REQUEST
    try:
        user = ScimUser.model_validate(_lenient_user_payload(payload), scim_ctx=context)
    except ValidationError as exc:
        raise _scim_error(exc) from exc
    return fields_of_user(user)


def _primary_email(user: ScimUser) -> str | None:
    emails = [e for e in user.emails or [] if e.value]
    chosen = next((e for e in emails if e.primary), emails[0] if emails else None)
    return str(chosen.value).lower() if chosen else None


def fields_of_user(user: ScimUser) -> PersonFields:
    extension = user[EnterpriseUser]
    manager = extension.manager if extension else None
    return PersonFields(
        user_name=user.user_name or "",
        email=_primary_email(user),
        external_id=user.external_id,
        display_name=user.display_name,
        given_name=user.name.given_name if user.name else None,
        family_name=user.name.family_name if user.name else None,
        department=extension.department if extension else None,
        cost_center=extension.cost_center if extension else None,
        manager_id=manager.value if manager else None,
        active=user.active if user.active is not None else True,
    )


def user_of_person(row: PersonRow, base_url: str) -> ScimUser:
    f = row.fields
    user = ScimUser(
        id=str(row.id),
        external_id=f.external_id,
        user_name=f.user_name,
        display_name=f.display_name,
        active=f.active,
        meta=Meta(
            resource_type="User",
            created=row.created_at,
            last_modified=row.updated_at,
            version=weak_etag(row.version),
            location=f"{base_url}/Users/{row.id}",
        ),
    )
    if f.given_name or f.family_name:
        user.name = Name(given_name=f.given_name, family_name=f.family_name)
    if f.email:
        user.emails = [Email(value=f.email)]
    if f.department or f.cost_center or f.manager_id:
        user[EnterpriseUser] = EnterpriseUser(
            department=f.department,
            cost_center=f.cost_center,
            manager=Manager.model_validate(
                {"value": f.manager_id, "$ref": f"{base_url}/Users/{f.manager_id}"}
            )
            if f.manager_id
            else None,
        )
    return user


def parse_group(payload: Any, *, replacing: bool = False) -> tuple[TeamFields, list[int]]:
    context = Context.RESOURCE_REPLACEMENT_REQUEST if replacing else Context.RESOURCE_CREATION_REQUEST
    if not isinstance(payload, dict):
        raise InvalidSyntaxException(detail="The request body must be a JSON object.")
    try:
        group = Group.model_validate(payload, scim_ctx=context)
    except ValidationError as exc:
        raise _scim_error(exc) from exc
    return fields_of_group(group)


def fields_of_group(group: Group) -> tuple[TeamFields, list[int]]:
    member_ids: list[int] = []
    for member in group.members or []:
        value = str(member.value or "")
        if not value.isdigit() or len(value) > 18:
            raise InvalidValueException(detail=f"No User with id {value!r}; a member must be a User's id.")
        member_ids.append(int(value))
    return TeamFields(group.display_name or "", group.external_id), member_ids


def group_of_team(row: TeamRow, member_ids: list[int], base_url: str, *, with_members: bool = True) -> Group:
    group = Group(
        id=str(row.id),
        external_id=row.fields.external_id,
        display_name=row.fields.display_name,
        meta=Meta(
            resource_type="Group",
            created=row.created_at,
            last_modified=row.updated_at,
            version=weak_etag(row.version),
            location=f"{base_url}/Groups/{row.id}",
        ),
    )
    if with_members and member_ids:
        group.members = [
            GroupMember.model_validate({"value": str(pid), "$ref": f"{base_url}/Users/{pid}", "type": "User"})
            for pid in member_ids
        ]
    return group


def _lenient_operation(operation: Any) -> list[Any]:
    """One PATCH operation as scim2-models accepts it (see the module's quirks)."""
    if not isinstance(operation, dict):
        return [operation]
    op = str(operation.get("op", "")).lower()
    path = operation.get("path")
    value = operation.get("value")
    if op == "remove" and isinstance(path, str) and path.lower() == "members" and isinstance(value, list):
        removals = []
        for item in value:
            member = str(item.get("value", "")) if isinstance(item, dict) else str(item)
            escaped = member.replace("\\", "\\\\").replace('"', '\\"')
            removals.append({"op": "remove", "path": f'members[value eq "{escaped}"]'})
        return removals
    if (
        op in ("add", "replace")
        and isinstance(path, str)
        and _EMAIL_BY_TYPE.match(path)
        and isinstance(value, str)
    ):
        # We keep one email (its type is not kept), so "the work email" is the email.
        return [{"op": op, "path": "emails", "value": [{"value": value, "primary": True}]}]
    if isinstance(path, str) and path.lower().endswith("manager") and value not in (None, ""):
        return [{**operation, "value": _lenient_manager(value)}]
    if path is None and isinstance(value, dict):
        extension = value.get(ENTERPRISE_URN)
        if isinstance(extension, dict) and "manager" in extension:
            fixed = {**extension, "manager": _lenient_manager(extension["manager"])}
            return [{**operation, "value": {**value, ENTERPRISE_URN: fixed}}]
    return [operation]


def parse_patch(payload: Any, model: type[Any]) -> PatchOp[Any]:
    if not isinstance(payload, dict):
        raise InvalidSyntaxException(detail="The request body must be a JSON object.")
    operations = payload.get("Operations")
    if isinstance(operations, list):
        payload = {**payload, "Operations": [fixed for op in operations for fixed in _lenient_operation(op)]}
    try:
        return PatchOp[model].model_validate(payload, scim_ctx=Context.RESOURCE_PATCH_REQUEST)  # type: ignore[valid-type]
    except ValidationError as exc:
        raise _scim_error(exc) from exc


def parse_filter(text: str | None, *, groups: bool = False) -> dict[str, str]:
    """`attribute eq "value"` as store filter arguments; anything else is an invalidFilter (400)."""
    if text is None or not text.strip():
        return {}
    match = _EQ.match(text)
    known = _GROUP_FILTERS if groups else _USER_FILTERS
    if match is None or match.group(1).lower() not in known:
        names = " or ".join(
            f'{name} eq "…"'
            for name in (
                ("displayName", "externalId") if groups else ("userName", "externalId", "emails.value")
            )
        )
        raise InvalidFilterException(detail=f"Only {names} filters are supported.")
    value = re.sub(r"\\(.)", r"\1", match.group(2))
    return {known[match.group(1).lower()]: value}


def parse_response_parameters(attributes: Any, excluded: Any) -> ResponseParameters[Any] | None:
    """`attributes` / `excludedAttributes` (a comma list, or a JSON list in a .search body) as scim2-models reads them."""
    if not attributes and not excluded:
        return None
    try:
        return ResponseParameters.model_validate(
            {"attributes": attributes or None, "excludedAttributes": excluded or None}
        )
    except ValidationError as exc:
        raise _scim_error(exc) from exc

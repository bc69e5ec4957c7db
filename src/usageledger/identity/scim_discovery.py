"""What our SCIM service says about itself: ServiceProviderConfig, Schemas and ResourceTypes (RFC 7643 §5-7).

The schemas are scim2-models' own, trimmed to the attributes we store, so a client (or a compliance checker)
that reads them sends only what we keep and finds it again on read.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    EnterpriseUser,
    ETag,
    Filter,
    Group,
    Meta,
    Patch,
    ResourceType,
    Schema,
    ServiceProviderConfig,
    Sort,
    User,
)

__all__ = ["MAX_RESULTS", "resource_types", "schemas", "service_provider_config"]

MAX_RESULTS = 200
_DOCS = "https://datatracker.ietf.org/doc/html/rfc7644"

# attribute → the sub-attributes we keep (None: a simple attribute)
_KEPT: dict[str, dict[str, set[str] | None]] = {
    "urn:ietf:params:scim:schemas:core:2.0:User": {
        "userName": None,
        "name": {"givenName", "familyName"},
        "displayName": None,
        "active": None,
        "emails": {"value"},  # one email is kept (the primary one sent), without its type
    },
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
        "department": None,
        "costCenter": None,
        "manager": {"value", "$ref"},
    },
    "urn:ietf:params:scim:schemas:core:2.0:Group": {
        "displayName": None,
        "members": {"value", "$ref", "type"},
    },
}


def _trimmed(schema: Schema, base_url: str) -> dict[str, Any]:
    kept = _KEPT[str(schema.id)]
    attributes = []
    for attribute in schema.attributes or []:
        if attribute.name not in kept:
            continue
        subs = kept[attribute.name]
        if subs is not None:
            attribute = attribute.model_copy(
                update={"sub_attributes": [s for s in attribute.sub_attributes or [] if s.name in subs]}
            )
        attributes.append(attribute)
    trimmed = schema.model_copy(
        update={
            "attributes": attributes,
            "meta": Meta(resource_type="Schema", location=f"{base_url}/Schemas/{schema.id}"),
        }
    )
    return trimmed.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)


def schemas(base_url: str) -> list[dict[str, Any]]:
    return [
        _trimmed(User.to_schema(), base_url),
        _trimmed(EnterpriseUser.to_schema(), base_url),
        _trimmed(Group.to_schema(), base_url),
    ]


def resource_types(base_url: str) -> list[dict[str, Any]]:
    user = {
        "id": "User",
        "name": "User",
        "description": "A person of the workspace",
        "endpoint": "/Users",
        "schema": "urn:ietf:params:scim:schemas:core:2.0:User",
        "schemaExtensions": [
            {"schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "required": False}
        ],
    }
    group = {
        "id": "Group",
        "name": "Group",
        "description": "A team of the workspace",
        "endpoint": "/Groups",
        "schema": "urn:ietf:params:scim:schemas:core:2.0:Group",
    }
    return [
        ResourceType.model_validate(
            t | {"meta": {"resourceType": "ResourceType", "location": f"{base_url}/ResourceTypes/{t['id']}"}}
        ).model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
        for t in (user, group)
    ]


@cache
def _config() -> ServiceProviderConfig:
    return ServiceProviderConfig.model_validate({"documentationUri": _DOCS}).model_copy(
        update=dict(
            patch=Patch(supported=True),
            bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
            filter=Filter(supported=True, max_results=MAX_RESULTS),
            change_password=ChangePassword(supported=False),
            sort=Sort(supported=False),
            etag=ETag(supported=True),
            authentication_schemes=[
                AuthenticationScheme(
                    type=AuthenticationScheme.Type.oauthbearertoken,
                    name="Bearer token",
                    description="A SCIM token made by a workspace admin under Company settings › Identity.",
                    primary=True,
                )
            ],
        )
    )


def service_provider_config(base_url: str) -> dict[str, Any]:
    config = _config().model_copy(
        update={
            "meta": Meta(resource_type="ServiceProviderConfig", location=f"{base_url}/ServiceProviderConfig")
        }
    )
    return config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)

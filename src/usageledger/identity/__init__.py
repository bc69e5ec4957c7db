"""Identity: people and teams from the identity provider, by SCIM 2.0 or a CSV import, over `store`.

- `identity.scim`: the SCIM Users and Groups operations (scim2-models resources; routes in `web.scim`);
- `identity.scim_discovery`: ServiceProviderConfig, Schemas and ResourceTypes;
- `identity.csv_import`: parse, check, plan and apply a CSV of people in one transaction.
"""

from __future__ import annotations

from usageledger.identity.csv_import import ImportPlan, ImportRejected, LineError, apply_import, plan_import

__all__ = ["ImportPlan", "ImportRejected", "LineError", "apply_import", "plan_import"]

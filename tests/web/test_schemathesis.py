"""Schemathesis against the app's own OpenAPI schema: no operation answers 5xx, whatever it is sent."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402


@pytest.fixture
def api_schema(app, tokens, acme_connection):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return schema, tokens["acme_admin"]


def test_no_operation_answers_5xx(api_schema):
    """A handful of generated requests per operation, as an admin with a token; none may fail with 5xx."""
    schema, token = api_schema
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=8, deadline=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=operation.as_strategy())
        def check(case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}"
                )

        check()
    assert not failures, "\n".join(failures)

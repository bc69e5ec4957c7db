"""A day outside the calendar we serve (9999-12-31, 0001-01-01) or a range of more than ten years is a
message saying what is accepted, on every page and API that takes days. The first was an OverflowError,
the generic 500 of a bug; the second a 96 MB overview page, or a FOCUS export of 201 s, for 1,000 years."""

from __future__ import annotations

from html import unescape

import pytest

from .conftest import bearer

OUT_OF_RANGE = "name days from 2000-01-01 to 2999-12-31"
TOO_LONG = "pick at most 3,660 (about ten years)"
CASES = [
    ("until=9999-12-31", OUT_OF_RANGE),
    ("since=0001-01-01", OUT_OF_RANGE),
    ("since=1999-12-31&until=2026-01-05", OUT_OF_RANGE),
    ("since=2000-01-01&until=2999-12-31", TOO_LONG),
]


@pytest.mark.parametrize(("days", "said"), CASES)
@pytest.mark.parametrize(
    "path",
    [
        "/settings/integrations/connections/{connection}",
        "/overview",
        "/allocation",
        "/allocation/people",
        "/allocation/unallocated",
        "/allocation/applications",
    ],
)
def test_pages_explain_days_out_of_range(admin, acme_connection, path, days, said):
    response = admin.get(f"{path.format(connection=acme_connection)}?period=custom&{days}")
    assert response.status_code == 400
    assert said in unescape(response.text)


@pytest.mark.parametrize(("days", "said"), CASES)
@pytest.mark.parametrize(
    "path", ["/api/v1/usage", "/api/v1/overview", "/api/v1/allocation", "/api/v1/exports/focus"]
)
def test_the_api_refuses_days_out_of_range_with_the_envelope(anon, tokens, path, days, said):
    response = anon.get(f"{path}?{days}", headers=bearer(tokens["acme_admin"]))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request" and said in error["message"]

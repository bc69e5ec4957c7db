"""Daily series straight from the fake's ground truth (no database): cost and tokens per model,
workspace and API key, as `find_anomalies` builds them from the rollups."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from usageledger.fake import FakeOrganization
from usageledger.models import DAILY

_WIDTH = len(DAILY.dimensions)
_AT = {name: DAILY.dimensions.index(column) for name, column in
       (("model", "model"), ("workspace", "workspace_id"), ("api_key", "api_key_id"))}  # fmt: skip

Series = dict[tuple[str, str, str], dict[dt.date, int]]  # (metric, dimension, id) -> day -> value


def fake_series(fake: FakeOrganization, start: dt.date, end: dt.date) -> Series:
    series: Series = defaultdict(lambda: defaultdict(int))
    for day, row in fake.iter_rows(start, end):
        tokens = sum(row[_WIDTH : _WIDTH + 5])
        microcents = row[_WIDTH + 7] * 9 // 1000  # the fake's price: 10 % below list, in micro-cents
        for dimension, at in _AT.items():
            value_id = row[at] or ""
            if dimension == "api_key" and not value_id:
                continue
            series["cost", dimension, value_id][day] += microcents
            series["tokens", dimension, value_id][day] += tokens
    return series

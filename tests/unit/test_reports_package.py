"""The reports package loads its modules on first use; its two name lists must say the same thing."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import usageledger.reports as reports


def _type_checking_names() -> dict[str, str]:
    """Name -> module, as the `if TYPE_CHECKING:` imports of the package's __init__ write them."""
    tree = ast.parse(Path(reports.__file__).read_text(encoding="utf-8"))
    guard = next(
        n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING"
    )
    return {
        alias.name: node.module or ""
        for node in guard.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_the_lazy_map_and_the_type_checking_imports_list_the_same_names():
    assert _type_checking_names() == reports._HOMES


def test_every_name_resolves_to_its_modules_object():
    for name, home in reports._HOMES.items():
        assert getattr(reports, name) is getattr(importlib.import_module(f"usageledger.reports.{home}"), name)


def test_an_unknown_name_is_an_attribute_error():
    try:
        reports.no_such_report  # noqa: B018
    except AttributeError as exc:
        assert "no_such_report" in str(exc)
    else:
        raise AssertionError("an unknown name resolved")


def test_importing_one_name_does_not_load_the_overview_or_allocation():
    code = (
        "import sys; from usageledger.reports import UsageQuery; "
        "print(sorted(m for m in sys.modules if m.startswith('usageledger.reports.')))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "usageledger.reports.usage" in loaded
    for heavy in ("overview", "allocation", "forecast"):
        assert f"usageledger.reports.{heavy}'" not in loaded

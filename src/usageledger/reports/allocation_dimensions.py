"""What spend can be allocated by, and how each is called where people read it.

A module of its own so that the CLI can list the choices in its help without loading the allocation read
model (every command's options are built at start, and `status` should not pay for allocation's imports).
"""

from __future__ import annotations

__all__ = ["ALLOCATION_DIMENSIONS"]

ALLOCATION_DIMENSIONS: dict[str, str] = {
    "team": "Team",
    "cost_center": "Cost center",
    "person": "Person",
    "application": "Application",
    "product": "Product",
}

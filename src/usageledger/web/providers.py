"""The providers the Integrations page offers. Data, not code: adding a provider adds an entry here."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PROVIDERS", "Provider", "provider_named"]


@dataclass(frozen=True, slots=True)
class Provider:
    key: str
    name: str
    summary: str
    connect_path: str
    console_keys_url: str
    available: bool = True


PROVIDERS: tuple[Provider, ...] = (
    Provider(
        key="anthropic",
        name="Anthropic",
        summary=(
            "Organization-level Claude usage: daily input, output and cache tokens, request counts and "
            "reported cost, by workspace, API key, model, service tier and context window."
        ),
        connect_path="/settings/integrations/anthropic/connect",
        console_keys_url="https://console.anthropic.com/settings/admin-keys",
    ),
)


def provider_named(key: str) -> Provider | None:
    return next((p for p in PROVIDERS if p.key == key), None)

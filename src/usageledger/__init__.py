"""usageledger: daily Anthropic usage and cost, synced with an Admin API key."""

__all__ = ["__version__"]
__version__ = "0.1.0"

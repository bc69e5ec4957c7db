"""Alerting: budgets, anomalies and the alerts they raise."""

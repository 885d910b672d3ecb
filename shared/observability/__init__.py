"""Metrics (Prometheus), traces (OpenTelemetry) and error reporting (Sentry) for every service."""

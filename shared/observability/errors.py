"""Optional Sentry error reporting, on only when `SENTRY_DSN` is set.

No request bodies, no local variables, no personal data: an event carries the stack, the trace
id and the service, and every known secret value is cut out of it before it leaves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.platform.logging import REDACTED

if TYPE_CHECKING:
    from shared.platform.settings import Settings

__all__ = ["scrubber", "setup_sentry"]


def setup_sentry(service: str, settings: Settings) -> bool:
    """True when Sentry was set up."""
    if settings.sentry_dsn is None:
        return False
    import sentry_sdk  # only with a DSN: it patches logging and asyncio when initialised

    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.awf_env,
        server_name=service,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=0.0,  # traces go to OpenTelemetry
        before_send=scrubber(_secret_values(settings)),
    )
    sentry_sdk.set_tag("service", service)
    return True


def _secret_values(settings: Settings) -> list[str]:
    fields = (
        settings.jwt_secret,
        settings.encryption_key,
        settings.discord_bot_token,
        settings.anthropic_api_key,
        settings.openai_api_key,
        settings.sentry_dsn,
    )
    return [f.get_secret_value() for f in fields if f is not None and f.get_secret_value()]


def scrubber(secrets: list[str]) -> Any:
    """A `before_send` hook replacing each secret value wherever it appears in the event."""

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            for secret in secrets:
                value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value

    def before_send(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
        scrubbed: dict[str, Any] = scrub(event)
        return scrubbed

    return before_send

"""`awf token`: mint a bearer token with the stack's JWT secret."""

from __future__ import annotations

import getpass
import os
from datetime import timedelta
from typing import Annotated

import typer
from pydantic import ValidationError

from services.cli.context import usage_error
from services.cli.session import read_session
from shared.platform.auth import mint_token, parse_role
from shared.platform.settings import ApiSettings, format_settings_error, load_settings

__all__ = ["token", "token_inputs"]


def token(
    role: Annotated[
        str, typer.Option("--role", help="viewer, member, approver or admin.")
    ] = "admin",
    subject: Annotated[
        str | None,
        typer.Option(
            "--subject", help="Who the token names (default: your user name).", show_default=False
        ),
    ] = None,
    ttl_hours: Annotated[
        int | None,
        typer.Option(
            "--ttl-hours",
            min=1,
            help="Lifetime (default: api.token_ttl_hours).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Mint a bearer token (JWT_SECRET from the environment, else from the running `awf up`)."""
    try:
        parsed_role = parse_role(role)
    except ValueError as exc:
        raise usage_error(str(exc)) from None
    secret, default_ttl = token_inputs()
    hours = ttl_hours or default_ttl
    print(mint_token(secret, subject or getpass.getuser(), parsed_role, timedelta(hours=hours)))


def token_inputs() -> tuple[str, int]:
    """The JWT secret (JWT_SECRET, else the one `awf up` generated) and the default TTL in hours.

    Settings problems that do not touch the secret (ENCRYPTION_KEY unset, say) do not stop a token.
    """
    overrides: dict[str, str] = {}
    session = read_session()
    if not os.environ.get("JWT_SECRET") and session is not None and session.jwt_secret:
        overrides["jwt_secret"] = session.jwt_secret
    try:
        settings = load_settings(None, **overrides)
    except ValidationError as exc:
        secret = overrides.get("jwt_secret") or os.environ.get("JWT_SECRET")
        if not secret or any(e["loc"][:1] == ("jwt_secret",) for e in exc.errors()):
            raise usage_error(format_settings_error(exc)) from None
        return secret, ApiSettings().token_ttl_hours
    except FileNotFoundError as exc:
        raise usage_error(str(exc)) from None
    return settings.jwt_secret.get_secret_value(), settings.api.token_ttl_hours

"""Discord's HTTP interactions endpoint: any API replica can answer, with the gateway's handler.

The Ed25519 signature over timestamp + body and a fresh timestamp (5 min) are checked first;
a failure answers 401 saying why. PING gets PONG; everything else goes to the same handler as
the gateway. A deferred answer is finished after the response was sent.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask

from services.gateway.discord.rest import DiscordRest
from services.gateway.discord.signature import verify_interaction
from services.gateway.discord.wiring import build_handler
from shared.platform.errors import BadRequest
from shared.platform.settings import Settings

__all__ = ["router"]

router = APIRouter(prefix="/discord", tags=["discord"])


@router.post(
    "/interactions",
    summary="Discord HTTP interactions (signed by Discord)",
    responses={401: {"description": "Bad or missing signature, or a stale timestamp"}},
)
async def interactions(
    request: Request,
    signature: Annotated[str | None, Header(alias="X-Signature-Ed25519")] = None,
    timestamp: Annotated[str | None, Header(alias="X-Signature-Timestamp")] = None,
) -> JSONResponse:
    settings: Settings = request.state.settings
    body = await request.body()
    verify_interaction(settings.discord.public_key, signature, timestamp, body)
    payload = _payload(body)
    rest: DiscordRest = request.state.discord_rest
    reply = await build_handler(
        settings, request.state.store, request.state.commands.queue, rest
    ).handle(payload)
    later = reply.later
    return JSONResponse(reply.response, background=BackgroundTask(later) if later else None)


def _payload(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise BadRequest("The interaction body is not JSON.") from exc
    if not isinstance(payload, dict):
        raise BadRequest("The interaction body must be a JSON object.")
    return payload

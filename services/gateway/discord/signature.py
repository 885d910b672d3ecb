"""Discord's HTTP interaction signatures: Ed25519 over timestamp + body, and a fresh timestamp."""

from __future__ import annotations

import time

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from shared.platform.errors import Unauthorized

__all__ = ["MAX_SKEW_S", "verify_interaction"]

MAX_SKEW_S = 300


def verify_interaction(
    public_key_hex: str | None,
    signature_hex: str | None,
    timestamp: str | None,
    body: bytes,
    *,
    now: float | None = None,
) -> None:
    """Raise Unauthorized, saying why, unless Discord signed exactly this body recently."""
    if not public_key_hex:
        raise Unauthorized("HTTP interactions are not configured: discord.public_key is not set.")
    if not signature_hex or not timestamp:
        raise Unauthorized("Missing X-Signature-Ed25519 or X-Signature-Timestamp header.")
    if not timestamp.isdigit():
        raise Unauthorized("X-Signature-Timestamp must be a Unix time in seconds.")
    skew = abs((time.time() if now is None else now) - int(timestamp))
    if skew > MAX_SKEW_S:
        raise Unauthorized(
            f"The request timestamp is {skew:.0f} s off (more than {MAX_SKEW_S} s): "
            "a replayed request, or a wrong clock."
        )
    try:
        key = VerifyKey(bytes.fromhex(public_key_hex))
        key.verify(timestamp.encode() + body, bytes.fromhex(signature_hex))
    except (BadSignatureError, ValueError) as exc:
        raise Unauthorized("Invalid request signature.") from exc

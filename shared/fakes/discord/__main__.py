"""``python -m shared.fakes.discord --port N``: the fake as a process; prints its info as JSON."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys

from shared.fakes.discord.server import FakeDiscord


async def _serve(host: str, port: int) -> None:
    async with FakeDiscord(host=host, port=port) as fake:
        info = {
            "rest_url": fake.rest_url,
            "gateway_url": fake.gateway_url,
            "token": fake.token,
            "app_id": fake.app_id,
            "guild_id": fake.guild_id,
            "channel_id": fake.channel_id,
        }
        sys.stdout.write(json.dumps(info) + "\n")
        sys.stdout.flush()
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local fake of Discord (REST + gateway)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port))


if __name__ == "__main__":
    main()

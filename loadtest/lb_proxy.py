"""A small round-robin TCP (L4) load balancer on loopback, for the scale-out benchmark.

There is no nginx on the benchmark box, so this stands in for nginx's `stream` proxy: each
accepted connection is paired with a new connection to the next backend in turn and bytes are
copied both ways until either side closes. Balancing is per connection, as with any L4
balancer, so keep-alive clients stay on the replica they were given.

`python -m loadtest.lb_proxy --port 8080 --backend 8001 --backend 8002` listens on 127.0.0.1
only, talks to backends on 127.0.0.1 only, and stops on SIGTERM or SIGINT. asyncio protocols
rather than streams: about half the CPU per forwarded chunk.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Sequence

__all__ = ["HOST", "RoundRobin", "main", "serve"]

HOST = "127.0.0.1"


class RoundRobin:
    """The next backend port, in turn; the counts say how many connections each one got."""

    def __init__(self, ports: Sequence[int]) -> None:
        if not ports:
            raise ValueError("a balancer needs at least one backend")
        self.ports = tuple(ports)
        self.counts = dict.fromkeys(self.ports, 0)
        self._next = 0

    def pick(self) -> int:
        port = self.ports[self._next % len(self.ports)]
        self._next += 1
        self.counts[port] += 1
        return port


class _Pipe(asyncio.Protocol):
    """One side of a proxied connection: what it receives is written to its peer."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.peer: _Pipe | None = None
        self._pending: list[bytes] = []  # client bytes that arrived before the upstream was up

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        peer = self.peer
        if peer is None or peer.transport is None:
            self._pending.append(data)
        else:
            peer.transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.close()

    def pause_writing(self) -> None:  # our socket is full: stop reading from the peer
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()

    def link(self, peer: _Pipe) -> None:
        """Pair two sides and flush what arrived before the pairing."""
        self.peer, peer.peer = peer, self
        for side in (self, peer):
            pending, side._pending = side._pending, []
            if pending and side.peer is not None and side.peer.transport is not None:
                side.peer.transport.write(b"".join(pending))


class _Client(_Pipe):
    def __init__(self, balancer: RoundRobin) -> None:
        super().__init__()
        self._balancer = balancer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        asyncio.get_running_loop().create_task(self._connect(self._balancer.pick()))

    async def _connect(self, port: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, upstream = await loop.create_connection(_Pipe, HOST, port)
        except OSError:
            if self.transport is not None:
                self.transport.close()
            return
        if self.transport is None or self.transport.is_closing():
            if upstream.transport is not None:
                upstream.transport.close()
            return
        self.link(upstream)


async def serve(port: int, backends: Sequence[int], stop: asyncio.Event) -> RoundRobin:
    """Balance `127.0.0.1:port` over the backends until `stop` is set; returns the balancer."""
    balancer = RoundRobin(backends)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Client(balancer), HOST, port, backlog=1024)
    async with server:
        await stop.wait()
    return balancer


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True, help="listen on 127.0.0.1:PORT")
    parser.add_argument("--backend", type=int, action="append", required=True, help="a port")
    return parser.parse_args(argv)


async def _main(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    balancer = await serve(args.port, args.backend, stop)
    print(f"connections per backend: {balancer.counts}", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(_parse(argv)))


if __name__ == "__main__":
    main()

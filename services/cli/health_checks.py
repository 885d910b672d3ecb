"""The rows of `awf health`: the API replicas, Redis, the workers and Discord, each one probe.

A probe never raises: it answers ``ok``, ``fail``, ``absent`` (the component is not running, which
is fine unless required) or ``unknown`` (it could not be looked at). The per-container probes of
``services.healthcheck`` do the looking where they can.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from redis.exceptions import NoPermissionError, RedisError

from services.healthcheck import (
    DEFAULT_MAX_IDLE_S,
    GATEWAY_CLIENT_PREFIX,
    gateway_client_name,
    min_idle_s,
    probe_url,
    worker_health_key,
)
from shared.state import keys
from shared.state.lease import Grant

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["Check", "Status", "check_api", "check_discord", "check_redis", "check_workers"]

_PROBE_TTL_MS = 10_000


class Status(StrEnum):
    OK = "ok"
    FAIL = "fail"
    ABSENT = "absent"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Check:
    component: str
    status: Status
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


def check_api(urls: Sequence[str], timeout_s: float) -> Check:
    """Every replica answers ``/readyz`` (so each reaches Redis)."""
    if not urls:
        return Check("api", Status.FAIL, "no API to check: pass --api-url or run `awf up`")
    problems = [p for u in urls if (p := probe_url(f"{u.rstrip('/')}/readyz", timeout_s))]
    data = {"urls": list(urls), "problems": problems}
    if problems:
        return Check("api", Status.FAIL, "; ".join(problems), data)
    ready = "ready" if len(urls) == 1 else f"{len(urls)} replicas ready"
    return Check("api", Status.OK, f"{ready}: {', '.join(urls)}", data)


def check_redis(redis: Redis) -> Check:
    """A write, a read and a delete in one transaction, timed (a read-only replica fails)."""
    key, token = keys.health_probe(secrets.token_hex(8)), secrets.token_hex(8)
    started = time.perf_counter()
    try:
        with redis.pipeline(transaction=True) as tx:
            tx.set(key, token, px=_PROBE_TTL_MS)
            tx.get(key)
            tx.delete(key)
            _, read, _ = tx.execute()
        server = cast("dict[str, Any]", redis.info("server"))
    except RedisError as exc:
        return Check("redis", Status.FAIL, f"unreachable or refusing: {exc}")
    elapsed_ms = (time.perf_counter() - started) * 1000
    if read != token:
        return Check("redis", Status.FAIL, "the value written was not read back")
    version = server.get("valkey_version") or server.get("redis_version") or "?"
    data = {"round_trip_ms": round(elapsed_ms, 2), "version": str(version)}
    return Check("redis", Status.OK, f"read/write in {elapsed_ms:.1f} ms (server {version})", data)


def check_workers(redis: Redis) -> Check:
    """Workers refresh a per-pod key every ``monitoring.health_check_interval`` (it lives two);
    none may be fine (scaled to zero) unless jobs are waiting."""
    try:
        found = sorted(redis.scan_iter(match=worker_health_key("*"), count=500))
        reports = cast("list[str | None]", redis.mget(found)) if found else []
        waiting = int(cast("int", redis.zcount(keys.ARQ_QUEUE, "-inf", int(time.time() * 1000))))
    except RedisError as exc:
        return Check("worker", Status.UNKNOWN, f"not checked: {exc}")
    prefix = worker_health_key("")
    pods = {str(k).removeprefix(prefix): r for k, r in zip(found, reports, strict=True) if r}
    data = {"pods": pods, "jobs_waiting": waiting}
    jobs = f"{waiting} job{'' if waiting == 1 else 's'} waiting"
    if not pods:
        return Check("worker", Status.ABSENT, f"none running; {jobs}", data)
    return Check("worker", Status.OK, f"{len(pods)} running ({', '.join(pods)}); {jobs}", data)


def check_discord(redis: Redis) -> Check:
    """The gateway leader holds its lease and is connected; gateway pods without a leader fail.

    The leader's term is its lease plus its own Redis connection (both gone the moment it dies);
    a duty that beats (the heartbeat duty) also shows its last beat."""
    try:
        holder = cast("str | None", redis.get(keys.lease(keys.GATEWAY_LEASE)))
        clients = _clients(redis)
        beat = _last_beat(redis)
        link = _discord_link(redis)
    except RedisError as exc:
        return Check("discord", Status.UNKNOWN, f"not checked: {exc}")
    pods = _gateway_pods(clients) if clients is not None else set()
    if holder is None:
        if not pods:
            return Check("discord", Status.ABSENT, "not configured: no gateway is running")
        return Check("discord", Status.FAIL, f"{len(pods)} gateway pod(s) connected, none leads")
    leader = _leader(Grant.parse(holder), clients, len(pods), beat)
    return leader if leader.status is not Status.OK else _with_link(leader, link)


def _with_link(leader: Check, link: dict[str, Any]) -> Check:
    """The leader's own report of its Discord connection, when its duty connects to Discord
    (the heartbeat duty of dev and tests reports none)."""
    if not link:
        return leader
    data = dict(leader.data)
    if link.get("token") != str(data["fence"]):
        detail = f"leader {data['leader']} has not reported a Discord connection yet"
        return Check("discord", Status.FAIL, detail, data)
    data.update(discord=link["state"], discord_since_s=link["age_s"])
    state = f"Discord {link['state']} for {link['age_s']} s"
    if link["state"] != "ready":
        return Check("discord", Status.FAIL, f"leader {data['leader']}: {state}", data)
    return Check("discord", Status.OK, f"{leader.detail}; {state}", data)


def _discord_link(redis: Redis) -> dict[str, Any]:
    """What the leader's Discord duty last reported (state, term token, age), or {}."""
    fields = cast("dict[str, str]", redis.hgetall(keys.GATEWAY_DISCORD))
    if not fields:
        return {}
    seconds, _ = cast("tuple[int, int]", redis.time())
    age_s = max(0, seconds - int(fields.get("since", seconds)))
    return {"state": fields.get("state"), "token": fields.get("token"), "age_s": age_s}


def _leader(
    grant: Grant, clients: list[Mapping[str, object]] | None, pods: int, beat: dict[str, Any]
) -> Check:
    data: dict[str, Any] = {"leader": grant.owner, "fence": grant.token, "pods": pods}
    if clients is not None:
        idle = min_idle_s(clients, gateway_client_name(grant.owner))
        if idle is None:
            return Check("discord", Status.FAIL, f"leader {grant.owner} is not connected", data)
        if idle > DEFAULT_MAX_IDLE_S:
            return Check("discord", Status.FAIL, f"leader {grant.owner} silent for {idle} s", data)
    detail = f"leader {grant.owner} (fence {grant.token}), {max(0, pods - 1)} standing by"
    if beat.get("token") == str(grant.token):
        data["beat_age_s"] = beat["age_s"]
        detail += f"; duty beat {beat['age_s']:.1f} s ago"
    return Check("discord", Status.OK, detail, data)


def _clients(redis: Redis) -> list[Mapping[str, object]] | None:
    """``CLIENT LIST``, or None when an ACL refuses it."""
    try:
        return cast("list[Mapping[str, object]]", redis.client_list())
    except NoPermissionError:
        return None


def _gateway_pods(clients: list[Mapping[str, object]]) -> set[str]:
    names = (str(c.get("name", "")) for c in clients)
    return {n for n in names if n.startswith(GATEWAY_CLIENT_PREFIX)}


def _last_beat(redis: Redis) -> dict[str, Any]:
    """The newest entry of the leader's beacon (token, age on the server's clock), or {}."""
    entries = cast(
        "list[tuple[str, dict[str, str]]]", redis.xrevrange(keys.GATEWAY_BEACON, count=1)
    )
    if not entries:
        return {}
    seconds, micros = cast("tuple[int, int]", redis.time())
    entry_id, fields = entries[0]
    age_s = max(0.0, seconds + micros / 1e6 - int(entry_id.split("-")[0]) / 1000)
    return {"token": fields.get("token"), "age_s": round(age_s, 1)}

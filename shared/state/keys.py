"""Every Redis key name of the product. No key literal lives anywhere else.

Keys of one project share the hash tag `{<project_id>}` so a project's transaction touches one
slot and the store can move to Redis Cluster unchanged. Only the project index, the active set
and arq's own keys are global.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "ACTIVE_PROJECTS",
    "AGENT_SLOTS",
    "ARQ_PREFIX",
    "ARQ_QUEUE",
    "BACKUP_PATTERNS",
    "DISCORD_BOUND_PROJECTS",
    "DISCORD_REST_BUCKET",
    "GATEWAY_BEACON",
    "GATEWAY_DISCORD",
    "GATEWAY_DISCORD_LOG",
    "GATEWAY_IDENTIFY_STREAK",
    "GATEWAY_LEASE",
    "IDEMPOTENCY_TTL_S",
    "JOB_CLAIM_TTL_S",
    "PROJECTS",
    "WORKERS",
    "EntityKind",
    "IndexKind",
    "approval_mark",
    "backup_probe",
    "board_login_link",
    "context_files",
    "context_memory",
    "context_pack",
    "context_packs",
    "context_stats",
    "context_summaries",
    "context_summary_index",
    "discord_commands_digest",
    "discord_cursor",
    "discord_decision",
    "discord_guild_roles",
    "discord_interaction",
    "discord_rate",
    "discord_rest_park",
    "discord_tail_lock",
    "discord_threads",
    "discord_tool_counts",
    "entity",
    "fence",
    "fsync_mark",
    "gateway_event",
    "gateway_identifies",
    "health_probe",
    "idempotency",
    "index",
    "job_claim",
    "lease",
    "lease_fence",
    "lease_handoff",
    "lease_prefix",
    "project",
    "project_discord_prefix",
    "project_pattern",
    "project_prefix",
    "project_transient_prefixes",
    "scheduled_backup",
    "sequence",
    "slots",
    "timeline",
    "usage",
]

PREFIX = "awf"
PROJECTS = f"{PREFIX}:projects"
ACTIVE_PROJECTS = f"{PREFIX}:projects:active"
IDEMPOTENCY_TTL_S = 24 * 3600
ARQ_QUEUE = "arq:queue"  # arq's default queue, a sorted set of job ids

AGENT_SLOTS = f"{PREFIX}:agents:slots"  # global semaphore of running agent phases
JOB_CLAIM_TTL_S = 7 * 24 * 3600
WORKERS = f"{PREFIX}:workers"  # sorted set: worker id -> last heartbeat (ms)

EntityKind = Literal["epic", "story", "sprint", "approval", "task", "cycle"]
IndexKind = Literal[
    "backlog",  # stories in status backlog, scored by priority then arrival
    "proposed",  # stories waiting for /approve, by arrival
    "stories",  # every story, by arrival
    "epics",
    "sprints",
    "approvals",
    "approvals:pending",
]


def project_prefix(project_id: str) -> str:
    return f"{PREFIX}:{{{project_id}}}"


def project(project_id: str) -> str:
    """The project document, whose version guards every workflow transition."""
    return f"{project_prefix(project_id)}:project"


def entity(project_id: str, kind: EntityKind, entity_id: str) -> str:
    return f"{project_prefix(project_id)}:{kind}:{entity_id}"


def usage(project_id: str) -> str:
    """Hash: cost charged per sprint and project, and the budget caps humans waived."""
    return f"{project_prefix(project_id)}:usage"


def index(project_id: str, kind: IndexKind) -> str:
    return f"{project_prefix(project_id)}:idx:{kind}"


def sequence(project_id: str) -> str:
    """A counter giving every new entity of the project its arrival order."""
    return f"{project_prefix(project_id)}:seq"


def timeline(project_id: str) -> str:
    """Append-only stream of every change: actor, command, from -> to, payload."""
    return f"{project_prefix(project_id)}:timeline"


def job_claim(project_id: str, job_id: str) -> str:
    """SET NX guard so a deterministic job id is enqueued once, even after arq forgets it."""
    return f"{project_prefix(project_id)}:job:{job_id}"


def slots(project_id: str) -> str:
    """Sorted set semaphore: cycle id -> lease expiry (ms) of the project's running phases."""
    return f"{project_prefix(project_id)}:slots"


def fence(project_id: str) -> str:
    """Counter handing out fencing tokens to the jobs that take a cycle."""
    return f"{project_prefix(project_id)}:fence"


def idempotency(project_id: str, digest: str) -> str:
    return f"{project_prefix(project_id)}:idem:{digest}"


def fsync_mark(project_id: str, token: str) -> str:
    """Written in a decision's transaction, deleted once WAITAOF confirms it reached the AOF."""
    return f"{project_prefix(project_id)}:fsync:{token}"


# Leases (leader election). A lease's keys share the hash tag `{lease:<name>}` so its Lua scripts
# touch one slot.
GATEWAY_LEASE = "gateway"  # the name of the lease whose holder runs the Discord shard


def lease_prefix(name: str) -> str:
    return f"{PREFIX}:{{lease:{name}}}"


def lease(name: str) -> str:
    """The holder of lease `name`: "<fencing token>:<owner id>", expiring unless renewed."""
    return f"{lease_prefix(name)}:holder"


def lease_fence(name: str) -> str:
    """Counter handing out the fencing tokens of lease `name`; never expires."""
    return f"{lease_prefix(name)}:fence"


def lease_handoff(name: str) -> str:
    """List a releasing holder pushes to, waking one standby blocked on it (BLPOP)."""
    return f"{lease_prefix(name)}:handoff"


# Gateway guards. The IDENTIFY counters share the `{gateway}` tag (one Lua script updates both);
# event claims are single-key and spread over the cluster.
GATEWAY_BEACON = f"{PREFIX}:gateway:beacon"  # stream: one entry per second from the leader
GATEWAY_DISCORD = f"{PREFIX}:{{gateway:discord}}"  # hash: the leader's Discord connection
GATEWAY_DISCORD_LOG = f"{PREFIX}:{{gateway:discord}}:log"  # stream: its last changes, newest last
GATEWAY_IDENTIFY_STREAK = f"{PREFIX}:{{gateway}}:identify:streak"  # IDENTIFYs without a quiet gap


def gateway_identifies(utc_day: str) -> str:
    """IDENTIFYs sent on UTC day `utc_day` (YYYY-MM-DD), cluster-wide."""
    return f"{PREFIX}:{{gateway}}:identify:{utc_day}"


def gateway_event(event_id: str) -> str:
    """SET NX claim so an event delivered to two overlapping sessions is handled once."""
    return f"{PREFIX}:gateway:event:{event_id}"


# Discord interactions (gateway and HTTP share them, so one interaction is handled once).
def discord_interaction(interaction_id: str) -> str:
    """SET NX claim of an interaction id: a replay or an overlapping pod handles it once."""
    return f"{PREFIX}:discord:interaction:{interaction_id}"


def discord_rate(user_id: str) -> str:
    """Sorted set: one member per command of the user in the last minute, scored by ms."""
    return f"{PREFIX}:discord:rate:{user_id}"


def discord_commands_digest(scope: str) -> str:
    """Digest of the slash commands last synced to `scope` (application id, and guild id)."""
    return f"{PREFIX}:discord:commands:{scope}"


def discord_decision(project_id: str, decision_digest: str) -> str:
    """Who made the decision a button names (action, entity, version), for later clicks."""
    return f"{project_prefix(project_id)}:discord:decision:{decision_digest}"


def discord_guild_roles(guild_id: str) -> str:
    """Cached role id -> name of a guild, for role mappings written with names."""
    return f"{PREFIX}:discord:roles:{guild_id}"


# Discord notifications. The REST bucket and its parking keys share one hash tag so one Lua
# script reads them together; the rest belongs to a project.
DISCORD_REST_BUCKET = f"{PREFIX}:{{discord-rest}}:bucket"  # hash: tokens, refilled at (ms)
DISCORD_BOUND_PROJECTS = f"{PREFIX}:discord:bound"  # set: projects bound to a channel


def discord_rest_park(scope: str) -> str:
    """Until when (Redis ms) every call (`global`) or one route bucket must wait after a 429."""
    return f"{PREFIX}:{{discord-rest}}:park:{scope}"


def discord_threads(project_id: str) -> str:
    """Hash: story id -> the id of the story's Discord thread."""
    return f"{project_prefix(project_id)}:discord:threads"


def discord_cursor(project_id: str) -> str:
    """Hash: the last timeline event fully posted, and the parts posted of the next one."""
    return f"{project_prefix(project_id)}:discord:cursor"


def discord_tail_lock(project_id: str) -> str:
    """Which notifier posts the project's timeline now (SET NX PX), so posts stay in order."""
    return f"{project_prefix(project_id)}:discord:tail"


def discord_tool_counts(project_id: str) -> str:
    """Hash: cycle id -> tool calls seen since its phase started (summarised, never posted)."""
    return f"{project_prefix(project_id)}:discord:tools"


def approval_mark(project_id: str, approval_id: str, mark: str) -> str:
    """SET NX claim of a deadline step (`remind-50`, `expire`), so it fires once across pods."""
    return f"{project_prefix(project_id)}:approval:{approval_id}:deadline:{mark}"


# Agent context: the last pack per story, the summary cache and the per-role memory notes.
def context_pack(project_id: str, story_id: str) -> str:
    """The last context pack built for a story: files, modes, digests, tokens."""
    return f"{project_prefix(project_id)}:context:pack:{story_id}"


def context_packs(project_id: str) -> str:
    """Sorted set: story id -> when its last context pack was built (ms)."""
    return f"{project_prefix(project_id)}:context:packs"


def context_summaries(project_id: str) -> str:
    """Hash: file path -> its cached summary and the digest it was made from."""
    return f"{project_prefix(project_id)}:context:summaries"


def context_summary_index(project_id: str) -> str:
    """Hash: file path -> "<digest> <bytes>" of its cached summary, read without the texts."""
    return f"{project_prefix(project_id)}:context:summary_index"


def context_files(project_id: str) -> str:
    """Hash: file path -> digest, as the last workspace scan saw them."""
    return f"{project_prefix(project_id)}:context:files"


def context_stats(project_id: str) -> str:
    """Hash of counters: packs built, summaries reused and made."""
    return f"{project_prefix(project_id)}:context:stats"


def context_memory(project_id: str, role: str) -> str:
    """List: the newest notes the orchestrator kept for an agent role, newest first."""
    return f"{project_prefix(project_id)}:context:memory:{role}"


# Backup and export: every key of ours and of arq, and the keys of a project that only coordinate
# running work in one installation (claims, leases), which a project export leaves out.
ARQ_PREFIX = "arq"
BACKUP_PATTERNS = (f"{PREFIX}:*", f"{ARQ_PREFIX}:*")


def project_pattern(project_id: str) -> str:
    """SCAN pattern matching every key of one project (ids never hold glob characters)."""
    return f"{project_prefix(project_id)}:*"


def project_transient_prefixes(project_id: str) -> tuple[str, ...]:
    """Idempotency and job claims, the running phases' slots and the notifier's lock."""
    pid = project_id
    return (
        idempotency(pid, ""),
        job_claim(pid, ""),
        slots(pid),
        discord_tail_lock(pid),
        fsync_mark(pid, ""),
    )


def project_discord_prefix(project_id: str) -> str:
    """Prefix of a project's Discord keys (threads, cursor, decisions...), tied to its channel."""
    return f"{project_prefix(project_id)}:discord:"


def backup_probe(token: str) -> str:
    """A scratch key a restore writes and deletes at once, to test the server takes the dump."""
    return f"{PREFIX}:backup-probe:{token}"


def scheduled_backup(slot: int) -> str:
    """The claim of the worker taking the scheduled backup of one `backup_interval` slot."""
    return f"{PREFIX}:backup-slot:{slot}"


def health_probe(token: str) -> str:
    """A scratch key `awf health` writes, reads back and deletes in one transaction."""
    return f"{PREFIX}:health-probe:{token}"


def board_login_link(nonce_digest: str) -> str:
    """A one-time web board login link (`awf board`): who it logs in, until redeemed or expired."""
    return f"{PREFIX}:board:link:{nonce_digest}"

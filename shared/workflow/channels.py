"""/project bind_channel: where a project's progress is posted on Discord.

Binding also enrols the project in the set the gateway's notifier tails, in the same commit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.domain.models import Project
from shared.platform.errors import BadRequest, NotFound
from shared.state import keys
from shared.workflow.project_change import change_project

if TYPE_CHECKING:
    from shared.domain.args import ProjectBindChannelArgs
    from shared.state.store import Store, Transaction
    from shared.workflow.context import CommandOutcome, CommandRequest

__all__ = ["bind"]

_NAME = "project bind_channel"


async def bind(
    store: Store, args: ProjectBindChannelArgs, request: CommandRequest
) -> CommandOutcome:
    channel_id = args.channel_id
    if channel_id is None:
        raise BadRequest(
            "Name the channel: pass channel_id (in Discord, run /project bind_channel in the "
            "channel itself).",
            field="channel_id",
        )
    project_id = args.project

    async def to_channel(
        tx: Transaction, current: Project | None
    ) -> tuple[Project, dict[str, Any]]:
        if current is None:
            raise NotFound(f"Project {project_id} not found. List projects with /project list.")
        tx.call(lambda p: p.sadd(keys.DISCORD_BOUND_PROJECTS, project_id))
        result = {
            "project_id": project_id,
            "discord_channel_id": channel_id,
            "previous_channel_id": current.discord_channel_id,
        }
        return current.touched(discord_channel_id=channel_id), result

    return await change_project(store, _NAME, project_id, args, request, to_channel)

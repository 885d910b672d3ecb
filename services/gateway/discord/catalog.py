"""The command table rendered as Discord slash commands: one top-level command per first word.

`/epic` carries its options directly; `/backlog add_story` is a subcommand of `/backlog`. A
group with more subcommands than Discord allows (25) keeps the first 24 and puts the rest in a
`more` subcommand group. A stable digest of the rendered set lets the bot re-sync only when the
table changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from services.gateway.discord import wire
from services.gateway.discord.options import arg_fields, option_body, project_field
from services.gateway.discord.wire import Json
from shared.domain.commands import COMMANDS, Command

__all__ = ["OVERFLOW_GROUP", "Catalog", "Invocation", "build_catalog", "invocation_of"]

OVERFLOW_GROUP = "more"
_CHAT_INPUT = 1


@dataclass(frozen=True)
class Invocation:
    """What a slash-command interaction asked for: the Discord path and its leaf options."""

    path: tuple[str, ...]
    options: list[Json]


@dataclass(frozen=True)
class Catalog:
    bodies: list[Json]
    digest: str
    commands_by_path: dict[tuple[str, ...], str]

    def command_for(self, path: tuple[str, ...]) -> Command | None:
        name = self.commands_by_path.get(path)
        return COMMANDS[name] if name else None


def build_catalog(commands: Iterable[Command] | None = None) -> Catalog:
    groups: dict[str, list[Command]] = {}
    for command in commands if commands is not None else COMMANDS.values():
        groups.setdefault(command.path[0], []).append(command)
    bodies: list[Json] = []
    by_path: dict[tuple[str, ...], str] = {}
    for word, members in groups.items():
        bodies.append(_top_level(word, members, by_path))
    blob = json.dumps(bodies, sort_keys=True, separators=(",", ":"))
    return Catalog(bodies, hashlib.sha256(blob.encode()).hexdigest(), by_path)


def _top_level(word: str, members: list[Command], by_path: dict[tuple[str, ...], str]) -> Json:
    _check_name(word)
    if len(members) == 1 and len(members[0].path) == 1:
        by_path[(word,)] = members[0].name
        return _body(word, members[0].help, _options(members[0]))
    if any(len(m.path) != 2 for m in members):
        raise ValueError(f"/{word} is both a command and a group, or nests deeper than two words")
    direct, overflow = _split(members)
    options = [_subcommand(m, (word, m.path[1]), by_path) for m in direct]
    if overflow:
        nested = [_subcommand(m, (word, OVERFLOW_GROUP, m.path[1]), by_path) for m in overflow]
        options.append(_group(OVERFLOW_GROUP, f"More /{word} commands", nested))
    names = ", ".join(m.path[1] for m in members)
    return _body(word, f"/{word} commands: {names}", options)


def _split(members: list[Command]) -> tuple[list[Command], list[Command]]:
    if len(members) <= wire.MAX_OPTIONS:
        return members, []
    keep = wire.MAX_OPTIONS - 1
    overflow = members[keep:]
    if len(overflow) > wire.MAX_OPTIONS:
        raise ValueError(f"/{members[0].path[0]} has more subcommands than Discord can show")
    return members[:keep], overflow


def _subcommand(
    command: Command, path: tuple[str, ...], by_path: dict[tuple[str, ...], str]
) -> Json:
    _check_name(path[-1])
    by_path[path] = command.name
    return {
        "type": wire.SUB_COMMAND,
        "name": path[-1],
        "description": wire.fit(command.help, wire.MAX_DESCRIPTION),
        "options": _options(command),
    }


def _group(name: str, description: str, options: list[Json]) -> Json:
    return {
        "type": wire.SUB_COMMAND_GROUP,
        "name": name,
        "description": description,
        "options": options,
    }


def _options(command: Command) -> list[Json]:
    fields = arg_fields(command.args)
    if command.scope == "project":
        if any(f.name == "project" for f in fields):
            raise ValueError(f"/{command.name} has an argument named project")
        fields = [project_field(), *fields]
    if len(fields) > wire.MAX_OPTIONS:
        raise ValueError(f"/{command.name} has more options than Discord allows")
    return [option_body(f) for f in fields]


def _body(name: str, description: str, options: list[Json]) -> Json:
    return {
        "type": _CHAT_INPUT,
        "name": name,
        "description": wire.fit(description, wire.MAX_DESCRIPTION),
        "options": options,
        "dm_permission": False,
    }


def _check_name(name: str) -> None:
    if not wire.NAME_PATTERN.match(name) or name != name.lower():
        raise ValueError(f"{name!r} is not a valid Discord command name")


def invocation_of(data: Json) -> Invocation:
    """Walk the subcommand (group) options down to the leaf options."""
    path = [str(data.get("name", ""))]
    options: list[Json] = list(data.get("options") or [])
    while options and options[0].get("type") in (wire.SUB_COMMAND, wire.SUB_COMMAND_GROUP):
        path.append(str(options[0].get("name", "")))
        options = list(options[0].get("options") or [])
    return Invocation(tuple(path), options)

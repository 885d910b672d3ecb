"""The slash commands rendered from the command table respect Discord's limits, cover every
command, parse back into the table's arguments, and have a stable digest."""

from __future__ import annotations

from typing import Any

import pytest

from services.gateway.discord import wire
from services.gateway.discord.catalog import OVERFLOW_GROUP, build_catalog, invocation_of
from services.gateway.discord.options import args_from_options
from shared.domain import args as a
from shared.domain.command_spec import Command
from shared.domain.commands import COMMANDS

CATALOG = build_catalog()


def _walk(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for option in options:
        found.append(option)
        if option["type"] in (wire.SUB_COMMAND, wire.SUB_COMMAND_GROUP):
            found += _walk(option["options"])
    return found


def test_one_top_level_command_per_first_word() -> None:
    names = [b["name"] for b in CATALOG.bodies]
    assert names == list(dict.fromkeys(c.path[0] for c in COMMANDS.values()))
    assert {"backlog", "sprint", "tdd", "epic", "approve"} <= set(names)


def test_every_table_command_is_reachable_by_exactly_one_path() -> None:
    assert sorted(CATALOG.commands_by_path.values()) == sorted(COMMANDS)
    for path, name in CATALOG.commands_by_path.items():
        assert CATALOG.command_for(path) is COMMANDS[name]


@pytest.mark.parametrize("body", CATALOG.bodies, ids=lambda b: b["name"])
def test_names_descriptions_and_counts_fit_discords_limits(body: dict[str, Any]) -> None:
    assert len(body["options"]) <= wire.MAX_OPTIONS
    for item in [body, *_walk(body["options"])]:
        assert wire.NAME_PATTERN.match(item["name"]), item["name"]
        assert item["name"] == item["name"].lower()
        assert 1 <= len(item["description"]) <= wire.MAX_DESCRIPTION
        assert len(item.get("options", [])) <= wire.MAX_OPTIONS
        assert len(item.get("choices", [])) <= wire.MAX_CHOICES
        leaves = [o for o in item.get("options", []) if o["type"] > wire.SUB_COMMAND_GROUP]
        required = [o["required"] for o in leaves]
        assert required == sorted(required, reverse=True), "required options come first"


def test_project_commands_take_a_required_autocompleted_project_first() -> None:
    backlog = next(b for b in CATALOG.bodies if b["name"] == "backlog")
    add_story = next(o for o in backlog["options"] if o["name"] == "add_story")
    first = add_story["options"][0]
    assert (first["name"], first["required"], first["autocomplete"]) == ("project", True, True)
    project = next(b for b in CATALOG.bodies if b["name"] == "project")
    register = next(o for o in project["options"] if o["name"] == "register")
    assert "project" not in [o["name"] for o in register["options"]]


def test_literals_become_choices_and_int_bounds_carry_over() -> None:
    backlog = next(b for b in CATALOG.bodies if b["name"] == "backlog")
    prioritize = next(o for o in backlog["options"] if o["name"] == "prioritize")
    priority = next(o for o in prioritize["options"] if o["name"] == "priority")
    assert [c["value"] for c in priority["choices"]] == ["top", "high", "medium", "low"]
    add_story = next(o for o in backlog["options"] if o["name"] == "add_story")
    points = next(o for o in add_story["options"] if o["name"] == "points")
    assert (points["type"], points["min_value"], points["max_value"]) == (wire.INTEGER, 0, 100)


def test_the_digest_is_stable_and_follows_the_table() -> None:
    assert build_catalog().digest == CATALOG.digest
    fewer = [c for c in COMMANDS.values() if c.name != "state"]
    assert build_catalog(fewer).digest != CATALOG.digest


def test_a_group_over_25_keeps_24_and_moves_the_rest_to_a_more_group() -> None:
    many = [Command(f"big c{n:02d}", "help", a.NoArgs) for n in range(30)]
    catalog = build_catalog(many)
    [body] = catalog.bodies
    assert len(body["options"]) == wire.MAX_OPTIONS
    more = body["options"][-1]
    assert (more["name"], more["type"], len(more["options"])) == (
        OVERFLOW_GROUP,
        wire.SUB_COMMAND_GROUP,
        6,
    )
    assert catalog.commands_by_path[("big", OVERFLOW_GROUP, "c29")] == "big c29"


def test_a_name_that_is_both_command_and_group_is_refused() -> None:
    clash = [Command("x", "h", a.NoArgs), Command("x y", "h", a.NoArgs)]
    with pytest.raises(ValueError, match="both a command and a group"):
        build_catalog(clash)


def test_options_parse_back_lists_from_comma_separated_text() -> None:
    data = {
        "name": "epic",
        "options": [
            {"name": "description", "type": wire.STRING, "value": "Checkout"},
            {"name": "stories", "type": wire.STRING, "value": "Cart, Pay ,, Ship"},
        ],
    }
    invocation = invocation_of(data)
    raw = args_from_options(a.EpicArgs, invocation.options)
    parsed = a.EpicArgs.model_validate(raw)
    assert [s.title for s in parsed.stories] == ["Cart", "Pay", "Ship"]
    plan = args_from_options(
        a.SprintPlanArgs, [{"name": "story_ids", "value": "story-0000000a,story-0000000b"}]
    )
    assert plan == {"story_ids": ["story-0000000a", "story-0000000b"]}


def test_the_leaf_options_of_a_subcommand_are_found() -> None:
    data = {
        "name": "backlog",
        "options": [{"name": "remove", "type": 1, "options": [{"name": "story_id", "value": "s"}]}],
    }
    invocation = invocation_of(data)
    assert invocation.path == ("backlog", "remove")
    assert invocation.options == [{"name": "story_id", "value": "s"}]

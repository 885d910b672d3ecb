"""Args models map to command-line parameters, and parsed values back to request args."""

from __future__ import annotations

import inspect

import pytest

from services.cli.params import FieldParam, collect_args, field_params, typer_parameters
from shared.domain import args as a
from shared.domain.commands import COMMANDS


def _by_field(model: type[a.CommandArgs]) -> dict[str, FieldParam]:
    return {p.field: p for p in field_params(model)}


def test_required_fields_are_positional_and_optional_ones_options() -> None:
    params = _by_field(a.EpicArgs)
    assert params["description"].kind == "argument"
    assert params["title"].kind == "option"
    assert params["title"].option == "--title"


def test_a_list_of_models_is_a_repeatable_singular_option() -> None:
    stories = _by_field(a.EpicArgs)["stories"]
    assert stories.kind == "models"
    assert stories.option == "--story"
    assert stories.item_model is a.ProposedStory


def test_the_only_list_without_positionals_is_variadic() -> None:
    assert _by_field(a.ApproveArgs)["ids"].kind == "variadic"
    assert _by_field(a.SprintPlanArgs)["story_ids"].kind == "variadic"


def test_a_list_next_to_a_positional_is_a_repeatable_option() -> None:
    criteria = _by_field(a.BacklogAddStoryArgs)["acceptance_criteria"]
    assert criteria.kind == "multiple"
    assert criteria.option == "--acceptance-criteria"


def test_literals_become_choices_and_ints_stay_ints() -> None:
    prioritize = _by_field(a.BacklogPrioritizeArgs)
    assert prioritize["priority"].kind == "argument"
    assert prioritize["priority"].choices == ("top", "high", "medium", "low")
    view = _by_field(a.BacklogViewArgs)
    assert view["status"].choices == ("proposed", "backlog", "sprint", "all")
    assert view["limit"].scalar is int
    assert "default: 50" in view["limit"].help


def test_bool_fields_become_flags() -> None:
    class Flagged(a.CommandArgs):
        dry_run: bool = False

    param = _by_field(Flagged)["dry_run"]
    assert param.kind == "flag"
    default = typer_parameters(Flagged)[0].default
    assert "--dry-run/--no-dry-run" in default.param_decls


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_builds_keyword_parameters(name: str) -> None:
    model = COMMANDS[name].args
    params = typer_parameters(model)
    assert [p.name for p in params] == list(model.model_fields)
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params)


def test_collect_args_sends_only_given_values_and_expands_stories() -> None:
    values = {
        "description": "Arithmetic",
        "title": None,
        "stories": ["Add", '{"title": "Sub", "acceptance_criteria": ["5-3 == 2"]}'],
    }
    assert collect_args(a.EpicArgs, values) == {
        "description": "Arithmetic",
        "stories": [{"title": "Add"}, {"title": "Sub", "acceptance_criteria": ["5-3 == 2"]}],
    }
    assert collect_args(a.ApproveArgs, {"ids": ()}) == {}
    assert collect_args(a.ApproveArgs, {"ids": ("story-0000000a",)}) == {"ids": ["story-0000000a"]}


def test_collected_args_validate_against_the_model() -> None:
    args = collect_args(a.BacklogAddStoryArgs, {"title": "T", "priority": 2, "points": None})
    assert a.BacklogAddStoryArgs.model_validate(args).priority == 2

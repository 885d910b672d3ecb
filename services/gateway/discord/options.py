"""Slash-command options rendered from a command's pydantic argument model, and parsed back.

str, int and bool fields become typed options, Literal and Enum fields offer their values as
choices, and list fields travel as one comma-separated string (a list of small models, as
`/epic`'s proposed stories, as the comma-separated values of the model's one required field).
Fields Discord cannot carry are left out; they must have a default.
"""

from __future__ import annotations

import enum
import types
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, cast, get_args, get_origin

import annotated_types
from pydantic import BaseModel

from services.gateway.discord import wire
from services.gateway.discord.wire import Json

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo

__all__ = ["ArgField", "arg_fields", "args_from_options", "option_body"]

_PROJECT_HINT = "Project id"
AUTOCOMPLETED = frozenset({"project", "story_id", "id", "ids", "story_ids", "epic_id", "sprint_id"})


@dataclass(frozen=True)
class ArgField:
    """How one argument travels as a Discord option."""

    name: str
    kind: int
    required: bool
    description: str
    choices: tuple[str, ...] = ()
    bounds: tuple[int | None, int | None] = (None, None)
    max_length: int | None = None
    list_item_field: str | None = None  # set for a list of models: the field each item fills
    is_list: bool = False
    autocomplete: bool = False


def arg_fields(model: type[BaseModel]) -> list[ArgField]:
    """The representable fields of `model`, required ones first (Discord's rule)."""
    fields = [f for name, info in model.model_fields.items() if (f := _field(name, info))]
    return sorted(fields, key=lambda f: not f.required)


def project_field() -> ArgField:
    return ArgField("project", wire.STRING, True, _PROJECT_HINT, max_length=40, autocomplete=True)


def _field(name: str, info: FieldInfo) -> ArgField | None:
    annotation, optional = _unwrap_optional(info.annotation)
    annotation, metadata = _unwrap_annotated(annotation, list(info.metadata))
    description = wire.fit(info.description or name.replace("_", " ").capitalize(), 100)
    required = info.is_required() and not optional
    if get_origin(annotation) is list:
        return _list_field(name, required, get_args(annotation)[0], description)
    kind, choices = _scalar_kind(annotation)
    if kind is None:
        if required:
            raise ValueError(f"argument {name!r} cannot be rendered as a Discord option")
        return None
    return ArgField(
        name,
        kind,
        required,
        description=description,
        choices=choices,
        bounds=_bounds(metadata),
        max_length=_max_length(metadata) if kind == wire.STRING and not choices else None,
        autocomplete=kind == wire.STRING and not choices and name in AUTOCOMPLETED,
    )


def _list_field(name: str, required: bool, item: Any, description: str) -> ArgField:
    item_field = None
    if isinstance(item, type) and issubclass(item, BaseModel):
        item_field = next(n for n, f in item.model_fields.items() if f.is_required())
        description = wire.fit(f"Comma-separated {item_field}s. {description}", 100)
    else:
        description = wire.fit(f"Comma-separated. {description}", 100)
    return ArgField(
        name,
        wire.STRING,
        required,
        description,
        max_length=wire.MAX_STRING_OPTION,
        list_item_field=item_field,
        is_list=True,
        autocomplete=name in AUTOCOMPLETED,
    )


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        if len(inner) == 1:
            return inner[0], True
    return annotation, False


def _unwrap_annotated(annotation: Any, metadata: list[Any]) -> tuple[Any, list[Any]]:
    if get_origin(annotation) is Annotated:
        base, *extra = get_args(annotation)
        return base, [*metadata, *extra]
    return annotation, metadata


def _scalar_kind(annotation: Any) -> tuple[int | None, tuple[str, ...]]:
    if get_origin(annotation) is Literal:
        return wire.STRING, tuple(str(v) for v in get_args(annotation))
    if annotation is bool:
        return wire.BOOLEAN, ()
    if annotation is int:
        return wire.INTEGER, ()
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return wire.STRING, tuple(str(m.value) for m in annotation)
    if annotation is str:
        return wire.STRING, ()
    return None, ()


def _bounds(metadata: list[Any]) -> tuple[int | None, int | None]:
    low = next(
        (int(cast("Any", m.ge)) for m in metadata if isinstance(m, annotated_types.Ge)), None
    )
    high = next(
        (int(cast("Any", m.le)) for m in metadata if isinstance(m, annotated_types.Le)), None
    )
    return low, high


def _max_length(metadata: list[Any]) -> int:
    found = [getattr(m, "max_length", None) for m in metadata]
    limits = [int(n) for n in found if n is not None]
    return min([*limits, wire.MAX_STRING_OPTION])


def option_body(field: ArgField) -> Json:
    """The option as `PUT .../commands` takes it."""
    body: Json = {
        "type": field.kind,
        "name": field.name,
        "description": field.description,
        "required": field.required,
    }
    if field.choices:
        body["choices"] = [{"name": c, "value": c} for c in field.choices[: wire.MAX_CHOICES]]
    low, high = field.bounds
    if low is not None:
        body["min_value"] = low
    if high is not None:
        body["max_value"] = high
    if field.max_length is not None:
        body["max_length"] = field.max_length
    if field.autocomplete:
        body["autocomplete"] = True
    return body


def args_from_options(model: type[BaseModel], options: list[Json]) -> dict[str, Any]:
    """The raw args dict for `model` from the leaf options; lists split on commas. Validation
    (and naming what is wrong) is the executor's job."""
    specs = {f.name: f for f in arg_fields(model)}
    raw: dict[str, Any] = {}
    for option in options:
        name, value = str(option.get("name")), option.get("value")
        spec = specs.get(name)
        raw[name] = _list_value(spec, value) if spec and spec.is_list else value
    return raw


def _list_value(spec: ArgField, value: Any) -> list[Any]:
    items = [part.strip() for part in str(value).split(",") if part.strip()]
    if spec.list_item_field:
        return [{spec.list_item_field: item} for item in items]
    return items

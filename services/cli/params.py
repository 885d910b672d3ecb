"""Command-line parameters derived from a command's pydantic args model.

Required fields become positional arguments, optional ones ``--options`` (bool: a flag, a list of
scalars: repeatable, a Literal: choices). A list of scalars is a variadic positional instead when it
is the model's only list and there is no other positional (``awf approve [IDS]...``). A list of
models (epic stories) is a repeatable option named in the singular (``--story TITLE``) whose values
become ``{"title": ...}``, or are taken as-is when given as a JSON object.

Values are not validated here beyond their basic type: the server validates and answers 422.
"""

from __future__ import annotations

import inspect
import json
import types
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import typer
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from rich.markup import escape

__all__ = ["FieldParam", "Kind", "collect_args", "field_params", "typer_parameters"]

Kind = Literal["argument", "variadic", "option", "flag", "multiple", "models"]


@dataclass(frozen=True)
class FieldParam:
    """How one model field appears on the command line."""

    field: str
    kind: Kind
    scalar: type
    help: str
    choices: tuple[str, ...] = ()
    item_model: type[BaseModel] | None = None

    @property
    def option(self) -> str:
        name = _singular(self.field) if self.kind == "models" else self.field
        return "--" + name.replace("_", "-")

    @property
    def metavar(self) -> str:
        return self.field.upper()


def field_params(model: type[BaseModel]) -> list[FieldParam]:
    """One `FieldParam` per field of ``model``, in field order."""
    fields = model.model_fields
    lists = [n for n, f in fields.items() if _list_item(f.annotation) is not None]
    has_positional = any(f.is_required() for f in fields.values())
    variadic = lists[0] if len(lists) == 1 and not has_positional else None
    return [_field_param(n, f, n == variadic) for n, f in fields.items()]


def typer_parameters(model: type[BaseModel]) -> list[inspect.Parameter]:
    """Signature parameters typer turns into click arguments and options."""
    return [_parameter(p) for p in field_params(model)]


def collect_args(model: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """The request ``args`` from parsed values: only what the user gave, lists of models expanded."""
    args: dict[str, Any] = {}
    for param in field_params(model):
        value = values.get(param.field)
        if value is None or value == [] or value == ():
            continue
        if param.kind == "models" and param.item_model is not None:
            value = [_model_item(param.item_model, v) for v in value]
        elif isinstance(value, tuple):
            value = list(value)
        args[param.field] = value
    return args


def _field_param(name: str, info: FieldInfo, variadic: bool) -> FieldParam:
    annotation = _strip(info.annotation)
    help_text = _help(info)
    item = _list_item(info.annotation)
    if item is not None:
        if isinstance(item, type) and issubclass(item, BaseModel):
            return FieldParam(name, "models", str, help_text, item_model=item)
        kind: Kind = "variadic" if variadic or info.is_required() else "multiple"
        return FieldParam(name, kind, _scalar(item), help_text, _choices(item))
    if get_origin(annotation) is Literal:
        choices = _choices(annotation)
        kind = "argument" if info.is_required() else "option"
        return FieldParam(name, kind, str, help_text, choices)
    scalar = _scalar(annotation)
    if scalar is bool:
        return FieldParam(name, "flag", bool, help_text)
    return FieldParam(name, "argument" if info.is_required() else "option", scalar, help_text)


def _parameter(param: FieldParam) -> inspect.Parameter:
    scalar: Any = Literal[param.choices] if param.choices else param.scalar
    annotation: Any = scalar | None
    default: Any
    if param.kind == "argument":
        annotation = scalar
        default = typer.Argument(..., help=param.help, metavar=param.metavar)
    elif param.kind == "variadic":
        annotation = list[scalar] | None
        default = typer.Argument(None, help=param.help, metavar=param.metavar, show_default=False)
    elif param.kind == "flag":
        flag = param.option
        default = typer.Option(None, f"{flag}/--no-{flag[2:]}", help=param.help, show_default=False)
    elif param.kind in ("multiple", "models"):
        annotation = list[scalar] | None
        default = typer.Option(None, param.option, help=param.help, show_default=False)
    else:
        default = typer.Option(None, param.option, help=param.help, show_default=False)
    kind = inspect.Parameter.KEYWORD_ONLY
    return inspect.Parameter(param.field, kind, default=default, annotation=annotation)


def _help(info: FieldInfo) -> str:
    text = info.description or ""
    default = info.get_default(call_default_factory=True)
    if not info.is_required() and default not in (None, "", [], False):
        text = f"{text} (default: {default})"
    item = _list_item(info.annotation)
    if isinstance(item, type) and issubclass(item, BaseModel):
        fields = ", ".join(item.model_fields)
        text = f"{text} (repeatable; a title, or a JSON object with {fields})"
    elif item is not None:
        text = f"{text} (repeatable)"
    return escape(text.strip())  # typer renders help as rich markup


def _strip(annotation: Any) -> Any:
    """``Annotated[X, ...] | None`` -> ``X``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            rest = [a for a in get_args(annotation) if a is not type(None)]
            if len(rest) != 1:
                return str
            annotation = rest[0]
        else:
            return annotation


def _list_item(annotation: Any) -> Any | None:
    stripped = _strip(annotation)
    if get_origin(stripped) in (list, tuple, set, frozenset):
        return _strip(get_args(stripped)[0])
    return None


def _scalar(annotation: Any) -> type:
    stripped = _strip(annotation)
    if get_origin(stripped) is Literal:
        return str
    return stripped if stripped in (bool, int, float) else str


def _choices(annotation: Any) -> tuple[str, ...]:
    stripped = _strip(annotation)
    if get_origin(stripped) is not Literal:
        return ()
    return tuple(str(v) for v in get_args(stripped))


def _singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    return name[:-1] if name.endswith("s") else name


def _model_item(model: type[BaseModel], value: str) -> Any:
    if value.lstrip().startswith("{"):
        try:
            return json.loads(value)
        except ValueError:
            pass  # not JSON after all: take it as the title
    key = next((n for n, f in model.model_fields.items() if f.is_required()), "title")
    return {key: value}

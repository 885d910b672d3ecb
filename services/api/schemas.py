"""Response and request bodies of the HTTP API, published in OpenAPI."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from shared.state.timeline import TimelineEvent

__all__ = [
    "CommandInfo",
    "CommandResponse",
    "CommandTable",
    "DecisionBody",
    "ErrorBody",
    "FieldError",
    "ItemPage",
    "PriorityBody",
    "TimelinePage",
]

T = TypeVar("T")


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending field, e.g. `args.priority`")
    message: str


class ErrorBody(BaseModel):
    type: str = Field(description="Machine-readable error kind, e.g. `invalid_transition`")
    message: str = Field(description="What went wrong and what to do, for humans")
    request_id: str | None = None
    trace_id: str | None = Field(default=None, description="The request's trace, to find it")
    state: str | None = Field(default=None, description="Workflow state, on refused commands")
    allowed_commands: list[str] | None = Field(default=None, description="What may run now")
    errors: list[FieldError] | None = Field(default=None, description="Validation errors")
    current_version: int | None = Field(default=None, description="On 412: the stored version")

    model_config = {"extra": "allow"}


class CommandResponse(BaseModel):
    command: str
    project_id: str | None
    from_state: str | None
    to_state: str | None
    project_version: int | None
    result: dict[str, Any]


class CommandInfo(BaseModel):
    name: str
    help: str
    scope: Literal["project", "global"]
    role: str
    mutating: bool
    allowed_from: list[str]
    transitions: dict[str, str]
    args_schema: dict[str, Any]


class CommandTable(BaseModel):
    commands: list[CommandInfo]


class ItemPage(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end"
    )
    total: int


class TimelinePage(BaseModel):
    events: list[TimelineEvent]
    next_cursor: str | None = Field(description="Pass as `after` to read on; null when caught up")


class PriorityBody(BaseModel):
    model_config = {"extra": "forbid"}
    priority: Literal["top", "high", "medium", "low"]


class DecisionBody(BaseModel):
    model_config = {"extra": "forbid"}
    reason: str = Field(default="", max_length=2_000)

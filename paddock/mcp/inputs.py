"""What each of the user's MCP tools takes: the API's own input model for the action, with the
ids the API takes in its path as fields (an MCP call has no path).

The body models are the API's (paddock/inputs: pure pydantic over domain rules, shared by
every door; it imports nothing else of web/), so a tool applies the same checks, whitespace rules
and defaults as the route and the UI's form."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from annotated_types import Ge, Le
from pydantic import BaseModel, Field

from paddock.domain.states import TestKind
from paddock.inputs import (
    AttemptCreate,
    FollowUpCreate,
    MergeIn,
    TaskCreate,
    TaskMoveIn,
    TaskUpdate,
)
from paddock.inputs.scalars import Flag
from paddock.inputs.text import Trimmed, TrimmedOrNone

B = TypeVar("B", bound=BaseModel)

MAX_TAIL = 1000
Tail = Annotated[int, Ge(1), Le(MAX_TAIL)]


class NoInput(BaseModel):
    pass


class ProjectRef(BaseModel):
    project_id: Trimmed = Field(description="A project's id (list_projects)")


class TaskRef(BaseModel):
    task_id: Trimmed = Field(description="A task's id")


class AttemptRef(BaseModel):
    attempt_id: Trimmed = Field(description="An attempt's id")


class ProcessRef(BaseModel):
    process_id: Trimmed = Field(description="A process's id (list_processes)")


class TestRunRef(BaseModel):
    __test__ = False
    run_id: Trimmed = Field(description="A test run's id (list_test_runs)")


class TaskQuery(ProjectRef):
    step_id: TrimmedOrNone = Field(None, description="Only the tasks of this step (column)")


class NewTask(TaskCreate, ProjectRef):
    pass


class TaskChange(TaskUpdate, TaskRef):
    pass


class TaskMove(TaskMoveIn, TaskRef):
    pass


class NewAttempt(AttemptCreate, TaskRef):
    pass


class FollowUp(FollowUpCreate, AttemptRef):
    pass


class Merge(MergeIn, AttemptRef):
    pass


class ProcessQuery(AttemptRef):
    include_dropped: Flag = Field(False, description="Also the turns rewound past")


class LogTail(AttemptRef):
    process_id: TrimmedOrNone = Field(
        None, description="One of the attempt's processes; blank: its newest"
    )
    lines: Tail = Field(100, description="How many of the last lines")


class TestRunQuery(AttemptRef):
    __test__ = False
    kind: TestKind | None = Field(None, description="Only runs of this kind")


def body_of(args: BaseModel, body: type[B]) -> B:
    """The API body inside a tool's input (without its path ids), fields sent kept as sent:
    `TaskUpdate.changes()` tells an omitted field from a null one by them."""
    values = {name: getattr(args, name) for name in body.model_fields}
    return body.model_construct(args.model_fields_set & set(body.model_fields), **values)


def input_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The tool's JSON Schema: the model's, with every required field listed as required (a
    body model's own `required` override, e.g. AttemptCreate's, would drop the path ids)."""
    schema = model.model_json_schema()
    required = [name for name, field in model.model_fields.items() if field.is_required()]
    listed = list(schema.get("required", []))
    schema["required"] = listed + [name for name in required if name not in listed]
    if not schema["required"]:
        del schema["required"]
    schema.setdefault("properties", {})
    return schema

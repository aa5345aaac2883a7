"""The event catalogue: complete, documented, and the only source of event types."""

from __future__ import annotations

import ast
import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

import paddock
from paddock.domain.entities import AgentSpec, WorkflowStep
from paddock.domain.events import (
    CATALOGUE,
    AttemptDeleted,
    EventType,
    Resource,
    StepsUpdated,
    UnknownEventType,
    WrongEventPayload,
    encode,
    event_type,
    markdown_table,
)
from paddock.domain.preview import PreviewView
from paddock.domain.public import PreviewPublic, PublicModel, StepsUpdatedPublic
from paddock.domain.secrets import MASK
from paddock.domain.workflow import TaskMove

ROOT = Path(paddock.__file__).parent
DOCS = ROOT.parent / "docs"
BEGIN = "<!-- event catalogue: made by markdown_table() in paddock/domain/events.py;"
END = "<!-- end of the event catalogue -->"


def test_every_type_has_a_resource_a_payload_class_and_a_read_model() -> None:
    assert set(CATALOGUE) == set(EventType)
    for type_ in EventType:
        assert isinstance(type_.resource, Resource)
        assert dataclasses.is_dataclass(type_.payload), type_
        # Its data is the payload's public read model, named after it.
        assert issubclass(type_.data, PublicModel), type_
        assert type_.data.__name__ == f"{type_.payload.__name__}Public" or (
            type_.payload is PreviewView and type_.data is PreviewPublic
        ), type_
    # Every resource has its events; together they are every type, each once.
    by_resource = [EventType.for_resource(r) for r in Resource]
    assert all(by_resource)
    assert sum(len(types) for types in by_resource) == len(EventType)
    assert EventType.for_resource(Resource.attempt) == {
        EventType.attempt_created,
        EventType.attempt_updated,
        EventType.attempt_deleted,
        EventType.attempt_diff_changed,
    }


def test_names_are_unique_and_look_alike() -> None:
    names = [t.value for t in EventType]
    assert len(names) == len(set(names))
    for name in names:
        assert name == name.strip().lower() and " " not in name


def test_unknown_types_and_wrong_payloads_are_refused() -> None:
    assert event_type("attempt.updated") is EventType.attempt_updated
    for name in ("attempt.updatd", "attempt.", "Attempt.updated", "sync"):
        with pytest.raises(UnknownEventType):
            event_type(name)
        with pytest.raises(UnknownEventType):
            encode(name, AttemptDeleted("a1", "t1"))
    with pytest.raises(WrongEventPayload):
        encode(EventType.task_deleted, AttemptDeleted("a1", "t1"))
    with pytest.raises(WrongEventPayload):
        encode(EventType.attempt_deleted, {"id": "a1", "task_id": "t1"})


def test_encode_makes_the_json_form_with_secrets_masked() -> None:
    step = WorkflowStep(
        id="s1",
        project_id="p1",
        name="Review",
        position=0,
        color="#fff",
        agent=AgentSpec(env={"MY_TOKEN": "t0ken-value", "PLAIN": "x"}),
    )
    checked, data = encode("steps.updated", StepsUpdated("p1", [step]))
    assert checked is EventType.steps_updated
    assert data["steps"][0]["agent"]["env"] == {"MY_TOKEN": MASK, "PLAIN": "x"}
    assert data == StepsUpdatedPublic.of(StepsUpdated("p1", [step])).model_dump(mode="json")
    move = TaskMove(
        id="m1",
        task_id="t1",
        from_step_id=None,
        to_step_id="s1",
        attempt_id=None,
        forced=False,
        reason="",
        failing=[],
        automation=None,
        ran=None,
        automation_error=None,
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    _, data = encode(EventType.task_moved, move)
    assert data["created_at"] == "2026-01-02T03:04:05Z" and data["to_step_id"] == "s1"


@pytest.mark.parametrize("doc", ["api.md", "concepts.md"])
def test_the_docs_list_the_catalogue(doc: str) -> None:
    text = (DOCS / doc).read_text()
    assert BEGIN in text and END in text, f"docs/{doc} lost its event catalogue markers"
    shown = text.split(BEGIN, 1)[1].split("\n", 1)[1].split(END, 1)[0]
    assert shown == markdown_table(), (
        f"docs/{doc}'s event catalogue is out of date; put this between its markers:\n"
        + markdown_table()
    )
    for type_ in EventType:
        assert f"| `{type_.value}` |" in shown


def _publish_calls(tree: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("publish", "_publish")
        and node.args
    ]


def test_no_publish_site_names_an_event_with_a_string() -> None:
    """Publishers name a catalogue member (`EventType.x`): a string literal would pass a typo
    to the bus, found only when that code runs."""
    literal: list[str] = []
    members = 0
    for path in sorted(ROOT.rglob("*.py")):
        for call in _publish_calls(ast.parse(path.read_text(), str(path))):
            first = call.args[0]
            where = f"{path.relative_to(ROOT.parent)}:{call.lineno}"
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                literal.append(where)
            if (
                isinstance(first, ast.Attribute)
                and isinstance(first.value, ast.Name)
                and first.value.id == "EventType"
            ):
                assert first.attr in EventType.__members__, where
                members += 1
    assert not literal, literal
    assert members >= 30  # the walk found the publish sites

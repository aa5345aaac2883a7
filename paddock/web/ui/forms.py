"""Reading the UI's HTML forms into the API's input models (paddock/inputs), so a form and
its /api route share one model and one service call. The form's own encodings (text areas of
NAME=value lines, lists of lines, checkboxes) become the model's fields in each handler; the
model then checks them exactly as it checks a JSON body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from paddock.domain.errors import InvalidInput
from paddock.inputs.text import is_env_name
from paddock.web.errors import validation_problem

Model = TypeVar("Model", bound=BaseModel)


def parse(
    model: type[Model], values: Mapping[str, Any], *, fields: Mapping[str, str] | None = None
) -> Model:
    """`values` read by `model` as the API reads a body. A refusal is the API's own (422
    `validation_error` with `details`), plus the form field it is about (`field`: the page
    marks and focuses it); `fields` names the form field of a model field where they differ
    ({"agent.profile": "profile"}). Not strict: a form's values are text ("on", "5"), which
    the API's JSON bodies may not send for a boolean or a number (inputs/scalars.py)."""
    try:
        return model.model_validate(values, strict=False)
    except ValidationError as exc:
        errors = exc.errors()
        message, details = validation_problem(errors, ("body",))
        field = _form_field(errors[0].get("loc", ()), fields or {})
        raise InvalidInput(message, code="validation_error", details=details, field=field) from None


def _form_field(loc: tuple[int | str, ...], fields: Mapping[str, str]) -> str:
    path = [str(part) for part in loc]
    for end in range(len(path), 0, -1):  # the longest named prefix: agent.env.X -> agent.env
        named = fields.get(".".join(path[:end]))
        if named is not None:
            return named
    return path[0] if path else ""


def sent(form: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """The fields among `names` that the form sent; the others keep the model's defaults."""
    return {name: form[name] for name in names if name in form}


ANSWER_PREFIX = "answer-"  # a question's text area: answer-<question id>


def answers_from(form: Mapping[str, Any]) -> dict[str, str]:
    """The answers of a form of questions (the idea's, a change's), by question id."""
    return {
        key.removeprefix(ANSWER_PREFIX): str(value)
        for key, value in form.items()
        if key.startswith(ANSWER_PREFIX)
    }


def checked(form: Mapping[str, Any], name: str) -> Any:
    """A checkbox's value for a bool field: a browser sends a box only when it is checked, so
    a missing one is False (not "the default", as a field left out of a JSON body is)."""
    return form.get(name, False)


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def env_lines(text: str, field: str) -> dict[str, str]:
    """NAME=value per line (blank lines and # comments skipped); a clear error otherwise."""
    env: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not is_env_name(name):
            raise InvalidInput(
                f"{field}, line {number}: expected NAME=value, got {line[:60]!r}",
                code="bad_env_line",
            )
        env[name] = value
    return env

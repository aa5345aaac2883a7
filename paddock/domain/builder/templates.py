"""App templates and the plan options made from them.

A template is a folder Paddock ships (paddock/templates/<name>/) with a `template.toml`
manifest and the files of a working app: a scaffold, its scripts (setup, dev, unit tests that
write JUnit, e2e), a `.gitignore` and a README. Every template renders the content file
`app.json` (the app's name, tagline and features), so even the offline builder agent makes a
visible change; a real agent changes the code itself.

Manifest (`template.toml`):

    label = "Static site"                 # what the founder reads
    summary = "One sentence."
    stack = ["HTML", "CSS", "JavaScript"]
    pros = ["Nothing to install: the fastest to build"]
    cons = ["No server: nothing is saved between visits"]
    needs_network = false                 # its setup downloads packages
    order = 1                             # where it comes in the plan (lowest first)

    [scripts]                             # as a project's scripts (domain/entities.Scripts)
    setup = ""
    dev = "python3 -m http.server \"$PORT\" --bind 127.0.0.1"
    unit_test = "python3 run_tests.py"
    e2e_test = "python3 e2e_check.py"

    [deploy]                              # for deploy readiness (both optional)
    build = ""                            # the production build, run at a version; "" = none
    start = ""                            # how a host starts it ("" = files served as they are)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from paddock.domain.entities import Scripts
from paddock.domain.errors import InvalidInput

MANIFEST = "template.toml"
CONTENT_FILE = "app.json"  # what every template renders: {"name", "tagline", "features"}
_SCRIPT_NAMES = ("setup", "dev", "cleanup", "unit_test", "e2e_test", "openapi")

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


@dataclass(frozen=True, slots=True)
class AppTemplate:
    name: str  # its folder's name, e.g. "static-site"
    label: str
    summary: str
    stack: tuple[str, ...]
    pros: tuple[str, ...]
    cons: tuple[str, ...]
    needs_network: bool
    scripts: Scripts
    order: int = 100
    deploy_build: str = ""  # the production build (deploy readiness runs it); "" = none
    deploy_start: str = ""  # how a host starts the app; "" = its files are served


def parse_manifest(name: str, text: str) -> AppTemplate:
    """The template `name` from its manifest's text; InvalidInput names what is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _bad(name, f"is not TOML: {exc}") from None
    scripts = data.get("scripts", {})
    if not isinstance(scripts, dict) or set(scripts) - set(_SCRIPT_NAMES):
        raise _bad(name, f"[scripts] may only name {', '.join(_SCRIPT_NAMES)}")
    if not all(isinstance(v, str) for v in scripts.values()):
        raise _bad(name, "every script is a string")
    if not scripts.get("dev"):
        raise _bad(name, "needs a dev script: the preview runs it")
    deploy = data.get("deploy", {})
    if not isinstance(deploy, dict) or set(deploy) - {"build", "start"}:
        raise _bad(name, "[deploy] may only name build and start")
    if not all(isinstance(v, str) for v in deploy.values()):
        raise _bad(name, "[deploy]'s build and start are strings")
    return AppTemplate(
        name=name,
        label=_text(data, "label", name),
        summary=_text(data, "summary", name),
        stack=_strings(data, "stack", name),
        pros=_strings(data, "pros", name),
        cons=_strings(data, "cons", name),
        needs_network=bool(data.get("needs_network", False)),
        scripts=Scripts(**scripts),
        order=int(data.get("order", 100)),
        deploy_build=deploy.get("build", "").strip(),
        deploy_start=deploy.get("start", "").strip(),
    )


def _text(data: dict[str, Any], key: str, name: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _bad(name, f"needs `{key}` (text)")
    return value.strip()


def _strings(data: dict[str, Any], key: str, name: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(name, f"`{key}` is a list of text")
    return tuple(v.strip() for v in value if v.strip())


def _bad(name: str, what: str) -> InvalidInput:
    return InvalidInput(f"template {name}: {MANIFEST} {what}", code="bad_template")


class PlanOption(BaseModel):
    """One way to build the app: a template, and why (or why not) to pick it."""

    model_config = ConfigDict(frozen=True)

    template: Line
    title: Line
    summary: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = ""
    pros: list[Line] = Field(default_factory=list, max_length=8)
    cons: list[Line] = Field(default_factory=list, max_length=8)
    recommended: bool = False


class Plan(BaseModel):
    """A planner's options: 2 or 3, each naming a template Paddock has, one recommended."""

    options: list[PlanOption] = Field(min_length=1, max_length=3)


def template_options(templates: list[AppTemplate], *, offline: bool) -> list[PlanOption]:
    """The plan straight from the templates (the offline planner's): in their order, the first
    that needs no network recommended when offline, else the first."""
    ordered = sorted(templates, key=lambda t: (t.order, t.name))[:3]
    pick = next((t for t in ordered if not (offline and t.needs_network)), ordered[0])
    return [
        PlanOption(
            template=t.name,
            title=t.label,
            summary=t.summary,
            pros=list(t.pros),
            cons=[
                *t.cons,
                *(["Needs internet to install its packages"] if t.needs_network else []),
            ],
            recommended=t is pick,
        )
        for t in ordered
    ]


def check_plan(plan: Plan, templates: list[AppTemplate]) -> list[PlanOption]:
    """A planner's options, kept to the templates Paddock has, exactly one recommended;
    InvalidInput when none is left."""
    known = {t.name for t in templates}
    options: list[PlanOption] = []
    for option in plan.options:
        if option.template in known and all(o.template != option.template for o in options):
            options.append(option)
    if not options:
        raise InvalidInput("the plan named no template Paddock has", code="bad_plan")
    first = next((i for i, o in enumerate(options) if o.recommended), 0)
    return [o.model_copy(update={"recommended": i == first}) for i, o in enumerate(options)]

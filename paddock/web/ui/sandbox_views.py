"""The sandbox in the UI: what a form offers (which providers work on this machine, and why
not; what a blank field inherits), reading a form's sandbox fields through the API's own model,
how an attempt's sandbox reads, and a process's resource use (live, or its peak)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from paddock.config import Settings
from paddock.domain.entities import Event, Process, ResourceSample
from paddock.domain.errors import InvalidInput
from paddock.domain.events import EventType
from paddock.domain.sandbox import LimitHit, Limits, Provider, SandboxConfig
from paddock.inputs import SandboxIn
from paddock.services.sandbox.sandbox_service import SandboxService

PREFIX = "sandbox_"  # form fields: sandbox_provider, sandbox_network, sandbox_memory_mb, ...
INHERIT = ""  # the form value of "whatever the level below says"


@dataclass(frozen=True, slots=True)
class LimitField:
    name: str  # as in Limits and the API
    label: str
    unit: str
    whole: bool  # a whole number (else decimals are fine)

    @property
    def field(self) -> str:
        return PREFIX + self.name

    @property
    def title(self) -> str:
        return f"{self.label} ({self.unit})"


LIMIT_FIELDS = [
    LimitField("memory_mb", "Memory", "MB", True),
    LimitField("swap_mb", "Swap", "MB, on top of memory", True),
    LimitField("cpus", "CPUs", "cores", False),
    LimitField("pids", "Processes", "at once", True),
    LimitField("timeout_s", "Time limit", "s per process", False),
]
_TITLES = {f.name: f.title for f in LIMIT_FIELDS} | {
    "provider": "Provider",
    "network": "Network",
    "image": "Container image",
}

DESCRIPTIONS = {
    Provider.none: "a plain process group: no isolation, only the time limit holds",
    Provider.bwrap: "bubblewrap namespaces and a cgroup: memory, CPU and process limits",
    Provider.container: "a container per process (Docker or Podman): the same limits, in an image",
}

# What a limit that ended a process is called on its badge.
LIMIT_HITS = {
    LimitHit.oom_killed.value: "out of memory",
    LimitHit.pids_limit.value: "too many processes",
    LimitHit.timeout.value: "timed out",
}


@dataclass(frozen=True, slots=True)
class ProviderChoice:
    value: str  # the form value: auto, none, bwrap, container, or INHERIT
    label: str
    description: str
    problem: str | None  # why it cannot run on this machine; None: it can
    note: str = ""  # said after "works here" (limits not enforced, ...)


@dataclass(frozen=True, slots=True)
class SandboxForm:
    """Everything the sandbox fields of a form show: choices, current values, placeholders."""

    providers: list[ProviderChoice]
    provider: str  # the checked choice
    networks: list[tuple[str, str]]  # (value, label)
    network: str
    limits: dict[str, str]  # field name -> current value ("" = inherit)
    placeholders: dict[str, str]  # field name -> what a blank field means
    inherit_from: str  # "the server's default", "the project's"
    disable_unavailable: bool = False  # a choice that cannot run here cannot be picked
    image: str | None = None  # None: no image field
    image_placeholder: str = ""


def _number(value: float | int | None) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _placeholders(limits: Limits) -> dict[str, str]:
    return {f.field: _number(getattr(limits, f.name)) or "no limit" for f in LIMIT_FIELDS}


def _works_note(sandboxes: SandboxService, provider: Provider) -> str:
    if provider is Provider.bwrap and not sandboxes.limits_enforced(provider):
        return "but only the time limit holds (no writable cgroups)"
    return ""


def _concrete_choices(
    sandboxes: SandboxService, problems: dict[Provider, str | None]
) -> list[ProviderChoice]:
    return [
        ProviderChoice(p.value, p.value, DESCRIPTIONS[p], problems[p], _works_note(sandboxes, p))
        for p in Provider
    ]


async def project_form(
    settings: Settings, sandboxes: SandboxService, sandbox: SandboxConfig
) -> SandboxForm:
    """A project's sandbox fields: blank or `auto` inherits the server's settings. A provider
    that cannot run here may still be chosen (for later), and says why it cannot."""
    defaults = settings.sandbox.defaults
    problems = await sandboxes.problems()
    resolved = await sandboxes.default_provider()
    server = settings.sandbox.provider
    auto = ProviderChoice(
        "auto",
        "auto",
        f"the server's default ({server}): {resolved.value} on this machine"
        if server != "auto"
        else f"the server's default: bwrap where it works, else none — {resolved.value} here",
        problems[resolved],
    )
    return SandboxForm(
        providers=[auto, *_concrete_choices(sandboxes, problems)],
        provider=sandbox.provider.value if sandbox.provider else "auto",
        networks=[
            (INHERIT, f"server default ({defaults.network or 'private'})"),
            ("private", "private (outbound only, never the host's loopback)"),
            ("none", "none (loopback only)"),
            ("host", "host (shares the host's loopback, Paddock's included: dangerous)"),
        ],
        network=sandbox.network.value if sandbox.network else INHERIT,
        limits={f.field: _number(getattr(sandbox.limits, f.name)) for f in LIMIT_FIELDS},
        placeholders=_placeholders(defaults.limits),
        inherit_from="the server's default",
        image=sandbox.image or "",
        image_placeholder=settings.sandbox.container_image,
    )


async def attempt_form(
    settings: Settings, sandboxes: SandboxService, project_sandbox: SandboxConfig
) -> SandboxForm:
    """The new-attempt form's override: blank inherits the project's choice. Providers that
    cannot run here cannot be picked (the attempt would be refused)."""
    effective = project_sandbox.over(settings.sandbox.defaults)
    problems = await sandboxes.problems()
    provider = (
        project_sandbox.provider
        if project_sandbox.provider is not None
        else await sandboxes.default_provider()
    )
    project = ProviderChoice(
        INHERIT,
        "project's choice",
        f"{provider.value}, as the project's settings say",
        problems[provider],
    )
    return SandboxForm(
        providers=[project, *_concrete_choices(sandboxes, problems)],
        provider=INHERIT,
        networks=[
            (INHERIT, f"project's choice ({effective.network or 'private'})"),
            ("private", "private (outbound only, never the host's loopback)"),
            ("none", "none (loopback only)"),
            ("host", "host (shares the host's loopback, Paddock's included: dangerous)"),
        ],
        network=INHERIT,
        limits={f.field: "" for f in LIMIT_FIELDS},
        placeholders=_placeholders(effective.limits),
        inherit_from="the project's",
        disable_unavailable=True,
    )


def _reason(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "greater_than":
        return f"must be more than {ctx.get('gt')}"
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return "must be a whole number"
    if kind in ("float_parsing", "float_type"):
        return "must be a number"
    return str(error.get("msg", "is not valid"))


def sandbox_from_form(form: Mapping[str, Any], *, image: bool = False) -> SandboxIn:
    """The sandbox fields of a form as the API's input model (the same checks, the same
    meaning: blank inherits); `bad_sandbox` with words for people, naming the field, otherwise
    (the model's own message speaks of JSON fields, not of this form's)."""

    def text(name: str) -> str | None:
        return str(form.get(PREFIX + name, "") or "").strip() or None

    raw: dict[str, Any] = {
        "provider": text("provider"),
        "network": text("network"),
        "limits": {f.name: text(f.name) for f in LIMIT_FIELDS},
        "image": text("image") if image else None,
    }
    try:
        body = SandboxIn.model_validate(raw, strict=False)  # a form's text
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][-1]) if first.get("loc") else "provider"
        raise InvalidInput(
            f"{_TITLES.get(name, name)}: {_reason(first)}",
            code="bad_sandbox",
            field=PREFIX + name,
        ) from None
    return body


# --- an attempt's sandbox, as its header says it ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Fact:
    text: str
    inherited: bool  # from the server's defaults, not set on the project or attempt


@dataclass(frozen=True, slots=True)
class SandboxSummary:
    provider: str
    network: str
    limits: list[Fact]
    note: str  # e.g. "only the time limit holds"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


def summary(
    settings: Settings, sandboxes: SandboxService, sandbox: SandboxConfig
) -> SandboxSummary:
    """The attempt's sandbox as it runs: what it set, the server's defaults for the rest."""
    defaults = settings.sandbox.defaults
    effective = sandbox.over(defaults)
    provider = sandbox.provider or Provider.none
    facts: list[Fact] = []

    def add(name: str, text: str) -> None:
        facts.append(Fact(text, getattr(sandbox.limits, name) is None))

    limits = effective.limits
    enforced = provider is not Provider.none and sandboxes.limits_enforced(provider)
    if enforced:
        if limits.memory_mb is not None:
            add("memory_mb", f"memory {limits.memory_mb} MB")
        if limits.swap_mb:
            add("swap_mb", f"swap {limits.swap_mb} MB")
        if limits.cpus is not None:
            add("cpus", f"{limits.cpus:g} CPU{'s' if limits.cpus != 1 else ''}")
        if limits.pids is not None:
            add("pids", f"{limits.pids} processes")
    if limits.timeout_s is not None:
        add("timeout_s", f"time limit {_duration(limits.timeout_s)}")
    note = "" if enforced else "only the time limit holds"
    return SandboxSummary(
        provider.value, effective.network.value if effective.network else "private", facts, note
    )


# --- a process's resource use ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Usage:
    seq: int
    cpu_percent: float
    memory_bytes: int
    peak_bytes: int
    pids: int

    @classmethod
    def of(cls, sample: ResourceSample) -> Usage:
        return cls(
            sample.seq, sample.cpu_percent, sample.memory_bytes, sample.peak_bytes, sample.pids
        )

    @classmethod
    def from_event(cls, data: Mapping[str, Any]) -> Usage:
        return cls(
            int(data.get("seq", 0)),
            float(data.get("cpu_percent", 0.0)),
            int(data.get("memory_bytes", 0)),
            int(data.get("peak_bytes", 0)),
            int(data.get("pids", 0)),
        )


async def latest_usage(sandboxes: SandboxService, processes: Iterable[Process]) -> dict[str, Usage]:
    """The last stored sample of each process that ran in a measured sandbox."""
    measured = [
        proc.id
        for proc in processes
        if proc.provider != Provider.none.value and proc.started_at is not None
    ]
    samples = await sandboxes.latest_samples(measured)
    return {process_id: Usage.of(sample) for process_id, sample in samples.items()}


def usage_events(events: Iterable[Event]) -> dict[str, Usage]:
    """The newest `resource_usage` of each process among `events`."""
    newest: dict[str, Usage] = {}
    for event in events:
        if event.type == EventType.resource_usage:
            usage = Usage.from_event(event.data)
            pid = str(event.data.get("process_id", ""))
            if pid not in newest or newest[pid].seq < usage.seq:
                newest[pid] = usage
    return newest


def limit_label(proc: Process) -> str:
    """The short name of the limit that ended a process ("out of memory"), for narrow places."""
    return LIMIT_HITS.get(proc.failure, proc.failure.replace("_", " ")) if proc.failure else ""


def limit_hit(proc: Process) -> str:
    """What ended a process at a limit, for its badge: "out of memory (limit 64 MB)"."""
    if not proc.failure:
        return ""
    label = limit_label(proc)
    error = proc.error or ""
    if error.endswith(")") and "(" in error:
        detail = error[error.rindex("(") + 1 : -1]
        if not detail.startswith("limit"):
            detail = f"limit {detail}"
        return f"{label} ({detail})"
    return label

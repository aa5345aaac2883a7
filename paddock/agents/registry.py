"""The agent profiles Paddock knows: one per adapter, each with named variants.

Every CLI's profile has two built-in variants: `default` (full permission, the CLI's default
model) and `plan` (reads and plans, changes nothing). Users add or change variants in
`<data dir>/agents.toml` (or through the API, which edits that file and keeps its comments), e.g.

    [claude-code.variants.opus-plan]
    model = "opus"
    permission = "plan"
    extra_args = ["--max-turns", "30"]
    env = { MAX_THINKING_TOKENS = "8000" }
"""

from __future__ import annotations

import os
import re
import threading
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from paddock.agents import aider, claude_code, codex, gemini, opencode
from paddock.agents.base import AgentAdapter, Permission, Variant
from paddock.agents.script import ScriptAgent
from paddock.domain.entities import AgentSpec
from paddock.domain.errors import Conflict, InvalidInput, NotFound

_DEMO_AGENT = files("paddock.demo").joinpath("demo_agent.sh")
_BUILDER_AGENT = files("paddock.demo").joinpath("builder_agent.py")

BUILT_IN: tuple[AgentAdapter, ...] = (
    ScriptAgent(),
    # A scripted stand-in for a coding agent, so a newcomer sees an attempt run end to end
    # without an API key. It calls no model, and its label says so.
    ScriptAgent(
        name="demo", label="Demo agent (scripted, no model)", fixed_command=f"bash {_DEMO_AGENT}"
    ),
    # The builder's offline agent: it writes the brief into the app's content file, so a
    # founder without an API key still gets a build that shows their features.
    ScriptAgent(
        name="builder-demo",
        label="Offline builder (scripted, no model)",
        fixed_command=f"python3 {_BUILDER_AGENT}",
    ),
    claude_code.ADAPTER,
    codex.ADAPTER,
    gemini.ADAPTER,
    aider.ADAPTER,
    opencode.ADAPTER,
)

OVERRIDES_FILE = "agents.toml"
VARIANT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


def built_in_variants(adapter: AgentAdapter) -> dict[str, Variant]:
    if adapter.package is None:  # a shell script has no permission modes or models
        return {"default": Variant()}
    return {"default": Variant(), "plan": Variant("plan", permission=Permission.plan)}


@dataclass(frozen=True, slots=True)
class AgentProfile:
    adapter: AgentAdapter
    variants: dict[str, Variant] = field(default_factory=lambda: {"default": Variant()})

    @property
    def name(self) -> str:
        return self.adapter.name

    @property
    def label(self) -> str:
        return self.adapter.label


def _variant(name: str, raw: Mapping[str, Any], where: str) -> Variant:
    unknown = set(raw) - {"model", "permission", "extra_args", "env"}
    if unknown:
        raise InvalidInput(f"{where}: unknown keys {sorted(unknown)}", code="bad_agent_config")
    try:
        return Variant(
            name=name,
            model=str(raw["model"]) if raw.get("model") else None,
            permission=Permission(raw.get("permission", "full")),
            extra_args=tuple(str(a) for a in raw.get("extra_args", ())),
            env={str(k): str(v) for k, v in dict(raw.get("env", {})).items()},
        )
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"{where}: {exc}", code="bad_agent_config") from exc


_WRITE_LOCK = threading.Lock()  # one writer of the overrides file at a time


class AgentRegistry:
    def __init__(self, adapters: Iterable[AgentAdapter], overrides: Path | None = None) -> None:
        self._adapters = {a.name: a for a in adapters}
        self.overrides = overrides

    def profiles(self) -> list[AgentProfile]:
        """Every profile with its variants: built-in defaults plus the user's file, read now
        (so an edit applies to the next attempt without a restart)."""
        user = self._read_overrides()
        profiles = []
        for name, adapter in self._adapters.items():
            variants = built_in_variants(adapter)
            for vname, raw in dict(user.get(name, {}).get("variants", {})).items():
                variants[vname] = _variant(vname, raw, f"{OVERRIDES_FILE} [{name}.variants]")
            profiles.append(AgentProfile(adapter, variants))
        return profiles

    def get(self, name: str) -> AgentProfile:
        for profile in self.profiles():
            if profile.name == name:
                return profile
        raise InvalidInput(
            f"unknown agent profile {name!r} (known: {', '.join(sorted(self._adapters))})",
            code="unknown_agent",
        )

    def resolve(self, spec: AgentSpec) -> tuple[AgentProfile, Variant]:
        """The profile and variant `spec` names; InvalidInput when it cannot run."""
        profile = self.get(spec.profile)
        variant = profile.variants.get(spec.variant)
        if variant is None:
            raise InvalidInput(
                f"agent {spec.profile} has no variant {spec.variant!r} "
                f"(known: {', '.join(sorted(profile.variants))})",
                code="unknown_variant",
            )
        if profile.adapter.needs_command() and not spec.command.strip():
            raise InvalidInput(
                f"the {spec.profile} agent needs a command", code="agent_command_missing"
            )
        return profile, variant

    def save_variant(self, profile_name: str, variant: Variant) -> AgentProfile:
        """Add or replace the user's variant (a built-in name overrides the built-in)."""
        profile = self.get(profile_name)
        if not VARIANT_NAME.fullmatch(variant.name):
            raise InvalidInput(
                f"{variant.name!r} is not a variant name: letters, digits, '.', '_', '-' "
                "(up to 40, starting with a letter or digit)",
                code="bad_variant_name",
            )
        raw: dict[str, Any] = {"permission": variant.permission.value}
        if variant.model:
            raw["model"] = variant.model
        if variant.extra_args:
            raw["extra_args"] = list(variant.extra_args)
        if variant.env:
            raw["env"] = dict(variant.env)
        _variant(variant.name, raw, "variant")  # the same checks as reading the file

        def change(variants: Any) -> None:
            variants[variant.name] = raw

        self._edit_variants(profile.name, change)
        return self.get(profile.name)

    def delete_variant(self, profile_name: str, variant_name: str) -> AgentProfile:
        """Remove the user's variant; a built-in one can only lose the user's changes."""
        profile = self.get(profile_name)
        if variant_name not in self._read_overrides().get(profile.name, {}).get("variants", {}):
            if variant_name in built_in_variants(profile.adapter):
                raise Conflict(
                    f"{variant_name!r} is a built-in variant of {profile.name}: it can be "
                    "changed, not deleted",
                    code="built_in_variant",
                )
            raise NotFound(
                f"agent {profile.name} has no variant {variant_name!r}", code="variant_not_found"
            )

        def change(variants: Any) -> None:
            del variants[variant_name]

        self._edit_variants(profile.name, change)
        return self.get(profile.name)

    def _edit_variants(self, profile_name: str, change: Any) -> None:
        """Apply `change` to the profile's variants table of the overrides file, keeping the
        rest of the file (comments included), and replace the file atomically."""
        if self.overrides is None:
            raise InvalidInput("no overrides file is configured", code="bad_agent_config")
        # Imported here: only an edit of the file needs a comment-keeping TOML writer.
        import tomlkit

        with _WRITE_LOCK:
            text = self.overrides.read_text() if self.overrides.is_file() else ""
            try:
                document = tomlkit.parse(text)
            except tomlkit.exceptions.ParseError as exc:
                raise InvalidInput(f"{self.overrides}: {exc}", code="bad_agent_config") from exc
            profile = document.setdefault(profile_name, tomlkit.table(is_super_table=True))
            change(profile.setdefault("variants", tomlkit.table(is_super_table=True)))
            self.overrides.parent.mkdir(parents=True, exist_ok=True)
            partial = self.overrides.with_suffix(".toml.tmp")
            partial.write_text(tomlkit.dumps(document))
            os.replace(partial, self.overrides)

    def _read_overrides(self) -> dict[str, Any]:
        if self.overrides is None or not self.overrides.is_file():
            return {}
        try:
            return tomllib.loads(self.overrides.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InvalidInput(f"{self.overrides}: {exc}", code="bad_agent_config") from exc

"""What adding or changing an agent profile's variant takes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from paddock.agents.base import Permission, Variant
from paddock.agents.registry import BUILT_IN, VARIANT_NAME
from paddock.inputs.text import EnvVars, TrimmedOrNone

# The profiles, as the OpenAPI document names them (the registry refuses others with its own
# codes: `unknown_agent`, `not_installable`, `bad_variant_name`).
PROFILES = sorted(adapter.name for adapter in BUILT_IN)
INSTALLABLE = sorted(adapter.name for adapter in BUILT_IN if adapter.package is not None)
NEEDS_COMMAND = sorted(adapter.name for adapter in BUILT_IN if adapter.needs_command())
VARIANT_PATTERN = f"^{VARIANT_NAME.pattern}$"


class VariantIn(BaseModel):
    model: TrimmedOrNone = Field(
        None, description="The CLI's model name; null or blank: its default"
    )
    permission: Permission = Permission.full
    extra_args: list[str] = Field(default_factory=list, description="Appended to the command")
    env: EnvVars = Field(
        default_factory=dict,
        description="Added to the environment; a secret-looking name sent back with its masked "
        "value (********) keeps the value it has",
    )

    def to_variant(self, name: str) -> Variant:
        return Variant(
            name=name,
            model=self.model,
            permission=self.permission,
            extra_args=tuple(self.extra_args),
            env=self.env,
        )

"""The sandbox choice as a project's or an attempt's input takes it (the API's bodies and the
UI's sandbox fields alike)."""

from __future__ import annotations

from typing import Annotated, Literal

from annotated_types import Ge
from pydantic import BaseModel, BeforeValidator, Field, Strict

from paddock.domain.sandbox import Limits, Network, Provider, SandboxConfig
from paddock.inputs.scalars import Index, Number, integral
from paddock.inputs.text import TrimmedOrNone

# Bounds before the validator (scalars.integral says why); domain/sandbox.py's minimums.
MemoryMb = Annotated[int, Strict(), Ge(16), BeforeValidator(integral)]
Pids = Annotated[int, Strict(), Ge(8), BeforeValidator(integral)]


class LimitsIn(BaseModel):
    memory_mb: MemoryMb | None = Field(None, description="Memory limit in MiB")
    swap_mb: Index | None = Field(None, description="Swap on top of memory, MiB")
    cpus: Number | None = Field(None, ge=0.01, description="CPU quota in cores, e.g. 1.5")
    pids: Pids | None = Field(None, description="Most processes at once")
    timeout_s: Number | None = Field(None, ge=1, description="Wall clock per process, seconds")


class SandboxIn(BaseModel):
    provider: Literal["auto", "none", "bwrap", "container"] | None = Field(
        None, description="auto: bwrap on Linux when it works, else none. null: inherit"
    )
    network: Network | None = Field(
        None,
        description="private (outbound only, never the host's loopback), none (loopback "
        "only), or host (shares the host's loopback, Paddock's API included: dangerous)",
    )
    limits: LimitsIn = Field(default_factory=LimitsIn, description="null fields: inherit")
    image: TrimmedOrNone = Field(
        None, description="Container provider: the image (null or blank: Paddock's base)"
    )

    def to_config(self) -> SandboxConfig:
        provider = None if self.provider in (None, "auto") else Provider(self.provider)
        limits = Limits(**self.limits.model_dump())
        return SandboxConfig(provider, self.network, limits, self.image)

"""The sandbox choice as a project's or an attempt's input takes it (the API's bodies and the
UI's sandbox fields alike)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from paddock.domain.sandbox import Limits, Network, Provider, SandboxConfig
from paddock.web.inputs.text import TrimmedOrNone


class LimitsIn(BaseModel):
    memory_mb: int | None = Field(None, ge=16, description="Memory limit in MiB")
    swap_mb: int | None = Field(None, ge=0, description="Swap on top of memory, MiB")
    cpus: float | None = Field(None, gt=0, description="CPU quota in cores, e.g. 1.5")
    pids: int | None = Field(None, ge=8, description="Most processes at once")
    timeout_s: float | None = Field(None, ge=1, description="Wall clock per process, seconds")


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

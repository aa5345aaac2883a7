"""The public read model of a version's deploy readiness: the traffic light, the checks (the
blocking ones first), and the ways to deploy it."""

from __future__ import annotations

from typing import Self

from pydantic import Field, computed_field

from paddock.domain.builder.deploy import CheckStatus, DeployCheck, Light, Readiness, Stack
from paddock.domain.public.model import PublicModel


class DeployCheckPublic(PublicModel):
    id: str = Field(description="Stable: readme, env_documented, start_command, secrets, ...")
    title: str
    status: CheckStatus
    message: str
    fix: str | None = Field(description="What to copy to fix it; none when it passed")


class DeployPathPublic(PublicModel):
    id: str
    name: str
    summary: str
    cost: str
    difficulty: str
    limits: str
    tradeoffs: list[str]
    steps: list[str] = Field(description="Step-by-step instructions (no one-click deploy)")


class DeployReadinessPublic(PublicModel):
    """Is this version ready to deploy? green: every check passed; yellow: warnings; red:
    something blocks it (`blocking`, each with a fix)."""

    app_id: str
    version: str
    commit: str
    light: Light
    checks: list[DeployCheckPublic] = Field(description="The failing first, then warnings")
    stack: Stack
    paths: list[DeployPathPublic]
    recommended: str = Field(description="The id of the path recommended for this stack")
    why_recommended: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ready(self) -> bool:
        return self.light is not Light.red

    @computed_field  # type: ignore[prop-decorator]
    @property
    def blocking(self) -> list[DeployCheckPublic]:
        return [c for c in self.checks if c.status is CheckStatus.fail]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def warnings(self) -> list[DeployCheckPublic]:
        return [c for c in self.checks if c.status is CheckStatus.warn]

    @classmethod
    def of(cls, app_id: str, version: str, commit: str, readiness: Readiness) -> Self:
        return cls.model_validate(
            {
                "app_id": app_id,
                "version": version,
                "commit": commit,
                "light": readiness.light,
                "checks": [_check(c) for c in readiness.checks],
                "stack": readiness.stack,
                "paths": [DeployPathPublic.read(p) for p in readiness.paths],
                "recommended": readiness.recommended,
                "why_recommended": readiness.why_recommended,
            }
        )


class PushedPublic(PublicModel):
    """A branch pushed to a remote: an attempt's, or a version's."""

    remote: str
    branch: str
    commit: str
    forced: bool


def _check(check: DeployCheck) -> DeployCheckPublic:
    return DeployCheckPublic.read(check)


__all__ = ["DeployCheckPublic", "DeployPathPublic", "DeployReadinessPublic", "PushedPublic"]

"""Public read models of what changed between two OpenAPI specs (domain/openapi_diff.py)."""

from __future__ import annotations

from typing import Self

from paddock.domain.openapi_diff import Endpoint, EndpointChange, SpecDiff
from paddock.domain.public.model import PublicModel


class EndpointPublic(PublicModel):
    method: str
    path: str
    summary: str

    @classmethod
    def of(cls, endpoint: Endpoint) -> Self:
        return cls.read(endpoint)


class EndpointChangePublic(PublicModel):
    method: str
    path: str
    summary: str
    changes: list[str]

    @classmethod
    def of(cls, change: EndpointChange) -> Self:
        return cls.read(change)


class SpecDiffPublic(PublicModel):
    """Endpoints and schemas added, removed and changed from a base spec to a head spec."""

    added: list[EndpointPublic]
    removed: list[EndpointPublic]
    changed: list[EndpointChangePublic]
    schemas_added: list[str]
    schemas_removed: list[str]
    schemas_changed: list[str]
    base_version: str
    head_version: str

    @classmethod
    def of(cls, diff: SpecDiff) -> Self:
        return cls.read(diff)

"""Artifacts: files a process left in its artifact folder (reports, screenshots, coverage,
specs), kept in Paddock's artifact store.

The rules here are pure: what kind a file is, its media type, and which names are safe.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import PurePosixPath

from paddock.domain.errors import InvalidInput

JUNIT_DIR = "junit"  # JUNIT_OUTPUT lives here: every .xml file in it is a JUnit report
SPEC_DIR = "spec"
SPEC_OUTPUT = "spec/openapi.json"  # OPENAPI_OUTPUT


class ArtifactKind(StrEnum):
    junit = "junit"
    report = "report"  # an HTML report folder's files
    screenshot = "screenshot"
    video = "video"
    trace = "trace"
    coverage = "coverage"
    spec = "spec"  # an API spec a process wrote (as it wrote it)
    openapi = "openapi"  # an attempt's API spec, validated by Paddock
    file = "file"


@dataclass(frozen=True, slots=True)
class Artifact:
    id: str
    attempt_id: str
    process_id: str | None  # None: made by Paddock itself (a spec fetched from a preview)
    name: str  # its path relative to the artifact folder, "/"-separated
    kind: ArtifactKind
    size: int
    mime_type: str
    sha256: str
    created_at: datetime


_IMAGE = {".png", ".jpg", ".jpeg", ".gif", ".webp"}
_VIDEO = {".webm", ".mp4"}
_COVERAGE_NAMES = {"lcov.info", "coverage.xml", "cobertura.xml", ".coverage", "coverage.json"}
_TEXT_TYPES = {".log": "text/plain", ".md": "text/markdown", ".info": "text/plain"}


def artifact_kind(name: str) -> ArtifactKind:
    """What a file in an artifact folder is, from its place and name."""
    path = PurePosixPath(name.lower())
    parts, suffix = path.parts, path.suffix
    if "coverage" in parts[:-1] or path.name in _COVERAGE_NAMES:
        return ArtifactKind.coverage
    if parts[0] == JUNIT_DIR and suffix == ".xml":
        return ArtifactKind.junit
    if parts[0] == SPEC_DIR or (
        path.name.startswith(("openapi", "swagger")) and suffix in (".json", ".yaml", ".yml")
    ):
        return ArtifactKind.spec
    if suffix in _IMAGE:
        return ArtifactKind.screenshot
    if suffix in _VIDEO:
        return ArtifactKind.video
    if suffix == ".zip" and "trace" in path.name:
        return ArtifactKind.trace
    if suffix in (".html", ".htm") or (len(parts) > 1 and "report" in parts[0]):
        return ArtifactKind.report
    return ArtifactKind.file


def mime_type(name: str) -> str:
    suffix = PurePosixPath(name.lower()).suffix
    if suffix in _TEXT_TYPES:
        return _TEXT_TYPES[suffix]
    if suffix in (".yaml", ".yml"):
        return "application/yaml"
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def check_name(name: str) -> str:
    """A relative artifact name as asked for in a URL: no way out of its process's folder."""
    path = PurePosixPath(name)
    if (
        not name
        or "\\" in name
        or "\x00" in name
        or path.is_absolute()
        or any(part in ("..", ".", "") for part in name.split("/"))
    ):
        raise InvalidInput(f"{name!r} is not an artifact name", code="bad_artifact_path")
    return name

"""The limits a report is read within: JUnit XML, OpenAPI specs, anything an agent's code wrote
for the server to parse.

Such a file is hostile input (docs/security.md): its size says nothing about what parsing it
costs. Every parser checks these limits while it reads and stops at the first one passed,
raising `ReportTooLarge`, whose message names the limit and how to raise it. Two limits are
settings (`report_max_mb`, `report_max_cases`); the others follow from them or are fixed far
above anything a real report needs.
"""

from __future__ import annotations

from dataclasses import dataclass

REPORT_TOO_LARGE = "report_too_large"  # the stable code of a report past a limit
REPORT_MISSING = "report_missing"  # a test script that wrote no report
REPORT_INVALID = "report_invalid"  # a report that is not well-formed JUnit
MB = 1024 * 1024
CHUNK_SIZE = 64 * 1024  # what a streaming parser is fed at a time

DEFAULT_MAX_MB = 16
DEFAULT_MAX_CASES = 50_000
RUN_FILES = 4  # a test run's report files may weigh this many files' worth together
ELEMENTS_PER_CASE = 20  # XML elements a run's reports may hold, per case allowed
NODES_PER_MB = 64 * 1024  # values (JSON or YAML nodes) a spec may hold, per MB allowed
MAX_XML_DEPTH = 256  # elements within elements; real JUnit nests 4 or 5 deep
MAX_SPEC_DEPTH = 100  # maps and lists within each other; the validator recurses past ~200

_BYTES_HINT = "raise `report_max_mb` (PADDOCK_REPORT_MAX_MB) to read it"
_CASES_HINT = "raise `report_max_cases` (PADDOCK_REPORT_MAX_CASES) to read it"
_FIXED_HINT = "this limit is fixed, far above what a real report needs"


@dataclass(frozen=True, slots=True)
class ReportLimits:
    max_mb: int = DEFAULT_MAX_MB  # one report file
    max_cases: int = DEFAULT_MAX_CASES  # the test cases of one test run, all files together

    @property
    def file_bytes(self) -> int:
        return self.max_mb * MB

    @property
    def run_bytes(self) -> int:
        return RUN_FILES * self.file_bytes

    @property
    def elements(self) -> int:
        return ELEMENTS_PER_CASE * self.max_cases

    @property
    def nodes(self) -> int:
        return NODES_PER_MB * self.max_mb


DEFAULT_LIMITS = ReportLimits()


class ReportTooLarge(ValueError):
    """A report past one of its limits. `limit` says which: file_bytes, run_bytes, cases,
    elements, nodes, depth (stable names, for logs and tests)."""

    code = REPORT_TOO_LARGE
    limit = ""


def file_too_large(source: str, size: int, limits: ReportLimits) -> str:
    return (
        f"{source} is too large: {size:,} bytes, over the {limits.max_mb} MB limit for a report "
        f"file; {_BYTES_HINT}"
    )


def over_limit(source: str, limits: ReportLimits) -> str:
    return f"{source} is over the {limits.max_mb} MB limit for a report file; {_BYTES_HINT}"


def run_too_large(source: str, limits: ReportLimits) -> str:
    return (
        f"{source}: the run's reports weigh more than {RUN_FILES * limits.max_mb} MB together "
        f"({RUN_FILES} times the {limits.max_mb} MB limit for a report file); {_BYTES_HINT}"
    )


def too_many_cases(source: str, limits: ReportLimits) -> str:
    return (
        f"{source}: more than {limits.max_cases:,} test cases, the limit for a test run; "
        f"{_CASES_HINT}"
    )


def too_many_elements(source: str, limits: ReportLimits) -> str:
    return (
        f"{source}: more than {limits.elements:,} XML elements ({ELEMENTS_PER_CASE} per test "
        f"case allowed); {_CASES_HINT}"
    )


def too_many_nodes(source: str, limits: ReportLimits) -> str:
    return (
        f"{source} is too large: more than {limits.nodes:,} values ({NODES_PER_MB:,} per MB of "
        f"the {limits.max_mb} MB limit for a report file); {_BYTES_HINT}"
    )


def too_deep(source: str, what: str, depth: int) -> str:
    return (
        f"{source} is nested too deeply: {what} nest more than {depth} levels deep; {_FIXED_HINT}"
    )

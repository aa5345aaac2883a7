"""JUnit XML reports, as pytest, Jest, Vitest, Playwright, go-junit-report and others write them.

The XML comes from code an agent wrote, so it is parsed with defusedxml (no entity expansion,
no external resources) and everything read from it is bounded. Totals are counted from the
cases, never trusted from a suite's attributes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

OUTPUT_LIMIT = 64 * 1024  # UTF-8 bytes of a case's output, marker included
MESSAGE_LIMIT = 2_000  # characters of a case's message
SUITE_SEPARATOR = " \u203a "  # a single right-pointing angle quote, as Playwright prints a path
MAX_SUITE_DEPTH = 64  # real writers nest 2 or 3 deep; deeper is a hostile or broken file

# A case's status: the first of these children it has decides.
_OUTCOMES = {"failure": "failed", "error": "error", "skipped": "skipped"}
_STREAMS = {"system-out": "stdout", "system-err": "stderr"}
_SKIPPED_WORDS = frozenset({"skipped", "skip", "disabled", "ignored", "notrun", "pending"})

_WIDE_ENCODING_BOMS = (b"\xff\xfe", b"\xfe\xff")
_ENCODING_DECLARATION = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([\w.-]+)"
)
_ANSI_ESCAPE = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]")
_CONTROL_BYTE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CHARACTER_REFERENCE = re.compile(rb"&#(x[0-9a-fA-F]{1,8}|[0-9]{1,10});")
_LEADING_BLANK_LINES = re.compile(r"^(?:[ \t]*\r?\n)+")


class CaseStatus(StrEnum):
    passed = "passed"
    failed = "failed"
    skipped = "skipped"
    error = "error"


@dataclass(frozen=True, slots=True)
class JUnitCase:
    suite: str  # the enclosing <testsuite> names, outer then inner; "" outside any suite
    classname: str
    name: str
    status: CaseStatus
    duration_s: float = 0.0
    message: str = ""  # why it failed, errored or was skipped; "" when it passed
    output: str = ""  # the failure's trace, then the case's stdout and stderr, bounded
    file: str = ""


@dataclass(frozen=True, slots=True)
class JUnitReport:
    cases: tuple[JUnitCase, ...] = ()
    duration_s: float = 0.0  # what the report says the run took (see `_duration`)

    @property
    def passed(self) -> int:
        return self._count(CaseStatus.passed)

    @property
    def failed(self) -> int:
        return self._count(CaseStatus.failed)

    @property
    def skipped(self) -> int:
        return self._count(CaseStatus.skipped)

    @property
    def errors(self) -> int:
        return self._count(CaseStatus.error)

    @property
    def total(self) -> int:
        return len(self.cases)

    def _count(self, status: CaseStatus) -> int:
        return sum(1 for case in self.cases if case.status == status)


class JUnitError(ValueError):
    """A file that is not a JUnit report; the message names the file and says why."""

    def __init__(self, reason: str, source: str = "") -> None:
        super().__init__(f"{source}: {reason}" if source else reason)
        self.reason = reason
        self.source = source


def parse_junit(data: bytes, source: str = "") -> JUnitReport:
    """The cases of one JUnit XML file. A file without cases is an empty report, not an error.

    A case's status: a <failure> makes it failed, else an <error> makes it error, else a
    <skipped> (or a status="skipped" attribute) makes it skipped; otherwise it passed.
    """
    root = _parse_xml(data, source)
    tag = _local_name(root.tag)
    if tag not in ("testsuites", "testsuite"):
        raise JUnitError(f"the root element is <{tag}>, not <testsuites> or <testsuite>", source)
    cases = tuple(_collect_cases(root, source))
    return JUnitReport(cases, _duration(root))


def merge_reports(reports: Iterable[JUnitReport]) -> JUnitReport:
    """Several files' reports as one: cases in the given order, durations added."""
    cases: list[JUnitCase] = []
    duration = 0.0
    for report in reports:
        cases.extend(report.cases)
        duration += report.duration_s
    return JUnitReport(tuple(cases), duration)


def _parse_xml(data: bytes, source: str) -> Element:
    # The XML parser is loaded with the first report: a server that runs no tests never needs it.
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden
    from defusedxml.ElementTree import fromstring

    if not data or data.isspace():
        raise JUnitError("the file is empty", source)
    try:
        return fromstring(_sanitise(data))
    except EntitiesForbidden as exc:
        raise JUnitError("the XML declares entities, which are refused", source) from exc
    except ExternalReferenceForbidden as exc:
        raise JUnitError(
            "the XML refers to an external resource, which is refused", source
        ) from exc
    except DefusedXmlException as exc:
        raise JUnitError(f"unsafe XML refused ({exc})", source) from exc
    except ParseError as exc:
        if _looks_like_html(data):
            raise JUnitError("this is an HTML page, not a JUnit XML report", source) from exc
        line, column = exc.position
        # expat says "not well-formed (invalid token)": the first three words would repeat ours.
        reason = str(exc).split(":", 1)[0].removeprefix("not well-formed (").rstrip(")")
        where = f"line {line}, column {column + 1}"
        raise JUnitError(f"not well-formed XML: {reason} ({where})", source) from exc


def _sanitise(data: bytes) -> bytes:
    """Mend what sloppy writers leave in captured output, so one coloured log line does not
    cost the whole report: invalid UTF-8, ANSI colour codes, control characters XML forbids."""
    if data.startswith(_WIDE_ENCODING_BOMS) or b"\x00" in data[:4]:
        return data  # UTF-16/32: the byte patterns below would mean something else
    declared = _ENCODING_DECLARATION.match(data)
    if declared is None or declared.group(1).lower() in (b"utf-8", b"utf8"):
        data = data.decode("utf-8", "replace").encode("utf-8")
    data = _ANSI_ESCAPE.sub(b"", data)
    data = _CONTROL_BYTE.sub(b"", data)
    return _CHARACTER_REFERENCE.sub(_drop_control_reference, data)


def _drop_control_reference(match: re.Match[bytes]) -> bytes:
    digits = match.group(1)
    code = int(digits[1:], 16) if digits.startswith(b"x") else int(digits)
    return b"" if code < 0x20 and code not in (0x9, 0xA, 0xD) else match.group(0)


def _looks_like_html(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html"))


def _collect_cases(root: Element, source: str) -> Iterator[JUnitCase]:
    # An explicit stack rather than recursion, so that a deep file cannot hit the recursion limit.
    stack: list[tuple[Element, tuple[str, ...], int]] = [(root, (), 0)]
    while stack:
        element, path, depth = stack.pop()
        tag = _local_name(element.tag)
        if tag == "testcase":
            yield _read_case(element, SUITE_SEPARATOR.join(path))
            continue
        if tag == "testsuite":
            depth += 1
            if depth > MAX_SUITE_DEPTH:
                raise JUnitError(f"test suites nest deeper than {MAX_SUITE_DEPTH} levels", source)
            name = _attribute(element, "name")
            path = (*path, name) if name else path
        children = [child for child in element if _is_suite_or_case(child)]
        stack.extend((child, path, depth) for child in reversed(children))


def _read_case(case: Element, suite: str) -> JUnitCase:
    outcomes = [child for child in case if _local_name(child.tag) in _OUTCOMES]
    status, deciding = _status(case, outcomes)
    return JUnitCase(
        suite=suite,
        classname=_attribute(case, "classname"),
        name=_attribute(case, "name"),
        status=status,
        duration_s=_seconds(case.get("time")) or 0.0,
        message=_message(deciding),
        output=_output(case, outcomes),
        file=_attribute(case, "file"),
    )


def _status(case: Element, outcomes: list[Element]) -> tuple[CaseStatus, Element | None]:
    # pytest puts a failing test's teardown <error> beside its <failure>: the test itself failed.
    for tag, status in _OUTCOMES.items():
        deciding = next((child for child in outcomes if _local_name(child.tag) == tag), None)
        if deciding is not None:
            return CaseStatus(status), deciding
    if _attribute(case, "status").lower() in _SKIPPED_WORDS:
        return CaseStatus.skipped, None
    return CaseStatus.passed, None


def _message(outcome: Element | None) -> str:
    if outcome is None:
        return ""
    # jest-junit writes no message attribute: its first text line is the message.
    message = _attribute(outcome, "message") or _first_line(_text(outcome))
    return message if len(message) <= MESSAGE_LIMIT else message[: MESSAGE_LIMIT - 1] + "…"


def _output(case: Element, outcomes: list[Element]) -> str:
    parts = [text for text in (_text(outcome) for outcome in outcomes) if text]
    for child in case:
        label = _STREAMS.get(_local_name(child.tag))
        text = _text(child) if label else ""
        if text:
            parts.append(f"--- {label} ---\n{text}")
    return _truncate_middle("\n\n".join(parts), OUTPUT_LIMIT)


def _truncate_middle(text: str, limit: int) -> str:
    """The start and the end of `text` within `limit` UTF-8 bytes: a trace's cause is at one
    end, where it failed at the other."""
    raw = text.encode("utf-8", "replace")
    if len(raw) <= limit:
        return text
    keep = limit - len(_cut_marker(len(raw)).encode("utf-8"))
    head = raw[: keep // 2].decode("utf-8", "ignore")
    tail = raw[len(raw) - (keep - keep // 2) :].decode("utf-8", "ignore")
    cut = len(raw) - len(head.encode("utf-8")) - len(tail.encode("utf-8"))
    return head + _cut_marker(cut) + tail


def _cut_marker(cut: int) -> str:
    return f"\n[… {cut} bytes cut …]\n"


def _duration(element: Element) -> float:
    """The element's own time when it says one, else the sum of its suites' and cases'.

    An outer time is preferred: runners that work in parallel (Jest, Playwright) report the
    wall time there, which is shorter than the sum of their cases.
    """
    declared = _seconds(element.get("time"))
    if declared is not None:
        return declared
    return sum(_duration(child) for child in element if _is_suite_or_case(child))


def _seconds(value: str | None) -> float | None:
    if not value:
        return None
    text = value.strip()
    if "," in text:  # a writer that formats with its locale: "1,234.5" or "0,5"
        text = text.replace(",", "") if "." in text else text.replace(",", ".")
    try:
        seconds = float(text)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _text(element: Element) -> str:
    text = "".join(element.itertext()).rstrip()
    return _LEADING_BLANK_LINES.sub("", text)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _attribute(element: Element, name: str) -> str:
    return (element.get(name) or "").strip()


def _is_suite_or_case(element: Element) -> bool:
    # "testsuites" too: report mergers sometimes nest whole files inside another <testsuites>.
    return _local_name(element.tag) in ("testsuites", "testsuite", "testcase")


def _local_name(tag: object) -> str:
    # A writer may put its elements in a namespace: "{urn:x}testcase" is still a testcase.
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""

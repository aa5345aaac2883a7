"""JUnit XML reports, as pytest, Jest, Vitest, Playwright, go-junit-report and others write them.

The XML comes from code an agent wrote. It is read as a stream of chunks by defusedxml's parser
(no entity expansion, no external resources) into a handler that keeps only what a case needs,
never a tree, and counts as it goes: bytes, elements, cases and depth stop the read as soon as
one passes its limit (domain/reports.py). Everything read from it is bounded. Totals are
counted from the cases, never trusted from a suite's attributes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from paddock.domain.junit import (
    MESSAGE_LIMIT,
    NAME_LIMIT,
    OUTPUT_LIMIT,
    SUITE_SEPARATOR,
    CaseStatus,
    JUnitCase,
    JUnitError,
    JUnitReport,
    JUnitTooLarge,
    ReportBudget,
)
from paddock.domain.junit_bytes import HEAD, Sanitiser
from paddock.domain.reports import (
    CHUNK_SIZE,
    DEFAULT_LIMITS,
    MAX_XML_DEPTH,
    ReportLimits,
    file_too_large,
    run_too_large,
    too_deep,
    too_many_cases,
    too_many_elements,
)

MAX_SUITE_DEPTH = 64  # real writers nest 2 or 3 deep; deeper is a hostile or broken file

# A case's status: the first of these children it has decides.
_OUTCOMES = {"failure": "failed", "error": "error", "skipped": "skipped"}
_STREAMS = {"system-out": "stdout", "system-err": "stderr"}
_SKIPPED_WORDS = frozenset({"skipped", "skip", "disabled", "ignored", "notrun", "pending"})
# "testsuites" too: report mergers sometimes nest whole files inside another <testsuites>.
_SUITE_OR_CASE = frozenset({"testsuites", "testsuite", "testcase"})

_LEADING_BLANK_LINES = re.compile(r"^(?:[ \t]*\r?\n)+")


def parse_junit(
    data: bytes, source: str = "", limits: ReportLimits = DEFAULT_LIMITS
) -> JUnitReport:
    """The cases of one JUnit XML file. A file without cases is an empty report, not an error.

    A case's status: a <failure> makes it failed, else an <error> makes it error, else a
    <skipped> (or a status="skipped" attribute) makes it skipped; otherwise it passed.
    """
    chunks = (data[at : at + CHUNK_SIZE] for at in range(0, len(data), CHUNK_SIZE))
    return read_junit(chunks, source, ReportBudget(limits))


def read_junit(chunks: Iterable[bytes], source: str, budget: ReportBudget) -> JUnitReport:
    """`parse_junit` of a file read in chunks, within what `budget` has left: the read stops
    at the first limit passed (JUnitTooLarge), having kept no more than it allows."""
    # The XML parser is loaded with the first report: a server that runs no tests never needs it.
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden
    from defusedxml.ElementTree import DefusedXMLParser

    limits = budget.limits
    handler = _Handler(source, budget)
    parser = DefusedXMLParser(target=handler)
    sanitiser = Sanitiser()
    head = b""
    size = 0
    blank = True
    try:
        for chunk in chunks:
            size += len(chunk)
            budget.bytes += len(chunk)
            if size > limits.file_bytes:
                raise JUnitTooLarge(file_too_large(source, size, limits), "file_bytes")
            if budget.bytes > limits.run_bytes:
                raise JUnitTooLarge(run_too_large(source, limits), "run_bytes")
            if len(head) < HEAD:
                head += chunk[: HEAD - len(head)]
            blank = blank and (not chunk or chunk.isspace())
            parser.feed(sanitiser.feed(chunk))
        if blank:
            raise JUnitError("the file is empty", source)
        parser.feed(sanitiser.flush())
        parser.close()
    except EntitiesForbidden as exc:
        raise JUnitError("the XML declares entities, which are refused", source) from exc
    except ExternalReferenceForbidden as exc:
        raise JUnitError(
            "the XML refers to an external resource, which is refused", source
        ) from exc
    except DefusedXmlException as exc:
        raise JUnitError(f"unsafe XML refused ({exc})", source) from exc
    except ParseError as exc:
        if _looks_like_html(head):
            raise JUnitError("this is an HTML page, not a JUnit XML report", source) from exc
        line, column = exc.position
        # expat says "not well-formed (invalid token)": the first three words would repeat ours.
        reason = str(exc).split(":", 1)[0].removeprefix("not well-formed (").rstrip(")")
        where = f"line {line}, column {column + 1}"
        raise JUnitError(f"not well-formed XML: {reason} ({where})", source) from exc
    return JUnitReport(tuple(handler.cases), handler.duration)


def _looks_like_html(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html"))


@dataclass(slots=True)
class _Part:
    """A child of a case that counts: an outcome (failure, error, skipped) or a stream."""

    tag: str
    message: str  # its message attribute
    text: list[str] = field(default_factory=list)  # all the text within it

    @property
    def joined(self) -> str:
        text = "".join(self.text).rstrip()
        return _LEADING_BLANK_LINES.sub("", text)


@dataclass(slots=True)
class _CaseDraft:
    suite: str
    attrib: Mapping[str, str]
    parts: list[_Part] = field(default_factory=list)

    def finish(self) -> JUnitCase:
        outcomes = [part for part in self.parts if part.tag in _OUTCOMES]
        status, deciding = _status(self.attrib, outcomes)
        return JUnitCase(
            suite=self.suite,
            classname=_name(self.attrib, "classname"),
            name=_name(self.attrib, "name"),
            status=status,
            duration_s=_seconds(self.attrib.get("time")) or 0.0,
            message=_message(deciding),
            output=_output(self.parts),
            file=_name(self.attrib, "file"),
        )


@dataclass(slots=True)
class _Open:
    """An element being read. `chain`: the root, or a suite or case within a chain element,
    whose time counts towards its parent's; `in_case`: a case or within one."""

    chain: bool
    in_case: bool
    suite: str  # the enclosing suites' names, joined
    suite_depth: int
    declared: float | None = None  # its own time attribute
    children_s: float = 0.0  # the time of its suites and cases
    case: _CaseDraft | None = None  # a case being read
    part: _Part | None = None  # the part of a case the text within goes to


class _Handler:
    """The parser's target: keeps what the cases need and counts against the budget."""

    def __init__(self, source: str, budget: ReportBudget) -> None:
        self.source = source
        self.budget = budget
        self.stack: list[_Open] = []
        self.cases: list[JUnitCase] = []
        self.duration = 0.0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        budget, limits = self.budget, self.budget.limits
        budget.elements += 1
        if budget.elements > limits.elements:
            raise JUnitTooLarge(too_many_elements(self.source, limits), "elements")
        if len(self.stack) >= MAX_XML_DEPTH:
            message = too_deep(self.source, "its XML elements", MAX_XML_DEPTH)
            raise JUnitTooLarge(message, "depth")
        name = _local_name(tag)
        parent = self.stack[-1] if self.stack else None
        if parent is None:
            if name not in ("testsuites", "testsuite"):
                raise JUnitError(
                    f"the root element is <{name}>, not <testsuites> or <testsuite>", self.source
                )
            element = _Open(chain=True, in_case=False, suite="", suite_depth=0)
        else:
            chain = parent.chain and name in _SUITE_OR_CASE
            element = _Open(chain, parent.in_case, parent.suite, parent.suite_depth)
            element.part = parent.part
            if parent.case is not None and (name in _OUTCOMES or name in _STREAMS):
                element.part = _Part(name, _attribute(attrib, "message"))
                parent.case.parts.append(element.part)
        if element.chain:
            element.declared = _seconds(attrib.get("time"))
            if not element.in_case:
                self._enter(element, name, attrib)
        self.stack.append(element)

    def _enter(self, element: _Open, name: str, attrib: dict[str, str]) -> None:
        """A suite or a case that is not within a case."""
        if name == "testsuite":
            element.suite_depth += 1
            if element.suite_depth > MAX_SUITE_DEPTH:
                raise JUnitError(
                    f"test suites nest deeper than {MAX_SUITE_DEPTH} levels", self.source
                )
            suite = _attribute(attrib, "name")
            if suite:
                joined = f"{element.suite}{SUITE_SEPARATOR}{suite}" if element.suite else suite
                element.suite = _cut(joined, NAME_LIMIT)
        elif name == "testcase":
            budget = self.budget
            budget.cases += 1
            if budget.cases > budget.limits.max_cases:
                raise JUnitTooLarge(too_many_cases(self.source, budget.limits), "cases")
            element.case = _CaseDraft(element.suite, attrib)
            element.in_case = True

    def end(self, tag: str) -> None:
        element = self.stack.pop()
        if element.chain:
            duration = element.declared if element.declared is not None else element.children_s
            if self.stack:
                self.stack[-1].children_s += duration
            else:
                # An outer time is preferred: runners that work in parallel (Jest, Playwright)
                # report the wall time there, which is shorter than the sum of their cases.
                self.duration = duration
        if element.case is not None:
            self.cases.append(element.case.finish())

    def data(self, text: str) -> None:
        part = self.stack[-1].part if self.stack else None
        if part is not None:
            part.text.append(text)


def _status(attrib: Mapping[str, str], outcomes: list[_Part]) -> tuple[CaseStatus, _Part | None]:
    # pytest puts a failing test's teardown <error> beside its <failure>: the test itself failed.
    for tag, status in _OUTCOMES.items():
        deciding = next((part for part in outcomes if part.tag == tag), None)
        if deciding is not None:
            return CaseStatus(status), deciding
    if _attribute(attrib, "status").lower() in _SKIPPED_WORDS:
        return CaseStatus.skipped, None
    return CaseStatus.passed, None


def _message(outcome: _Part | None) -> str:
    if outcome is None:
        return ""
    # jest-junit writes no message attribute: its first text line is the message.
    return _cut(outcome.message or _first_line(outcome.joined), MESSAGE_LIMIT)


def _output(parts: list[_Part]) -> str:
    texts = [text for text in (p.joined for p in parts if p.tag in _OUTCOMES) if text]
    for part in parts:
        label = _STREAMS.get(part.tag)
        text = part.joined if label else ""
        if text:
            texts.append(f"--- {label} ---\n{text}")
    return _truncate_middle("\n\n".join(texts), OUTPUT_LIMIT)


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


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _attribute(attrib: Mapping[str, str], name: str) -> str:
    return (attrib.get(name) or "").strip()


def _name(attrib: Mapping[str, str], name: str) -> str:
    return _cut(_attribute(attrib, name), NAME_LIMIT)


def _local_name(tag: object) -> str:
    # A writer may put its elements in a namespace: "{urn:x}testcase" is still a testcase.
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""

"""Reading JUnit XML as real test runners write it, and refusing what is not a report."""

import itertools
import re
from collections.abc import Iterable, Iterator

import pytest

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
    merge_reports,
)
from paddock.domain.junit_reader import parse_junit, read_junit
from paddock.domain.reports import (
    DEFAULT_LIMITS,
    MAX_XML_DEPTH,
    REPORT_TOO_LARGE,
    ReportLimits,
    ReportTooLarge,
)

# pytest --junitxml, junit_family=xunit2 (the default) with junit_logging=all: no file/line
# attributes, one <testsuite name="pytest">, collection errors as a case with an empty classname.
PYTEST = b"""<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite \
name="pytest" errors="2" failures="1" skipped="2" tests="6" time="0.412" \
timestamp="2024-05-01T10:00:00.123456+00:00" hostname="laptop"><properties><property \
name="ci" value="true" /></properties><testcase classname="tests.test_calc" name="test_add" \
time="0.001" /><testcase classname="tests.test_calc" name="test_sub" time="0.002"><failure \
message="assert 3 == 4&#10; +  where 3 = sub(5, 2)">def test_sub():
&gt;       assert sub(5, 2) == 4
E       assert 3 == 4
E        +  where 3 = sub(5, 2)

tests/test_calc.py:9: AssertionError</failure><system-out>\
------------------------------ Captured Out ------------------------------
computing 5 - 2
</system-out><system-err>------------------------------ Captured Err ------------------------------
warning: slow path
</system-err></testcase><testcase classname="tests.test_db" name="test_query" time="0.000">\
<skipped type="pytest.skip" message="no database">/app/tests/test_db.py:5: no database</skipped>\
</testcase><testcase classname="tests.test_db" name="test_insert" time="0.003"><error \
message="failed on setup with &quot;RuntimeError: cannot connect&quot;">@pytest.fixture
    def db():
&gt;       raise RuntimeError("cannot connect")
E       RuntimeError: cannot connect

tests/conftest.py:7: RuntimeError</error></testcase><testcase classname="tests.test_calc" \
name="test_div_by_zero" time="0.001"><skipped type="pytest.xfail" message="division by zero is not \
handled yet" /></testcase><testcase classname="" name="tests.test_broken" time="0.000"><error \
message="collection failure">tests/test_broken.py:3: in &lt;module&gt;
    import missing_module
E   ModuleNotFoundError: No module named 'missing_module'</error></testcase></testsuite>\
</testsuites>"""

# jest-junit with addFileAttribute and reportTestSuiteErrors: <failure> and <error> carry no
# message attribute, only the (ANSI-stripped) text; a file that failed to load is a suite.
JEST = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jest tests" tests="4" failures="1" errors="1" time="2.417">
  <testsuite name="Calculator" errors="0" failures="1" skipped="1" \
timestamp="2024-05-01T10:00:00" time="1.203" tests="3">
    <testcase classname="Calculator adds two numbers" name="Calculator adds two numbers" \
time="0.004" file="src/calc.test.js">
    </testcase>
    <testcase classname="Calculator subtracts" name="Calculator subtracts" time="0.006" \
file="src/calc.test.js">
      <failure>Error: expect(received).toBe(expected) // Object.is equality

Expected: 1
Received: 3
    at Object.toBe (/app/src/calc.test.js:10:29)</failure>
    </testcase>
    <testcase classname="Calculator divides" name="Calculator divides" time="0" \
file="src/calc.test.js">
      <skipped/>
    </testcase>
  </testsuite>
  <testsuite name="src/broken.test.js" errors="1" failures="0" skipped="0" \
timestamp="2024-05-01T10:00:01" time="0" tests="1">
    <testcase classname="Test suite failed to run" name="src/broken.test.js" time="0">
      <error>
  \xe2\x97\x8f Test suite failed to run

    Cannot find module './missing' from 'src/broken.test.js'</error>
    </testcase>
  </testsuite>
</testsuites>
"""

# Vitest's junit reporter: describe blocks joined with " > " in the name, the file as classname,
# console output inside the case, a file that failed to load as a failed case named after it.
VITEST = """<?xml version="1.0" encoding="UTF-8" ?>
<testsuites name="vitest tests" tests="4" failures="2" errors="0" time="0.532">
    <testsuite name="src/sum.test.ts" timestamp="2024-05-01T10:00:00.000Z" hostname="dev-box" \
tests="3" failures="1" errors="0" skipped="1" time="0.004">
        <testcase classname="src/sum.test.ts" name="sum &gt; adds" time="0.001">
            <system-out>
adding 1 and 2

            </system-out>
        </testcase>
        <testcase classname="src/sum.test.ts" name="sum &gt; adds wrong" time="0.002">
            <failure message="expected 3 to be 4 // Object.is equality" type="AssertionError">
AssertionError: expected 3 to be 4 // Object.is equality

- Expected
+ Received

- 4
+ 3

 \u276f src/sum.test.ts:9:22
            </failure>
        </testcase>
        <testcase classname="src/sum.test.ts" name="sum &gt; todo: big numbers" time="0">
            <skipped/>
        </testcase>
    </testsuite>
    <testsuite name="src/broken.test.ts" timestamp="2024-05-01T10:00:00.100Z" hostname="dev-box" \
tests="1" failures="1" errors="0" skipped="0" time="0">
        <testcase classname="src/broken.test.ts" name="src/broken.test.ts" time="0">
            <failure message="Failed to load url ./missing (resolved id: ./missing)" type="Error">
Error: Failed to load url ./missing (resolved id: ./missing) in /app/src/broken.test.ts
            </failure>
        </testcase>
    </testsuite>
</testsuites>
""".encode()

# Playwright's junit reporter: the project is the suite's hostname, the failure text is CDATA
# with a banner line, attachments are listed in <system-out>.
PLAYWRIGHT = """<testsuites id="" name="" tests="3" failures="1" skipped="1" errors="0" \
time="4.5123">
<testsuite name="example.spec.ts" timestamp="2024-05-01T10:00:00.000Z" hostname="chromium" \
tests="3" failures="1" skipped="1" time="4.2" errors="0">
<testcase name="has title" classname="example.spec.ts" time="1.1">
</testcase>
<testcase name="navigation \u203a get started link" classname="example.spec.ts" time="3.1">
<properties>
</properties>
<failure message="example.spec.ts:10:5 get started link" type="FAILURE">
<![CDATA[  [chromium] \u203a example.spec.ts:10:5 \u203a navigation \u203a get started link \
\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500

    Error: Timed out 5000ms waiting for expect(locator).toBeVisible()

    Locator: getByRole('heading', { name: 'Installation' })
]]>
</failure>
<system-out>
<![CDATA[
[[ATTACHMENT|test-results/example-get-started-link-chromium/test-failed-1.png]]
]]>
</system-out>
</testcase>
<testcase name="visual diff" classname="example.spec.ts" time="0">
<skipped/>
</testcase>
</testsuite>
</testsuites>""".encode()

# go-junit-report v2: no time on <testsuites>, one suite per package, the test's log as CDATA,
# a package that did not build as an error case.
GO = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="5" failures="1" errors="1" skipped="1">
\t<testsuite name="example.com/calc" tests="4" failures="1" errors="0" id="0" hostname="buildbox" \
skipped="1" time="0.004" timestamp="2024-05-01T10:00:00Z">
\t\t<properties>
\t\t\t<property name="go.version" value="go1.22.2 linux/amd64"></property>
\t\t</properties>
\t\t<testcase name="TestAdd" classname="example.com/calc" time="0.000">
\t\t\t<failure message="Failed" type=""><![CDATA[    calc_test.go:9: got 3, want 4]]></failure>
\t\t</testcase>
\t\t<testcase name="TestSub" classname="example.com/calc" time="0.001"></testcase>
\t\t<testcase name="TestSub/negative" classname="example.com/calc" time="0.000"></testcase>
\t\t<testcase name="TestMul" classname="example.com/calc" time="0.000">
\t\t\t<skipped message="Skipped"><![CDATA[    calc_test.go:21: not implemented yet]]></skipped>
\t\t</testcase>
\t</testsuite>
\t<testsuite name="example.com/broken" tests="1" failures="0" errors="1" id="1" \
hostname="buildbox" time="0.000" timestamp="2024-05-01T10:00:00Z">
\t\t<testcase name="[build failed]" classname="example.com/broken" time="0.000">
\t\t\t<error message="Build error" type=""><![CDATA[broken/broken.go:5:2: undefined: missing]]>\
</error>
\t\t</testcase>
\t</testsuite>
</testsuites>
"""

NESTED = b"""<testsuites name="all">
  <testsuite name="api">
    <testcase classname="api" name="health" time="0.5"/>
    <testsuite name="users" time="1.25">
      <testcase classname="api.users" name="create" time="1.0"/>
      <testsuite name="admin">
        <testcase classname="api.users.admin" name="promote" time="0.25">
          <failure message="403 Forbidden"/>
        </testcase>
      </testsuite>
    </testsuite>
  </testsuite>
  <testsuite>
    <testcase name="in an unnamed suite"/>
  </testsuite>
  <testcase name="outside any suite"/>
</testsuites>"""


def totals(report: JUnitReport) -> tuple[int, int, int, int, int]:
    return report.passed, report.failed, report.skipped, report.errors, report.total


def statuses(report: JUnitReport) -> list[tuple[str, CaseStatus]]:
    return [(case.name, case.status) for case in report.cases]


def one_case(body: str, **attributes: str) -> JUnitCase:
    attrs = "".join(f' {key}="{value}"' for key, value in attributes.items())
    report = parse_junit(
        f'<testsuite name="s"><testcase name="t"{attrs}>{body}</testcase></testsuite>'.encode()
    )
    assert report.total == 1
    return report.cases[0]


def test_pytest_xunit2() -> None:
    report = parse_junit(PYTEST, "reports/pytest.xml")

    assert totals(report) == (1, 1, 2, 2, 6)
    assert report.duration_s == pytest.approx(0.412)
    assert statuses(report) == [
        ("test_add", CaseStatus.passed),
        ("test_sub", CaseStatus.failed),
        ("test_query", CaseStatus.skipped),
        ("test_insert", CaseStatus.error),
        ("test_div_by_zero", CaseStatus.skipped),
        ("tests.test_broken", CaseStatus.error),
    ]
    passed, failed, skipped, setup_error, xfail, collection = report.cases
    assert passed == JUnitCase("pytest", "tests.test_calc", "test_add", CaseStatus.passed, 0.001)
    assert failed.suite == "pytest"
    assert failed.message == "assert 3 == 4\n +  where 3 = sub(5, 2)"
    assert failed.output == (
        "def test_sub():\n>       assert sub(5, 2) == 4\nE       assert 3 == 4\n"
        "E        +  where 3 = sub(5, 2)\n\ntests/test_calc.py:9: AssertionError\n\n"
        "--- stdout ---\n------------------------------ Captured Out "
        "------------------------------\ncomputing 5 - 2\n\n"
        "--- stderr ---\n------------------------------ Captured Err "
        "------------------------------\nwarning: slow path"
    )
    assert failed.file == ""  # xunit2 writes no file attribute
    assert (skipped.message, skipped.output) == (
        "no database",
        "/app/tests/test_db.py:5: no database",
    )
    assert setup_error.message == 'failed on setup with "RuntimeError: cannot connect"'
    assert setup_error.output.endswith("tests/conftest.py:7: RuntimeError")
    assert (xfail.message, xfail.output) == ("division by zero is not handled yet", "")
    assert (collection.classname, collection.message) == ("", "collection failure")


def test_pytest_xunit1_keeps_file() -> None:
    report = parse_junit(
        b'<testsuites><testsuite name="pytest" tests="1"><testcase classname="tests.test_calc" '
        b'file="tests/test_calc.py" line="3" name="test_add" time="0.001" />'
        b"</testsuite></testsuites>"
    )
    assert report.cases[0].file == "tests/test_calc.py"


def test_jest_junit_message_is_the_first_line_of_the_text() -> None:
    report = parse_junit(JEST, "junit.xml")

    assert totals(report) == (1, 1, 1, 1, 4)
    assert report.duration_s == pytest.approx(2.417)
    adds, subtracts, divides, broken = report.cases
    assert (adds.suite, adds.classname, adds.name, adds.status, adds.duration_s, adds.file) == (
        "Calculator",
        "Calculator adds two numbers",
        "Calculator adds two numbers",
        CaseStatus.passed,
        0.004,
        "src/calc.test.js",
    )
    assert (adds.message, adds.output) == ("", "")
    assert subtracts.status is CaseStatus.failed
    assert subtracts.message == "Error: expect(received).toBe(expected) // Object.is equality"
    assert subtracts.output == (
        "Error: expect(received).toBe(expected) // Object.is equality\n\n"
        "Expected: 1\nReceived: 3\n    at Object.toBe (/app/src/calc.test.js:10:29)"
    )
    assert (divides.status, divides.message) == (CaseStatus.skipped, "")
    assert (broken.suite, broken.status) == ("src/broken.test.js", CaseStatus.error)
    assert broken.message == "\u25cf Test suite failed to run"
    assert broken.output.startswith("  \u25cf Test suite failed to run\n\n    Cannot find module")


def test_vitest() -> None:
    report = parse_junit(VITEST, "vitest.xml")

    assert totals(report) == (1, 2, 1, 0, 4)
    assert report.duration_s == pytest.approx(0.532)
    assert statuses(report) == [
        ("sum > adds", CaseStatus.passed),
        ("sum > adds wrong", CaseStatus.failed),
        ("sum > todo: big numbers", CaseStatus.skipped),
        ("src/broken.test.ts", CaseStatus.failed),
    ]
    adds, wrong, _, broken = report.cases
    assert (adds.suite, adds.classname) == ("src/sum.test.ts", "src/sum.test.ts")
    assert (adds.message, adds.output) == ("", "--- stdout ---\nadding 1 and 2")
    assert wrong.message == "expected 3 to be 4 // Object.is equality"
    assert wrong.output == (
        "AssertionError: expected 3 to be 4 // Object.is equality\n\n- Expected\n+ Received\n\n"
        "- 4\n+ 3\n\n \u276f src/sum.test.ts:9:22"
    )
    assert broken.suite == "src/broken.test.ts"
    assert broken.message == "Failed to load url ./missing (resolved id: ./missing)"


def test_playwright() -> None:
    report = parse_junit(PLAYWRIGHT, "results.xml")

    assert totals(report) == (1, 1, 1, 0, 3)
    assert report.duration_s == pytest.approx(4.5123)
    title, link, visual = report.cases
    assert (title.suite, title.classname, title.name, title.duration_s) == (
        "example.spec.ts",
        "example.spec.ts",
        "has title",
        1.1,
    )
    assert link.name == "navigation \u203a get started link"
    assert link.status is CaseStatus.failed
    assert link.message == "example.spec.ts:10:5 get started link"
    assert link.output == (
        "  [chromium] \u203a example.spec.ts:10:5 \u203a navigation \u203a get started link "
        + "\u2500" * 10
        + "\n\n    Error: Timed out 5000ms waiting for expect(locator).toBeVisible()\n\n"
        "    Locator: getByRole('heading', { name: 'Installation' })\n\n"
        "--- stdout ---\n"
        "[[ATTACHMENT|test-results/example-get-started-link-chromium/test-failed-1.png]]"
    )
    assert (visual.status, visual.message, visual.output) == (CaseStatus.skipped, "", "")


def test_go_junit_report() -> None:
    report = parse_junit(GO, "go.xml")

    assert totals(report) == (2, 1, 1, 1, 5)
    # <testsuites> says no time: the packages' times are added.
    assert report.duration_s == pytest.approx(0.004)
    assert statuses(report) == [
        ("TestAdd", CaseStatus.failed),
        ("TestSub", CaseStatus.passed),
        ("TestSub/negative", CaseStatus.passed),
        ("TestMul", CaseStatus.skipped),
        ("[build failed]", CaseStatus.error),
    ]
    add, _, _, mul, build = report.cases
    assert (add.suite, add.classname) == ("example.com/calc", "example.com/calc")
    assert (add.message, add.output) == ("Failed", "    calc_test.go:9: got 3, want 4")
    assert (mul.message, mul.output) == ("Skipped", "    calc_test.go:21: not implemented yet")
    assert (build.suite, build.message, build.output) == (
        "example.com/broken",
        "Build error",
        "broken/broken.go:5:2: undefined: missing",
    )


def test_nested_suites_join_their_names_and_cases_are_found_at_any_depth() -> None:
    report = parse_junit(NESTED)

    assert [(case.suite, case.name) for case in report.cases] == [
        ("api", "health"),
        ("api \u203a users", "create"),
        ("api \u203a users \u203a admin", "promote"),
        ("", "in an unnamed suite"),
        ("", "outside any suite"),
    ]
    assert totals(report) == (4, 1, 0, 0, 5)
    assert report.cases[2].message == "403 Forbidden"
    # "api" has no time: its own case (0.5) plus "users" as declared (1.25).
    assert report.duration_s == pytest.approx(1.75)


def test_a_single_testsuite_root() -> None:
    report = parse_junit(
        b'<testsuite name="mocha" tests="2" time="3.5"><testcase name="a" time="1"/>'
        b'<testcase name="b" time="1"><failure message="boom"/></testcase></testsuite>'
    )
    assert [(case.suite, case.status) for case in report.cases] == [
        ("mocha", CaseStatus.passed),
        ("mocha", CaseStatus.failed),
    ]
    assert report.duration_s == 3.5


def test_without_any_declared_time_the_cases_are_added() -> None:
    report = parse_junit(
        b'<testsuites><testsuite name="s"><testcase name="a" time="0.25"/>'
        b'<testcase name="b" time="0.5"/></testsuite></testsuites>'
    )
    assert report.duration_s == 0.75


def test_merge_keeps_order_and_adds_totals() -> None:
    merged = merge_reports(
        [parse_junit(PYTEST, "a.xml"), parse_junit(GO, "b.xml"), parse_junit(b"<testsuites/>")]
    )

    assert totals(merged) == (3, 2, 3, 3, 11)
    assert merged.duration_s == pytest.approx(0.416)
    assert [case.name for case in merged.cases][5:7] == ["tests.test_broken", "TestAdd"]
    assert merge_reports([]) == JUnitReport()


def test_a_report_without_cases_is_empty_not_an_error() -> None:
    for data in (b"<testsuites/>", b'<testsuite name="none" tests="0" time="0.1"></testsuite>'):
        report = parse_junit(data, "empty.xml")
        assert totals(report) == (0, 0, 0, 0, 0)
        assert report.cases == ()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "results.xml: the file is empty"),
        (b"  \n\t", "results.xml: the file is empty"),
        (
            b"<testsuites>\n  <testsuite name='x'>\n    <testcase name='a'>\n</testsuites>",
            "results.xml: not well-formed XML: mismatched tag (line 4, column 3)",
        ),
        (b'{"tests": []}', "results.xml: not well-formed XML: invalid token (line 1, column 1)"),
        (
            b"<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>404</title>",
            "results.xml: this is an HTML page, not a JUnit XML report",
        ),
        (
            b"<html><body><h1>Not Found</h1></body></html>",
            "results.xml: the root element is <html>, not <testsuites> or <testsuite>",
        ),
        (
            b'<testcase name="alone"/>',
            "results.xml: the root element is <testcase>, not <testsuites> or <testsuite>",
        ),
    ],
)
def test_what_is_not_a_report_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(JUnitError) as caught:
        parse_junit(data, "results.xml")
    assert str(caught.value) == reason
    assert caught.value.source == "results.xml"
    assert isinstance(caught.value, ValueError)


def test_a_reason_without_a_source_has_no_prefix() -> None:
    with pytest.raises(JUnitError, match=r"^the file is empty$"):
        parse_junit(b"")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<testsuites><testsuite name="&lol9;"><testcase name="x"/></testsuite></testsuites>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE testsuites [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<testsuites><testsuite name="s"><testcase name="x"><failure>&secret;</failure></testcase>
</testsuite></testsuites>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_entities_are_refused_not_expanded(data: bytes) -> None:
    with pytest.raises(JUnitError) as caught:
        parse_junit(data, "evil.xml")
    assert str(caught.value) == "evil.xml: the XML declares entities, which are refused"


def test_a_doctype_without_entities_is_fine() -> None:
    report = parse_junit(b'<!DOCTYPE testsuites><testsuites><testcase name="a"/></testsuites>')
    assert statuses(report) == [("a", CaseStatus.passed)]


def test_an_external_dtd_is_not_fetched() -> None:
    data = (
        b'<!DOCTYPE testsuites SYSTEM "http://127.0.0.1:9/x.dtd"><testsuites><testcase name="a"/>'
    )
    assert parse_junit(data + b"</testsuites>").total == 1
    with pytest.raises(JUnitError, match=r"^not well-formed XML: undefined entity &ext; \(line 1"):
        parse_junit(data + b"&ext;</testsuites>")


def test_suites_nested_absurdly_deep_are_refused_without_recursion() -> None:
    depth = 5_000
    data = b"<testsuite name='s'>" * depth + b"<testcase name='x'/>" + b"</testsuite>" * depth
    with pytest.raises(JUnitError, match=r"^deep\.xml: test suites nest deeper than 64 levels$"):
        parse_junit(data, "deep.xml")


def test_failure_beats_error_and_both_traces_are_kept() -> None:
    # pytest: the test failed, then its fixture's teardown raised.
    case = one_case(
        '<failure message="assert False">call trace</failure>'
        '<error message="failed on teardown with &quot;OSError&quot;">teardown trace</error>'
    )
    assert (case.status, case.message) == (CaseStatus.failed, "assert False")
    assert case.output == "call trace\n\nteardown trace"


def test_error_beats_skipped() -> None:
    case = one_case('<skipped message="later"/><error message="boom"/>')
    assert (case.status, case.message) == (CaseStatus.error, "boom")


@pytest.mark.parametrize("word", ["skipped", "disabled", "notrun"])
def test_a_status_attribute_can_say_skipped(word: str) -> None:
    assert one_case("", status=word).status is CaseStatus.skipped


def test_a_status_attribute_run_is_a_pass() -> None:
    assert one_case("", status="run").status is CaseStatus.passed  # Ant's writer


def test_a_flaky_failure_that_passed_on_rerun_is_a_pass() -> None:
    # Maven Surefire with rerunFailingTestsCount: the case passed on its second try.
    case = one_case('<flakyFailure message="timeout" type="java.lang.AssertionError"/>')
    assert (case.status, case.message) == (CaseStatus.passed, "")


def test_an_empty_message_attribute_falls_back_to_the_text() -> None:
    case = one_case('<failure message="" type="">\n\n  first real line\nsecond</failure>')
    assert case.message == "first real line"


@pytest.mark.parametrize(
    ("time", "seconds"),
    [
        ("1.5", 1.5),
        ("", 0.0),
        ("abc", 0.0),
        ("-1", 0.0),
        ("nan", 0.0),
        ("inf", 0.0),
        ("1,234.5", 1234.5),  # a writer formatting with its locale
        ("0,25", 0.25),
    ],
)
def test_bad_times_are_zero(time: str, seconds: float) -> None:
    assert one_case("", time=time).duration_s == seconds


def test_namespaced_elements_are_read() -> None:
    report = parse_junit(
        b'<j:testsuites xmlns:j="urn:junit"><j:testsuite name="s">'
        b'<j:testcase name="a"><j:failure message="m"/></j:testcase></j:testsuite></j:testsuites>'
    )
    assert [(case.suite, case.name, case.status) for case in report.cases] == [
        ("s", "a", CaseStatus.failed)
    ]


def test_invalid_utf8_colour_codes_and_control_characters_do_not_cost_the_report() -> None:
    data = (
        b'<testsuite name="s"><testcase name="t"><failure message="bad \xff byte">'
        b"\x1b[31mred\x1b[0m &#27;[1mbold&#x1b;[0m tab&#9;kept\x07"
        b"</failure></testcase></testsuite>"
    )
    case = parse_junit(data).cases[0]
    assert case.message == "bad \ufffd byte"
    assert case.output == "red [1mbold[0m tab\tkept"


def test_declared_encodings_are_honoured() -> None:
    latin1 = '<?xml version="1.0" encoding="ISO-8859-1"?><testsuite name="caf\xe9"/>'
    assert parse_junit(latin1.encode("latin-1")).total == 0
    utf16 = (
        '<?xml version="1.0" encoding="UTF-16"?>'
        '<testsuite name="Pester"><testcase name="d\xe9j\xe0 vu"/></testsuite>'
    )
    report = parse_junit(utf16.encode("utf-16"))
    assert [(case.suite, case.name) for case in report.cases] == [("Pester", "d\xe9j\xe0 vu")]


def test_a_utf8_bom_is_fine() -> None:
    report = parse_junit(b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?><testsuite name="s"/>')
    assert report.total == 0


def test_long_output_keeps_its_start_and_end_within_the_limit() -> None:
    head, tail = "FIRST LINE\n", "\nLAST LINE \u2713"
    stdout = head + "\u00e9" * 100_000 + tail  # two bytes each: a cut may fall inside one
    case = one_case(f"<failure>trace</failure><system-out>{stdout}</system-out>")

    output = case.output
    assert len(output.encode()) <= OUTPUT_LIMIT
    assert output.startswith("trace\n\n--- stdout ---\nFIRST LINE\n\u00e9")
    assert output.endswith("\u00e9" + tail)
    marker = re.search(r"\n\[… (\d+) bytes cut …\]\n", output)
    assert marker is not None
    full = f"trace\n\n--- stdout ---\n{stdout}".encode()
    kept = len(output.encode()) - len(marker.group(0).encode())
    assert int(marker.group(1)) == len(full) - kept


def test_short_output_is_untouched() -> None:
    assert one_case("<system-err>  indented\n</system-err>").output == "--- stderr ---\n  indented"


def test_long_messages_are_cut() -> None:
    case = one_case(f'<failure message="{"x" * 5_000}"/>')
    assert len(case.message) == MESSAGE_LIMIT
    assert case.message.endswith("x…")


# -- limits: a report is hostile input, read within limits checked while it is read ---------------

CASE = b'<testcase classname="c" name="t"/>\n'
OPEN = b"<testsuites><testsuite name='s'>"
CLOSE = b"</testsuite></testsuites>"


class Counted:
    """Chunks, counting how many were taken: a read that stops early takes few."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks = iter(chunks)
        self.taken = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.taken += 1
            yield chunk


def endless(head: bytes, unit: bytes, size: int = 64 * 1024) -> Counted:
    """A report that never ends: `head`, then `unit` over and over, in chunks of `size`."""
    body = unit * max(1, size // len(unit))
    return Counted(itertools.chain([head], itertools.repeat(body)))


def refused(chunks: Iterable[bytes], limits: ReportLimits = DEFAULT_LIMITS) -> JUnitTooLarge:
    with pytest.raises(JUnitTooLarge) as caught:
        read_junit(chunks, "bomb.xml", ReportBudget(limits))
    error = caught.value
    assert isinstance(error, ReportTooLarge) and isinstance(error, JUnitError)
    assert error.code == REPORT_TOO_LARGE == "report_too_large"
    return error


def test_an_endless_stream_of_cases_stops_at_the_case_limit() -> None:
    stream = endless(OPEN, CASE)
    error = refused(stream)
    assert error.limit == "cases"
    assert str(error) == (
        "bomb.xml: more than 50,000 test cases, the limit for a test run; raise "
        "`report_max_cases` (PADDOCK_REPORT_MAX_CASES) to read it"
    )
    # It stopped right after the 50,001st case: about 1.8 MB read, of an endless stream.
    assert stream.taken * 64 * 1024 < 3 * 1024 * 1024


def test_the_case_limit_is_a_setting_and_exactly_at_it_is_fine() -> None:
    limits = ReportLimits(max_cases=10)
    assert parse_junit(OPEN + CASE * 10 + CLOSE, "ok.xml", limits).total == 10
    with pytest.raises(JUnitTooLarge, match=r"^x.xml: more than 10 test cases") as caught:
        parse_junit(OPEN + CASE * 11 + CLOSE, "x.xml", limits)
    assert caught.value.limit == "cases"


def test_an_endless_stream_of_bytes_stops_at_the_byte_limit() -> None:
    # One case whose output never ends: no case or element limit is ever reached.
    head, line = OPEN + b"<testcase name='t'><system-out>", b"output line\n"
    stream = endless(head, line)
    error = refused(stream, ReportLimits(max_mb=1))
    assert error.limit == "file_bytes"
    assert re.match(
        r"^bomb.xml is too large: 1,\d{3},\d{3} bytes, over the 1 MB limit for a report file; "
        r"raise `report_max_mb` \(PADDOCK_REPORT_MAX_MB\) to read it$",
        str(error),
    )
    # The read stopped at the first chunk that passed 1 MB, and took no further one.
    body = len(line) * (64 * 1024 // len(line))
    assert stream.taken == 1 + -(-(1024 * 1024 + 1 - len(head)) // body)


def test_a_file_of_exactly_the_byte_limit_is_read() -> None:
    limits = ReportLimits(max_mb=1)
    body = OPEN + b"<testcase name='t'><system-out>"
    tail = b"</system-out></testcase>" + CLOSE
    data = body + b"x" * (limits.file_bytes - len(body) - len(tail)) + tail
    assert len(data) == limits.file_bytes
    assert parse_junit(data, "full.xml", limits).total == 1
    with pytest.raises(JUnitTooLarge, match=r"^full.xml is too large: 1,048,577 bytes"):
        parse_junit(data + b" ", "full.xml", limits)


def test_an_endless_stream_of_elements_that_are_not_cases_stops_at_the_element_limit() -> None:
    stream = endless(OPEN + b"<properties>", b"<property name='a' value='b'/>")
    error = refused(stream, ReportLimits(max_cases=1_000))
    assert error.limit == "elements"
    assert str(error) == (
        "bomb.xml: more than 20,000 XML elements (20 per test case allowed); raise "
        "`report_max_cases` (PADDOCK_REPORT_MAX_CASES) to read it"
    )
    assert stream.taken < 20


def test_elements_nested_endlessly_stop_at_the_depth_limit_without_recursion() -> None:
    stream = endless(OPEN + b"<testcase name='t'><system-out>", b"<a>")
    error = refused(stream)
    assert error.limit == "depth"
    assert str(error) == (
        "bomb.xml is nested too deeply: its XML elements nest more than 256 levels deep; this "
        "limit is fixed, far above what a real report needs"
    )
    assert stream.taken == 2  # the first chunk of <a>s passes the limit
    nested = b"<testsuites>" + b"<x>" * (MAX_XML_DEPTH - 1) + b"</x>" * (MAX_XML_DEPTH - 1)
    assert parse_junit(nested + b"</testsuites>").total == 0  # 256 deep with the root: fine


def test_the_files_of_one_run_share_its_limits() -> None:
    budget = ReportBudget(ReportLimits(max_mb=1, max_cases=10))
    first = read_junit([OPEN + CASE * 6 + CLOSE], "a.xml", budget)
    assert first.total == 6 and budget.cases == 6
    with pytest.raises(JUnitTooLarge, match=r"^b.xml: more than 10 test cases") as caught:
        read_junit([OPEN + CASE * 6 + CLOSE], "b.xml", budget)
    assert caught.value.limit == "cases"

    # Several files under the file limit each still cannot add up past the run's bytes.
    budget = ReportBudget(ReportLimits(max_mb=1))
    half = b"<testsuites><!--" + b"x" * (512 * 1024) + b"--></testsuites>"
    for number in range(7):  # 3.5 MB in 7 files, each well under 1 MB
        read_junit([half], f"{number}.xml", budget)
    with pytest.raises(JUnitTooLarge, match=r"^7.xml: the run's reports weigh more than 4 MB"):
        read_junit([half], "7.xml", budget)


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_entities_are_refused_when_streamed_a_byte_at_a_time(data: bytes) -> None:
    with pytest.raises(
        JUnitError, match=r"^evil.xml: the XML declares entities, which are refused"
    ):
        read_junit((data[i : i + 1] for i in range(len(data))), "evil.xml", ReportBudget())


def test_a_report_read_a_byte_at_a_time_is_the_same_report() -> None:
    """Colour codes, character references and UTF-8 characters cut between two chunks are
    mended as when the file comes whole."""
    data = (
        "<testsuites><testsuite name='s \u2713'><testcase name='a'><failure>"
        "\x1b[31mred\x1b[0m &#1;&#x41; caf\u00e9 \xff</failure></testcase></testsuite></testsuites>"
    ).encode("utf-8", "surrogateescape")
    data = data.replace("\xff".encode(), b"\xff")  # an invalid UTF-8 byte
    whole = parse_junit(data)
    assert whole.cases[0].output == "red A caf\u00e9 \ufffd"
    for size in (1, 2, 3, 7):
        chunks = (data[i : i + size] for i in range(0, len(data), size))
        assert read_junit(chunks, "", ReportBudget()) == whole


def test_names_and_suite_paths_are_cut() -> None:
    long = "n" * 5_000
    suites = f"<testsuite name='{long}'>" * 3
    report = parse_junit(
        f"<testsuites>{suites}<testcase classname='{long}' name='{long}' file='{long}'/>"
        f"{'</testsuite>' * 3}</testsuites>".encode()
    )
    [case] = report.cases
    for value in (case.suite, case.classname, case.name, case.file):
        assert len(value) == NAME_LIMIT and value.endswith("n…")
    assert SUITE_SEPARATOR not in case.suite  # the first name alone fills it

"""The UI's pure helpers (no browser): masking credentials, money, tool results paired with
their calls."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import SecretStr

from paddock.domain.entries import AgentEntry, EntryKind
from paddock.web.ui.conversation import call_key, pair
from paddock.web.ui.present import (
    call_subject,
    file_size,
    masked_key,
    masked_url,
    money,
    relative_path,
)


def test_a_key_shows_at_most_its_last_four_characters() -> None:
    assert masked_key(SecretStr("sk-ant-api03-abcdefghijklmnop6789")) == "set — ends in …6789"
    assert masked_key("short-key") == "set"  # too short for its end to be shown
    assert masked_key(None) == "not set"
    assert masked_key(SecretStr("")) == "not set"


def test_a_base_url_hides_passwords_and_secret_query_values() -> None:
    assert masked_url("https://user:pw@gw.example/v1") == "https://user:***@gw.example/v1"
    assert masked_url("https://gw.example/v1?api_key=abc&region=eu") == (
        "https://gw.example/v1?api_key=***&region=eu"
    )
    assert masked_url("http://127.0.0.1:4000") == "http://127.0.0.1:4000"
    assert masked_url(None).startswith("not set")


def test_money() -> None:
    assert money(0.0312) == "$0.03"
    assert money(12.5) == "$12.50"
    assert money(0.00235) in ("$0.0023", "$0.0024")
    assert money(0) == "$0.00"
    assert money(None) == ""


def test_paths_and_subjects() -> None:
    assert relative_path("/w/t/src/app.py", "/w/t") == "src/app.py"
    assert relative_path("/etc/hosts", "/w/t") == "/etc/hosts"
    assert call_subject({"input": {"command": "pytest -q\nmore"}}) == "pytest -q"
    assert call_subject({"input": {"other": 1}}) == ""


def entry(seq: int, kind: EntryKind, **payload: object) -> AgentEntry:
    return AgentEntry("p1", seq, kind, dict(payload), datetime.now(UTC))


def test_results_join_their_calls() -> None:
    items = pair(
        [
            entry(1, EntryKind.user_message, text="go"),
            entry(2, EntryKind.tool_call, id="a", tool="Read", action="read", paths=["x"]),
            entry(3, EntryKind.tool_result, id="a", ok=True, output="x", truncated=False),
            entry(4, EntryKind.tool_result, id="zzz", ok=False, output="?", truncated=False),
            entry(5, EntryKind.tool_result, id="b", ok=True, output="y", truncated=False),
        ],
        known_calls=["b"],  # a call shown earlier on the page
    )
    assert [i.kind for i in items] == ["user_message", "tool_call", "tool_result", "tool_result"]
    call = items[1]
    assert call.result is not None and call.result.seq == 3
    assert items[2].call_key == ""  # no call anywhere: shown on its own
    assert items[3].call_key == call_key("p1", "b")  # goes into the call already on the page


def test_file_sizes_read_as_people_say_them() -> None:
    assert [file_size(n) for n in (0, 1023, 1024, 1536, 5 * 2**20, 3 * 2**30)] == [
        "0 B",
        "1023 B",
        "1.0 KB",
        "1.5 KB",
        "5.0 MB",
        "3.0 GB",
    ]

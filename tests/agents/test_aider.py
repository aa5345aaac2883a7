"""The Aider adapter: its command line, its normaliser on recorded output, and real runs.

Aider prints plain text, so the transcripts in transcripts/aider/ hold one JSON string per
stdout line of the real CLI (from the live tests below); set PADDOCK_RECORD_TRANSCRIPTS=1 to
record them again (then update the expected entries).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from paddock.agents.aider import ADAPTER, CHAT_HISTORY, Aider
from paddock.agents.base import Credentials, Permission, TurnContext, Variant
from paddock.domain.entries import (
    Entry,
    EntryKind,
    ToolAction,
    error,
    raw,
    session,
    text_entry,
    tool_call,
    tool_result,
    usage,
)
from tests.agents.conftest import installed_cli
from tests.agents.dialects.openai_chat import OpenAIChat, conversation
from tests.agents.fake_model import Conversation, FakeModel, Reply, Say, WriteFile

TRANSCRIPTS = Path(__file__).parent / "transcripts" / "aider"
RECORD = os.environ.get("PADDOCK_RECORD_TRANSCRIPTS") == "1"
# Aider retries an unreachable model itself for about 85 s (its backoff stops at 60 s).
TIMEOUT = 150
MODEL = "fake-model"
FIRST = "Create hello.txt saying hi"
FOLLOW_UP = "What did you do in the previous turn?"


def normalise(lines: list[str]) -> list[Entry]:
    normaliser = ADAPTER.normaliser()
    entries = [e for line in lines for e in normaliser.feed(line)]
    return entries + normaliser.finish()


def transcript(name: str) -> list[str]:
    return [json.loads(line) for line in (TRANSCRIPTS / name).read_text().splitlines()]


def record(name: str, stdout: str) -> None:
    if RECORD:
        TRANSCRIPTS.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps(line) for line in stdout.splitlines()]
        (TRANSCRIPTS / name).write_text("".join(f"{line}\n" for line in lines))


def script(convo: Conversation) -> Reply:
    if FOLLOW_UP in convo.last_user_text:
        return Say("Earlier I created a file for you.")
    if FIRST in convo.last_user_text and convo.tool_results == 0:
        return WriteFile("hello.txt", "hi from aider\n")
    if FIRST in convo.last_user_text:
        return Say("Wrote hello.txt")
    return Say("Ok.")


def context(tmp_path: Path, prompt: str, base_url: str, **kw: object) -> TurnContext:
    return TurnContext(
        prompt=prompt,
        worktree=tmp_path / "repo",
        home=tmp_path / "home",
        executable=kw.pop("executable", "aider"),  # type: ignore[arg-type]
        variant=kw.pop("variant", Variant(model=MODEL)),  # type: ignore[arg-type]
        credentials=Credentials(openai_api_key="sk-fake", openai_base_url=base_url),
        resume=kw.pop("resume", None),  # type: ignore[arg-type]
    )


def run_turn(ctx: TurnContext) -> tuple[subprocess.CompletedProcess[str], float]:
    ADAPTER.prepare_home(ctx)
    run = ADAPTER.command(ctx)
    started = time.monotonic()
    done = subprocess.run(
        run.argv,
        cwd=ctx.worktree,
        env={"PATH": os.environ["PATH"], **run.env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    return done, time.monotonic() - started


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    path = tmp_path / "repo"
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


# --- command line -------------------------------------------------------------------------


def test_command_maps_variant_credentials_and_resume(tmp_path: Path) -> None:
    variant = Variant(model="gpt-x", extra_args=("--map-tokens", "0"), env={"X": "1"})
    ctx = context(tmp_path, "do it", "http://127.0.0.1:9/v1", variant=variant)
    run = Aider().command(ctx)
    assert run.stdin is None
    assert run.argv[0] == "aider"
    assert run.argv[-2:] == ["--message", "do it"]
    assert run.argv[run.argv.index("--model") + 1] == "openai/gpt-x"  # sent to the base URL
    assert "--yes-always" in run.argv and "--no-pretty" in run.argv
    assert "--restore-chat-history" not in run.argv
    assert run.argv[run.argv.index("--chat-history-file") + 1] == str(
        tmp_path / "home" / ".aider" / CHAT_HISTORY
    )
    assert run.argv.index("--map-tokens") < run.argv.index("--message")
    assert run.env["HOME"] == str(tmp_path / "home")
    assert run.env["OPENAI_API_KEY"] == "sk-fake"
    assert run.env["OPENAI_API_BASE"] == "http://127.0.0.1:9/v1"
    assert run.env["X"] == "1"

    follow = Aider().command(context(tmp_path, "more", "", resume=CHAT_HISTORY))
    assert "--restore-chat-history" in follow.argv
    assert follow.argv[follow.argv.index("--model") + 1] == MODEL  # no base URL: as given
    assert "OPENAI_API_BASE" not in follow.env

    plan = Variant(model="anthropic/claude", permission=Permission.plan)
    argv = Aider().command(context(tmp_path, "p", "http://x/v1", variant=plan)).argv
    assert argv[argv.index("--chat-mode") + 1] == "ask" and "--dry-run" in argv
    assert "--yes-always" not in argv
    assert argv[argv.index("--model") + 1] == "anthropic/claude"
    ask = Variant(permission=Permission.ask)
    argv = Aider().command(context(tmp_path, "p", "", variant=ask)).argv
    assert "--yes-always" not in argv and "--no-suggest-shell-commands" in argv


def test_prepare_home_seeds_the_price_cache(tmp_path: Path) -> None:
    ctx = context(tmp_path, "p", "")
    ADAPTER.prepare_home(ctx)
    ADAPTER.prepare_home(ctx)  # idempotent
    prices = tmp_path / "home" / ".aider" / "caches" / "model_prices_and_context_window.json"
    assert json.loads(prices.read_text())  # non-empty: an empty cache is fetched again


# --- the normaliser on recorded output ---------------------------------------------------

GREETING = [
    raw('Update git name with: git config user.name "Your Name"'),
    raw('Update git email with: git config user.email "you@example.com"'),
]


def test_normalises_a_first_turn_that_writes_a_file() -> None:
    assert normalise(transcript("write_file.jsonl")) == [
        *GREETING,
        raw("Aider v0.86.2"),
        session(CHAT_HISTORY, f"openai/{MODEL}"),
        raw("Git repo: .git with 0 files"),
        raw("Repo-map: using 1024 tokens, auto refresh"),
        text_entry(EntryKind.assistant_message, "Wrote hello.txt"),
        usage(596, 15),
        raw("hello.txt"),
        tool_call(
            "edit-1",
            "apply_edit",
            ToolAction.write,
            ["hello.txt"],
            {"path": "hello.txt", "content": "hi from aider\n"},
        ),
        tool_result("edit-1", True, "Applied edit to hello.txt"),
    ]


def test_normalises_a_resumed_follow_up() -> None:
    assert normalise(transcript("follow_up.jsonl")) == [
        raw("Aider v0.86.2"),
        session(CHAT_HISTORY, f"openai/{MODEL}"),
        raw("Git repo: .git with 1 files"),
        raw("Repo-map: using 1024 tokens, auto refresh"),
        raw("Restored previous conversation history."),
        text_entry(EntryKind.assistant_message, "Earlier I created a file for you."),
        usage(803, 8),
    ]


def test_normalises_an_unreachable_model() -> None:
    entries = normalise(transcript("unreachable.jsonl"))
    assert entries[:4] == [
        *GREETING,
        raw("Aider v0.86.2"),
        session(CHAT_HISTORY, f"openai/{MODEL}"),
    ]
    failure = (
        "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error."
        "\nThe API provider's servers are down or overloaded."
    )
    # Retried failures stay raw; the last one, which Aider gave up on, is the error.
    assert [e for e in entries if e.kind is EntryKind.error] == [error(failure)]
    assert entries[-1] == error(failure)
    assert raw("Retrying in 32.0 seconds...") in entries


def test_normalises_usage_with_cost_and_thousands() -> None:
    lines = [
        "Model: claude-sonnet-4 with diff edit format",
        "Tokens: 1.2k sent, 3.0k cache write, 45 received. Cost: $0.01 message, $0.02 session.",
        "Tokens: 12k sent, 1.5M received.",
    ]
    assert normalise(lines)[1:] == [usage(1200, 45, 0.01), usage(12_000, 1_500_000)]


def test_reply_prose_is_grouped_around_file_blocks() -> None:
    lines = [
        "Model: openai/m with whole edit format",
        "",
        "I will change the greeting.",
        "",
        "src/app.py",
        "```python",
        "print('hey')",
        "```",
        "",
        "Done.",
        "Makefile",
        "```",
        "all:",
        "```",
        "Tokens: 10 sent, 5 received.",
        "Applied edit to src/app.py",
        "Applied edit to Makefile",
    ]
    assert normalise(lines)[1:] == [
        text_entry(EntryKind.assistant_message, "I will change the greeting.\n\nDone."),
        usage(10, 5),
        tool_call(
            "edit-1",
            "apply_edit",
            ToolAction.edit,
            ["src/app.py"],
            {"path": "src/app.py", "content": "print('hey')\n"},
        ),
        tool_result("edit-1", True, "Applied edit to src/app.py"),
        tool_call(
            "edit-2",
            "apply_edit",
            ToolAction.edit,
            ["Makefile"],
            {"path": "Makefile", "content": "all:\n"},
        ),
        tool_result("edit-2", True, "Applied edit to Makefile"),
    ]


def test_bad_lines_become_raw_and_never_raise() -> None:
    normaliser = ADAPTER.normaliser()
    weird = ['{"type": "unknown"}', "{not json", "\x00\xff garbage", "Tokens: lots sent", ""]
    before = [e for line in weird for e in normaliser.feed(line)]
    assert before == [raw(line) for line in weird[:-1]]  # before the banner: Aider's chatter
    normaliser.feed("Model: m with whole edit format")
    normaliser.feed("a truncated reply li")
    normaliser.feed("src/open.py")
    normaliser.feed("```")
    normaliser.feed("half a file")
    assert normaliser.finish() == [
        text_entry(EntryKind.assistant_message, "a truncated reply li"),
        raw("src/open.py\n```\nhalf a file\n```"),
    ]
    assert ADAPTER.normaliser().finish() == []
    assert normalise(["Did not apply edit to a.py (--dry-run)"])[:2] == [
        tool_call("edit-1", "apply_edit", ToolAction.edit, ["a.py"], {"path": "a.py"}),
        tool_result("edit-1", False, "Did not apply edit to a.py (--dry-run)"),
    ]


# --- the real CLI against the fake model -------------------------------------------------


def test_dialect_reads_history_and_matches_the_last_user_message() -> None:
    body = {
        "messages": [
            {"role": "system", "content": "Act as an expert"},
            {"role": "user", "content": "Change the greeting"},  # a few-shot example
            {"role": "assistant", "content": "Ok"},
            {"role": "user", "content": [{"type": "text", "text": FIRST}]},
        ]
    }
    convo = conversation(body)
    assert [t.role for t in convo.turns] == ["user", "assistant", "user"]
    assert convo.last_user_text == FIRST


def test_writes_a_file_then_resumes(repo: Path, tmp_path: Path) -> None:
    exe = installed_cli(ADAPTER)
    with FakeModel(script, [OpenAIChat()], str(repo)) as fake:
        first = context(tmp_path, FIRST, f"{fake.url}/v1", executable=exe)
        done, _ = run_turn(first)
        record("write_file.jsonl", done.stdout)
        assert done.returncode == 0, done.stdout + done.stderr
        assert (repo / "hello.txt").read_text() == "hi from aider\n"
        entries = normalise(done.stdout.splitlines())
        sessions = [e for e in entries if e.kind is EntryKind.session]
        assert sessions and sessions[0].payload["session_id"]
        calls = [e for e in entries if e.kind is EntryKind.tool_call]
        assert [(c.payload["action"], c.payload["paths"]) for c in calls] == [
            ("write", ["hello.txt"])
        ]
        results = [e for e in entries if e.kind is EntryKind.tool_result]
        assert [(r.payload["id"], r.payload["ok"]) for r in results] == [
            (calls[0].payload["id"], True)
        ]
        messages = [e for e in entries if e.kind is EntryKind.assistant_message]
        assert messages[-1].payload["text"] == "Wrote hello.txt"
        assert any(e.kind is EntryKind.usage for e in entries)

        sent = len(fake.posts("/chat/completions"))
        follow = context(
            tmp_path,
            FOLLOW_UP,
            f"{fake.url}/v1",
            executable=exe,
            resume=sessions[0].payload["session_id"],
        )
        done, _ = run_turn(follow)
        record("follow_up.jsonl", done.stdout)
        assert done.returncode == 0, done.stdout + done.stderr
        later = fake.posts("/chat/completions")[sent:]
        assert later
        convo = conversation(later[0].json())
        assert convo.last_user_text.startswith(FOLLOW_UP)
        assert convo.mentions(FIRST)  # the first turn, from the restored chat history
        messages = [
            e for e in normalise(done.stdout.splitlines()) if e.kind is EntryKind.assistant_message
        ]
        assert messages[-1].payload["text"] == "Earlier I created a file for you."


def test_unreachable_model_reports_an_error(repo: Path, tmp_path: Path) -> None:
    exe = installed_cli(ADAPTER)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ctx = context(tmp_path, FIRST, f"http://127.0.0.1:{port}/v1", executable=exe)
    done, took = run_turn(ctx)
    record("unreachable.jsonl", done.stdout)
    assert took < TIMEOUT
    entries = normalise(done.stdout.splitlines())
    errors = [e for e in entries if e.kind is EntryKind.error]
    assert done.returncode != 0 or errors
    assert errors and "Connection error" in errors[-1].payload["message"]

"""The claude-code adapter: its command line, its normaliser on recorded output, and real runs of
the real CLI (installed once into the test cache) against the fake Anthropic API.

The transcripts in transcripts/claude_code/ are the stdout of Claude Code 2.1.197 run through
this adapter against the fake model (see test_live_write_then_resume and test_live_unreachable).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from paddock.agents.base import AgentRun, Credentials, Permission, TurnContext, Variant
from paddock.agents.claude_code import ADAPTER, MAX_RETRIES
from paddock.domain.entries import MAX_RESULT_CHARS, Entry, EntryKind, raw
from tests.agents.conftest import installed_cli
from tests.agents.dialects.anthropic import AnthropicDialect, RefusedKey, conversation
from tests.agents.fake_model import Conversation, FakeModel, Reply, RunShell, Say, WriteFile

TRANSCRIPTS = Path(__file__).parent / "transcripts" / "claude_code"
RECORD = os.environ.get("PADDOCK_RECORD_TRANSCRIPTS") == "1"
RUN_TIMEOUT = 120


def normalise(lines: list[str]) -> list[Entry]:
    normaliser = ADAPTER.normaliser()
    entries = [e for line in lines for e in normaliser.feed(line)]
    return entries + normaliser.finish()


def transcript(name: str) -> list[str]:
    return (TRANSCRIPTS / name).read_text().splitlines()


def record(name: str, stdout: str) -> None:
    if RECORD:
        (TRANSCRIPTS / name).write_text(stdout)


def entry(kind: str, **payload: object) -> Entry:
    return Entry(EntryKind(kind), payload)


def context(tmp_path: Path, **changes: object) -> TurnContext:
    values: dict[str, object] = {
        "prompt": "Do it",
        "worktree": tmp_path / "repo",
        "home": tmp_path / "home",
        "executable": "/opt/claude",
        "variant": Variant(),
        "credentials": Credentials(),
    }
    return TurnContext(**{**values, **changes})  # type: ignore[arg-type]


# --- the command line ---------------------------------------------------------------------


def test_command_first_turn_full_permission(tmp_path: Path) -> None:
    ctx = context(
        tmp_path,
        credentials=Credentials(anthropic_api_key="sk-x", anthropic_base_url="http://h:1"),
    )
    run = ADAPTER.command(ctx)
    assert run.argv == [
        "/opt/claude",
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--dangerously-skip-permissions",
        "--",
        "Do it",
    ]
    assert run.stdin is None
    assert run.env["HOME"] == str(tmp_path / "home")
    assert run.env["CLAUDE_CONFIG_DIR"] == str(tmp_path / "home" / ".claude")
    assert run.env["ANTHROPIC_API_KEY"] == "sk-x"
    assert run.env["ANTHROPIC_BASE_URL"] == "http://h:1"
    assert run.env["IS_SANDBOX"] == "1"
    assert run.env["DISABLE_AUTOUPDATER"] == "1"
    # A bounded retry count: Claude Code's own ten retries held a refused key for minutes.
    assert run.env["CLAUDE_CODE_MAX_RETRIES"] == str(MAX_RETRIES) == "3"


def test_command_variant_and_resume(tmp_path: Path) -> None:
    variant = Variant(
        model="opus",
        permission=Permission.plan,
        extra_args=("--max-turns", "3"),
        env={
            "MAX_THINKING_TOKENS": "8000",
            "DISABLE_TELEMETRY": "0",
            "CLAUDE_CODE_MAX_RETRIES": "9",
        },
    )
    run = ADAPTER.command(context(tmp_path, variant=variant, resume="sess-1"))
    assert run.argv[5:] == [
        "--permission-mode",
        "plan",
        "--model",
        "opus",
        "--resume",
        "sess-1",
        "--max-turns",
        "3",
        "--",
        "Do it",
    ]
    assert "IS_SANDBOX" not in run.env
    assert "ANTHROPIC_API_KEY" not in run.env and "ANTHROPIC_BASE_URL" not in run.env
    assert run.env["MAX_THINKING_TOKENS"] == "8000"
    assert run.env["DISABLE_TELEMETRY"] == "0"  # the variant wins
    assert run.env["CLAUDE_CODE_MAX_RETRIES"] == "9"


def test_command_ask_permission(tmp_path: Path) -> None:
    run = ADAPTER.command(context(tmp_path, variant=Variant(permission=Permission.ask)))
    assert run.argv[5:] == ["--permission-mode", "default", "--", "Do it"]


def test_adapter_identity_and_prepare_home(tmp_path: Path) -> None:
    assert ADAPTER.name == "claude-code"
    assert ADAPTER.program == "claude"
    assert ADAPTER.package is not None and ADAPTER.package.spec == "@anthropic-ai/claude-code"
    assert not ADAPTER.needs_command()
    ctx = context(tmp_path)
    ADAPTER.prepare_home(ctx)
    ADAPTER.prepare_home(ctx)  # idempotent
    assert (tmp_path / "home" / ".claude").is_dir()


# --- the normaliser on recorded output ----------------------------------------------------

SESSION = "85dbe638-65bf-4d77-8bd0-733ec46ab9e1"
REPO = "/tmp/ccexpknu1ky46/repo"


def test_transcript_first_turn() -> None:
    assert normalise(transcript("first_turn.jsonl")) == [
        entry("session", session_id=SESSION, model="claude-opus-4-8[1m]"),
        entry(
            "tool_call",
            id="toolu_fake_2",
            tool="Write",
            action="write",
            paths=[f"{REPO}/hello.txt"],
            input={"file_path": f"{REPO}/hello.txt", "content": "hi from claude-code\n"},
        ),
        entry(
            "tool_result",
            id="toolu_fake_2",
            ok=True,
            output=f"File created successfully at: {REPO}/hello.txt "
            "(file state is current in your context — no need to Read it back)",
            truncated=False,
        ),
        entry("assistant_message", text="Wrote hello.txt"),
        entry("usage", input_tokens=220, output_tokens=50, cost_usd=0.00235),
    ]


def test_transcript_follow_up() -> None:
    assert normalise(transcript("follow_up.jsonl")) == [
        entry("session", session_id=SESSION, model="claude-opus-4-8"),
        entry("assistant_message", text="Still here: I wrote hello.txt before"),
        entry("usage", input_tokens=120, output_tokens=30, cost_usd=0.00135),
    ]


def test_transcript_unreachable() -> None:
    lines = transcript("unreachable.jsonl")
    assert normalise(lines) == [
        entry(
            "session",
            session_id="a06a5d5d-38c0-4076-840d-2f6fc2b22602",
            model="claude-opus-4-8[1m]",
        ),
        entry("retry", attempt=1, max_attempts=1, delay_s=0.5, message="unknown"),
        entry("error", message="API Error: Unable to connect to API (ConnectionRefused)"),
        entry("usage", input_tokens=0, output_tokens=0, cost_usd=0.0),
    ]


def test_transcript_refused_key() -> None:
    """A wrong key (401) with Paddock's retry limit: three retries said as such, then the
    reason once (the result repeats the assistant's error message)."""
    lines = transcript("refused_key.jsonl")
    entries = normalise(lines)
    retries = [e.payload for e in entries if e.kind is EntryKind.retry]
    assert [(r["attempt"], r["max_attempts"]) for r in retries] == [(1, 3), (2, 3), (3, 3)]
    assert {r["message"] for r in retries} == {"401 authentication_failed"}
    assert all(isinstance(r["delay_s"], float) for r in retries)
    assert [e.payload["message"] for e in entries if e.kind is EntryKind.error] == [
        "Invalid API key · Fix external API key"
    ]
    assert EntryKind.raw not in {e.kind for e in entries}


def test_transcript_background_task() -> None:
    """A shell command run in the background: its start and its end are entries of their own
    (they were kept raw), and the turn the end notice started is read like any other."""
    entries = normalise(transcript("background_task.jsonl"))
    tasks = [e.payload for e in entries if e.kind is EntryKind.background_task]
    assert [t["status"] for t in tasks] == ["started", "completed"]
    assert len({t["id"] for t in tasks}) == 1 and tasks[0]["description"] == "Run a command"
    assert "completed (exit code 0)" in tasks[1]["summary"]
    said = [e.payload["text"] for e in entries if e.kind is EntryKind.assistant_message]
    assert said == ["Started it", "The background job finished"]
    assert EntryKind.raw not in {e.kind for e in entries}
    # Each turn's own cost, not the run's running total again (0.00235 then 0.0037 in all).
    costs = [e.payload["cost_usd"] for e in entries if e.kind is EntryKind.usage]
    assert costs == [0.00235, 0.00135]


def test_retry_and_task_events_of_every_shape() -> None:
    events: list[dict[str, object]] = [
        {"type": "system", "subtype": "api_retry", "attempt": 2, "retry_delay_ms": 1234},
        {
            "type": "system",
            "subtype": "api_retry",
            "attempt": 1,
            "max_retries": 3,
            "error_status": 529,
            "error": "overloaded_error",
            "retry_delay_ms": None,
        },
        {
            "type": "system",
            "subtype": "task_started",
            "task_id": "t1",
            "description": "Explore",
            "task_type": "local_agent",
        },
        {
            "type": "system",
            "subtype": "task_progress",
            "task_id": "t1",
            "description": "Explore",
            "summary": "Reading files",
        },
        {
            "type": "system",
            "subtype": "task_updated",
            "task_id": "t1",
            "patch": {"status": "killed"},
        },
        {
            "type": "system",
            "subtype": "task_notification",
            "task_id": "t1",
            "status": "stopped",
            "summary": "Explore",
        },
    ]
    assert normalise([_line(e) for e in events]) == [
        entry("retry", attempt=2, max_attempts=None, delay_s=1.2, message="request failed"),
        entry("retry", attempt=1, max_attempts=3, delay_s=None, message="529 overloaded_error"),
        entry("background_task", id="t1", status="started", description="Explore", summary=""),
        entry(
            "background_task",
            id="t1",
            status="running",
            description="Explore",
            summary="Reading files",
        ),
        entry("background_task", id="t1", status="stopped", description="", summary="Explore"),
    ]


def _line(event: dict[str, object]) -> str:
    return json.dumps(event)


def test_tools_thinking_and_failures() -> None:
    big = "x" * (MAX_RESULT_CHARS + 5)
    tools = [
        ("Read", {"file_path": "/w/a.py"}, "read", ["/w/a.py"]),
        ("MultiEdit", {"file_path": "/w/a.py", "edits": []}, "edit", ["/w/a.py"]),
        ("Grep", {"pattern": "x", "path": "src"}, "search", ["src"]),
        ("WebFetch", {"url": "https://e.x"}, "web", []),
        ("NotebookEdit", {"notebook_path": "n.ipynb"}, "edit", ["n.ipynb"]),
        ("TodoWrite", {"todos": []}, "other", []),
    ]
    lines = [
        _line(
            {
                "type": "assistant",
                "message": {
                    "content": [
                        {"type": "thinking", "thinking": "hmm", "signature": "s"},
                        *(
                            {"type": "tool_use", "id": f"t{i}", "name": n, "input": inp}
                            for i, (n, inp, _, _) in enumerate(tools)
                        ),
                    ]
                },
            }
        ),
        _line(
            {
                "type": "user",
                "message": {
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "t0",
                            "is_error": True,
                            "content": [{"type": "text", "text": "no such file"}],
                        },
                        {"type": "tool_result", "tool_use_id": "t1", "content": big},
                    ]
                },
            }
        ),
        _line({"type": "result", "subtype": "error_max_turns", "is_error": True, "usage": {}}),
    ]
    entries = normalise(lines)
    assert entries[0] == entry("thinking", text="hmm")
    for (name, tool_input, action, paths), got in zip(tools, entries[1:7], strict=True):
        assert got.kind == EntryKind.tool_call
        assert (got.payload["tool"], got.payload["action"], got.payload["paths"]) == (
            name,
            action,
            paths,
        )
        assert got.payload["input"] == tool_input
    assert entries[7] == entry(
        "tool_result", id="t0", ok=False, output="no such file", truncated=False
    )
    assert entries[8].payload["truncated"] is True
    assert len(entries[8].payload["output"]) == MAX_RESULT_CHARS
    assert entries[9:] == [entry("error", message="error_max_turns")]  # no usage reported


@pytest.mark.parametrize(
    "line",
    [
        "not json at all",
        '{"type":"assistant","message":{"content":[{"type":"text","te',  # truncated
        '{"type":"assistant"}',  # no message
        '{"type":"assistant","message":{"content":[{"type":"mystery"}]}}',
        '{"type":"assistant","message":{"content":7}}',
        '{"type":"user","message":{"content":[null]}}',
        '{"type":"brand_new_event","x":1}',
        '{"type":"system","subtype":"hook_response"}',
        "[1, 2, 3]",
        '"a string"',
        "{{{",
    ],
)
def test_bad_lines_are_kept_raw(line: str) -> None:
    assert normalise([line]) == [raw(line)]


def test_blank_lines_are_skipped() -> None:
    assert normalise(["", "   ", "\n"]) == []


# --- real runs of the real CLI ------------------------------------------------------------


def cli() -> str:
    return installed_cli(ADAPTER)


def git_repo(path: Path) -> Path:
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def start(run: AgentRun, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        run.argv,
        env={"PATH": os.environ["PATH"], **run.env},  # never the host's real API keys
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


def write_then_say(conversation: Conversation) -> Reply:
    if conversation.tool_results == 0 and "hello.txt" in conversation.last_user_text:
        return WriteFile("hello.txt", "hi from claude-code\n")
    if conversation.tool_results == 0:
        return Say("Still here")
    return Say("Wrote hello.txt")


def test_live_write_then_resume(tmp_path: Path) -> None:
    executable = cli()
    repo = git_repo(tmp_path / "repo")
    with FakeModel(write_then_say, [AnthropicDialect()], str(repo)) as fake:
        ctx = TurnContext(
            prompt="Create hello.txt saying hi",
            worktree=repo,
            home=tmp_path / "home",
            executable=executable,
            variant=Variant(),
            credentials=Credentials("sk-fake", fake.url),
        )
        ADAPTER.prepare_home(ctx)
        done = start(ADAPTER.command(ctx), repo)
        assert done.returncode == 0, done.stderr
        assert (repo / "hello.txt").read_text() == "hi from claude-code\n"

        entries = normalise(done.stdout.splitlines())
        kinds = [e.kind for e in entries]
        sessions = [e for e in entries if e.kind == EntryKind.session]
        assert sessions and sessions[0].payload["session_id"]
        calls = [e for e in entries if e.kind == EntryKind.tool_call]
        assert len(calls) == 1
        assert calls[0].payload["action"] == "write"
        assert calls[0].payload["paths"] == [str(repo / "hello.txt")]
        results = [e for e in entries if e.kind == EntryKind.tool_result]
        assert results[0].payload["id"] == calls[0].payload["id"]
        assert results[0].payload["ok"] is True
        messages = [e.payload["text"] for e in entries if e.kind == EntryKind.assistant_message]
        assert messages[-1] == "Wrote hello.txt"
        assert EntryKind.usage in kinds and EntryKind.error not in kinds
        assert EntryKind.raw not in kinds

        posts_before = len(fake.posts("/v1/messages"))
        session_id = sessions[0].payload["session_id"]
        follow_up = TurnContext(
            prompt="--did it work?",  # a prompt that looks like a flag is still the prompt
            worktree=repo,
            home=ctx.home,
            executable=executable,
            variant=Variant(),
            credentials=ctx.credentials,
            resume=session_id,
        )
        ADAPTER.prepare_home(follow_up)
        again = start(ADAPTER.command(follow_up), repo)
        assert again.returncode == 0, again.stderr
        request = fake.posts("/v1/messages")[posts_before]
        sent = conversation(request.json())  # the earlier turn is in the history
        assert [t.role for t in sent.turns] == ["user", "assistant", "tool", "assistant", "user"]
        assert sent.mentions("Create hello.txt saying hi") and sent.mentions("hello.txt")
        assert sent.last_user_text == "--did it work?"
        resumed = normalise(again.stdout.splitlines())
        assert resumed[0].payload["session_id"] == session_id
        assert resumed[-2] == entry("assistant_message", text="Still here")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_live(
    tmp_path: Path, dialect: Any, script: Any = None
) -> tuple[subprocess.CompletedProcess[str], int]:
    """One first turn of the real CLI against `dialect`, with Paddock's env (no override); its
    output, and how many messages the model was asked for."""
    repo = git_repo(tmp_path / "repo")
    with FakeModel(script or write_then_say, [dialect], str(repo)) as fake:
        ctx = TurnContext(
            prompt="Create hello.txt saying hi",
            worktree=repo,
            home=tmp_path / "home",
            executable=cli(),
            variant=Variant(),
            credentials=Credentials("sk-wrong", fake.url),
        )
        ADAPTER.prepare_home(ctx)
        done = start(ADAPTER.command(ctx), repo)
        return done, len(fake.posts("/v1/messages"))


def test_live_refused_key_fails_after_a_few_retries(tmp_path: Path) -> None:
    """Claude Code's own default retried a 401 ten times (about three minutes)."""
    done, asked = run_live(tmp_path, RefusedKey())
    record("refused_key.jsonl", done.stdout)
    assert done.returncode == 1, done.stdout + done.stderr
    assert asked == 1 + MAX_RETRIES  # the first request, then its retries
    entries = normalise(done.stdout.splitlines())
    assert [e.payload["attempt"] for e in entries if e.kind is EntryKind.retry] == [1, 2, 3]
    errors = [e.payload["message"] for e in entries if e.kind is EntryKind.error]
    assert errors and errors[-1].startswith("Invalid API key")


def test_live_background_task(tmp_path: Path) -> None:
    def background(conversation: Conversation) -> Reply:
        if "<task-notification>" in conversation.last_user_text:
            return Say("The background job finished")
        if conversation.tool_results == 0:
            return RunShell("sleep 1; echo bg-done", background=True)
        return Say("Started it")

    done, _ = run_live(tmp_path, AnthropicDialect(), background)
    record("background_task.jsonl", done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    entries = normalise(done.stdout.splitlines())
    tasks = [e.payload for e in entries if e.kind is EntryKind.background_task]
    assert [t["status"] for t in tasks] == ["started", "completed"]
    assert EntryKind.raw not in {e.kind for e in entries}


def test_live_unreachable_model(tmp_path: Path) -> None:
    executable = cli()
    repo = git_repo(tmp_path / "repo")
    ctx = TurnContext(
        prompt="Create hello.txt saying hi",
        worktree=repo,
        home=tmp_path / "home",
        executable=executable,
        # Without this it retries ten times with backoff (minutes) before giving up.
        variant=Variant(env={"CLAUDE_CODE_MAX_RETRIES": "1"}),
        credentials=Credentials("sk-fake", f"http://127.0.0.1:{closed_port()}"),
    )
    ADAPTER.prepare_home(ctx)
    done = start(ADAPTER.command(ctx), repo)
    entries = normalise(done.stdout.splitlines())
    errors = [e.payload["message"] for e in entries if e.kind == EntryKind.error]
    assert done.returncode != 0
    assert errors and "API Error" in errors[0]
    assert not (repo / "hello.txt").exists()

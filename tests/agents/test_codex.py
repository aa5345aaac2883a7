"""The Codex adapter: its command line, its normaliser on recorded output, and real runs.

The transcripts in transcripts/codex/ are the real CLI's stdout from the live tests below; set
PADDOCK_RECORD_TRANSCRIPTS=1 to record them again (then update the expected entries).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from pathlib import Path

import pytest

from paddock.agents.base import Credentials, Permission, TurnContext, Variant
from paddock.agents.codex import ADAPTER, KEY_ENV, MAX_RETRIES, Codex
from paddock.domain.entries import (
    AgentEntry,
    Entry,
    EntryKind,
    ToolAction,
    error,
    raw,
    retry,
    session,
    text_entry,
    tool_call,
    tool_result,
    usage,
)
from paddock.runtime.entrypipe import EntrySink
from tests.agents.conftest import installed_cli
from tests.agents.dialects.openai_responses import OpenAIResponses, conversation, offered
from tests.agents.fake_model import Conversation, FakeModel, Reply, RunShell, Say, WriteFile

TRANSCRIPTS = Path(__file__).parent / "transcripts" / "codex"
RECORD = os.environ.get("PADDOCK_RECORD_TRANSCRIPTS") == "1"
TIMEOUT = 120
# No retries against the fake: a failure shows at once.
NO_RETRIES = (
    "-c",
    "model_providers.paddock.request_max_retries=0",
    "-c",
    "model_providers.paddock.stream_max_retries=0",
)


def normalise(lines: list[str]) -> list[Entry]:
    normaliser = ADAPTER.normaliser()
    entries = [e for line in lines for e in normaliser.feed(line)]
    return entries + normaliser.finish()


def transcript(name: str) -> list[str]:
    return (TRANSCRIPTS / name).read_text().splitlines()


def record(name: str, stdout: str) -> None:
    if RECORD:
        TRANSCRIPTS.mkdir(parents=True, exist_ok=True)
        (TRANSCRIPTS / name).write_text(stdout)


def ctx(tmp: Path, prompt: str = "go", **kwargs: object) -> TurnContext:
    values: dict[str, object] = {
        "prompt": prompt,
        "worktree": tmp / "repo",
        "home": tmp / "home",
        "executable": "/bin/codex",
        "variant": Variant(),
        "credentials": Credentials(),
    }
    values.update(kwargs)
    return TurnContext(**values)  # type: ignore[arg-type]


# --- command line -------------------------------------------------------------------------


def test_command_first_turn_with_fake_provider(tmp_path: Path) -> None:
    run = ADAPTER.command(
        ctx(
            tmp_path,
            "do it",
            variant=Variant(model="gpt-5.5", extra_args=("--foo",), env={"X": "1"}),
            credentials=Credentials(openai_api_key="sk-1", openai_base_url="http://h:1/v1"),
        )
    )
    assert run.argv[:4] == ["/bin/codex", "exec", "--json", "--skip-git-repo-check"]
    assert "--dangerously-bypass-approvals-and-sandbox" in run.argv
    assert run.argv[run.argv.index("-m") + 1] == "gpt-5.5"
    assert "model_provider=paddock" in run.argv
    provider = next(a for a in run.argv if a.startswith("model_providers.paddock="))
    assert 'base_url="http://h:1/v1"' in provider
    assert f'env_key="{KEY_ENV}"' in provider
    # The stall guard: bounded retries, and no endless wait for the network.
    assert f"request_max_retries={MAX_RETRIES},stream_max_retries={MAX_RETRIES}" in provider
    assert run.argv[run.argv.index("features.unbounded_connection_retries=false") - 1] == "-c"
    assert run.argv[-3:] == ["--foo", "--", "do it"]
    assert "resume" not in run.argv
    assert run.env == {
        "HOME": str(tmp_path / "home"),
        "CODEX_HOME": str(tmp_path / "home" / ".codex"),
        KEY_ENV: "sk-1",
        "X": "1",
    }
    assert run.stdin is None


def test_command_follow_up_and_permissions(tmp_path: Path) -> None:
    run = ADAPTER.command(ctx(tmp_path, "more", resume="thread-1"))
    assert run.argv[-4:] == ["resume", "thread-1", "--", "more"]
    assert "features.unbounded_connection_retries=false" in run.argv  # its own login too
    assert not any(a.startswith("model_provider") for a in run.argv)  # the CLI's own login
    plan = ADAPTER.command(ctx(tmp_path, variant=Variant(permission=Permission.plan))).argv
    assert 'sandbox_mode="read-only"' in plan
    assert "--dangerously-bypass-approvals-and-sandbox" not in plan
    ask = ADAPTER.command(ctx(tmp_path, variant=Variant(permission=Permission.ask))).argv
    assert 'sandbox_mode="workspace-write"' in ask


def test_prepare_home_is_idempotent(tmp_path: Path) -> None:
    context = ctx(tmp_path)
    ADAPTER.prepare_home(context)
    ADAPTER.prepare_home(context)
    assert (tmp_path / "home" / ".codex").is_dir()
    assert isinstance(ADAPTER, Codex)
    assert not ADAPTER.needs_command()


# --- normaliser on recorded output ------------------------------------------------------------


def test_normalises_first_turn() -> None:
    lines = transcript("first_turn.jsonl")
    thread = json.loads(lines[0])["thread_id"]
    path = json.loads(lines[2])["item"]["changes"][0]["path"]
    assert path.endswith("/hello.txt")
    changes = [{"path": path, "kind": "add"}]
    assert normalise(lines) == [
        session(thread),
        tool_call("item_0", "apply_patch", ToolAction.write, [path], {"changes": changes}),
        tool_result("item_0", True, f"add {path}"),
        text_entry(EntryKind.assistant_message, "Wrote hello.txt"),
        usage(220, 50, cumulative=True),
    ]


def test_normalises_follow_up_with_a_shell_command() -> None:
    lines = transcript("follow_up.jsonl")
    thread = json.loads(lines[0])["thread_id"]
    assert thread == json.loads(transcript("first_turn.jsonl")[0])["thread_id"]
    command = json.loads(lines[2])["item"]["command"]
    assert "cat hello.txt" in command
    assert normalise(lines) == [
        session(thread),
        tool_call("item_0", "shell", ToolAction.shell, [], {"command": command}),
        tool_result("item_0", True, "hi from codex\n"),
        text_entry(EntryKind.assistant_message, "hello.txt says: hi from codex"),
        # the thread's running total: 220 + 100 + 170 in, 50 + 20 + 40 out
        usage(490, 110, cumulative=True),
    ]


def test_normalises_unreachable_model() -> None:
    lines = transcript("unreachable.jsonl")
    entries = normalise(lines)
    assert entries[0] == session(json.loads(lines[0])["thread_id"])
    # Without a limit Codex waits for the network: a retry (counted here), not an error.
    assert entries[1:] == [retry(1, None, None, "Connection failed: error sending request")]


def test_normalises_a_model_it_gave_up_on() -> None:
    """Unreachable with Paddock's stall guard: retries counted out, then `turn.failed`."""
    lines = transcript("gave_up.jsonl")
    entries = normalise(lines)
    assert entries[0] == session(json.loads(lines[0])["thread_id"])
    errors = [e.payload["message"] for e in entries[1:]]
    kinds = [EntryKind.retry] * MAX_RETRIES + [EntryKind.error]
    assert [e.kind for e in entries[1:]] == kinds
    why = "Connection failed: error sending request"
    assert entries[1] == retry(1, MAX_RETRIES, None, why)  # "Reconnecting... 1/3 (…)"
    assert [e.payload["attempt"] for e in entries[1:-1]] == list(range(1, MAX_RETRIES + 1))
    assert errors[-1] == json.loads(lines[-1])["error"]["message"]  # said once, not twice
    assert errors[-1].startswith("Connection failed")
    assert entries[-1] == error(why)


def test_a_turn_that_reconnected_has_no_error() -> None:
    """Codex reconnected and then did its work: its "Reconnecting..." messages are retries,
    so nothing in the turn is an error a failed process could take as its reason."""
    events = [
        {"type": "thread.started", "thread_id": "t"},
        {"type": "turn.started"},
        {"type": "error", "message": "Reconnecting... 1/3 (stream disconnected before completion)"},
        {"type": "error", "message": "Reconnecting… 2/3"},
        {"type": "item.completed", "item": {"id": "m", "type": "agent_message", "text": "Done"}},
        {"type": "turn.completed", "usage": {"input_tokens": 5, "output_tokens": 2}},
    ]
    assert normalise([json.dumps(e) for e in events]) == [
        session("t"),
        retry(1, 3, None, "stream disconnected before completion"),
        retry(2, 3, None, "Reconnecting… 2/3"),
        text_entry(EntryKind.assistant_message, "Done"),
        usage(5, 2, cumulative=True),
    ]


@pytest.mark.anyio
async def test_the_process_reason_is_never_a_reconnect() -> None:
    """The entry sink's last error (what a failed process gives as its reason): none after
    reconnects alone, the final error once the retries ran out."""

    async def persist(batch: list[AgentEntry]) -> None:
        pass

    lines = transcript("gave_up.jsonl")
    reconnected = EntrySink("p1", ADAPTER.normaliser(), persist)
    reconnected.add(normalise(lines[:4]))  # three reconnects (then, say, the model answered)
    gave_up = EntrySink("p2", ADAPTER.normaliser(), persist)
    gave_up.add(normalise(lines))
    await reconnected.close()
    await gave_up.close()
    assert reconnected.last_error is None
    assert gave_up.last_error == "Connection failed: error sending request"


def test_normalises_api_failure() -> None:
    """The fake answers 500: Codex says so once as `error`, then `turn.failed` (one entry)."""
    lines = transcript("api_error.jsonl")
    message = json.loads(lines[2])["message"]
    assert json.loads(lines[3])["error"]["message"] == message
    assert normalise(lines) == [session(json.loads(lines[0])["thread_id"]), error(message)]


def test_normalises_other_items() -> None:
    events = [
        {"type": "item.completed", "item": {"id": "r", "type": "reasoning", "text": "hmm"}},
        {
            "type": "item.started",
            "item": {"id": "c", "type": "command_execution", "command": "false"},
        },
        {
            "type": "item.completed",
            "item": {
                "id": "c",
                "type": "command_execution",
                "command": "false",
                "aggregated_output": "x" * 30_000,
                "exit_code": 1,
                "status": "failed",
            },
        },
        {
            "type": "item.completed",
            "item": {
                "id": "e",
                "type": "file_change",
                "changes": [{"path": "a.py", "kind": "update"}, {"path": "b.py", "kind": "add"}],
                "status": "completed",
            },
        },
        {
            "type": "item.completed",
            "item": {
                "id": "m",
                "type": "mcp_tool_call",
                "server": "docs",
                "tool": "lookup",
                "arguments": {"q": 1},
                "result": {"content": []},
                "status": "completed",
            },
        },
        {"type": "item.completed", "item": {"id": "w", "type": "web_search", "query": "x"}},
        {"type": "turn.failed", "error": {"message": "quota exceeded"}},
    ]
    entries = normalise([json.dumps(e) for e in events])
    failed = tool_result("c", False, "x" * 30_000)
    assert failed.payload["truncated"] is True
    changes = events[3]["item"]["changes"]  # type: ignore[index]
    assert entries == [
        text_entry(EntryKind.thinking, "hmm"),
        tool_call("c", "shell", ToolAction.shell, [], {"command": "false"}),
        failed,
        tool_call("e", "apply_patch", ToolAction.edit, ["a.py", "b.py"], {"changes": changes}),
        tool_result("e", True, "update a.py\nadd b.py"),
        tool_call("m", "docs.lookup", ToolAction.other, [], {"q": 1}),
        tool_result("m", True, '{"content": []}'),
        tool_call("w", "web_search", ToolAction.web, [], {"query": "x"}),
        tool_result("w", True, ""),
        error("quota exceeded"),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "not json at all",
        '{"type":"item.completed","item":{"id":"x","type":"agent_me',  # truncated
        '{"type":"something.new","x":1}',
        "[1, 2, 3]",
        '{"type":"item.completed"}',
        '{"type":"item.completed","item":5}',
        '{"type":"item.completed","item":{"type":"agent_message"}}',
        '{"type":"item.completed","item":{"id":"z","type":"brand_new_item"}}',
        '{"type":"turn.completed","usage":"lots"}',
        "\x00\xff garbage",
    ],
)
def test_bad_lines_become_raw(line: str) -> None:
    assert normalise([line]) == [raw(line)]


def test_blank_lines_are_skipped() -> None:
    assert normalise(["", "  ", "\n"]) == []


# --- real runs against the fake model --------------------------------------------------------


def script(conv: Conversation) -> Reply:
    if conv.last_user_text.startswith("Show"):
        if conv.tool_results == 0:
            return RunShell("cat hello.txt")
        return Say("hello.txt says: hi from codex", input_tokens=170, output_tokens=40)
    if conv.tool_results == 0:
        return WriteFile("hello.txt", "hi from codex\n")
    return Say("Wrote hello.txt")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def turn(
    repo: Path, url: str, prompt: str, resume: str | None = None, model: str | None = None
) -> TurnContext:
    """A turn of the installed Codex; `model` None: the release's own default model (what
    Paddock's default variant runs)."""
    return TurnContext(
        prompt=prompt,
        worktree=repo,
        home=repo.parent / "home",
        executable=installed_cli(ADAPTER),
        variant=Variant(model=model, extra_args=NO_RETRIES),
        credentials=Credentials(openai_api_key="fake-key", openai_base_url=f"{url}/v1"),
        resume=resume,
    )


def run_turn(context: TurnContext) -> subprocess.CompletedProcess[str]:
    ADAPTER.prepare_home(context)
    run = ADAPTER.command(context)
    return subprocess.run(
        run.argv,
        env={"PATH": os.environ["PATH"], **run.env},
        cwd=context.worktree,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def tool_calls(fake: FakeModel) -> list[str]:
    """The names of the tools the model called, as the CLI sent them back in its history."""
    items = fake.posts("/responses")[-1].json()["input"]
    return [str(i["name"]) for i in items if i.get("type") in ("custom_tool_call", "function_call")]


# None: the release's default model, offered its tools through a JavaScript `exec` tool (an
# `additional_tools` input item); gpt-5.5: offered apply_patch and exec_command as `tools`.
@pytest.mark.parametrize("model", [None, "gpt-5.5"], ids=["default-model", "gpt-5.5"])
def test_live_write_then_follow_up(repo: Path, model: str | None) -> None:
    with FakeModel(script, [OpenAIResponses()], str(repo)) as fake:
        first = run_turn(turn(repo, fake.url, "Create hello.txt saying hi", model=model))
        assert first.returncode == 0, first.stderr
        if model is None:
            record("first_turn.jsonl", first.stdout)
        flat, code = offered(fake.posts("/responses")[0].json())
        assert (code, "apply_patch" in flat) == ((True, False) if model is None else (False, True))
        assert tool_calls(fake) == ["exec" if model is None else "apply_patch"]
        entries = normalise(first.stdout.splitlines())

        assert (repo / "hello.txt").read_text() == "hi from codex\n"
        sessions = [e for e in entries if e.kind is EntryKind.session]
        assert sessions and sessions[0].payload["session_id"]
        thread = sessions[0].payload["session_id"]
        call = next(e for e in entries if e.kind is EntryKind.tool_call)
        assert call.payload["action"] == "write"
        assert call.payload["paths"] == [str(repo / "hello.txt")]
        result = next(e for e in entries if e.kind is EntryKind.tool_result)
        assert result.payload["id"] == call.payload["id"] and result.payload["ok"]
        assert text_entry(EntryKind.assistant_message, "Wrote hello.txt") in entries
        assert any(e.kind is EntryKind.usage for e in entries)
        assert not any(e.kind in (EntryKind.raw, EntryKind.error) for e in entries)

        second = run_turn(turn(repo, fake.url, "Show me hello.txt", resume=thread, model=model))
        assert second.returncode == 0, second.stderr
        if model is None:
            record("follow_up.jsonl", second.stdout)
        assert tool_calls(fake)[-1] == ("exec" if model is None else "exec_command")
        history = conversation(fake.posts("/responses")[-1].json())
        assert history.mentions("Create hello.txt saying hi")
        assert history.mentions("Wrote hello.txt")
        later = normalise(second.stdout.splitlines())
        assert session(thread) in later
        assert text_entry(EntryKind.assistant_message, "hello.txt says: hi from codex") in later
        shell = next(e for e in later if e.kind is EntryKind.tool_result)
        assert shell.payload["output"] == "hi from codex\n"


def test_live_api_failure(repo: Path) -> None:
    def broken(conv: Conversation) -> Reply:
        raise RuntimeError("model down")  # the fake answers 500

    with FakeModel(broken, [OpenAIResponses()], str(repo)) as fake:
        done = run_turn(turn(repo, fake.url, "Create hello.txt"))
    record("api_error.jsonl", done.stdout)
    assert done.returncode != 0
    assert any(e.kind is EntryKind.error for e in normalise(done.stdout.splitlines()))


def test_live_unreachable_model(repo: Path) -> None:
    """A closed port, with Paddock's default retries: Codex counts its retries out and fails
    the turn by itself (without the stall guard it waits for the network forever)."""
    context = turn(repo, "http://127.0.0.1:9", "Create hello.txt")
    context = dataclasses.replace(context, variant=Variant())  # no NO_RETRIES
    done = run_turn(context)
    record("gave_up.jsonl", done.stdout)
    assert done.returncode == 1, done.stdout + done.stderr
    entries = normalise(done.stdout.splitlines())
    errors = [e.payload["message"] for e in entries if e.kind is EntryKind.error]
    assert errors and errors[-1].startswith("Connection failed")
    retries = [e.payload for e in entries if e.kind is EntryKind.retry]
    assert [r["attempt"] for r in retries] == list(range(1, MAX_RETRIES + 1))
    assert not any(m.startswith("Reconnecting") for m in errors), errors
    assert json.loads(done.stdout.splitlines()[-1])["type"] == "turn.failed"

"""Gemini CLI through its adapter: the normaliser on recorded transcripts of the real CLI, and
live runs of the real CLI against the fake model (a first turn that writes a file, a follow-up
that resumes its session, an unreachable model).

The transcripts in transcripts/gemini/ are what the live tests printed; re-record them with
`PADDOCK_RECORD_TRANSCRIPTS=1 pytest tests/agents/test_gemini.py -k live`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from paddock.agents.base import Credentials, Permission, TurnContext, Variant
from paddock.agents.gemini import ADAPTER, MAX_ATTEMPTS
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
from tests.agents.dialects.gemini import GeminiDialect, conversation
from tests.agents.fake_model import Conversation, FakeModel, Reply, Say, WriteFile

TRANSCRIPTS = Path(__file__).parent / "transcripts" / "gemini"
TIMEOUT = 120
FIRST_PROMPT = "Create hello.txt with a greeting"
FOLLOW_UP = "Follow-up: is hello.txt still there?"


def normalise(lines: list[str]) -> list[Entry]:
    normaliser = ADAPTER.normaliser()
    entries = [e for line in lines for e in normaliser.feed(line)]
    return entries + normaliser.finish()


def transcript(name: str) -> list[str]:
    return (TRANSCRIPTS / f"{name}.jsonl").read_text().splitlines()


# --- command line and home ---------------------------------------------------------------


def _ctx(tmp_path: Path, **kw: object) -> TurnContext:
    args: dict = {
        "prompt": "do it",
        "worktree": tmp_path / "repo",
        "home": tmp_path / "home",
        "executable": "/bin/gemini",
        "variant": Variant(),
        "credentials": Credentials(gemini_api_key="k", gemini_base_url="http://fake"),
    }
    args.update(kw)
    return TurnContext(**args)


def test_command_maps_variant_credentials_and_resume(tmp_path: Path) -> None:
    variant = Variant(
        model="gemini-2.5-pro", permission=Permission.plan, extra_args=("--debug",), env={"X": "1"}
    )
    run = ADAPTER.command(
        _ctx(tmp_path, prompt="-p looks like a flag", variant=variant, resume="abc-123")
    )
    assert run.argv == [
        "/bin/gemini",
        "--prompt=-p looks like a flag",
        "--output-format=stream-json",
        "--approval-mode=plan",
        "--skip-trust",
        "--model=gemini-2.5-pro",
        "--resume=abc-123",
        "--debug",
    ]
    assert run.env == {
        "HOME": str(tmp_path / "home"),
        "GEMINI_API_KEY": "k",
        "GOOGLE_GEMINI_BASE_URL": "http://fake",
        "X": "1",
    }
    assert run.stdin is None
    bare = ADAPTER.command(
        _ctx(tmp_path, credentials=Credentials(), variant=Variant(permission=Permission.ask))
    )
    assert "--approval-mode=default" in bare.argv
    assert bare.env == {"HOME": str(tmp_path / "home")}
    full = ADAPTER.command(_ctx(tmp_path))
    assert "--approval-mode=yolo" in full.argv


def test_prepare_home_is_idempotent_and_keeps_other_settings(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    settings = ctx.home / ".gemini" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text('{"ui": {"theme": "x"}, "general": {"vimMode": true}}')
    ADAPTER.prepare_home(ctx)
    first = settings.read_text()
    ADAPTER.prepare_home(ctx)
    assert settings.read_text() == first
    data = json.loads(first)
    assert data["security"]["auth"]["selectedType"] == "gemini-api-key"
    assert data["general"] == {
        "vimMode": True,
        "disableAutoUpdate": True,
        "maxAttempts": MAX_ATTEMPTS,
        "retryFetchErrors": False,  # the stall guard: a request that cannot be sent fails now
    }
    assert data["ui"] == {"theme": "x"}
    settings.write_text("{broken")
    ADAPTER.prepare_home(ctx)
    assert json.loads(settings.read_text())["telemetry"] == {"enabled": False}


# --- the normaliser on recorded transcripts ---------------------------------------------


def test_first_turn_transcript() -> None:
    lines = transcript("first_turn")
    sid = json.loads(lines[0])["session_id"]
    write = json.loads(next(line for line in lines if '"tool_use"' in line))
    path = write["parameters"]["file_path"]
    assert path.endswith("/hello.txt")
    assert normalise(lines) == [
        session(sid, "auto"),
        tool_call(
            write["tool_id"],
            "write_file",
            ToolAction.write,
            [path],
            {"file_path": path, "content": "hi from gemini\n"},
        ),
        tool_result(write["tool_id"], True, ""),
        text_entry(EntryKind.assistant_message, "Wrote hello.txt"),
        usage(230, 55),
    ]


def test_follow_up_transcript() -> None:
    lines = transcript("follow_up")
    first = json.loads(transcript("first_turn")[0])["session_id"]
    assert normalise(lines) == [
        session(first, "auto"),  # a resumed run keeps its session id
        text_entry(EntryKind.assistant_message, "Yes, hello.txt is there."),
        usage(130, 35),
    ]


def test_unreachable_transcript() -> None:
    lines = transcript("unreachable")
    sid = json.loads(lines[0])["session_id"]
    assert normalise(lines) == [
        session(sid, "gemini-2.5-flash"),
        error("[API Error: exception TypeError: fetch failed sending request]"),
        usage(0, 0),
    ]


def test_assistant_deltas_join_until_the_next_event() -> None:
    def msg(text: str) -> str:
        return json.dumps({"type": "message", "role": "assistant", "content": text, "delta": True})

    tool = json.dumps(
        {
            "type": "tool_use",
            "tool_name": "run_shell_command",
            "tool_id": "t1",
            "parameters": {"command": "ls"},
        }
    )
    failed = json.dumps(
        {
            "type": "tool_result",
            "tool_id": "t1",
            "status": "error",
            "output": "",
            "error": {"type": "X", "message": "denied"},
        }
    )
    long = json.dumps(
        {"type": "tool_result", "tool_id": "t2", "status": "success", "output": "x" * 25_000}
    )
    warn = json.dumps({"type": "error", "severity": "warning", "message": "slow down"})
    assert normalise(
        [msg("Let me "), msg("look."), tool, failed, msg("Done"), msg("."), warn, long, msg("tail")]
    ) == [
        text_entry(EntryKind.assistant_message, "Let me look."),
        tool_call("t1", "run_shell_command", ToolAction.shell, [], {"command": "ls"}),
        tool_result("t1", False, "denied"),
        text_entry(EntryKind.assistant_message, "Done."),
        error("warning: slow down"),
        tool_result("t2", True, "x" * 25_000),
        text_entry(EntryKind.assistant_message, "tail"),
    ]
    assert normalise([long])[0].payload["truncated"] is True


@pytest.mark.parametrize(
    ("tool", "params", "action", "paths"),
    [
        ("read_file", {"file_path": "a.py"}, ToolAction.read, ["a.py"]),
        ("read_many_files", {"include": ["a.py", "b/*.md"]}, ToolAction.read, ["a.py", "b/*.md"]),
        (
            "replace",
            {"file_path": "/w/a.py", "old_string": "a", "new_string": "b"},
            ToolAction.edit,
            ["/w/a.py"],
        ),
        ("glob", {"pattern": "*.py", "dir_path": "src"}, ToolAction.search, ["src"]),
        ("grep_search", {"pattern": "x"}, ToolAction.search, []),
        ("search_file_content", {"pattern": "x"}, ToolAction.search, []),
        ("web_fetch", {"prompt": "http://x"}, ToolAction.web, []),
        ("google_web_search", {"query": "x"}, ToolAction.web, []),
        ("write_todos", {"todos": []}, ToolAction.other, []),
    ],
)
def test_tool_actions(tool: str, params: dict, action: ToolAction, paths: list[str]) -> None:
    line = json.dumps({"type": "tool_use", "tool_name": tool, "tool_id": "i", "parameters": params})
    assert normalise([line]) == [tool_call("i", tool, action, paths, params)]


def test_bad_lines_become_raw_and_never_raise() -> None:
    cut = '{"type":"tool_use","tool_name":"write_fi'
    bad = [
        "Loaded cached credentials.",
        cut,
        "[1, 2]",
        '"just a string"',
        '{"type":"mystery","x":1}',
        '{"type":"init"}',
        '{"type":"tool_use","tool_name":3}',
        '{"type":"message","role":"system","content":"?"}',
        '{"type":"result","status":"success","stats":"none"}',
        "{]",
    ]
    entries = normalise(bad)
    assert entries[:8] == [raw(line) for line in bad[:8]]
    assert entries[8:] == [raw("{]")]  # a result without stats: nothing to report
    assert normalise(["", "   "]) == []
    deep = "[" * 100_000
    assert normalise([deep]) == [raw(deep)]
    # odd-but-valid shapes still give entries, never an exception
    odd = [
        '{"type":"tool_use","tool_name":"read_file","tool_id":1,"parameters":[1]}',
        '{"type":"tool_result","tool_id":"a","status":"success","output":{"k":1}}',
        '{"type":"result","status":"error","stats":{"input_tokens":"x","output_tokens":true}}',
    ]
    assert normalise(odd) == [
        tool_call("1", "read_file", ToolAction.read, [], [1]),
        tool_result("a", True, '{"k": 1}'),
        error("gemini ended with error"),
        usage(0, 0),
    ]


# --- live runs of the real CLI against the fake model ----------------------------------


def _script(conversation: Conversation) -> Reply:
    if conversation.last_user_text.startswith("Follow-up"):
        return Say("Yes, hello.txt is there.")
    if conversation.tool_results == 0:
        return WriteFile("hello.txt", "hi from gemini\n")
    return Say("Wrote hello.txt", input_tokens=120, output_tokens=30)


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def _run(ctx: TurnContext, record: str | None = None) -> tuple[int, list[str], list[Entry]]:
    ADAPTER.prepare_home(ctx)
    run = ADAPTER.command(ctx)
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
    lines = done.stdout.splitlines()
    if record and os.environ.get("PADDOCK_RECORD_TRANSCRIPTS"):
        TRANSCRIPTS.mkdir(parents=True, exist_ok=True)
        (TRANSCRIPTS / f"{record}.jsonl").write_text(done.stdout)
    return done.returncode, lines, normalise(lines)


def _kinds(entries: list[Entry], kind: EntryKind) -> list[dict]:
    return [e.payload for e in entries if e.kind == kind]


def test_live_first_turn_writes_a_file_then_resumes(tmp_path: Path) -> None:
    executable = installed_cli(ADAPTER)
    repo = _repo(tmp_path)
    with FakeModel(_script, [GeminiDialect()], root=str(repo)) as fake:
        creds = Credentials(gemini_api_key="fake-key", gemini_base_url=fake.url)
        ctx = TurnContext(FIRST_PROMPT, repo, tmp_path / "home", executable, Variant(), creds)
        code, lines, entries = _run(ctx, record="first_turn")
        assert code == 0, lines
        assert (repo / "hello.txt").read_text() == "hi from gemini\n"
        [started] = _kinds(entries, EntryKind.session)
        assert started["session_id"]
        [call] = _kinds(entries, EntryKind.tool_call)
        assert call["action"] == "write" and call["paths"] == [str(repo / "hello.txt")]
        [result] = _kinds(entries, EntryKind.tool_result)
        assert result["id"] == call["id"] and result["ok"] is True
        assert _kinds(entries, EntryKind.assistant_message) == [{"text": "Wrote hello.txt"}]
        [spent] = _kinds(entries, EntryKind.usage)
        assert spent["input_tokens"] > 0 and spent["output_tokens"] > 0
        assert not _kinds(entries, EntryKind.error) and not _kinds(entries, EntryKind.raw)

        before = len(fake.posts("streamGenerateContent"))
        follow = TurnContext(
            FOLLOW_UP, repo, ctx.home, executable, Variant(), creds, resume=started["session_id"]
        )
        code, lines, entries = _run(follow, record="follow_up")
        assert code == 0, lines
        requests = fake.posts("streamGenerateContent")[before:]
        assert requests
        history = conversation(requests[0].json())
        assert history.last_user_text == FOLLOW_UP
        assert history.mentions(FIRST_PROMPT) and history.mentions("hello.txt")
        assert _kinds(entries, EntryKind.session)[0]["session_id"] == started["session_id"]
        assert _kinds(entries, EntryKind.assistant_message) == [
            {"text": "Yes, hello.txt is there."}
        ]


def test_live_unreachable_model_fails_fast_with_an_error(tmp_path: Path) -> None:
    executable = installed_cli(ADAPTER)
    repo = _repo(tmp_path)
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    creds = Credentials(gemini_api_key="fake-key", gemini_base_url=f"http://127.0.0.1:{port}")
    # An explicit model skips the routing classifier (which retries on its own first).
    variant = Variant(model="gemini-2.5-flash")
    ctx = TurnContext("hi", repo, tmp_path / "home", executable, variant, creds)
    code, lines, entries = _run(ctx, record="unreachable")
    assert code != 0
    assert _kinds(entries, EntryKind.error), lines


@pytest.mark.parametrize("permission", [Permission.plan, Permission.ask])
def test_live_plan_and_ask_refuse_writes(tmp_path: Path, permission: Permission) -> None:
    executable = installed_cli(ADAPTER)
    repo = _repo(tmp_path)
    with FakeModel(_script, [GeminiDialect()], root=str(repo)) as fake:
        creds = Credentials(gemini_api_key="fake-key", gemini_base_url=fake.url)
        variant = Variant(permission=permission)
        ctx = TurnContext(FIRST_PROMPT, repo, tmp_path / "home", executable, variant, creds)
        code, lines, entries = _run(ctx)
    assert code == 0, lines
    assert not (repo / "hello.txt").exists()
    [result] = _kinds(entries, EntryKind.tool_result)
    assert result["ok"] is False and result["output"]

"""The OpenCode adapter: its command line, its normaliser on recorded output, and real runs.

The transcripts in transcripts/opencode/ are the stdout of the real CLI (opencode-ai 1.18.33) in
the live tests below, against the fake OpenAI Chat Completions API; set
PADDOCK_RECORD_TRANSCRIPTS=1 to record them again (then update the expected entries).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

import pytest

from paddock.agents.base import Credentials, Permission, TurnContext, Variant
from paddock.agents.opencode import (
    ADAPTER,
    ASK_PERMISSION,
    CONFIG,
    DEFAULT_MODEL,
    KEY_ENV,
    OpenCode,
)
from paddock.agents.registry import BUILT_IN
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
from tests.agents.fake_model import (
    Conversation,
    FakeModel,
    RecordedRequest,
    Reply,
    Response,
    RunShell,
    Say,
    Script,
    WriteFile,
)

TRANSCRIPTS = Path(__file__).parent / "transcripts" / "opencode"
RECORD = os.environ.get("PADDOCK_RECORD_TRANSCRIPTS") == "1"
TIMEOUT = 180  # a watchdog only: an unreachable model takes OpenCode about a minute
MODEL = "fake-model"


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
        "executable": "/bin/opencode",
        "variant": Variant(),
        "credentials": Credentials(),
    }
    values.update(kwargs)
    return TurnContext(**values)  # type: ignore[arg-type]


# --- command line and HOME ----------------------------------------------------------------


def test_command_first_turn_with_custom_provider(tmp_path: Path) -> None:
    run = ADAPTER.command(
        ctx(
            tmp_path,
            '-create  hello.txt saying "hi"\nplease',
            variant=Variant(model="gpt-x", extra_args=("--foo",), env={"X": "1"}),
            credentials=Credentials(openai_api_key="sk-1", openai_base_url="http://h:1/v1"),
        )
    )
    assert run.argv == [
        "/bin/opencode",
        "run",
        "--format=json",
        "--thinking",
        "--print-logs",
        "--log-level=ERROR",
        "--model=paddock/gpt-x",
        "--auto",
        '--title=-create hello.txt saying "hi" please',
        "--foo",
    ]
    assert run.stdin == b'-create  hello.txt saying "hi"\nplease'  # exactly, on stdin
    home = tmp_path / "home"
    assert run.env == {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PWD": str(tmp_path / "repo"),
        "OPENCODE_DISABLE_AUTOUPDATE": "1",
        "OPENCODE_DISABLE_SHARE": "1",
        "OPENCODE_DISABLE_MODELS_FETCH": "1",
        "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
        KEY_ENV: "sk-1",
        "X": "1",
    }


def test_command_follow_up_and_permissions(tmp_path: Path) -> None:
    run = ADAPTER.command(ctx(tmp_path, "more", resume="ses_1"))
    assert "--session=ses_1" in run.argv
    assert not any(a.startswith("--title") for a in run.argv)  # the session has its title
    assert not any(a.startswith("--model") for a in run.argv)  # OpenCode's own default
    plan = ADAPTER.command(ctx(tmp_path, variant=Variant(permission=Permission.plan)))
    assert "--agent=plan" in plan.argv and "--auto" not in plan.argv
    assert "OPENCODE_PERMISSION" not in plan.env
    ask = ADAPTER.command(ctx(tmp_path, variant=Variant(permission=Permission.ask)))
    assert "--auto" not in ask.argv and "--agent=plan" not in ask.argv
    assert json.loads(ask.env["OPENCODE_PERMISSION"]) == ASK_PERMISSION
    assert ASK_PERMISSION["edit"] == ASK_PERMISSION["bash"] == "ask"


@pytest.mark.parametrize(
    ("model", "credentials", "expected"),
    [
        (None, Credentials(openai_base_url="http://h/v1"), f"paddock/{DEFAULT_MODEL}"),
        ("m", Credentials(openai_base_url="http://h/v1"), "paddock/m"),
        ("gpt-5", Credentials(openai_api_key="k"), "openai/gpt-5"),
        ("sonnet", Credentials(anthropic_api_key="k"), "anthropic/sonnet"),
        ("gemini-2.5-pro", Credentials(gemini_api_key="k"), "google/gemini-2.5-pro"),
        ("openrouter/x/y", Credentials(openai_base_url="http://h/v1"), "openrouter/x/y"),
        (None, Credentials(openai_api_key="k"), None),
    ],
)
def test_model_names(
    tmp_path: Path, model: str | None, credentials: Credentials, expected: str | None
) -> None:
    run = ADAPTER.command(ctx(tmp_path, variant=Variant(model=model), credentials=credentials))
    models = [a.removeprefix("--model=") for a in run.argv if a.startswith("--model=")]
    assert models == ([expected] if expected else [])


def test_keys_go_to_the_providers_env(tmp_path: Path) -> None:
    credentials = Credentials(openai_api_key="o", anthropic_api_key="a", gemini_api_key="g")
    env = ADAPTER.command(ctx(tmp_path, credentials=credentials)).env
    assert env["OPENAI_API_KEY"] == "o" and KEY_ENV not in env
    assert env["ANTHROPIC_API_KEY"] == "a"
    assert env["GOOGLE_GENERATIVE_AI_API_KEY"] == "g"


def test_prepare_home_writes_config_without_the_key(tmp_path: Path) -> None:
    credentials = Credentials(
        openai_api_key="sk-secret",
        openai_base_url="http://h:1/v1",
        anthropic_base_url="http://a:2",
    )
    context = ctx(tmp_path, variant=Variant(model="m1"), credentials=credentials)
    path = tmp_path / "home" / CONFIG
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"theme": "x", "provider": {"paddock": {"models": {"old": {}}}}}))
    ADAPTER.prepare_home(context)
    config = json.loads(path.read_text())
    assert config["theme"] == "x"  # what was there is kept
    assert config["autoupdate"] is False and config["share"] == "disabled"
    assert config["snapshot"] is False
    paddock = config["provider"]["paddock"]
    assert paddock["npm"] == "@ai-sdk/openai-compatible"
    assert paddock["options"] == {"baseURL": "http://h:1/v1", "apiKey": f"{{env:{KEY_ENV}}}"}
    assert set(paddock["models"]) == {"old", "m1"}
    assert config["provider"]["anthropic"] == {"options": {"baseURL": "http://a:2"}}
    assert "sk-secret" not in path.read_text()
    lock = json.loads((path.parent / "package-lock.json").read_text())
    assert "@opencode-ai/plugin" in lock["packages"][""]["dependencies"]
    assert (path.parent / "node_modules").is_dir()
    before = path.stat().st_mtime_ns
    ADAPTER.prepare_home(context)  # idempotent: nothing to change, nothing written
    assert path.stat().st_mtime_ns == before
    assert isinstance(ADAPTER, OpenCode) and not ADAPTER.needs_command()


def test_is_a_built_in_profile() -> None:
    assert ADAPTER in BUILT_IN
    assert ADAPTER.package is not None and ADAPTER.package.spec == "opencode-ai"
    assert ADAPTER.program == "opencode"


# --- normaliser on recorded output ------------------------------------------------------------


def _event(lines: list[str], index: int) -> dict[str, object]:
    value = json.loads(lines[index])
    assert isinstance(value, dict)
    return value


def test_normalises_first_turn() -> None:
    lines = transcript("first_turn.jsonl")
    sid = str(_event(lines, 0)["sessionID"])
    write = json.loads(lines[1])["part"]
    path = write["state"]["input"]["filePath"]
    assert path.endswith("/repo/hello.txt")
    assert normalise(lines) == [
        session(sid),
        tool_call(
            write["callID"],
            "write",
            ToolAction.write,
            [path],
            {"filePath": path, "content": "hi from opencode\n"},
        ),
        tool_result(write["callID"], True, "Wrote file successfully."),
        usage(100, 20),
        text_entry(EntryKind.assistant_message, "Wrote hello.txt"),
        usage(220, 50),
    ]


def test_normalises_follow_up_with_a_shell_command() -> None:
    lines = transcript("follow_up.jsonl")
    sid = str(_event(lines, 0)["sessionID"])
    assert sid == _event(transcript("first_turn.jsonl"), 0)["sessionID"]
    call_id = json.loads(lines[1])["part"]["callID"]
    assert normalise(lines) == [
        session(sid),
        tool_call(call_id, "bash", ToolAction.shell, [], {"command": "cat hello.txt"}),
        tool_result(call_id, True, "hi from opencode\n"),
        usage(100, 20),
        text_entry(EntryKind.assistant_message, "hello.txt says: hi from opencode"),
        usage(170, 40),
    ]


def test_normalises_unreachable_model() -> None:
    lines = transcript("unreachable.jsonl")
    assert normalise(lines) == [
        session(str(_event(lines, 0)["sessionID"])),
        error("Cannot connect to API: Unable to connect. Is the computer able to access the url?"),
    ]


def test_normalises_api_error() -> None:
    lines = transcript("api_error.jsonl")
    entries = normalise(lines)
    assert entries[0] == session(str(_event(lines, 0)["sessionID"]))
    assert entries[-1].kind is EntryKind.error
    assert "invalid api key" in entries[-1].payload["message"]


def test_normalises_a_refused_edit() -> None:
    """`ask`: OpenCode asks for the edit, `run` rejects it; the tool call failed."""
    lines = transcript("ask_refused.jsonl")
    entries = normalise(lines)
    call = next(e for e in entries if e.kind is EntryKind.tool_call)
    assert call.payload["tool"] == "write" and call.payload["action"] == "write"
    result = next(e for e in entries if e.kind is EntryKind.tool_result)
    assert result.payload["id"] == call.payload["id"]
    assert result.payload["ok"] is False
    assert "rejected permission" in result.payload["output"]


def test_normalises_other_events() -> None:
    sid = {"sessionID": "ses_9"}
    events = [
        {"type": "reasoning", **sid, "part": {"type": "reasoning", "text": "hmm"}},
        {"type": "text", **sid, "part": {"type": "text", "text": "  "}},  # nothing said
        {
            "type": "tool_use",
            **sid,
            "part": {
                "tool": "edit",
                "callID": "c1",
                "state": {
                    "status": "error",
                    "input": {"filePath": "/r/a.py", "oldString": "x", "newString": "y"},
                    "error": "oldString not found",
                },
            },
        },
        {
            "type": "tool_use",
            **sid,
            "part": {
                "tool": "grep",
                "callID": "c2",
                "state": {"status": "completed", "input": {"pattern": "x", "path": "/r"}},
            },
        },
        {
            "type": "tool_use",
            **sid,
            "part": {
                "tool": "invalid",
                "callID": "c3",
                "state": {"status": "completed", "input": {"tool": "nope"}, "output": "bad"},
            },
        },
        {
            "type": "tool_use",
            **sid,
            "part": {
                "tool": "mcp_docs",
                "callID": "c4",
                "state": {"status": "completed", "input": {}, "output": "x" * 30_000},
            },
        },
        {
            "type": "step_finish",
            **sid,
            "part": {
                "tokens": {"input": 10, "output": 5, "reasoning": 2, "cache": {"read": 3}},
                "cost": 0.0125,
            },
        },
        {"type": "error", **sid, "error": {"name": "ProviderAuthError"}},
        {"type": "error", **sid, "error": {"name": "X", "data": {"message": "quota exceeded"}}},
        {"type": "done", **sid, "reason": "idle", "rejected": ["edit"]},
    ]
    entries = normalise([json.dumps(e) for e in events])
    long_result = tool_result("c4", True, "x" * 30_000)
    assert long_result.payload["truncated"] is True
    edit_input = events[2]["part"]["state"]["input"]  # type: ignore[index]
    assert entries == [
        session("ses_9"),
        text_entry(EntryKind.thinking, "hmm"),
        tool_call("c1", "edit", ToolAction.edit, ["/r/a.py"], edit_input),
        tool_result("c1", False, "oldString not found"),
        tool_call("c2", "grep", ToolAction.search, ["/r"], {"pattern": "x", "path": "/r"}),
        tool_result("c2", True, ""),
        tool_call("c3", "invalid", ToolAction.other, [], {"tool": "nope"}),
        tool_result("c3", False, "bad"),
        tool_call("c4", "mcp_docs", ToolAction.other, [], {}),
        long_result,
        usage(13, 7, 0.0125),
        error("ProviderAuthError"),
        error("quota exceeded"),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "not json at all",
        '{"type":"tool_use","sessionID":"ses_1","part":{"type":"tool","tool":"wri',  # cut
        '{"type":"something_new","part":{}}',
        "[1, 2, 3]",
        '"just a string"',
        '{"type":"text"}',
        '{"type":"text","part":{"type":"text"}}',
        '{"type":"tool_use","part":{"tool":"bash","state":"done"}}',
        '{"type":"tool_use","part":{"callID":"x"}}',
        '{"type":"step_finish","part":5}',
        "\x00\xff garbage",
        "[" * 100_000,  # nested too deep for the parser
    ],
)
def test_bad_lines_become_raw(line: str) -> None:
    assert normalise([line]) == [raw(line)]


def test_recorded_lines_cut_short_become_raw() -> None:
    """Every event of a real run, cut anywhere: kept raw, never a crash, no session lost."""
    for line in transcript("first_turn.jsonl"):
        for end in range(1, len(line), 7):
            assert normalise([line[:end]]) == [raw(line[:end])]


def test_blank_lines_are_skipped_and_session_is_said_once() -> None:
    lines = transcript("first_turn.jsonl")
    entries = normalise(["", "  ", *lines, *lines])
    assert [e for e in entries if e.kind is EntryKind.session] == [entries[0]]


def test_a_step_without_token_counts_has_no_usage() -> None:
    line = json.dumps({"type": "step_finish", "sessionID": "s", "part": {"tokens": None}})
    assert normalise([line]) == [session("s")]


# --- real runs against the fake model --------------------------------------------------------


def script(conv: Conversation) -> Reply:
    if conv.last_user_text.startswith("Show"):
        if conv.tool_results == 0:
            return RunShell("cat hello.txt")
        return Say("hello.txt says: hi from opencode", input_tokens=170, output_tokens=40)
    if conv.tool_results == 0:
        return WriteFile("hello.txt", "hi from opencode\n")
    return Say("Wrote hello.txt", input_tokens=220, output_tokens=50)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def turn(
    repo: Path,
    url: str,
    prompt: str,
    resume: str | None = None,
    permission: Permission = Permission.full,
) -> TurnContext:
    return TurnContext(
        prompt=prompt,
        worktree=repo,
        home=repo.parent / "home",
        executable=installed_cli(ADAPTER),
        variant=Variant(model=MODEL, permission=permission),
        credentials=Credentials(openai_api_key="fake-key", openai_base_url=f"{url}/v1"),
        resume=resume,
    )


def run_turn(context: TurnContext) -> subprocess.CompletedProcess[str]:
    ADAPTER.prepare_home(context)
    run = ADAPTER.command(context)
    # The server's own working directory and PWD, as Paddock's engine would pass them on: the
    # adapter's PWD must win (OpenCode takes its project directory from PWD).
    return subprocess.run(
        run.argv,
        env={"PATH": os.environ["PATH"], "PWD": "/", **run.env},
        cwd=context.worktree,
        input=(run.stdin or b"").decode(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def test_live_write_then_follow_up(repo: Path) -> None:
    with FakeModel(script, [OpenAIChat()], str(repo)) as fake:
        first = run_turn(turn(repo, fake.url, "Create hello.txt saying hi"))
        assert first.returncode == 0, first.stderr
        record("first_turn.jsonl", first.stdout)
        entries = normalise(first.stdout.splitlines())

        assert (repo / "hello.txt").read_text() == "hi from opencode\n"
        sessions = [e for e in entries if e.kind is EntryKind.session]
        assert len(sessions) == 1 and sessions[0].payload["session_id"].startswith("ses_")
        sid = sessions[0].payload["session_id"]
        call = next(e for e in entries if e.kind is EntryKind.tool_call)
        assert call.payload["action"] == "write"
        assert call.payload["paths"] == [str(repo / "hello.txt")]
        result = next(e for e in entries if e.kind is EntryKind.tool_result)
        assert result.payload["id"] == call.payload["id"] and result.payload["ok"]
        assert text_entry(EntryKind.assistant_message, "Wrote hello.txt") in entries
        assert usage(220, 50) in entries
        assert not any(e.kind in (EntryKind.raw, EntryKind.error) for e in entries)
        # The prompt arrived as it was given (on stdin), and no model call named the session.
        requests = fake.posts("/chat/completions")
        assert conversation(requests[0].json()).last_user_text == "Create hello.txt saying hi"
        assert all(r.json().get("tools") for r in requests)
        assert requests[0].headers.get("Authorization") == "Bearer fake-key"

        second = run_turn(turn(repo, fake.url, "Show me hello.txt", resume=sid))
        assert second.returncode == 0, second.stderr
        record("follow_up.jsonl", second.stdout)
        history = conversation(fake.posts("/chat/completions")[-1].json())
        assert history.mentions("Create hello.txt saying hi")
        assert history.mentions("Wrote hello.txt")
        later = normalise(second.stdout.splitlines())
        assert later[0] == session(sid)
        assert text_entry(EntryKind.assistant_message, "hello.txt says: hi from opencode") in later
        shell = next(e for e in later if e.kind is EntryKind.tool_result)
        assert shell.payload["output"] == "hi from opencode\n"
    # Nothing of OpenCode's in the worktree: its state is in the run's HOME.
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, check=True
    )
    assert status.stdout.split() == ["??", "hello.txt"]


@pytest.mark.parametrize(
    ("permission", "name"),
    [(Permission.ask, "ask_refused"), (Permission.plan, "")],
    ids=["ask", "plan"],
)
def test_live_ask_and_plan_change_nothing(repo: Path, permission: Permission, name: str) -> None:
    with FakeModel(script, [OpenAIChat()], str(repo)) as fake:
        done = run_turn(turn(repo, fake.url, "Create hello.txt", permission=permission))
    assert done.returncode == 0, done.stderr
    if name:
        record(f"{name}.jsonl", done.stdout)
    assert not (repo / "hello.txt").exists()
    entries = normalise(done.stdout.splitlines())
    result = next(e for e in entries if e.kind is EntryKind.tool_result)
    assert result.payload["ok"] is False


class Refusing(OpenAIChat):
    """The API refuses the key: a 401, which OpenCode does not retry."""

    def respond(self, request: RecordedRequest, script: Script, root: str) -> Response:
        body = {"error": {"message": "invalid api key", "type": "invalid_request_error"}}
        return Response.json(body, 401)


def test_live_api_error(repo: Path) -> None:
    with FakeModel(script, [Refusing()], str(repo)) as fake:
        done = run_turn(turn(repo, fake.url, "Create hello.txt"))
        assert len(fake.posts("/chat/completions")) == 1  # not retried
    record("api_error.jsonl", done.stdout)
    assert done.returncode == 1
    errors = [e for e in normalise(done.stdout.splitlines()) if e.kind is EntryKind.error]
    assert errors and "invalid api key" in errors[-1].payload["message"]


def test_live_unreachable_model(repo: Path) -> None:
    """A closed port: OpenCode retries (five times, about a minute: not configurable), then
    fails the turn by itself, saying why; each failed attempt is on stderr meanwhile."""
    done = run_turn(turn(repo, "http://127.0.0.1:9", "Create hello.txt"))
    record("unreachable.jsonl", done.stdout)
    assert done.returncode == 1
    entries = normalise(done.stdout.splitlines())
    assert entries[-1].kind is EntryKind.error
    assert "Cannot connect to API" in entries[-1].payload["message"]
    assert "stream error" in done.stderr


def test_live_interrupt_stops_a_waiting_turn(repo: Path) -> None:
    """A model that never answers: the adapter's interrupt ends the CLI."""
    asked, release = threading.Event(), threading.Event()

    def hanging(conv: Conversation) -> Reply:
        asked.set()
        release.wait(TIMEOUT)
        return Say("too late")

    with FakeModel(hanging, [OpenAIChat()], str(repo)) as fake:
        context = turn(repo, fake.url, "Create hello.txt")
        ADAPTER.prepare_home(context)
        run = ADAPTER.command(context)
        proc = subprocess.Popen(
            run.argv,
            env={"PATH": os.environ["PATH"], **run.env},
            cwd=repo,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert proc.stdin is not None
            proc.stdin.write(run.stdin or b"")
            proc.stdin.close()
            assert asked.wait(TIMEOUT), "the model was never asked"
            proc.send_signal(ADAPTER.interrupt)
            code = proc.wait(timeout=TIMEOUT)
        finally:
            release.set()
            proc.kill()
            proc.wait()
    assert code != 0
    assert not (repo / "hello.txt").exists()

"""The Aider adapter: its command line, its normaliser on recorded output, and real runs.

Aider prints plain text, so the transcripts in transcripts/aider/ hold one JSON string per
stdout line of the real CLI (from the live tests below); set PADDOCK_RECORD_TRANSCRIPTS=1 to
record them again (then update the expected entries).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paddock.agents.aider import ADAPTER, MESSAGE_FILE, REQUEST_TIMEOUT, Aider
from paddock.agents.aider_guard import GUARD, guard
from paddock.agents.aider_home import AgentSetupFailed, mark_quotes
from paddock.agents.aider_output import CHAT_HISTORY
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
    assert run.argv[:4] == [sys.executable, "-m", GUARD, "aider"]  # Aider under its guard
    # The prompt is in a file prepare_home writes, never on the command line (Aider quotes its
    # command line into the chat history, and a multi-line prompt came back as the model's).
    message = tmp_path / "home" / ".aider" / MESSAGE_FILE
    assert run.argv[-2:] == ["--message-file", str(message)]
    assert "do it" not in run.argv and "--message" not in run.argv
    assert run.argv[run.argv.index("--timeout") + 1] == str(REQUEST_TIMEOUT)
    assert run.argv[run.argv.index("--model") + 1] == "openai/gpt-x"  # sent to the base URL
    assert "--yes-always" in run.argv and "--no-pretty" in run.argv
    assert "--restore-chat-history" not in run.argv
    assert run.argv[run.argv.index("--chat-history-file") + 1] == str(
        tmp_path / "home" / ".aider" / CHAT_HISTORY
    )
    assert run.argv.index("--map-tokens") < run.argv.index("--message-file")
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
    os.utime(prices, (0, 0))  # stale: Aider would fetch it again
    ADAPTER.prepare_home(ctx)
    assert prices.stat().st_mtime > 0  # written again, although it holds the same


def test_prepare_home_never_writes_through_a_hard_link_in_home(tmp_path: Path) -> None:
    """A stale price cache was rewritten in place: a hard link the agent made there to a file
    it could name would have had that file's content replaced by the server."""
    host_file = tmp_path / "host-owned.json"
    host_file.write_text('{"host": "secret"}\n')
    os.utime(host_file, (0, 0))  # stale, as the cache would be
    prices = tmp_path / "home" / ".aider" / "caches" / "model_prices_and_context_window.json"
    prices.parent.mkdir(parents=True)
    os.link(host_file, prices)

    ADAPTER.prepare_home(context(tmp_path, "p", ""))

    assert host_file.read_text() == '{"host": "secret"}\n'
    assert json.loads(prices.read_text()) != {"host": "secret"}
    assert prices.stat().st_ino != host_file.stat().st_ino


def test_prepare_home_writes_nothing_where_the_worktrees_git_file_points(tmp_path: Path) -> None:
    """The worktree is the agent's, its `.git` file too. Paddock once asked git (in the
    worktree) where the repository's `info/exclude` was and appended to it: an agent that
    pointed `.git` at a folder it made, with `info` a link to a host folder, had the server
    (as root) create or append to a file there. Now nothing is written into any repository."""
    victim_dir = tmp_path / "host-dir"
    victim_dir.mkdir()
    victim = tmp_path / "host-file"
    victim.write_text("precious\n")
    worktree = tmp_path / "repo"
    planted = worktree / ".planted"
    subprocess.run(["git", "init", "-q", "--bare", str(planted)], check=True)
    shutil.rmtree(planted / "info")
    (planted / "info").symlink_to(victim_dir)
    (worktree / ".git").write_text(f"gitdir: {planted}\n")
    linked = tmp_path / "other"  # the next try: `info/exclude` itself a link to a host file
    subprocess.run(["git", "init", "-q", "--bare", str(linked / "g")], check=True)
    (linked / "g" / "info" / "exclude").unlink()
    (linked / "g" / "info" / "exclude").symlink_to(victim)
    (linked / "repo").mkdir()
    (linked / "repo" / ".git").write_text(f"gitdir: {linked / 'g'}\n")

    ADAPTER.prepare_home(context(tmp_path, "p", ""))
    ADAPTER.prepare_home(context(linked, "p", ""))

    assert list(victim_dir.iterdir()) == []
    assert victim.read_text() == "precious\n"


def test_prepare_home_says_when_git_fails(tmp_path: Path) -> None:
    """A git that cannot set the identity fails the turn's start with its reason."""
    (tmp_path / "home" / ".gitconfig").mkdir(parents=True)  # a folder where the file goes
    with pytest.raises(AgentSetupFailed) as failed:
        ADAPTER.prepare_home(context(tmp_path, "p", ""))
    assert failed.value.code == "agent_setup_failed" and ".gitconfig" in failed.value.message


def test_prepare_home_writes_the_prompt_and_repairs_an_old_history(tmp_path: Path) -> None:
    prompt = "Create hello.txt.\n\nUse lowercase only.\n# not a heading"
    ADAPTER.prepare_home(context(tmp_path, prompt, ""))
    assert (tmp_path / "home" / ".aider" / MESSAGE_FILE).read_text() == prompt
    # A history an older Paddock left: the prompt on Aider's quoted command line, its first
    # line alone marked; a follow-up (resume) gets every line of that quote marked.
    history = tmp_path / "home" / ".aider" / CHAT_HISTORY
    old = (
        "\n# aider chat started at 2026-12-06 20:41:17\n\n"
        "> aider --yes-always --message Create hello.txt.\n\nUse lowercase only.\n"
        "# not a heading  \n> Aider v0.86.2  \n\n"
        "#### Create hello.txt.  \n####   \n#### Use lowercase only.  \n\n"
        "Wrote hello.txt\n> a line the model quoted\nand its next line\n\n"
    )
    history.write_text(old)
    ADAPTER.prepare_home(context(tmp_path, "more", "", resume=CHAT_HISTORY))
    assert history.read_text() == old.replace(
        "\n\nUse lowercase only.\n# not a heading  \n",
        "\n> \n> Use lowercase only.\n> # not a heading  \n",
    )
    assert mark_quotes(history.read_text()) == history.read_text()  # once is enough


def test_prepare_home_gives_git_an_identity(tmp_path: Path) -> None:
    """Without one, Aider writes "Your Name" into the repository's own config."""
    config = tmp_path / "home" / ".gitconfig"
    config.parent.mkdir()
    config.write_text("[user]\n\tname = Someone\n")

    def get(key: str) -> str:
        return subprocess.run(
            ["git", "config", "--file", str(config), key],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    ADAPTER.prepare_home(context(tmp_path, "p", ""))
    ADAPTER.prepare_home(context(tmp_path, "p", ""))
    assert (get("user.name"), get("user.email")) == ("Someone", "paddock@localhost")


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


def test_failure_is_the_error_the_output_ended_on() -> None:
    def failure(lines: list[str]) -> str | None:
        normaliser = ADAPTER.normaliser()
        for line in lines:
            normaliser.feed(line)
        normaliser.finish()
        return normaliser.failure

    assert failure(transcript("unreachable.jsonl")) == (
        "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error."
        "\nThe API provider's servers are down or overloaded."
    )
    assert failure(transcript("write_file.jsonl")) is None
    assert failure(transcript("follow_up.jsonl")) is None
    # A failure Aider retried, then a reply: Aider went on.
    retried = [
        "Model: openai/m with whole edit format",
        "litellm.APIConnectionError: Connection error.",
        "Retrying in 0.2 seconds...",
        "All done.",
        "Tokens: 10 sent, 5 received.",
    ]
    assert failure(retried) is None
    # An error after the reply (an edit Aider could not write) ends the turn on it.
    assert failure([*retried, "Unable to write file a.py"]) == "Unable to write file a.py"


def test_an_interrupt_is_never_the_turns_summary() -> None:
    """A stop reaches Aider as SIGINT, and it answers "^C again to exit": that line was the
    turn's last "assistant message", so its summary and its commit message."""
    lines = [
        "Model: openai/m with whole edit format",
        "Working on the greeting",
        "",
        "^C again to exit",
        "",
        "^C KeyboardInterrupt",
    ]
    entries = normalise(lines)
    said = [e for e in entries if e.kind is EntryKind.assistant_message]
    assert said == [text_entry(EntryKind.assistant_message, "Working on the greeting")]
    assert entries[-2:] == [raw("^C again to exit"), raw("^C KeyboardInterrupt")]


def test_a_git_failure_is_one_error_with_its_details() -> None:
    """Aider stages a new file before writing it; when `git add` fails it writes nothing."""
    lines = [
        "Model: openai/m with whole edit format",
        "Wrote hello.txt",
        "Tokens: 772 sent, 23 received.",
        "",
        "hello.txt",
        "Cmd('git') failed due to: exit code(128)",
        "  cmdline: git add /w/hello.txt",
        "  stderr: 'fatal: Unable to create '/r/.git/index.lock': Read-only file system'",
    ]
    normaliser = ADAPTER.normaliser()
    entries = [e for line in lines for e in normaliser.feed(line)] + normaliser.finish()
    message = "\n".join(line.strip() for line in lines[-3:])
    assert entries[-1] == error(message)
    assert [e.kind for e in entries[1:-1]] == [
        EntryKind.assistant_message,
        EntryKind.usage,
        EntryKind.raw,  # the file Aider was about to create
    ]
    assert normaliser.failure == message


def test_guard_passes_output_and_exit_code_through() -> None:
    def run(script: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", GUARD, "sh", "-c", script],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )

    done = run("echo 'Model: m with whole edit format'; printf 'Done.'; echo oops >&2; exit 3")
    assert done.stdout == "Model: m with whole edit format\nDone."  # as it came, unfinished line
    assert done.stderr == "oops\n" and done.returncode == 3
    gave_up = "echo 'Model: m with whole edit format'; echo 'litellm.APIConnectionError: down'"
    done = run(gave_up)  # Aider would exit 0 here
    assert done.returncode == 1
    assert (
        done.stderr == "paddock: Aider's turn ended on an error: litellm.APIConnectionError: down\n"
    )
    went_on = f"{gave_up}; echo 'Retrying in 0.2 seconds...'; echo 'Tokens: 1 sent, 1 received.'"
    assert run(went_on).returncode == 0
    assert run("kill -TERM $$").returncode == -15  # a signal's end is kept too
    assert guard(["sh", "-c", "exit 0"]) == 0
    assert guard(["/nonexistent/aider"]) == 127  # as a shell says "command not found"


def test_guard_passes_an_interrupt_on_to_aider() -> None:
    """Paddock's stop sends the CLI's interrupt to the process it started (the guard) alone."""
    child = "trap 'echo interrupted; exit 5' INT; echo ready; while :; do sleep 0.05; done"
    proc = subprocess.Popen(
        [sys.executable, "-m", GUARD, "sh", "-c", child],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGINT)
        assert proc.stdout.readline() == "interrupted\n"
        assert proc.wait(timeout=30) == 5
    finally:
        proc.kill()
        proc.wait()


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


def test_a_multi_line_prompt_comes_back_as_the_users_words(repo: Path, tmp_path: Path) -> None:
    """The follow-up restores Aider's chat history: every line of a multi-line prompt is the
    user's there, and the model is never shown words it did not write (Aider quoted the prompt
    on its command line, and read all but its first line back as the model's)."""
    exe = installed_cli(ADAPTER)
    lines = ["Use lowercase only.", "- keep it short", "# no heading"]
    prompt = "\n".join([FIRST, "", *lines])
    with FakeModel(script, [OpenAIChat()], str(repo)) as fake:
        done, _ = run_turn(context(tmp_path, prompt, f"{fake.url}/v1", executable=exe))
        assert done.returncode == 0, done.stdout + done.stderr
        sent = len(fake.posts("/chat/completions"))
        follow = context(tmp_path, FOLLOW_UP, f"{fake.url}/v1", executable=exe, resume=CHAT_HISTORY)
        done, _ = run_turn(follow)
        assert done.returncode == 0, done.stdout + done.stderr
        history = conversation(fake.posts("/chat/completions")[sent].json())
    (user,) = [t for t in history.turns if t.role == "user" and FIRST in t.text]
    assert all(line in user.text for line in lines)  # the whole prompt is the user's
    models = [t.text for t in history.turns if t.role == "assistant"]
    assert any("Wrote hello.txt" in text for text in models)  # the model's own words
    assert not [text for text in models if any(line in text for line in lines)]


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
    assert errors and "Connection error" in errors[-1].payload["message"]
    # Aider itself exits 0; its guard makes the give-up a failure, and says why.
    assert done.returncode == 1, done.stdout + done.stderr
    assert "paddock: Aider's turn ended on an error: litellm." in done.stderr

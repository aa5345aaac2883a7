"""The batched log stream (?batch=true: a `lines` event per batch) through the real server: it
carries exactly the lines of the per-line stream for any bytes a process prints (invalid UTF-8,
escapes, line separators, lines cut at the length limit), live and replayed; and it resumes
from a seq in the middle of a batch with no gap and no duplicate."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.e2e.test_attempt_flow import agent_process, start_attempt

MAX_LINE = 2048  # bytes: longer output lines are cut, the parts marked `continued`

# Bursts of random bytes on stdout and stderr, some lines far longer than MAX_LINE; it starts
# once the gate file exists, so both readers are live first.
PRINTER = r"""
import os, random, sys, time
rnd = random.Random(int(sys.argv[1]))
pieces = [b"a", b"word ", b'"', b"\\", b"\t", b"\x1b[31m", b"\x00", b"\x7f", b"\xff", b"\xc3",
          b"\xe2\x80", "é".encode(), "🚀".encode(), "\u2028".encode(), b"\xc2\x85", b"\r",
          b'","', b"]}", b"%s", b"\r\n"]
while not os.path.exists("GO"):
    time.sleep(0.01)
for burst in range(30):
    lines = []
    for _ in range(rnd.randint(1, 200)):
        lines.append(b"".join(rnd.choice(pieces) for _ in range(rnd.choice([0, 1, 5, 40]))))
    if burst % 4 == 0:  # far longer than the limit: cut, its parts say `continued`
        lines.append(b"long " + b"x\xe2\x9c\x93" * 2000)
    os.write(rnd.choice([1, 2]), b"\n".join(lines) + b"\n")
    time.sleep(rnd.choice([0, 0.01, 0.03]))
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "data", env={"PADDOCK_MAX_LINE_BYTES": str(MAX_LINE)}) as srv:
        yield srv


def events(
    server: ServerProcess, path: str, headers: dict[str, str] | None = None
) -> Iterator[tuple[str | None, str, Any]]:
    """(id, event, data) of an event stream, its lines split at LF alone, as the SSE rules say
    (an event's data holds no CR: JSON escapes it)."""
    with (
        httpx.Client(base_url=server.url, headers=server.auth, timeout=httpx.Timeout(60)) as c,
        c.stream("GET", path, headers=headers) as response,
    ):
        assert response.status_code == 200, response.read()
        event_id, event, data, rest = None, "message", "", b""
        for chunk in response.iter_bytes():
            *lines, rest = (rest + chunk).split(b"\n")
            for raw in lines:
                line = raw.decode()
                if line.startswith("id: "):
                    event_id = line[4:]
                elif line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data += line[6:]
                elif not line and data:
                    yield event_id, event, json.loads(data)
                    event_id, event, data = None, "message", ""


def lines_of(batch: dict[str, Any]) -> list[dict[str, Any]]:
    """A `lines` event's lines, each as its `log` event carries it."""
    texts = iter(batch["texts"])
    seq = batch["first_seq"]
    out = []
    for run in batch["runs"]:
        for _ in range(run["count"]):
            line = {"seq": seq, "ts": run["ts"], "stream": run["stream"], "text": next(texts)}
            out.append({**line, "continued": run["continued"]})
            seq += 1
    assert next(texts, None) is None
    assert batch["last_seq"] == seq - 1
    return out


def read_log(
    server: ServerProcess, process_id: str, *, batched: bool, started: threading.Event | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every line of a log stream, in either form, and its `end`."""
    query = "?batch=true" if batched else ""
    got: list[dict[str, Any]] = []
    for event_id, event, data in events(server, f"/api/processes/{process_id}/logs/stream{query}"):
        if event == "end":
            return got, data
        assert event == ("lines" if batched else "log")
        lines = lines_of(data) if batched else [data]
        assert event_id == str(lines[-1]["seq"])  # the id: the seq of the event's last line
        got += lines
        if started is not None:
            started.set()
    raise AssertionError("the stream ended without `end`")


def test_batched_stream_carries_exactly_the_per_line_streams_lines(
    server: ServerProcess, tmp_path: Path
):
    repo = make_repo(tmp_path / "printer", {"printer.py": PRINTER})
    (repo / ".git" / "info" / "exclude").write_text("GO\n")
    attempt = start_attempt(server, repo, "python3 printer.py 18")
    proc = agent_process(server, attempt["id"])
    results: dict[bool, tuple[list[dict[str, Any]], dict[str, Any]]] = {}
    live = {True: threading.Event(), False: threading.Event()}

    def follow(batched: bool) -> None:
        results[batched] = read_log(server, proc["id"], batched=batched, started=live[batched])

    readers = [threading.Thread(target=follow, args=(b,)) for b in (True, False)]
    for reader in readers:
        reader.start()
    assert all(event.wait(30) for event in live.values())  # both hold the command line
    (Path(attempt["worktree_path"]) / "GO").touch()
    for reader in readers:
        reader.join(120)
    (batched, batched_end), (per_line, per_line_end) = results[True], results[False]
    assert batched == per_line
    assert batched_end == per_line_end and batched_end["status"] == "succeeded"
    assert [line["seq"] for line in batched] == list(range(1, len(batched) + 1))
    assert batched_end["line_count"] == len(batched)
    texts = [line["text"] for line in batched]
    # What the printer was made to cover did reach both streams.
    assert any(line["continued"] for line in batched)
    assert {line["stream"] for line in batched} == {"stdout", "stderr", "system"}
    assert any("\ufffd" in t for t in texts) and any("\u2028" in t for t in texts)
    assert any("\x1b[31m" in t for t in texts) and any("\x85" in t for t in texts)
    # Replayed from the store once the process is done: the same lines again.
    replayed, _ = read_log(server, proc["id"], batched=True)
    assert replayed == per_line


def test_resume_in_the_middle_of_a_batch(server: ServerProcess, repo: Path):
    (repo / ".git" / "info" / "exclude").write_text("GO\n")
    command = "seq 1 3000; while [ ! -f GO ]; do sleep 0.02; done; seq 3001 6000"
    attempt = start_attempt(server, repo, command)
    proc = agent_process(server, attempt["id"])
    path = f"/api/processes/{proc['id']}/logs/stream?batch=true"
    stored = f"/api/processes/{proc['id']}/logs"
    wait_for(lambda: server.api("GET", stored, params={"after": 3000})["lines"])
    received: list[int] = []  # the seqs received, in order
    middle = 0
    for _, event, data in events(server, path):  # the stored lines come as large batches
        assert event == "lines"
        seqs = [line["seq"] for line in lines_of(data)]
        if len(seqs) >= 10:  # drop the connection as if in the middle of this one
            middle = seqs[len(seqs) // 2]
            received += seqs[: len(seqs) // 2 + 1]
            break
        received += seqs
    assert middle
    gate = Path(attempt["worktree_path"]) / "GO"
    resumed: list[dict[str, Any]] = []
    for _, event, data in events(server, path, headers={"Last-Event-ID": str(middle)}):
        if event == "end":
            break
        resumed.append(data)
        gate.touch()  # the rest then comes live
    assert resumed[0]["first_seq"] == middle + 1  # the batch cut right after the resume point
    received += [line["seq"] for batch in resumed for line in lines_of(batch)]
    total = 6000 + 2  # Paddock's command line and exit line around the program's output
    assert received == list(range(1, total + 1))  # every line once, in order

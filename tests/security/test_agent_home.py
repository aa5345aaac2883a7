"""The agent's HOME (and the attempt's git overlay in it) is writable by the sandbox, and
Paddock writes there too, on the host, before each turn (as root here). An agent that turns
what Paddock writes into symlinks must not make Paddock write through them: a root-owned host
file or directory elsewhere must stay as it was."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from paddock.agents.base import AgentAdapter, Credentials, TurnContext, Variant
from paddock.agents.registry import BUILT_IN
from paddock.runtime.sandbox.sandbox_files import clear_links
from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.security.helpers import Bench, file_state, token


@pytest.fixture
def victims(host_dir: Path) -> Iterator[tuple[Path, Path]]:
    """A root-owned host file and directory a sandbox can name but not write."""
    victim = host_dir / f"victim-{token()}.txt"
    victim.write_text("precious\n")
    victim_dir = host_dir / f"victim-dir-{token()}"
    victim_dir.mkdir()
    yield victim, victim_dir


SCRIPT = """
home={home}
case "$PADDOCK_PROMPT" in
  files)  # every file Paddock wrote into the home becomes a link to the victim file
    find "$home" -mindepth 1 -type f | while read -r f; do rm -f "$f"; ln -s {victim} "$f"; done
    mkdir -p "$home/.paddock-git" && ln -sfn {victim} "$home/.paddock-git/index"
    ;;
  dirs)  # every directory in the home becomes a link to the victim dir
    for d in "$home"/* "$home"/.[!.]*; do
      [ -d "$d" ] && [ ! -L "$d" ] && rm -rf "$d" && ln -s {victim_dir} "$d"
    done
    [ -e "$home/.paddock-git" ] || ln -s {victim_dir} "$home/.paddock-git"
    ;;
esac
find "$home" -mindepth 1 -printf '%p -> %l\\n'
"""


def test_paddock_never_writes_through_links_in_the_agents_home(
    bench: Bench, server: ServerProcess, provider: str, victims: tuple[Path, Path]
) -> None:
    victim, victim_dir = victims
    before = file_state(victim)
    attempt = bench.start(
        SCRIPT.format(
            home=f"{server.data_dir}/agent-homes/$PADDOCK_ATTEMPT_ID",
            victim=victim,
            victim_dir=victim_dir,
        ),
        provider=provider,
        title="files",
    )
    bench.finish(attempt)
    # Each follow-up makes Paddock prepare the home again (over the previous turn's links).
    for prompt in ("dirs", "done"):
        bench.server.api(
            "POST", f"/api/attempts/{attempt['id']}/follow-ups", json={"prompt": prompt}
        )
        wait_for(lambda p=prompt: _follow_up_finished(bench, attempt["id"], p), timeout=60)
    assert file_state(victim) == before, "Paddock wrote through the agent's link"
    assert list(victim_dir.iterdir()) == [], "Paddock wrote through the agent's link"


def _follow_up_finished(bench: Bench, attempt_id: str, prompt: str) -> bool:
    follow_ups = bench.server.api("GET", f"/api/attempts/{attempt_id}/follow-ups")
    state = bench.server.api("GET", f"/api/attempts/{attempt_id}")["status"]
    mine = [f for f in follow_ups if f["prompt"] == prompt]
    return (
        bool(mine)
        and mine[0]["status"] in ("done", "failed")
        and state in ("awaiting_review", "failed")
    )


def _turn(adapter: AgentAdapter, home: Path, worktree: Path) -> TurnContext:
    return TurnContext(
        prompt="p",
        worktree=worktree,
        home=home,
        executable="/bin/true",
        variant=Variant(),
        credentials=Credentials(),
    )


@pytest.mark.parametrize("adapter", [pytest.param(a, id=a.name) for a in BUILT_IN])
def test_no_adapter_prepares_a_home_through_links(
    adapter: AgentAdapter, tmp_path: Path, victims: tuple[Path, Path]
) -> None:
    """What each agent CLI's `prepare_home` writes, turned into links by the agent of an
    earlier turn (a file link to the victim file, a directory link to the victim dir), then
    prepared again the way a turn does it: the links cleared first (AgentTurns)."""
    victim, victim_dir = victims
    before = file_state(victim)
    worktree = make_repo(tmp_path / "worktree")
    learn = tmp_path / "learn"
    learn.mkdir()
    adapter.prepare_home(_turn(adapter, learn, worktree))
    written = sorted(p.relative_to(learn) for p in learn.rglob("*"))
    if not written:
        pytest.skip(f"{adapter.name} writes nothing into its home")
    files_home = tmp_path / "files"
    for relative in written:
        target = files_home / relative
        if (learn / relative).is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(victim)
    dirs_home = tmp_path / "dirs"
    dirs_home.mkdir()
    for top in {relative.parts[0] for relative in written}:
        if (learn / top).is_dir():
            (dirs_home / top).symlink_to(victim_dir)
    cleared = 0
    for home in (files_home, dirs_home):
        cleared += clear_links(home)
        with contextlib.suppress(OSError):  # refusing is fine; writing through a link is not
            adapter.prepare_home(_turn(adapter, home, worktree))
    assert cleared > 0
    assert file_state(victim) == before, f"{adapter.name} wrote through a link to a host file"
    assert os.listdir(victim_dir) == [], f"{adapter.name} wrote through a link to a host dir"

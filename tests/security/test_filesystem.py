"""Escapes through the file system: writing outside the worktree, reading the host's secrets
and the server's data, another attempt's worktree, symlinks and hard links, filling /tmp."""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path

import pytest

from tests.e2e.server import ServerProcess, wait_for
from tests.security.conftest import TMP_MB
from tests.security.helpers import Bench, file_state, git, token

SANDBOX_USER = "paddock-sandbox"
MIB = 1024 * 1024
# How a write to a host path is refused: the path is read-only, or belongs to root; a container
# may not mount the path at all.
REFUSED_WRITE = ("Read-only file system", "Permission denied")


def refused_write(provider: str) -> tuple[str, ...]:
    """A container does not mount what it hides at all: no such file, or a read-only dir."""
    return REFUSED_WRITE + (("No such file or directory",) if provider == "container" else ())


def sandbox_uid() -> int | None:
    """The host uid a sandbox's files get: the sandbox user's when the server runs as root."""
    if os.geteuid() != 0:
        return os.geteuid()
    try:
        return pwd.getpwnam(SANDBOX_USER).pw_uid
    except KeyError:
        return None


def test_writes_outside_the_worktree_are_refused(
    bench: Bench, server: ServerProcess, provider: str
) -> None:
    tag = token()
    data = server.data_dir
    repo = bench.repo
    targets = {
        "etc": Path(f"/etc/escape-{tag}"),
        "usr": Path(f"/usr/escape-{tag}"),
        "main_checkout": repo / f"escape-{tag}",
        "data_dir": data / f"escape-{tag}",
        "host_dir": repo.parent / f"escape-{tag}",
    }
    before = {
        "app": file_state(repo / "app.txt"),
        "passwd": file_state(Path("/etc/passwd")),
        "git_config": file_state(repo / ".git" / "config"),
    }
    probes = "\n".join(f"probe {name} touch {path}" for name, path in targets.items())
    run = bench.run(
        f"""
{probes}
probe main_file sh -c 'echo pwned > {repo}/app.txt'
probe etc_file sh -c 'echo pwned >> /etc/passwd'
probe database sh -c 'echo pwned >> {data}/paddock.db'
probe inside sh -c 'echo mine > inside-{tag}.txt'
""",
        provider=provider,
    )
    assert run.process["status"] == "succeeded", run.text
    # The host's root, the repository's main checkout and the module's dir: read-only.
    for name in ("etc", "usr", "etc_file"):
        run.refused(name, *REFUSED_WRITE)
    for name in ("main_checkout", "host_dir", "main_file"):
        run.refused(name, *refused_write(provider))
    if provider == "bwrap":  # the host's root as it is, read-only: nothing new can be made
        for name in ("etc", "usr", "main_checkout", "host_dir"):
            run.refused(name, "Read-only file system")
    # The data dir is an empty directory of root's in the sandbox: nothing can be made there.
    for name in ("data_dir", "database"):
        run.refused(name, *refused_write(provider))
        if provider == "bwrap":
            run.refused(name, "Permission denied")
    for path in targets.values():
        assert not path.exists(), f"{path} was created on the host"
    after = {
        "app": file_state(repo / "app.txt"),
        "passwd": file_state(Path("/etc/passwd")),
        "git_config": file_state(repo / ".git" / "config"),
    }
    assert after == before
    # The worktree itself is writable, and what is written there belongs to the sandbox's user.
    run.allowed("inside")
    written = run.worktree / f"inside-{tag}.txt"
    assert written.read_text() == "mine\n"
    assert written.stat().st_uid == sandbox_uid() != 0


def test_host_secrets_and_the_servers_data_are_out_of_sight(
    bench: Bench, server: ServerProcess, provider: str
) -> None:
    data = server.data_dir
    home_secret = Path.home() / f".paddock-escape-{token()}"
    home_secret.write_text("the host user's own file\n")
    home_secret.chmod(0o644)  # readable by anyone on the host: only the sandbox hides it
    try:
        run = bench.run(
            f"""
probe shadow cat /etc/shadow
probe database cat {data}/paddock.db
probe server_log cat {data}/server.log
probe data_listing ls -A {data}
probe home_file cat {home_secret}
probe home_listing ls -A {Path.home()}
""",
            provider=provider,
        )
    finally:
        home_secret.unlink()
    run.refused("shadow", "Permission denied")
    run.refused("database", "No such file or directory")
    run.refused("server_log", "No such file or directory")
    # The data dir shows at most the empty mount points of what the sandbox itself may use.
    listing = run.probe("data_listing").out.split("|")
    assert not {"paddock.db", "paddock.db-wal", "server.log"} & set(listing), listing
    assert (data / "paddock.db").exists() and (data / "server.log").exists()
    # The host's home is an empty private dir (bwrap), or the image's own /root (container).
    run.refused("home_file", "No such file or directory", "Permission denied")
    if provider == "bwrap":
        run.refused("home_file", "No such file or directory")
    assert home_secret.name not in run.probe("home_listing").out


def test_another_attempts_worktree_is_out_of_sight(bench: Bench, provider: str) -> None:
    """Two attempts at once: the second can neither see nor change the first's worktree nor
    its agent's HOME."""
    secret = f"first-attempt-{token()}"
    first = bench.start(
        f"echo {secret} > secret.txt; echo first-ready; while [ ! -f GO ]; do sleep 0.05; done",
        provider=provider,
        title="first",
    )
    first_tree = Path(first["worktree_path"])
    wait_for((first_tree / "secret.txt").is_file)
    home = bench.server.data_dir / "agent-homes" / first["id"]
    second = bench.run(
        f"""
probe read cat {first_tree}/secret.txt
probe write touch {first_tree}/secret.txt {first_tree}/planted
probe siblings ls -A {first_tree.parent}
probe home ls -A {home}
probe grep grep -r {secret} {bench.server.data_dir}
""",
        provider=provider,
        title="second",
    )
    (first_tree / "GO").touch()
    first_run = bench.finish(first)
    assert first_run.process["status"] == "succeeded", first_run.text
    second.refused("read", "No such file or directory")
    second.refused("write", "No such file or directory", "Permission denied")
    assert second.allowed("siblings").out.split("|") == [second.worktree.name]
    second.refused("home", "No such file or directory")
    assert secret not in second.probe("grep").out
    assert (first_tree / "secret.txt").read_text() == f"{secret}\n"


def test_symlinks_and_hard_links_lead_nowhere(
    bench: Bench, server: ServerProcess, provider: str
) -> None:
    """The agent's links to host files give it nothing; Paddock, as root on the host, never
    follows them either: not when it commits them, nor when a rewind hands the worktree back to
    the sandbox's user (lchown, not chown)."""
    data = server.data_dir
    shadow_before = file_state(Path("/etc/shadow"))
    config_before = file_state(bench.repo / ".git" / "config")
    etc_before = os.stat("/etc")
    script = f"""
case "$PADDOCK_PROMPT" in
  first)
    ln -s /etc/shadow shadow-link
    ln -s /etc etc-link
    ln -s {data}/paddock.db db-link
    ln -s {data} data-link
    ln -s {bench.repo}/.git/config git-config-link
    probe shadow cat shadow-link
    probe database cat db-link
    probe data_dir ls -A data-link/
    probe git_config sh -c 'echo "[core]" >> git-config-link'
    probe hard_link ln /etc/shadow shadow-hard
    probe hard_link_db ln {data}/paddock.db db-hard
    ;;
  *)
    ln -sfn /etc/hostname shadow-link
    ln -sfn /usr etc-link
    echo later > later.txt
    ;;
esac
"""
    attempt = bench.start(script, provider=provider, title="first")
    run = bench.finish(attempt)
    run.refused("shadow", "Permission denied")
    run.refused("database", "No such file or directory")
    assert "paddock.db" not in run.allowed("data_dir").out
    run.refused("git_config", *REFUSED_WRITE)
    assert file_state(bench.repo / ".git" / "config") == config_before
    run.refused("hard_link", "Invalid cross-device link", "Operation not permitted")
    run.refused("hard_link_db", "No such file or directory")
    # Paddock's auto-commit on the host stored the links as links, not what they point to.
    tree = run.worktree
    assert git(tree, "show", "HEAD:shadow-link") == "/etc/shadow"
    assert git(tree, "cat-file", "-t", "HEAD:etc-link") == "blob"  # a link, never a tree
    # A second turn points the links elsewhere; a rewind to before it makes them again (git,
    # as root) and hands the worktree back to the sandbox's user: that must change the links
    # themselves, never /etc/shadow or /etc.
    bench.server.api("POST", f"/api/attempts/{attempt['id']}/follow-ups", json={"prompt": "second"})
    turns = wait_for(
        lambda: [
            p
            for p in bench.server.api("GET", f"/api/attempts/{attempt['id']}/processes")
            if p["reason"] == "follow_up" and p["status"] == "succeeded" and p["commit_after"]
        ]
    )
    wait_for(
        lambda: (
            bench.server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review"
        )
    )
    bench.server.api(
        "POST", f"/api/attempts/{attempt['id']}/rewind", json={"process_id": turns[0]["id"]}
    )
    assert (tree / "shadow-link").is_symlink() and not (tree / "later.txt").exists()
    assert file_state(Path("/etc/shadow")) == shadow_before
    etc_after = os.stat("/etc")
    assert (etc_after.st_uid, etc_after.st_gid, stat.S_IMODE(etc_after.st_mode)) == (
        etc_before.st_uid,
        etc_before.st_gid,
        stat.S_IMODE(etc_before.st_mode),
    )
    assert os.lstat(tree / "shadow-link").st_uid == sandbox_uid()


@pytest.mark.parametrize("where", ["/tmp", "/var/tmp", "/dev/shm"])
def test_filling_a_private_tmp_stops_at_its_size(bench: Bench, provider: str, where: str) -> None:
    """Each private temp dir is a tmpfs of its own, writable and bounded (bwrap: the server's
    sandbox_tmp_mb; a container's /dev/shm has the engine's own bound)."""
    name = f"fill-{token()}"
    run = bench.run(
        f"""
probe fill dd if=/dev/zero of={where}/{name} bs=1M count={TMP_MB * 4}
probe size stat -c %s {where}/{name}
probe fs stat -f -c '%b %S' {where}
""",
        provider=provider,
    )
    run.refused("fill", "No space left on device")
    written = int(run.allowed("size").out)
    blocks, block_size = (int(n) for n in run.allowed("fs").out.split())
    capacity = blocks * block_size
    assert 0 < written <= capacity <= 64 * MIB
    if provider == "bwrap":
        assert capacity == TMP_MB * MIB
    assert not Path(where, name).exists(), "the sandbox wrote into the host's own dir"

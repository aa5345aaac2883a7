"""Escapes through processes and privileges: seeing or signalling the host's processes, gaining
privileges (setuid, capabilities, mount, namespaces), outliving the sandbox, reading the
host's environment."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import ServerProcess, wait_for
from tests.security.conftest import HOST_ONLY_VARIABLE
from tests.security.helpers import Bench, Probe, git, host_processes_with, token, wait_gone

ZERO_CAPS = "0000000000000000"


@pytest.fixture
def host_sentinel() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A host process outside any sandbox, run as the sandbox's user where there is one (so
    only the namespaces, not the uid, keep a sandbox from signalling it)."""
    name = f"host-sentinel-{token()}"
    drop: list[str] = []
    if os.geteuid() == 0:
        drop = ["setpriv", "--reuid=paddock-sandbox", "--regid=paddock-sandbox", "--clear-groups"]
    proc = subprocess.Popen([*drop, "bash", "-c", "sleep 600 & wait", name], start_new_session=True)
    wait_for(lambda: host_processes_with(name))
    try:
        yield name, proc
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sleep too
        proc.wait()


def test_only_the_sandboxs_own_processes_are_visible(
    bench: Bench,
    server: ServerProcess,
    provider: str,
    host_sentinel: tuple[str, subprocess.Popen[bytes]],
) -> None:
    name, sentinel = host_sentinel
    assert server.proc is not None
    run = bench.run(
        f"""
probe ps ps -eo args
probe proc sh -c 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done'
probe count sh -c 'ls -d /proc/[0-9]* | wc -l'
probe server_pid kill -0 {server.proc.pid}
kill -KILL -1  # last: it kills this script too
""",
        provider=provider,
    )
    visible = run.probe("ps").out + run.allowed("proc").out
    assert name not in visible  # a process of the same uid, outside: not visible
    assert "paddock serve" not in visible and "-m paddock" not in visible
    assert int(run.allowed("count").out) <= 8, run.probe("proc").out
    # The server's pid names nothing in the sandbox (or at most one of its own few processes).
    if not run.probe("server_pid").ok:
        run.refused("server_pid", "No such process")
    # `kill -1` reaches every process the caller may signal: none outside the sandbox.
    assert sentinel.poll() is None, "the sandbox killed a host process"
    assert host_processes_with(name)
    assert server.client.get("/api/health").status_code == 200


def test_no_privileges_can_be_gained(bench: Bench, server: ServerProcess, provider: str) -> None:
    tag = token()
    data = server.data_dir
    hostname = socket.gethostname()
    run = bench.run(
        f"""
probe status grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):' /proc/self/status
probe uid id -u
probe mount mount -t tmpfs none /mnt
probe bind_mount mount --bind /tmp /etc
probe unshare_mount unshare -m true
probe proc_sys sh -c 'echo pwned-{tag} > /proc/sys/kernel/hostname'
probe sethostname hostname pwned-{tag}
probe su su -c 'id -u' root
probe passwd passwd -S root
probe chown_root chown 0:0 .
""",
        provider=provider,
    )
    status = dict(
        line.split(":", 1) for line in run.allowed("status").out.replace("\t", "").split("|")
    )
    for caps in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert status[caps].strip() == ZERO_CAPS, status
    assert status["NoNewPrivs"].strip() == "1", status
    assert int(run.allowed("uid").out) != 0
    run.refused("mount", "must be superuser", "Operation not permitted", "permission denied")
    run.refused("bind_mount", "must be superuser", "Operation not permitted", "permission denied")
    run.refused("unshare_mount", "Operation not permitted")
    run.refused("proc_sys", "Permission denied", "Read-only file system")
    run.refused("sethostname", "Operation not permitted", "you must be root")
    run.refused("su", "Authentication failure", "must be run from a terminal")
    run.refused("passwd", "You may not view or modify password information for root")
    run.refused("chown_root", "Operation not permitted")
    assert socket.gethostname() == hostname
    assert data.exists()


def test_a_nested_user_namespace_changes_nothing_outside(
    bench: Bench, server: ServerProcess, provider: str
) -> None:
    """`unshare -U` may work (bwrap run as root cannot forbid it without its own user
    namespace): the "root" it gives owns nothing of the host's, and the sandbox's mounts are
    locked beneath it, so nothing hidden shows and nothing read-only becomes writable."""
    tag = token()
    data = server.data_dir
    run = bench.run(
        f"""
nested() {{ unshare -Urm sh -c "$1"; }}
probe userns unshare -Ur id -u
probe private_etc nested 'mount -t tmpfs none /etc && touch /etc/pwned-{tag} && ls /etc'
probe remount_root nested 'mount -o remount,bind,rw / && touch /usr/pwned-{tag}'
probe shadow nested 'cat /etc/shadow'
probe write_etc nested 'touch /etc/pwned-{tag}'
probe unmount_tmp nested 'umount -l /tmp && ls -A /tmp'
probe unmount_data nested 'umount -l {data}; ls -A {data}'
probe data_db nested 'umount -l {data}; cat {data}/paddock.db'
probe unmount_run nested 'umount -l /run; ls -A /run'
probe chown_host nested 'chown 0:0 /etc/hostname'
""",
        provider=provider,
    )
    if provider == "bwrap":  # the seccomp filter refuses the namespace: nothing below runs
        run.refused("userns", "Operation not permitted")
        assert not run.probe("private_etc").ok and not run.probe("shadow").ok
        assert not Path(f"/etc/pwned-{tag}").exists()
        return
    assert run.probe("userns").out == "0"
    run.allowed("private_etc")  # a mount namespace of its own: private ...
    assert not Path(f"/etc/pwned-{tag}").exists()  # ... the host's /etc untouched
    run.refused("remount_root", "permission denied", "Operation not permitted")
    assert not Path(f"/usr/pwned-{tag}").exists()
    run.refused("shadow", "Permission denied")
    run.refused("write_etc", "Read-only file system", "Permission denied")
    run.refused("unmount_tmp", "not mounted", "Invalid argument", "Operation not permitted")
    assert "paddock.db" not in run.probe("unmount_data").out
    run.refused("data_db", "No such file or directory")
    assert not {"mysqld", "postgresql", "netns"} & set(run.probe("unmount_run").out.split("|"))
    run.refused("chown_host", "Read-only file system", "Operation not permitted")


def test_a_daemon_dies_with_its_sandbox(bench: Bench, provider: str) -> None:
    """A child that leaves the session (setsid), ignores hang-ups (nohup), double-forks and
    clears its environment (so not even Paddock's process tag names it) is still killed when
    the agent's turn ends."""
    name = f"daemon-{token()}"
    run = bench.run(
        f"""
setsid nohup env -i /bin/bash -c '
  ( n=0; while :; do n=$((n+1)); echo $n > daemon.beat; sleep 0.05; done ) &
' {name} > /dev/null 2>&1 < /dev/null &
# The leader leaves once the daemon is alive and beating.
while [ "$(cat daemon.beat 2>/dev/null || echo 0)" -lt 3 ]; do sleep 0.05; done
echo daemon-beating
""",
        provider=provider,
    )
    assert run.process["status"] == "succeeded", run.text
    assert "daemon-beating" in run.lines
    wait_gone(name)
    wait_gone(run.process["id"])


def test_the_host_environment_stays_outside(bench: Bench, provider: str, host_secret: str) -> None:
    """Host variables outside the whitelist are absent; the attempt's own secret is present
    inside, redacted from the log, and never written to the worktree or its commits."""
    secret = f"attempt-secret-{token()}"
    digest = hashlib.sha256(secret.encode()).hexdigest()
    run = bench.run(
        f"""
probe host_variable printenv {HOST_ONLY_VARIABLE}
probe secret_digest sh -c 'printf %s "$ATTEMPT_VALUE" | sha256sum | cut -d" " -f1'
echo "value: $ATTEMPT_VALUE"
env | sort
""",
        provider=provider,
        env={"ATTEMPT_VALUE": secret, "PLAIN_VALUE": "plain"},
        secret_env=["ATTEMPT_VALUE"],
    )
    assert run.process["status"] == "succeeded", run.text
    assert host_secret not in run.text
    assert run.probe("host_variable") == Probe(1, "")  # printenv: not set
    assert not [line for line in run.lines if line.startswith(f"{HOST_ONLY_VARIABLE}=")]
    assert run.allowed("secret_digest").out == digest  # the secret itself is there
    assert "value: [REDACTED]" in run.lines
    assert "PLAIN_VALUE=plain" in run.lines
    assert secret not in run.text
    download = bench.server.client.get(f"/api/processes/{run.process['id']}/logs/download").text
    assert secret not in download and "value: [REDACTED]" in download
    shown = bench.server.api("GET", f"/api/attempts/{run.attempt['id']}")
    assert shown["agent"]["env"]["ATTEMPT_VALUE"] == "********"
    leaks = subprocess.run(
        ["grep", "-rl", "--exclude-dir=.git", secret, str(run.worktree)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert leaks.stdout == ""
    assert secret not in git(run.worktree, "log", "-p", "--all", "-3")

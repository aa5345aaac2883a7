"""`paddock doctor`: what is installed and what is missing, as a subprocess and as functions."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from paddock.config import Settings
from paddock.runtime.sandbox import seccomp
from paddock.services import doctor
from tests.e2e.server import free_port


def run_doctor(data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PADDOCK_")}
    return subprocess.run(
        [sys.executable, "-m", "paddock", "doctor"],
        env={**base, "PADDOCK_DATA_DIR": str(data_dir), "COLUMNS": "400", **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def row(output: str, name: str) -> str:
    """The table row of one check, e.g. `│ git │ ok │ git version 2.39.5 (/usr/bin/git) │`."""
    found = [line for line in output.splitlines() if re.match(rf"^\W*{re.escape(name)}\s", line)]
    assert len(found) == 1, output
    return found[0]


def git_version() -> str:
    out = subprocess.run(["git", "--version"], capture_output=True, text=True, check=True).stdout
    return out.strip()


def test_doctor_on_a_healthy_machine(tmp_path: Path):
    data = tmp_path / "data"  # does not exist yet: doctor creates it
    result = run_doctor(data)
    assert result.returncode == 0, result.stdout + result.stderr
    git_row = row(result.stdout, "git")
    assert " ok " in git_row and git_version() in git_row and f"({shutil.which('git')})" in git_row
    assert " ok " in row(result.stdout, "bash")
    data_row = row(result.stdout, "data dir")
    assert " ok " in data_row and f"{data} (writable)" in data_row
    db_row = row(result.stdout, "database")
    assert " ok " in db_row and "reachable" in db_row and str(data / "paddock.db") in db_row
    assert data.is_dir()


def test_doctor_without_git(tmp_path: Path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, target in (("bash", shutil.which("bash")), ("python3", sys.executable)):
        assert target
        (bin_dir / name).symlink_to(target)
    result = run_doctor(tmp_path / "data", PATH=str(bin_dir))
    assert result.returncode == 1, result.stdout + result.stderr
    git_row = row(result.stdout, "git")
    assert "missing" in git_row and "not found" in git_row
    assert " ok " in row(result.stdout, "bash")  # bash is still found, through the symlink
    assert " ok " in row(result.stdout, "database")  # only git is wrong


def test_doctor_with_an_unreachable_postgresql(tmp_path: Path):
    url = f"postgresql://paddock:s3cret-pw@127.0.0.1:{free_port()}/paddock"
    result = run_doctor(tmp_path / "data", PADDOCK_DATABASE_URL=url)
    assert result.returncode == 1, result.stdout + result.stderr
    db_row = row(result.stdout, "database")
    assert "missing" in db_row and "OperationalError" in db_row
    assert "s3cret-pw" not in result.stdout  # the password is not shown
    assert " ok " in row(result.stdout, "git")


def test_check_functions(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "data", database_url="")
    tools = {check.name: check for check in doctor.check_tools()}
    assert tools["git"].ok and tools["git"].required and git_version() in tools["git"].detail
    assert tools["bash"].ok and tools["bash"].required
    agents = {check.name: check for check in doctor.check_agents(settings)}
    assert agents["agent script"].ok and not agents["agent script"].required
    assert agents["agent demo"].ok  # bash runs them

    data_dir = doctor.check_data_dir(settings)
    assert data_dir.ok and data_dir.required and "writable" in data_dir.detail
    database = doctor.check_database(settings)
    assert database.ok and "reachable" in database.detail
    assert [c.name for c in doctor.run_checks(settings)][-2:] == ["data dir", "database"]

    unreachable = Settings(
        data_dir=tmp_path / "data",
        database_url=f"postgresql://postgres:pw@127.0.0.1:{free_port()}/x",
    )
    failed = doctor.check_database(unreachable)
    assert not failed.ok and failed.required
    port = unreachable.storage.database_url.rsplit(":", 1)[1]
    assert failed.detail.startswith(f"127.0.0.1:{port}")


def test_check_functions_with_a_read_only_data_dir(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    settings = Settings(data_dir=blocker / "data")  # cannot be created: its parent is a file
    check = doctor.check_data_dir(settings)
    assert not check.ok and check.required and str(blocker / "data") in check.detail
    # The SQLite database is not tried in a data dir that cannot be written.
    assert [c.name for c in doctor.run_checks(settings)][-1] == "data dir"


def test_check_tools_with_a_restricted_path(tmp_path: Path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_git = bin_dir / "git"
    fake_git.write_text("#!/bin/sh\necho 'git version 9.9.9-test'\n")
    fake_git.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    tools = {check.name: check for check in doctor.check_tools()}
    assert tools["git"].ok and tools["git"].detail == f"git version 9.9.9-test ({fake_git})"
    assert not tools["bash"].ok and tools["bash"].required
    assert tools["bash"].detail.startswith("not found")


def test_doctor_says_whether_bwrap_sandboxes_have_their_seccomp_filter(tmp_path: Path, monkeypatch):
    settings = Settings(data_dir=tmp_path / "data", sandbox_provider="bwrap")

    def bwrap_row() -> doctor.Check:
        return {check.name: check for check in doctor.check_sandboxes(settings)}["sandbox bwrap"]

    check = bwrap_row()
    if not check.ok:
        pytest.skip(f"bwrap does not work here: {check.detail}")
    built = seccomp.native_filter()
    assert built is not None  # this machine has a table (x86_64 or aarch64)
    assert f"seccomp filter: {len(built.refused)} system calls refused" in check.detail
    # A machine without a system call table: sandboxes still work, without a filter, and
    # doctor says so rather than claim one.
    monkeypatch.setattr(seccomp, "native_filter", lambda: None)
    monkeypatch.setattr(platform, "machine", lambda: "riscv64")
    check = bwrap_row()
    assert check.ok and check.detail.startswith("works (")
    assert "NO seccomp filter: no system call table for machine 'riscv64'" in check.detail


def test_doctor_says_what_serves_previews(tmp_path: Path, monkeypatch):
    settings = Settings(data_dir=tmp_path, port=7500)
    plane = doctor.check_preview_plane(settings)
    assert plane.ok and "HAProxy version" in plane.detail
    assert "previews on port 7501" in plane.detail
    in_process = doctor.check_preview_plane(Settings(data_dir=tmp_path, preview_plane="in_process"))
    assert in_process.ok and "served by the server itself" in in_process.detail
    monkeypatch.setattr(doctor.haproxy, "binary", lambda: None)
    missing = doctor.check_preview_plane(settings)
    assert not missing.ok and not missing.required and "apt: haproxy" in missing.detail

"""When a bwrap launch's command really starts: `started()` answers once the command was
exec'd inside the sandbox (the kernel closed the helper's descriptor in that exec), and says
False when it never will be (the sandbox could not be made, the exec failed)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from paddock.domain.sandbox import Limits, Network, Provider
from paddock.runtime import proctree
from paddock.runtime.launcher import LaunchSpec, SandboxSpec
from paddock.runtime.sandbox.bwrap import BwrapLauncher
from paddock.runtime.sandbox.cgroups import Hierarchy
from paddock.runtime.sandbox.exec_signal import find_perl
from paddock.runtime.sandbox.sandbox_identity import find_user

pytestmark = pytest.mark.anyio

SLEEP = os.path.realpath(shutil.which("sleep") or "/bin/sleep")


@pytest.fixture(params=["spare", "direct", "no cgroup"])
async def launcher(request: pytest.FixtureRequest) -> AsyncIterator[BwrapLauncher]:
    way = request.param
    hierarchy = Hierarchy() if way != "no cgroup" else None
    # scripts/install's machines have cgroups: without them the test fails, never skips.
    assert hierarchy is None or hierarchy.available, f"no cgroups here: {hierarchy.problem}"
    made = BwrapLauncher(
        user=find_user("paddock-sandbox"), hierarchy=hierarchy, spares=way == "spare"
    )
    problem = made.problem()
    assert problem is None, problem
    assert made.perl == find_perl() and made.perl is not None  # perl-base: always here
    try:
        yield made
    finally:
        await made.settle()  # no spare left half-made at the loop's end
        made.close()  # on the test's loop: its spares' pipes are closed there
        await asyncio.sleep(0)


async def ready(launcher: BwrapLauncher) -> None:
    pool = launcher.spares
    if pool is None:
        return
    pool.fill_later()
    for _ in range(500):
        if pool.ready:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no spare became ready: {pool.problem}")


def spec(cwd: Path, argv: list[str], **sandbox: object) -> LaunchSpec:
    return LaunchSpec(
        argv,
        cwd,
        {"PATH": "/usr/bin:/bin", "LANG": "xx_YY.UTF-8"},  # a locale perl would warn about
        sandbox=SandboxSpec(
            Provider.bwrap,
            sandbox.pop("network", Network.host),  # type: ignore[arg-type]
            Limits(),
            **sandbox,  # type: ignore[arg-type]
        ),
    )


def executables(tag: str) -> list[str]:
    """The executables of the live processes tagged `tag` (the launch chain, the command)."""
    found = []
    for pid in proctree.find_tagged(tag):
        try:
            found.append(os.path.realpath(f"/proc/{pid}/exe"))
        except OSError:
            continue
    return found


async def test_started_says_yes_once_the_command_was_execd(
    launcher: BwrapLauncher, tmp_path: Path
) -> None:
    os.chmod(tmp_path, 0o755)
    for _ in range(2):  # a spare's launch, then one that joins its group on the way
        await ready(launcher)
        launch = spec(Path("/"), ["sleep", "30"])
        launched = await launcher.launch(launch)
        try:
            assert await launched.started() is True
            # Not a prediction: the command runs already.
            assert SLEEP in executables(launch.tag)
        finally:
            await launched.stop(1.0)
        assert await launched.started() is True  # asked again: the same answer


async def test_the_command_gets_its_environment_and_output_untouched(
    launcher: BwrapLauncher,
) -> None:
    await ready(launcher)
    script = "env | sort; ls /proc/self/fd"
    launched = await launcher.launch(spec(Path("/"), ["/bin/sh", "-c", script]))
    out, err = await asyncio.gather(launched.stdout.read(), launched.stderr.read())
    assert await launched.wait() == 0 and await launched.started() is True
    assert err == b""  # perl said nothing (not even about the missing locale)
    lines = out.decode().splitlines()
    assert "LANG=xx_YY.UTF-8" in lines
    assert not any(line.startswith("PERL") for line in lines)
    assert lines[-4:] == ["0", "1", "2", "3"]  # ls's own dir is 3: no signal pipe left
    await launched.reap_leftovers(1.0)


async def test_a_sandbox_that_cannot_be_made_never_started(
    launcher: BwrapLauncher, tmp_path: Path
) -> None:
    await ready(launcher)
    gone = tmp_path / "not-there"
    launched = await launcher.launch(spec(Path("/"), ["true"], writable=(gone,)))
    assert await launched.started() is False
    assert await launched.wait() != 0
    await launched.reap_leftovers(1.0)


async def test_a_command_the_sandbox_cannot_see_never_started(
    launcher: BwrapLauncher, tmp_path: Path
) -> None:
    """On the host's PATH, in a directory the sandbox makes private (/tmp): the exec inside
    fails, and the helper says so on stderr with a shell's exit code."""
    assert str(tmp_path).startswith("/tmp/")
    ghost = tmp_path / "paddock-ghost"
    ghost.write_text("#!/bin/sh\necho boo\n")
    ghost.chmod(0o755)
    await ready(launcher)
    launch = spec(Path("/"), ["paddock-ghost"])
    launch = replace(launch, env={**launch.env, "PATH": f"{tmp_path}:/usr/bin:/bin"})
    launched = await launcher.launch(launch)
    _, err = await asyncio.gather(launched.stdout.read(), launched.stderr.read())
    assert await launched.started() is False
    assert await launched.wait() == 127
    assert err == b"paddock: cannot run paddock-ghost: No such file or directory\n"
    await launched.reap_leftovers(1.0)


async def test_without_perl_a_launch_is_started_at_once(tmp_path: Path) -> None:
    launcher = BwrapLauncher(user=find_user("paddock-sandbox"), hierarchy=None)
    launcher.perl = None  # a system without perl: launches as before
    try:
        launched = await launcher.launch(spec(Path("/"), ["/bin/sh", "-c", "echo hi"]))
        assert await launched.started() is True
        assert await launched.stdout.read() == b"hi\n"
        assert await launched.wait() == 0
        await launched.reap_leftovers(1.0)
    finally:
        await launcher.settle()  # no spare left half-made at the loop's end
        launcher.close()

"""`paddock runner`: this machine as a runner of a team's Paddock (docs/scale-out.md).

It presents its token to the control plane, gets a Redis user of its own, and beats (its
capacity, every 2 s) until stopped. Exit codes: 2, the control plane cannot be reached or
answered something else than a session; 3, the token is not valid or the runner was revoked
(also while it runs: its Redis access ends, it asks again once, and stops).
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any, NoReturn

import typer

EXIT_UNREACHABLE = 2
EXIT_REVOKED = 3


def runner(
    server: Annotated[str, typer.Option(help="The control plane's URL")],
    token: Annotated[
        str, typer.Option(envvar="PADDOCK_RUNNER_TOKEN", help="The runner's token (shown once)")
    ],
    slots: Annotated[int | None, typer.Option(help="Attempts at once (default: CPUs)")] = None,
    label: Annotated[list[str] | None, typer.Option(help="A label it offers (repeat)")] = None,
) -> None:
    """Run this machine as a runner of a team's Paddock (docs/scale-out.md)."""
    import anyio

    from paddock.domain.runners import Capacity

    cpus = os.cpu_count() or 1
    capacity = Capacity(slots or cpus, cpus, _memory_mb(), sorted(set(label or [])))
    anyio.run(_run, server.rstrip("/"), token, capacity)


async def _run(server: str, token: str, capacity: Any) -> None:
    from paddock.runtime.runner_access import AccessRevoked, beat

    for _ in range(2):  # access ended: revoked (the new session is refused), or replaced
        session = await _session(server, token)
        print(f"paddock runner {session['runner_id']}: connected to {server}", flush=True)
        try:
            await beat(
                session["redis_url"],
                session["redis_user"],
                session["redis_password"],
                session["runner_id"],
                capacity,
            )
        except AccessRevoked:
            continue
    _fail(EXIT_REVOKED, "the runner's access to Redis ended twice: is it running elsewhere?")


async def _session(server: str, token: str) -> dict[str, Any]:
    import httpx

    try:
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.post(
                f"{server}/api/runner/session", headers={"Authorization": f"Bearer {token}"}
            )
    except httpx.HTTPError as exc:
        _fail(EXIT_UNREACHABLE, f"cannot reach the control plane at {server}: {exc}")
    try:
        body: dict[str, Any] = answer.json()
    except ValueError:
        body = {}
    if answer.status_code == 401:
        _fail(EXIT_REVOKED, body.get("message") or "the runner token was refused")
    if answer.status_code != 200:
        detail = body.get("message") or answer.text[:200]
        _fail(EXIT_UNREACHABLE, f"the control plane answered {answer.status_code}: {detail}")
    return body


def _memory_mb() -> int:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def _fail(code: int, message: str) -> NoReturn:
    print(f"paddock runner: error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(code)

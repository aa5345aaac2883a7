"""Builder steps the e2e tests share: a change request talked through and confirmed (an
iteration), and waiting for a build to settle."""

from __future__ import annotations

from typing import Any

from tests.e2e.server import ServerProcess, wait_for


def ask_change(
    server: ServerProcess, app_id: str, description: str, answers: dict[str, str] | None = None
) -> dict[str, Any]:
    """A change request, its questions answered (left empty by default): `clarified`."""
    change = server.api("POST", f"/api/apps/{app_id}/changes", json={"description": description})
    assert change["status"] == "draft" and change["questions"]
    said = answers if answers is not None else {q["id"]: "" for q in change["questions"]}
    clarified: dict[str, Any] = server.api(
        "POST", f"/api/changes/{change['id']}/answers", json={"answers": said}
    )
    assert clarified["status"] == "clarified"
    return clarified


def iterate(
    server: ServerProcess,
    app_id: str,
    description: str,
    *,
    answers: dict[str, str] | None = None,
    confirm_last: bool = False,
) -> dict[str, Any]:
    """A change request confirmed: its build (queued)."""
    change = ask_change(server, app_id, description, answers)
    confirmed = server.api(
        "POST", f"/api/changes/{change['id']}/confirm", json={"confirm_last": confirm_last}
    )
    assert confirmed["status"] == "confirmed" and confirmed["build_id"]
    build: dict[str, Any] = server.api("GET", f"/api/builds/{confirmed['build_id']}")
    return build


def settled(server: ServerProcess, build: dict[str, Any], timeout: float = 240) -> dict[str, Any]:
    """The build once it is ready, failed or cancelled."""
    found: dict[str, Any] = wait_for(
        lambda: (
            b
            if (b := server.api("GET", f"/api/builds/{build['id']}"))["status"]
            in ("ready", "failed", "cancelled")
            else None
        ),
        timeout=timeout,
        interval=0.2,
    )
    return found

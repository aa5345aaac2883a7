"""Opening and reading pull requests on a forge: its CLI when installed and signed in (`gh`,
`glab`), else its REST API with a token (GitHub, GitLab, Gitea/Forgejo).

The CLIs run without prompts; a REST call carries the token in the header each forge expects.
Failures come back as PaddockError with the forge's own message.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from paddock.domain.errors import Conflict, PaddockError, Unavailable
from paddock.domain.pull_request import Forge, PullRequestStatus

CLI_TIMEOUT = 120.0
CLIS = {Forge.github: "gh", Forge.gitlab: "glab"}


@dataclass(frozen=True, slots=True)
class Opened:
    number: int
    url: str


@dataclass(frozen=True, slots=True)
class Api:
    forge: Forge
    base_url: str  # e.g. https://api.github.com, https://gitlab.example/api/v4
    token: str


class ForgeError(PaddockError):
    code = "pull_request_failed"
    http_status = 502


async def _cli(*argv: str) -> tuple[int, str, str]:
    env = {**os.environ, "GH_PROMPT_DISABLED": "1", "NO_COLOR": "1", "GLAB_NO_PROMPT": "1"}
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError:
        return 127, "", f"{argv[0]} is not installed"
    try:
        out, err = await asyncio.wait_for(proc.communicate(), CLI_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return 124, "", f"{argv[0]} did not answer in {CLI_TIMEOUT:g} s"
    return proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")


async def signed_in_cli(forge: Forge) -> str | None:
    """The forge's CLI when it is installed and signed in, else None."""
    tool = CLIS.get(forge)
    if tool is None or shutil.which(tool) is None:
        return None
    code, _, _ = await _cli(tool, "auth", "status")
    return tool if code == 0 else None


def _number_of(url: str) -> int:
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    if not tail.isdigit():
        raise ForgeError(f"the forge answered with no pull request URL: {url!r}")
    return int(tail)


async def open_with_cli(
    tool: str, repo: str, head: str, base: str, title: str, body: str
) -> Opened:
    if tool == "gh":
        argv = ["gh", "pr", "create", "--repo", repo, "--head", head, "--base", base]
        argv += ["--title", title, "--body", body]
    else:
        argv = ["glab", "mr", "create", "--repo", repo, "--source-branch", head]
        argv += ["--target-branch", base, "--title", title, "--description", body, "--yes"]
    code, out, err = await _cli(*argv)
    if code != 0:
        raise ForgeError(f"{tool} could not open the pull request: {(err or out).strip()[-500:]}")
    urls = [word for word in out.split() if word.startswith(("http://", "https://"))]
    if not urls:
        raise ForgeError(f"{tool} printed no pull request URL: {out.strip()[-300:]}")
    return Opened(_number_of(urls[-1]), urls[-1])


async def status_with_cli(tool: str, repo: str, number: int) -> PullRequestStatus:
    if tool == "gh":
        argv = ["gh", "pr", "view", str(number), "--repo", repo, "--json", "state"]
    else:
        argv = ["glab", "mr", "view", str(number), "--repo", repo, "--output", "json"]
    code, out, err = await _cli(*argv)
    if code != 0:
        raise ForgeError(f"{tool} could not read the pull request: {(err or out).strip()[-300:]}")
    state = str(json.loads(out).get("state", "")).lower()
    return _status(state, merged=state == "merged")


def _status(state: str, *, merged: bool) -> PullRequestStatus:
    if merged or state == "merged":
        return PullRequestStatus.merged
    if state in ("closed", "locked"):
        return PullRequestStatus.closed
    return PullRequestStatus.open


def _headers(api: Api) -> dict[str, str]:
    if api.forge is Forge.github:
        return {"Authorization": f"Bearer {api.token}", "Accept": "application/vnd.github+json"}
    if api.forge is Forge.gitlab:
        return {"PRIVATE-TOKEN": api.token}
    return {"Authorization": f"token {api.token}"}


async def _call(api: Api, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    import httpx  # only when a forge is called: the server does not carry it otherwise

    url = api.base_url.rstrip("/") + path
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.request(method, url, json=payload, headers=_headers(api))
    except httpx.HTTPError as exc:
        raise Unavailable(
            f"{api.forge.value} does not answer at {url}: {exc}", code="forge_down"
        ) from exc
    if response.status_code in (401, 403):
        raise Conflict(
            f"{api.forge.value} refused the token ({response.status_code})",
            code="forge_unauthorized",
        )
    if response.status_code >= 400:
        raise ForgeError(f"{api.forge.value} said {response.status_code}: {response.text[:300]}")
    return response.json()


async def open_with_api(api: Api, repo: str, head: str, base: str, title: str, body: str) -> Opened:
    if api.forge is Forge.gitlab:
        path = f"/projects/{quote(repo, safe='')}/merge_requests"
        payload = {
            "source_branch": head,
            "target_branch": base,
            "title": title,
            "description": body,
        }
        data = await _call(api, "POST", path, payload)
        return Opened(int(data["iid"]), str(data["web_url"]))
    payload = {"head": head, "base": base, "title": title, "body": body}
    data = await _call(api, "POST", f"/repos/{repo}/pulls", payload)
    return Opened(int(data["number"]), str(data["html_url"]))


async def status_with_api(api: Api, repo: str, number: int) -> PullRequestStatus:
    if api.forge is Forge.gitlab:
        data = await _call(api, "GET", f"/projects/{quote(repo, safe='')}/merge_requests/{number}")
        return _status(str(data.get("state", "")), merged=False)
    data = await _call(api, "GET", f"/repos/{repo}/pulls/{number}")
    return _status(str(data.get("state", "")), merged=bool(data.get("merged")))

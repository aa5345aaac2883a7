"""Schemathesis hooks for tests/web/test_openapi_conformance.py (loaded by the `st` process
through SCHEMATHESIS_HOOKS).

`before_call` keeps the fuzzer's repository paths inside the throwaway dir.

`POST /api/projects` with `create: true` makes a repository at any absolute path it is given,
and the server runs as whoever runs the suite (root in CI): a generated "/0" must not become a
directory at the root of the machine; `POST /api/apps` builds in the repository around its
`repo_path`. Every absolute such path is moved under $PADDOCK_FUZZ_ROOT (the same path below
it, `..` dropped); one in four is the seeded project's repository instead, so registering an
existing repository is tried too ($PADDOCK_FUZZ_REPO).
Relative ones are sent as they are: the server refuses them before touching anything (and `~`
is the throwaway HOME the test gives the server).
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import schemathesis


def confined(path: str) -> str:
    root = os.environ["PADDOCK_FUZZ_ROOT"]
    if int(hashlib.sha256(path.encode()).hexdigest(), 16) % 4 == 0:
        return os.environ["PADDOCK_FUZZ_REPO"]
    parts = [p for p in path.strip().split("/") if p not in ("", ".", "..")]
    return "/".join([root, *parts])


# The body fields that name a folder on this machine, by operation.
PATH_FIELDS = {("POST", "/api/projects"): "path", ("POST", "/api/apps"): "repo_path"}


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    field = PATH_FIELDS.get((case.method.upper(), case.operation.path))
    body = case.body
    path = body.get(field) if field and isinstance(body, dict) else None
    if isinstance(path, str) and path.strip().startswith("/"):
        body[field] = confined(path)


# Refusals of a schema-valid request that depend on what exists, which no schema can say: a
# body naming a branch, a step, a variant, a file that is not there (422 with the service's
# own code). Every other 422 to a schema-valid request is still a failure.
STATE_DEPENDENT = frozenset(
    {
        "path_missing",
        "not_a_git_repo",
        "bare_repo",
        "no_commits",
        "unknown_ref",
        "unknown_branch",
        "unknown_variant",
        "step_not_in_project",
        "process_not_in_attempt",
        "not_an_agent_turn",
        "unknown_remote",
        "unknown_question",
        "not_in_plan",
        "no_dev_script",
        "no_test_script",
    }
)
# What this test's machine lacks on purpose (503): agent CLIs, and a registry to install them.
MISSING_HERE = frozenset({"agent_not_installed", "install_failed", "npm_missing"})


def _code(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("code", "")) if isinstance(body, dict) else ""


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """False drops the failure (the run's summary counts the dropped ones). Only the check
    each excuse is about: "schema-valid request rejected" (ST202) for a state-dependent 422,
    "server error" (ST101) for a 503 of what is missing here; an undocumented status, a body
    off its schema and the rest still fail."""
    code, status = _code(response), response.status_code
    excused = (failure.code == "ST202" and status == 422 and code in STATE_DEPENDENT) or (
        failure.code == "ST101" and status == 503 and code in MISSING_HERE
    )
    if excused:  # recorded for the test's summary
        with open(os.environ["PADDOCK_FUZZ_EXCUSED"], "a") as log:
            log.write(f"{failure.code} {status} {code}\n")
    return not excused

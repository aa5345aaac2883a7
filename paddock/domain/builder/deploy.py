"""Deploy readiness: is this version of an app ready to put on the internet?

The founder's "ship" gate asks it of a version. The answer is a list of checks over the
repository at that version, each pass / warn / fail with a message and, unless it passed, a fix
they can copy (a line to add to a file, or a sentence to paste into the next change request); a
traffic light; and the ways to deploy an app of its stack (deploy_paths.py).

- red: something fails, and deploying now would break or leak (an undocumented variable the
  code reads, a secret in the code, no way to start it, failing tests or build);
- yellow: something to fix soon, but the app would run (no README, unpinned dependencies,
  tests or build not run);
- green: every check passed.

The checks see the version's files as text (path -> text; binary and oversized files are left
out by the reader, runtime/git/tree_files.py) and take what only running can tell as input:
the secret scanner's findings (runtime/secret_scan.py) and the outcome of the tests and the
production build, which the service runs. Nothing here reads a disk or runs a process.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from paddock.domain.builder.deploy_checks import (
    check_dependencies_pinned,
    check_start_command,
    detect_stack,
    package_json,
)
from paddock.domain.builder.deploy_env import (
    ENV_EXAMPLE_FILES,
    documented_env_vars,
    env_example_text,
    env_vars_read,
)
from paddock.domain.builder.deploy_paths import (
    RECOMMENDATION_REASON,
    DeployPath,
    Stack,
    deploy_paths,
    recommended_path,
)
from paddock.domain.builder.deploy_types import CheckStatus, DeployCheck, RunOutcome, SecretFinding

__all__ = [
    "CheckStatus",
    "DeployCheck",
    "DeployPath",
    "Light",
    "Readiness",
    "RunOutcome",
    "SecretFinding",
    "Stack",
    "assess",
    "check_build",
    "check_dependencies_pinned",
    "check_env_documented",
    "check_readme",
    "check_secrets",
    "check_start_command",
    "check_tests",
    "deploy_paths",
    "detect_stack",
    "documented_env_vars",
    "env_vars_read",
    "light_of",
    "order_checks",
    "package_json",
]

README_NAMES = ("README.md", "README", "README.rst", "README.txt", "README.markdown")
_README_MIN_CHARS = 40  # less than this, past its title, says nothing about the app
_SHOWN_FINDINGS = 10


class Light(StrEnum):
    green = "green"
    yellow = "yellow"
    red = "red"


@dataclass(frozen=True, slots=True)
class Readiness:
    light: Light
    checks: tuple[DeployCheck, ...]  # the fails, then the warnings, then the passes
    stack: Stack
    paths: tuple[DeployPath, ...]
    recommended: str  # the id of one of `paths`
    why_recommended: str = ""


def assess(
    files: Mapping[str, str],
    *,
    findings: Sequence[SecretFinding],
    tests: RunOutcome,
    build: RunOutcome,
    template_start: str | None = None,
) -> Readiness:
    """The deploy readiness of a version whose files are `files`."""
    checks = order_checks(
        [
            check_readme(files),
            check_env_documented(files),
            check_start_command(files, template_start),
            check_secrets(findings),
            check_dependencies_pinned(files),
            check_tests(tests),
            check_build(build),
        ]
    )
    stack = detect_stack(files)
    return Readiness(
        light=light_of(checks),
        checks=checks,
        stack=stack,
        paths=deploy_paths(stack),
        recommended=recommended_path(stack).id,
        why_recommended=RECOMMENDATION_REASON[stack],
    )


def light_of(checks: Sequence[DeployCheck]) -> Light:
    statuses = {check.status for check in checks}
    if CheckStatus.fail in statuses:
        return Light.red
    if CheckStatus.warn in statuses:
        return Light.yellow
    return Light.green


def order_checks(checks: Sequence[DeployCheck]) -> tuple[DeployCheck, ...]:
    """Blocking issues first, then warnings, then passes; each group in the given order."""
    rank = {CheckStatus.fail: 0, CheckStatus.warn: 1, CheckStatus.pass_: 2}
    return tuple(sorted(checks, key=lambda check: rank[check.status]))


# --- the checks --------------------------------------------------------------------------------


def check_readme(files: Mapping[str, str]) -> DeployCheck:
    """A README at the root that says something. Missing is a warning, not a blocker: the app
    runs without one, but whoever deploys or takes it over next needs it."""
    title = "README"
    name = next(
        (n for n in files if "/" not in n and n.upper() in {r.upper() for r in README_NAMES}), None
    )
    fix = (
        'Ask for it in your next change: "Write a README.md that says what the app does, how '
        'to set it up, run it and test it, and which environment variables it needs."'
    )
    if name is None:
        return DeployCheck("readme", title, CheckStatus.warn, "There is no README.", fix)
    body = re.sub(r"^#.*$", "", files[name], flags=re.MULTILINE)
    if len(body.strip()) < _README_MIN_CHARS:
        return DeployCheck("readme", title, CheckStatus.warn, f"{name} is nearly empty.", fix)
    return DeployCheck("readme", title, CheckStatus.pass_, f"{name} explains the app.", None)


def check_env_documented(files: Mapping[str, str]) -> DeployCheck:
    """Every environment variable the code reads is in `.env.example`: whoever deploys the
    app learns there what to set. One missing is a blocker: the app would start without it
    and fail (or run without the feature) on the host."""
    title = "Environment variables documented"
    read = env_vars_read(files)
    if not read:
        return DeployCheck(
            "env_documented", title, CheckStatus.pass_,
            "The code reads no environment variables (PORT, set by every host, aside).", None,
        )  # fmt: skip
    example = env_example_text(files)
    documented = documented_env_vars(example or "")
    missing = [name for name in read if name not in documented]
    if not missing:
        return DeployCheck(
            "env_documented", title, CheckStatus.pass_,
            f"{ENV_EXAMPLE_FILES[0]} documents all {len(read)} variables the code reads.", None,
        )  # fmt: skip
    where = "; ".join(f"{name} (read in {', '.join(read[name][:3])})" for name in missing)
    lines = "\n".join(f"{name}=" for name in missing)
    unlisted = (
        "and there is no .env.example to document them"
        if example is None
        else "that .env.example does not list"
    )
    return DeployCheck(
        "env_documented",
        title,
        CheckStatus.fail,
        f"The code reads {len(missing)} environment variable(s) {unlisted}: {where}.",
        f"Add {_and_list(missing)} to your environment variables on the host, and document "
        f"them in .env.example (without real values):\n{lines}",
    )


def check_secrets(findings: Sequence[SecretFinding]) -> DeployCheck:
    """No hard-coded secret: anyone who can read the code (or its history) could use it."""
    title = "No secrets in the code"
    if not findings:
        return DeployCheck(
            "secrets", title, CheckStatus.pass_, "The secret scanner found nothing.", None
        )
    ordered = sorted(findings, key=lambda f: (f.path, f.line, f.kind))
    shown = [f"{f.path} line {f.line} ({f.kind})" for f in ordered[:_SHOWN_FINDINGS]]
    more = len(ordered) - len(shown)
    listed = "; ".join(shown) + (f"; and {more} more" if more else "")
    return DeployCheck(
        "secrets",
        title,
        CheckStatus.fail,
        f"{len(findings)} possible secret(s) written into the code: {listed}.",
        "Revoke each key with its provider (it stays in the git history), then ask for it in "
        'your next change: "Remove the hard-coded secrets at '
        f"{', '.join(f'{f.path} line {f.line}' for f in ordered[:_SHOWN_FINDINGS])}; read "
        'each from an environment variable instead and list it in .env.example."',
    )


def check_tests(outcome: RunOutcome) -> DeployCheck:
    return _run_check(
        outcome,
        id="tests",
        title="Tests pass",
        passed="The tests pass.",
        failed="The tests fail",
        not_run="No tests ran: nothing shows the app still works after a change.",
        fix_failed='Ask for it in your next change: "Make the failing tests pass{why}."',
        fix_not_run=(
            'Ask for it in your next change: "Add tests for each core feature and make them pass."'
        ),
    )


def check_build(outcome: RunOutcome) -> DeployCheck:
    return _run_check(
        outcome,
        id="build",
        title="Production build succeeds",
        passed="The production build succeeds.",
        failed="The production build fails",
        not_run="The production build was not run at this version.",
        fix_failed='Ask for it in your next change: "Make the production build succeed{why}."',
        fix_not_run="Run the readiness check again once the build can run.",
    )


def _run_check(
    outcome: RunOutcome,
    *,
    id: str,
    title: str,
    passed: str,
    failed: str,
    not_run: str,
    fix_failed: str,
    fix_not_run: str,
) -> DeployCheck:
    detail = outcome.message.strip().splitlines()[0][:300] if outcome.message.strip() else ""
    if outcome.passed is None:
        return DeployCheck(id, title, CheckStatus.warn, detail or not_run, fix_not_run)
    if outcome.passed:
        return DeployCheck(id, title, CheckStatus.pass_, detail or passed, None)
    message = f"{failed}: {detail}" if detail else f"{failed}."
    return DeployCheck(
        id,
        title,
        CheckStatus.fail,
        message,
        fix_failed.format(why=f" ({detail})" if detail else ""),
    )


def _and_list(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"

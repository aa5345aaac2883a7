"""Which processes are told to leave no generated files behind (domain/generated.py)."""

from __future__ import annotations

from paddock.domain.generated import GENERATED_PATTERNS, generated_free_env
from paddock.domain.states import RunReason


def test_the_project_code_run_to_look_at_it_writes_no_bytecode() -> None:
    for reason in (RunReason.dev_server, RunReason.unit_test, RunReason.e2e_test):
        assert generated_free_env(reason) == {"PYTHONDONTWRITEBYTECODE": "1"}
    assert generated_free_env(RunReason.openapi) == {"PYTHONDONTWRITEBYTECODE": "1"}


def test_agents_and_setup_keep_their_caches() -> None:
    """Their caches are kept out of commits by the patterns, not prevented: a setup script may
    compile on purpose, and an agent's own CLI may be Python."""
    for reason in (RunReason.agent, RunReason.follow_up, RunReason.setup, RunReason.cleanup):
        assert generated_free_env(reason) == {}


def test_the_patterns_name_the_usual_caches() -> None:
    for pattern in ("__pycache__/", "node_modules/", ".pytest_cache/", ".aider.tags.cache.v*/"):
        assert pattern in GENERATED_PATTERNS
    # gitignore patterns: a folder ends with "/", so a file of that name is not matched.
    assert all(" " not in pattern and not pattern.startswith("/") for pattern in GENERATED_PATTERNS)

"""What an idle server does not need is not imported when it starts: the model SDKs (loaded
when a key asks for a planner), the secret scanner (loaded by a deploy check), the migrations
(run when the schema is behind), Jinja2 (loaded by the first page rendered), tomlkit (loaded
by an edit of agents.toml) and prometheus_client (loaded by the first scrape of /metrics).
Together they cost ~70 MB of the idle server's memory (bench/memory.py prints what each one
costs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from paddock.agents.base import Variant
from paddock.agents.registry import BUILT_IN, AgentRegistry
from paddock.web.ui import templating

HEAVY = (
    "anthropic",
    "openai",
    "detect_secrets",
    "alembic",
    "jinja2",
    "starlette.templating",
    "tomlkit",
    "prometheus_client",
)


def test_the_server_starts_without_what_an_idle_server_does_not_need(tmp_path: Path) -> None:
    # What `paddock serve` imports and builds before it serves its first request.
    probe = (
        "import json, sys\n"
        "import paddock.cli.main, paddock.cli.serving\n"
        "from paddock.config import Settings\n"
        "from paddock.web.app import create_app\n"
        f"create_app(Settings(data_dir={str(tmp_path)!r}, token='t' * 32))\n"
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []


def test_a_planner_asked_for_by_name_is_still_there() -> None:
    from paddock import planners

    assert planners.AnthropicPlanner.__name__ == "AnthropicPlanner"
    assert planners.OpenAIPlanner.name == "openai"


def test_the_templates_built_on_first_use_have_the_ui_filters_and_globals() -> None:
    env = templating.templates().env
    assert templating.templates() is templating.templates()  # built once
    assert env.filters["ago"] is templating.ago
    assert env.globals["static"] is templating.static_url
    assert env.trim_blocks and not env.auto_reload
    assert env.get_template("base.html").name == "base.html"  # the package's templates


def test_an_edit_of_agents_toml_with_tomlkit_imported_on_use_keeps_its_comments(
    tmp_path: Path,
) -> None:
    overrides = tmp_path / "agents.toml"
    comment = "# my opus setup\n"
    overrides.write_text(comment)
    registry = AgentRegistry(BUILT_IN, overrides=overrides)
    registry.save_variant("claude-code", Variant(name="opus", model="opus"))
    assert overrides.read_text().startswith(comment)
    assert registry.get("claude-code").variants["opus"].model == "opus"

"""What an idle server does not need is not imported when it starts: the model SDKs (loaded
when a key asks for a planner) and the secret scanner (loaded by a deploy check). Together
they cost ~70 MB of the idle server's memory."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("anthropic", "openai", "detect_secrets")


def test_the_server_starts_without_the_model_sdks_or_the_secret_scanner() -> None:
    probe = (
        "import json, sys; import paddock.web.app, paddock.services.engine; "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []


def test_a_planner_asked_for_by_name_is_still_there() -> None:
    from paddock import planners

    assert planners.AnthropicPlanner.__name__ == "AnthropicPlanner"
    assert planners.OpenAIPlanner.name == "openai"

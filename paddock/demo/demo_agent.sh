#!/usr/bin/env bash
# Paddock's demo agent: a scripted stand-in that calls no model. It reads the task prompt,
# "thinks" aloud for a few seconds so the log visibly streams, then changes the greeting of
# the demo app: on its page, in its API (which also learns to greet someone by name: the API
# tab shows the new parameter) and in a new test (the Tests tab shows it). Paddock commits the
# change on the attempt's branch when the turn ends (in a sandbox the repository is read-only
# to agents).
set -euo pipefail
say() { printf '%s\n' "$*"; sleep "${DEMO_AGENT_DELAY:-0.4}"; }

say "demo agent: this is a scripted demo, no AI model is called"
say "demo agent: task prompt: ${PADDOCK_PROMPT:-<none>}"
say "demo agent: reading the project files"
for f in $(git ls-files | head -n 20); do printf '  %s\n' "$f"; done
say "demo agent: planning the change"
say "demo agent: editing public/index.html"
stamp=$(date -u +%H:%M:%S)
sed -i "s|<h1 id=\"greeting\">.*</h1>|<h1 id=\"greeting\">Hello from Paddock's demo agent (${stamp} UTC)</h1>|" public/index.html
grep -n 'id="greeting"' public/index.html
say "demo agent: editing api.py (the greeting, and an optional name to greet)"
# Edits by exact text: a project that no longer holds it fails loudly instead of half-changed.
python3 - <<'EOF'
from pathlib import Path

api = Path("api.py")
text = api.read_text()
edits = [
    ('GREETING = "Hello, world"', 'GREETING = "Hello from Paddock\'s demo agent"'),
    ('"version": "1.0.0"', '"version": "1.1.0"'),
    (
        "GREETING_PARAMETERS: list[dict[str, object]] = []",
        """GREETING_PARAMETERS: list[dict[str, object]] = [
    {
        "name": "name",
        "in": "query",
        "required": False,
        "description": "Who to greet (default: everyone)",
        "schema": {"type": "string"},
    }
]""",
    ),
    (
        '    return {"greeting": GREETING}',
        """    name = query.get("name", [""])[0].strip()
    return {"greeting": f"Hello, {name}" if name else GREETING}""",
    ),
]
for old, new in edits:
    if old not in text:
        raise SystemExit(f"demo agent: api.py does not hold {old!r}: nothing changed")
    text = text.replace(old, new)
api.write_text(text)
EOF
say "demo agent: adding tests/test_greeting_by_name.py"
cat > tests/test_greeting_by_name.py <<'EOF'
import unittest

import api


class GreetingByNameTest(unittest.TestCase):
    def test_the_api_greets_by_name(self) -> None:
        self.assertEqual(api.greeting({"name": ["Ada"]}), {"greeting": "Hello, Ada"})

    def test_the_spec_lists_the_name_parameter(self) -> None:
        operation = api.openapi()["paths"]["/api/greeting"]["get"]
        self.assertIn("name", [p["name"] for p in operation["parameters"]])


if __name__ == "__main__":
    unittest.main()
EOF
git status --short
say "demo agent: done (Paddock commits the change)"

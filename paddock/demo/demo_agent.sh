#!/usr/bin/env bash
# Paddock's demo agent: a scripted stand-in that calls no model. It reads the task prompt,
# "thinks" aloud for a few seconds so the log visibly streams, then changes the greeting of
# the demo app. Paddock commits the change on the attempt's branch when the turn ends (in a
# sandbox the repository is read-only to agents).
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
grep -n 'greeting' public/index.html
git status --short
say "demo agent: done (Paddock commits the change)"

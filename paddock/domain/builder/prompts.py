"""What a build asks its agent: the brief (or a change request) in words, and as a fenced
`paddock-brief` JSON block a scripted agent reads (the offline builder agent does)."""

from __future__ import annotations

import json

from paddock.domain.builder.brief import Brief
from paddock.domain.builder.templates import CONTENT_FILE, AppTemplate

FENCE = "paddock-brief"


def build_prompt(brief: Brief, template: AppTemplate, change: str | None = None) -> str:
    features = "\n".join(f"- {f.name}: {f.description}".rstrip(": ") for f in brief.features)
    non_goals = "\n".join(f"- {n}" for n in brief.non_goals) or "- (none given)"
    if change is None:
        task = (
            f"Build the first version of {brief.name!r} in this repository. It was set up from "
            f"the {template.label} template ({', '.join(template.stack)}): keep its scripts "
            f"working, its unit tests passing (add tests for what you build), and keep "
            f"{CONTENT_FILE} (the app's name, tagline and features) true to what the app does."
        )
    else:
        task = (
            f"Change {brief.name!r} as the founder asks below, keeping everything else as it "
            f"is, the scripts working and the tests passing.\n\nThe change: {change}"
        )
    block = json.dumps({**brief.model_dump(), "change": change}, indent=2)
    return (
        f"{task}\n\n"
        f"The problem it solves: {brief.problem}\n"
        f"Who it is for: {brief.users}\n"
        f"Core features:\n{features}\n"
        f"It must not:\n{non_goals}\n\n"
        f"The brief, for tools:\n```{FENCE}\n{block}\n```\n"
    )

"""A build's stages: their words, the bar, where a retry starts; versions and the prompt."""

from __future__ import annotations

import json

from paddock.domain.builder.brief import Brief, Feature
from paddock.domain.builder.builds import (
    STAGES,
    BuildStatus,
    failure_sentence,
    progress,
    retry_stage,
    stages_from,
)
from paddock.domain.builder.prompts import FENCE, build_prompt
from paddock.domain.builder.templates import AppTemplate
from paddock.domain.builder.versions import next_version, parse_version, tag_name
from paddock.domain.entities import Scripts


def test_the_bar_moves_stage_by_stage_and_stops_where_a_build_failed() -> None:
    assert progress(BuildStatus.queued) == 0
    assert [progress(s) for s in STAGES] == [0, 20, 40, 60, 80]
    assert progress(BuildStatus.ready) == 100
    assert progress(BuildStatus.failed, BuildStatus.deps) == 60
    assert progress(BuildStatus.cancelled, None) == 0


def test_a_retry_starts_at_the_stage_that_failed() -> None:
    assert retry_stage(BuildStatus.checks) is BuildStatus.checks
    assert retry_stage(None) is BuildStatus.starting
    assert retry_stage(BuildStatus.queued) is BuildStatus.starting
    assert stages_from(BuildStatus.deps) == (BuildStatus.deps, BuildStatus.checks)


def test_every_stage_says_its_failure_in_one_plain_sentence() -> None:
    sentences = {failure_sentence(s) for s in STAGES}
    assert len(sentences) == len(STAGES)
    assert failure_sentence(BuildStatus.deps) == (
        "We hit an issue installing dependencies. Want us to try again?"
    )
    assert all(BuildStatus(s).label.endswith("…") for s in STAGES)


def test_versions_count_up_and_ignore_other_tags() -> None:
    assert next_version([]) == "v0.1"
    assert next_version(["v0.1", "v0.9", "release", "v0.10"]) == "v0.11"
    assert parse_version("v1.2") == (1, 2) and parse_version("1.2") is None
    assert tag_name("", "v0.1") == "v0.1" and tag_name("gigs/", "v0.1") == "gigs/v0.1"


def test_the_prompt_carries_the_brief_for_people_and_for_tools() -> None:
    brief = Brief(
        name="Gig list",
        problem="Fans miss gigs.",
        users="Fans",
        features=[Feature(name="Next gigs", description="dates")],
        non_goals=["No tickets"],
    )
    template = AppTemplate("static-site", "Static site", "s", ("HTML",), (), (), False, Scripts())
    first = build_prompt(brief, template)
    assert "Next gigs: dates" in first and "No tickets" in first and "Static site" in first
    block = first.split(f"```{FENCE}\n", 1)[1].split("\n```", 1)[0]
    assert json.loads(block)["change"] is None
    change = build_prompt(brief, template, "Add a map")
    assert "The change: Add a map" in change
    assert json.loads(change.split(f"```{FENCE}\n", 1)[1].split("\n```", 1)[0])["change"] == (
        "Add a map"
    )

"""A template's manifest, and the plan options made from templates or from a model."""

from __future__ import annotations

import pytest

from paddock.domain.builder.templates import (
    AppTemplate,
    Plan,
    PlanOption,
    check_plan,
    parse_manifest,
    template_options,
)
from paddock.domain.entities import Scripts
from paddock.domain.errors import InvalidInput

GOOD = """
label = "Static site"
summary = "Pages."
stack = ["HTML"]
pros = ["fast"]
cons = ["static"]
order = 2
[scripts]
dev = "python3 -m http.server $PORT"
unit_test = "python3 run_tests.py"
"""


def test_a_manifest_becomes_a_template() -> None:
    template = parse_manifest("static-site", GOOD)
    assert template.label == "Static site" and template.order == 2
    assert template.scripts.unit_test == "python3 run_tests.py" and not template.needs_network


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("label = ", "is not TOML"),
        ('summary = "s"\n[scripts]\ndev = "x"', "needs `label`"),
        ('label = "l"\nsummary = "s"\n[scripts]\nunit_test = "x"', "needs a dev script"),
        ('label = "l"\nsummary = "s"\n[scripts]\ndev = "x"\nbuild = "y"', "may only name"),
        ('label = "l"\nsummary = "s"\nstack = "HTML"\n[scripts]\ndev = "x"', "list of text"),
    ],
)
def test_a_bad_manifest_says_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says) as refused:
        parse_manifest("t", text)
    assert refused.value.code == "bad_template"


def _template(name: str, order: int, network: bool) -> AppTemplate:
    return AppTemplate(
        name, name.title(), "s", (), ("p",), ("c",), network, Scripts(dev="d"), order
    )


def test_the_offline_plan_recommends_the_first_template_that_needs_no_network() -> None:
    templates = [
        _template("vite", 1, True),
        _template("static", 2, False),
        _template("api", 3, True),
    ]
    options = template_options(templates, offline=True)
    assert [o.template for o in options] == ["vite", "static", "api"]
    assert [o.recommended for o in options] == [False, True, False]
    assert "Needs internet to install its packages" in options[0].cons
    assert template_options(templates, offline=False)[0].recommended


def test_a_models_plan_is_kept_to_known_templates_with_one_recommended() -> None:
    templates = [_template("static", 1, False), _template("api", 2, True)]
    plan = Plan(
        options=[
            PlanOption(template="ghost", title="G", recommended=True),
            PlanOption(template="api", title="A", recommended=True),
            PlanOption(template="static", title="S", recommended=True),
        ]
    )
    options = check_plan(plan, templates)
    assert [(o.template, o.recommended) for o in options] == [("api", True), ("static", False)]
    with pytest.raises(InvalidInput) as refused:
        check_plan(Plan(options=[PlanOption(template="ghost", title="G")]), templates)
    assert refused.value.code == "bad_plan"

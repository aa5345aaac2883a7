"""Feature flags: parts of Paddock that can be switched off, and which are in beta.

Each flag has a default here; a data dir's settings (`features` in paddock.toml, or
PADDOCK_FEATURES as JSON) override it. A switched-off feature's routes answer 403
`feature_disabled` and its UI is hidden; a beta one is labelled "Beta" in the UI.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from paddock.domain.errors import PaddockError


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    description: str
    default: bool = True
    beta: bool = False


FEATURES: Mapping[str, Feature] = {
    f.name: f
    for f in (
        Feature("builder", "The builder face: an app from an idea, built and versioned"),
        Feature(
            "builder_chat",
            "The builder's floating chat: answers about the app and acts on it",
            beta=True,
        ),
        Feature(
            "deploy_readiness",
            "Ship: a version's deploy readiness, deploy paths and its export",
            beta=True,
        ),
    )
}


class FeatureDisabled(PaddockError):
    code = "feature_disabled"
    http_status = 403


def check_overrides(overrides: Mapping[str, bool]) -> None:
    """Refuse a flag Paddock does not have (a typo would otherwise switch nothing off)."""
    unknown = sorted(set(overrides) - set(FEATURES))
    if unknown:
        raise ValueError(f"no such feature: {', '.join(unknown)} (known: {', '.join(FEATURES)})")


def enabled(name: str, overrides: Mapping[str, bool]) -> bool:
    return overrides.get(name, FEATURES[name].default)


def require(name: str, overrides: Mapping[str, bool]) -> None:
    if not enabled(name, overrides):
        feature = FEATURES[name]
        raise FeatureDisabled(
            f"{feature.description} is switched off on this server (feature `{name}`)",
            feature=name,
        )

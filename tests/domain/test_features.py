"""Feature flags: their defaults, overrides, a typo refused, a switched-off feature's 403; and
the settings that carry them, with the builder's tiers."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
import pytest
from pydantic import ValidationError

from paddock.config import BuilderSettings, Settings
from paddock.config.groups import FlagSettings
from paddock.domain.errors import PaddockError
from paddock.domain.features import (
    FEATURES,
    FeatureDisabled,
    check_overrides,
    enabled,
    require,
)


def test_the_flags_and_their_defaults() -> None:
    assert sorted(FEATURES) == ["builder", "builder_chat", "deploy_readiness"]
    assert all(feature.default for feature in FEATURES.values())
    assert {name for name, feature in FEATURES.items() if feature.beta} == {
        "builder_chat",
        "deploy_readiness",
    }
    assert all(enabled(name, {}) for name in FEATURES)


def test_an_override_switches_one_flag_only() -> None:
    overrides = {"builder_chat": False}
    assert not enabled("builder_chat", overrides)
    assert enabled("builder", overrides) and enabled("deploy_readiness", overrides)
    assert enabled("builder_chat", {"builder_chat": True})


def test_an_unknown_flag_is_refused_naming_the_known_ones() -> None:
    check_overrides({"builder": False, "deploy_readiness": True})  # known: no error
    with pytest.raises(ValueError) as caught:
        check_overrides({"builder_chta": False, "builder": True, "aaa": True})
    message = str(caught.value)
    assert message.startswith("no such feature: aaa, builder_chta (known: ")
    for name in FEATURES:
        assert name in message.split("known: ", 1)[1]


def test_require_passes_an_enabled_feature() -> None:
    require("builder", {})
    require("builder_chat", {"builder_chat": True})


def test_require_refuses_a_switched_off_feature_with_403() -> None:
    with pytest.raises(FeatureDisabled) as caught:
        require("deploy_readiness", {"deploy_readiness": False})
    error = caught.value
    assert isinstance(error, PaddockError)
    assert error.code == "feature_disabled" and error.http_status == 403
    assert error.details == {"feature": "deploy_readiness"}
    assert "`deploy_readiness`" in error.message
    assert FEATURES["deploy_readiness"].description in error.message


# -- settings ---------------------------------------------------------------------------------


def test_flag_settings_refuse_an_unknown_flag() -> None:
    assert FlagSettings().features == {}
    assert FlagSettings(features={"builder_chat": False}).enabled("builder_chat") is False
    assert FlagSettings().enabled("builder_chat") is True
    with pytest.raises(ValidationError, match="no such feature: chat"):
        FlagSettings(features={"chat": False})


def test_settings_refuse_an_unknown_flag_by_its_flat_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # No PADDOCK_* variable of the caller's and a data dir of the test's own (as test_config).
    for name in [n for n in os.environ if n.upper().startswith("PADDOCK_")]:
        monkeypatch.delenv(name)
    monkeypatch.setattr(platformdirs, "user_data_dir", lambda *_a, **_k: str(tmp_path))
    with pytest.raises(ValidationError, match="no such feature: builder_chta"):
        Settings(features={"builder_chta": False})


def test_builder_settings_default_to_the_partner_tier() -> None:
    settings = BuilderSettings()
    assert settings.tier == "partner"
    assert settings.tiers == {"starter": 3, "partner": 5, "studio": 10}
    assert settings.iteration_limit == 5
    assert BuilderSettings(tier="studio").iteration_limit == 10
    assert BuilderSettings(tier="solo", tiers={"solo": 1}).iteration_limit == 1


def test_builder_settings_refuse_a_tier_not_in_tiers() -> None:
    with pytest.raises(ValidationError, match="builder_tier 'gold' is not one of starter"):
        BuilderSettings(tier="gold")
    with pytest.raises(ValidationError, match="'partner' is not one of solo"):
        BuilderSettings(tiers={"solo": 2})


@pytest.mark.parametrize("limit", [0, -1])
def test_builder_settings_refuse_a_limit_under_one(limit: int) -> None:
    with pytest.raises(ValidationError, match="at least 1 iteration: starter"):
        BuilderSettings(tiers={"starter": limit, "partner": 5})


def test_builder_settings_refuse_no_tiers() -> None:
    with pytest.raises(ValidationError, match="name at least one tier"):
        BuilderSettings(tiers={})

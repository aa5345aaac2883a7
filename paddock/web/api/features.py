"""/api/features: the feature flags, for the UI to hide what is off and label what is beta."""

from __future__ import annotations

from fastapi import APIRouter

from paddock.domain.features import FEATURES
from paddock.domain.public import FeatureFlagPublic
from paddock.web.deps import SettingsDep

router = APIRouter(tags=["features"])


@router.get("/features", operation_id="list_features")
async def list_features(settings: SettingsDep) -> list[FeatureFlagPublic]:
    """Every flag, its state on this server (defaults, overridden by the data dir's
    `features` setting) and whether it is in beta."""
    return [
        FeatureFlagPublic(
            name=f.name,
            description=f.description,
            enabled=settings.flags.enabled(f.name),
            beta=f.beta,
        )
        for f in FEATURES.values()
    ]

"""`GET /metrics`: Paddock's metrics in Prometheus' text format, behind the API's token like
every other path (the access guard, web/access.py). docs/reliability.md lists them.

prometheus_client is imported by the first scrape (web/prometheus.py), not at start: an idle
server that nobody scrapes never loads it (decision 020)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from paddock.web.deps import MetricsDep

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(service: MetricsDep) -> Response:
    snapshot = await service.read()
    from paddock.web.prometheus import CONTENT_TYPE, exposition

    return Response(
        exposition(snapshot), media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"}
    )

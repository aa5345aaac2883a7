"""The ASGI app: JSON API under /api, SSE streams, API docs from local files."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.routing import Route

from paddock import __version__
from paddock.config import Settings
from paddock.domain.errors import Unavailable
from paddock.mcp.attempt_channel import channel_server, import_the_sdk_ahead
from paddock.mcp.http import METHODS as MCP_METHODS
from paddock.mcp.http import PATH as MCP_PATH
from paddock.mcp.http import McpEndpoint
from paddock.runtime.launcher import Launcher
from paddock.services.engine import Engine
from paddock.services.server_access import ServerAccess
from paddock.web.access import AccessGuard, HostGuard
from paddock.web.api import (
    agents,
    apps,
    artifacts,
    attempts,
    board,
    chat,
    decisions,
    deploy,
    diffs,
    entries,
    events,
    features,
    follow_ups,
    health,
    merges,
    openapi,
    previews,
    processes,
    projects,
    runners,
    steps,
    tasks,
    test_runs,
)
from paddock.web.error_docs import complete_error_responses
from paddock.web.errors import install_error_handlers
from paddock.web.guard import SandboxGuard
from paddock.web.observe import install_observability
from paddock.web.proxy.gateway import PreviewGateway
from paddock.web.proxy.routing import PreviewProxy
from paddock.web.ui import attempt_header as ui_attempt_header
from paddock.web.ui import attempts as ui_attempts
from paddock.web.ui import board as ui_board
from paddock.web.ui import builder as ui_builder
from paddock.web.ui import git_actions as ui_git_actions
from paddock.web.ui import login as ui_login
from paddock.web.ui import previews as ui_previews
from paddock.web.ui import projects as ui_projects
from paddock.web.ui import settings as ui_settings
from paddock.web.ui import tasks as ui_tasks
from paddock.web.ui import test_views as ui_test_views
from paddock.web.ui import workflow as ui_workflow

STATIC_DIR = Path(__file__).with_name("static")
SWAGGER_DIR = STATIC_DIR / "vendor" / "swagger-ui"


def _operation_id(route: APIRoute) -> str:
    # Stable ids, named in each router, never derived from paths.
    return route.operation_id or route.name


def _documented(generate: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """FastAPI's document with every error answer in it (web/error_docs.py). Idempotent, so
    it runs on each call: FastAPI regenerates the document when routes change."""

    def openapi() -> dict[str, Any]:
        return complete_error_responses(generate())

    return openapi


def create_app(settings: Settings | None = None, *, launcher: Launcher | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = Engine(settings, launcher=launcher)
    mcp = McpEndpoint(engine)  # the user's MCP server (docs/mcp.md)
    # Each attempt's own MCP server, on its channel while its agent runs (docs/mcp.md).
    engine.attempts.turns.channels.server = channel_server(engine)
    engine.attempts.turns.channels.warm_up = import_the_sdk_ahead

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await engine.start()
        try:
            async with mcp.running():  # its sessions end before the engine closes
                yield
        finally:
            await engine.close()

    app = FastAPI(
        title="Paddock",
        version=__version__,
        summary="Coding agents on a kanban board, each attempt in its own environment.",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    app.openapi = _documented(app.openapi)  # type: ignore[method-assign]
    app.state.engine = engine
    # e2e runs in a network of their own reach previews through this gate, and nothing else.
    # The previews' data plane sends it what HAProxy does not serve itself (decision 018).
    engine.test_runs.gate = engine.previews.plane.gate = PreviewGateway(engine)
    app.state.access = access = ServerAccess(settings)
    install_error_handlers(app)
    install_observability(app, settings.previews.domain)  # request ids, timings, /metrics
    # Outermost last. The sandbox guard is defence in depth: with network `host` a sandbox
    # shares the loopback, and the token it does not have is the wall.
    app.add_middleware(AccessGuard, access=access)
    app.add_middleware(SandboxGuard, sandbox_uid=engine.sandboxes.sandbox_uid())
    # Outside the access guard: previews have keys of their own (an e2e run's included).
    app.add_middleware(PreviewProxy, engine=engine)
    app.add_middleware(
        HostGuard,
        allowed_hosts=settings.server.allowed_hosts,
        preview_domain=settings.previews.domain,
    )

    api = APIRouter(prefix="/api")
    for module in (
        health,
        projects,
        board,
        tasks,
        attempts,
        follow_ups,
        processes,
        previews,
        diffs,
        merges,
        steps,
        test_runs,
        artifacts,
        openapi,
        entries,
        agents,
        apps,
        decisions,
        deploy,
        chat,
        features,
        events,
        runners,
    ):
        api.include_router(module.router)
    app.include_router(api)
    # Behind the same guards as /api (the middleware above wraps every route).
    app.router.routes.append(Route(MCP_PATH, mcp, methods=MCP_METHODS, include_in_schema=False))
    for page in (
        ui_login,
        ui_projects,
        ui_board,
        ui_tasks,
        ui_attempts,
        ui_previews,
        ui_git_actions,
        ui_attempt_header,
        ui_test_views,
        ui_workflow,
        ui_settings,
        ui_builder,
    ):
        app.include_router(page.router)

    @app.get("/api/docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        if not (SWAGGER_DIR / "swagger-ui-bundle.js").is_file():
            raise Unavailable(
                "the API docs assets are not installed; run ./scripts/install",
                code="assets_missing",
            )
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/api/openapi.json",
            title="Paddock API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
        )

    STATIC_DIR.mkdir(exist_ok=True)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    logging.getLogger("paddock").setLevel(settings.server.log_level.upper())
    return app

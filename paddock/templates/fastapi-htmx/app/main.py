"""The app's server: the home page rendered from app.json (the app's name, tagline, users,
features and "What's new"), a feature's details as an htmx partial, and app.json itself.

app.json is read on every request, so a change to it shows on the next page load without a
restart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "app.json"

app = FastAPI(title="My app")
app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def load_content() -> dict[str, Any]:
    """The app's content, with every key the pages use present."""
    content = json.loads(CONTENT.read_text(encoding="utf-8"))
    return {
        "name": content.get("name") or "My app",
        "tagline": content.get("tagline", ""),
        "users": content.get("users", ""),
        "features": content.get("features", []),
        "changes": content.get("changes", []),
    }


@app.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "index.html", {"app": load_content()})


@app.get("/features/{index}", response_class=HTMLResponse)
def feature_details(request: Request, index: int) -> HTMLResponse:
    """One feature's details, swapped into the home page by htmx."""
    content = load_content()
    features = content["features"]
    if not 0 <= index < len(features):
        raise HTTPException(status_code=404, detail="No such feature")
    context = {"app": content, "feature": features[index], "number": index + 1}
    return templates.TemplateResponse(request, "feature.html", context)


@app.get("/app.json")
def content_file() -> dict[str, Any]:
    return load_content()

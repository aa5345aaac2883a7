"""Signing in: the page a browser without a session is sent to, and signing out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from paddock.domain.origins import safe_next
from paddock.services.server_access import ServerAccess
from paddock.web.access import LOGIN_PATH, session_cookie
from paddock.web.ui.templating import render

router = APIRouter(include_in_schema=False)


def _access(request: Request) -> ServerAccess:
    access: ServerAccess = request.app.state.access
    return access


@router.get(LOGIN_PATH, response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login/login.html", {"next": safe_next(next), "failed": False})


@router.post(LOGIN_PATH, response_model=None)
async def sign_in(
    request: Request, token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/"
) -> Response:
    access = _access(request)
    if not access.token_valid(token.strip()):
        context = {"next": safe_next(next), "failed": True}
        return render(request, "login/login.html", context, status_code=401)
    response = RedirectResponse(safe_next(next), status_code=303)
    cookie = session_cookie(access, access.new_session(), secure=request.url.scheme == "https")
    response.headers.append("set-cookie", cookie)
    return response


@router.post("/logout")
async def sign_out(request: Request) -> Response:
    access = _access(request)
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    response.headers.append(
        "set-cookie", f"{access.cookie_name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
    )
    return response

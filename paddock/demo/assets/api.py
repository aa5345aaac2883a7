"""The demo app's API: what each route answers, and the OpenAPI document that describes it."""

from __future__ import annotations

from collections.abc import Callable

GREETING = "Hello, world"

# The query parameters of GET /api/greeting, as the OpenAPI document lists them.
GREETING_PARAMETERS: list[dict[str, object]] = []


def greeting(query: dict[str, list[str]]) -> dict[str, str]:
    """GET /api/greeting: the greeting the home page shows."""
    return {"greeting": GREETING}


ROUTES: dict[str, Callable[[dict[str, list[str]]], dict[str, str]]] = {
    "/api/greeting": greeting,
}


def openapi() -> dict[str, object]:
    """The API's OpenAPI document (Paddock's API tab shows it, and what an attempt changed)."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "Hello Paddock", "version": "1.0.0"},
        "paths": {
            "/api/greeting": {
                "get": {
                    "operationId": "getGreeting",
                    "summary": "The greeting the home page shows",
                    "parameters": GREETING_PARAMETERS,
                    "responses": {
                        "200": {
                            "description": "The greeting",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Greeting"}
                                }
                            },
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Greeting": {
                    "type": "object",
                    "required": ["greeting"],
                    "properties": {"greeting": {"type": "string"}},
                }
            }
        },
    }

"""JSON's scalars as the API's bodies take them: a boolean is `true` or `false` (not 0 or
"yes"), a whole number is a JSON integer (not "5", not `false`), as the OpenAPI document says.

Pydantic's lax mode would coerce those, so a body the document calls invalid would be accepted
(tests/web/test_openapi_conformance.py). The UI's forms send every value as text (a checkbox
as "on", a number as "5"): forms.parse validates with `strict=False`, which lifts these marks.
"""

from __future__ import annotations

from typing import Annotated, Any

from annotated_types import Ge
from pydantic import BeforeValidator, Strict


def integral(value: Any) -> Any:
    """JSON Schema counts 3.0 as an integer; Python's strict int does not. (A bound goes in
    the Annotated before this validator: after it, pydantic's schema would lose it.)"""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# The largest seq, offset or id number a request may name: JSON's safe integers, well inside
# SQLite's and PostgreSQL's 64 bits (one more than the largest must still fit).
MAX_INDEX = 2**53 - 1

Flag = Annotated[bool, Strict()]
Index = Annotated[int, Strict(), Ge(0), BeforeValidator(integral)]  # a place, a count
# Strict still takes a JSON integer for a number, as JSON Schema's `number` does.
Number = Annotated[float, Strict()]

"""Reading OpenAPI specs safely; what changed between a base spec and an attempt's, by endpoint."""

import copy
import json
from typing import Any

import pytest

from paddock.domain.openapi_diff import Endpoint, EndpointChange, SpecDiff, diff_specs
from paddock.domain.openapi_spec import SpecError, SpecTooLarge, load_spec
from paddock.domain.reports import DEFAULT_LIMITS, MAX_SPEC_DEPTH, ReportLimits, ReportTooLarge

JSON = "application/json"


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {JSON: {"schema": schema}}}


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def ok(schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": "Successful Response", **json_body(schema)}


VALIDATION_ERROR = {"description": "Validation Error", **json_body(ref("HTTPValidationError"))}


def fastapi_spec() -> dict[str, Any]:
    """What FastAPI serves at /openapi.json for a small shop."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Shop", "version": "1.0.0"},
        "paths": {
            "/items": {
                "get": {
                    "tags": ["items", "public"],
                    "summary": "List Items",
                    "operationId": "list_items_items_get",
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "required": False,
                            "schema": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                        },
                        {
                            "name": "skip",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "default": 0, "title": "Skip"},
                        },
                    ],
                    "responses": {
                        "200": ok({"type": "array", "items": ref("Item")}),
                        "422": VALIDATION_ERROR,
                    },
                },
                "post": {
                    "tags": ["items"],
                    "summary": "Create Item",
                    "operationId": "create_item_items_post",
                    "requestBody": {"required": True, **json_body(ref("ItemIn"))},
                    "responses": {"201": ok(ref("Item")), "422": VALIDATION_ERROR},
                },
            },
            "/items/{item_id}": {
                "get": {
                    "summary": "Read Item",
                    "parameters": [
                        {
                            "name": "item_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "title": "Item Id"},
                        }
                    ],
                    "responses": {"200": ok(ref("Item")), "422": VALIDATION_ERROR},
                },
                "delete": {
                    "summary": "Delete Item",
                    "parameters": [
                        {"name": "item_id", "in": "path", "required": True, "schema": {}}
                    ],
                    "responses": {"204": {"description": "Deleted"}, "422": VALIDATION_ERROR},
                },
            },
        },
        "components": {
            "schemas": {
                "Item": {
                    "type": "object",
                    "title": "Item",
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "price": {"type": "number"},
                    },
                    "required": ["id", "name", "price"],
                },
                "ItemIn": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
                    "required": ["name", "price"],
                },
                "HTTPValidationError": {
                    "type": "object",
                    "properties": {"detail": {"type": "array", "items": ref("ValidationError")}},
                },
                "ValidationError": {
                    "type": "object",
                    "properties": {"loc": {"type": "array"}, "msg": {"type": "string"}},
                    "required": ["loc", "msg"],
                },
            }
        },
    }


def swagger2_spec() -> dict[str, Any]:
    return {
        "swagger": "2.0",
        "info": {"title": "Petstore", "version": "1.0.5"},
        "basePath": "/v2",
        "paths": {
            "/pet": {
                "post": {
                    "summary": "Add a new pet to the store",
                    "consumes": ["application/json"],
                    "parameters": [
                        {
                            "in": "body",
                            "name": "body",
                            "required": True,
                            "schema": {"$ref": "#/definitions/Pet"},
                        }
                    ],
                    "responses": {"405": {"description": "Invalid input"}},
                }
            },
            "/pet/{petId}": {
                "get": {
                    "summary": "Find pet by ID",
                    "parameters": [
                        {"name": "petId", "in": "path", "required": True, "type": "integer"}
                    ],
                    "responses": {
                        "200": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"}},
                        "404": {"description": "Pet not found"},
                    },
                }
            },
        },
        "definitions": {
            "Pet": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "category": {"$ref": "#/definitions/Category"},
                },
            },
            "Category": {"type": "object", "properties": {"name": {"type": "string"}}},
        },
    }


def operation(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = spec["paths"][path][method]
    return found


def changes_of(diff: SpecDiff) -> dict[str, list[str]]:
    return {f"{change.method} {change.path}": change.changes for change in diff.changed}


# ---------------------------------------------------------------- the diff


def test_identical_specs_are_unchanged() -> None:
    diff = diff_specs(fastapi_spec(), fastapi_spec())
    assert diff == SpecDiff([], [], [], [], [], [], "1.0.0", "1.0.0")
    assert diff.unchanged


def test_a_new_version_alone_is_a_difference() -> None:
    head = fastapi_spec()
    head["info"]["version"] = "1.1.0"
    diff = diff_specs(fastapi_spec(), head)
    assert (diff.base_version, diff.head_version, diff.unchanged) == ("1.0.0", "1.1.0", False)
    assert diff.changed == [] and diff.added == [] and diff.removed == []


def reversed_everywhere(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: reversed_everywhere(node[key]) for key in reversed(list(node))}
    if isinstance(node, list):
        return [reversed_everywhere(item) for item in reversed(node)]
    return node


def test_order_of_keys_parameters_required_and_tags_is_not_a_change() -> None:
    head = reversed_everywhere(fastapi_spec())
    assert operation(head, "/items", "get")["parameters"][0]["name"] == "skip"
    assert operation(head, "/items", "get")["tags"] == ["public", "items"]
    assert head["components"]["schemas"]["Item"]["required"] == ["price", "name", "id"]
    assert diff_specs(fastapi_spec(), head).unchanged


def test_endpoints_added_and_removed_are_listed_in_path_then_method_order() -> None:
    head = fastapi_spec()
    del head["paths"]["/items/{item_id}"]["delete"]
    head["paths"]["/items/{item_id}"]["put"] = {"summary": "Replace Item", "responses": {}}
    head["paths"]["/items/{item_id}"]["patch"] = {"responses": {}}
    head["paths"]["/health"] = {"get": {"summary": "Health", "responses": {}}}
    diff = diff_specs(fastapi_spec(), head)
    assert diff.added == [
        Endpoint("GET", "/health", "Health"),
        Endpoint("PUT", "/items/{item_id}", "Replace Item"),
        Endpoint("PATCH", "/items/{item_id}", ""),
    ]
    assert diff.removed == [Endpoint("DELETE", "/items/{item_id}", "Delete Item")]
    assert diff.changed == []
    assert not diff.unchanged


def test_parameter_changes_each_have_their_line() -> None:
    head = fastapi_spec()
    parameters = operation(head, "/items", "get")["parameters"]
    parameters[0]["required"] = True  # q
    parameters[1]["schema"]["default"] = 10  # skip
    parameters.append({"name": "limit", "in": "query", "schema": {"type": "integer"}})
    parameters.append({"name": "X-Trace", "in": "header", "schema": {"type": "string"}})
    operation(head, "/items/{item_id}", "delete")["parameters"] = []
    diff = diff_specs(fastapi_spec(), head)
    assert changes_of(diff) == {
        "GET /items": [
            "parameter `limit` (query) added",
            "parameter `q` (query) is now required",
            "parameter `skip` (query) changed",
            "parameter `X-Trace` (header) added",
        ],
        "DELETE /items/{item_id}": ["parameter `item_id` (path) removed"],
    }
    back = changes_of(diff_specs(head, fastapi_spec()))
    assert back["GET /items"][1] == "parameter `q` (query) is no longer required"


def test_operation_level_changes_each_have_their_line() -> None:
    head = fastapi_spec()
    get = operation(head, "/items/{item_id}", "get")
    get["summary"] = "Read One Item"
    get["description"] = "Reads an item."
    get["operationId"] = "read_item"
    get["tags"] = ["items"]
    get["deprecated"] = True
    get["security"] = [{"OAuth2": ["items:read"]}]
    get["responses"]["404"] = {"description": "Not Found"}
    del get["responses"]["422"]
    get["responses"]["200"]["description"] = "The item"
    get["x-rate-limit"] = 10
    diff = diff_specs(fastapi_spec(), head)
    assert diff.changed == [
        EndpointChange(
            "GET",
            "/items/{item_id}",
            "Read One Item",
            [
                "summary changed",
                "description changed",
                "operation id changed",
                "tags changed",
                "deprecated",
                "response 200 changed",
                "response 404 added",
                "response 422 removed",
                "security changed",
                "`x-rate-limit` changed",
            ],
        )
    ]
    assert changes_of(diff_specs(head, fastapi_spec()))["GET /items/{item_id}"][4] == (
        "no longer deprecated"
    )


def test_request_body_added_removed_and_changed() -> None:
    head = fastapi_spec()
    operation(head, "/items", "post")["requestBody"]["content"]["application/xml"] = {}
    operation(head, "/items/{item_id}", "delete")["requestBody"] = json_body({"type": "object"})
    diff = diff_specs(fastapi_spec(), head)
    assert changes_of(diff) == {
        "POST /items": ["request body changed"],
        "DELETE /items/{item_id}": ["request body added"],
    }
    assert changes_of(diff_specs(head, fastapi_spec()))["DELETE /items/{item_id}"] == [
        "request body removed"
    ]


def test_a_change_inside_a_shared_schema_shows_on_every_endpoint_using_it() -> None:
    head = fastapi_spec()
    head["components"]["schemas"]["Item"]["properties"]["tags"] = {"type": "array"}
    diff = diff_specs(fastapi_spec(), head)
    assert changes_of(diff) == {
        "GET /items": ["response 200 changed"],
        "POST /items": ["response 201 changed"],
        "GET /items/{item_id}": ["response 200 changed"],
    }
    assert (diff.schemas_added, diff.schemas_removed, diff.schemas_changed) == ([], [], ["Item"])


def test_a_change_two_refs_deep_shows_on_every_endpoint_and_names_only_the_edited_schema() -> None:
    head = fastapi_spec()
    head["components"]["schemas"]["ValidationError"]["properties"]["type"] = {"type": "string"}
    diff = diff_specs(fastapi_spec(), head)
    assert changes_of(diff) == {
        "GET /items": ["response 422 changed"],
        "POST /items": ["response 422 changed"],
        "GET /items/{item_id}": ["response 422 changed"],
        "DELETE /items/{item_id}": ["response 422 changed"],
    }
    assert diff.schemas_changed == ["ValidationError"]


def test_a_request_body_schema_change_is_a_request_body_change() -> None:
    head = fastapi_spec()
    head["components"]["schemas"]["ItemIn"]["required"] = ["name"]
    diff = diff_specs(fastapi_spec(), head)
    assert changes_of(diff) == {"POST /items": ["request body changed"]}
    assert diff.schemas_changed == ["ItemIn"]


def test_a_renamed_schema_changes_the_endpoints_using_it() -> None:
    # Names are part of what a ref reaches (generated clients name their types after them).
    head = json.loads(json.dumps(fastapi_spec()).replace("schemas/ItemIn", "schemas/ItemCreate"))
    head["components"]["schemas"]["ItemCreate"] = head["components"]["schemas"].pop("ItemIn")
    diff = diff_specs(fastapi_spec(), head)
    assert changes_of(diff) == {"POST /items": ["request body changed"]}
    assert (diff.schemas_added, diff.schemas_removed) == (["ItemCreate"], ["ItemIn"])


def test_a_renamed_path_parameter_is_the_same_endpoint() -> None:
    head = fastapi_spec()
    item = head["paths"].pop("/items/{item_id}")
    for method in ("get", "delete"):
        item[method]["parameters"][0]["name"] = "id"
    head["paths"]["/items/{id}"] = item
    diff = diff_specs(fastapi_spec(), head)
    assert diff.added == [] and diff.removed == []
    assert changes_of(diff) == {
        "GET /items/{id}": ["path parameter `item_id` renamed to `id`"],
        "DELETE /items/{id}": ["path parameter `item_id` renamed to `id`"],
    }


def test_path_level_parameters_apply_to_every_operation_and_can_be_overridden() -> None:
    def spec(tenant_required: bool) -> dict[str, Any]:
        tenant = {"name": "X-Tenant", "in": "header", "required": tenant_required}
        return {
            "openapi": "3.0.3",
            "info": {"version": "2"},
            "paths": {
                "/orders": {
                    "parameters": [tenant],
                    "get": {"responses": {}},
                    "post": {
                        "parameters": [{"name": "X-Tenant", "in": "header", "required": True}],
                        "responses": {},
                    },
                    "delete": {"responses": {}},
                }
            },
        }

    diff = diff_specs(spec(False), spec(True))
    assert changes_of(diff) == {
        "GET /orders": ["parameter `X-Tenant` (header) is now required"],
        "DELETE /orders": ["parameter `X-Tenant` (header) is now required"],
    }


def tree_spec(node_properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"version": "1"},
        "paths": {
            "/nodes": {"get": {"responses": {"200": ok(ref("Node"))}}},
            "/branches": {"get": {"responses": {"200": ok(ref("Branch"))}}},
            "/trees": {"get": {"responses": {"200": ok(ref("Tree"))}}},
        },
        "components": {
            "schemas": {
                "Node": {
                    "type": "object",
                    "properties": {
                        "children": {"type": "array", "items": ref("Node")},
                        **node_properties,
                    },
                },
                "Tree": {"properties": {"root": ref("Branch"), "name": {"type": "string"}}},
                "Branch": {"properties": {"tree": ref("Tree"), "leaves": {"type": "integer"}}},
            }
        },
    }


def test_recursive_schemas_are_compared_without_looping() -> None:
    assert diff_specs(tree_spec({}), tree_spec({})).unchanged
    diff = diff_specs(tree_spec({}), tree_spec({"label": {"type": "string"}}))
    assert changes_of(diff) == {"GET /nodes": ["response 200 changed"]}
    assert diff.schemas_changed == ["Node"]


def test_a_change_in_a_mutually_recursive_schema_shows_from_both_sides() -> None:
    head = tree_spec({})
    head["components"]["schemas"]["Branch"]["properties"]["leaves"] = {"type": "number"}
    diff = diff_specs(tree_spec({}), head)
    assert changes_of(diff) == {
        "GET /branches": ["response 200 changed"],
        "GET /trees": ["response 200 changed"],
    }
    assert diff.schemas_changed == ["Branch"]


def test_missing_and_external_refs_are_compared_as_written() -> None:
    base = tree_spec({})
    base["paths"]["/nodes"]["get"]["responses"]["200"] = ok(ref("Gone"))
    base["paths"]["/trees"]["get"]["responses"]["200"] = ok({"$ref": "other.yaml#/Tree"})
    head = copy.deepcopy(base)
    assert diff_specs(base, head).unchanged
    head["paths"]["/trees"]["get"]["responses"]["200"] = ok({"$ref": "other.yaml#/Forest"})
    assert changes_of(diff_specs(base, head)) == {"GET /trees": ["response 200 changed"]}


def test_global_security_counts_where_an_operation_sets_none_of_its_own() -> None:
    base = fastapi_spec()
    operation(base, "/items", "get")["security"] = []
    head = copy.deepcopy(base)
    head["security"] = [{"OAuth2": ["write", "read"]}]
    diff = diff_specs(base, head)
    assert changes_of(diff) == {
        "POST /items": ["security changed"],
        "GET /items/{item_id}": ["security changed"],
        "DELETE /items/{item_id}": ["security changed"],
    }
    reordered = copy.deepcopy(head)
    reordered["security"] = [{"OAuth2": ["read", "write"]}]
    assert diff_specs(head, reordered).unchanged


def test_swagger2_body_parameter_is_the_request_body_and_definitions_are_schemas() -> None:
    head = swagger2_spec()
    head["definitions"]["Category"]["properties"]["id"] = {"type": "integer", "format": "int64"}
    head["definitions"]["Tag"] = {"type": "object"}
    operation(head, "/pet/{petId}", "get")["parameters"][0]["format"] = "int64"
    diff = diff_specs(swagger2_spec(), head)
    assert changes_of(diff) == {
        "POST /pet": ["request body changed"],
        "GET /pet/{petId}": ["parameter `petId` (path) changed", "response 200 changed"],
    }
    assert (diff.schemas_added, diff.schemas_changed) == (["Tag"], ["Category"])
    assert (diff.base_version, diff.head_version) == ("1.0.5", "1.0.5")


def test_swagger2_body_parameter_removed_is_request_body_removed() -> None:
    head = swagger2_spec()
    operation(head, "/pet", "post")["parameters"] = []
    assert changes_of(diff_specs(swagger2_spec(), head)) == {"POST /pet": ["request body removed"]}


def test_odd_shapes_do_not_crash_the_diff() -> None:
    odd: dict[str, Any] = {
        "openapi": "3.0.0",
        "paths": {"/a": None, "/b": {"get": "nope", "parameters": 3}},
    }
    odd["paths"]["/c"] = {"get": {"parameters": [None, "x"], "responses": [], "tags": "t"}}
    assert diff_specs(odd, {"swagger": "2.0", "paths": []}).removed == [Endpoint("GET", "/c", "")]


# ---------------------------------------------------------------- loading

PETSTORE_YAML = b"""\
openapi: 3.0.3
info:
  title: Petstore
  version: 1.0
x-common: &common
  description: unexpected error
paths:
  /pets/{petId}:
    get:
      summary: Info for a specific pet
      parameters:
        - name: petId
          in: path
          required: true
          schema: {type: string}
      responses:
        200:
          description: Expected response to a valid request
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Pet"
        default: *common
components:
  schemas:
    Pet:
      type: object
      required: [id, name]
      properties:
        id: {type: integer, format: int64}
        name: {type: string}
        born: {type: string, example: 2020-01-31}
"""


def test_yaml_is_read_into_json_values() -> None:
    spec = load_spec(PETSTORE_YAML, "openapi.yaml")
    responses = spec["paths"]["/pets/{petId}"]["get"]["responses"]
    assert list(responses) == ["200", "default"]
    assert responses["default"] == {"description": "unexpected error"}
    assert spec["components"]["schemas"]["Pet"]["properties"]["born"]["example"] == "2020-01-31"
    assert json.loads(json.dumps(spec)) == spec
    assert diff_specs(spec, spec) == SpecDiff([], [], [], [], [], [], "1.0", "1.0")


def test_json_is_read_and_matches_the_same_spec_in_yaml() -> None:
    spec = load_spec(PETSTORE_YAML)
    assert load_spec(json.dumps(spec).encode()) == spec
    assert load_spec(b"\xef\xbb\xbf" + json.dumps(spec).encode()) == spec


def test_swagger2_json_is_read() -> None:
    assert load_spec(json.dumps(swagger2_spec()).encode(), "swagger.json") == swagger2_spec()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "api.bin is neither JSON nor YAML: "),
        (b"openapi: [3.0\n  paths: {", "api.bin is neither JSON nor YAML: "),
        (b'[{"openapi": "3.0.0"}]', "api.bin is not an OpenAPI document: its top level is a list"),
        (b"just some words", "api.bin is not an OpenAPI document: its top level is a string"),
        (b"", "api.bin is empty"),
        (
            b"info:\n  title: Shop\npaths: {}\n",
            "api.bin is not an OpenAPI document: it has no `openapi` or `swagger` field",
        ),
        (b"[" * 100_000, "api.bin is nested too deeply"),
    ],
)
def test_bad_inputs_are_refused_with_a_reason_naming_the_source(data: bytes, reason: str) -> None:
    with pytest.raises(SpecError) as refused:
        load_spec(data, "api.bin")
    assert str(refused.value).startswith(reason)
    assert isinstance(refused.value, ValueError)


def test_the_source_defaults_to_the_spec() -> None:
    with pytest.raises(SpecError, match=r"^the spec is not an OpenAPI document: it has no"):
        load_spec(b'{"paths": {}}')


def test_a_spec_over_16_mb_is_refused_before_parsing() -> None:
    with pytest.raises(
        SpecTooLarge,
        match=r"^big.json is too large: 16,777,217 bytes, over the 16 MB limit for a report "
        r"file; raise `report_max_mb` \(PADDOCK_REPORT_MAX_MB\) to read it$",
    ) as refused:
        load_spec(b" " * (DEFAULT_LIMITS.file_bytes + 1), "big.json")
    assert refused.value.limit == "file_bytes"
    assert isinstance(refused.value, ReportTooLarge) and refused.value.code == "report_too_large"


def test_a_yaml_alias_bomb_is_refused() -> None:
    lines = ["openapi: 3.0.0", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for name, previous in zip("bcdefghi", "abcdefgh", strict=True):
        lines.append(f"{name}: &{name} [{','.join(['*' + previous] * 9)}]")
    bomb = "\n".join(lines).encode()
    assert len(bomb) < 1000  # stands for 9**9 strings
    with pytest.raises(SpecError, match=r"^bomb.yaml expands far beyond its size through YAML"):
        load_spec(bomb, "bomb.yaml")


def test_a_yaml_alias_of_a_long_string_repeated_is_refused() -> None:
    long = "x" * 200_000
    bomb = f'openapi: 3.0.0\ns: &s "{long}"\nmany: [{", ".join(["*s"] * 100)}]\n'.encode()
    with pytest.raises(SpecError, match=r"expands far beyond its size"):
        load_spec(bomb, "strings.yaml")


def test_a_yaml_alias_loop_is_refused() -> None:
    with pytest.raises(
        SpecTooLarge,
        match=r"^loop.yaml is nested too deeply: its maps and lists nest more than 100",
    ):
        load_spec(b"openapi: 3.0.0\nloop: &loop [*loop]\n", "loop.yaml")


def test_a_recursive_schema_compares_the_same_whichever_endpoint_reaches_it_first() -> None:
    base = tree_spec({})
    base["paths"]["/a"] = {"get": {"responses": {"200": ok(ref("Branch"))}}}
    del base["paths"]["/branches"]
    head = copy.deepcopy(base)
    head["paths"]["/a"]["get"]["responses"]["200"] = ok({"type": "string"})
    assert changes_of(diff_specs(base, head)) == {"GET /a": ["response 200 changed"]}


def chain_spec(links: int, last: dict[str, Any]) -> dict[str, Any]:
    schemas = {f"S{i}": {"properties": {"next": ref(f"S{i + 1}")}} for i in range(links)}
    schemas[f"S{links}"] = last
    return {
        "openapi": "3.1.0",
        "paths": {"/first": {"get": {"responses": {"200": ok(ref("S0"))}}}},
        "components": {"schemas": schemas},
    }


def test_a_change_at_the_end_of_a_long_ref_chain_is_seen_without_deep_recursion() -> None:
    base, head = chain_spec(5000, {"type": "string"}), chain_spec(5000, {"type": "integer"})
    diff = diff_specs(base, head)
    assert changes_of(diff) == {"GET /first": ["response 200 changed"]}
    assert diff.schemas_changed == ["S5000"]


def test_schemas_all_referring_to_each_other_are_compared_once_each() -> None:
    def spec(extra: dict[str, Any]) -> dict[str, Any]:
        names = [f"S{i}" for i in range(60)]
        schemas = {name: {"properties": {n: ref(n) for n in names}} for name in names}
        schemas["S42"]["properties"].update(extra)
        paths = {f"/s{i}": {"get": {"responses": {"200": ok(ref(f"S{i}"))}}} for i in range(3)}
        return {"openapi": "3.1.0", "paths": paths, "components": {"schemas": schemas}}

    assert diff_specs(spec({}), spec({})).unchanged
    diff = diff_specs(spec({}), spec({"extra": {"type": "string"}}))
    assert [change.path for change in diff.changed] == ["/s0", "/s1", "/s2"]
    assert diff.schemas_changed == ["S42"]


# -- limits: a spec is hostile input, refused before a document past its limits is built ---------

SMALL = ReportLimits(max_mb=1)  # 65,536 values


def spec_json(**fields: Any) -> bytes:
    return json.dumps(
        {"openapi": "3.0.3", "info": {"title": "x", "version": "1"}, **fields}
    ).encode()


def nested(depth: int) -> Any:
    """A value that nests `depth` levels of lists and maps, itself included."""
    value: Any = []
    for level in range(depth - 1):
        value = {"a": value} if level % 2 else [value]
    return value


def too_large(data: bytes, limits: ReportLimits = DEFAULT_LIMITS) -> SpecTooLarge:
    with pytest.raises(SpecTooLarge) as caught:
        load_spec(data, "api.json", limits)
    error = caught.value
    assert isinstance(error, SpecError) and isinstance(error, ReportTooLarge)
    assert error.code == "report_too_large"
    return error


def test_json_with_more_values_than_its_limit_is_refused_before_it_is_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert SMALL.nodes == 65_536
    fits = spec_json(x=[0] * 65_000)
    assert len(load_spec(fits, "api.json", SMALL)["x"]) == 65_000
    bomb = spec_json(x=[{}] * 70_000)  # 210 kB: far under the byte limit

    def never(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("parsed")

    monkeypatch.setattr(json, "loads", never)
    error = too_large(bomb, SMALL)
    assert error.limit == "nodes"
    assert str(error) == (
        "api.json is too large: more than 65,536 values (65,536 per MB of the 1 MB limit for a "
        "report file); raise `report_max_mb` (PADDOCK_REPORT_MAX_MB) to read it"
    )


def test_json_nested_past_the_depth_limit_is_refused() -> None:
    assert MAX_SPEC_DEPTH == 100
    assert load_spec(spec_json(x=nested(MAX_SPEC_DEPTH - 1)), "api.json")["x"]  # 100 with the top
    error = too_large(spec_json(x=nested(MAX_SPEC_DEPTH)))
    assert error.limit == "depth"
    assert str(error) == (
        "api.json is nested too deeply: its maps and lists nest more than 100 levels deep; this "
        "limit is fixed, far above what a real report needs"
    )


def test_commas_and_brackets_within_json_strings_do_not_count() -> None:
    text = 'a, [b], {c}, \\"[[[[, ' * 20_000  # 90,000 commas, 100,000 brackets, escapes
    spec = load_spec(spec_json(description=text), "api.json", SMALL)
    assert spec["description"] == text


def test_yaml_with_more_nodes_than_its_limit_is_refused_before_it_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import yaml

    bomb = b"openapi: 3.0.0\nx:\n" + b"- 0\n" * 70_000  # 280 kB
    monkeypatch.setattr(yaml, "load", lambda *_a, **_k: pytest.fail("built"))
    error = too_large(bomb, SMALL)
    assert error.limit == "nodes"
    assert str(error).startswith("api.json is too large: more than 65,536 values")


def test_yaml_nested_past_the_depth_limit_is_refused() -> None:
    fits = b"openapi: 3.0.0\nx: " + b"[" * 99 + b"]" * 99 + b"\n"  # 100 with the top map
    deepest: Any = []
    for _ in range(98):
        deepest = [deepest]
    assert load_spec(fits)["x"] == deepest
    error = too_large(b"openapi: 3.0.0\nx: " + b"[" * 100 + b"]" * 100 + b"\n")
    assert error.limit == "depth"


def test_yaml_aliases_cannot_expand_past_the_value_limit() -> None:
    """Within the expansion budget (8 times the input), yet past the limit of values."""
    lines = ["openapi: 3.0.0", "a: &a [" + ", ".join(["0"] * 1_000) + "]"]
    lines.append("b: [" + ", ".join(["*a"] * 100) + "]")  # 100,000 values from 4 kB
    error = too_large("\n".join(lines).encode(), SMALL)
    assert error.limit == "nodes"


def test_the_byte_limit_is_a_setting() -> None:
    limits = ReportLimits(max_mb=1)
    spec = spec_json(description="x" * (limits.file_bytes - 200))
    assert len(spec) <= limits.file_bytes and load_spec(spec, "api.json", limits)
    error = too_large(spec_json(description="x" * limits.file_bytes), limits)
    assert error.limit == "file_bytes"
    assert str(error).startswith("api.json is too large: 1,048,6")

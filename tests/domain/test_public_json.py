"""public_json: what any response or event may show of an environment (domain/secrets.py)."""

from paddock.domain.secrets import MASK, public_json


def test_an_agents_marked_and_secret_looking_values_are_masked() -> None:
    attempt = {
        "id": "a1",
        "agent": {
            "profile": "script",
            "command": "make",
            "env": {"MARKED": "v1", "API_TOKEN": "v2", "PLAIN": "shown"},
            "secret_env": ["MARKED"],
        },
    }
    shown = public_json(attempt)
    assert shown["agent"]["env"] == {"MARKED": MASK, "API_TOKEN": MASK, "PLAIN": "shown"}
    assert shown["agent"]["secret_env"] == ["MARKED"]
    assert shown["agent"]["command"] == "make" and shown["id"] == "a1"
    # The input is not changed: the services' own objects keep their values.
    assert attempt["agent"]["env"]["MARKED"] == "v1"


def test_envs_are_found_at_any_depth() -> None:
    board = {
        "columns": [
            {"cards": [{"attempt": {"agent": {"env": {"X": "v"}, "secret_env": ["X"]}}}]},
            {"cards": [{"attempt": None}]},
        ],
        "steps": [{"agent": {"env": {"GITHUB_TOKEN": "t"}, "secret_env": []}}],
        "variants": [{"name": "fast", "env": {"OPENAI_API_KEY": "k", "MODEL": "m"}}],
    }
    shown = public_json(board)
    assert shown["columns"][0]["cards"][0]["attempt"]["agent"]["env"] == {"X": MASK}
    assert shown["steps"][0]["agent"]["env"] == {"GITHUB_TOKEN": MASK}
    assert shown["variants"][0]["env"] == {"OPENAI_API_KEY": MASK, "MODEL": "m"}


def test_data_without_secrets_comes_back_as_it_is() -> None:
    data = {"id": "p", "env": {"PLAIN": "x"}, "list": [1, "two", {"three": 3}]}
    assert public_json(data) is data
    assert public_json([data]) == [data]
    assert public_json("text") == "text" and public_json(None) is None


def test_odd_shapes_do_not_break_it() -> None:
    data = {"env": {"A": 1, "TOKEN": None}, "secret_env": ["A", 7, None]}
    assert public_json(data)["env"] == {"A": MASK, "TOKEN": MASK}
    assert public_json({"env": "not a map", "secret_env": "A"}) == {
        "env": "not a map",
        "secret_env": "A",
    }

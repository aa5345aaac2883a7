from paddock.domain.secrets import (
    MASK,
    REDACTED,
    is_secret_name,
    keep_masked,
    mask_env,
    redact,
    secret_values,
)
from paddock.domain.workflow import position_between


def test_secret_names():
    for name in ("OPENAI_API_KEY", "GITHUB_TOKEN", "db_password", "CLIENT_SECRET", "PGPASSWORD"):
        assert is_secret_name(name)
    for name in ("PATH", "HOME", "PORT", "MAX_THINKING_TOKENS", "KEYBOARD_LAYOUT"):
        assert not is_secret_name(name)


def test_secret_values_longest_first_and_marked():
    env = {
        "API_KEY": "abcd",
        "LONG_TOKEN": "abcdefgh",
        "PLAIN": "visible",
        "MINE": "hidden1",
        "SHORT_KEY": "ab",
    }
    assert secret_values(env, ["MINE"]) == ["abcdefgh", "hidden1", "abcd"]


def test_mask_env():
    assert mask_env({"API_KEY": "x", "A": "b", "M": "c"}, ["M"]) == {
        "API_KEY": "********",
        "A": "b",
        "M": "********",
    }


def test_a_masked_secret_sent_back_keeps_its_stored_value():
    stored = {"API_KEY": "real", "PLAIN": "old"}
    sent = {"API_KEY": MASK, "PLAIN": MASK, "NEW_TOKEN": MASK, "OTHER": "x"}
    # Only a secret-looking name that has a stored value gets it back; anything else is taken
    # as sent (a plain value of eight stars is a value).
    assert keep_masked(sent, stored) == {
        "API_KEY": "real",
        "PLAIN": MASK,
        "NEW_TOKEN": MASK,
        "OTHER": "x",
    }
    assert keep_masked({"API_KEY": "changed"}, stored) == {"API_KEY": "changed"}


def test_redact_replaces_each_secret_whole_and_each_line_of_a_multi_line_one():
    text = "key abcdefgh then abcd, pem LINE-ONE and LINE-TWO, short ab"
    secrets = ["abcd", "abcdefgh", "LINE-ONE\r\nLINE-TWO", "ab"]
    assert redact(text, secrets) == (
        f"key {REDACTED} then {REDACTED}, pem {REDACTED} and {REDACTED}, short ab"
    )
    assert redact(text, []) == text


def test_positions_fall_between_neighbours():
    assert position_between(None, None) > 0
    assert position_between(1.0, 2.0) == 1.5
    assert position_between(None, 5.0) < 5.0
    assert position_between(5.0, None) > 5.0

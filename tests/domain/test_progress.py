"""An attempt's progress line (domain/progress.py): whatever an agent sends becomes one short
line of plain text."""

from __future__ import annotations

from paddock.domain.progress import MAX_PROGRESS_CHARS, clean_progress


def test_line_breaks_and_tabs_become_single_spaces() -> None:
    assert clean_progress("  running\r\n the\ttests\u2028now  ") == "running the tests now"


def test_control_characters_and_bidi_overrides_are_dropped() -> None:
    # An ANSI colour, a NUL, a right-to-left override (which could reverse what the card shows).
    assert clean_progress("\x1b[31mred\x1b[0m\x00 done \u202egnp.exe") == "[31mred[0m done gnp.exe"


def test_a_long_line_is_cut_to_the_bound_with_an_ellipsis() -> None:
    line = clean_progress("word " * 10_000)
    assert line is not None
    assert len(line) == MAX_PROGRESS_CHARS
    assert line.endswith("…")
    assert clean_progress("x" * MAX_PROGRESS_CHARS) == "x" * MAX_PROGRESS_CHARS


def test_nothing_left_is_none() -> None:
    assert clean_progress("") is None
    assert clean_progress(" \n\t\x00\u202e ") is None

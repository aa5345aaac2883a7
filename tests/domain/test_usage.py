"""Summing usage entries: each turn counted once, running totals turned into differences."""

from paddock.domain.usage import Usage, UsageReport, per_turn, reported, total


def report(process: str, payload: dict, session: str | None = "s1") -> UsageReport:
    return UsageReport(process, "attempt", "task", session, payload)


def test_turns_sum_their_reports_and_count_once() -> None:
    turns = per_turn(
        [
            report("p1", {"input_tokens": 100, "output_tokens": 10, "cost_usd": 0.01}),
            report("p1", {"input_tokens": 50, "output_tokens": 5, "cost_usd": 0.005}),
            report("p2", {"input_tokens": 7, "output_tokens": 3, "cost_usd": None}),
        ]
    )
    assert turns == {"p1": Usage(150, 15, 0.015, 1), "p2": Usage(7, 3, None, 1)}
    assert total(turns.values()) == Usage(157, 18, 0.015, 2)


def test_running_totals_count_the_difference_per_session() -> None:
    # Codex: the resumed turn reports the thread's total so far (220 + 270 in, 50 + 60 out).
    cumulative = {"cumulative": True}
    turns = per_turn(
        [
            report("p1", {"input_tokens": 220, "output_tokens": 50, **cumulative}),
            report("p2", {"input_tokens": 490, "output_tokens": 110, **cumulative}),
            report("p3", {"input_tokens": 30, "output_tokens": 5, **cumulative}, session="s2"),
        ]
    )
    assert turns == {
        "p1": Usage(220, 50, None, 1),
        "p2": Usage(270, 60, None, 1),
        "p3": Usage(30, 5, None, 1),  # another thread starts from zero
    }


def test_no_cost_stays_unknown_and_bad_numbers_count_as_zero() -> None:
    assert Usage() + Usage(1, 1) == Usage(1, 1, None, 0)
    assert reported({"input_tokens": "many", "output_tokens": True, "cost_usd": "1"}) == Usage()
    assert (Usage(cost_usd=0.1) + Usage()).cost_usd == 0.1

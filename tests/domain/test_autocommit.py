"""What an auto-commit leaves out, and when a worktree's size warns (domain/autocommit.py)."""

from paddock.domain.autocommit import (
    MB,
    LeftOut,
    LeftOutReason,
    limit_bytes,
    over_warning,
    too_large,
)


def test_the_limit_in_bytes_and_zero_for_none() -> None:
    assert limit_bytes(10) == 10 * MB
    assert limit_bytes(0.5) == MB // 2
    assert limit_bytes(0) is None and limit_bytes(-1) is None


def test_files_over_the_limit_are_left_out_with_the_reason() -> None:
    assert too_large("small.txt", MB, MB) is None  # at the limit: taken
    assert too_large("big.bin", MB + 1, MB, new=False) == LeftOut(
        "big.bin", MB + 1, MB, LeftOutReason.too_large, new=False
    )
    assert too_large("huge.bin", 1 << 40, None) is None  # no limit


def test_the_worktree_warning() -> None:
    assert over_warning(1024 * MB + 1, 1024)
    assert not over_warning(1024 * MB, 1024)
    assert not over_warning(None, 1024)
    assert not over_warning(1 << 50, 0)  # 0: never

"""The line splitter: chunk boundaries, carriage returns, UTF-8, long lines, redaction."""

from __future__ import annotations

import random

from paddock.domain.secrets import REDACTED
from paddock.runtime.linesplit import LineSplitter, Piece

SAMPLE = (
    "first line\n"
    "\n"
    "héllo wörld \u2013 ünïcode €uro 🚀 rocket\n"
    "\x1b[32mgreen\x1b[0m and a tab\there\n"
    "windows line\r\n"
    "progress 10%\rprogress 50%\rprogress 100%\n"
    "last line without newline"
).encode()

SAMPLE_LINES = [
    "first line",
    "",
    "héllo wörld \u2013 ünïcode €uro 🚀 rocket",
    "\x1b[32mgreen\x1b[0m and a tab\there",
    "windows line",
    "progress 100%",
    "last line without newline",
]


def collect(pieces: list[Piece]) -> list[str]:
    """The lines of some pieces, checking each piece's count against its data."""
    lines: list[str] = []
    for piece in pieces:
        assert piece.data.endswith(b"\n")
        assert piece.data.count(b"\n") == piece.count
        if piece.continued:
            assert piece.count == 1
        lines.extend(piece.data.decode("utf-8").split("\n")[:-1])
    return lines


def split(chunks: list[bytes], **kwargs) -> list[str]:
    splitter = LineSplitter(**kwargs)
    pieces: list[Piece] = []
    for chunk in chunks:
        pieces.extend(splitter.feed(chunk))
    pieces.extend(splitter.finish())
    return collect(pieces)


def chunked(data: bytes, sizes: list[int]) -> list[bytes]:
    out, pos = [], 0
    for size in sizes:
        out.append(data[pos : pos + size])
        pos += size
    out.append(data[pos:])
    return out


# -- LineSplitter ----------------------------------------------------------------------------


def test_whole_text_in_one_chunk():
    assert split([SAMPLE]) == SAMPLE_LINES


def test_split_at_every_offset():
    for offset in range(len(SAMPLE) + 1):
        assert split([SAMPLE[:offset], SAMPLE[offset:]]) == SAMPLE_LINES, offset


def test_byte_by_byte():
    assert split([SAMPLE[i : i + 1] for i in range(len(SAMPLE))]) == SAMPLE_LINES


def test_random_chunk_sizes():
    rng = random.Random(7)
    data = SAMPLE * 50
    expected = split([data])
    for _ in range(200):
        sizes = [rng.randint(0, 40) for _ in range(rng.randint(1, 200))]
        assert split(chunked(data, sizes)) == expected


def test_multibyte_character_split_across_chunks():
    euro = "€".encode()
    assert len(euro) == 3
    for cut in (1, 2):
        lines = split([b"price: 5" + euro[:cut], euro[cut:] + b" ok\n"])
        assert lines == ["price: 5€ ok"]


def test_crlf_line_endings():
    assert split([b"one\r\ntwo\r", b"\nthree\r\n"]) == ["one", "two", "three"]


def test_bare_cr_collapses_like_a_terminal():
    assert split([b"10%\r20%\r100%\n"]) == ["100%"]
    assert split([b"downloading\r\r\n"]) == ["downloading"]  # ends in CR: last non-empty segment
    assert split([b"a\rb\r\n"]) == ["b"]
    assert split([b"working\r"]) == ["working"]  # partial at EOF
    assert split([b"10%\r", b"20%\r", b"30%\n"]) == ["30%"]
    assert split([b"plain\n10%\r99%\nplain too\n"]) == ["plain", "99%", "plain too"]
    assert split([b"\r\r\n"]) == [""]


def test_invalid_utf8_is_replaced():
    assert split([b"bad \xff\xfe here\n", b"cut \xe2\x82\n"]) == [
        "bad \ufffd\ufffd here",
        "cut \ufffd",
    ]


def test_nul_and_control_bytes_survive():
    noise = b"a\x00b\x01\x07\x1b[31mred\x1b[0m\x7f\x0b\x0c"
    assert split([noise + b"\n"]) == [noise.decode()]


def test_ten_megabyte_line_is_cut():
    rng = random.Random(3)
    alphabet = "abcdefghij é€🚀"
    block = "".join(rng.choice(alphabet) for _ in range(9_999))
    text = block * (10_000_000 // len(block.encode()) + 1)
    data = text.encode()
    assert 10_000_000 < len(data) < 10_500_000
    splitter = LineSplitter(max_line_bytes=1 << 20)
    pieces: list[Piece] = []
    for start in range(0, len(data), 1 << 16):
        pieces.extend(splitter.feed(data[start : start + (1 << 16)]))
    pieces.extend(splitter.feed(b"\nnext\n"))
    pieces.extend(splitter.finish())
    lines = collect(pieces)  # decodes strictly: no UTF-8 character was split
    assert lines[-1] == "next"
    flags = [p.continued for p in pieces for _ in range(p.count)]
    assert 10 <= len(lines) - 1 <= 12
    assert flags[: len(lines) - 2] == [True] * (len(lines) - 2)
    assert flags[-2:] == [False, False]
    assert all(len(line.encode()) <= 1 << 20 for line in lines)
    assert "".join(lines[:-1]) == text
    assert "\ufffd" not in "".join(lines)


def test_long_line_in_one_big_chunk():
    data = b"x" * 100 + b"\nshort\n" + b"y" * 35 + b"\n"
    lines = split([data], max_line_bytes=16)
    assert "".join(lines[:7]) == "x" * 100
    assert lines[7] == "short"
    assert "".join(lines[8:]) == "y" * 35
    assert all(len(line) <= 16 for line in lines)


def test_cut_never_splits_a_multibyte_character():
    text = "€" * 40
    for size in (1, 5, 64):
        data = text.encode()
        lines = split(chunked(data, [size] * (len(data) // size)), max_line_bytes=16)
        assert "".join(lines) == text
        assert all(len(line.encode()) <= 16 for line in lines)


def test_secret_split_across_two_chunks_is_redacted():
    secrets = ["s3cr3t-value"]
    lines = split([b"token=s3cr", b"3t-value and s3cr3t-value\n"], secrets=secrets)
    assert lines == [f"token={REDACTED} and {REDACTED}"]


def test_secret_redacted_at_every_split_offset():
    data = b"key: hunter2-long-secret, again hunter2-long-secret\n"
    for offset in range(len(data) + 1):
        lines = split([data[:offset], data[offset:]], secrets=["hunter2-long-secret"])
        assert lines == [f"key: {REDACTED}, again {REDACTED}"]


def test_secret_not_leaked_across_a_length_cut():
    secret = "p4ssw0rd-p4ssw0rd"
    data = ("x" * 30 + secret + "y" * 30 + "\n").encode()
    for size in (1, 3, 7, 64):
        lines = split(
            chunked(data, [size] * (len(data) // size)), secrets=[secret], max_line_bytes=24
        )
        joined = "".join(lines)
        assert secret not in joined
        assert "p4ss" not in joined
        assert joined == "x" * 30 + REDACTED + "y" * 30


def test_multiline_secret_is_redacted_line_by_line():
    key = (
        "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\nAQEFAASCBKcwggSjAgEAAoIB\n-----END KEY-----"
    )
    data = ("cat key.pem\n" + key + "\ndone\n").encode()
    for offset in range(0, len(data), 5):
        lines = split([data[:offset], data[offset:]], secrets=[key])
        assert lines == ["cat key.pem"] + [REDACTED] * 4 + ["done"]


def test_secret_containing_another_is_replaced_whole():
    lines = split([b"abcd-efgh and abcd\n"], secrets=["abcd", "abcd-efgh"])
    assert lines == [f"{REDACTED} and {REDACTED}"]


# -- LogSink ---------------------------------------------------------------------------------

"""Splitting a process's raw output into lines: whole chunks at a time, never a line at a time.

Complete lines are redacted, made valid UTF-8 and handed out as pieces (many lines in one bytes
object); a bare carriage return keeps what a terminal would show; an endless line is cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from paddock.domain.secrets import MIN_SECRET_LENGTH, REDACTED

_NL = b"\n"
_CR = b"\r"
_REDACTED = REDACTED.encode()

# A UTF-8 character is at most 4 bytes: a cut backs off over at most 3 continuation bytes.
_MAX_CONTINUATION = 3


@dataclass(frozen=True, slots=True)
class Piece:
    """`count` complete lines, each ending in b"\\n", valid UTF-8, redacted.

    `continued` marks one line cut at the length limit: the next line is the rest of it.
    """

    data: bytes
    count: int
    continued: bool


class LineSplitter:
    """Turns the chunks of one output stream into complete lines.

    The bytes after the last newline are kept as the partial line and joined to the next chunk,
    so lines (and UTF-8 characters) split across reads come out whole.
    """

    def __init__(self, secrets: Sequence[str] = (), max_line_bytes: int = 1 << 20) -> None:
        if max_line_bytes < 8:
            raise ValueError("max_line_bytes must be at least 8")
        # A secret with newlines (a PEM key) is redacted line by line: lines are what is stored.
        encoded = {
            part.encode()
            for secret in secrets
            for part in secret.replace("\r", "").split("\n")
            if len(part) >= MIN_SECRET_LENGTH
        }
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = sorted(encoded, key=len, reverse=True)
        self._longest_secret = len(self._secrets[0]) if self._secrets else 0
        self._max = max_line_bytes
        self._parts: list[bytes] = []  # the partial line, never containing b"\n"
        self._partial_len = 0

    @property
    def partial_bytes(self) -> int:
        return self._partial_len

    def feed(self, chunk: bytes) -> list[Piece]:
        out: list[Piece] = []
        if len(chunk) <= self._max:
            self._feed(chunk, out)
        else:
            # Slices of at most max bytes: then only the first line of a slice (the one that
            # joins the partial) can be longer than the limit, and _feed checks exactly that.
            for start in range(0, len(chunk), self._max):
                self._feed(chunk[start : start + self._max], out)
        return out

    def finish(self) -> list[Piece]:
        """Flush the partial last line (at EOF), adding its missing newline."""
        if not self._partial_len:
            return []
        data = b"".join(self._parts) + _NL
        self._parts = []
        self._partial_len = 0
        return [Piece(self._clean(data), 1, False)]

    def _feed(self, chunk: bytes, out: list[Piece]) -> None:
        first = chunk.find(_NL)
        if first < 0:
            if chunk:
                self._parts.append(chunk)
                self._partial_len += len(chunk)
                if self._partial_len > self._max:
                    self._cut(out)
            return
        if self._partial_len + first > self._max:
            # The line that completes the partial is too long: cut it first.
            self._parts.append(chunk[:first])
            self._partial_len += first
            self._cut(out)
            chunk = chunk[first:]
        last = chunk.rfind(_NL)
        complete = chunk if last == len(chunk) - 1 else chunk[: last + 1]
        if self._parts:
            self._parts.append(complete)
            complete = b"".join(self._parts)
        rest = chunk[last + 1 :]
        self._parts = [rest] if rest else []
        self._partial_len = len(rest)
        out.append(Piece(self._clean(complete), complete.count(_NL), False))

    def _clean(self, data: bytes) -> bytes:
        """Complete lines: CRLF and progress-bar CRs, secrets, invalid UTF-8."""
        if _CR in data:
            data = data.replace(b"\r\n", _NL)
            if _CR in data:
                data = _collapse_cr(data)
        for secret in self._secrets:
            data = data.replace(secret, _REDACTED)
        return _valid_utf8(data)

    def _cut(self, out: list[Piece]) -> None:
        """The partial line grew past the limit: emit lines of at most max bytes from it."""
        buf = b"".join(self._parts)
        if _CR in buf:
            buf = _collapse_partial(buf)
        for secret in self._secrets:
            buf = buf.replace(secret, _REDACTED)
        while len(buf) > self._max:
            cut = self._cut_point(buf)
            line = buf[:cut]
            if _CR in line:
                line = _collapse_line(line)
            out.append(Piece(_valid_utf8(line + _NL), 1, True))
            buf = buf[cut:]
        self._parts = [buf] if buf else []
        self._partial_len = len(buf)

    def _cut_point(self, buf: bytes) -> int:
        cut = self._max
        if self._longest_secret > 1:
            # The end of the buffer may hold the beginning of a secret: keep it in the partial.
            held = len(buf) - (self._longest_secret - 1)
            if 0 < held < cut:
                cut = held
        # Never split a UTF-8 character: back off over continuation bytes (10xxxxxx).
        for back in range(_MAX_CONTINUATION + 1):
            if cut - back <= 0:
                break
            if buf[cut - back] & 0xC0 != 0x80:
                return cut - back
        return cut


def _valid_utf8(data: bytes) -> bytes:
    if data.isascii():
        return data
    try:
        data.decode()
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace").encode()
    return data


def _collapse_line(line: bytes) -> bytes:
    """What a terminal finally shows of a line with bare CRs: the text after the last CR, or the
    last non-empty segment when the line ends in CR."""
    end = len(line.rstrip(_CR))
    start = line.rfind(_CR, 0, end) + 1
    return line[start:end]


def _collapse_cr(data: bytes) -> bytes:
    """Collapse the lines of `data` (complete lines) that hold a bare CR; only those lines are
    touched, the stretches before and after are copied as they are."""
    start = data.rfind(_NL, 0, data.find(_CR)) + 1
    end = data.find(_NL, data.rfind(_CR))
    lines = data[start:end].split(_NL)
    middle = _NL.join(_collapse_line(line) if _CR in line else line for line in lines)
    return data[:start] + middle + data[end:]


def _collapse_partial(buf: bytes) -> bytes:
    """Drop what a later CR has overwritten from an unfinished line, keeping that CR (and any
    trailing ones) so the line still collapses right once it is complete."""
    end = len(buf.rstrip(_CR))
    start = buf.rfind(_CR, 0, end)
    return buf[start:] if start > 0 else buf

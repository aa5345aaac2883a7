"""What the JUnit reader feeds its XML parser: a report's bytes mended chunk by chunk, so one
coloured log line does not cost the whole report (invalid UTF-8, ANSI colour codes, control
characters XML forbids)."""

from __future__ import annotations

import codecs
import re

_WIDE_ENCODING_BOMS = (b"\xff\xfe", b"\xfe\xff")
_ENCODING_DECLARATION = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([\w.-]+)"
)
_ANSI_ESCAPE = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]")
_CONTROL_BYTE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CHARACTER_REFERENCE = re.compile(rb"&#(x[0-9a-fA-F]{1,8}|[0-9]{1,10});")
_HELD = 32  # bytes a chunk's end may hold of an escape or reference the next chunk ends
HEAD = 1024  # bytes that decide the encoding


class Sanitiser:
    """Mends what sloppy writers leave in captured output, so one coloured log line does not
    cost the whole report: invalid UTF-8, ANSI colour codes, control characters XML forbids.

    A chunk at a time: the first bytes decide the encoding, and a chunk's end that may be the
    start of an escape or a character reference is held for the next one."""

    def __init__(self) -> None:
        self._head = b""  # the first bytes, until there are enough to decide
        self._mode = ""  # "wide" (UTF-16/32: left alone), "utf-8", or "bytes" (declared)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._held = b""

    def feed(self, chunk: bytes) -> bytes:
        if not self._mode:
            self._head += chunk
            if len(self._head) < HEAD:
                return b""
            chunk, self._head = self._head, b""
            self._mode = _encoding_mode(chunk)
        return self._clean(chunk, final=False)

    def flush(self) -> bytes:
        chunk = b""
        if not self._mode:
            chunk, self._head = self._head, b""
            self._mode = _encoding_mode(chunk)
        return self._clean(chunk, final=True)

    def _clean(self, chunk: bytes, *, final: bool) -> bytes:
        if self._mode == "wide":
            return chunk  # the byte patterns below would mean something else
        if self._mode == "utf-8":
            chunk = self._decoder.decode(chunk, final).encode("utf-8")
        data = self._held + chunk
        self._held = b""
        if not final:
            start = max(0, len(data) - _HELD)
            cut = max(data.rfind(b"\x1b", start), data.rfind(b"&", start))
            if cut >= 0:
                data, self._held = data[:cut], data[cut:]
        data = _ANSI_ESCAPE.sub(b"", data)
        data = _CONTROL_BYTE.sub(b"", data)
        return _CHARACTER_REFERENCE.sub(_drop_control_reference, data)


def _encoding_mode(head: bytes) -> str:
    if head.startswith(_WIDE_ENCODING_BOMS) or b"\x00" in head[:4]:
        return "wide"
    declared = _ENCODING_DECLARATION.match(head)
    if declared is None or declared.group(1).lower() in (b"utf-8", b"utf8"):
        return "utf-8"
    return "bytes"


def _drop_control_reference(match: re.Match[bytes]) -> bytes:
    digits = match.group(1)
    code = int(digits[1:], 16) if digits.startswith(b"x") else int(digits)
    return b"" if code < 0x20 and code not in (0x9, 0xA, 0xD) else match.group(0)

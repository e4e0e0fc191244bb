"""Bytes to text lines, strictly: a byte that is not valid in the file's encoding is a located problem.

Decoding with ``errors="replace"`` would turn such bytes into U+FFFD without a
word, so a model would train on text nobody wrote. Lines are split on b"\\n"
before decoding, which is exact for UTF-8 and every ASCII-compatible encoding.
"""

from __future__ import annotations

from pathlib import Path

from harness.core.errors import BenchError, Problem


def decoded_lines(
    raw: bytes, path: Path, problems: list[Problem], *, encoding: str = "utf-8"
) -> list[tuple[int, str | None]]:
    """Every line as (1-based number, text); text is None (and a problem recorded) where it cannot be decoded."""
    lines: list[tuple[int, str | None]] = []
    offset = 0  # of the line's first byte in the file
    for line_no, chunk in enumerate(raw.split(b"\n"), start=1):
        try:
            lines.append((line_no, chunk.decode(encoding)))
        except UnicodeDecodeError as exc:
            lines.append((line_no, None))
            problems.append(
                Problem(
                    str(path),
                    line_no,
                    None,
                    f"not valid {exc.encoding.upper()}: byte 0x{chunk[exc.start]:02x} at byte offset "
                    f"{offset + exc.start} of the file (byte {exc.start + 1} of the line)",
                )
            )
        except LookupError:
            raise BenchError(
                f"unknown text encoding '{encoding}' for {path}", hint="e.g. utf-8, cp1252, latin-1"
            ) from None
        offset += len(chunk) + 1
    return lines


def decode_text(raw: bytes, path: Path, *, encoding: str = "utf-8", limit: int = 20) -> str:
    """The whole file as text; every undecodable line (up to ``limit``) in one error otherwise."""
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        problems: list[Problem] = []
        decoded_lines(raw, path, problems, encoding=encoding)
        raise BenchError(
            f"{path}: {len(problems)} line(s) are not valid {encoding}", problems=problems[:limit]
        ) from None
    except LookupError:
        raise BenchError(f"unknown text encoding '{encoding}' for {path}", hint="e.g. utf-8, cp1252, latin-1") from None
    return text[1:] if text.startswith("\ufeff") else text  # a byte-order mark is not part of the first column

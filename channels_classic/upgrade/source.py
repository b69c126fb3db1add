"""One Python file as the porting command sees it: its text, and edits made as text spans.

The file is decoded with the encoding Python itself would use (a coding declaration, a BOM,
else UTF-8) and without newline translation, so that writing it back changes only the spans
that were edited: comments, formatting, the encoding and the line endings stay as they were.
Positions come from ``ast``, whose columns count UTF-8 bytes; they are turned into offsets
into the decoded text here, in one place.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

#: Where Python's tokenizer ends a line (``str.splitlines`` also splits on form feeds).
_LINE_END = re.compile(r"\r\n|\r|\n")
#: A plain string literal: prefix, quotes, body (a body without escapes equals its value).
_STRING_LITERAL = re.compile(r"([rRuU]?)('''|\"\"\"|'|\")(.*)\2", re.DOTALL)


class UnreadableSource(Exception):
    """The file cannot be decoded or parsed as Python 3; ``line`` is where (0 if unknown)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` with ``replacement``."""

    start: int
    end: int
    replacement: str


@dataclass(frozen=True)
class Finding:
    """Something to tell the user about one line: a change made, or a thing to do by hand."""

    line: int
    text: str


@dataclass
class Changes:
    """What the rules found in one file: the edits to make, the changes to tell the user
    about, and the problems: things the command cannot port, for the user to do by hand."""

    edits: list[Edit] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)

    def note(self, line: int, text: str) -> None:
        self.notes.append(Finding(line, text))

    def problem(self, line: int, text: str) -> None:
        self.problems.append(Finding(line, text))


class PythonSource:
    """A Python file's decoded text, its syntax tree, and offsets between the two."""

    def __init__(self, raw: bytes) -> None:
        try:
            self.encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
            self.text = raw.decode(self.encoding)
        except (SyntaxError, LookupError, UnicodeDecodeError) as error:
            raise UnreadableSource(0, f"cannot decode the file ({error})") from error
        try:
            self.tree = ast.parse(self.text)
        except SyntaxError as error:
            raise UnreadableSource(error.lineno or 0, f"{error.msg}") from error
        self._line_starts = [0] + [match.end() for match in _LINE_END.finditer(self.text)]

    @classmethod
    def read(cls, path: Path) -> PythonSource:
        return cls(path.read_bytes())

    def offset(self, lineno: int, col_bytes: int) -> int:
        """The text offset of ``ast``'s (line, UTF-8 byte column) position."""
        start = self._line_starts[lineno - 1]
        line = self.text[start : start + col_bytes]
        # A column counts bytes: when the line is not ASCII, find the character it falls on.
        if len(line.encode("utf-8")) != col_bytes:
            line = line.encode("utf-8")[:col_bytes].decode("utf-8", errors="ignore")
        return start + len(line)

    def span(self, node: ast.expr | ast.stmt | ast.alias) -> tuple[int, int]:
        """The (start, end) offsets of a node's source text."""
        assert node.end_lineno is not None and node.end_col_offset is not None
        return (
            self.offset(node.lineno, node.col_offset),
            self.offset(node.end_lineno, node.end_col_offset),
        )

    def segment(self, node: ast.expr | ast.stmt | ast.alias) -> str:
        start, end = self.span(node)
        return self.text[start:end]

    def string_edit(self, node: ast.Constant, value: str) -> Edit | None:
        """An edit that makes the string literal ``node`` say ``value`` in its own quotes, or
        None when the literal is not one plain string (escapes, implicit concatenation)."""
        start, end = self.span(node)
        literal = _STRING_LITERAL.fullmatch(self.text, start, end)
        if literal is None or literal.group(3) != node.value:
            return None
        return Edit(literal.start(3), literal.end(3), value)

    def edited(self, edits: list[Edit]) -> str:
        """The text with ``edits`` applied; identical edits count once, overlapping ones are a
        bug in a rule and raise ``ValueError``."""
        parts = []
        position = 0
        for edit in sorted(dict.fromkeys(edits), key=lambda edit: (edit.start, edit.end)):
            if edit.start < position:
                raise ValueError(f"overlapping edits at offset {edit.start}")
            parts += [self.text[position : edit.start], edit.replacement]
            position = edit.end
        parts.append(self.text[position:])
        return "".join(parts)

    def encode(self, text: str) -> bytes:
        """``text`` in the file's own encoding (a BOM stays a BOM)."""
        return text.encode(self.encoding)

"""``python -m channels_classic.upgrade PATH...``: the command line of the porting command.

Goes through the Python files under each PATH, prints a unified diff of what it would change
(or writes the changes with ``--write``), then a line per change worth knowing about and per
thing it cannot port, each with its file and line, on standard error. Exit status: 0 when
everything was ported, 1 when something is left to do by hand (what could be ported is still
written), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from .imports import port_imports
from .legacy import report_legacy
from .settings import port_settings
from .source import Changes, PythonSource, UnreadableSource

EXIT_DONE = 0
EXIT_LEFT_TO_DO = 1
EXIT_USAGE = 2

#: The rules, in the order they look at a file; each adds edits, notes and problems.
RULES = (port_imports, port_settings, report_legacy)
#: Directories never walked into: installed packages and caches are not the project's.
SKIPPED_DIRECTORIES = {"__pycache__", "node_modules", "site-packages", "dist-packages"}
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


@dataclass
class PortedFile:
    """One file's outcome: its text before and after (equal when nothing changed)."""

    path: Path
    changes: Changes = field(default_factory=Changes)
    source: PythonSource | None = None
    new_text: str = ""

    @property
    def changed(self) -> bool:
        return self.source is not None and self.new_text != self.source.text

    def diff(self) -> str:
        """A unified diff of the change, as ``git apply`` and ``patch -p1`` read it."""
        assert self.source is not None
        name = self.path.as_posix()
        lines = difflib.unified_diff(
            _LINE.findall(self.source.text),
            _LINE.findall(self.new_text),
            fromfile=f"a/{name}",
            tofile=f"b/{name}",
        )
        return "".join(
            line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n"
            for line in lines
        )


def _walk(directory: Path) -> Iterator[Path]:
    for entry in sorted(directory.iterdir()):
        if entry.is_dir():
            skipped = entry.name.startswith(".") or entry.name in SKIPPED_DIRECTORIES
            if not skipped and not (entry / "pyvenv.cfg").exists():
                yield from _walk(entry)
        elif entry.suffix == ".py":
            yield entry


def python_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The ``.py`` files under each path (a file given by name is taken as it is), skipping
    hidden directories, virtualenvs and installed packages."""
    for path in paths:
        yield from (_walk(path) if path.is_dir() else [path])


def port_source(source: PythonSource, changes: Changes) -> str:
    """Runs every rule over ``source``, adding to ``changes``; returns the ported text."""
    for rule in RULES:
        rule(source, changes)
    return source.edited(changes.edits)


def port_file(path: Path) -> PortedFile:
    """Runs every rule over the file; a file that cannot be read or parsed gets a problem."""
    ported = PortedFile(path)
    try:
        ported.source = PythonSource.read(path)
    except OSError as error:
        ported.changes.problem(0, f"cannot read the file ({error.strerror})")
        return ported
    except UnreadableSource as error:
        ported.changes.problem(
            error.line,
            f"not Python 3 ({error.reason}): port this file to Python 3 first (see "
            "docs/porting.md), then run the command on it again",
        )
        return ported
    ported.new_text = port_source(ported.source, ported.changes)
    return ported


def _report(ported: PortedFile, out: TextIO) -> None:
    name = ported.path.as_posix()
    findings = [("changed", note) for note in ported.changes.notes]
    findings += [("cannot port", problem) for problem in ported.changes.problems]
    for kind, finding in sorted(findings, key=lambda item: item[1].line):
        print(f"{name}:{finding.line}: {kind}: {finding.text}", file=out)


def _write(ported: PortedFile) -> None:
    assert ported.source is not None
    try:
        ported.path.write_bytes(ported.source.encode(ported.new_text))
    except OSError as error:
        ported.changes.problem(0, f"cannot write the file ({error.strerror})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m channels_classic.upgrade",
        description=(
            "Ports a Channels 1.x project to channels_classic: rewrites channels imports, "
            "INSTALLED_APPS entries and settings, shows the diff (or writes it with --write), "
            "and lists what it cannot port with its file and line."
        ),
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    parser.add_argument("--write", action="store_true", help="write the changes to the files")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    missing = [path for path in args.paths if not path.exists()]
    if missing:
        parser.error(f"no such file or folder: {missing[0]}")
    changed = left_to_do = 0
    for path in python_files(args.paths):
        ported = port_file(path)
        if ported.changed:
            changed += 1
            if args.write:
                _write(ported)
            else:
                # In the file's own encoding, as diff tools print it: the patch applies.
                assert ported.source is not None
                sys.stdout.flush()
                sys.stdout.buffer.write(ported.source.encode(ported.diff()))
                sys.stdout.buffer.flush()
        _report(ported, sys.stderr)
        left_to_do += len(ported.changes.problems)
    verb = "changed" if args.write else "to change"
    print(
        f"{changed} file(s) {verb}, {left_to_do} thing(s) to port by hand",
        file=sys.stderr,
    )
    return EXIT_LEFT_TO_DO if left_to_do else EXIT_DONE

"""A benchmark's before/after comparison in one run: the code of another git revision, checked
out beside this one for the run's length (``--baseline GIT-REF``)."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def checkout(ref: str | None) -> Iterator[Path | None]:
    """A temporary worktree of git revision ``ref`` (None: nothing), removed afterwards."""
    if ref is None:
        yield None
        return
    path = Path(tempfile.mkdtemp(prefix="djchan-baseline-")) / "checkout"
    git = ["git", "-C", str(ROOT)]
    subprocess.run([*git, "worktree", "add", "--detach", str(path), ref], check=True)
    try:
        yield path
    finally:
        subprocess.run([*git, "worktree", "remove", "--force", str(path)], check=False)

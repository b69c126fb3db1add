"""Static files as deployed (djchan/staticfiles.py): the Procfile's release step collects
them, the workers serve them compressed under content-hashed names, and a missing manifest
says what to do."""

from __future__ import annotations

import gzip
import http.client
import re
import secrets
import sys
from pathlib import Path

import brotli

from djchan.launch import run_release
from tests.support.processes import Stack

#: What WhiteNoise promises a file whose name carries its hash: cache it for ten years.
FOREVER = "max-age=315360000, public, immutable"
#: The demo's own static files, as a page links them once collected.
HASHED = re.compile(r'/static/realtime/(\w+)\.([0-9a-f]{12})\.(css|js|svg)"')
#: What a room's page links: its style, its two scripts, its icon.
ROOM_PAGE_FILES = [("chat", "css"), ("chat", "js"), ("favicon", "svg"), ("topic", "js")]


def deployed(stack: Stack, static_root: Path) -> Stack:
    """The stack's settings as a deployment has them: the demo's own, DEBUG off."""
    stack.env.update(
        DJANGO_SETTINGS_MODULE="djchan.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(40),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_STATIC_ROOT=str(static_root),
        # The Procfile's commands say "python" and "daphne": this virtualenv's.
        PATH=f"{Path(sys.executable).parent}:{stack.env.get('PATH', '')}",
    )
    return stack


def get(port: int, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def test_the_procfile_stack_serves_hashed_compressed_files(stack, tmp_path):
    """After the release step, daphne and a worker with DEBUG off serve a room page's CSS,
    JS and icon under hashed names, gzip or brotli as the client accepts, cached for years;
    the plain names still work, briefly cached."""
    static_root = tmp_path / "static"
    run_release(deployed(stack, static_root).env)
    stack.start_worker()
    stack.start_daphne()
    status, _, page = get(stack.port, "/rooms/lobby/")
    assert status == 200
    linked = sorted(set(HASHED.findall(page.decode())), key=lambda found: (found[0], found[2]))
    assert [(name, kind) for name, _, kind in linked] == ROOM_PAGE_FILES
    for name, digest, kind in linked:
        path = f"/static/realtime/{name}.{digest}.{kind}"
        collected = (static_root / path.removeprefix("/static/")).read_bytes()
        status, headers, body = get(stack.port, path)
        assert (status, body, "content-encoding" in headers) == (200, collected, False)
        assert headers["cache-control"] == FOREVER
        for encoding, decompress in (("br", brotli.decompress), ("gzip", gzip.decompress)):
            status, headers, body = get(stack.port, path, **{"Accept-Encoding": encoding})
            assert (status, headers["content-encoding"]) == (200, encoding)
            assert len(body) < len(collected) and decompress(body) == collected
        status, headers, body = get(stack.port, f"/static/realtime/{name}.{kind}")
        assert (status, headers["cache-control"]) == (200, "max-age=60, public")


def test_a_worker_without_collected_files_says_to_collect_them(stack, tmp_path):
    """Without the release step, the worker warns as it starts, and a page that links static
    files fails with the reason and the command to run in the worker's log."""
    deployed(stack, tmp_path / "never-collected")
    stack.manage("migrate", "--noinput")
    worker = stack.start_worker()
    stack.start_daphne()
    assert "(djchan.W001) STATIC_ROOT has no manifest" in worker.log()
    status, _, _ = get(stack.port, "/")
    assert status == 500
    worker.wait_for_log("Run `python manage.py collectstatic --noinput` (the release step)")
    assert "Missing staticfiles manifest entry for 'realtime/" in worker.log()

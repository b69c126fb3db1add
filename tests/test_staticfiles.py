"""Static files as deployed (djchan/staticfiles.py): the Procfile's release step collects
them, the workers serve them compressed under content-hashed names, and a missing manifest
says what to do."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import secrets
import sys
from pathlib import Path

import brotli
import pytest
from django.core import checks
from django.templatetags.static import static

from djchan.launch import run_release
from djchan.staticfiles import ReleaseStaticFilesStorage, check_manifest
from tests.processes import Stack

RELEASE_STORAGE = "djchan.staticfiles.ReleaseStaticFilesStorage"
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


@pytest.mark.e2e
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


@pytest.mark.e2e
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


@pytest.fixture
def release_storage(settings, tmp_path):
    """The deployed storage on an empty STATIC_ROOT, DEBUG off."""
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": RELEASE_STORAGE}}
    settings.STATIC_ROOT = str(tmp_path)
    settings.DEBUG = False
    return tmp_path


def test_no_manifest_at_all_says_to_run_collectstatic(release_storage):
    """A name looked up before any collectstatic names the missing manifest and the
    command."""
    with pytest.raises(
        ValueError,
        match=r"Missing staticfiles manifest entry for 'realtime/chat.css': there is no "
        r"manifest at .*staticfiles.json, so collectstatic has not run into this STATIC_ROOT. "
        r"Run `python manage.py collectstatic --noinput` \(the release step\)",
    ):
        static("realtime/chat.css")


def test_a_name_missing_from_the_manifest_says_it_is_new_or_misspelt(release_storage):
    """A name an existing manifest lacks: collect again if the file is new, else check the
    name."""
    manifest = {"paths": {"realtime/chat.css": "realtime/chat.0123456789ab.css"}, "version": "1.1"}
    (release_storage / "staticfiles.json").write_text(json.dumps(manifest))
    assert static("realtime/chat.css") == "/static/realtime/chat.0123456789ab.css"
    with pytest.raises(
        ValueError,
        match=r"'realtime/chta.css': the manifest .* was written by an earlier collectstatic. "
        r"If the file is new, run `python manage.py collectstatic --noinput` again .*; "
        r"otherwise check the name",
    ):
        static("realtime/chta.css")


def test_the_check_warns_only_with_debug_off_and_no_manifest(release_storage, settings):
    """djchan.W001 appears with DEBUG off and no manifest, and not once either is fixed."""
    [warning] = check_manifest()
    assert isinstance(warning, checks.Warning) and warning.id == "djchan.W001"
    assert "collectstatic --noinput" in warning.hint
    settings.DEBUG = True
    assert check_manifest() == []
    settings.DEBUG = False
    (release_storage / "staticfiles.json").write_text('{"paths": {}, "version": "1.1"}')
    assert check_manifest() == []


def test_debug_on_names_files_plainly_without_a_manifest(release_storage, settings):
    """With DEBUG on (development) the deployed storage needs no collectstatic."""
    settings.DEBUG = True
    assert static("realtime/chat.css") == "/static/realtime/chat.css"
    assert isinstance(ReleaseStaticFilesStorage(), ReleaseStaticFilesStorage)

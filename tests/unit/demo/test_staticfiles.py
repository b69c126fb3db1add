"""Static files as deployed (djchan/staticfiles.py): the Procfile's release step collects
them, the workers serve them compressed under content-hashed names, and a missing manifest
says what to do."""

from __future__ import annotations

import json

import pytest
from django.core import checks
from django.templatetags.static import static

from djchan.staticfiles import ReleaseStaticFilesStorage, check_manifest

RELEASE_STORAGE = "djchan.staticfiles.ReleaseStaticFilesStorage"


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

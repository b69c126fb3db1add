"""Static files as deployed: WhiteNoise's compressed, content-hashed copies made by
``collectstatic`` (the release step), served by the workers' Django middleware.

``{% static %}`` names a file by the hash of its content, so browsers may keep it for a year;
with DEBUG on the plain names are used and the files come from the apps' ``static/`` folders,
no ``collectstatic`` needed. A name the manifest lacks (collectstatic never ran for this
release, ran before the file was added, or the name is misspelt) is an error that says which
of these it is and what to do, in the worker's log; and a worker that starts with DEBUG off
and no manifest warns (djchan.W001).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.files.storage import storages
from whitenoise.storage import CompressedManifestStaticFilesStorage

#: The command that writes STATIC_ROOT and its manifest.
COLLECTSTATIC = "python manage.py collectstatic --noinput"


class ReleaseStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's storage, with a missing manifest entry explained."""

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError as error:
            raise ValueError(f"{error}: {self.missing_entry_hint()}") from None

    def manifest_path(self) -> str:
        return self.manifest_storage.path(self.manifest_name)

    def missing_entry_hint(self) -> str:
        """What to do about a name the manifest lacks, given whether there is a manifest."""
        if not self.manifest_storage.exists(self.manifest_name):
            return (
                f"there is no manifest at {self.manifest_path()}, so collectstatic has not run "
                f"into this STATIC_ROOT. Run `{COLLECTSTATIC}` (the release step), then "
                "restart the workers"
            )
        return (
            f"the manifest {self.manifest_path()} was written by an earlier collectstatic. If "
            f"the file is new, run `{COLLECTSTATIC}` again and restart the workers; otherwise "
            "check the name against the app's static/ folder"
        )


def check_manifest(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Warns, with DEBUG off, when STATIC_ROOT has no manifest yet: every page would fail.
    (Not a staticfiles check: collectstatic, which runs those, is what writes it.)"""
    storage = storages["staticfiles"]
    if settings.DEBUG or not isinstance(storage, ReleaseStaticFilesStorage):
        return []
    if storage.manifest_storage.exists(storage.manifest_name):
        return []
    return [
        checks.Warning(
            f"STATIC_ROOT has no manifest ({storage.manifest_path()}): pages that link static "
            "files will fail with 'Missing staticfiles manifest entry'.",
            hint=f"Run `{COLLECTSTATIC}` (the release step) before starting the workers.",
            id="djchan.W001",
        )
    ]

"""The migrations of the project's apps (the delay server's, the demo's) match their models."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_every_model_change_has_its_migration():
    """makemigrations --check finds nothing to write for any app."""
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit:
        pytest.fail(f"A model changed without a migration; run makemigrations:\n{out.getvalue()}")
    assert "No changes detected" in out.getvalue()

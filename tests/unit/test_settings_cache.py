"""Values read from settings once per process, and again when a setting changes."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from channels_classic.settings_cache import read_once

SETTING = "DJCHAN_TEST_CACHED_VALUE"


def counted_reader(reads: list[str]):
    @read_once(SETTING)
    def value() -> str:
        setting = getattr(django_settings, SETTING, "default")
        reads.append(setting)
        if setting == "bad":
            raise ImproperlyConfigured(f"settings.{SETTING} = 'bad' is invalid")
        return setting

    return value


def test_a_value_is_read_once_until_its_setting_changes(settings):
    """Repeated calls read the settings once; a change of that setting (and only of it)
    makes the next call read again."""
    reads: list[str] = []
    value = counted_reader(reads)
    assert (value(), value()) == ("default", "default")
    settings.DJCHAN_SOME_OTHER_SETTING = 1
    assert value() == "default"
    assert reads == ["default"]
    setattr(settings, SETTING, "changed")
    assert (value(), value()) == ("changed", "changed")
    assert reads == ["default", "changed"]


def test_errors_are_not_cached(settings):
    """A bad setting raises on every call, not just the first."""
    setattr(settings, SETTING, "bad")
    value = counted_reader([])
    for _ in range(2):
        with pytest.raises(ImproperlyConfigured, match=rf"settings\.{SETTING} = 'bad'"):
            value()

"""The demo cache's serializer: JSON in Redis, never pickle."""

from __future__ import annotations

import pytest

from djchan.cache_serializer import JSONSerializer


def test_values_round_trip_as_json():
    """Sessions' kinds of values come back equal; whole numbers are stored as their digits
    (so Redis INCR works on them), text as UTF-8 JSON."""
    serializer = JSONSerializer()
    session = {"_auth_user_id": "7", "n": 3, "ratio": 0.5, "ok": True, "none": None, "l": [1]}
    assert serializer.loads(serializer.dumps(session)) == session
    assert serializer.dumps(5) == b"5"
    assert serializer.dumps("héllo") == '"héllo"'.encode()


def test_a_value_json_cannot_hold_is_refused_saying_what_may_be_stored():
    with pytest.raises(TypeError, match=r"stores values as JSON \(no pickle\).*Store str, int"):
        JSONSerializer().dumps({"when": object()})

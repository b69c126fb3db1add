"""What ``daphne_compat`` relies on in daphne, autobahn and Twisted is still there in the
installed versions (``channels_classic.interface.daphne_contract``). After an upgrade that
removes or renames one of those names, the test of that name fails with a sentence naming
it, the version and what to update."""

from __future__ import annotations

from importlib import metadata

import pytest
from daphne.ws_protocol import WebSocketProtocol

from channels_classic.interface import daphne_compat, daphne_contract
from channels_classic.interface.daphne_contract import RELIED_ON, Kind, Reliance

DAPHNE = f"daphne {metadata.version('daphne')}"


@pytest.mark.parametrize("reliance", RELIED_ON, ids=lambda reliance: reliance.label)
def test_what_daphne_compat_relies_on_is_there(reliance: Reliance) -> None:
    """Each method, class attribute and keyword parameter exists on its class; each instance
    attribute and key is still assigned in the method the list names (read from its source,
    daphne's own even where daphne_compat has wrapped the method)."""
    problem = daphne_contract.problem_of(reliance)
    assert problem is None, problem


def test_the_list_covers_every_kind_and_each_instance_attribute_names_its_setter() -> None:
    """The list is not empty of a kind, and a name checked from source says where it is set
    (a missing ``set_in`` would make its check meaningless)."""
    assert {reliance.kind for reliance in RELIED_ON} == set(Kind)
    from_source = [r for r in RELIED_ON if r.kind in (Kind.INSTANCE_ATTRIBUTE, Kind.KEY)]
    assert all(reliance.set_in for reliance in from_source)


def test_a_method_gone_from_daphne_is_named_with_the_version_and_the_fix(monkeypatch) -> None:
    monkeypatch.delattr(WebSocketProtocol, "check_timeouts")
    (problem,) = daphne_contract.class_problems()
    assert problem.startswith(f"{DAPHNE} (with autobahn ")
    assert "daphne.ws_protocol.WebSocketProtocol.check_timeouts (method) is gone" in problem
    assert "daphne_compat needs for accept timeout" in problem
    assert "Update channels_classic/interface/daphne_compat.py" in problem


def test_an_attribute_daphne_no_longer_sets_is_named(monkeypatch) -> None:
    """A daphne whose onConnect no longer sets handshake_deferred (nor anything else) fails
    on each attribute daphne_compat reads from it, and says where it looked."""

    def onConnect(self, request):  # noqa: N802 (daphne's name)
        return None

    monkeypatch.setattr(WebSocketProtocol, "onConnect", onConnect)
    problems = daphne_contract.source_problems()
    assert len(problems) == 3
    named = "daphne.ws_protocol.WebSocketProtocol.{} (instance attribute) is no longer set in "
    for attribute in ("handshake_deferred", "server", "path"):
        assert any(named.format(attribute) in problem for problem in problems), problems
    assert all("daphne.ws_protocol.WebSocketProtocol.onConnect" in p for p in problems)


def test_a_keyword_daphne_compat_passes_must_still_be_taken() -> None:
    reliance = Reliance(
        daphne_contract.FACTORY,
        "setProtocolOptions",
        Kind.METHOD,
        "close frames",
        parameters=("failByDrop", "noSuchOption"),
    )
    problem = daphne_contract.problem_of(reliance)
    assert problem is not None
    assert "setProtocolOptions (method) takes no noSuchOption any more" in problem


def test_apply_refuses_a_daphne_that_lacks_a_name_before_patching_anything(monkeypatch) -> None:
    """daphne_compat.apply checks the classes first: on a daphne without one of the names it
    raises, naming it, and leaves daphne as it was."""
    monkeypatch.delattr(WebSocketProtocol, "_channels_classic_patched", raising=False)
    monkeypatch.delattr(WebSocketProtocol, "serverSend")
    close = WebSocketProtocol.serverClose
    with pytest.raises(RuntimeError, match=r"WebSocketProtocol\.serverSend \(method\) is gone"):
        daphne_compat.apply()
    assert WebSocketProtocol.serverClose is close

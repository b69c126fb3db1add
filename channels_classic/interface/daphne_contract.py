"""What ``daphne_compat`` relies on in daphne, autobahn and Twisted, in one list.

The patches reach past daphne's public API: they replace methods of its classes, read
attributes that its methods set on their instances, and call autobahn's and Twisted's lower
layers. A new release of any of the three may rename or remove one of those names, and the
patch would then fail far from its cause: an AttributeError in one connection's task, or a
timeout that quietly applies again. So every such name is listed here with what the patches
do with it, and checked:

- ``class_problems`` looks at the classes (methods, class attributes, keyword parameters);
  ``daphne_compat.apply`` runs it and refuses to patch a daphne that lacks one, naming it;
- ``source_problems`` also reads the source of the methods that set instance attributes and
  dictionary keys, to see that they still do; ``tests/unit/interface/test_daphne_contract.py`` runs
  it against the installed versions.

Every problem says which package and version lacks what, what the patch uses it for, and
what to do.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import re
from dataclasses import dataclass
from importlib import metadata
from typing import Any

SERVER = "daphne.server.Server"
PROTOCOL = "daphne.ws_protocol.WebSocketProtocol"
FACTORY = "daphne.ws_protocol.WebSocketFactory"
AUTOBAHN_PROTOCOL = "autobahn.websocket.protocol.WebSocketProtocol"
#: The transport of a daphne connection over TCP.
TCP_TRANSPORT = "twisted.internet.tcp.Server"
TCP_PORT = "twisted.internet.tcp.Port"
DEFERRED = "twisted.internet.defer.Deferred"

#: The distribution each top-level package comes from, for version numbers in problems.
DISTRIBUTIONS = {"daphne": "daphne", "autobahn": "autobahn", "twisted": "Twisted"}


class Kind(enum.Enum):
    METHOD = "method"
    #: On the class itself: a constant or a default the instances share.
    ATTRIBUTE = "attribute"
    #: Set on each instance by one of the classes' methods (``set_in``).
    INSTANCE_ATTRIBUTE = "instance attribute"
    #: A key that one method (``set_in``) stores in a dictionary attribute.
    KEY = "dictionary key"


@dataclass(frozen=True)
class Reliance:
    """One name the patches use: ``owner`` (a dotted class path) has ``name``, of ``kind``;
    ``use`` says what the patches do with it."""

    owner: str
    name: str
    kind: Kind
    use: str
    #: INSTANCE_ATTRIBUTE and KEY: the dotted path of the method whose source sets it.
    set_in: str | None = None
    #: KEY: the instance attribute of ``owner`` whose dictionaries hold the key.
    held_in: str = ""
    #: METHOD: the keyword parameters the patches pass it.
    parameters: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``owner.name`` (``owner.attribute[...]['key']`` for a key), as problems and test
        ids show it."""
        if self.kind is Kind.KEY:
            return f"{self.owner}.{self.held_in}[...][{self.name!r}]"
        return f"{self.owner}.{self.name}"


RELIED_ON: tuple[Reliance, ...] = (
    # daphne's server
    Reliance(SERVER, "run", Kind.METHOD, "start-up heap freeze (wraps it)"),
    Reliance(SERVER, "listen_success", Kind.METHOD, "graceful shutdown (keeps the ports)"),
    Reliance(SERVER, "kill_all_applications", Kind.METHOD, "graceful shutdown (wraps it)"),
    Reliance(
        SERVER,
        "create_application",
        Kind.METHOD,
        "flow control and denial responses in WebSocket scopes (wraps it)",
    ),
    Reliance(SERVER, "protocol_disconnected", Kind.METHOD, "denial responses (ends the socket)"),
    Reliance(
        SERVER,
        "connections",
        Kind.INSTANCE_ATTRIBUTE,
        "accept timeout (finds the socket's application)",
        set_in=f"{SERVER}.run",
    ),
    Reliance(
        SERVER,
        "application_instance",
        Kind.KEY,
        "accept timeout (whether the application still runs)",
        set_in=f"{SERVER}.create_application",
        held_in="connections",
    ),
    # daphne's WebSocket protocol, and what it inherits from autobahn
    Reliance(PROTOCOL, "serverClose", Kind.METHOD, "close codes (replaces it)"),
    Reliance(PROTOCOL, "handle_reply", Kind.METHOD, "empty frames, immediate writes (wraps it)"),
    Reliance(PROTOCOL, "check_timeouts", Kind.METHOD, "accept timeout (wraps it)"),
    Reliance(PROTOCOL, "onOpenHandshakeTimeout", Kind.METHOD, "accept timeout (wraps it)"),
    Reliance(PROTOCOL, "dataReceived", Kind.METHOD, "flow control (wraps it)"),
    Reliance(PROTOCOL, "connectionLost", Kind.METHOD, "flow control (wraps it)"),
    Reliance(PROTOCOL, "serverSend", Kind.METHOD, "empty frames (sends them)"),
    Reliance(
        PROTOCOL, "sendCloseFrame", Kind.METHOD, "close codes (sends them)", parameters=("code",)
    ),
    Reliance(PROTOCOL, "sendData", Kind.METHOD, "denial responses (writes the response)"),
    Reliance(
        PROTOCOL,
        "dropConnection",
        Kind.METHOD,
        "denial responses (ends the connection)",
        parameters=("abort",),
    ),
    Reliance(PROTOCOL, "STATE_CONNECTING", Kind.ATTRIBUTE, "accept timeout, denial responses"),
    Reliance(PROTOCOL, "STATE_OPEN", Kind.ATTRIBUTE, "empty frames (sent only while open)"),
    Reliance(
        PROTOCOL,
        "state",
        Kind.INSTANCE_ATTRIBUTE,
        "accept timeout, empty frames, denial responses",
        set_in=f"{AUTOBAHN_PROTOCOL}._connectionMade",
    ),
    Reliance(
        PROTOCOL,
        "openHandshakeTimeoutCall",
        Kind.INSTANCE_ATTRIBUTE,
        "accept timeout (clears the timer it swallowed)",
        set_in=f"{AUTOBAHN_PROTOCOL}._connectionMade",
    ),
    Reliance(
        PROTOCOL,
        "handshake_deferred",
        Kind.INSTANCE_ATTRIBUTE,
        "accept timeout and denial responses (an unanswered handshake has it)",
        set_in=f"{PROTOCOL}.onConnect",
    ),
    Reliance(
        PROTOCOL,
        "server",
        Kind.INSTANCE_ATTRIBUTE,
        "accept timeout, denial responses (reach the server)",
        set_in=f"{PROTOCOL}.onConnect",
    ),
    Reliance(
        PROTOCOL,
        "path",
        Kind.INSTANCE_ATTRIBUTE,
        "flow control (names the socket in its error log)",
        set_in=f"{PROTOCOL}.onConnect",
    ),
    # daphne's WebSocket factory (autobahn's options)
    Reliance(
        FACTORY,
        "setProtocolOptions",
        Kind.METHOD,
        "close frames for bad frames, the settings' size limit (wraps it)",
        parameters=("failByDrop", "maxMessagePayloadSize", "maxFramePayloadSize"),
    ),
    # Twisted: the TCP transport of a connection, the listening port, Deferreds
    Reliance(TCP_TRANSPORT, "doWrite", Kind.METHOD, "immediate writes"),
    Reliance(TCP_TRANSPORT, "disconnecting", Kind.ATTRIBUTE, "immediate writes (not closing)"),
    Reliance(
        TCP_TRANSPORT, "_writeDisconnecting", Kind.ATTRIBUTE, "immediate writes (not closing)"
    ),
    Reliance(TCP_TRANSPORT, "producer", Kind.ATTRIBUTE, "flow control (daphne's producer)"),
    Reliance(TCP_TRANSPORT, "registerProducer", Kind.METHOD, "flow control (write buffer)"),
    Reliance(TCP_TRANSPORT, "unregisterProducer", Kind.METHOD, "flow control (write buffer)"),
    Reliance(TCP_TRANSPORT, "pauseProducing", Kind.METHOD, "flow control (pauses reads)"),
    Reliance(TCP_TRANSPORT, "resumeProducing", Kind.METHOD, "flow control (resumes reads)"),
    Reliance(TCP_PORT, "stopListening", Kind.METHOD, "graceful shutdown (stops listening)"),
    Reliance(DEFERRED, "fromFuture", Kind.METHOD, "graceful shutdown (waits for the hooks)"),
)


def class_problems() -> list[str]:
    """What the installed packages lack of RELIED_ON's methods, class attributes and keyword
    parameters, one sentence each; empty when nothing is missing."""
    on_classes = [r for r in RELIED_ON if r.kind in (Kind.METHOD, Kind.ATTRIBUTE)]
    return [problem for problem in map(problem_of, on_classes) if problem is not None]


def source_problems() -> list[str]:
    """``class_problems``, and the instance attributes and keys that the methods said to set
    them no longer set, read from their source."""
    return [problem for problem in map(problem_of, RELIED_ON) if problem is not None]


def problem_of(reliance: Reliance) -> str | None:
    """What is wrong with ``reliance`` in the installed packages, or None."""
    try:
        owner = _resolve(reliance.owner)
    except (ImportError, AttributeError):
        return _problem(reliance, f"is gone: there is no {reliance.owner}")
    if reliance.kind is Kind.METHOD:
        return _method_problem(reliance, owner)
    if reliance.kind is Kind.ATTRIBUTE:
        return None if hasattr(owner, reliance.name) else _problem(reliance, "is gone")
    return _source_problem(reliance)


def _method_problem(reliance: Reliance, owner: Any) -> str | None:
    method = getattr(owner, reliance.name, None)
    if not callable(method):
        return _problem(reliance, "is gone")
    parameters = inspect.signature(inspect.unwrap(method)).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    absent = [name for name in reliance.parameters if name not in parameters and not takes_any]
    if absent:
        return _problem(reliance, f"takes no {', '.join(absent)} any more")
    return None


def _source_problem(reliance: Reliance) -> str | None:
    """Whether the source of ``set_in`` still assigns the attribute (``self.name = ...``) or
    the key (``...["name"] = ...``)."""
    assert reliance.set_in is not None, f"{reliance.label} needs set_in"
    where = reliance.set_in
    try:
        # unwrap: daphne_compat's replacements keep daphne's own method as __wrapped__.
        source = inspect.getsource(inspect.unwrap(_resolve(where)))
    except (ImportError, AttributeError):
        return _problem(reliance, f"is no longer set: there is no {where}", where)
    except (OSError, TypeError):
        return _problem(reliance, f"cannot be checked: {where} has no readable source", where)
    name = re.escape(reliance.name)
    if reliance.kind is Kind.INSTANCE_ATTRIBUTE:
        pattern = rf"\bself\.{name}\s*="
    else:
        pattern = rf"""\[\s*["']{name}["']\s*\]\s*="""
    if re.search(pattern, source):
        return None
    return _problem(reliance, f"is no longer set in {where}", where)


def _problem(reliance: Reliance, what: str, where: str | None = None) -> str:
    """One problem, naming the version of the package at fault (``where``'s, else the
    owner's) and those of the other two."""
    at_fault = DISTRIBUTIONS[(where or reliance.owner).partition(".")[0]]
    others = ", ".join(
        f"{name} {_version(name)}" for name in DISTRIBUTIONS.values() if name != at_fault
    )
    return (
        f"{at_fault} {_version(at_fault)} (with {others}): {reliance.label} "
        f"({reliance.kind.value}) {what}, which daphne_compat needs for {reliance.use}. "
        "Update channels_classic/interface/daphne_compat.py and its list in "
        f"daphne_contract.py for this {at_fault}, or install the versions pyproject.toml allows."
    )


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "(not installed)"


def _resolve(dotted: str) -> Any:
    """The object at ``dotted``: the longest importable module prefix, then attributes."""
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            found = getattr(found, attribute)
        return found
    raise ImportError(f"nothing of {dotted!r} can be imported")

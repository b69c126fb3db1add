"""Every public module and name of Channels 1.1.8, at its 1.x dotted path under
channels_classic, and of the kind it was (a class with its base, a function, an instance):
the inventory 1.x code is ported against, so that nothing can silently disappear."""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import AppConfig
from django.core.handlers.base import BaseHandler
from django.core.management.base import BaseCommand
from django.core.management.commands.runserver import Command as DjangoRunserver
from django.db import migrations, models
from django.dispatch import Signal
from django.http import HttpRequest
from django.test import TestCase, TransactionTestCase

Check = Callable[[Any], bool]


@dataclass(frozen=True)
class Name:
    """``name`` in module ``module`` must pass ``check`` (described by ``kind``). ``defined``
    says 1.1.8 defined it in that module (not imported it there from another)."""

    module: str
    name: str
    kind: str
    check: Check
    defined: bool = True

    def __str__(self) -> str:
        return f"{self.module}.{self.name}"


def resolve(dotted: str) -> Any:
    """The object a dotted path names: a module, or an attribute of one."""
    module, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def a_class(*bases: str | type, meta: str | None = None) -> tuple[str, Check]:
    """A class, subclass of every base (given as a type or a channels_classic dotted path)."""

    def check(value: Any) -> bool:
        resolved = [resolve(base) if isinstance(base, str) else base for base in bases]
        return (
            isinstance(value, type)
            and all(issubclass(value, base) for base in resolved)
            and (meta is None or isinstance(value, resolve(meta)))
        )

    shown = ", ".join(base if isinstance(base, str) else base.__name__ for base in bases)
    return f"class({shown})", check


def a_function() -> tuple[str, Check]:
    return "function", lambda value: inspect.isroutine(value)


def an_instance(of: str | type) -> tuple[str, Check]:
    return f"instance of {of}", lambda value: isinstance(
        value, resolve(of) if isinstance(of, str) else of
    )


def equal_to(expected: Any) -> tuple[str, Check]:
    return f"== {expected!r}", lambda value: value == expected


def same_as(dotted: str) -> tuple[str, Check]:
    return f"is {dotted}", lambda value: value is resolve(dotted)


def names(module: str, *entries: tuple[str, tuple[str, Check]], defined: bool = True) -> list[Name]:
    return [Name(module, name, kind, check, defined) for name, (kind, check) in entries]


C = "channels_classic"
LOGGER = an_instance(logging.Logger)

INVENTORY = [
    *names(
        C,
        ("default_app_config", equal_to(f"{C}.apps.ChannelsConfig")),
        ("DEFAULT_CHANNEL_LAYER", equal_to("default")),
    ),
    *names(
        C,
        ("channel_layers", same_as(f"{C}.asgi.channel_layers")),
        ("Channel", same_as(f"{C}.channel.Channel")),
        ("Group", same_as(f"{C}.channel.Group")),
        ("route", same_as(f"{C}.routing.route")),
        ("route_class", same_as(f"{C}.routing.route_class")),
        ("include", same_as(f"{C}.routing.include")),
        defined=False,
    ),
    *names(f"{C}.apps", ("ChannelsConfig", a_class(AppConfig))),
    *names(
        f"{C}.asgi",
        ("InvalidChannelLayerError", a_class(ValueError)),
        ("ChannelLayerManager", a_class()),
        ("ChannelLayerWrapper", a_class()),
        ("get_channel_layer", a_function()),
        ("channel_layers", an_instance(f"{C}.asgi.ChannelLayerManager")),
    ),
    *names(
        f"{C}.auth",
        ("transfer_user", a_function()),
        ("channel_session_user", a_function()),
        ("http_session_user", a_function()),
        ("channel_session_user_from_http", a_function()),
        ("channel_and_http_session_user_from_http", a_function()),
    ),
    *names(f"{C}.binding", ("Binding", same_as(f"{C}.binding.base.Binding")), defined=False),
    *names(
        f"{C}.binding.base",
        ("CREATE", equal_to("create")),
        ("UPDATE", equal_to("update")),
        ("DELETE", equal_to("delete")),
        ("BindingMetaclass", a_class(type)),
        ("Binding", a_class(meta=f"{C}.binding.base.BindingMetaclass")),
    ),
    *names(
        f"{C}.binding.websockets",
        ("WebsocketBinding", a_class(f"{C}.binding.base.Binding")),
        ("WebsocketBindingWithMembers", a_class(f"{C}.binding.websockets.WebsocketBinding")),
    ),
    *names(f"{C}.channel", ("Channel", a_class()), ("Group", a_class())),
    *names(f"{C}.delay", ("default_app_config", equal_to(f"{C}.delay.apps.DelayConfig"))),
    *names(f"{C}.delay.apps", ("DelayConfig", a_class(AppConfig))),
    *names(f"{C}.delay.management.commands.rundelay", ("Command", a_class(BaseCommand))),
    *names(f"{C}.delay.migrations.0001_initial", ("Migration", a_class(migrations.Migration))),
    *names(
        f"{C}.delay.models",
        ("DelayedMessageQuerySet", a_class(models.QuerySet)),
        ("DelayedMessage", a_class(models.Model)),
    ),
    *names(f"{C}.delay.worker", ("logger", LOGGER), ("Worker", a_class())),
    *names(
        f"{C}.exceptions",
        ("ConsumeLater", a_class(Exception)),
        ("ResponseLater", a_class(Exception)),
        ("RequestTimeout", a_class(Exception)),
        ("RequestAborted", a_class(Exception)),
        ("DenyConnection", a_class(Exception)),
        ("ChannelSocketException", a_class(Exception)),
        ("WebsocketCloseException", a_class(f"{C}.exceptions.ChannelSocketException")),
        ("SendNotAvailableOnDemultiplexer", a_class(Exception)),
    ),
    *names(
        f"{C}.generic", ("BaseConsumer", same_as(f"{C}.generic.base.BaseConsumer")), defined=False
    ),
    *names(f"{C}.generic.base", ("BaseConsumer", a_class())),
    *names(
        f"{C}.generic.websockets",
        ("WebsocketConsumer", a_class(f"{C}.generic.base.BaseConsumer")),
        ("JsonWebsocketConsumer", a_class(f"{C}.generic.websockets.WebsocketConsumer")),
        ("WebsocketMultiplexer", a_class()),
        ("WebsocketDemultiplexer", a_class(f"{C}.generic.websockets.JsonWebsocketConsumer")),
    ),
    *names(f"{C}.hacks", ("monkeypatch_django", a_function())),
    *names(
        f"{C}.handler",
        ("logger", LOGGER),
        ("AsgiRequest", a_class(HttpRequest)),
        ("AsgiHandler", a_class(BaseHandler)),
        ("ViewConsumer", a_class()),
    ),
    *names(
        f"{C}.log",
        ("handler", an_instance(logging.Handler)),
        ("setup_logger", a_function()),
    ),
    *names(
        f"{C}.management.commands.runserver",
        ("Command", a_class(DjangoRunserver)),
        ("WorkerThread", a_class(threading.Thread)),
    ),
    *names(f"{C}.management.commands.runworker", ("Command", a_class(BaseCommand))),
    *names(
        f"{C}.message",
        ("Message", a_class()),
        ("PendingMessageStore", a_class()),
        ("pending_message_store", an_instance(f"{C}.message.PendingMessageStore")),
    ),
    *names(
        f"{C}.package_checks",
        ("required_versions", an_instance(dict)),
        ("check_all", a_function()),
    ),
    *names(
        f"{C}.routing",
        ("Router", a_class()),
        ("Route", a_class()),
        ("RouteClass", a_class(f"{C}.routing.Route")),
        ("Include", a_class()),
        ("null_consumer", a_function()),
        ("connect_consumer", a_function()),
        ("route", same_as(f"{C}.routing.Route")),
        ("route_class", same_as(f"{C}.routing.RouteClass")),
        ("include", same_as(f"{C}.routing.Include")),
    ),
    *names(
        f"{C}.security.websockets",
        ("BaseOriginValidator", a_class()),
        (
            "AllowedHostsOnlyOriginValidator",
            a_class(f"{C}.security.websockets.BaseOriginValidator"),
        ),
        ("allowed_hosts_only", same_as(f"{C}.security.websockets.AllowedHostsOnlyOriginValidator")),
    ),
    *names(
        f"{C}.sessions",
        ("session_for_reply_channel", a_function()),
        ("channel_session", a_function()),
        ("wait_channel_name", a_function()),
        ("requeue_messages", a_function()),
        ("enforce_ordering", a_function()),
        ("http_session", a_function()),
        ("channel_and_http_session", a_function()),
    ),
    *names(
        f"{C}.signals",
        ("consumer_started", an_instance(Signal)),
        ("consumer_finished", an_instance(Signal)),
        ("worker_ready", an_instance(Signal)),
        ("worker_process_ready", an_instance(Signal)),
    ),
    *names(
        f"{C}.staticfiles",
        ("StaticFilesHandler", a_class(f"{C}.handler.AsgiHandler")),
        ("StaticFilesConsumer", a_class(f"{C}.handler.ViewConsumer")),
    ),
    *names(
        f"{C}.test",
        ("TransactionChannelTestCase", same_as(f"{C}.test.base.TransactionChannelTestCase")),
        ("ChannelTestCase", same_as(f"{C}.test.base.ChannelTestCase")),
        ("Client", same_as(f"{C}.test.base.Client")),
        ("apply_routes", same_as(f"{C}.test.base.apply_routes")),
        ("HttpClient", same_as(f"{C}.test.http.HttpClient")),
        ("WSClient", same_as(f"{C}.test.websocket.WSClient")),
        ("ChannelLiveServerTestCase", same_as(f"{C}.test.liveserver.ChannelLiveServerTestCase")),
        defined=False,
    ),
    *names(
        f"{C}.test.base",
        ("ChannelTestCaseMixin", a_class()),
        ("ChannelTestCase", a_class(f"{C}.test.base.ChannelTestCaseMixin", TestCase)),
        (
            "TransactionChannelTestCase",
            a_class(f"{C}.test.base.ChannelTestCaseMixin", TransactionTestCase),
        ),
        ("Client", a_class()),
        ("apply_routes", a_class()),
    ),
    *names(
        f"{C}.test.http", ("HttpClient", a_class(f"{C}.test.websocket.WSClient")), defined=False
    ),
    *names(
        f"{C}.test.liveserver",
        ("ProcessSetup", a_class()),
        ("WorkerProcess", a_class(f"{C}.test.liveserver.ProcessSetup")),
        ("DaphneProcess", a_class(f"{C}.test.liveserver.ProcessSetup")),
        ("ChannelLiveServerTestCase", a_class(TransactionTestCase)),
    ),
    *names(
        f"{C}.test.websocket",
        ("json_module", ("the json module", lambda value: value is json)),
        ("WSClient", a_class(f"{C}.test.base.Client")),
    ),
    *names(f"{C}.utils", ("name_that_thing", a_function())),
    *names(
        f"{C}.worker",
        ("logger", LOGGER),
        ("Worker", a_class()),
        ("WorkerGroup", a_class(f"{C}.worker.Worker")),
    ),
]

#: The modules of 1.1.8 that define no public name (packages, command folders).
MODULES_WITHOUT_NAMES = [
    f"{C}.binding",
    f"{C}.delay.management",
    f"{C}.delay.management.commands",
    f"{C}.delay.migrations",
    f"{C}.generic",
    f"{C}.management",
    f"{C}.management.commands",
    f"{C}.security",
    f"{C}.test",
]

#: How many names Channels 1.1.8 defines in its modules (what the porting report counted).
NAMES_DEFINED_BY_1_1_8 = 98


def test_the_inventory_holds_every_name_1_1_8_defines():
    """The inventory lists 1.1.8's 98 module-level public names once each, plus the names
    its packages re-export."""
    defined = [str(entry) for entry in INVENTORY if entry.defined]
    assert len(defined) == len(set(defined)) == NAMES_DEFINED_BY_1_1_8


@pytest.mark.parametrize("entry", INVENTORY, ids=str)
def test_each_1x_name_is_there_and_of_its_kind(entry: Name):
    """Importing the 1.x module and taking the name from it works, and it is what 1.x code
    expects there."""
    module = importlib.import_module(entry.module)
    assert hasattr(module, entry.name), f"{entry} is missing"
    value = getattr(module, entry.name)
    assert entry.check(value), f"{entry} should be {entry.kind}, is {value!r}"


@pytest.mark.parametrize("module", MODULES_WITHOUT_NAMES)
def test_each_1x_package_imports(module: str):
    """The 1.x packages that only hold modules import too."""
    assert importlib.import_module(module).__name__ == module


def test_the_deprecated_tests_package_warns_and_gives_the_test_tools():
    """channels_classic.tests, 1.x's deprecated spelling, warns and has the test tools."""
    import sys

    sys.modules.pop(f"{C}.tests", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tests = importlib.import_module(f"{C}.tests")
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
    assert tests.ChannelTestCase is resolve(f"{C}.test.ChannelTestCase")
    assert tests.WSClient is resolve(f"{C}.test.WSClient")

"""Test cases with fresh channel layers, and ``apply_routes`` (``docs/testing.md``).

``ChannelTestCase`` and ``TransactionChannelTestCase`` give every test a new in-memory layer
for each alias in ``test_channel_aliases``, routed like the configured one, and put the
configured layers back afterwards: a test sees only the messages it caused, and nothing
reaches a real Redis. The swap happens before fixtures load and is undone after the
database is cleaned up, so model signals that send messages go to the test layers too.
``ChannelTestCase`` also swaps layers in for the whole class, from before ``setUpClass`` to
after ``tearDownClass``: Django loads its fixtures and runs ``setUpTestData`` once per class,
before any test's swap. (A class-level ``override_settings`` of ``CHANNEL_LAYERS`` is applied
after that swap and replaces it: its layers serve the class's set-up.)

``apply_routes`` replaces the routing of the ``aliases`` it is given (every one of them, not
only the default) for a block, a test or a test class.
"""

from __future__ import annotations

import copy
import functools
import unittest
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, ClassVar, TypeVar

from django.test import SimpleTestCase, TestCase, TransactionTestCase

from ..layers.facade import ClassicLayer
from ..layers.inmemory import InMemoryChannelLayer
from ..layers.registry import DEFAULT_CHANNEL_LAYER, channel_layers
from ..message import Message
from ..routing import Router, include
from .client import Client as Client
from .client import _next_message

T = TypeVar("T")


class ChannelTestCaseMixin(SimpleTestCase):
    """Swaps fresh in-memory layers in for the test's duration (see the module docstring);
    ``get_next_message`` reads what consumers and the code under test sent."""

    #: The layer aliases swapped for in-memory layers (add the others a test uses).
    test_channel_aliases: ClassVar[Sequence[str]] = [DEFAULT_CHANNEL_LAYER]
    _replaced_layers: ClassVar[dict[str, ClassicLayer]]

    # A classmethod, as Django's: TransactionTestCase.setUpClass runs it for the first test.
    @classmethod
    def _pre_setup(cls) -> None:
        cls._replaced_layers = install_test_layers(cls.test_channel_aliases)
        try:
            super()._pre_setup()
        except BaseException:
            restore_layers(cls._replaced_layers)
            raise

    def _post_teardown(self) -> None:
        try:
            super()._post_teardown()
        finally:
            restore_layers(self._replaced_layers)

    def get_next_message(
        self, channel: str, alias: str = DEFAULT_CHANNEL_LAYER, require: bool = False
    ) -> Message | None:
        """The next message on ``channel`` of ``alias``'s layer, or None if there is none;
        with ``require``, no message fails the test."""
        message = _next_message(channel_layers[alias], channel)
        if message is None and require:
            self.fail(f"Expected a message on channel {channel}, got none (layer {alias!r})")
        return message


class ChannelTestCase(ChannelTestCaseMixin, TestCase):
    """Django's ``TestCase`` (each test in a transaction) with fresh channel layers, and
    layers of the class's own while its fixtures load and ``setUpTestData`` runs."""

    @classmethod
    def setUpClass(cls) -> None:
        replaced = install_test_layers(cls.test_channel_aliases)
        cls.addClassCleanup(restore_layers, replaced)  # also when setUpClass fails
        super().setUpClass()


class TransactionChannelTestCase(ChannelTestCaseMixin, TransactionTestCase):
    """Django's ``TransactionTestCase`` (tables emptied after each test) with fresh channel
    layers."""


def install_test_layers(aliases: Iterable[str]) -> dict[str, ClassicLayer]:
    """Puts a new in-memory layer, with a copy of the configured routing, in place of each
    alias's layer; returns the layers replaced, for ``restore_layers``."""
    if isinstance(aliases, str):
        raise TypeError(
            f"test_channel_aliases must be a list of layer aliases, got the string {aliases!r}"
        )
    replaced: dict[str, ClassicLayer] = {}
    try:
        for alias in aliases:
            configured = channel_layers[alias]
            test_layer = ClassicLayer(
                InMemoryChannelLayer(), alias=alias, routing=copy.copy(configured.routing)
            )
            channel_layers.set(alias, test_layer)
            replaced[alias] = configured
    except BaseException:
        restore_layers(replaced)  # all or nothing: an unknown alias leaves no swap behind
        raise
    return replaced


def restore_layers(replaced: dict[str, ClassicLayer]) -> None:
    """Puts back the layers ``install_test_layers`` replaced."""
    for alias, layer in replaced.items():
        channel_layers.set(alias, layer)


class apply_routes:
    """Replaces the routing of the ``aliases`` layers with ``routes``.

    ``routes`` is a routing object, a list of them, or a list of lists (each becoming an
    ``include``). Use it as a context manager, to decorate a test function, or to decorate
    a test class: a ``unittest.TestCase`` gets the routes from before ``setUp`` to after
    ``tearDown`` (put back by a cleanup, so also when ``setUp`` fails), any other class around
    each ``test*`` method. The layers' routers are put back as they were, routes added to
    them included.
    """

    def __init__(self, routes: Any, aliases: Sequence[str] = (DEFAULT_CHANNEL_LAYER,)) -> None:
        if isinstance(aliases, str):
            raise TypeError(
                f"apply_routes(aliases=...) takes a list of layer aliases, got the string "
                f"{aliases!r}; write aliases=[{aliases!r}]"
            )
        self.routes = _routing(routes)
        self.aliases = list(aliases)
        # One list per __enter__ still open: each layer's routing and router before it.
        self._saved: list[list[tuple[ClassicLayer, Any, Router | None]]] = []

    def __enter__(self) -> apply_routes:
        saved = []
        for alias in self.aliases:
            layer = channel_layers[alias]
            saved.append((layer, layer.routing, layer.__dict__.get("router")))
            layer.routing = self.routes
            layer.router = Router(self.routes)
        self._saved.append(saved)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for layer, routing, router in reversed(self._saved.pop()):
            layer.routing = routing
            if router is None:
                layer.__dict__.pop("router", None)  # built again from the routing when used
            else:
                layer.router = router

    def __call__(self, target: T) -> T:
        if isinstance(target, type):
            return self._decorate_class(target)  # type: ignore[return-value]
        if not callable(target):
            raise TypeError(
                f"apply_routes decorates test functions and classes, got {target!r}; use "
                "`with apply_routes(...):` around other code"
            )
        return self._decorate_function(target)  # type: ignore[return-value]

    def _decorate_function(self, test: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(test)
        def routed(*args: Any, **kwargs: Any) -> Any:
            with self:
                return test(*args, **kwargs)

        return routed

    def _decorate_class(self, cls: type) -> type:
        if issubclass(cls, unittest.TestCase):
            set_up = cls.setUp

            def routed_set_up(test: unittest.TestCase) -> None:
                self.__enter__()
                # Cleanups run after tearDown, and when setUp raises (tearDown does not).
                test.addCleanup(self.__exit__, None, None, None)
                set_up(test)

            cls.setUp = routed_set_up  # type: ignore[method-assign,assignment]
            return cls
        for name, value in list(vars(cls).items()):
            if name.startswith("test") and callable(value):
                setattr(cls, name, self._decorate_function(value))
        return cls


def _routing(routes: Any) -> list[Any]:
    """``routes`` as a routing list: lists inside it become ``include``s."""
    entries = list(routes) if isinstance(routes, list | tuple) else [routes]
    return [include(entry) if isinstance(entry, list | tuple) else entry for entry in entries]

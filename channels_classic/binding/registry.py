"""Which binding classes listen to their models' signals, and from when (SPEC B2).

A binding class can only be connected once Django has loaded every app: its ``model`` may be
an ``"app_label.ModelName"`` string, and the model class must exist. Classes created before
that (in a models module, or any module imported while apps load) wait in ``bindings`` until
the channels_classic app config calls ``bindings.ready()``; classes created later are
connected as they are created. Signal receivers are never connected at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Binding


class BindingRegistry:
    """The binding classes waiting for Django, and whether it is ready."""

    def __init__(self) -> None:
        self.pending: list[type[Binding]] = []
        self.is_ready = False

    def add(self, binding: type[Binding]) -> None:
        """Registers ``binding`` (``Binding.register``) now if Django is ready, else when it
        is."""
        if self.is_ready:
            binding.register()
        else:
            self.pending.append(binding)

    def ready(self) -> None:
        """Registers the waiting classes; later ones register as they are created. A class
        that cannot work raises ValueError, saying what to change, and stops Django's start."""
        self.is_ready = True
        pending, self.pending = self.pending, []
        for binding in pending:
            binding.register()


#: The registry every ``Binding`` subclass is added to.
bindings = BindingRegistry()

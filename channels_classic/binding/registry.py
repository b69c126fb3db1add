"""Which binding classes listen to their models' signals, and from when.

A binding class can only be connected once Django has loaded every app: its ``model`` may be
an ``"app_label.ModelName"`` string, and the model class must exist. ``BindingMetaclass``,
the metaclass of every binding (importable from ``binding.base``, as in 1.x), keeps the
classes made before that until the channels_classic app config calls ``register_all``;
classes made later are connected as they are made. Signal receivers are never connected at
import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from .base import Binding


class BindingMetaclass(type):
    """The metaclass of bindings: keeps each binding class in ``binding_classes`` and
    connects it to its model's signals (``Binding.register``) when ``register_all`` runs,
    or at once when the class is made after that."""

    #: True once ``register_all`` has run: new classes are connected at once.
    register_immediately: ClassVar[bool] = False
    #: Every binding class made so far, in order.
    binding_classes: ClassVar[list[type[Binding]]] = []

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> Any:
        cls: Any = super().__new__(mcs, name, bases, namespace)
        if any(isinstance(base, BindingMetaclass) for base in bases):
            mcs.binding_classes.append(cls)
            if mcs.register_immediately:
                cls.register()
        return cls

    @classmethod
    def register_all(mcs) -> None:
        """Connects every binding class made so far, and those made from now on. A class
        that cannot work raises ValueError, saying what to change, and stops Django's
        start."""
        for binding in list(mcs.binding_classes):
            binding.register()
        mcs.register_immediately = True

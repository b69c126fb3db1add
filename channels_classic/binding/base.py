"""``Binding``: keeps clients in step with a model, both ways.

Outbound, a binding class listens to its model's save and delete signals and sends every
change to groups: ``group_names(instance)`` names the groups that should see an instance. A
save compares the groups of the row as it was stored with those of the row as saved, and sends
``delete`` to the groups it left, ``update`` to those it stayed in and ``create`` to those it
joined, in that order; a delete sends ``delete`` to all of its groups. Inside a consumer those
sends leave when the consumer returns, like every send there; elsewhere (views, shells,
commands) at once.

Inbound, ``Binding.consumer`` is a consumer: it decodes a client's request into an action, a
pk and data (``deserialize``), asks ``has_permission(user, action, pk)`` with the user logged
in to the socket's channel session, and runs ``create(data)``, ``update(pk, data)`` or
``delete(pk)``. ``WebsocketBinding`` implements the wire format; this class is the protocol-free
base.

Binding classes listen from when Django is ready (``BindingMetaclass``), or from their
creation if that is later. A class whose own body sets ``model = None`` is abstract. Only
saves and deletes of instances send anything (not ``QuerySet.update()``, ``bulk_create()`` or
raw SQL), and a client that reconnects must fetch what it missed: bindings send changes, not
history.

A misconfigured class (no stream, unknown field names, no ``group_names``) is refused with
what to change when it is registered, so the mistake shows when the project starts, not on
each save. The groups a save leaves are read from the row as stored before the save: the
instance already holds its new values and would only name the groups it joins. An unknown
action or a missing or invalid pk raises ValueError saying what came (the worker logs it and
goes on); ``permission_denied`` lets a binding answer a refused request, which is otherwise
dropped without a word. How this differs from 1.x is in ``docs/differences-from-1x.md``
("Generic consumers, multiplexing and bindings").

The 1.1 extension points are kept: the signal receivers call ``pre_change_receiver(instance,
action)`` and ``post_change_receiver(instance, action, **signal_kwargs)``, which call
``send_messages(instance, group_names, action, **signal_kwargs)``; subclasses override any
of them (calling super() to keep what they do).
"""

from __future__ import annotations

import inspect
import reprlib
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import Field, Model, signals

from .. import auth, sessions
from ..channel import Group
from ..message import Message
from ..names import check_group_names
from .registry import BindingMetaclass as BindingMetaclass

CREATE, UPDATE, DELETE = "create", "update", "delete"
ACTIONS = (CREATE, UPDATE, DELETE)
#: ``fields`` value meaning every field of the model.
ALL_FIELDS = "__all__"
#: The instance attribute where pre-signals leave the groups of the stored row for the
#: post-signal: ``{binding class: set of group names}``.
_OLD_GROUPS = "_binding_group_names"


class Binding(metaclass=BindingMetaclass):
    """Binds ``model`` to groups of clients (see the module's docstring).

    Set ``model`` (a class or ``"app_label.ModelName"``), ``stream`` (the name its messages
    go out under) and ``fields`` (field names, or ``"__all__"``) and/or ``exclude``;
    implement ``group_names``, ``has_permission``, and, in protocol subclasses, ``encode``,
    ``serialize``, ``deserialize``, ``create`` and ``update``. Inbound requests run with
    ``message.user`` from the channel session (``channel_session_user``, the default), or
    with the session only (``channel_session``), or neither.
    """

    model: ClassVar[type[Model] | str | None] = None
    stream: ClassVar[str | None] = None
    fields: ClassVar[Iterable[str] | str | None] = None
    exclude: ClassVar[Iterable[str] | None] = None
    channel_session_user: ClassVar[bool] = True
    channel_session: ClassVar[bool] = False
    #: ``"app_label.modelname"``, set when the class is registered.
    model_label: ClassVar[str]

    #: Outbound: the keyword arguments of the post-signal (``created``, ``update_fields``...).
    signal_kwargs: dict[str, Any] | None = None
    instance: Model
    #: Inbound: the request, its route's keyword arguments, who sent it and what it asks.
    message: Message
    kwargs: dict[str, Any]
    user: Any
    action: str
    pk: Any
    data: Any

    @classmethod
    def register(cls) -> None:
        """Checks the class and connects it to its model's save and delete signals; skips an
        abstract class. Raises ValueError saying what to change."""
        if cls.model is None and "model" in vars(cls):
            return
        model = cls.bound_model()
        cls._check_class()
        signals.pre_save.connect(cls.pre_save_receiver, sender=model)
        signals.post_save.connect(cls.post_save_receiver, sender=model)
        signals.pre_delete.connect(cls.pre_delete_receiver, sender=model)
        signals.post_delete.connect(cls.post_delete_receiver, sender=model)

    @classmethod
    def bound_model(cls) -> type[Model]:
        """The model class, resolving a ``"app_label.ModelName"`` string (once) and setting
        ``model_label``. Raises ValueError if ``model`` names no model."""
        name, model = cls.__qualname__, cls.model
        if isinstance(model, str):
            try:
                cls.model = model = apps.get_model(model)
            except (LookupError, ValueError) as error:
                raise ValueError(
                    f"{name}.model = {model!r} names no installed model ({error}); give a model "
                    "class or an 'app_label.ModelName' string"
                ) from None
        if model is None:
            raise ValueError(
                f"You must set the model attribute on Binding {cls!r}! Give a model class or "
                f"an 'app_label.ModelName' string (or set model = None in the class body to "
                f"make {name} abstract)"
            )
        if not (isinstance(model, type) and issubclass(model, Model)):
            raise ValueError(
                f"{name}.model must be a model class or an 'app_label.ModelName' string, got "
                f"{model!r} (set model = None in the class body to make {name} abstract)"
            )
        cls.model_label = model._meta.label_lower
        return model

    @classmethod
    def _check_class(cls) -> None:
        """Raises ValueError, saying what to change, if the class cannot work. Subclasses with
        more settings to check extend it (calling super())."""
        name = cls.__qualname__
        if cls.fields is None and cls.exclude is None:
            raise ValueError(
                f"You must set the fields or exclude attribute on Binding {cls!r}! fields is "
                "a list of field names (or '__all__'), exclude the names of the fields not "
                "to send"
            )
        meta = cls.bound_model()._meta
        known = [field.name for field in [*meta.concrete_fields, *meta.many_to_many]]
        for setting in ("fields", "exclude"):
            given = getattr(cls, setting)
            if given is None or (setting == "fields" and given == ALL_FIELDS):
                continue
            if isinstance(given, str):
                choices = "field names, or '__all__'" if setting == "fields" else "field names"
                raise ValueError(f"{name}.{setting} must be a list of {choices}, got {given!r}")
            unknown = sorted(set(given) - {*known, ALL_FIELDS})
            if unknown:
                raise ValueError(
                    f"{name}.{setting} names {unknown}, which {cls.model_label} does not have; "
                    f"its fields are {known}"
                )
        if not cls.stream:
            raise ValueError(
                f"{name}.stream is not set: name the stream its messages go out on, e.g. "
                f"stream = {meta.model_name!r}"
            )
        group_names = getattr(cls.group_names, "__func__", None)
        if group_names is vars(Binding)["group_names"].__func__:
            raise ValueError(
                f"{name} must implement the classmethod group_names(cls, instance), returning "
                "the names of the groups whose clients should see the instance"
            )
        if _takes_action(cls.group_names):
            raise ValueError(
                f"{name}.group_names takes (instance, action), as in Channels 1.0; since 1.1 it "
                "is group_names(cls, instance): the groups that should see the instance as it "
                "is, whatever the action (a save compares the groups before and after)"
            )

    @classmethod
    def bound_fields(cls) -> list[Field]:
        """The fields sent and taken, in model order: ``fields`` (every field for
        ``"__all__"``) minus ``exclude``. The pk is never among them: it travels apart."""
        meta = cls.bound_model()._meta
        chosen = cls.fields
        if chosen is None or chosen == ALL_FIELDS or list(chosen) == [ALL_FIELDS]:
            chosen = None
        left_out = set(cls.exclude or ())
        return [
            field
            for field in [*meta.concrete_fields, *meta.many_to_many]
            if not field.primary_key
            and (chosen is None or field.name in chosen)
            and field.name not in left_out
        ]

    # Outbound: model signals → group messages.

    @classmethod
    def group_names(cls, instance: Model) -> Iterable[str]:
        """The names of the groups whose clients should see ``instance``. Must be
        implemented."""
        raise NotImplementedError(f"{cls.__qualname__} must implement group_names(instance)")

    @classmethod
    def _group_set(cls, instance: Model) -> set[str]:
        where = f"{cls.__qualname__}.group_names({instance!r})"
        return set(check_group_names(cls.group_names(instance), where))

    @classmethod
    def pre_save_receiver(cls, instance: Model, **kwargs: Any) -> None:
        cls.pre_change_receiver(instance, CREATE if instance._state.adding else UPDATE)

    @classmethod
    def post_save_receiver(cls, instance: Model, **kwargs: Any) -> None:
        cls.post_change_receiver(instance, CREATE if kwargs.get("created") else UPDATE, **kwargs)

    @classmethod
    def pre_delete_receiver(cls, instance: Model, **kwargs: Any) -> None:
        cls.pre_change_receiver(instance, DELETE)

    @classmethod
    def post_delete_receiver(cls, instance: Model, **kwargs: Any) -> None:
        cls.post_change_receiver(instance, DELETE, **kwargs)

    @classmethod
    def pre_change_receiver(cls, instance: Model, action: str) -> None:
        """Before a save or delete (``action``): remembers the groups the row is in now, in
        ``instance._binding_group_names[cls]`` (as 1.x). For a save they are those of the
        row as stored (one query; the instance may hold the new values already), none for a
        row not stored yet; for a delete, those of the instance."""
        if action == DELETE:
            groups = cls._group_set(instance)
        else:
            stored = None
            if instance.pk is not None:
                rows = type(instance)._base_manager.using(instance._state.db)
                stored = rows.filter(pk=instance.pk).first()
            groups = set() if stored is None else cls._group_set(stored)
        vars(instance).setdefault(_OLD_GROUPS, {})[cls] = groups

    @classmethod
    def post_change_receiver(cls, instance: Model, action: str, **kwargs: Any) -> None:
        """After a save or delete: sends ``delete`` to the groups the row left, ``update`` to
        those it stayed in and ``create`` to those it joined, in that order (a deleted row
        is in no group). ``kwargs`` are the signal's (``created``, ``update_fields``...)."""
        remembered = vars(instance).get(_OLD_GROUPS, {})
        old = remembered.pop(cls, set())
        if not remembered:  # leave the instance as it was
            vars(instance).pop(_OLD_GROUPS, None)
        new = set() if action == DELETE else cls._group_set(instance)
        binding = cls()
        binding.instance = instance
        binding.send_messages(instance, old - new, DELETE, **kwargs)
        binding.send_messages(instance, old & new, UPDATE, **kwargs)
        binding.send_messages(instance, new - old, CREATE, **kwargs)

    def send_messages(
        self, instance: Model, group_names: Iterable[str], action: str, **kwargs: Any
    ) -> None:
        """Sends ``action`` on ``instance`` to each group, unless ``serialize`` returns {};
        ``kwargs`` (the signal's) are kept in ``signal_kwargs`` for ``serialize``."""
        if not group_names:
            return
        self.signal_kwargs = kwargs
        payload = self.serialize(instance, action)
        if payload == {}:
            return
        assert self.stream is not None  # checked at registration
        message = self.encode(self.stream, payload)
        for name in sorted(group_names):
            Group(name).send(message)

    def serialize(self, instance: Model, action: str) -> dict[str, Any]:
        """What clients get about ``action`` on ``instance``; {} sends nothing."""
        raise NotImplementedError(f"{type(self).__qualname__} must implement serialize()")

    @classmethod
    def encode(cls, stream: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The message that carries ``payload`` on ``stream`` to a group's members."""
        raise NotImplementedError(f"{cls.__qualname__} must implement encode()")

    # Inbound: client requests → model changes.

    @classmethod
    def consumer(cls, message: Message, **kwargs: Any) -> None:
        """The inbound consumer: route it, or name it in a demultiplexer's ``consumers``."""
        cls.get_handler()(message, **kwargs)

    @classmethod
    def get_handler(cls) -> Callable[..., None]:
        """``trigger_inbound`` with the session decorators the flags ask for."""
        if cls.channel_session_user:
            return auth.channel_session_user(cls.trigger_inbound)
        if cls.channel_session:
            return sessions.channel_session(cls.trigger_inbound)
        return cls.trigger_inbound

    @classmethod
    def trigger_inbound(cls, message: Message, **kwargs: Any) -> None:
        """Decodes the request in ``message`` and runs it as its sender."""
        binding = cls()
        binding.message = message
        binding.kwargs = kwargs
        binding.action, binding.pk, binding.data = binding.deserialize(message)
        binding.user = getattr(message, "user", None) or AnonymousUser()
        binding.run_action(binding.action, binding.pk, binding.data)

    def deserialize(self, message: Message) -> tuple[str, Any, Any]:
        """``(action, pk, data)`` of the request in ``message``; pk is None for creates,
        data None for deletes."""
        raise NotImplementedError(f"{type(self).__qualname__} must implement deserialize()")

    def run_action(self, action: str, pk: Any, data: Any) -> None:
        """Runs the action if ``has_permission`` allows it, else calls ``permission_denied``.
        The pk is converted to the model's pk type first (and required, but for creates).
        Raises ValueError for an unknown action or a missing or invalid pk."""
        if action not in ACTIONS:
            raise ValueError(
                f"Bad action {reprlib.repr(action)}: {type(self).__qualname__} got it from "
                f"{self._sender()}; the actions are 'create', 'update' and 'delete'"
            )
        if action != CREATE or pk is not None:
            self.pk = pk = self._clean_pk(pk, action)
        if not self.has_permission(self.user, action, pk):
            self.permission_denied(action, pk)
        elif action == CREATE:
            self.create(data)
        elif action == UPDATE:
            self.update(pk, data)
        else:
            self.delete(pk)

    def _clean_pk(self, pk: Any, action: str) -> Any:
        name, model = type(self).__qualname__, self.bound_model()
        if pk is None:
            raise ValueError(f"{name}: {action!r} needs a pk, and {self._sender()} sent none")
        try:
            return model._meta.pk.to_python(pk)
        except ValidationError as error:
            raise ValueError(
                f"{name}: {self._sender()} sent pk {reprlib.repr(pk)} to {action}, which is not "
                f"a valid {self.model_label} pk ({' '.join(error.messages)})"
            ) from None

    def _sender(self) -> str:
        path = self.message.get("path")
        return f"the socket on {path!r}" if path else f"a message on {self.message.channel.name!r}"

    def has_permission(self, user: Any, action: str, pk: Any) -> bool:
        """True if ``user`` (maybe AnonymousUser) may run ``action`` ("create", "update" or
        "delete") on the row ``pk`` (None for a create that names none). Must be implemented to
        take requests."""
        raise NotImplementedError(
            f"{type(self).__qualname__} must implement has_permission(self, user, action, pk), "
            "returning True to let the user's request through"
        )

    def permission_denied(self, action: str, pk: Any) -> None:
        """Called when ``has_permission`` refused a request; does nothing, as in 1.x.
        Override it to tell the client."""

    def create(self, data: Any) -> None:
        raise NotImplementedError(f"{type(self).__qualname__} must implement create(data)")

    def update(self, pk: Any, data: Any) -> None:
        raise NotImplementedError(f"{type(self).__qualname__} must implement update(pk, data)")

    def delete(self, pk: Any) -> None:
        """Deletes the row ``pk``, if there is one (each deleted row notifies its groups)."""
        self.bound_model()._default_manager.filter(pk=pk).delete()


def _takes_action(group_names: Callable[..., Any]) -> bool:
    """True if the (bound) ``group_names`` needs a second argument, as 1.0's took."""
    try:
        parameters = inspect.signature(group_names).parameters.values()
    except (TypeError, ValueError):
        return False
    required = [
        p
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    return len(required) > 1

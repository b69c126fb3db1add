"""Data binding over WebSockets: ``WebsocketBinding`` and ``WebsocketBindingWithMembers``.

Changes go out as multiplexed frames (``WebsocketMultiplexer``'s envelope) on the binding's
stream::

    {"stream": "posts", "payload": {"action": "update", "pk": 3, "model": "blog.post",
                                    "data": {"title": "Hello", "body": "..."}}}

and clients ask for changes with ``{"action": "create" | "update" | "delete", "pk": ...,
"data": {...}}``: behind a demultiplexer, as the payload of a frame on the binding's stream::

    class Live(WebsocketDemultiplexer):
        http_user = True  # carries the page's login onto the socket, for has_permission
        consumers = {"posts": PostBinding.consumer}

        def connection_groups(self, **kwargs):
            return ["blog-1"]

``data`` is what Django's JSON serializer makes of the bound fields. Inbound, only bound,
editable fields are taken from ``data`` (other keys are ignored, so a client may send back
what it received); the row is validated with ``full_clean()`` (a ValidationError lists what
is wrong) and saved, which sends the change to the groups as any save does.

A create takes only the bound fields and always inserts, so that a client can neither set a
field the binding does not expose nor overwrite a row by choosing its pk; it is an ordinary,
validated save (``auto_now`` and the model's ``save()`` apply). A frame that is not a request,
an update of a row that does not exist and data naming a many-to-many field raise ValueError
saying what came, which the worker logs. ``docs/differences-from-1x.md`` ("Generic consumers,
multiplexing and bindings") has what 1.x did instead.
"""

from __future__ import annotations

import json
import reprlib
from collections.abc import Callable
from typing import Any, ClassVar

from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model

from .. import sessions
from ..generic import WebsocketMultiplexer
from ..generic.websockets import _refuse_slight_ordering
from ..message import Message
from .base import CREATE, UPDATE, Binding


class WebsocketBinding(Binding):
    """A binding whose clients are WebSockets (see the module's docstring).

    Outbound payloads are ``{"action", "pk", "data", "model"}``; ``serialize_data`` makes
    ``data``. Inbound, only ``websocket.receive`` messages are requests (connect and
    disconnect, which a demultiplexer passes to every stream, are ignored). With
    ``strict_ordering`` the consumer runs a socket's messages in order (``enforce_ordering``:
    route it on the socket's connect and disconnect too, and not behind a demultiplexer,
    which orders the whole socket instead).
    """

    model = None
    strict_ordering: ClassVar[bool] = False
    #: Removed in 1.0 (ordering is strict or none); True is refused.
    slight_ordering: ClassVar[bool] = False

    @classmethod
    def _check_class(cls) -> None:
        super()._check_class()
        _refuse_slight_ordering(cls)

    # Outbound

    @classmethod
    def encode(cls, stream: str, payload: dict[str, Any]) -> dict[str, Any]:
        return WebsocketMultiplexer.encode(stream, payload)

    def serialize(self, instance: Model, action: str) -> dict[str, Any]:
        return {
            "action": action,
            "pk": instance.pk,
            "data": self.serialize_data(instance),
            "model": self.model_label,
        }

    def serialize_data(self, instance: Model) -> dict[str, Any]:
        """The bound fields of ``instance`` as Django's JSON serializer writes them (foreign
        keys as pks, many-to-many fields as lists of pks)."""
        names = [field.name for field in self.bound_fields()]
        text = serializers.serialize("json", [instance], fields=names)
        fields: dict[str, Any] = json.loads(text)[0]["fields"]
        return fields

    # Inbound

    @classmethod
    def get_handler(cls) -> Callable[..., None]:
        handler = super().get_handler()
        return sessions.enforce_ordering(handler) if cls.strict_ordering else handler

    @classmethod
    def trigger_inbound(cls, message: Message, **kwargs: Any) -> None:
        if message.channel.name == "websocket.receive":
            super().trigger_inbound(message, **kwargs)

    def deserialize(self, message: Message) -> tuple[str, Any, Any]:
        """The request in the frame's JSON text. Raises ValueError for a frame that is not
        a JSON object with an ``action``."""
        text = message.get("text")
        try:
            body = json.loads(text) if isinstance(text, str) else None
        except ValueError:
            body = None
        if not isinstance(body, dict) or "action" not in body:
            sent = text if text is not None else message.get("bytes")
            raise ValueError(
                f'{type(self).__qualname__} takes requests {{"action": "create" | "update" | '
                f'"delete", "pk": ..., "data": {{...}}}}, and {self._sender()} sent '
                f"{reprlib.repr(sent)}"
            )
        return body["action"], body.get("pk"), body.get("data")

    def create(self, data: Any) -> None:
        """Inserts a row from ``data`` (and the request's pk, if it gave one)."""
        instance = self.bound_model()()
        if self.pk is not None:
            instance.pk = self.pk
        self._save(instance, data, CREATE)

    def update(self, pk: Any, data: Any) -> None:
        """Changes the fields of row ``pk`` that ``data`` names."""
        model = self.bound_model()
        try:
            instance = model._default_manager.get(pk=pk)
        except model.DoesNotExist:
            raise ValueError(
                f"{type(self).__qualname__}: {self._sender()} asked to update "
                f"{self.model_label} {pk!r}, which does not exist"
            ) from None
        self._save(instance, data, UPDATE)

    def _save(self, instance: Model, data: Any, action: str) -> None:
        """Copies the bound, editable fields ``data`` names onto ``instance``, validates them
        (the others are as stored, or the binding's business) and saves it."""
        name = type(self).__qualname__
        if not isinstance(data, dict):
            raise ValueError(
                f"{name}: {action!r} needs data, an object of field values, and "
                f"{self._sender()} sent {reprlib.repr(data)}"
            )
        taken = {field.name: field for field in self.bound_fields() if field.editable}
        for key, value in data.items():
            field = taken.get(key)
            if field is None:
                continue
            if field.many_to_many:
                raise ValueError(
                    f"{name}: {self._sender()} sent many-to-many field {key!r}, which bindings "
                    f"do not take (it would be set after the change went out); set it in an "
                    f"override of {action}()"
                )
            setattr(instance, field.attname, value)
        unchecked = [
            field.name
            for field in instance._meta.concrete_fields
            if field.name not in taken and not field.primary_key
        ]
        instance.full_clean(exclude=unchecked)
        instance.save(force_insert=action == CREATE)


class WebsocketBindingWithMembers(WebsocketBinding):
    """A ``WebsocketBinding`` whose ``data`` also carries ``send_members``: attributes,
    properties or methods (called without arguments) of the instance, given as dotted paths
    (``"author.username"``, sent under ``"author__username"``) and encoded with Django's
    JSON encoder. They go out only; a client sending them back is ignored."""

    model = None
    send_members: ClassVar[list[str]] = []
    encoder: ClassVar[json.JSONEncoder] = DjangoJSONEncoder()

    @classmethod
    def _check_class(cls) -> None:
        super()._check_class()
        members = cls.send_members
        if isinstance(members, str) or not all(isinstance(path, str) for path in members):
            raise ValueError(
                f"{cls.__qualname__}.send_members must be a list of attribute paths such as "
                f"['title', 'author.username'], got {members!r}"
            )

    def serialize_data(self, instance: Model) -> dict[str, Any]:
        data = super().serialize_data(instance)
        members = {
            path.replace(".", "__"): self._member(instance, path) for path in self.send_members
        }
        data.update(json.loads(self.encoder.encode(members)))
        return data

    def _member(self, instance: Model, path: str) -> Any:
        value: Any = instance
        for part in path.split("."):
            try:
                value = getattr(value, part)
            except AttributeError:
                raise AttributeError(
                    f"{type(self).__qualname__}.send_members has {path!r}, but {value!r} has no "
                    f"attribute {part!r}"
                ) from None
        return value() if callable(value) else value

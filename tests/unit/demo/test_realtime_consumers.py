"""The demo's consumers (realtime/consumers.py), driven with the project's own test tools:
each test gets fresh in-memory layers routed by routing.py, and WSClient sockets send the
messages the interface server would."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from channels_classic import DEFAULT_CHANNEL_LAYER
from channels_classic.exceptions import DenyConnection
from channels_classic.layers.registry import channel_layers
from channels_classic.test import ChannelTestCase, Client, WSClient
from realtime.models import ChatMessage, Presence
from realtime.rooms import BAD_ROOM_CLOSE_CODE, HISTORY_LENGTH, MAX_FRAME_BYTES, MAX_TEXT_BYTES

ROOM = "/rooms/lobby/"
TEXT_TOO_LONG = f"the text is longer than {MAX_TEXT_BYTES} bytes (UTF-8)"
#: What a socket joining a room without messages is sent first.
NO_HISTORY = {"type": "history", "messages": []}
#: An origin in ALLOWED_HOSTS: room sockets from other origins are refused.
ORIGIN = "http://localhost:8000"


class RealtimeTestCase(ChannelTestCase):
    def socket(self, user: User | None = None, origin: str | None = ORIGIN) -> WSClient:
        """A client for one socket, logged in as ``user`` if given, from ``origin``."""
        client = WSClient()
        if origin is not None:
            client.set_header("origin", origin)
        if user is not None:
            client.force_login(user)
        return client

    def join(self, user: User | None = None, path: str = ROOM) -> WSClient:
        """A socket that connected to a room (accepted) and read what joining sent it."""
        client = self.socket(user)
        client.send_and_consume("websocket.connect", path=path)
        self.drain(client)
        return client

    def drain(self, client: WSClient) -> list[Any]:
        """Every frame waiting for ``client``, decoded."""
        frames = []
        while (frame := client.receive()) is not None:
            frames.append(frame)
        return frames

    def post(self, client: WSClient, text: Any) -> None:
        client.send_and_consume("websocket.receive", text=text, path=ROOM)


class EchoTests(RealtimeTestCase):
    def test_text_frames_are_echoed(self):
        """A /chat/ socket gets each text frame back, prefixed."""
        client = WSClient()
        client.send_and_consume("websocket.receive", text="hello", path="/chat/")
        assert client.receive(json=False) == "You said: hello"
        assert client.receive() is None

    def test_empty_and_binary_frames_get_no_answer(self):
        """An empty text frame or a binary frame gets no echo."""
        client = WSClient()
        client.send_and_consume("websocket.receive", text="", path="/chat/sub")
        client.send_and_consume("websocket.receive", {"bytes": b"\x00"}, path="/chat/")
        assert client.receive() is None


class RoomConnectTests(RealtimeTestCase):
    def test_anonymous_socket_joins_as_a_guest(self):
        """An anonymous socket is accepted, recorded as a guest and told who is there; no
        join frame names it."""
        client = self.socket()
        client.send_and_consume("websocket.connect", path=ROOM)
        assert self.drain(client) == [NO_HISTORY, {"type": "presence", "users": [], "guests": 1}]
        presence = Presence.objects.get(reply_channel=client.reply_channel)
        assert (presence.room, presence.name) == ("lobby", "")

    def test_logged_in_socket_is_announced_to_the_room(self):
        """A logged-in user's socket is accepted and the room, the user included, hears it
        joined; presence lists the user."""
        guest = self.join()
        ada = self.socket(User.objects.create_user("ada"))
        ada.send_and_consume("websocket.connect", path=ROOM)
        assert ada.receive() == NO_HISTORY
        for client in (guest, ada):
            join, presence = self.drain(client)
            assert (join["type"], join["user"]) == ("join", "ada")
            assert presence == {"type": "presence", "users": ["ada"], "guests": 1}
        assert Presence.objects.get(reply_channel=ada.reply_channel).name == "ada"

    def test_rooms_are_separate(self):
        """Joining one room tells nobody in another."""
        other_room = self.join(path="/rooms/kitchen/")
        self.join(User.objects.create_user("ada"))
        assert self.drain(other_room) == []

    def test_sockets_from_other_origins_are_refused(self):
        """A room socket opened by a page of another site, or with no origin, is refused
        before anything is recorded or sent."""
        eve = User.objects.create_user("eve")
        for origin in ("http://evil.example", None):
            client = self.socket(eve, origin)
            with pytest.raises(DenyConnection, match="refused by AllowedHostsOnlyOriginValidator"):
                client.send_and_consume("websocket.connect", path=ROOM)
            assert client.receive() is None
        assert not Presence.objects.exists()

    def test_a_bad_room_name_gets_an_error_and_a_close(self):
        """A room or live socket whose name is not a room's (a space, a "!", too long, none
        at all) is told what is wrong and what a name may be, in one reply that closes it
        with BAD_ROOM_CLOSE_CODE; nothing is recorded."""
        rule = "is not a room name: use 1 to 50 letters, digits, - or _"
        for path, name in [
            ("/rooms/my room!/", "my room!"),
            ("/live/my room!/", "my room!"),
            (f"/rooms/{'x' * 51}/", "x" * 51),
            ("/rooms//", ""),
            ("/rooms/a/b/", "a/b"),
        ]:
            client = self.socket()
            client.send_and_consume("websocket.connect", path=path, check_accept=False)
            reply = Client.receive(client)  # the whole reply: its text and its close
            assert reply.pop("close") == BAD_ROOM_CLOSE_CODE, path
            assert json.loads(reply.pop("text")) == {
                "type": "error",
                "error": f"{json.dumps(name)} {rule}",
            }
            assert reply == {} and client.receive() is None
        assert not Presence.objects.exists()


class HistoryTests(RealtimeTestCase):
    def test_a_joining_socket_gets_the_last_messages_in_order(self):
        """Posts are kept; a socket that joins later is sent the room's last HISTORY_LENGTH
        messages, oldest first, each with its author, text and the time the room was told,
        before anything else; other rooms' messages are not among them."""
        ada = self.join(User.objects.create_user("ada"))
        sent = []
        for number in range(HISTORY_LENGTH + 2):
            self.post(ada, {"text": f"message {number}"})
            (broadcast,) = self.drain(ada)
            sent.append({key: broadcast[key] for key in ("user", "text", "ts")})
        ChatMessage.objects.create(room="kitchen", author="grace", text="elsewhere")
        late = self.socket()
        late.send_and_consume("websocket.connect", path=ROOM)
        history = late.receive()
        assert history == {"type": "history", "messages": sent[-HISTORY_LENGTH:]}
        assert [m["text"] for m in history["messages"]][:2] == ["message 2", "message 3"]
        assert ChatMessage.objects.filter(room="lobby", author="ada").count() == len(sent)

    def test_refused_posts_are_not_kept(self):
        """A guest's post and a malformed frame are neither broadcast nor kept."""
        ada = self.join(User.objects.create_user("ada"))
        guest = self.join()
        self.post(guest, {"text": "hi"})
        self.post(ada, {"text": "   "})
        assert not ChatMessage.objects.exists()


class RoomReceiveTests(RealtimeTestCase):
    def test_posts_of_a_logged_in_user_reach_the_whole_room(self):
        """A chat frame from a logged-in user is broadcast to every socket in the room, with
        the user's name from the login (not from the frame)."""
        ada = self.join(User.objects.create_user("ada"))
        guest = self.join()
        self.drain(ada)
        self.post(ada, {"text": "hello room", "user": "mallory"})
        for client in (ada, guest):
            (message,) = self.drain(client)
            assert {k: message[k] for k in ("type", "user", "text")} == {
                "type": "message",
                "user": "ada",
                "text": "hello room",
            }
            assert message["ts"].endswith("+00:00")

    def test_anonymous_posts_get_an_error_and_reach_nobody(self):
        """An anonymous socket may read but not post: it alone gets an error frame."""
        ada = self.join(User.objects.create_user("ada"))
        guest = self.join()
        self.drain(ada)
        self.post(guest, {"text": "hi"})
        assert self.drain(guest) == [{"type": "error", "error": "log in to post in this room"}]
        assert self.drain(ada) == []

    def test_bad_frames_get_error_frames(self):
        """Each malformed frame gets an error frame saying what is wrong; nothing is
        broadcast."""
        ada = self.join(User.objects.create_user("ada"))
        guest = self.join()
        self.drain(ada)
        cases = [
            ("not json", 'frames must be JSON like {"text": "hello"}'),
            ('["text"]', 'frames need a "text" field holding a string'),
            ({"text": 42}, 'frames need a "text" field holding a string'),
            ({"text": "   "}, "the text is empty"),
            ({"text": "x" * (MAX_TEXT_BYTES + 1)}, TEXT_TOO_LONG),
            ("x" * (MAX_FRAME_BYTES + 1), f"the frame is larger than {MAX_FRAME_BYTES} bytes"),
        ]
        for text, error in cases:
            self.post(ada, text)
            assert self.drain(ada) == [{"type": "error", "error": error}], text
        ada.send_and_consume("websocket.receive", {"bytes": b"\x01"}, path=ROOM)
        assert self.drain(ada) == [
            {"type": "error", "error": "send text frames: binary frames are not chat messages"}
        ]
        assert self.drain(guest) == []

    def test_the_text_limit_counts_utf8_bytes(self):
        """A text of MAX_TEXT_BYTES / 2 two-byte characters is within the limit, one more
        character is over it, though far fewer characters than MAX_TEXT_BYTES."""
        ada = self.join(User.objects.create_user("ada"))
        fits = "é" * (MAX_TEXT_BYTES // 2)
        self.post(ada, {"text": fits})
        (message,) = self.drain(ada)
        assert message["text"] == fits
        self.post(ada, {"text": fits + "é"})
        assert self.drain(ada) == [{"type": "error", "error": TEXT_TOO_LONG}]

    def test_the_frame_limit_counts_utf8_bytes(self):
        """A frame of fewer characters than MAX_FRAME_BYTES but more bytes is refused before
        it is parsed."""
        ada = self.join(User.objects.create_user("ada"))
        frame = json.dumps({"text": "€" * (MAX_FRAME_BYTES // 3)}, ensure_ascii=False)
        assert len(frame) < MAX_FRAME_BYTES < len(frame.encode())
        self.post(ada, frame)
        assert self.drain(ada) == [
            {"type": "error", "error": f"the frame is larger than {MAX_FRAME_BYTES} bytes"}
        ]


class RoomDisconnectTests(RealtimeTestCase):
    def test_a_user_leaving_is_announced_and_forgotten(self):
        """When a logged-in user's socket closes, the room hears it left, presence drops the
        user, and the socket no longer gets the room's messages."""
        ada = self.join(User.objects.create_user("ada"))
        grace = self.join(User.objects.create_user("grace"))
        self.drain(ada)
        ada.send_and_consume("websocket.disconnect", path=ROOM)
        leave, presence = self.drain(grace)
        assert (leave["type"], leave["user"]) == ("leave", "ada")
        assert presence == {"type": "presence", "users": ["grace"], "guests": 0}
        assert not Presence.objects.filter(reply_channel=ada.reply_channel).exists()
        self.post(grace, {"text": "still there?"})
        assert self.drain(ada) == []
        assert self.drain(grace)[0]["text"] == "still there?"

    def test_a_guest_leaves_quietly(self):
        """A guest leaving sends only the new presence: no leave frame names it."""
        ada = self.join(User.objects.create_user("ada"))
        guest = self.join()
        self.drain(ada)
        guest.send_and_consume("websocket.disconnect", path=ROOM)
        assert self.drain(ada) == [{"type": "presence", "users": ["ada"], "guests": 0}]


class PresenceTests(RealtimeTestCase):
    def test_rows_older_than_the_group_expiry_are_forgotten(self):
        """A presence row older than the layer's group expiry (a socket whose disconnect
        never ran, e.g. after daphne and the workers stopped together) is neither listed nor
        kept once the room's presence is next told."""
        ghost = Presence.objects.create(room="lobby", reply_channel="gone!1", name="ghost")
        expiry = channel_layers[DEFAULT_CHANNEL_LAYER].group_expiry
        Presence.objects.filter(pk=ghost.pk).update(
            joined_at=timezone.now() - timedelta(seconds=expiry + 1)
        )
        Presence.objects.create(room="kitchen", reply_channel="gone!2", name="recent")
        ada = self.socket(User.objects.create_user("ada"))
        ada.send_and_consume("websocket.connect", path=ROOM)
        _, _, presence = self.drain(ada)
        assert presence == {"type": "presence", "users": ["ada"], "guests": 0}
        assert not Presence.objects.filter(pk=ghost.pk).exists()
        assert Presence.objects.filter(name="recent").exists()

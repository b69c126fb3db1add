import json

from channels import Channel, Group
from channels.auth import channel_session_user, channel_session_user_from_http
from channels.sessions import channel_session, enforce_ordering
from channels.security.websockets import allowed_hosts_only


@allowed_hosts_only
@channel_session_user_from_http
def ws_connect(message, room):
    message.channel_session["room"] = room
    Group("room-%s" % room).add(message.reply_channel)
    message.reply_channel.send({"accept": True})


@enforce_ordering(slight=True)
@channel_session_user
def ws_receive(message, room):
    payload = json.loads(message["text"])
    Group("room-%s" % room).send({
        "text": json.dumps({"user": message.user.username, "text": payload["text"]}),
    })
    if payload.get("remind_in"):
        # 1.x's delay server: a message sent to asgi.delay comes back later.
        Channel("asgi.delay").send({
            "channel": "chat.reminder",
            "delay": payload["remind_in"] * 1000,
            "content": {"room": room, "reply_channel": message.reply_channel.name},
        }, immediately=True)


@channel_session
def ws_disconnect(message, room):
    Group("room-%s" % message.channel_session["room"]).discard(message.reply_channel)


def reminder(message):
    Channel(message["reply_channel"]).send({"text": "Reminder!"})

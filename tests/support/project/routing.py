"""The test project's channel routing: an echo socket, as small as a project gets."""

from channels_classic.routing import route


def echo(message):
    """Sends each text frame back as it came."""
    message.reply_channel.send({"text": message.content["text"]})


channel_routing = [route("websocket.receive", echo, path=r"^/echo/$")]

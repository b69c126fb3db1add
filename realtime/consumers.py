"""The demo's consumers: plain functions, run by ``manage.py runworker``."""


def websocket_receive(message):
    """Echoes each text frame of a /chat/ socket back to it."""
    text = message.content.get("text")
    if text:
        message.reply_channel.send({"text": f"You said: {text}"})

"""The floor of the WebSocket benchmark: a bare ASGI 3 echo app on daphne.

    daphne -b 127.0.0.1 -p 8001 bench.floor_app:app

It accepts every socket and sends each text frame straight back, unchanged, without a
channel layer, a worker or Django. Whatever djchan measures above this is the cost of the
layer round trips and the worker, not of daphne or the client.
"""

from __future__ import annotations

from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Echoes the text frames of every WebSocket; other connections (HTTP) get a 404."""
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"the floor app only echoes WebSockets"})
        return
    while True:
        event = await receive()
        if event["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif event["type"] == "websocket.receive":
            if event.get("text") is not None:
                await send({"type": "websocket.send", "text": event["text"]})
        elif event["type"] == "websocket.disconnect":
            return

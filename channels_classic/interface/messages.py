"""Builders for the messages the interface server puts on the layer, one per shape."""

from __future__ import annotations

from typing import Any

from ..types import (
    Headers,
    HttpBodyChunk,
    HttpDisconnect,
    HttpRequest,
    WebsocketConnect,
    WebsocketDisconnect,
    WebsocketReceive,
)


def _headers(scope: dict[str, Any]) -> Headers:
    return [[bytes(name), bytes(value)] for name, value in scope.get("headers", ())]


def _address(value: Any) -> list[str | int] | None:
    return list(value) if value else None


def websocket_connect(scope: dict[str, Any], reply_channel: str) -> WebsocketConnect:
    return {
        "reply_channel": reply_channel,
        "scheme": scope.get("scheme") or "ws",
        "path": scope["path"],
        "query_string": scope.get("query_string") or b"",
        "root_path": scope.get("root_path") or "",
        "headers": _headers(scope),
        "client": _address(scope.get("client")),
        "server": _address(scope.get("server")),
        "order": 0,
    }


def websocket_receive(
    reply_channel: str, path: str, order: int, frame: dict[str, Any]
) -> WebsocketReceive:
    """One client frame; ``frame`` is the ASGI ``websocket.receive`` event."""
    message: WebsocketReceive = {"reply_channel": reply_channel, "path": path, "order": order}
    if frame.get("bytes") is not None:
        message["bytes"] = frame["bytes"]
    else:
        message["text"] = frame.get("text") or ""
    return message


def websocket_disconnect(
    reply_channel: str, path: str, code: int, order: int
) -> WebsocketDisconnect:
    return {"reply_channel": reply_channel, "path": path, "code": code, "order": order}


def http_request(
    scope: dict[str, Any], reply_channel: str, body: bytes, body_channel: str | None
) -> HttpRequest:
    message: HttpRequest = {
        "reply_channel": reply_channel,
        "http_version": scope.get("http_version") or "1.1",
        "method": scope["method"].upper(),
        "scheme": scope.get("scheme") or "http",
        "path": scope["path"],
        "query_string": scope.get("query_string") or b"",
        "root_path": scope.get("root_path") or "",
        "headers": _headers(scope),
        "body": body,
        "client": _address(scope.get("client")),
        "server": _address(scope.get("server")),
    }
    if body_channel is not None:
        message["body_channel"] = body_channel
    return message


def http_body_chunk(content: bytes, more_content: bool, order: int) -> HttpBodyChunk:
    return {"content": content, "more_content": more_content, "order": order}


def http_disconnect(reply_channel: str, path: str) -> HttpDisconnect:
    return {"reply_channel": reply_channel, "path": path}

from channels.routing import route

from echo.consumers import ws_receive

channel_routing = [route("websocket.receive", ws_receive)]

from channels import Group
from channels.test import ChannelTestCase, HttpClient, WSClient, apply_routes
from channels.routing import route

from chat.consumers import ws_connect, ws_receive


class ChatTests(ChannelTestCase):

    def test_connect_joins_the_room(self):
        client = HttpClient()
        client.send_and_consume("websocket.connect", path="/rooms/lobby/")
        Group("room-lobby").send({"text": "hi"}, immediately=True)
        self.assertEqual(client.receive(json=False), "hi")

    @apply_routes([route("websocket.receive", ws_receive)])
    def test_receive_needs_a_session(self):
        client = WSClient(ordered=True)
        with self.assertRaises(ValueError):
            client.send_and_consume("websocket.receive", text={"text": "x"})
        self.assertIsNone(self.get_next_message("websocket.receive"))

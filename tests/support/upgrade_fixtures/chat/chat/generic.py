from channels.generic.websockets import JsonWebsocketConsumer


class LobbyConsumer(JsonWebsocketConsumer):
    http_user = True
    strict_ordering = False

    def connection_groups(self, **kwargs):
        return ["lobby"]

    def receive(self, content, **kwargs):
        self.group_send("lobby", {"who": self.message.user.username, "said": content})

import channels.binding.websockets
from channels.generic.websockets import WebsocketDemultiplexer

from chat.models import Room


class RoomBinding(channels.binding.websockets.WebsocketBinding):
    model = Room
    stream = "rooms"
    fields = ["name", "topic"]

    @classmethod
    def group_names(cls, instance):
        return ["room-updates"]

    def has_permission(self, user, action, pk):
        return user.is_staff


class Demultiplexer(WebsocketDemultiplexer):
    consumers = {"rooms": RoomBinding.consumer}

    def connection_groups(self):
        return ["room-updates"]

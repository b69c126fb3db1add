from channels.routing import ProtocolTypeRouter, URLRouter, route
from channels.layers import get_channel_layer
import channels.layers
import channels.routing

from unittest import mock

from asgiref.inmemory import ChannelLayer
from django.test import TestCase, override_settings
from django.utils.module_loading import import_string

MEMORY = {"default": {"BACKEND": "asgiref.inmemory.ChannelLayer", "ROUTING": []}}


@override_settings(
    INSTALLED_APPS=["channels", "legacy"],
    CHANNEL_LAYERS={"default": {"BACKEND": "asgi_ipc.IPCChannelLayer", "ROUTING": []}},
)
class LayerTests(TestCase):

    @mock.patch("channels.channel.Group.send")
    def test_group(self, send):
        layer = import_string("asgiref.inmemory.ChannelLayer")()
        self.assertIsInstance(layer, ChannelLayer)

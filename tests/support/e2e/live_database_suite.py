"""A ChannelLiveServerTestCase that uses the database, as a project's own would: a login
through the worker, then a chat socket carrying it.

It needs tests.support.e2e.live_database_settings (a file test database and a Redis), so
test_test_tools_liveserver runs it with ``manage.py test`` in a process of its own; the
module's name keeps pytest from collecting it with the rest of the suite.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.parse
import urllib.request
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from websockets.sync.client import ClientConnection, connect

from channels_classic.test import ChannelLiveServerTestCase
from realtime.models import ChatMessage, Presence

#: Bounded waits on the live server's sockets.
TIMEOUT = 10
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class RoomsWithDatabase(ChannelLiveServerTestCase):
    databases = {"default"}

    def log_in(self, username: str, password: str) -> str:
        """Logs in through the login page the worker serves, as a browser would; returns the
        session cookie's value."""
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        login_url = self.live_server_url + "/accounts/login/"
        with browser.open(login_url, timeout=TIMEOUT) as response:
            token = CSRF_FIELD.search(response.read().decode())
        assert token is not None, self.live_server_logs()
        form = {"username": username, "password": password, "csrfmiddlewaretoken": token[1]}
        with browser.open(login_url, urllib.parse.urlencode(form).encode(), TIMEOUT) as response:
            assert response.url == self.live_server_url + "/", self.live_server_logs()
        cookies = {cookie.name: cookie.value for cookie in jar}
        return cookies[settings.SESSION_COOKIE_NAME]

    def frame(self, socket: ClientConnection) -> Any:
        return json.loads(socket.recv(timeout=TIMEOUT))

    def test_a_user_logged_in_through_the_worker_chats_in_a_room(self):
        """The worker logs in a user the test created and records the login; a room socket
        carrying the session is that user (the presence row the worker writes is the test's
        to read), and its message goes out under the user's name."""
        User.objects.create_user("ada", password="lovelace")
        session = self.log_in("ada", "lovelace")
        assert User.objects.get(username="ada").last_login is not None
        headers = {
            "Cookie": f"{settings.SESSION_COOKIE_NAME}={session}",
            "Origin": self.live_server_url,
        }
        url = self.live_server_ws_url + "/rooms/lobby/"
        with connect(url, additional_headers=headers, open_timeout=TIMEOUT) as socket:
            history, joined, present = (self.frame(socket) for _ in range(3))
            assert history == {"type": "history", "messages": []}, self.live_server_logs()
            assert (joined["type"], joined["user"]) == ("join", "ada"), self.live_server_logs()
            assert present == {"type": "presence", "users": ["ada"], "guests": 0}
            assert list(Presence.objects.values_list("room", "name")) == [("lobby", "ada")]
            socket.send(json.dumps({"text": "hello"}))
            said = self.frame(socket)
            assert (said["type"], said["user"], said["text"]) == ("message", "ada", "hello")
            kept = ChatMessage.objects.values_list("room", "author", "text")
            assert list(kept) == [("lobby", "ada", "hello")]

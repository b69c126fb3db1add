"""The Redis layer's wire part: the ``hosts`` setting read into connection settings by the
redis-py adapter (options, mistakes, keepalive on real sockets to the session's Redis).
Credential providers and TLS, on Redis servers of the tests' own, are in
tests/e2e/layers/test_redis_layer_wire.py."""

from __future__ import annotations

import socket

import pytest

from channels_classic.layers.redis import RedisChannelLayer
from channels_classic.layers.redis.wire.redis_py import decode_hosts
from channels_classic.layers.redis.wire.sockets import open_blocking


def test_url_and_dict_options_become_plain_settings():
    """What the URL says (and wins over the dict, as in redis-py), and the dict's own
    options, land in the connection settings; a rediss URL gets a TLS context, a unix URL a
    socket path."""
    (tcp, tls, unix) = decode_hosts(
        [
            {
                "address": "redis://user:pw@10.0.0.1:6380/3?socket_timeout=0.5",
                "socket_timeout": 9,
                "client_name": "worker",
                "socket_connect_timeout": 2,
            },
            "rediss://10.0.0.2:6390/0?ssl_cert_reqs=none",
            "unix:///run/redis.sock?db=4",
        ]
    )
    assert (tcp.host, tcp.port, tcp.db, tcp.username, tcp.password) == (
        "10.0.0.1",
        6380,
        3,
        "user",
        "pw",
    )
    assert (tcp.socket_timeout, tcp.connect_timeout, tcp.client_name) == (0.5, 2.0, "worker")
    assert tcp.handshake() == [
        ("AUTH", "user", "pw"),
        ("SELECT", 3),
        ("CLIENT", "SETNAME", "worker"),
    ]
    assert tcp.tls is None and tcp.unix_path is None
    assert tls.tls is not None and tls.tls.check_hostname is False
    assert (unix.unix_path, unix.db) == ("/run/redis.sock", 4)


def test_a_connect_timeout_of_none_waits_as_long_as_a_reply():
    """As in redis-py: socket_connect_timeout=None means the socket_timeout."""
    (server,) = decode_hosts(
        [{"host": "10.0.0.1", "socket_timeout": 3, "socket_connect_timeout": None}]
    )
    assert server.connect_timeout == 3.0


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        (
            {"host": "10.0.0.1", "sockt_timeout": 1},
            r"'sockt_timeout': not a redis-py connection option",
        ),
        ("redis://10.0.0.1/0?retries=3", r"'retries': not a redis-py connection option"),
        ({"address": "rediss://10.0.0.1", "ssl_validate_ocsp": True}, "do not check OCSP"),
        (
            {"address": "rediss://10.0.0.1", "ssl_cert_reqs": "maybe"},
            "ssl_cert_reqs must be one of",
        ),
        (
            {"address": "rediss://10.0.0.1", "ssl_keyfile": "k.pem"},
            "ssl_keyfile needs ssl_certfile",
        ),
        ({"address": "rediss://10.0.0.1", "ssl_ca_certs": "/nonexistent.pem"}, "No such file"),
        ("http://10.0.0.1:6379", "must specify one of the following schemes"),
    ],
)
def test_mistakes_in_a_host_are_refused_when_the_layer_is_made(entry, error):
    """A misspelt option, one the layer cannot honour, or a TLS file that cannot be read
    stops the layer's construction, naming the host and what is wrong (not the first send)."""
    with pytest.raises(ValueError, match=rf"^hosts\[0\] \(.*\): .*{error}"):
        RedisChannelLayer(hosts=[entry])


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            {},
            {
                socket.SO_KEEPALIVE: 1,
                socket.TCP_KEEPIDLE: 30,
                socket.TCP_KEEPINTVL: 5,
                socket.TCP_KEEPCNT: 3,
            },
        ),
        ({"socket_keepalive_options": {socket.TCP_KEEPIDLE: 7}}, {socket.TCP_KEEPIDLE: 7}),
        ({"socket_keepalive": False}, {socket.SO_KEEPALIVE: 0}),
    ],
)
def test_keepalive_options_reach_the_socket(redis_url, options, expected):
    """TCP keepalive is on by default with redis-py's documented timings (idle 30 s, every
    5 s, 3 probes), given options replace them, and socket_keepalive=False turns it off."""
    (server,) = decode_hosts([{"address": redis_url, **options}])
    sock = open_blocking(server)
    try:
        for option, value in expected.items():
            level = socket.SOL_SOCKET if option == socket.SO_KEEPALIVE else socket.IPPROTO_TCP
            assert sock.getsockopt(level, option) == value
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        sock.close()

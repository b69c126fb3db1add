"""The Redis layer's wire part on Redis servers of the tests' own: credential providers, and
TLS on real connections.

The embedded redis-server is built without TLS, so the TLS tests put a TLS-terminating
proxy (Python's own ssl, a certificate made here) in front of a real Redis: the layer's
connections do the real handshake and certificate checks.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from redis.credentials import CredentialProvider

from channels_classic.exceptions import ChannelLayerUnavailable
from channels_classic.layers.redis import RedisChannelLayer


class CountingProvider(CredentialProvider):
    """A redis-py credential provider that counts how often it is asked."""

    def __init__(self, username: str | None, password: str) -> None:
        self.credentials = (password,) if username is None else (username, password)
        self.asked = 0

    def get_credentials(self) -> tuple[str] | tuple[str, str]:
        self.asked += 1
        return self.credentials


async def test_a_credential_provider_is_asked_on_every_new_connection(private_redis, prefix):
    """A password from a redis-py credential provider opens the async and the blocking
    connections, each asking the provider when it connects."""
    server = private_redis()
    redis.Redis.from_url(server.url).config_set("requirepass", "rotating")
    provider = CountingProvider(None, "rotating")
    layer = RedisChannelLayer(
        hosts=[{"address": server.url, "credential_provider": provider}], prefix=prefix
    )
    await layer.send("test.credentials", {"n": 1})
    await asyncio.to_thread(layer.send_sync, "test.credentials", {"n": 2})
    received = [await asyncio.wait_for(layer.receive("test.credentials"), 5) for _ in range(2)]
    assert received == [{"n": 1}, {"n": 2}]
    assert provider.asked == 3  # the async pipe, the thread's socket, the listener's pipe
    await layer.close()


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for "localhost" only, and its key: (cert.pem, key.pem)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


@pytest.fixture
async def tls_redis(private_redis, tmp_path) -> AsyncIterator[tuple[int, Path]]:
    """A real Redis behind a TLS proxy on 127.0.0.1; yields the proxy's port and the
    certificate (which is its own CA)."""
    import ssl

    server = private_redis()
    cert_path, key_path = make_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", server.port)
        await asyncio.gather(
            _pump(reader, upstream_writer), _pump(upstream_reader, writer), return_exceptions=True
        )

    proxy = await asyncio.start_server(relay, "127.0.0.1", 0, ssl=context)
    port = proxy.sockets[0].getsockname()[1]
    yield port, cert_path
    proxy.close()


def tls_entry(address: str, options: dict[str, object], port: int, ca: Path) -> dict[str, object]:
    """A host dict: ``address`` and string ``options`` with the proxy's {port} and {ca}."""
    filled = {
        name: value.format(ca=ca) if isinstance(value, str) else value
        for name, value in options.items()
    }
    return {"address": address.format(port=port), **filled}


async def round_trip(layer: RedisChannelLayer) -> list[object]:
    """An async send, a blocking send from a thread, and both received."""
    await layer.send("test.tls", {"n": 1})
    await asyncio.to_thread(layer.send_sync, "test.tls", {"n": 2})
    received = [await asyncio.wait_for(layer.receive("test.tls"), 5) for _ in range(2)]
    await layer.close()
    return received


async def test_tls_with_the_servers_ca(tls_redis, prefix):
    """A rediss URL with the server's CA: async, blocking and listening connections all
    speak TLS, verifying the certificate and the host name."""
    port, ca = tls_redis
    hosts = [{"address": f"rediss://localhost:{port}/0", "ssl_ca_certs": str(ca)}]
    assert await round_trip(RedisChannelLayer(hosts=hosts, prefix=prefix)) == [{"n": 1}, {"n": 2}]


@pytest.mark.parametrize(
    ("address", "options", "refusal"),
    [
        ("rediss://localhost:{port}/0", {}, "certificate verify failed"),
        ("rediss://127.0.0.1:{port}/0", {"ssl_ca_certs": "{ca}"}, "IP address mismatch"),
    ],
)
async def test_tls_refuses_a_certificate_it_cannot_trust(
    tls_redis, prefix, address, options, refusal
):
    """Without the server's CA, or with a host name the certificate does not name, async
    and blocking sends fail with the layer's error, saying why."""
    port, ca = tls_redis
    layer = RedisChannelLayer(hosts=[tls_entry(address, options, port, ca)], prefix=prefix)
    with pytest.raises(ChannelLayerUnavailable, match=refusal):
        await asyncio.wait_for(layer.send("test.tls", {"n": 1}), 5)
    with pytest.raises(ChannelLayerUnavailable, match=refusal):
        await asyncio.to_thread(layer.send_sync, "test.tls", {"n": 1})
    await layer.close()


@pytest.mark.parametrize(
    "options",
    [{"ssl_cert_reqs": "none"}, {"ssl_ca_certs": "{ca}", "ssl_check_hostname": False}],
)
async def test_tls_checks_can_be_relaxed_as_in_redis_py(tls_redis, prefix, options):
    """ssl_cert_reqs="none" takes any certificate; ssl_check_hostname=False a trusted one
    for another name (here the address 127.0.0.1, which the certificate does not name)."""
    port, ca = tls_redis
    entry = tls_entry("rediss://127.0.0.1:{port}/0", options, port, ca)
    layer = RedisChannelLayer(hosts=[entry], prefix=prefix)
    assert await round_trip(layer) == [{"n": 1}, {"n": 2}]

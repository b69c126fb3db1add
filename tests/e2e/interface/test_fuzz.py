"""End to end, fuzzed: random frames at the interface (text and binary, fragments, control
and reserved opcodes, sizes up to past the message limit, invalid UTF-8, bytes that are no
frame at all) and random messages at a socket's reply channel. Every process survives, and a
bystander socket keeps getting its replies. Bounded: a fixed number of examples each."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect

from channels_classic.layers.redis import RedisChannelLayer
from tests.support.processes import Stack
from tests.support.raw_websocket import RawWebSocket, frame

#: The message size limit of the fuzzed stack (some frames are larger).
MAX_MESSAGE = 16 * 1024
EXAMPLES = 40
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

payloads = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    st.integers(min_value=MAX_MESSAGE - 8, max_value=MAX_MESSAGE + 8).map(lambda n: b"z" * n),
)
frames = st.builds(
    frame,
    opcode=st.sampled_from([0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xA, 0xB]),
    payload=payloads,
    fin=st.booleans(),
)
garbage = st.binary(min_size=1, max_size=64)
wire = st.lists(st.one_of(frames, frames, frames, garbage), min_size=1, max_size=12)

values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.text(max_size=50), st.binary(max_size=50)
    ),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)
replies = st.dictionaries(
    st.sampled_from(["text", "bytes", "accept", "close", "status", "typo"]), values, max_size=4
)


@pytest.fixture
def fuzzed(private_redis, tmp_path):
    """daphne and a worker on the e2e routes, with a small message limit; a bystander."""
    stack = Stack(private_redis().url, tmp_path)
    stack.env["TEST_MAX_MESSAGE_SIZE"] = str(MAX_MESSAGE)
    stack.start_worker("--threads", "4")
    stack.daphne = stack.start_daphne()
    yield stack
    stack.stop()
    print(stack.logs()[-20_000:])


def still_serving(stack: Stack, bystander_url: str) -> None:
    """The processes live and a fresh socket is answered."""

    async def ask() -> str:
        async with connect(bystander_url) as socket:
            await socket.send("still there?")
            return await asyncio.wait_for(socket.recv(), 10)

    assert asyncio.run(ask()) == "You said: still there?"
    assert all(process.alive() for process in stack.processes)


def test_random_frames_never_take_the_server_down(fuzzed):
    """Each example opens a socket, writes its frames, reads what comes back for a moment
    and drops the connection; the stack serves the bystander after every one."""
    url = fuzzed.url("/chat/")

    @FUZZ
    @given(wire)
    def example(chunks: list[bytes]) -> None:
        async def run() -> None:
            socket = await RawWebSocket.open(fuzzed.port, "/chat/")
            try:
                for chunk in chunks:
                    await socket.send(chunk)
                await asyncio.wait_for(socket.close_code(), 0.3)
            except (TimeoutError, ConnectionError):
                pass
            finally:
                socket.abort()

        asyncio.run(run())
        still_serving(fuzzed, url)

    example()


def test_random_replies_never_take_the_server_down(fuzzed):
    """Each example sends random messages to the reply channel of an open socket; bad ones
    are dropped (and logged), good ones are carried out, and the bystander is answered."""
    url = fuzzed.url("/chat/")

    @FUZZ
    @given(st.lists(replies, min_size=1, max_size=5))
    def example(messages: list[dict]) -> None:
        async def run() -> None:
            layer = RedisChannelLayer(hosts=[fuzzed.redis_url])
            try:
                async with connect(fuzzed.url("/reply-channel/")) as target:
                    await target.send("which?")
                    reply_channel = await asyncio.wait_for(target.recv(), 10)
                    for message in messages:
                        try:
                            await layer.send(reply_channel, message)
                        except TypeError:
                            pass  # the layer refused to encode it: nothing was sent
                    await asyncio.sleep(0.05)
            finally:
                await layer.close()

        asyncio.run(run())
        still_serving(fuzzed, url)

    example()
    assert "bad reply on" in fuzzed.daphne.log()

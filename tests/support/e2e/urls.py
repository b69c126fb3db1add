"""The demo's URLs plus views the end-to-end HTTP tests drive."""

import hashlib
import json
import time

from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from channels_classic import Group
from djchan.urls import urlpatterns as demo_urlpatterns

#: Requests waiting in /poll/wait/ for a routed consumer to answer them.
POLLERS = "pollers"
#: The size of /large/'s body.
LARGE_BODY_SIZE = 3 * 512 * 1024 + 1000
#: How many parts /endless/ makes before it gives up.
ENDLESS_PARTS = 1200


@csrf_exempt
def upload(request):
    """Reports the size and SHA-256 of the uploaded file (multipart form field "file")."""
    body = request.FILES["file"].read()
    return HttpResponse(
        json.dumps({"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}),
        content_type="application/json",
    )


def stream(request):
    """Ten parts, a little apart, so each travels as its own chunk."""

    def parts():
        for n in range(10):
            time.sleep(0.02)
            yield f"part {n}\n".encode()

    return StreamingHttpResponse(parts(), content_type="text/plain")


def slow_stream(request):
    """Ten parts over two seconds: longer than the HTTP timeout some tests set."""

    def parts():
        for n in range(10):
            time.sleep(0.2)
            yield f"slow {n}\n".encode()

    return StreamingHttpResponse(parts(), content_type="text/plain")


def large(request):
    """LARGE_BODY_SIZE bytes in one ordinary (not streaming) response."""
    return HttpResponse(large_body(), content_type="application/octet-stream")


def large_body() -> bytes:
    """Three 512 KiB chunks and a bit, every byte's place recognisable."""
    return (bytes(range(256)) * (LARGE_BODY_SIZE // 256 + 1))[:LARGE_BODY_SIZE]


def failing_stream(request):
    """Two parts, then the iterator raises."""

    def parts():
        yield b"part 0\n"
        yield b"part 1\n"
        raise RuntimeError("failing_stream broke on purpose")

    return StreamingHttpResponse(parts(), content_type="text/plain")


def endless_stream(request):
    """A part every 50 ms for a minute: for any client, endless."""

    def parts():
        for n in range(ENDLESS_PARTS):
            time.sleep(0.05)
            yield f"tick {n}\n".encode()

    return StreamingHttpResponse(parts(), content_type="text/plain")


def wait_for_news(request):
    """A long poll: promises a later answer from the consumer of /poll/answer/."""
    Group(POLLERS).add(request.reply_channel)
    raise request.ResponseLater()


def handled(request):
    """What the routed AsgiHandler classes of tests/support/e2e/routing.py answer with."""
    return HttpResponse(f"handled {request.path}".encode())


urlpatterns = [
    path("handled/", handled),
    path("handled/marked/", handled),
    path("upload/", upload),
    path("stream/", stream),
    path("slow-stream/", slow_stream),
    path("large/", large),
    path("failing-stream/", failing_stream),
    path("endless/", endless_stream),
    path("poll/wait/", wait_for_news),
    *demo_urlpatterns,
]

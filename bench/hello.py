"""The small Django view http_bench.py times, and the body it answers."""

from django.http import JsonResponse

HELLO = {"hello": "world"}


def hello(request):
    """Answers HELLO as JSON, through the whole middleware stack of the project."""
    return JsonResponse(HELLO)

"""The test project's URLs: one page, for tests that go through Django's views."""

from django.http import HttpResponse
from django.urls import path


def hello(request):
    return HttpResponse(b"hello from the test project", content_type="text/plain")


urlpatterns = [path("hello/", hello)]

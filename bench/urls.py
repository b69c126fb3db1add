"""The demo's URLs plus /bench/hello/: a small view through the whole middleware stack."""

from django.urls import path

from bench.hello import hello
from djchan.urls import urlpatterns as demo_urlpatterns

urlpatterns = [path("bench/hello/", hello), *demo_urlpatterns]

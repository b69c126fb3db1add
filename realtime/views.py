from django.shortcuts import render


def index(request):
    """The chat page: pick a room and a name; messages arrive over a WebSocket."""
    return render(request, "realtime/index.html", {"room": request.GET.get("room", "lobby")})

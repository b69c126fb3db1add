from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.shortcuts import redirect, render


def index(request):
    """The chat page: pick a room; messages arrive over a WebSocket."""
    return render(request, "realtime/index.html", {"room": request.GET.get("room", "lobby")})


def signup(request):
    """Creates an account and logs it in (so the demo needs no createsuperuser)."""
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.save())
        return redirect("index")
    return render(request, "registration/signup.html", {"form": form})

"""The demo's pages: the front page (pick a room), a room's chat page, sign-up, the icon."""

from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from .rooms import ROOM_NAME_PATTERN, ROOM_NAME_RULE, active_rooms, bad_room_name, is_room_name

#: The site's icon, among the static files; also served at /favicon.ico.
FAVICON = "realtime/favicon.svg"
#: Seconds browsers may keep /favicon.ico.
FAVICON_MAX_AGE = 24 * 3600
#: What the pages' room forms check a name against, and say when it does not fit.
ROOM_FORM = {"room_pattern": ROOM_NAME_PATTERN, "room_rule": ROOM_NAME_RULE}


def front_page(request, status=200, **context):
    """The front page, with ``context`` (an ``error`` and the ``room`` it is about)."""
    context = {"rooms": active_rooms(), **ROOM_FORM, **context}
    return render(request, "realtime/index.html", context, status=status)


@require_safe
def index(request):
    """The front page: a form to pick a room, and the rooms people have talked in. The form
    sends ``?room=name``, which goes to that room's page; a name that is not a room's is
    shown again with what is wrong (400)."""
    name = request.GET.get("room")
    if name is None:
        return front_page(request)
    if is_room_name(name):
        return redirect("room", room=name)
    return front_page(request, status=400, error=bad_room_name(name), room=name)


@require_safe
def room(request, room):
    """A room's chat page: its messages and who is there arrive over the room's socket."""
    if not is_room_name(room):
        return front_page(request, status=400, error=bad_room_name(room), room=room)
    return render(request, "realtime/room.html", {"room": room, **ROOM_FORM})


@require_safe
@cache_control(public=True, max_age=FAVICON_MAX_AGE)
def favicon(request):
    """The site's icon at the address browsers and other clients try without being told."""
    path = finders.find(FAVICON)
    if path is None:
        raise Http404(f"{FAVICON} is missing from the static files")
    return FileResponse(open(path, "rb"), content_type="image/svg+xml")


def signup(request):
    """Creates an account and logs it in (so the demo needs no createsuperuser)."""
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.save())
        return redirect("index")
    return render(request, "registration/signup.html", {"form": form})

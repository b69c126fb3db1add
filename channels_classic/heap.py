"""Keeping a long-running process's start-up objects out of the garbage collector's way.

By the time a worker or an interface server starts serving, it holds a few hundred thousand
objects it will keep until it exits: Django, the settings, the routing, the layer, daphne's
Twisted. Every full collection walks all of them; on a small machine that is a pause of
20–40 ms, taken by whichever message is in flight. Freezing them once set-up is done leaves
the collector only what was made since, so a full collection takes a few milliseconds.

Each serving process freezes once, from its entry point, right before it serves: the
``runworker`` and ``rundelay`` commands call ``freeze_startup_heap`` themselves, and under
daphne (``daphne project.asgi:channel_layer``, and ``runserver``) daphne's ``Server.run`` does,
patched by ``interface.daphne_compat``. Never on import: a script that imports a project's
asgi.py to send a few messages must keep a heap that collects as usual.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Collects what set-up left behind, then moves every live object to the collector's
    permanent generation. Call it once, from a process's entry point, when it is about to
    serve: anything frozen is never collected, so this is no call for a library or a test."""
    gc.collect()
    gc.freeze()

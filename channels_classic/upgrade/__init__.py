"""The porting command: ``python -m channels_classic.upgrade PATH...`` moves a Channels 1.x
project onto channels_classic.

It rewrites ``channels`` imports (every form), ``INSTALLED_APPS`` entries (``"channels"``,
``"channels.delay"``), dotted paths and the ``django.channels`` logger in settings; it
reports what it cannot port (ASGI 1 packages, layer extensions that are gone, settings the
runtime refuses, files that are not Python 3) with file, line and what to do. Edits are
made as text spans located with ``ast``, so everything else in a file stays byte for byte; a
second run changes nothing. ``docs/porting.md`` is the whole guide.
"""

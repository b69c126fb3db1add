"""The signals of the 1.x worker, in one place.

``consumer_started`` (with ``environ``) and ``consumer_finished`` fire around every consumer
a worker runs, in the consumer's thread; ``worker_ready`` fires for each worker when it
starts listening, ``worker_process_ready`` once per ``runworker`` process.
"""

from django.dispatch import Signal

consumer_started = Signal()
consumer_finished = Signal()
worker_ready = Signal()
worker_process_ready = Signal()

#: The consumer signals that close stale database connections, with their dispatch uids: the
#: app config connects ``close_old_connections`` to them, the test client lifts them.
DB_CLOSING = (
    (consumer_started, "channels_classic.db_start"),
    (consumer_finished, "channels_classic.db_end"),
)

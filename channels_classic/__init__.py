"""channels_classic: the Channels 1.x programming model on Django 5, daphne 4 and Redis."""

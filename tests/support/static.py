"""Static files for tests that run the demo without its release step (no collectstatic)."""

#: Django's storage that names files as they are, without a manifest to look them up in.
PLAIN_STATIC_STORAGE = "django.contrib.staticfiles.storage.StaticFilesStorage"

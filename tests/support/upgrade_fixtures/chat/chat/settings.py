"""Settings of a Channels 1.1 chat site, as its authors left them."""
import os

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = "not-a-secret"
DEBUG = True

DJANGO_APPS = [
    'django.contrib.admin',
    'django.contrib.auth',
    'django.contrib.contenttypes',
    'django.contrib.sessions',
    'django.contrib.staticfiles',
]
THIRD_PARTY_APPS = [
    'channels',        # Channels 1.1: listed after staticfiles, as most projects did
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + ['chat']
INSTALLED_APPS += ('channels.delay',)

MIDDLEWARE_CLASSES = [
    'django.contrib.sessions.middleware.SessionMiddleware',
    'django.contrib.auth.middleware.AuthenticationMiddleware',
]

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "asgi_redis.RedisChannelLayer",
        "CONFIG": {
            "hosts": [os.environ.get("REDIS_URL", "redis://localhost:6379")],
            "capacity": 200,
            "channel_capacity": {"http.request": 500, "websocket.send*": 20},
        },
        "ROUTING": "chat.routing.channel_routing",
        "TEST_CONFIG": {"hosts": ["redis://localhost:6379/9"]},
    },
}

LOGGING = {
    'version': 1,
    'handlers': {'console': {'class': 'logging.StreamHandler'}},
    'loggers': {
        'django.channels': {'handlers': ['console'], 'level': 'INFO'},
        'django.request': {'handlers': ['console'], 'level': 'ERROR'},
    },
}

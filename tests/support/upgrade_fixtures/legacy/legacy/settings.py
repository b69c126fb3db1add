INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "channels"]

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "asgi_redis.RedisLocalChannelLayer",
        "CONFIG": {"hosts": [("redis", 6379)], "stats_prefix": "stats:"},
        "ROUTING": "legacy.routing.channel_routing",
    },
    "sentinel": {
        "BACKEND": "asgi_redis.RedisSentinelChannelLayer",
        "CONFIG": {"hosts": [("sentinel", 26379)], "services": ["main"],
                   "sentinel_refresh_interval": 30},
        "ROUTING": "legacy.routing.channel_routing",
    },
}

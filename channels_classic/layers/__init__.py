"""Channel layers: settings → backends, the registry by alias, the 1.x facade, and the
project's own Redis (``layers.redis``) and in-memory (``layers.inmemory``) layers."""

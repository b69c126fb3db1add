"""Channel layers: the project's Redis layer, and (later) settings → backends."""

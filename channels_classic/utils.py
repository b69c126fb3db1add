"""1.x's ``channels.utils``: ``name_that_thing``, the dotted name logs give a consumer."""

from .routing import dotted_name

#: ``module.QualifiedName`` of a function, class or method; of its class for an instance.
name_that_thing = dotted_name

"""The built-in criteria. Importing this package registers them (see `crm.segments.registry`).

A new criterion goes in one of these modules (or a new one imported here), decorated with
`@register`; the filter builder, validation, the compiler and the docs pick it up from the
registry. `tests/crm/segments/test_lawful.py` compiles every registered criterion and fails
if one reads a column French law keeps out of targeting.
"""

from crm.segments.criteria import activity, contact, lists, people, place, territory

__all__ = ["activity", "contact", "lists", "people", "place", "territory"]

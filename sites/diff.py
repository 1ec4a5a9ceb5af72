"""What differs between a clone page's local version and the national one, field by field,
using Wagtail's own revision comparison (the same diffs as the page history)."""

from __future__ import annotations

from typing import Any

from django.utils.text import capfirst
from modelcluster.models import get_all_child_relations
from wagtail.admin import compare
from wagtail.models import Page

from sites.services.cloning import content_field_names


def page_diff(current: Page, proposed: Page) -> list[dict[str, Any]]:
    changes = []
    for name in content_field_names(type(current)):
        field = current._meta.get_field(name)
        comparison_class = compare.comparison_class_registry.get(field) or compare.FieldComparison
        comparison = comparison_class(field, current, proposed)
        if comparison.has_changed():
            changes.append({"label": capfirst(field.verbose_name), "diff": comparison.htmldiff()})
    for relation in get_all_child_relations(current):
        accessor = relation.get_accessor_name()
        before = [str(child) for child in getattr(current, accessor).all()]
        after = [str(child) for child in getattr(proposed, accessor).all()]
        if before != after:
            changes.append(
                {
                    "label": capfirst(relation.related_model._meta.verbose_name_plural),
                    "diff": compare.TextDiff(
                        [("deletion", "\n".join(before)), ("addition", "\n".join(after))]
                    ).to_html(),
                }
            )
    return changes

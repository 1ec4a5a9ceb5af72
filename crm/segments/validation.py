"""Validation of criteria trees.

A tree is JSON:

    {"op": "and", "children": [
        {"criterion": "tags", "params": {"match": "any", "tags": [12, 15]}},
        {"op": "or", "children": [
            {"criterion": "commune", "params": {"codes": ["41151"]}},
            {"criterion": "age", "params": {"min": 18, "max": 30}}
        ]},
        {"op": "not", "children": [
            {"criterion": "donation", "params": {"last_within_days": 90}}
        ]}
    ]}

Groups are `and`, `or` (any number of children; an empty group matches everyone) and `not`
(exactly one child). Leaves name a registered criterion and its parameters. `validate_tree()`
returns the tree normalised (parameters cleaned, defaults filled) or raises `CriteriaError`
listing every problem with its path; a criterion French law forbids raises
`ForbiddenCriterionError`, saying why.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from crm.segments import registry
from crm.segments.errors import CriteriaError, ForbiddenCriterionError, ParamError, Problem
from crm.segments.registry import BuildContext, forbidden_reason

MAX_DEPTH = 8
MAX_NODES = 200
GROUP_KEYS = {"op", "children"}
LEAF_KEYS = {"criterion", "params"}


class _Walk:
    def __init__(self, ctx: BuildContext) -> None:
        self.ctx = ctx
        self.problems: list[Problem] = []
        self.forbidden = False
        self.nodes = 0

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def node(self, node: Any, path: str, depth: int) -> dict[str, Any] | None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            if self.nodes == MAX_NODES + 1:
                self.problem(path, _("Too many criteria (at most %(n)s).") % {"n": MAX_NODES})
            return None
        if depth > MAX_DEPTH:
            self.problem(
                path, _("Groups are nested too deeply (at most %(n)s).") % {"n": MAX_DEPTH}
            )
            return None
        if not isinstance(node, dict):
            self.problem(path, _("Expected a group or a criterion."))
            return None
        if "criterion" in node:
            return self.leaf(node, path)
        if "op" in node:
            return self.group(node, path, depth)
        self.problem(path, _("Expected a group (“op”) or a criterion (“criterion”)."))
        return None

    def group(self, node: dict[str, Any], path: str, depth: int) -> dict[str, Any] | None:
        unknown = set(node) - GROUP_KEYS
        if unknown:
            self.problem(path, _("Unknown keys: %(keys)s.") % {"keys": ", ".join(sorted(unknown))})
        op = node.get("op")
        if op not in ("and", "or", "not"):
            self.problem(_join(path, "op"), _("A group is “and”, “or” or “not”."))
            return None
        children = node.get("children", [])
        if not isinstance(children, list):
            self.problem(_join(path, "children"), _("Expected a list of criteria."))
            return None
        if op == "not" and len(children) != 1:
            self.problem(_join(path, "children"), _("“not” takes exactly one criterion or group."))
            return None
        cleaned = [
            self.node(child, _join(path, "children", str(i)), depth + 1)
            for i, child in enumerate(children)
        ]
        return {"op": op, "children": [c for c in cleaned if c is not None]}

    def leaf(self, node: dict[str, Any], path: str) -> dict[str, Any] | None:
        name = node.get("criterion")
        unknown = set(node) - LEAF_KEYS
        if not isinstance(name, str):
            self.problem(_join(path, "criterion"), _("Name a criterion."))
            return None
        reason = forbidden_reason(name)
        if reason:
            self.forbidden = True
            self.problem(_join(path, "criterion"), reason)
            return None
        criterion = registry.get(name)
        if criterion is None:
            self.problem(
                _join(path, "criterion"), _("Unknown criterion “%(name)s”.") % {"name": name}
            )
            return None
        if unknown:
            self.problem(path, _("Unknown keys: %(keys)s.") % {"keys": ", ".join(sorted(unknown))})
        if criterion.sensitive and not self.ctx.may_see_sensitive:
            self.problem(
                _join(path, "criterion"),
                _(
                    "You may not filter on “%(label)s”: it reveals political opinions, which "
                    "your role does not show."
                )
                % {"label": criterion.label},
            )
            return None
        raw = node.get("params", {})
        if not isinstance(raw, dict):
            self.problem(_join(path, "params"), _("Expected the parameters as an object."))
            return None
        known = {p.name for p in criterion.params}
        for extra in sorted(set(raw) - known):
            if forbidden_reason(extra):
                self.forbidden = True
                self.problem(_join(path, "params", extra), str(forbidden_reason(extra)))
            else:
                self.problem(
                    _join(path, "params", extra),
                    _("Unknown parameter “%(name)s”.") % {"name": extra},
                )
        params: dict[str, Any] = {}
        ok = True
        for param in criterion.params:
            try:
                value = param.clean(raw.get(param.name), self.ctx)
            except ParamError as error:
                self.problem(_join(path, "params", param.name), error.message)
                ok = False
                continue
            if value is not None:
                params[param.name] = value
        if not ok or set(raw) - known:
            return None
        try:
            params = criterion.clean(params, self.ctx)
        except ParamError as error:
            self.problem(_join(path, "params", error.param or ""), error.message)
            return None
        return {"criterion": name, "params": params}


def _join(*parts: str) -> str:
    return ".".join(p for p in parts if p)


def empty_tree() -> dict[str, Any]:
    return {"op": "and", "children": []}


def validate_tree(tree: Any, ctx: BuildContext) -> dict[str, Any]:
    """The tree, normalised; raises CriteriaError (or ForbiddenCriterionError) otherwise."""
    if tree in (None, {}, []):
        return empty_tree()
    walk = _Walk(ctx)
    cleaned = walk.node(tree, "", 0)
    if walk.problems:
        error_class = ForbiddenCriterionError if walk.forbidden else CriteriaError
        raise error_class(walk.problems)
    assert cleaned is not None
    if "criterion" in cleaned:
        cleaned = {"op": "and", "children": [cleaned]}
    return cleaned


def criteria_in(tree: dict[str, Any]) -> list[str]:
    """Names of the criteria used in a (valid) tree, for audit records."""
    if "criterion" in tree:
        return [tree["criterion"]]
    return [name for child in tree.get("children", []) for name in criteria_in(child)]

"""A forecast's summary in the reader's language: warnings, notes and the features' effects in
plain words. The summary stores codes and numbers only."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from territory.indicators import INSEE_BY_KEY
from territory.intelligence.models import Forecast, Layer


def metric_name(metric: str) -> str:
    return _("turnout") if metric == "turnout" else _("share of the chosen candidates")


def warnings(summary: dict[str, Any]) -> list[str]:
    out = []
    for warning in summary.get("warnings", []):
        metric = metric_name(warning.get("metric", "turnout"))
        if warning.get("code") == "short_history":
            out.append(
                _(
                    "Not enough history to test the model of the %(metric)s (three comparable "
                    "elections are needed): treat the forecast as the last result."
                )
                % {"metric": metric}
            )
        elif warning.get("code") == "no_better_than_naive":
            out.append(
                _(
                    "The model of the %(metric)s is no better than the last comparable result "
                    "in its backtest: rely on the last result instead."
                )
                % {"metric": metric}
            )
    return out


def notes(summary: dict[str, Any]) -> list[str]:
    return [
        _(
            "Fewer than two past elections of this kind: every past round was used, "
            "whatever its kind."
        )
        for note in summary.get("notes", [])
        if note.get("code") == "not_comparable"
    ]


def feature_label(key: str) -> str:
    if key == "last":
        return _("its result at the last comparable election")
    if key == "mean":
        return _("its average result over the past comparable elections")
    if key.startswith("insee:") and key[6:] in INSEE_BY_KEY:
        return str(INSEE_BY_KEY[key[6:]].label)
    if key.startswith("layer:"):
        layer = Layer.objects.filter(pk=int(key[6:])).first() if key[6:].isdigit() else None
        name = layer.name if layer else _("a deleted layer")
        return _("%(layer)s (share of addresses)") % {"layer": name}
    if key == "field:contacts":
        return _("our contacts in the polling station (field results)")
    return key


def effects(summary: dict[str, Any], metric: str) -> list[dict[str, Any]]:
    """Each feature's effect on the metric: one standard deviation more moves the forecast by
    `points` percentage points, other features held equal."""
    part = summary.get(metric) or {}
    out = []
    what = metric_name(metric)
    for effect in part.get("effects", []):
        points = float(effect["points"])
        feature = feature_label(effect["key"])
        if abs(points) < 0.1:
            text = _("%(feature)s: no noticeable effect on the %(what)s.") % {
                "feature": feature,
                "what": what,
            }
        else:
            text = _(
                "Polling stations one step higher on %(feature)s have a %(what)s %(direction)s "
                "by %(points)s points, other things equal."
            ) % {
                "feature": feature,
                "what": what,
                "direction": _("higher") if points > 0 else _("lower"),
                "points": f"{abs(points):.1f}",
            }
        out.append({"key": effect["key"], "points": points, "text": text})
    return out


def context(forecast: Forecast) -> dict[str, Any]:
    summary = forecast.summary or {}
    return {
        "warnings": warnings(summary),
        "notes": notes(summary),
        "turnout_effects": effects(summary, "turnout"),
        "share_effects": effects(summary, "share"),
        "turnout": summary.get("turnout"),
        "share": summary.get("share"),
    }

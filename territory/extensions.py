"""Extension points of the territory map and target score, for apps built on territory (e.g.
territory.intelligence): extra indicators to colour bureaux by (usable as a score term too),
overlays drawn over the map, and scripts the map page loads. Registered from an AppConfig.ready.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# (campaign, bureau ids) -> option groups [{"label": ..., "options": [{"value", "label"}]}]
OptionsFn = Callable[[Any, Sequence[int]], list[dict[str, Any]]]
# (campaign, parts after "kind:", bureau ids) -> values per bureau; None: not this campaign's (404)
ValuesFn = Callable[[Any, list[str], Sequence[int]], dict[int, float | None] | None]


@dataclass(frozen=True)
class IndicatorProvider:
    kind: str  # the option value is "kind:part:part..."
    options: OptionsFn
    values: ValuesFn
    is_rate: Callable[[list[str]], bool]


_indicators: dict[str, IndicatorProvider] = {}
_overlays: list[Callable[[Any], list[dict[str, Any]]]] = []
_scripts: list[str] = []


def register_indicator(provider: IndicatorProvider) -> None:
    _indicators[provider.kind] = provider


def indicator_provider(kind: str) -> IndicatorProvider | None:
    return _indicators.get(kind)


def indicator_providers() -> list[IndicatorProvider]:
    return list(_indicators.values())


def register_overlays(source: Callable[[Any], list[dict[str, Any]]]) -> None:
    """`source(campaign)` lists overlays: {"name", "url" (GeoJSON), "color"}."""
    if source not in _overlays:
        _overlays.append(source)


def overlays(campaign: Any) -> list[dict[str, Any]]:
    return [overlay for source in _overlays for overlay in source(campaign)]


def register_map_script(static_path: str) -> None:
    if static_path not in _scripts:
        _scripts.append(static_path)


def map_scripts() -> list[str]:
    return list(_scripts)


def extra_values(
    raw: str, campaign: Any, bureau_ids: Sequence[int]
) -> tuple[dict[int, float | None], bool] | None:
    """Values of an extension indicator ("kind:..."), with whether it is a rate; None when the
    kind is not an extension's or the indicator is not the campaign's."""
    kind, *parts = (raw or "").split(":")
    provider = _indicators.get(kind)
    if provider is None:
        return None
    values = provider.values(campaign, parts, bureau_ids)
    if values is None:
        return None
    return values, provider.is_rate(parts)

"""Forecasts per bureau: the model against the naive forecast in the built-in backtest, the
warning when it is no better, the plain-words effects and the votes-to-win ranking."""

from __future__ import annotations

import pytest
from django.utils import translation

from territory.intelligence import presentation
from territory.intelligence.models import BureauForecast, Forecast
from territory.intelligence.services.forecasting import (
    ForecastError,
    compute_forecast,
    create_forecast,
)
from territory.intelligence.synthetic import Scenario
from territory.models import Election

from .conftest import make_territory

pytestmark = pytest.mark.django_db


def forecast_for(territory, **fields) -> Forecast:
    fields.setdefault("name", "Municipales 2026")
    fields.setdefault("election_kind", Election.Kind.MUNICIPAL)
    fields.setdefault("nuances", ["DVG"])
    return create_forecast(actor=None, campaign=territory.campaign, **fields)


def test_forecast_beats_the_naive_forecast_in_its_backtest(territory):
    forecast = forecast_for(territory)
    summary = forecast.summary
    assert summary["bureaux"] == len(territory.bureaux)
    assert len(summary["rounds"]) == 4 and summary["comparable"] is True
    for metric in ("turnout", "share"):
        backtest = summary[metric]["backtest"]
        assert backtest["better_than_naive"], (metric, backtest)
        assert backtest["mae"] < 0.8 * backtest["naive_mae"]
    assert summary["warnings"] == []
    # Each bureau shows its own backtest error next to its forecast.
    rows = list(forecast.bureaux.all())
    assert all(r.backtest_turnout_error is not None for r in rows)
    assert all(r.turnout_low <= r.turnout <= r.turnout_high for r in rows)
    # The known model's next levels (its trend: turnout falls, the DVG share rises) plus each
    # bureau's effect of the feature.
    for row in rows:
        x = territory.feature[row.bureau_id]
        assert row.turnout == pytest.approx(0.57 - 0.15 * x, abs=0.03)
        assert row.share == pytest.approx(0.46 + 0.25 * x, abs=0.03)


def test_votes_to_win_rank_the_bureaux_with_editable_assumptions(territory):
    forecast = forecast_for(territory, reachable_share=0.2)
    rows = list(forecast.bureaux.order_by("rank"))
    for row in rows:
        assert row.votes_to_win == pytest.approx(row.registered * (1 - row.turnout) * 0.2, abs=0.1)
    assert [r.rank for r in rows] == list(range(1, len(rows) + 1))
    assert all(a.votes_to_win >= b.votes_to_win for a, b in zip(rows, rows[1:], strict=False))
    forecast.reachable_share = 0.1
    forecast.lean_weighted = True
    compute_forecast(forecast, actor=None)
    for row in forecast.bureaux.all():
        assert row.votes_to_win == pytest.approx(
            row.registered * (1 - row.turnout) * 0.1 * row.share, abs=0.1
        )


def test_effects_are_described_in_plain_words(territory, english):
    forecast = forecast_for(territory)
    texts = [e["text"] for e in presentation.effects(forecast.summary, "turnout")]
    assert texts and all(text.endswith(".") for text in texts)
    # Without INSEE or layers here, the bureau's history explains it: the more it voted, the more
    # it will.
    effects = presentation.effects(forecast.summary, "turnout")
    assert {e["key"] for e in effects} == {"last", "mean"}
    assert sum(e["points"] for e in effects) > 0
    assert any("higher by" in text for text in texts)


def test_a_model_no_better_than_naive_is_flagged(db, make_campaign):
    # Levels zigzag: the trend learnt on the first three elections misleads the fourth.
    zigzag = Scenario(turnout_levels=(0.50, 0.60, 0.70, 0.50), noise=0.005)
    territory = make_territory(make_campaign, size=30, scenario=zigzag)
    forecast = forecast_for(territory, nuances=[])
    backtest = forecast.summary["turnout"]["backtest"]
    assert backtest["better_than_naive"] is False
    assert backtest["mae"] >= backtest["naive_mae"]
    assert {"code": "no_better_than_naive", "metric": "turnout"} in forecast.summary["warnings"]
    with translation.override("en"):
        texts = presentation.warnings(forecast.summary)
    assert any("no better than the last comparable" in text for text in texts)
    assert forecast.summary["share"] is None


def test_too_short_a_history_says_so(db, make_campaign):
    short = Scenario(years=(2014, 2020), turnout_levels=(0.6, 0.6), share_levels=(0.4, 0.4))
    territory = make_territory(make_campaign, size=12, scenario=short)
    forecast = forecast_for(territory)
    assert forecast.summary["turnout"]["backtest"] is None
    assert {"code": "short_history", "metric": "turnout"} in forecast.summary["warnings"]
    assert forecast.bureaux.count() == 12


def test_no_bureau_no_forecast_and_nothing_written(make_campaign):
    campaign = make_campaign("Vide", commune_codes=["41998"])
    with pytest.raises(ForecastError):
        create_forecast(
            actor=None, campaign=campaign, name="x", election_kind=Election.Kind.MUNICIPAL
        )
    assert not Forecast.objects.exists() and not BureauForecast.objects.exists()


def test_forecast_on_the_demo_commune_uses_layers_and_insee(demo_commune, make_campaign):
    from territory.intelligence import demo as intelligence_demo

    campaign = make_campaign("Montrichard", commune_codes=["41998"])
    layer = intelligence_demo.import_sample_layer(campaign)
    forecast = intelligence_demo.sample_forecast(campaign, layer)
    assert forecast.bureaux.count() == 6
    assert forecast.summary["bureaux"] == 6
    assert forecast.layers.get() == layer

"""Shared data of the territory tests: the fictional commune 41998 and its sample files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from territory.models import Election, ElectionRound

FIXTURES = Path(__file__).resolve().parents[2] / "territory" / "fixtures"
DATA = Path(__file__).resolve().parent / "data"
CLASSIC_T1 = FIXTURES / "Leg_T1_resultats_bv.txt"
NUMBERED_T2 = FIXTURES / "resultats-T2-bv.csv"
BAN = FIXTURES / "adresses-41998.csv"
INSEE_POP = FIXTURES / "base-ic-evol-struct-pop-2021-extrait.csv"
REU_ADDRESSES = FIXTURES / "table-adresses-reu-41998.csv"
REU_BUREAUX = FIXTURES / "table-bv-reu-41998.csv"
IRIS_CONTOURS = FIXTURES / "contours-iris-41998.geojson"


@pytest.fixture(scope="session")
def truth() -> dict:
    return json.loads((DATA / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture
def legislatives(db) -> Election:
    election = Election.objects.create(
        kind=Election.Kind.LEGISLATIVE, name="Législatives test", year=2024
    )
    ElectionRound.objects.create(election=election, number=1, date=dt.date(2024, 6, 30))
    ElectionRound.objects.create(election=election, number=2, date=dt.date(2024, 7, 7))
    return election


@pytest.fixture
def round1(legislatives) -> ElectionRound:
    return legislatives.rounds.get(number=1)


@pytest.fixture
def round2(legislatives) -> ElectionRound:
    return legislatives.rounds.get(number=2)


@pytest.fixture
def demo_commune(db, legislatives):
    """Montrichard-sur-Cher fully loaded: IRIS contours and figures, BAN, polling stations with
    labels and voter addresses (approximate contours), results of both rounds."""
    from territory.services.addresses import import_ban, import_bureau_table
    from territory.services.insee import import_insee
    from territory.services.results import import_results

    import_insee(IRIS_CONTOURS, actor=None)
    import_insee(INSEE_POP, actor=None)
    import_ban(BAN, actor=None, communes=["41998"])
    import_bureau_table(REU_BUREAUX, actor=None)
    import_bureau_table(REU_ADDRESSES, actor=None)
    import_results([CLASSIC_T1], election_round=legislatives.rounds.get(number=1), actor=None)
    import_results([NUMBERED_T2], election_round=legislatives.rounds.get(number=2), actor=None)
    return legislatives


@pytest.fixture
def english():
    """Error messages in English, whatever the default language (French)."""
    from django.utils import translation

    with translation.override("en"):
        yield

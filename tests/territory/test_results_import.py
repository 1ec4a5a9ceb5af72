"""Results imports: both sample layouts reproduce truth.json, the long layout, every quirk of the
Ministry's files, idempotence and bad input."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from territory.formats.common import FormatError
from territory.models import BureauResult, Candidacy, CandidateVotes, Zone
from territory.services.results import import_results
from tests.territory.conftest import CLASSIC_T1, NUMBERED_T2

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def run_import(path, election, number, *extra) -> dict:
    out = io.StringIO()
    paths = path if isinstance(path, list | tuple) else [path]
    call_command(
        "import_results", *map(str, paths), "--election", str(election.pk), "--round",
        str(number), *extra, stdout=out,
    )  # fmt: skip
    return json.loads(out.getvalue().strip().splitlines()[-1])


def figures(election_round) -> dict:
    out = {}
    for result in BureauResult.objects.filter(round=election_round).select_related("bureau"):
        votes = {v.candidacy.last_name: v.votes for v in result.votes.select_related("candidacy")}
        out[result.bureau.local_code] = {
            "inscrits": result.registered,
            "abstentions": result.abstentions,
            "votants": result.voters,
            "exprimes": result.expressed,
            "voix": votes,
        }
    return out


def test_classic_layout_reproduces_truth(legislatives, round1, truth):
    summary = run_import(CLASSIC_T1, legislatives, 1)

    assert summary["layout"] == "classic"
    assert summary["encoding"] in {"cp1252", "latin-1"}
    assert (summary["bureaux"], summary["created"], summary["candidacies"]) == (6, 6, 5)
    assert figures(round1) == truth["results_t1"]
    first = BureauResult.objects.get(round=round1, bureau__code="41998_0001")
    assert (first.blank_ballots, first.null_ballots) == (2, 2)
    duval = Candidacy.objects.get(round=round1, last_name="DUVAL")
    assert (duval.panel_number, duval.first_name, duval.sex, duval.nuance) == (
        1,
        "Henri",
        "M",
        "DVD",
    )
    # 3-digit commune "998" in département "41", unpadded bureau "1", constituency "02".
    bureau = Zone.objects.get(type=Zone.Type.BUREAU, code="41998_0001")
    commune = bureau.parent_of_type(Zone.Type.COMMUNE)
    assert (commune.code, commune.name) == ("41998", "Montrichard-sur-Cher")
    assert bureau.parent_of_type(Zone.Type.CIRCONSCRIPTION).code == "41-02"
    assert commune.parent_of_type(Zone.Type.DEPARTEMENT).code == "41"


def test_numbered_layout_reproduces_truth(legislatives, round2, truth):
    summary = run_import(NUMBERED_T2, legislatives, 2)

    assert (summary["layout"], summary["encoding"]) == ("numbered", "utf-8")
    got = figures(round2)
    for code, expected in truth["results_t2"].items():
        assert {k: got[code][k] for k in expected} == expected
        assert got[code]["abstentions"] == expected["inscrits"] - expected["votants"]
    lacroix = Candidacy.objects.get(round=round2, last_name="LACROIX")
    assert (lacroix.panel_number, lacroix.sex, lacroix.nuance) == (4, "F", "RN")
    # Blocks 3+ are empty: unpivoting stops there.
    assert Candidacy.objects.filter(round=round2).count() == 2


def test_reimporting_the_same_file_changes_nothing(legislatives, round1):
    run_import(CLASSIC_T1, legislatives, 1)
    before = list(CandidateVotes.objects.order_by("pk").values_list("pk", "result_id", "votes"))
    zones = Zone.objects.count()

    again = run_import(CLASSIC_T1, legislatives, 1)

    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 6)
    assert again["candidacies_created"] == again["candidacies_updated"] == 0
    assert (
        list(CandidateVotes.objects.order_by("pk").values_list("pk", "result_id", "votes"))
        == before
    )
    assert Zone.objects.count() == zones


def test_a_corrected_file_updates_only_what_changed(legislatives, round1, tmp_path):
    run_import(CLASSIC_T1, legislatives, 1)
    text = CLASSIC_T1.read_bytes().decode("latin-1")
    # Bureau 2: move 2 votes from DUVAL (52) to PICARD (26).
    text = text.replace("1;M;DUVAL;Henri;DVD;52;", "1;M;DUVAL;Henri;DVD;50;").replace(
        "5;M;PICARD;Yves;ENS;26;6,70", "5;M;PICARD;Yves;ENS;28;6,70"
    )
    corrected = tmp_path / "corrected.txt"
    corrected.write_bytes(text.encode("latin-1"))

    summary = run_import(corrected, legislatives, 1)

    assert (summary["created"], summary["updated"], summary["unchanged"]) == (0, 1, 5)
    assert figures(round1)["0002"]["voix"]["PICARD"] == 28


CLASSIC_QUIRKS = (
    "Code du département;Libellé du département;Code de la circonscription;"
    "Libellé de la circonscription;Code de la commune;Libellé de la commune;Code du b.vote;"
    "Inscrits;Abstentions;% Abs/Ins;Votants;% Vot/Ins;Blancs;% Blancs/Ins;% Blancs/Vot;Nuls;"
    "% Nuls/Ins;% Nuls/Vot;Exprimés;% Exp/Ins;% Exp/Vot;N°Panneau;Sexe;Nom;Prénom;Nuance;Voix;"
    "% Voix/Ins;% Voix/Exp\r\n"
    "ZA;Guadeloupe;01;1ère circonscription;101;Les Abymes;12;100;40;40,00;60;60,00;1;1,00;1,67;"
    "1;1,00;1,67;58;58,00;96,67;1;F;LÉVÊQUE;Hélène;;30;30,00;51,72;2;M;ÉTIENNE;Loïc;DVG;28;"
    "28,00;48,28\r\n"
    "2A;Corse-du-Sud;01;1ère circonscription;4;Ajaccio;0,00E+00;10;5;50,00;5;50,00;0;0,00;0,00;"
    "0;0,00;0,00;5;50,00;100,00;1;F;LÉVÊQUE;Hélène;;5;50,00;100,00;;;;;;;;\r\n"
)


def test_classic_quirks_overseas_letters_unpadded_codes_latin1_and_null_nuance(
    legislatives, round1, tmp_path
):
    path = tmp_path / "quirks.txt"
    path.write_bytes(CLASSIC_QUIRKS.encode("latin-1"))

    summary = run_import(path, legislatives, 1)

    assert summary["bureaux"] == 2
    guadeloupe = BureauResult.objects.get(bureau__code="97101_0012")
    assert guadeloupe.bureau.parent_of_type(Zone.Type.COMMUNE).name == "Les Abymes"
    assert guadeloupe.bureau.parent_of_type(Zone.Type.CIRCONSCRIPTION).code == "971-01"
    assert (
        Zone.objects.get(type=Zone.Type.COMMUNE, code="97101")
        .parent_of_type(Zone.Type.DEPARTEMENT)
        .code
        == "971"
    )
    leveque = Candidacy.objects.get(round=round1, last_name="LÉVÊQUE")
    assert leveque.first_name == "Hélène"
    assert leveque.nuance is None  # absent nuance is NULL, never ""
    ajaccio = BureauResult.objects.get(bureau__code="2A004_0000")
    assert ajaccio.votes.get().votes == 5  # trailing empty blocks are not candidates


LONG = (
    "Code du département;Code de la commune;Libellé de la commune;Code du b.vote;Inscrits;"
    "Abstentions;Votants;Blancs;Nuls;Exprimés;N°Panneau;Sexe;Nom;Prénom;Nuance;Voix\n"
    "41;998;Montrichard-sur-Cher;1;523;300;223;2;2;219;1;M;DUVAL;Henri;DVD;31\n"
    "41;998;Montrichard-sur-Cher;1;523;300;223;2;2;219;2;F;MARCHAND;Sophie;ECO;75\n"
    "41;998;Montrichard-sur-Cher;1;523;300;223;2;2;219;3;M;BRUNET;Karim;SOC;78\n"
    "41;998;Montrichard-sur-Cher;1;523;300;223;2;2;219;4;F;LACROIX;Odile;RN;13\n"
    "41;998;Montrichard-sur-Cher;1;523;300;223;2;2;219;5;M;PICARD;Yves;ENS;22\n"
)


def test_long_layout_one_row_per_candidate(legislatives, round1, tmp_path, truth):
    path = tmp_path / "long.csv"
    path.write_text(LONG, encoding="utf-8")

    summary = run_import(path, legislatives, 1)

    assert (summary["layout"], summary["bureaux"]) == ("long", 1)
    assert figures(round1)["0001"] == truth["results_t1"]["0001"]


def test_data_gouv_general_and_candidate_tables_with_id_election(
    legislatives, round1, tmp_path, truth
):
    general = tmp_path / "general_results.csv"
    general.write_text(
        "id_election;id_brut_miom;Code du département;Code de la commune;Libellé de la commune;"
        "Inscrits;Abstentions;Votants;Blancs;Nuls;Exprimés\n"
        "2024_legi_t1;41998_0001;41;998;Montrichard-sur-Cher;523;300;223;2;2;219\n"
        "2022_pres_t1;41998_0001;41;998;Montrichard-sur-Cher;520;100;420;0;0;420\n",
        encoding="utf-8",
    )
    candidates = tmp_path / "candidats_results.csv"
    rows = [
        ("1", "M", "DUVAL", "Henri", "DVD", "31"), ("2", "F", "MARCHAND", "Sophie", "ECO", "75"),
        ("3", "M", "BRUNET", "Karim", "SOC", "78"), ("4", "F", "LACROIX", "Odile", "RN", "13"),
        ("5", "M", "PICARD", "Yves", "ENS", "22"),
    ]  # fmt: skip
    candidates.write_text(
        "id_election;id_brut_miom;N°Panneau;Sexe;Nom;Prénom;Nuance;Voix\n"
        + "".join(f"2024_legi_t1;41998_0001;{';'.join(r)}\n" for r in rows),
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="2022_pres_t1, 2024_legi_t1"):
        run_import([general, candidates], legislatives, 1)

    summary = run_import([general, candidates], legislatives, 1, "--id-election", "2024_legi_t1")

    assert summary["bureaux"] == 1
    assert figures(round1)["0001"] == truth["results_t1"]["0001"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t.replace(";31;5,93;", ";trente;5,93;"), "line 2"),
        (lambda t: t.replace("523;300;57,36", "523;301;57,36"), "≠ registered"),
        (lambda t: t.replace(";13;2,49;", ";14;2,49;"), "add up to 220"),
        (lambda t: t.replace("Code du b.vote", "Bureau"), "no polling station column"),
    ],
)
def test_bad_files_are_refused_with_the_line_and_nothing_is_stored(
    legislatives, round1, tmp_path, mutate, message
):
    path = tmp_path / "bad.txt"
    path.write_bytes(mutate(CLASSIC_T1.read_bytes().decode("latin-1")).encode("latin-1"))

    with pytest.raises(CommandError, match=message):
        run_import(path, legislatives, 1)

    assert not BureauResult.objects.exists()
    assert not Zone.objects.exists()


def test_missing_round_needs_a_date(legislatives):
    with pytest.raises(CommandError, match="round 3"):
        run_import(CLASSIC_T1, legislatives, 3)
    summary = run_import(CLASSIC_T1, legislatives, 3, "--date", "2024-07-14")
    assert summary["round"] == 3


def test_service_raises_format_error_for_missing_file(round1):
    with pytest.raises(FormatError, match="file not found"):
        import_results(["/nonexistent.csv"], election_round=round1, actor=None)


def test_create_election_then_import(truth):
    out = io.StringIO()
    call_command(
        "create_election", "--kind", "legislatives", "--name", "Législatives 2024", "--year",
        "2024", "--round", "1:2024-06-30", "--round", "2:2024-07-07", stdout=out,
    )  # fmt: skip
    created = json.loads(out.getvalue())
    assert sorted(created["rounds"]) == ["1", "2"]
    from territory.models import Election

    election = Election.objects.get(pk=created["election"])
    assert run_import(NUMBERED_T2, election, 2)["created"] == 6
    with pytest.raises(CommandError, match="already exists"):
        call_command(
            "create_election", "--kind", "legislatives", "--name", "Législatives 2024",
            "--year", "2024", "--round", "1:2024-06-23", stdout=io.StringIO(),
        )  # fmt: skip
    with pytest.raises(CommandError, match="unknown election kind"):
        call_command(
            "create_election", "--kind", "nope", "--name", "X", "--year", "2024",
            stdout=io.StringIO(),
        )  # fmt: skip

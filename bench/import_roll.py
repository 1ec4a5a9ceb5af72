"""Importing an electoral roll: a generated REU file (current layout, 10 % duplicate rows),
our import against three baselines measured in the same run on the same file:

- B1: `COPY` of the raw file into an UNLOGGED staging table (the floor: no work at all);
- B2: B1 plus a hand-written set-based SQL merge into the people tables (people de-duplicated
  on the roll identity, their registrations and campaign attachments);
- B3: Django `bulk_create` of the same rows (a Person, an ElectoralRegistration and a
  CampaignAttachment per row, the three tables B2 and ours write; no de-duplication).

    .venv/bin/python bench/import_roll.py [--size N]      (default 1,000,000 rows)

Needs PostgreSQL (DATABASE_URL): the run creates its own database next to it, migrates it and
drops it at the end, so DATABASE_URL's data is never touched. Our import runs in a child
process per size so its peak memory (RSS) is measured alone, at 100k rows and at N rows.
Prints, last, one JSON line: `vs_*` are throughput ratios (ours / baseline; > 1 is faster).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADER = [
    "code du l'ugle", "libellé de l'ugle", "libellé du type de liste", "nom de naissance",
    "nom d'usage", "prénoms", "sexe", "date de naissance", "code commune de naissance",
    "libellé commune de naissance", "code département de naissance", "pays de naissance",
    "libellé nationalité", "numéro de voie", "libellé de voie", "complément 1", "complément 2",
    "lieu-dit", "code postal", "commune", "pays", "code du bureau de vote",
    "libellé du bureau de vote", "code circonscription législative du bureau de vote",
    "libellé canton du bureau de vote", "libellé circonscription métropolitaine du bureau de vote",
    "numéro d'ordre dans le bureau de vote",
]  # fmt: skip
LAST = [
    "MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND", "LEROY",
    "MOREAU", "SIMON", "LAURENT", "LEFÈBVRE", "MICHEL", "GARCIA", "DAVID", "BERTRAND", "ROUX",
    "VINCENT", "FOURNIER", "MOREL", "GIRARD", "ANDRÉ", "MERCIER", "DUPONT", "LAMBERT", "BONNET",
    "AÏT-ALI", "DA SILVA", "N'DIAYE", "NGUYEN", "FONTAINE", "CHEVALIER", "ROUSSEAU", "CLÉMENT",
    "GAUTHIER-VILLARS", "LE GOFF", "HOARAU", "ÉTIENNE", "CHÂTEAU", "GUÉRIN", "MULLER", "BOYER",
]  # fmt: skip
FIRST = [
    "Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Jade", "Louise", "Emma", "Zoé",
    "Lucas", "Hugo", "Louis", "Nathan", "Gabriel", "Jules", "Adam", "Yanis", "Karim", "Théo",
    "Marie-Hélène", "Jean-Pierre", "Aïcha", "Noémie", "Gaël", "François", "Élodie", "Mathis",
    "Mamadou", "Fatoumata", "Raphaël", "Agnès", "Hervé", "Maëlle", "Benoît", "Loïc",
]  # fmt: skip
PLACES = [("75056", "Paris", "75"), ("69123", "Lyon", "69"), ("13055", "Marseille", "13"),
          ("41018", "Blois", "41"), ("37261", "Tours", "37"), ("45234", "Orléans", "45"),
          ("44109", "Nantes", "44"), ("49007", "Angers", "49")]  # fmt: skip
STREETS = ["Rue Pasteur", "Avenue Jean Jaurès", "Rue Victor Hugo", "Allée des Tilleuls",
           "Place de l'Église", "Rue Saint-Nicolas", "Chemin des Vignes",
           "Quai de la Loire"]  # fmt: skip
BUREAUX = ["Mairie", "École du Centre", "Gymnase", "Salle des fêtes", "École Jules Ferry"]


def generate(path: Path, size: int, seed: int = 2027) -> None:
    """A REU export of `size` rows, 10 % of them copies of earlier rows (re-exported lines)."""
    rng = random.Random(seed)
    unique = size - size // 10
    written: list[str] = []
    keep = 200_000  # duplicates are drawn from a window, so generation stays light
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(";".join(f'"{h}"' for h in HEADER[:-1]) + f';"{HEADER[-1]}"\n')
        made = 0
        for n in range(size):
            if made >= unique or (made > 100 and rng.random() < (size - unique) / size):
                if written:
                    handle.write(rng.choice(written))
                    continue
            made += 1
            last = rng.choice(LAST) + ("" if rng.random() < 0.5 else f"-{rng.randint(1, 99999)}")
            usage = rng.choice(LAST) if rng.random() < 0.2 else ""
            first = rng.choice(FIRST) + ("" if rng.random() < 0.6 else " " + rng.choice(FIRST))
            if rng.random() < 0.01:
                date = f"00/00/{rng.randint(1920, 2006)}"
            else:
                date = (
                    f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1920, 2006)}"
                )
            code, place, dept = rng.choice(PLACES)
            bureau = rng.randint(1, 40)
            fields = [
                "41998", "Montrichard-sur-Cher", "Liste principale", last, usage, first,
                rng.choice("MF"), date, code, place, dept, "France", "Française",
                str(rng.randint(1, 120)), rng.choice(STREETS), "", "", "", "41400",
                "MONTRICHARD-SUR-CHER", "FRANCE", str(bureau), BUREAUX[bureau % len(BUREAUX)],
                "4102", "Canton de Montrichard-sur-Cher", "41e circonscription",
            ]  # fmt: skip
            line = ";".join(f'"{f}"' if f else "" for f in fields) + f";{n + 1}\n"
            handle.write(line)
            if len(written) < keep:
                written.append(line)
            else:
                written[rng.randrange(keep)] = line


# --- Django, pointed at a database of our own -----------------------------------------------


def setup_django(database: str | None) -> None:
    from cocarde import use_settings_for_environment

    use_settings_for_environment()
    if database:
        os.environ["COCARDE_BENCH_DATABASE"] = database
    import django
    from django.conf import settings

    if database:
        settings.DATABASES["default"]["NAME"] = database
    django.setup()


def reset() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE crm_person, crm_electoralregistration, crm_campaignattachment, "
            "crm_importchange, crm_importrowerror, crm_importrun, crm_emailaddress, "
            "crm_phonenumber, crm_externalid, crm_persontag, crm_duplicatecandidate CASCADE"
        )


def campaign_id() -> int:
    from cocarde.tenancy.models import Campaign
    from cocarde.tenancy.services import create_campaign

    campaign = Campaign.objects.filter(slug="bench").first() or create_campaign(
        actor=None, name="Bench", slug="bench", commune_codes=["41998"]
    )
    return campaign.pk


def run_ours(path: Path) -> dict[str, float]:
    """Child process: our whole import (parse, stage, merge) and this process's peak RSS."""
    from cocarde.tenancy.models import Campaign
    from crm.imports import services

    campaign = Campaign.objects.get(slug="bench")
    start = time.perf_counter()
    with path.open("rb") as handle:
        run = services.create_import(
            actor=None, campaign=campaign, file=handle, original_name=path.name
        )
    run = services.execute_import(run)
    seconds = time.perf_counter() - start
    run.file.delete(save=False)
    assert run.status == run.Status.DONE, run.error_message
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "rss_mb": rss, "created": run.created, "rows": run.rows}


def b1_copy(path: Path) -> float:
    from django.db import connection

    columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_stage")
        cursor.execute(f"CREATE UNLOGGED TABLE bench_stage ({columns})")
        with (
            cursor.cursor.copy(
                "COPY bench_stage FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER true)"
            ) as copy,
            path.open("rb") as handle,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
    return time.perf_counter() - start


# B2's merge: people de-duplicated on the roll identity, then their registrations and the
# campaign attachments. Keys are computed in SQL (upper case, no accent folding).
B2_MERGE = """
INSERT INTO crm_person (uuid, sex, first_names, birth_name, usage_name, birth_year, birth_month,
    birth_day, birth_place_code, birth_place_name, birth_department, birth_country, nationality,
    street_number, street_repetition, street_name, address_complement, locality, postcode,
    commune_code, commune_name, country, polling_station_code, circonscription_code, iris_code,
    supporter_status, member_status, first_source, roll_key, roll_usage_key, last_name_key,
    first_names_key, address_key, commune_key, search_text, created_at, updated_at,
    first_campaign_id)
SELECT DISTINCT ON (k) gen_random_uuid(), c6, c5, c3, COALESCE(c4, ''),
    NULLIF(split_part(c7, '/', 3), '')::int, NULLIF(NULLIF(split_part(c7, '/', 2), ''), '00')::int,
    NULLIF(NULLIF(split_part(c7, '/', 1), ''), '00')::int, COALESCE(c8, ''), COALESCE(c9, ''),
    COALESCE(c10, ''), COALESCE(c11, ''), COALESCE(c12, ''), COALESCE(c13, ''), '',
    COALESCE(c14, ''), '', '', COALESCE(c18, ''), c0, COALESCE(c19, ''), 'FR',
    lpad(c21, 4, '0'), COALESCE(c23, ''), '', '', '', 'bench', k, CASE WHEN c4 IS NULL THEN '' ELSE
    upper(c4) || '|' || upper(c5) || '|' || c7 END, upper(COALESCE(c4, c3)), upper(c5),
    upper(COALESCE(c13, '') || '|' || COALESCE(c14, '') || '|' || COALESCE(c18, '')),
    upper(COALESCE(c19, '')), lower(c5 || ' ' || c3 || ' ' || COALESCE(c4, '')), now(), now(), %s
FROM (SELECT *, upper(c3) || '|' || upper(c5) || '|' || c7 || '|' || COALESCE(c8, '') AS k
      FROM bench_stage) s
ORDER BY k;
INSERT INTO crm_electoralregistration (person_id, list_type, commune_code, polling_station_code,
    polling_station_label, order_number, campaign_id, imported_at)
SELECT DISTINCT ON (p.id) p.id, 'LP', s.c0, lpad(s.c21, 4, '0'), s.c22, s.c26::int, %s, now()
FROM bench_stage s JOIN crm_person p ON p.roll_key = upper(s.c3) || '|' || upper(s.c5) || '|'
    || s.c7 || '|' || COALESCE(s.c8, '');
INSERT INTO crm_campaignattachment (person_id, campaign_id, reason, detail, first_at, last_at)
SELECT id, %s, 'roll', 'bench', now(), now() FROM crm_person;
"""


def b2_copy_merge(path: Path, campaign: int) -> float:
    from django.db import connection, transaction

    start = time.perf_counter()
    b1_copy(path)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(B2_MERGE, [campaign, campaign, campaign])
    return time.perf_counter() - start


def b3_bulk_create(path: Path, campaign: int) -> float:
    from crm.models import CampaignAttachment, ElectoralRegistration, Person
    from crm.normalize import parse_birth_date

    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=";")
        batch: list[tuple[Person, dict[str, str]]] = []

        def flush() -> None:
            people = [p for p, _ in batch]
            Person.objects.bulk_create(people, batch_size=1000)
            ElectoralRegistration.objects.bulk_create(
                [
                    ElectoralRegistration(
                        person=p,
                        list_type="LP",
                        commune_code=r["code du l'ugle"],
                        polling_station_code=r["code du bureau de vote"].zfill(4),
                        polling_station_label=r["libellé du bureau de vote"],
                        order_number=int(r["numéro d'ordre dans le bureau de vote"]),
                        campaign_id=campaign,
                    )
                    for p, r in batch
                ],
                batch_size=1000,
            )
            CampaignAttachment.objects.bulk_create(
                [CampaignAttachment(person=p, campaign_id=campaign, reason="roll") for p in people],
                batch_size=1000,
            )
            batch.clear()

        for row in reader:
            person = Person(
                sex=row["sexe"],
                first_names=row["prénoms"],
                birth_name=row["nom de naissance"],
                usage_name=row["nom d'usage"],
                birth_place_code=row["code commune de naissance"],
                birth_place_name=row["libellé commune de naissance"],
                birth_department=row["code département de naissance"],
                birth_country=row["pays de naissance"],
                nationality=row["libellé nationalité"],
                street_number=row["numéro de voie"],
                street_name=row["libellé de voie"],
                postcode=row["code postal"],
                commune_code=row["code du l'ugle"],
                commune_name=row["commune"],
                polling_station_code=row["code du bureau de vote"].zfill(4),
                first_campaign_id=campaign,
            )
            person.set_birth_date(parse_birth_date(row["date de naissance"]))
            person.compute_keys(emails=[], phones=[])
            batch.append((person, row))
            if len(batch) >= 5000:
                flush()
        flush()
    return time.perf_counter() - start


def child(args: argparse.Namespace) -> None:
    setup_django(args.database)
    print(json.dumps(run_ours(Path(args.file))))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    setup_django(None)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench/import_roll.py needs PostgreSQL: set DATABASE_URL")
    database = f"{settings.DATABASES['default']['NAME']}_import_roll_{os.getpid()}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{database}"')
    connection.close()
    settings.DATABASES["default"]["NAME"] = database
    tmp = Path(tempfile.mkdtemp(prefix="import-roll-"))
    try:
        log(f"migrating {database}")
        call_command("migrate", verbosity=0)
        campaign = campaign_id()
        sizes = sorted({min(100_000, args.size), args.size})
        files = {}
        for size in sizes:
            files[size] = tmp / f"com41998-LP-{size}.csv"
            log(f"generating {size} rows")
            generate(files[size], size)
        big = files[args.size]
        env = {**os.environ, "MEDIA_ROOT": str(tmp / "media")}

        def ours(size: int) -> dict[str, float]:
            reset()
            connection.close()
            output = subprocess.run(
                [sys.executable, __file__, "--child", "--file", str(files[size]),
                 "--database", database],
                capture_output=True, text=True, env=env, check=True,
            ).stdout  # fmt: skip
            return json.loads(output.strip().splitlines()[-1])

        figures: dict[str, float] = {}
        rss: dict[int, float] = {}
        for size in sizes:
            log(f"ours, {size} rows")
            result = ours(size)
            rss[size] = result["rss_mb"]
            if size == args.size:
                figures["ours"] = result["seconds"]
                log(f"  {result}")
        reset()
        log("B1: COPY into an unlogged table")
        figures["b1"] = b1_copy(big)
        reset()
        log("B2: COPY + set-based SQL merge")
        figures["b2"] = b2_copy_merge(big, campaign)
        reset()
        log("B3: Django bulk_create")
        figures["b3"] = b3_bulk_create(big, campaign)
        log(json.dumps({k: round(v, 2) for k, v in figures.items()}))
        result = {
            "bench": "import_roll",
            "rows": args.size,
            "vs_copy_merge": round(figures["b2"] / figures["ours"], 3),
            "vs_raw_copy": round(figures["b1"] / figures["ours"], 3),
            "vs_bulk_create": round(figures["b3"] / figures["ours"], 3),
            "peak_rss_mb_100k": round(rss[sizes[0]], 1),
            "peak_rss_mb_1m": round(rss[args.size], 1),
            "seconds": {k: round(v, 2) for k, v in figures.items()},
        }
    finally:
        from django.db import connections

        connections.close_all()
        settings.DATABASES["default"]["NAME"] = database.rsplit("_import_roll_", 1)[0]
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database}"')
        for path in tmp.rglob("*"):
            if path.is_file():
                path.unlink()
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Find-or-create lookups and staff search over N people, against raw SQL doing the same work.

    .venv/bin/python bench/crm_matching.py [--size N] [--lookups K]

Runs inside one transaction that is rolled back: DATABASE_URL is left as it was. Prints, last,
one JSON line: each figure is our time divided by the raw-SQL baseline measured in the same run
(1.0 = as fast as hand-written SQL on the same indexes).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cocarde import use_settings_for_environment

use_settings_for_environment()
import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from crm.models import EmailAddress, Person  # noqa: E402
from crm.normalize import parse_birth_date, roll_key  # noqa: E402
from crm.selectors import search_people  # noqa: E402
from crm.services.matching import Identity, find_person  # noqa: E402
from crm.services.people import suppression_key_for  # noqa: E402

FIRST = ["Camille", "Léa", "Hugo", "Jean-Pierre", "Aïcha", "Noé", "Inès", "Karim", "Zoé", "Luc"]
LAST = ["Martin", "Dubois", "Aït-Ali", "Lefèvre", "N'Diaye", "Nguyen", "Da Silva", "Roux"]


class Rollback(Exception):
    pass


def timed(fn, repeat: int) -> float:
    start = time.perf_counter()
    for i in range(repeat):
        fn(i)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--lookups", type=int, default=500)
    args = parser.parse_args()
    rng = random.Random(1)
    results: dict[str, object] = {"size": args.size, "lookups": args.lookups}
    try:
        with transaction.atomic():
            people, identities = [], []
            for n in range(args.size):
                first, last = rng.choice(FIRST), f"{rng.choice(LAST)}{n}"
                birth = (
                    f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1940, 2005)}"
                )
                person = Person(first_names=first, birth_name=last)
                person.set_birth_date(parse_birth_date(birth))
                email = f"p{n}@bench.example"
                person.compute_keys(emails=[email], phones=[])
                people.append(person)
                identities.append((email, last, first, birth))
            Person.objects.bulk_create(people, batch_size=5000)
            EmailAddress.objects.bulk_create(
                [EmailAddress(person=p, email=i[0], is_primary=True,
                              suppression_key=suppression_key_for("email", i[0]))
                 for p, i in zip(people, identities, strict=True)],
                batch_size=5000,
            )  # fmt: skip
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE crm_person; ANALYZE crm_emailaddress")
            sample = [rng.choice(identities) for _ in range(args.lookups)]

            def ours_email(i: int) -> None:
                assert find_person(Identity(email=sample[i][0].upper())).person is not None

            def raw_email(i: int) -> None:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT p.* FROM crm_person p "
                        "JOIN crm_emailaddress e ON e.person_id = p.id WHERE e.email = %s",
                        [sample[i][0].lower()],
                    )
                    assert cursor.fetchone()

            def ours_roll(i: int) -> None:
                _, last, first, birth = sample[i]
                identity = Identity(birth_name=last.upper(), first_names=first, birth_date=birth)
                assert find_person(identity).person is not None

            def raw_roll(i: int) -> None:
                _, last, first, birth = sample[i]
                key = roll_key(last, first, parse_birth_date(birth))
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT * FROM crm_person WHERE roll_key = %s OR roll_usage_key = %s "
                        "LIMIT 5",
                        [key, key],
                    )
                    assert cursor.fetchone()

            words = [f"{rng.choice(LAST).lower().split('-')[0]}{rng.randint(0, args.size)}"
                     for _ in range(50)]  # fmt: skip

            def ours_search(i: int) -> None:
                list(search_people(Person.objects.all(), words[i % len(words)])[:50])

            def raw_search(i: int) -> None:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT * FROM crm_person WHERE search_text LIKE %s "
                        "ORDER BY last_name_key, first_names_key, id LIMIT 50",
                        [f"%{words[i % len(words)]}%"],
                    )
                    cursor.fetchall()

            for name, ours, raw, repeat in (
                ("email_match", ours_email, raw_email, args.lookups),
                ("roll_match", ours_roll, raw_roll, args.lookups),
                ("search", ours_search, raw_search, 100),
            ):
                raw(0), ours(0)  # warm up
                baseline, mine = timed(raw, repeat), timed(ours, repeat)
                results[f"{name}_ms"] = round(1000 * mine / repeat, 3)
                results[f"{name}_baseline_ms"] = round(1000 * baseline / repeat, 3)
                results[f"{name}_ratio"] = round(mine / baseline, 2)
            raise Rollback
    except Rollback:
        pass
    print(json.dumps(results))


if __name__ == "__main__":
    main()

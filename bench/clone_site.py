"""Benchmark: cloning a candidate site versus Wagtail's own recursive page copy.

    .venv/bin/python bench/clone_site.py [--size PAGES] [--sites N]

Builds a template of PAGES pages (StreamField bodies, three revisions each) in a scratch
database, then times, in the same run:
- Wagtail's `Page.copy(recursive=True, copy_revisions=False)` of the template tree (baseline);
- `sites.services.cloning.clone_site()` of the same tree (which also creates the campaign,
  the site, its settings, editors group, collection and sync links);
- the clone of the N-th site against the first (cost must not grow with the number of sites):
  medians of the first and the last 15 clones, statistics refreshed (ANALYZE) every 25 clones
  as autovacuum would on a live database.
Search indexing runs in a task after commit; here tasks run eagerly, so it is timed too.
Prints one JSON line: bench, pages, clone_vs_wagtail_copy, site200_vs_site1, queries_per_page.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid

from _setup import django_setup, scratch_database

REPEAT = 5  # Wagtail copies, interleaved with the first clones
WINDOW = 15  # clones timed at the start and at the end (medians: the machine is shared)


def build_template(pages: int):
    from django.contrib.auth import get_user_model
    from wagtail.models import Page

    from cocarde.tenancy.models import Campaign, StaffRole
    from cocarde.tenancy.services import create_campaign, grant_role
    from sites.models import (
        ArticlePage,
        ContentPage,
        HomePage,
        NewsIndexPage,
        PetitionPage,
        ProgrammePage,
    )
    from sites.services.sites import create_site

    admin = get_user_model().objects.create_user("bench@example.org", "bench-password-123")
    national = create_campaign(
        actor=None, name="National", slug="national", kind=Campaign.Kind.NATIONAL
    )
    grant_role(admin, national, StaffRole.Role.NATIONAL_ADMIN, actor=None)

    def block(kind: str, value: object) -> dict:
        return {"type": kind, "value": value, "id": str(uuid.uuid4())}

    def body(n: int) -> list[dict]:
        text = "<p>" + "Texte de campagne de {{ candidate_name }}. " * 20 + "</p>"
        cta = {"title": "Agir", "text": "", "button_label": "Go", "page": None}
        return [
            block("heading", {"text": f"Section {n} pour {{{{ territory }}}}", "level": "h2"}),
            block("paragraph", text),
            block(
                "quote", {"quote": "Une citation.", "author": "{{ candidate_name }}", "role": ""}
            ),
            block("call_to_action", {**cta, "link_url": "https://example.org", "style": "primary"}),
        ]

    root = Page.get_first_root_node()
    home = HomePage(
        title="{{ candidate_name }}",
        slug="template",
        hero_title="{{ candidate_name }} pour {{ territory }}",
        body=body(0),
    )
    root.add_child(instance=home)
    created = [home]
    news = NewsIndexPage(title="Actualités", slug="actualites")
    home.add_child(instance=news)
    created.append(news)
    kinds = [ContentPage, ProgrammePage, PetitionPage, ArticlePage]
    n = 0
    while len(created) < pages:
        n += 1
        model = kinds[n % len(kinds)]
        parent = news if model is ArticlePage else home
        page = model(title=f"Page {n} à {{{{ territory }}}}", slug=f"page-{n}", body=body(n))
        if model is PetitionPage:
            page.consent_text = "J'accepte les nouvelles de {{ candidate_name }}."
        parent.add_child(instance=page)
        created.append(page)
    for page in created:  # three revisions each, the last published
        page = page.specific
        for version in range(3):
            page.search_description = f"Version {version} – {{{{ candidate_name }}}}"
            revision = page.save_revision(user=admin)
        revision.publish(user=admin)
    link = create_site(
        actor=admin, campaign=national, home=home, hostname="template.example.org", is_template=True
    )
    return admin, link


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=40, help="pages in the template (default 40)")
    parser.add_argument(
        "--sites", type=int, default=200, help="clone this many sites (default 200)"
    )
    args = parser.parse_args()
    django_setup()

    with scratch_database():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        from wagtail.models import Page

        from sites.services.cloning import clone_site

        admin, template = build_template(args.size)
        home = template.site.root_page
        pages = Page.objects.descendant_of(home, inclusive=True).count()
        root = Page.get_first_root_node()
        clones = 0

        def clone() -> float:
            nonlocal clones
            clones += 1
            start = time.perf_counter()
            clone_site(
                actor=admin,
                template=template,
                candidate_name=f"Candidat{clones} Nom",
                hostname=f"c{clones}.example.org",
                commune_name=f"Ville {clones}",
            )
            return time.perf_counter() - start

        def wagtail_copy(i: int) -> float:
            start = time.perf_counter()
            Page.objects.get(pk=home.pk).copy(
                recursive=True,
                to=root,
                update_attrs={"slug": f"wagtail-copy-{i}", "title": f"Copie {i}"},
                copy_revisions=False,
                keep_live=True,
                user=admin,
            )
            return time.perf_counter() - start

        def analyze() -> None:
            # What autovacuum does on a live database: without fresh statistics, a database
            # that grew from empty during this run gets sequential-scan plans.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

        wagtail_copy(0), clone(), clone()  # warm-up: imports, content types, caches
        wagtail_times, first_clone_times = [], []
        for i in range(1, REPEAT + 1):  # interleaved, so both see the same machine state
            wagtail_times.append(wagtail_copy(i))
            first_clone_times.append(clone())
        first_clone_times += [clone() for _ in range(WINDOW - REPEAT)]
        with CaptureQueriesContext(connection) as queries:
            clone()
        per_page = len(queries) / pages
        while clones < args.sites - WINDOW:
            clone()
            if clones % 25 == 0:
                analyze()
        analyze()
        last_clone_times = [clone() for _ in range(WINDOW)]

        clone_time = statistics.median(first_clone_times)
        print(
            json.dumps(
                {
                    "bench": "clone_site",
                    "pages": pages,
                    "clone_vs_wagtail_copy": round(
                        clone_time / statistics.median(wagtail_times), 3
                    ),
                    "site200_vs_site1": round(statistics.median(last_clone_times) / clone_time, 3),
                    "queries_per_page": round(per_page, 2),
                    "sites": clones,
                    "clone_seconds": round(clone_time, 4),
                    "wagtail_copy_seconds": round(statistics.median(wagtail_times), 4),
                }
            )
        )


if __name__ == "__main__":
    main()

"""Demo of candidate sites: the national template site and three cloned candidate sites.

    modele.localhost        national template (also the default site: http://127.0.0.1:8000/)
    marie-dupont.localhost  clone, theme République
    karim-benali.localhost  clone, theme Horizon
    sophie-lefevre.localhost clone, theme Proximité

Browsers resolve *.localhost to 127.0.0.1, so with `make run` each opens on port 8000.
Idempotent: a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any, TextIO

from django.core.files.images import ImageFile
from django.db import transaction
from django.utils import timezone
from wagtail.images import get_image_model
from wagtail.models import Page, Site

from cocarde.accounts.models import User
from cocarde.demo import ADMIN_EMAIL, NATIONAL_SLUG
from cocarde.tenancy.models import Campaign
from sites.models import (
    ArticlePage,
    CampaignSite,
    ContactPage,
    ContentPage,
    DonationPage,
    EventIndexPage,
    EventPage,
    FormQuestion,
    HomePage,
    LegalPage,
    NewsIndexPage,
    PetitionPage,
    ProgrammePage,
    SignupPage,
    SiteNavigation,
    SynchronisedPage,
    VolunteerPage,
)
from sites.services.cloning import clone_site
from sites.services.sites import create_site, ensure_wagtail_roots
from territory.models import Election

TEMPLATE_HOST = "modele.localhost"
CANDIDATES = [
    {"candidate_name": "Marie Dupont", "hostname": "marie-dupont.localhost", "theme": "republique",
     "circonscription_code": "41-01", "circonscription_name": "1re circonscription de Loir-et-Cher",
     "commune_codes": ["41018"], "commune_name": "Blois", "contact_email": "contact@marie-dupont.localhost"},
    {"candidate_name": "Karim Benali", "hostname": "karim-benali.localhost", "theme": "horizon",
     "circonscription_code": "41-02", "circonscription_name": "2e circonscription de Loir-et-Cher",
     "commune_codes": ["41269"], "commune_name": "Vendôme", "contact_email": "contact@karim-benali.localhost"},
    {"candidate_name": "Sophie Lefèvre", "hostname": "sophie-lefevre.localhost", "theme": "proximite",
     "circonscription_code": "41-03", "circonscription_name": "3e circonscription de Loir-et-Cher",
     "commune_codes": ["41998"], "commune_name": "Montrichard-sur-Cher", "contact_email": "contact@sophie-lefevre.localhost"},
]  # fmt: skip


def _block(kind: str, value: Any) -> dict[str, Any]:
    return {"type": kind, "value": value, "id": str(uuid.uuid4())}


def _paragraph(html: str) -> dict[str, Any]:
    return _block("paragraph", html)


def _portrait(name: str, colour: tuple[int, int, int]) -> Any:
    """A generated portrait (no photo of a real person ships with the demo)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 720), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((200, 120, 440, 360), fill=(245, 222, 200))
    draw.rounded_rectangle((120, 400, 520, 760), radius=160, fill=(40, 48, 68))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return get_image_model().objects.create(
        title=name, file=ImageFile(buffer, name=f"{uuid.uuid4().hex[:8]}.png"), description=name
    )


def _landscape(title: str, colour: tuple[int, int, int]) -> Any:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1200, 675), colour)
    draw = ImageDraw.Draw(image)
    for i in range(6):
        draw.rectangle((i * 200, 420 - i * 30, i * 200 + 160, 675), fill=(255, 255, 255, 60))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return get_image_model().objects.create(
        title=title, file=ImageFile(buffer, name=f"{uuid.uuid4().hex[:8]}.png"), description=title
    )


def _add(parent: Page, page: Page, questions: list[FormQuestion] | None = None) -> Page:
    if questions:
        page.form_questions = questions
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def build_template(admin: User, national: Campaign) -> CampaignSite:
    root = Page.get_first_root_node()
    photo = _portrait("Portrait de campagne", (29, 58, 110))
    town = _landscape("Marché du centre-ville", (11, 110, 79))
    home = HomePage(
        title="{{ candidate_name }}, pour {{ territory }}",
        slug="modele",
        hero_title="{{ candidate_first_name }} : une voix utile pour {{ territory }}",
        hero_text=(
            "Le {{ election_date }}, choisissons des services publics proches de chez nous, "
            "des emplois qui restent ici et une transition écologique juste."
        ),
        hero_cta_label="Je rejoins la campagne",
        hero_image=photo,
        seo_title="{{ candidate_name }} – {{ election_name }}",
        search_description="Le site de campagne de {{ candidate_name }}, candidate du {{ party_name }} pour {{ territory }}.",
    )
    root.add_child(instance=home)
    link = create_site(
        actor=admin,
        campaign=national,
        home=home,
        hostname=TEMPLATE_HOST,
        is_template=True,
        is_default_site=True,
        identity={"candidate_name": "Parti Cocarde", "party_name": "Parti Cocarde", "candidate_photo": photo,
                  "tagline": "Ensemble, reprenons la main", "facebook_url": "https://www.facebook.com/",
                  "instagram_url": "https://www.instagram.com/", "bluesky_url": "https://bsky.app/"},
    )  # fmt: skip

    about = _add(home, ContentPage(
        title="Qui suis-je ?", slug="qui-suis-je",
        intro="{{ candidate_name }}, engagée pour {{ territory }} depuis de nombreuses années.",
        body=[
            _paragraph("<p>Née dans la région, j'y ai grandi, étudié et travaillé. Infirmière puis "
                       "conseillère municipale, je connais les difficultés de nos villes et de nos villages : "
                       "des urgences qui ferment la nuit, des bus trop rares, des commerces qui baissent le rideau.</p>"),
            _block("quote", {"quote": "La politique, c'est d'abord être là, toute l'année, pas seulement avant les élections.",
                             "author": "{{ candidate_name }}", "role": "candidate pour {{ territory }}"}),
            _paragraph("<p>Candidate du {{ party_name }}, je porte un programme travaillé avec les habitantes "
                       "et les habitants de {{ territory }}, lors de plus de quarante réunions publiques.</p>"),
        ],
    ))  # fmt: skip
    programme = _add(home, ProgrammePage(
        title="Mon programme", slug="programme",
        intro="Dix engagements concrets pour {{ territory }}, chiffrés et vérifiables.",
        body=[
            _block("theme", {"title": "Santé", "intro": "Se soigner près de chez soi, sans attendre des mois.",
                             "proposals": [{"type": "item", "id": str(uuid.uuid4()), "value": {"title": "Rouvrir les urgences de nuit", "detail": "<p>Avec une équipe mobile partagée entre les hôpitaux du département.</p>"}},
                                           {"type": "item", "id": str(uuid.uuid4()), "value": {"title": "Trois maisons de santé de plus", "detail": "<p>Là où les médecins manquent le plus, avec l'aide au premier loyer.</p>"}}]}),
            _block("theme", {"title": "Transports", "intro": "Se déplacer sans voiture doit redevenir possible.",
                             "proposals": [{"type": "item", "id": str(uuid.uuid4()), "value": {"title": "Un car toutes les heures vers la préfecture", "detail": "<p>Du lundi au samedi, de 6 h à 21 h.</p>"}},
                                           {"type": "item", "id": str(uuid.uuid4()), "value": {"title": "Des abonnements à 1 € pour les moins de 26 ans", "detail": ""}}]}),
            _block("theme", {"title": "Emploi et commerce", "intro": "Garder les emplois et les commerces en centre-ville.",
                             "proposals": [{"type": "item", "id": str(uuid.uuid4()), "value": {"title": "Un fonds d'amorçage pour les artisans", "detail": "<p>Des prêts à taux zéro pour reprendre une boutique.</p>"}}]}),
        ],
    ))  # fmt: skip
    news = _add(
        home,
        NewsIndexPage(
            title="Actualités",
            slug="actualites",
            intro="Les dernières nouvelles de la campagne à {{ territory }}.",
        ),
    )
    for days, title, intro in (
        (
            2,
            "Réunion publique sur la santé : plus de 200 participants",
            "Merci à toutes celles et ceux qui sont venus débattre avec {{ candidate_name }}.",
        ),
        (
            9,
            "Lancement de la campagne à {{ territory }}",
            "{{ candidate_name }} a présenté ses priorités devant les militants réunis.",
        ),
        (
            16,
            "Transports : nos propositions pour la ligne de car",
            "Un car toutes les heures, c'est possible : voici comment.",
        ),
    ):
        _add(news, ArticlePage(
            title=title, slug=f"article-{days}", date=timezone.localdate() - dt.timedelta(days=days), intro=intro, image=town,
            body=[_paragraph("<p>Devant une salle comble, nous avons échangé sur les attentes des habitants : "
                             "accès aux soins, transports, pouvoir d'achat. Les propositions retenues seront "
                             "intégrées au programme et publiées sur ce site.</p>")],
        ))  # fmt: skip
    petition = _add(home, PetitionPage(
        title="Sauvons les urgences de nuit à {{ territory }}", slug="petition-urgences",
        addressee="À l'Agence régionale de santé", goal=5000,
        intro="Depuis janvier, les urgences ferment la nuit. Exigeons leur réouverture.",
        body=[_paragraph("<p>La nuit, il faut désormais faire plus de quarante minutes de route pour être soigné. "
                         "Nous demandons à l'Agence régionale de santé de rouvrir les urgences de nuit et de "
                         "financer une équipe mobile de médecins.</p>")],
        button_label="Je signe", consent_text="J'accepte de recevoir des nouvelles de la campagne de {{ candidate_name }}. Je peux me désinscrire à tout moment.",
        thank_you_title="Merci pour votre signature", thank_you_text="Faites signer vos proches : chaque signature compte.",
    ))  # fmt: skip
    volunteer = _add(home, VolunteerPage(
        title="Agir avec nous", slug="agir", intro="Une heure par semaine ou un week-end par mois : toute aide compte.",
        help_options=[_block("option", {"label": "Porte-à-porte", "description": "Aller à la rencontre des habitants, en binôme."}),
                      _block("option", {"label": "Phoning", "description": "Appeler des sympathisants depuis chez vous."}),
                      _block("option", {"label": "Tractage sur les marchés", "description": ""}),
                      _block("option", {"label": "Organisation d'événements", "description": ""})],
        button_label="Je me porte volontaire",
        thank_you_title="Merci, l'équipe vous recontacte très vite",
    ), [FormQuestion(label="Vos disponibilités", kind=FormQuestion.Kind.CHOICE, choices="En semaine\nLe week-end\nLes deux", required=False)])  # fmt: skip
    signup = _add(home, SignupPage(
        title="Rejoindre la campagne", slug="rejoindre", intro="Recevez les nouvelles de la campagne et les rendez-vous près de chez vous.",
        button_label="Je rejoins", consent_text="J'accepte de recevoir les nouvelles de la campagne par e-mail. Je peux me désinscrire à tout moment.",
        consent_required=True, next_action_label="Je donne un coup de main", next_action_page=volunteer,
    ))  # fmt: skip
    petition.next_action_label, petition.next_action_page = "Je deviens volontaire", volunteer
    petition.save_revision().publish()
    events = _add(
        home, EventIndexPage(title="Agenda", slug="agenda", intro="Venez nous rencontrer.")
    )
    for days, title, place in (
        (6, "Réunion publique : la santé près de chez nous", "Salle des fêtes"),
        (13, "Café-débat sur les transports", "Café de la Gare"),
    ):
        start = timezone.now().replace(hour=18, minute=30, second=0, microsecond=0) + dt.timedelta(
            days=days
        )
        _add(events, EventPage(
            title=title, slug=f"evenement-{days}", start=start, end=start + dt.timedelta(hours=2),
            location_name=place, address="{{ territory }}", intro="Entrée libre, ouverte à toutes et à tous.",
            button_label="Je viens", phone_field="hidden", postcode_field="optional",
            thank_you_title="À bientôt !",
        ))  # fmt: skip
    donation = _add(home, DonationPage(
        title="Faire un don", slug="don", intro="Chaque don, même modeste, finance les tracts, les affiches et les salles.",
        amounts=[_block("amount", 20), _block("amount", 50), _block("amount", 100), _block("amount", 200)],
    ))  # fmt: skip
    contact = _add(home, ContactPage(
        title="Contact", slug="contact", intro="Une question, une idée ? Écrivez-nous.", button_label="Envoyer",
        postcode_field="optional", consent_text="",
    ), [FormQuestion(label="Votre message", kind=FormQuestion.Kind.LONG_TEXT, required=True)])  # fmt: skip
    legal = _add(
        home,
        LegalPage(
            title="Mentions légales", slug="mentions-legales", kind=LegalPage.Kind.LEGAL_NOTICE
        ),
    )
    privacy = _add(
        home,
        LegalPage(
            title="Politique de confidentialité",
            slug="confidentialite",
            kind=LegalPage.Kind.PRIVACY,
        ),
    )

    home.hero_cta_page = signup
    home.body = [
        _block("highlights", {"title": "Mes priorités pour {{ territory }}", "items": [
            {"type": "item", "id": str(uuid.uuid4()), "value": {"title": "La santé près de chez nous", "text": "Rouvrir les urgences de nuit et attirer des médecins.", "page": programme.pk}},
            {"type": "item", "id": str(uuid.uuid4()), "value": {"title": "Des transports pour tous", "text": "Un car toutes les heures, des tarifs pour les jeunes.", "page": programme.pk}},
            {"type": "item", "id": str(uuid.uuid4()), "value": {"title": "Des emplois qui restent ici", "text": "Soutenir les artisans et les commerces du centre.", "page": programme.pk}},
        ]}),
        _block("call_to_action", {"title": "Sauvons les urgences de nuit", "text": "Déjà des milliers de signatures. Ajoutez la vôtre.",
                                  "button_label": "Je signe la pétition", "page": petition.pk, "link_url": "", "style": "primary"}),
        _block("key_figures", {"title": "La campagne en chiffres", "figures": [
            {"type": "item", "id": str(uuid.uuid4()), "value": {"figure": "42", "label": "réunions publiques"}},
            {"type": "item", "id": str(uuid.uuid4()), "value": {"figure": "350", "label": "bénévoles"}},
            {"type": "item", "id": str(uuid.uuid4()), "value": {"figure": "10", "label": "engagements chiffrés"}},
        ]}),
        _block("latest_news", {"title": "Actualités", "count": 3}),
        _block("upcoming_events", {"title": "Prochains rendez-vous", "count": 3}),
        _block("call_to_action", {"title": "Cette campagne a besoin de vous", "text": "Porte-à-porte, phoning, tractage : rejoignez l'équipe.",
                                  "button_label": "Je m'engage", "page": volunteer.pk, "link_url": "", "style": "light"}),
    ]  # fmt: skip
    home.save_revision().publish()

    navigation = SiteNavigation.for_site(link.site)
    navigation.main_menu = [
        _block("item", {"label": label, "page": p.pk, "link_url": ""})
        for label, p in (
            ("", about),
            ("Programme", programme),
            ("", news),
            ("", events),
            ("Pétition", petition),
            ("Agir", volunteer),
        )
    ]
    navigation.footer_menu = [
        _block("item", {"label": "", "page": p.pk, "link_url": ""})
        for p in (contact, legal, privacy, signup)
    ]
    navigation.header_button_label, navigation.header_button_page = "Faire un don", donation
    navigation.footer_text = (
        "<p>Site de campagne de {{ candidate_name }} pour les {{ election_name }}.</p>"
    )
    navigation.save()
    for page in (programme, petition, legal, privacy):
        SynchronisedPage.objects.get_or_create(page=page, defaults={"marked_by": admin})
    return link


@transaction.atomic
def load(*, stdout: TextIO) -> None:
    ensure_wagtail_roots()
    admin = User.objects.get(email=ADMIN_EMAIL)
    national = Campaign.objects.get(slug=NATIONAL_SLUG)
    if national.election is None:
        national.election = Election.objects.filter(year=2027).first()
        national.save(update_fields=["election"])
    template = CampaignSite.objects.filter(site__hostname=TEMPLATE_HOST).first()
    if template is None:
        _drop_wagtail_welcome_site()
        template = build_template(admin, national)
        stdout.write(f"Created the national template site http://{TEMPLATE_HOST}:8000/\n")
    for candidate in CANDIDATES:
        if Site.objects.filter(hostname=candidate["hostname"]).exists():
            continue
        result = clone_site(actor=admin, template=template, **candidate)
        stdout.write(f"Cloned http://{result.site.hostname}:8000/ ({result.page_count} pages)\n")


def _drop_wagtail_welcome_site() -> None:
    """Wagtail's first migration makes a 'Welcome' page and a default site; the demo replaces it."""
    for site in Site.objects.filter(
        root_page__content_type__app_label="wagtailcore", root_page__depth=2
    ):
        page = site.root_page
        site.delete()
        if page.get_children_count() == 0:
            page.delete()

"""One record per human being, with their contact points and why each campaign knows them.

Matching keys (normalised email, E.164 phone, roll identity, address) are stored in indexed
columns computed by `crm.normalize`, so bulk writers (imports) fill them without any per-row
model code, and lookups are index scans.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.normalize import PartialDate, address_key, fold, name_key, roll_key


class Person(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "F", _("Female")
        MALE = "M", _("Male")

    class SupporterStatus(models.TextChoices):
        UNKNOWN = "", _("Unknown")
        SUPPORTER = "supporter", _("Supporter")
        PROSPECT = "prospect", _("Prospect")
        NON_SUPPORTER = "non_supporter", _("Non-supporter")

    class SupportLevel(models.IntegerChoices):
        STRONG_SUPPORT = 1, _("1 · Strong support")
        LEANING_FOR = 2, _("2 · Leaning for")
        UNDECIDED = 3, _("3 · Undecided")
        LEANING_AGAINST = 4, _("4 · Leaning against")
        STRONG_OPPOSITION = 5, _("5 · Strong opposition")

    class MemberStatus(models.TextChoices):
        NONE = "", _("Not a member")
        MEMBER = "member", _("Member")
        LAPSED = "lapsed", _("Lapsed member")
        FORMER = "former", _("Former member")

    # Public, unguessable id for signed links (never the sequential primary key).
    uuid = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)

    # Identity, as French electoral rolls and forms give it.
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    first_names = models.CharField(_("first names"), max_length=200, blank=True)
    birth_name = models.CharField(_("birth name"), max_length=200, blank=True)
    usage_name = models.CharField(
        _("usage name"), max_length=200, blank=True, help_text=_("Married or chosen name.")
    )
    # Partial birth dates ("00/00/1953", "1961") are common in rolls: three nullable parts.
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    birth_month = models.PositiveSmallIntegerField(_("birth month"), null=True, blank=True)
    birth_day = models.PositiveSmallIntegerField(_("birth day"), null=True, blank=True)
    # Stored when imported; never offered as a segment filter (CNIL: no sorting by birthplace).
    birth_place_code = models.CharField(_("birthplace (INSEE code)"), max_length=5, blank=True)
    birth_place_name = models.CharField(_("birthplace"), max_length=200, blank=True)
    birth_department = models.CharField(_("birth département"), max_length=3, blank=True)
    birth_country = models.CharField(_("birth country"), max_length=100, blank=True)
    nationality = models.CharField(_("nationality"), max_length=100, blank=True)

    # Postal address, structured as French addresses are.
    street_number = models.CharField(_("number"), max_length=10, blank=True)
    street_repetition = models.CharField(
        _("repetition"), max_length=10, blank=True, help_text=_("bis, ter, quater, A, B…")
    )
    street_name = models.CharField(_("street"), max_length=200, blank=True)
    address_complement = models.CharField(
        _("complement"), max_length=200, blank=True, help_text=_("Building, stair, floor, door.")
    )
    locality = models.CharField(_("lieu-dit"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    commune_code = models.CharField(_("commune (INSEE code)"), max_length=5, blank=True)
    commune_name = models.CharField(_("commune"), max_length=200, blank=True)
    country = models.CharField(_("country"), max_length=2, default="FR", blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    polling_station_code = models.CharField(
        _("polling station (bureau de vote)"), max_length=10, blank=True
    )
    # Where the person votes and lives, for targeting: the legislative constituency of their
    # polling station as the roll gives it ("41-01"), and the INSEE IRIS of their address
    # (9 characters) as geocoding gives it.
    circonscription_code = models.CharField(
        _("constituency (circonscription)"), max_length=6, blank=True
    )
    iris_code = models.CharField(_("IRIS"), max_length=9, blank=True)

    # Engagement. Support level and supporter status are political opinions (GDPR art. 9):
    # shown only to roles holding Capability.VIEW_SENSITIVE.
    support_level = models.PositiveSmallIntegerField(
        _("support level"), choices=SupportLevel.choices, null=True, blank=True
    )
    supporter_status = models.CharField(
        _("supporter status"), max_length=20, choices=SupporterStatus.choices, blank=True
    )
    interests = models.ManyToManyField(
        "crm.Interest", verbose_name=_("volunteer interests"), blank=True, related_name="people"
    )
    member_status = models.CharField(
        _("membership"), max_length=10, choices=MemberStatus.choices, blank=True
    )
    member_since = models.DateField(_("member since"), null=True, blank=True)
    membership_last_fee_on = models.DateField(_("last fee paid on"), null=True, blank=True)
    point_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("point person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="followed_people",
    )

    # Where this record first came from (a site page, an import, a canvass…).
    first_source = models.CharField(_("first source"), max_length=300, blank=True)
    first_campaign = models.ForeignKey(
        "tenancy.Campaign",
        verbose_name=_("first campaign"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The import that created this record: undoing that import deletes it.
    created_by_import = models.ForeignKey(
        "crm.ImportRun",
        verbose_name=_("created by the import"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    # Matching and search keys (crm.normalize), kept in step by the services and importers.
    roll_key = models.CharField(max_length=300, blank=True, editable=False)
    roll_usage_key = models.CharField(max_length=300, blank=True, editable=False)
    last_name_key = models.CharField(max_length=200, blank=True, editable=False)
    first_names_key = models.CharField(max_length=200, blank=True, editable=False)
    address_key = models.CharField(max_length=400, blank=True, editable=False)
    commune_key = models.CharField(max_length=200, blank=True, editable=False)
    # Names, emails, phones and commune folded together, for accent-insensitive search.
    search_text = models.TextField(blank=True, editable=False)

    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["last_name_key", "first_names_key", "id"]
        indexes = [
            # Matching keys: plain b-tree indexes (equality only; `db_index=True` would add a
            # second LIKE index per key that no query uses and every import pays for).
            models.Index(fields=["roll_key"], name="crm_person_roll_key"),
            models.Index(fields=["roll_usage_key"], name="crm_person_roll_usage_key"),
            models.Index(fields=["last_name_key", "first_names_key"], name="crm_person_name_keys"),
            models.Index(fields=["address_key"], name="crm_person_address_key"),
            models.Index(fields=["birth_year", "birth_month", "birth_day"]),
            models.Index(fields=["commune_code", "polling_station_code"]),
            # Segment criteria (crm.segments): each one is backed by an index.
            models.Index(fields=["circonscription_code"], name="crm_person_circo"),
            models.Index(fields=["iris_code"], name="crm_person_iris"),
            models.Index(fields=["latitude", "longitude"], name="crm_person_latlon"),
            models.Index(fields=["sex", "birth_year"], name="crm_person_sex_birth"),
            models.Index(
                fields=["member_status"],
                name="crm_person_member",
                condition=~models.Q(member_status=""),
            ),
            models.Index(
                fields=["support_level"],
                name="crm_person_support",
                condition=models.Q(support_level__isnull=False),
            ),
            models.Index(
                fields=["supporter_status"],
                name="crm_person_supporter",
                condition=~models.Q(supporter_status=""),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(support_level__isnull=True)
                | models.Q(support_level__gte=1, support_level__lte=5),
                name="person_support_level_1_5",
            ),
            models.CheckConstraint(
                condition=models.Q(birth_month__isnull=True)
                | models.Q(birth_month__gte=1, birth_month__lte=12),
                name="person_birth_month_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(birth_day__isnull=True)
                | models.Q(birth_day__gte=1, birth_day__lte=31),
                name="person_birth_day_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or f"#{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("update_fields") is None:
            self.compute_keys()
        super().save(*args, **kwargs)

    @property
    def last_name(self) -> str:
        return self.usage_name or self.birth_name

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.first_names, self.last_name) if part)

    @property
    def birth_date(self) -> PartialDate:
        return PartialDate(self.birth_year, self.birth_month, self.birth_day)

    def set_birth_date(self, value: PartialDate | None) -> None:
        self.birth_year = value.year if value else None
        self.birth_month = value.month if value else None
        self.birth_day = value.day if value else None

    @property
    def primary_email(self) -> EmailAddress | None:
        emails = list(self.emails.all())
        return next((e for e in emails if e.is_primary), emails[0] if emails else None)

    @property
    def primary_phone(self) -> PhoneNumber | None:
        phones = list(self.phones.all())
        return next((p for p in phones if p.is_primary), phones[0] if phones else None)

    @property
    def address_lines(self) -> list[str]:
        street = " ".join(
            p for p in (self.street_number, self.street_repetition, self.street_name) if p
        )
        town = " ".join(p for p in (self.postcode, self.commune_name) if p)
        return [line for line in (self.address_complement, street, self.locality, town) if line]

    def compute_keys(
        self, emails: list[str] | None = None, phones: list[str] | None = None
    ) -> None:
        """Refresh the stored keys from the fields (and the given contact points, for search)."""
        birth = self.birth_date
        self.roll_key = roll_key(self.birth_name, self.first_names, birth)
        self.roll_usage_key = (
            roll_key(self.usage_name, self.first_names, birth) if self.usage_name else ""
        )
        self.last_name_key = name_key(self.last_name)
        self.first_names_key = name_key(self.first_names)
        self.commune_key = name_key(self.commune_name)
        self.address_key = address_key(
            self.street_number,
            self.street_repetition,
            self.street_name,
            self.address_complement,
            self.postcode,
        )
        if emails is None:
            emails = [e.email for e in self.emails.all()] if self.pk else []
        if phones is None:
            phones = [p.e164 for p in self.phones.all()] if self.pk else []
        words = [
            fold(self.first_names),
            fold(self.birth_name),
            fold(self.usage_name),
            self.commune_key,
            self.postcode,
            *emails,
            *(p.lstrip("+") for p in phones),
            *("0" + p[3:] for p in phones if p.startswith("+33")),
        ]
        self.search_text = " ".join(w.lower() for w in words if w)


class ContactStatus(models.TextChoices):
    VALID = "valid", _("Valid")
    BOUNCED = "bounced", _("Bounced")
    COMPLAINED = "complained", _("Complained (spam report)")
    INVALID = "invalid", _("Invalid")


class EmailAddress(models.Model):
    """One address of a person. An address belongs to one person only: it is how we match."""

    Status = ContactStatus

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="emails")
    email = models.EmailField(_("email"), max_length=254, unique=True)  # normalised
    is_primary = models.BooleanField(_("primary"), default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=ContactStatus.choices, default=ContactStatus.VALID
    )
    # HMAC of the address (crm.normalize.keyed_hash), joined against Suppression set-wise.
    suppression_key = models.CharField(max_length=64, db_index=True, editable=False)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("email address")
        verbose_name_plural = _("email addresses")
        ordering = ["-is_primary", "id"]
        indexes = [models.Index(fields=["person", "is_primary"])]

    def __str__(self) -> str:
        return self.email


class PhoneNumber(models.Model):
    """A phone in E.164. Households share landlines, so a number is not unique."""

    Status = ContactStatus

    class Kind(models.TextChoices):
        MOBILE = "mobile", _("Mobile")
        LANDLINE = "landline", _("Landline")
        OTHER = "other", _("Other")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="phones")
    e164 = models.CharField(_("phone"), max_length=20, db_index=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.OTHER)
    is_primary = models.BooleanField(_("primary"), default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=ContactStatus.choices, default=ContactStatus.VALID
    )
    suppression_key = models.CharField(max_length=64, db_index=True, editable=False)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "e164"], name="phone_unique_per_person")
        ]

    def __str__(self) -> str:
        from crm.normalize import format_phone

        return format_phone(self.e164)


class ExternalId(models.Model):
    """The id a person has in another file or tool: a members file, NationBuilder, CiviCRM…"""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="external_ids")
    source = models.SlugField(
        _("source"), max_length=60, help_text=_("e.g. members-national, nationbuilder")
    )
    value = models.CharField(_("id"), max_length=100)
    campaign = models.ForeignKey(
        "tenancy.Campaign",
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("external id")
        verbose_name_plural = _("external ids")
        constraints = [
            models.UniqueConstraint(fields=["source", "value"], name="externalid_unique")
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.value}"


class ElectoralRegistration(models.Model):
    """A line of an electoral roll: which list, which commune and polling station.

    An EU citizen may be on both complementary lists (LCM and LCE): two rows, one person.
    """

    class ListType(models.TextChoices):
        MAIN = "LP", _("Main list")
        MUNICIPAL = "LCM", _("Complementary list (municipal)")
        EUROPEAN = "LCE", _("Complementary list (European)")

    # No index of its own: registration_unique starts with person.
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="registrations", db_index=False
    )
    list_type = models.CharField(_("list"), max_length=3, choices=ListType.choices)
    commune_code = models.CharField(_("commune (INSEE code)"), max_length=5)
    polling_station_code = models.CharField(_("polling station"), max_length=10, blank=True)
    polling_station_label = models.CharField(_("polling station name"), max_length=200, blank=True)
    order_number = models.PositiveIntegerField(_("order number"), null=True, blank=True)
    campaign = models.ForeignKey(
        "tenancy.Campaign",
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    imported_at = models.DateTimeField(_("imported"), auto_now_add=True)

    class Meta:
        verbose_name = _("electoral registration")
        verbose_name_plural = _("electoral registrations")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "commune_code", "list_type"], name="registration_unique"
            )
        ]
        indexes = [
            models.Index(fields=["commune_code", "polling_station_code"]),
            models.Index(fields=["list_type", "person"], name="crm_registration_list"),
        ]

    def __str__(self) -> str:
        return f"{self.list_type} {self.commune_code}"


class CampaignAttachment(models.Model):
    """Why a campaign knows a person. Staff visibility follows these rows."""

    class Reason(models.TextChoices):
        SITE = "site", _("Acted on its site")
        IMPORT = "import", _("Imported by it")
        DONATION = "donation", _("Donated to it")
        ROLL = "roll", _("On a roll it imported (lives in its territory)")
        CANVASS = "canvass", _("Met by its canvassers")
        MANUAL = "manual", _("Added by its staff")
        MERGE = "merge", _("Merged from another record")

    # No index of their own: attachment_unique starts with person, the index below with campaign.
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="attachments", db_index=False
    )
    campaign = models.ForeignKey(
        "tenancy.Campaign",
        verbose_name=_("campaign"),
        on_delete=models.CASCADE,
        related_name="person_attachments",
        db_index=False,
    )
    reason = models.CharField(_("why"), max_length=12, choices=Reason.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    first_at = models.DateTimeField(_("since"), auto_now_add=True)
    last_at = models.DateTimeField(_("last"), auto_now=True)

    class Meta:
        verbose_name = _("campaign attachment")
        verbose_name_plural = _("campaign attachments")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "campaign", "reason"], name="attachment_unique"
            )
        ]
        indexes = [models.Index(fields=["campaign", "person"])]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.reason}"

"""Field campaigns: door-to-door (buildings, doors, turfs, assignments, visits) and phone banking.

Field work is append-only: one `Visit` per door knock and one `Call` per call, each carrying the
id the canvasser's phone made for it (`client_uuid`), so a record synced twice is stored once.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _


class QuestionType(models.TextChoices):
    YES_NO = "yes_no", _("Yes / no")
    SCALE = "scale", _("Scale (1 to 5)")
    CHOICE = "choice", _("Choice")
    TEXT = "text", _("Free text")


class DoorCampaign(models.Model):
    """A door-to-door campaign: who to visit, when, what to ask."""

    class TargetKind(models.TextChoices):
        SEGMENT = "segment", _("A segment")
        BUREAUX = "bureaux", _("Polling stations")
        AREA = "area", _("An area drawn on the map")

    campaign = models.ForeignKey(
        "tenancy.Campaign",
        verbose_name=_("campaign"),
        on_delete=models.CASCADE,
        related_name="door_campaigns",
    )
    name = models.CharField(_("name"), max_length=200)
    target_kind = models.CharField(
        _("target"), max_length=10, choices=TargetKind.choices, default=TargetKind.BUREAUX
    )
    segment = models.ForeignKey(
        "crm.Segment",
        verbose_name=_("segment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    bureaux = models.ManyToManyField(
        "territory.Zone",
        verbose_name=_("polling stations"),
        blank=True,
        related_name="+",
        limit_choices_to={"type": "bureau"},
    )
    # The drawn area: [{"lat": …, "lon": …}, …] (WGS84), as the segment criteria store it.
    area = models.JSONField(_("area"), default=list, blank=True)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    instructions = models.TextField(_("instructions for canvassers"), blank=True)
    # [{"key", "label", "type", "choices": [...], "show_if": {"question": key, "equals": value}}]
    survey = models.JSONField(_("survey script"), default=list, blank=True)
    consent_text = models.TextField(
        _("consent text read to the person"),
        blank=True,
        help_text=_("Shown on the canvasser's screen next to the consent box, kept as proof."),
    )
    minutes_per_door = models.FloatField(_("minutes per door"), default=1.5)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("door-to-door campaign")
        verbose_name_plural = _("door-to-door campaigns")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Turf(models.Model):
    """A set of buildings one canvasser or pair walks in one outing, in route order."""

    door_campaign = models.ForeignKey(
        DoorCampaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="turfs"
    )
    number = models.PositiveIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    bureau_code = models.CharField(_("polling station"), max_length=24, blank=True)
    door_count = models.PositiveIntegerField(_("doors"), default=0)
    route_metres = models.FloatField(_("walking distance (m)"), default=0)
    estimated_minutes = models.FloatField(_("estimated minutes"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("turf")
        verbose_name_plural = _("turfs")
        ordering = ["door_campaign", "number"]
        constraints = [
            models.UniqueConstraint(fields=["door_campaign", "number"], name="turf_number_unique")
        ]

    def __str__(self) -> str:
        return self.name or _("Turf %(number)s") % {"number": self.number}


class Building(models.Model):
    """One address: a house or an apartment building. Its doors are visited together."""

    class Kind(models.TextChoices):
        HOUSE = "house", _("House")
        BUILDING = "building", _("Apartment building")

    door_campaign = models.ForeignKey(
        DoorCampaign, on_delete=models.CASCADE, related_name="buildings"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.HOUSE)
    street_number = models.CharField(_("number"), max_length=10, blank=True)
    street_repetition = models.CharField(_("repetition"), max_length=10, blank=True)
    street_name = models.CharField(_("street"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    commune_name = models.CharField(_("commune"), max_length=200, blank=True)
    address_key = models.CharField(max_length=400, db_index=True)
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    bureau_code = models.CharField(_("polling station"), max_length=24, blank=True)
    access_notes = models.CharField(_("access (digicode, intercom)"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["street_name", "street_number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["door_campaign", "address_key"], name="building_address_unique"
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return " ".join(
            p for p in (self.street_number, self.street_repetition, self.street_name) if p
        )


class Door(models.Model):
    """A household: building → entrance/stair → floor → door, completed in the field."""

    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="doors")
    # A large building may be shared by two turfs (split by stair or floor): turfs hold doors.
    turf = models.ForeignKey(
        Turf, null=True, blank=True, on_delete=models.SET_NULL, related_name="doors"
    )
    route_position = models.PositiveIntegerField(_("position in the walk"), default=0)
    entrance = models.CharField(_("entrance / stair"), max_length=40, blank=True)
    floor = models.CharField(_("floor"), max_length=20, blank=True)
    door = models.CharField(_("door"), max_length=40, blank=True)
    do_not_visit = models.BooleanField(_("do not visit"), default=False)
    # Made by the phone when a canvasser adds a door in the field (idempotent creation).
    client_uuid = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("door")
        verbose_name_plural = _("doors")
        ordering = ["turf", "route_position", "id"]

    def __str__(self) -> str:
        return " · ".join(p for p in (self.entrance, self.floor, self.door) if p) or str(
            self.building
        )

    @property
    def people(self) -> QuerySet[Any]:
        """The people living behind this door."""
        from crm.models import Person

        return Person.objects.filter(pk__in=self.residents.values("person_id"))


class Resident(models.Model):
    """Who lives behind a door (a row per person: merges and erasure move or remove it)."""

    door = models.ForeignKey(Door, on_delete=models.CASCADE, related_name="residents")
    person = models.ForeignKey("crm.Person", on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        indexes = [models.Index(fields=["person"])]

    def __str__(self) -> str:
        return f"{self.door_id}:{self.person_id}"


class Assignment(models.Model):
    """A turf given to a canvasser (a pair is two assignments of one turf), until it expires."""

    turf = models.ForeignKey(Turf, on_delete=models.CASCADE, related_name="assignments")
    canvasser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("canvasser"),
        on_delete=models.CASCADE,
        related_name="turf_assignments",
    )
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("assigned"), auto_now_add=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["canvasser", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.turf} → {self.canvasser}"


class Outcome(models.TextChoices):
    NOT_HOME = "not_home", _("Not home")
    OPENED = "opened", _("Opened")
    REFUSED = "refused", _("Refused")
    COME_BACK = "come_back", _("Come back later")
    MOVED = "moved", _("Moved")
    DO_NOT_VISIT = "do_not_visit", _("Do not visit")


CONTACT_OUTCOMES = frozenset({Outcome.OPENED, Outcome.REFUSED, Outcome.COME_BACK})


class Visit(models.Model):
    """One door knock, as the canvasser's phone recorded it. Never edited, only rolled back."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        SUPERSEDED = "superseded", _("Kept in history (a later result exists)")
        ROLLED_BACK = "rolled_back", _("Rolled back")

    client_uuid = models.UUIDField(unique=True)
    door_campaign = models.ForeignKey(DoorCampaign, on_delete=models.CASCADE, related_name="visits")
    turf = models.ForeignKey(Turf, null=True, on_delete=models.SET_NULL, related_name="visits")
    door = models.ForeignKey(Door, on_delete=models.CASCADE, related_name="visits")
    canvasser = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Erasing the person erases their results (answers and notes are opinions about them).
    person = models.ForeignKey(
        "crm.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=15, choices=Outcome.choices)
    support_level = models.PositiveSmallIntegerField(_("support level"), null=True, blank=True)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    visited_at = models.DateTimeField(_("visited"))
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.APPLIED
    )
    # What applying it changed in the CRM (action, note, consent ids, previous support level),
    # so a rollback undoes exactly that.
    effects = models.JSONField(default=dict, blank=True, editable=False)
    flagged = models.BooleanField(_("flagged"), default=False)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_at", "-id"]
        indexes = [
            models.Index(fields=["door_campaign", "canvasser", "visited_at"]),
            models.Index(fields=["door", "visited_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.door_id} {self.outcome} {self.visited_at:%Y-%m-%d %H:%M}"


class SyncRecord(models.Model):
    """Every record a phone sent, by its client-made id, with the answer it got: a record sent
    twice is applied once and answered the same way."""

    client_uuid = models.UUIDField(primary_key=True)
    kind = models.CharField(max_length=20)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    response = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.client_uuid}"


class QualityFlag(models.Model):
    class Kind(models.TextChoices):
        CONTACT_RATE = "contact_rate", _("Implausible contact rate")
        SECONDS_APART = "seconds_apart", _("Doors seconds apart")
        TURF_IN_MINUTES = "turf_in_minutes", _("Whole turf done in minutes")

    class Status(models.TextChoices):
        OPEN = "open", _("To review")
        ACCEPTED = "accepted", _("Accepted")
        ROLLED_BACK = "rolled_back", _("Rolled back")

    door_campaign = models.ForeignKey(DoorCampaign, on_delete=models.CASCADE, related_name="flags")
    canvasser = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    turf = models.ForeignKey(Turf, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    visits = models.ManyToManyField(Visit, related_name="flags")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default="open")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    created_at = models.DateTimeField(_("raised"), auto_now_add=True)

    class Meta:
        verbose_name = _("quality flag")
        verbose_name_plural = _("quality flags")
        ordering = ["status", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["door_campaign", "canvasser", "kind", "turf"],
                name="qualityflag_unique",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.detail}"


# --- Phone banking ---------------------------------------------------------------------------


class PhoneCampaign(models.Model):
    campaign = models.ForeignKey(
        "tenancy.Campaign",
        verbose_name=_("campaign"),
        on_delete=models.CASCADE,
        related_name="phone_campaigns",
    )
    name = models.CharField(_("name"), max_length=200)
    segment = models.ForeignKey(
        "crm.Segment", verbose_name=_("segment"), on_delete=models.PROTECT, related_name="+"
    )
    instructions = models.TextField(_("instructions for callers"), blank=True)
    survey = models.JSONField(_("script"), default=list, blank=True)
    claim_minutes = models.PositiveIntegerField(_("claim lasts (minutes)"), default=15)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    callers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("callers"), blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("phone campaign")
        verbose_name_plural = _("phone campaigns")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class CallOutcome(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    NO_ANSWER = "no_answer", _("No answer")
    VOICEMAIL = "voicemail", _("Voicemail")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    CALL_BACK = "call_back", _("Call back")
    REFUSED = "refused", _("Refused")
    DO_NOT_CALL = "do_not_call", _("Do not call")


class PhoneTarget(models.Model):
    """One person to call in a phone campaign, with its claim (one caller at a time)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("To call")
        CALL_BACK = "call_back", _("Call back")
        DONE = "done", _("Done")
        DO_NOT_CALL = "do_not_call", _("Do not call")

    phone_campaign = models.ForeignKey(
        PhoneCampaign, on_delete=models.CASCADE, related_name="targets"
    )
    person = models.ForeignKey("crm.Person", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_until = models.DateTimeField(null=True, blank=True)
    call_back_at = models.DateTimeField(_("call back at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["phone_campaign", "person"], name="phonetarget_unique")
        ]
        indexes = [models.Index(fields=["phone_campaign", "status", "claimed_until"])]

    def __str__(self) -> str:
        return f"{self.phone_campaign_id}:{self.person_id} {self.status}"


class Call(models.Model):
    client_uuid = models.UUIDField(unique=True, default=uuid.uuid4)
    target = models.ForeignKey(PhoneTarget, on_delete=models.CASCADE, related_name="calls")
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=15, choices=CallOutcome.choices)
    answers = models.JSONField(default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    called_at = models.DateTimeField(_("called"))
    action = models.ForeignKey(
        "crm.Action", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-called_at"]

    def __str__(self) -> str:
        return f"{self.target_id} {self.outcome}"

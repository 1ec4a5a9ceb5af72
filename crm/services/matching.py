"""Find-or-create: one record per human being.

Matching order (first certain match wins):
1. external id (source + value);
2. email (normalised);
3. E.164 phone, when exactly one person has it and the first names do not contradict;
4. roll identity: birth name or usage name + first names + full birth date, the birthplace
   separating homonyms.
A new record that looks like an existing one without certainty (same name and address, same
name and birth date with different birthplaces, a similar name with the same birth date and
address, a phone shared with someone else) goes to the review queue.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from cocarde.tenancy.models import Campaign
from crm.models import DuplicateCandidate, EmailAddress, ExternalId, Person, PhoneNumber
from crm.normalize import PartialDate, name_key, parse_birth_date, roll_key
from crm.services import people as people_services


@dataclass
class Identity:
    """What a form, an import row or a canvasser knows about someone."""

    email: str = ""
    phone: str = ""
    first_names: str = ""
    birth_name: str = ""
    usage_name: str = ""
    sex: str = ""
    birth_date: str | PartialDate | None = None
    birth_place_code: str = ""
    street_number: str = ""
    street_repetition: str = ""
    street_name: str = ""
    address_complement: str = ""
    postcode: str = ""
    commune_code: str = ""
    commune_name: str = ""
    external_id: tuple[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> Identity:
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        values = {k: v for k, v in data.items() if k in known and v not in (None,)}
        if "last_name" in data and not values.get("birth_name"):
            values["birth_name"] = data["last_name"]
        return cls(**values)

    def partial_birth_date(self) -> PartialDate | None:
        if isinstance(self.birth_date, PartialDate) or self.birth_date is None:
            return self.birth_date
        return parse_birth_date(self.birth_date)

    def person_fields(self) -> dict[str, Any]:
        names = (
            "first_names",
            "birth_name",
            "usage_name",
            "sex",
            "birth_place_code",
            "street_number",
            "street_repetition",
            "street_name",
            "address_complement",
            "postcode",
            "commune_code",
            "commune_name",
        )
        fields: dict[str, Any] = {n: getattr(self, n) for n in names if getattr(self, n)}
        birth = self.partial_birth_date()
        if birth is not None:
            fields["birth_date"] = birth
        return fields


@dataclass
class Match:
    person: Person | None
    rule: str  # "external_id", "email", "phone", "roll", or "" when nobody matched


def _first_name_agrees(person: Person, identity: Identity) -> bool:
    mine, theirs = name_key(person.first_names), name_key(identity.first_names)
    if not mine or not theirs:
        return True
    return mine.split()[0] == theirs.split()[0]


def find_person(identity: Identity) -> Match:
    """The certain match for this identity, in the documented order, or no one."""
    if identity.external_id:
        source, value = identity.external_id
        row = ExternalId.objects.filter(source=source, value=value).select_related("person").first()
        if row is not None:
            return Match(row.person, "external_id")
    if identity.email:
        email = people_services.clean_email(identity.email)
        address = EmailAddress.objects.filter(email=email).select_related("person").first()
        if address is not None:
            return Match(address.person, "email")
    if identity.phone:
        phone = people_services.clean_phone(identity.phone)
        if phone is not None:
            owners = list(Person.objects.filter(phones__e164=phone.e164).distinct()[:2])
            if len(owners) == 1 and _first_name_agrees(owners[0], identity):
                return Match(owners[0], "phone")
    birth = identity.partial_birth_date()
    keys = {
        roll_key(identity.birth_name, identity.first_names, birth),
        roll_key(identity.usage_name, identity.first_names, birth),
    } - {""}
    if keys:
        candidates = list(
            Person.objects.filter(Q(roll_key__in=keys) | Q(roll_usage_key__in=keys))[:5]
        )
        if identity.birth_place_code:
            candidates = [
                p
                for p in candidates
                if not p.birth_place_code or p.birth_place_code == identity.birth_place_code
            ]
        if len(candidates) == 1:
            return Match(candidates[0], "roll")
    return Match(None, "")


def fill_blanks(person: Person, identity: Identity, *, actor: Any) -> list[str]:
    """Complete a known record with what it lacks. Never overwrites: a public form is not
    proof of identity, and whoever typed a known address must not rewrite that person."""
    blanks = {
        name: value
        for name, value in identity.person_fields().items()
        if name != "birth_date" and not getattr(person, name)
    }
    if "birth_date" in identity.person_fields() and not person.birth_year:
        blanks["birth_date"] = identity.person_fields()["birth_date"]
    changed = []
    if blanks:
        changed = people_services.update_person(
            person, actor=actor, record_timeline=False, **blanks
        )
    if identity.email:
        email = people_services.clean_email(identity.email)
        if not EmailAddress.objects.filter(email=email).exists():
            people_services.add_email(person, email)
            changed.append("emails")
    if identity.phone:
        phone = people_services.clean_phone(identity.phone)
        if phone is not None and not person.phones.filter(e164=phone.e164).exists():
            people_services.add_phone(person, phone.e164)
            changed.append("phones")
    if (
        identity.external_id
        and not person.external_ids.filter(source=identity.external_id[0]).exists()
    ):
        ExternalId.objects.get_or_create(
            source=identity.external_id[0],
            value=identity.external_id[1],
            defaults={"person": person},
        )
    if changed:
        people_services.refresh_keys(person)
    return changed


@dataclass
class FindOrCreateResult:
    person: Person
    created: bool
    rule: str


def find_or_create_person(
    identity: Identity,
    *,
    actor: Any,
    campaign: Campaign | None,
    reason: str,
    source: str = "",
) -> FindOrCreateResult:
    """Match or create, then flag uncertain look-alikes for review. Safe under concurrency:
    two simultaneous submissions with one email end on one record."""
    for _attempt in range(3):
        match = find_person(identity)
        if match.person is not None:
            fill_blanks(match.person, identity, actor=actor)
            if campaign is not None:
                people_services.attach(match.person, campaign, reason, detail=source)
            return FindOrCreateResult(match.person, False, match.rule)
        try:
            with transaction.atomic():
                person = people_services.create_person(
                    actor=actor,
                    campaign=campaign,
                    reason=reason,
                    emails=[identity.email] if identity.email else [],
                    phones=[identity.phone] if identity.phone else [],
                    source=source,
                    external_id=identity.external_id,
                    **identity.person_fields(),
                )
        except IntegrityError:
            continue  # the email or external id was taken meanwhile: match again
        except ValidationError as error:
            if "emails" in getattr(error, "message_dict", {}):
                continue  # same race, reported by add_email
            raise
        flag_duplicates(person)
        return FindOrCreateResult(person, True, "")
    raise RuntimeError("find_or_create_person could not settle on a record")


def _similar(a: str, b: str) -> bool:
    return bool(a and b) and difflib.SequenceMatcher(None, a, b).ratio() >= 0.8


def likely_duplicates(person: Person) -> list[tuple[Person, str]]:
    """Records that may be this person, with the reason. Blocked on indexed keys, never an
    all-pairs comparison."""
    found: dict[int, str] = {}
    others = Person.objects.exclude(pk=person.pk)
    reason = DuplicateCandidate.Reason
    if person.address_key and person.last_name_key:
        for other in others.filter(address_key=person.address_key)[:50]:
            same_first = other.first_names_key == person.first_names_key
            if same_first and other.last_name_key == person.last_name_key:
                found.setdefault(other.pk, reason.NAME_ADDRESS)
            elif same_first and _similar(other.last_name_key, person.last_name_key):
                found.setdefault(other.pk, reason.SIMILAR_NAME)
            elif other.last_name_key == person.last_name_key and _similar(
                other.first_names_key, person.first_names_key
            ):
                found.setdefault(other.pk, reason.SIMILAR_NAME)
    if person.birth_year and person.birth_month and person.birth_day:
        same_birth = others.filter(
            birth_year=person.birth_year,
            birth_month=person.birth_month,
            birth_day=person.birth_day,
        )[:200]
        for other in same_birth:
            if other.last_name_key == person.last_name_key and (
                other.first_names_key == person.first_names_key
            ):
                found.setdefault(other.pk, reason.NAME_BIRTH)
            elif _similar(other.last_name_key, person.last_name_key) and _similar(
                other.first_names_key, person.first_names_key
            ):
                found.setdefault(other.pk, reason.SIMILAR_NAME)
    phones = list(person.phones.values_list("e164", flat=True))
    if phones:
        for other_id in (
            PhoneNumber.objects.filter(e164__in=phones)
            .exclude(person=person)
            .values_list("person_id", flat=True)[:20]
        ):
            found.setdefault(other_id, reason.SHARED_PHONE)
    people = Person.objects.in_bulk(list(found))
    return [(people[pk], why) for pk, why in found.items() if pk in people]


def flag_duplicates(person: Person) -> list[DuplicateCandidate]:
    flagged = []
    for other, why in likely_duplicates(person):
        a, b = sorted((person.pk, other.pk))
        candidate, created = DuplicateCandidate.objects.get_or_create(
            person_a_id=a, person_b_id=b, defaults={"reason": why}
        )
        if created:
            flagged.append(candidate)
    return flagged

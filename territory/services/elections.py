"""Elections and their rounds are rows: created here, never hard-coded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from cocarde.audit.services import record_event
from territory.formats.common import FormatError
from territory.models import Election, ElectionRound


@transaction.atomic
def create_election(
    *,
    actor: Any,
    kind: str,
    name: str,
    year: int,
    rounds: Sequence[tuple[int, dt.date]],
    country: str = "FR",
) -> Election:
    """The election and its rounds; an existing one (same country, kind, year and name) gets
    the missing rounds. A round that exists with another date is an error."""
    if kind not in Election.Kind.values:
        raise FormatError(
            _("unknown election kind “%(kind)s” (one of %(kinds)s)")
            % {"kind": kind, "kinds": ", ".join(Election.Kind.values)},
            field="--kind",
        )
    election, created = Election.objects.get_or_create(
        country=country, kind=kind, year=year, name=name
    )
    for number, date in rounds:
        existing = ElectionRound.objects.filter(election=election, number=number).first()
        if existing is None:
            ElectionRound.objects.create(election=election, number=number, date=date)
        elif existing.date != date:
            raise FormatError(
                _("round %(number)s already exists on %(date)s")
                % {"number": number, "date": existing.date.isoformat()},
                field="--round",
            )
    if created:
        record_event("territory.create_election", actor=actor, data={"election": election.pk})
    return election

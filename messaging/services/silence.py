"""When messages may not go out: electoral silence (Code électoral L49) and SMS quiet hours.

Electoral silence: no political message from 00:00 Europe/Paris on the day before a round of
the campaign's election until the polls close on the day of the round. Transactional messages
(receipts, confirmations) are not political and are not held.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from cocarde.tenancy.models import Campaign

PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class SilenceWindow:
    starts: dt.datetime
    ends: dt.datetime
    round_date: dt.date

    def contains(self, moment: dt.datetime) -> bool:
        return self.starts <= moment < self.ends


def polls_close() -> dt.time:
    hours, _, minutes = settings.MESSAGING_POLLS_CLOSE.partition(":")
    return dt.time(int(hours), int(minutes or 0))


def silence_windows(campaign: Campaign) -> list[SilenceWindow]:
    if campaign.election_id is None:
        return []
    closing = polls_close()
    windows = []
    for election_round in campaign.election.rounds.all():  # type: ignore[union-attr]
        day_before = election_round.date - dt.timedelta(days=1)
        windows.append(
            SilenceWindow(
                starts=dt.datetime.combine(day_before, dt.time(0, 0), tzinfo=PARIS),
                ends=dt.datetime.combine(election_round.date, closing, tzinfo=PARIS),
                round_date=election_round.date,
            )
        )
    return windows


def silence_at(campaign: Campaign, moment: dt.datetime | None = None) -> SilenceWindow | None:
    """The electoral silence window covering `moment` (now by default), if any."""
    moment = moment or timezone.now()
    return next((w for w in silence_windows(campaign) if w.contains(moment)), None)


def _easter(year: int) -> dt.date:
    """Gregorian Easter Sunday (anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def french_public_holidays(year: int) -> set[dt.date]:
    easter = _easter(year)
    fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
    return {dt.date(year, m, d) for m, d in fixed} | {
        easter + dt.timedelta(days=1),  # Easter Monday
        easter + dt.timedelta(days=39),  # Ascension
        easter + dt.timedelta(days=50),  # Whit Monday
    }


def in_quiet_hours(
    *,
    moment: dt.datetime,
    start: dt.time,
    end: dt.time,
    sundays: bool = True,
    holidays: bool = True,
) -> bool:
    """Whether an SMS may not be sent at `moment` (local time, Europe/Paris)."""
    local = moment.astimezone(PARIS)
    if sundays and local.weekday() == 6:
        return True
    if holidays and local.date() in french_public_holidays(local.year):
        return True
    now = local.time()
    if start <= end:  # e.g. 00:00-08:00
        return start <= now < end
    return now >= start or now < end  # e.g. 20:00-10:00, across midnight

"""Which segments a user may choose: audiences of blasts, targets of canvassing campaigns.

    from crm.segments.selectors import segments_for
    audience = forms.ModelChoiceField(queryset=segments_for(request.user, campaign=campaign))

then `crm.segments.services.people_in(segment)` (or `snapshot(segment, into=...)`) at send
time. Another campaign's segment is never listed.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from cocarde.tenancy.models import Campaign
from cocarde.tenancy.permissions import Capability, scope
from crm.models import Segment


def segments_for(
    user: Any,
    capability: Capability = Capability.VIEW_PEOPLE,
    *,
    campaign: Campaign | int | None = None,
    kind: str | None = None,
) -> QuerySet[Segment]:
    """Segments of the campaigns where the user holds `capability` (optionally one campaign,
    one kind), most recently changed first."""
    segments = scope(Segment.objects.select_related("campaign"), user, capability)
    if campaign is not None:
        segments = segments.filter(campaign=campaign)
    if kind is not None:
        segments = segments.filter(kind=kind)
    return segments.order_by("-updated_at", "-id")


def get_segment_for(user: Any, pk: Any, capability: Capability = Capability.VIEW_PEOPLE) -> Segment:
    """The segment, or 404 when it does not exist or belongs to a campaign the user cannot see."""
    from django.http import Http404

    try:
        return segments_for(user, capability).get(pk=int(pk))
    except (Segment.DoesNotExist, ValueError, TypeError) as error:
        raise Http404 from error

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from cocarde.audit.models import AppendOnlyError, AuditEvent
from cocarde.tenancy import services
from cocarde.tenancy.models import StaffRole
from tests.fixtures.components import require_postgres

pytestmark = pytest.mark.django_db


def test_role_changes_are_audited(make_user, make_campaign):
    admin, user, campaign = make_user(), make_user(), make_campaign()
    services.grant_role(user, campaign, StaffRole.Role.STAFF, actor=admin)
    services.grant_role(user, campaign, StaffRole.Role.STAFF, actor=admin)  # no-op, no event
    services.revoke_role(user, campaign, StaffRole.Role.STAFF, actor=admin)
    events = list(
        AuditEvent.objects.filter(target_id=str(user.pk), action__startswith="role.")
        .order_by("id")
        .values_list("action", "actor_label", "campaign_id", "data")
    )
    assert events == [
        ("role.grant", admin.email, campaign.pk, {"role": "staff"}),
        ("role.revoke", admin.email, campaign.pk, {"role": "staff"}),
    ]


def test_events_cannot_be_changed_or_deleted_through_the_orm(make_user):
    event = AuditEvent.objects.filter(action="user.create").first() or AuditEvent.objects.create(
        action="probe"
    )
    make_user()
    event.action = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_the_database_refuses_to_rewrite_history(make_user):
    require_postgres()
    make_user()
    event_id = AuditEvent.objects.latest("id").pk
    for statement in ("UPDATE audit_auditevent SET action = 'x' WHERE id = %s",
                      "DELETE FROM audit_auditevent WHERE id = %s"):  # fmt: skip
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event_id])
    assert AuditEvent.objects.filter(pk=event_id).exists()


def test_deleting_an_account_keeps_its_audit_trail(make_user, make_campaign):
    actor = make_user()
    services.create_campaign(actor=actor, name="Kept", slug="kept")
    actor.delete()
    event = AuditEvent.objects.get(action="campaign.create", target_type="tenancy.campaign")
    assert event.actor_label == actor.email

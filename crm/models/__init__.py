"""CRM models, one module per concept. Import them from here."""

from crm.models.activity import Action, ActionType, Note
from crm.models.consent import Channel, Consent, ConsentText, Purpose, Suppression
from crm.models.dedup import DuplicateCandidate, MergeRecord
from crm.models.fields import CustomField, CustomFieldValue, Interest, PersonTag, Tag
from crm.models.imports import (
    ImportChange,
    ImportFormat,
    ImportMapping,
    ImportRowError,
    ImportRun,
    LegalBasis,
)
from crm.models.people import (
    CampaignAttachment,
    ElectoralRegistration,
    EmailAddress,
    ExternalId,
    Person,
    PhoneNumber,
)
from crm.models.privacy import RetentionRule, StaffListPreference
from crm.models.segments import Segment, SegmentMember

__all__ = [
    "Action",
    "ActionType",
    "CampaignAttachment",
    "Channel",
    "Consent",
    "ConsentText",
    "CustomField",
    "CustomFieldValue",
    "DuplicateCandidate",
    "ElectoralRegistration",
    "EmailAddress",
    "ExternalId",
    "ImportChange",
    "ImportFormat",
    "ImportMapping",
    "ImportRowError",
    "ImportRun",
    "Interest",
    "LegalBasis",
    "MergeRecord",
    "Note",
    "Person",
    "PersonTag",
    "PhoneNumber",
    "Purpose",
    "RetentionRule",
    "Segment",
    "SegmentMember",
    "StaffListPreference",
    "Suppression",
    "Tag",
]

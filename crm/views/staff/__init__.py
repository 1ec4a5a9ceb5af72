"""Staff screens in the Wagtail admin: people list, profile, edit, tag, notes, merge, review
queue, exports, erasure, retention. Thin: access comes from `crm.selectors` (tenancy), changes
from `crm.services`. Another campaign's person answers 404 everywhere.

One module per screen family; crm/admin_urls.py names the views through this package."""

from crm.views.staff.duplicates import (
    duplicate_dismiss,
    duplicates,
    merge_undo,
    merges,
    person_merge,
)
from crm.views.staff.people import (
    people_bulk_tag,
    people_csv_response,
    people_export,
    people_export_xlsx,
    people_list,
)
from crm.views.staff.person import (
    can_edit_person,
    can_erase_person,
    person_detail,
    person_edit,
    person_erase,
    person_export_json,
    person_new,
    person_note,
    person_tag,
    person_untag,
    person_withdraw,
)
from crm.views.staff.retention import retention, retention_edit

__all__ = [
    "can_edit_person",
    "can_erase_person",
    "duplicate_dismiss",
    "duplicates",
    "merge_undo",
    "merges",
    "people_bulk_tag",
    "people_csv_response",
    "people_export",
    "people_export_xlsx",
    "people_list",
    "person_detail",
    "person_edit",
    "person_erase",
    "person_export_json",
    "person_merge",
    "person_new",
    "person_note",
    "person_tag",
    "person_untag",
    "person_withdraw",
    "retention",
    "retention_edit",
]

"""Staff URLs, mounted under /admin/crm/ by wagtail_hooks (Wagtail checks admin access)."""

from django.urls import path

from crm.views import staff

urlpatterns = [
    path("people/", staff.people_list, name="crm_people"),
    path("people/export.csv", staff.people_export, name="crm_people_export"),
    path("people/export.xlsx", staff.people_export_xlsx, name="crm_people_export_xlsx"),
    path("people/tag/", staff.people_bulk_tag, name="crm_people_bulk_tag"),
    path("people/new/", staff.person_new, name="crm_person_new"),
    path("people/<int:pk>/", staff.person_detail, name="crm_person"),
    path("people/<int:pk>/edit/", staff.person_edit, name="crm_person_edit"),
    path("people/<int:pk>/tags/", staff.person_tag, name="crm_person_tag"),
    path("people/<int:pk>/tags/<int:tag_id>/remove/", staff.person_untag, name="crm_person_untag"),
    path("people/<int:pk>/notes/", staff.person_note, name="crm_person_note"),
    path("people/<int:pk>/withdraw/", staff.person_withdraw, name="crm_person_withdraw"),
    path("people/<int:pk>/export.json", staff.person_export_json, name="crm_person_export"),
    path("people/<int:pk>/erase/", staff.person_erase, name="crm_person_erase"),
    path("people/<int:pk>/merge/<int:other_pk>/", staff.person_merge, name="crm_person_merge"),
    path("duplicates/", staff.duplicates, name="crm_duplicates"),
    path("duplicates/<int:pk>/dismiss/", staff.duplicate_dismiss, name="crm_duplicate_dismiss"),
    path("merges/", staff.merges, name="crm_merges"),
    path("merges/<int:pk>/undo/", staff.merge_undo, name="crm_merge_undo"),
    path("retention/", staff.retention, name="crm_retention"),
    path("retention/<int:campaign_id>/", staff.retention_edit, name="crm_retention_edit"),
]

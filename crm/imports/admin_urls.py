"""Import screens, mounted under /admin/crm/imports/ by crm.wagtail_hooks."""

from django.urls import path

from crm.views import imports

urlpatterns = [
    path("", imports.import_list, name="crm_imports"),
    path("new/", imports.import_new, name="crm_import_new"),
    path("<int:pk>/", imports.import_detail, name="crm_import"),
    path("<int:pk>/mapping/", imports.import_mapping, name="crm_import_mapping"),
    path("<int:pk>/progress/", imports.import_progress, name="crm_import_progress"),
    path("<int:pk>/check/", imports.import_check, name="crm_import_check"),
    path("<int:pk>/start/", imports.import_start, name="crm_import_start"),
    path("<int:pk>/undo/", imports.import_undo, name="crm_import_undo"),
    path("<int:pk>/report.csv", imports.import_report, name="crm_import_report"),
]

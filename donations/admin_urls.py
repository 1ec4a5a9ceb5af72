"""Treasurer URLs, mounted under /admin/donations/ by wagtail_hooks."""

from django.urls import path

from donations import admin_views

urlpatterns = [
    path("", admin_views.donation_list, name="donations_admin_list"),
    path("export.csv", admin_views.export_csv, name="donations_admin_export_csv"),
    path("export.xlsx", admin_views.export_xlsx, name="donations_admin_export_xlsx"),
    path("offline/", admin_views.offline_gift, name="donations_admin_offline"),
    path("<int:pk>/refund/", admin_views.refund, name="donations_admin_refund"),
    path("receipts/", admin_views.receipt_list, name="donations_admin_receipts"),
    path("receipts/<int:pk>/pdf/", admin_views.receipt_pdf, name="donations_admin_receipt_pdf"),
    path(
        "receipts/<int:pk>/<str:action>/",
        admin_views.receipt_action,
        name="donations_admin_receipt_action",
    ),
    path("settings/", admin_views.account_index, name="donations_admin_accounts"),
    path("settings/<int:campaign_id>/", admin_views.account, name="donations_admin_account"),
]

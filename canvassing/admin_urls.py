"""Field campaigns in the Wagtail admin, under /admin/canvassing/."""

from django.urls import path

from canvassing import admin_views as v

urlpatterns = [
    path("", v.index, name="canvassing_index"),
    path("new/", v.create, name="canvassing_create"),
    path("<int:pk>/", v.detail, name="canvassing_detail"),
    path("<int:pk>/edit/", v.edit, name="canvassing_edit"),
    path("<int:pk>/map.json", v.map_data, name="canvassing_map_data"),
    path("<int:pk>/rebuild/", v.rebuild, name="canvassing_rebuild"),
    path("<int:pk>/cut/", v.cut, name="canvassing_cut"),
    path("<int:pk>/move/", v.move, name="canvassing_move"),
    path("<int:pk>/turf/<int:turf_id>/assign/", v.assign, name="canvassing_assign"),
    path("<int:pk>/turf/<int:turf_id>/split/", v.split, name="canvassing_split"),
    path("<int:pk>/turf/<int:turf_id>/merge/", v.merge, name="canvassing_merge"),
    path("<int:pk>/turf/<int:turf_id>/walk-list.pdf", v.walk_list, name="canvassing_pdf"),
    path("<int:pk>/flag/<int:flag_id>/", v.review, name="canvassing_review"),
    path("phone/new/", v.phone_create, name="canvassing_phone_create"),
    path("phone/<int:pk>/", v.phone_detail, name="canvassing_phone_detail"),
    path("phone/<int:pk>/edit/", v.phone_edit, name="canvassing_phone_edit"),
]

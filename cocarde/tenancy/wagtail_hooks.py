from wagtail import hooks
from wagtail.permissions import register_permission_policy

from cocarde.tenancy.admin_policies import CampaignPermissionPolicy, StaffRolePermissionPolicy
from cocarde.tenancy.dashboard import CampaignsPanel
from cocarde.tenancy.models import Campaign, StaffRole
from cocarde.tenancy.views import CampaignViewSet, StaffRoleViewSet

register_permission_policy(Campaign, CampaignPermissionPolicy())
register_permission_policy(StaffRole, StaffRolePermissionPolicy())


@hooks.register("register_admin_viewset")
def register_campaign_viewsets() -> list[object]:
    return [CampaignViewSet("campaign"), StaffRoleViewSet("staffrole")]


@hooks.register("construct_homepage_panels")
def add_campaign_panels(request: object, panels: list[object]) -> None:
    panels.insert(0, CampaignsPanel(request))

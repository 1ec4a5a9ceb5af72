"""Territory intelligence: custom data layers, forecasts per bureau de vote and vote transfers.

Lawful by construction: every model output is stored per bureau (a `territory.Zone`), never per
person; no model here refers to `crm.Person`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from territory.models import Address, ElectionRound, Zone


class Layer(models.Model):
    """A campaign's own data on the map: social-housing buildings, markets, schools..."""

    class Geometry(models.TextChoices):
        POINTS = "points", _("Points")
        AREAS = "areas", _("Areas")
        MIXED = "mixed", _("Points and areas")

    campaign = models.ForeignKey(
        "tenancy.Campaign",
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="layers",
        help_text=_("Empty: a national layer, seen by every campaign."),
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    color = models.CharField(_("colour"), max_length=7, default="#6a3d9a")
    geometry = models.CharField(
        _("geometry"), max_length=10, choices=Geometry.choices, default=Geometry.POINTS
    )
    source_name = models.CharField(_("source file"), max_length=255, blank=True)
    fields = models.JSONField(_("fields"), default=list, blank=True)
    feature_count = models.PositiveIntegerField(_("features"), default=0)
    unplaced = models.JSONField(_("rows that could not be placed"), default=list, blank=True)
    imported_at = models.DateTimeField(_("imported"), auto_now=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("data layer")
        verbose_name_plural = _("data layers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "name"], name="layer_unique_name", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return self.name


class LayerFeature(models.Model):
    """One row of the imported file: a point (an address or coordinates) or an area."""

    layer = models.ForeignKey(
        Layer, verbose_name=_("layer"), on_delete=models.CASCADE, related_name="features"
    )
    row = models.PositiveIntegerField(_("row"))
    label = models.CharField(_("label"), max_length=300, blank=True)
    properties = models.JSONField(_("fields"), default=dict, blank=True)
    geometry = models.JSONField(_("geometry"))  # GeoJSON, WGS84
    lon = models.FloatField(_("longitude"))  # the point, or the area's centroid
    lat = models.FloatField(_("latitude"))
    precision = models.CharField(_("precision"), max_length=20, blank=True)
    bureau = models.ForeignKey(
        Zone, verbose_name=_("polling station"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    iris = models.ForeignKey(
        Zone, verbose_name=_("IRIS"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = _("layer feature")
        verbose_name_plural = _("layer features")
        ordering = ["layer", "row"]

    def __str__(self) -> str:
        return self.label or f"{self.layer_id}:{self.row}"


class LayerAddress(models.Model):
    """A BAN address covered by a layer: the address a row was geocoded to, the nearest address
    of a point, or every address inside an area. People living there match the segment
    criterion; counted per bureau and IRIS."""

    layer = models.ForeignKey(
        Layer, verbose_name=_("layer"), on_delete=models.CASCADE, related_name="addresses"
    )
    address = models.ForeignKey(
        Address, verbose_name=_("address"), on_delete=models.CASCADE, related_name="+"
    )
    # "number|repetition|street|" as crm.normalize.address_key starts, and the postcode it ends by.
    household_prefix = models.CharField(max_length=300, db_index=True)
    postcode = models.CharField(max_length=10)

    class Meta:
        verbose_name = _("layer address")
        verbose_name_plural = _("layer addresses")
        constraints = [
            models.UniqueConstraint(fields=["layer", "address"], name="layeraddress_unique")
        ]

    def __str__(self) -> str:
        return f"{self.layer_id}:{self.address_id}"


class LayerZoneFigure(models.Model):
    """A layer aggregated over one bureau or IRIS: its features, and the share of the zone's
    BAN addresses it covers."""

    layer = models.ForeignKey(
        Layer, verbose_name=_("layer"), on_delete=models.CASCADE, related_name="zone_figures"
    )
    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), on_delete=models.CASCADE, related_name="+"
    )
    features = models.PositiveIntegerField(_("features"))
    addresses = models.PositiveIntegerField(_("addresses covered"))
    zone_addresses = models.PositiveIntegerField(_("addresses of the zone"))

    class Meta:
        verbose_name = _("layer figure")
        verbose_name_plural = _("layer figures")
        constraints = [
            models.UniqueConstraint(fields=["layer", "zone"], name="layerzonefigure_unique")
        ]

    def __str__(self) -> str:
        return f"{self.layer_id}:{self.zone_id}"

    @property
    def share(self) -> float | None:
        return self.addresses / self.zone_addresses if self.zone_addresses else None


class Forecast(models.Model):
    """A forecast per bureau of the campaign's territory for one upcoming election."""

    campaign = models.ForeignKey(
        "tenancy.Campaign", verbose_name=_("campaign"), on_delete=models.CASCADE,
        related_name="forecasts",
    )  # fmt: skip
    name = models.CharField(_("name"), max_length=200)
    election_kind = models.CharField(_("kind of election"), max_length=20)
    round_number = models.PositiveSmallIntegerField(_("round"), default=1)
    nuances = models.JSONField(_("nuances whose share is forecast"), default=list, blank=True)
    candidate_names = models.JSONField(_("candidates whose share is forecast"), default=list,
                                       blank=True)  # fmt: skip
    use_insee = models.BooleanField(_("use INSEE indicators"), default=True)
    layers = models.ManyToManyField(Layer, verbose_name=_("layers used"), blank=True,
                                    related_name="+")  # fmt: skip
    use_field_results = models.BooleanField(_("use our aggregated field results"), default=True)
    # Votes to win = registered x predicted abstention x reachable share [x predicted share].
    reachable_share = models.FloatField(_("share of abstainers we can reach"), default=0.1)
    lean_weighted = models.BooleanField(
        _("count only abstainers leaning our way (x predicted share)"), default=False
    )
    expected_turnout = models.FloatField(_("expected overall turnout"), null=True, blank=True)
    # Computed: summary, backtest and features' effects (see services.forecasting).
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    computed_at = models.DateTimeField(_("computed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = _("forecast")
        verbose_name_plural = _("forecasts")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class BureauForecast(models.Model):
    """The forecast of one bureau: turnout, share, their intervals, the backtest error and the
    votes to win. Per bureau, never per person."""

    forecast = models.ForeignKey(
        Forecast, verbose_name=_("forecast"), on_delete=models.CASCADE, related_name="bureaux"
    )
    bureau = models.ForeignKey(
        Zone, verbose_name=_("polling station"), on_delete=models.CASCADE, related_name="+"
    )
    registered = models.PositiveIntegerField(_("registered voters"))
    turnout = models.FloatField(_("forecast turnout"))
    turnout_low = models.FloatField()
    turnout_high = models.FloatField()
    naive_turnout = models.FloatField(_("last comparable turnout"), null=True)
    share = models.FloatField(_("forecast share"), null=True)
    share_low = models.FloatField(null=True)
    share_high = models.FloatField(null=True)
    naive_share = models.FloatField(_("last comparable share"), null=True)
    backtest_turnout_error = models.FloatField(null=True)
    backtest_share_error = models.FloatField(null=True)
    votes_to_win = models.FloatField(_("votes to win"))
    rank = models.PositiveIntegerField(_("rank"))

    class Meta:
        verbose_name = _("polling station forecast")
        verbose_name_plural = _("polling station forecasts")
        ordering = ["forecast", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["forecast", "bureau"], name="bureauforecast_unique")
        ]

    def __str__(self) -> str:
        return f"{self.forecast_id}:{self.bureau_id}"


class TransferStudy(models.Model):
    """Where the voters of one round went at another: ecological inference over bureaux."""

    campaign = models.ForeignKey(
        "tenancy.Campaign", verbose_name=_("campaign"), on_delete=models.CASCADE,
        related_name="transfer_studies",
    )  # fmt: skip
    source_round = models.ForeignKey(
        ElectionRound, verbose_name=_("from"), on_delete=models.CASCADE, related_name="+"
    )
    target_round = models.ForeignKey(
        ElectionRound, verbose_name=_("to"), on_delete=models.CASCADE, related_name="+"
    )
    result = models.JSONField(_("result"), default=dict)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = _("vote transfer study")
        verbose_name_plural = _("vote transfer studies")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.source_round_id} -> {self.target_round_id}"

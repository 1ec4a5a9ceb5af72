"""Territory reference data: zones, elections and their results, INSEE figures, addresses."""

from territory.models.addresses import Address, BureauAddress
from territory.models.elections import Candidacy, Election, ElectionRound
from territory.models.imports import TerritoryImport
from territory.models.people import PersonLocation
from territory.models.results import BureauResult, CandidateVotes
from territory.models.statistics import BureauIrisWeight, ZoneFigure
from territory.models.zones import Zone

__all__ = [
    "Address",
    "BureauAddress",
    "BureauIrisWeight",
    "BureauResult",
    "Candidacy",
    "CandidateVotes",
    "Election",
    "ElectionRound",
    "PersonLocation",
    "TerritoryImport",
    "Zone",
    "ZoneFigure",
]

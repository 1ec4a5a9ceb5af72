"""Offline geocoding of French addresses against the BAN addresses we imported.

from territory.geocoding import Geocoder, AddressQuery, geocode

geocoder = Geocoder()  # one per batch: it loads each commune's addresses once
result = geocoder.geocode(AddressQuery(number="42 bis", street="r. Pasteur", postcode="41400"))
if result:
    result.lon, result.lat, result.precision, result.bureau_code, result.iris_code
"""

from territory.geocoding.engine import AddressQuery, Geocoder, GeocodeResult, Precision, geocode
from territory.geocoding.normalise import normalise_street, split_number

__all__ = [
    "AddressQuery",
    "GeocodeResult",
    "Geocoder",
    "Precision",
    "geocode",
    "normalise_street",
    "split_number",
]

"""Street names and house numbers reduced to the keys the geocoder compares.

"Av. du Général de Gaulle", "avenue Gal De-Gaulle" and "AVENUE DU GENERAL DE GAULLE" all become
"avenue general gaulle": accents, case and punctuation go, abbreviations are spelled out, and
articles (de, du, la, l'...) are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

STREET_TYPES = {
    "allee", "avenue", "boulevard", "chemin", "cite", "clos", "cours", "domaine", "esplanade",
    "faubourg", "hameau", "impasse", "lieu dit", "lotissement", "montee", "parvis", "passage",
    "place", "placette", "promenade", "quai", "quartier", "residence", "route", "rue", "ruelle",
    "sentier", "square", "terrasse", "traverse", "villa", "voie", "carrefour", "rond point",
    "zone", "chaussee", "cour", "venelle", "mail", "galerie",
}  # fmt: skip

ABBREVIATIONS = {
    # street types
    "all": "allee", "al": "allee", "av": "avenue", "ave": "avenue", "avn": "avenue",
    "bd": "boulevard", "bld": "boulevard", "blvd": "boulevard", "bvd": "boulevard",
    "boul": "boulevard", "ch": "chemin", "che": "chemin", "chem": "chemin", "cit": "cite",
    "crs": "cours", "dom": "domaine", "espl": "esplanade", "fg": "faubourg", "fbg": "faubourg",
    "ham": "hameau", "imp": "impasse", "ld": "lieu dit", "lot": "lotissement", "mte": "montee",
    "pas": "passage", "pass": "passage", "pl": "place", "plc": "place", "pce": "place",
    "prom": "promenade", "qu": "quai", "qua": "quai", "r": "rue", "res": "residence",
    "resid": "residence", "rte": "route", "sen": "sentier", "sq": "square", "tsse": "terrasse",
    "trav": "traverse", "vla": "villa", "carr": "carrefour", "rpt": "rond point",
    "rdpt": "rond point", "za": "zone artisanale", "zi": "zone industrielle", "chs": "chaussee",
    # titles and saints
    "st": "saint", "ste": "sainte", "sts": "saints", "gal": "general", "gen": "general",
    "gl": "general", "mal": "marechal", "mar": "marechal", "pdt": "president",
    "pres": "president", "dr": "docteur", "doct": "docteur", "prof": "professeur",
    "cdt": "commandant", "cmdt": "commandant", "cne": "capitaine", "cap": "capitaine",
    "lt": "lieutenant", "col": "colonel", "adj": "adjudant", "sgt": "sergent", "abb": "abbe",
    "mgr": "monseigneur", "nd": "notre dame", "vx": "vieux", "gd": "grand", "gde": "grande",
    "pt": "petit", "pte": "petite", "fr": "freres",
}  # fmt: skip

ARTICLES = {"de", "du", "des", "la", "le", "les", "l", "d", "au", "aux", "et", "a", "en"}
REPETITIONS = {
    "b": "bis", "bis": "bis", "t": "ter", "ter": "ter", "q": "quater", "qua": "quater",
    "quater": "quater", "quinquies": "quinquies", "c": "c", "d": "d", "a": "a",
}  # fmt: skip

_SEPARATORS = re.compile(r"[^a-z0-9]+")
_NUMBER = re.compile(
    r"^\s*(\d{1,5})\s*-?\s*(bis|ter|quater|quinquies|[a-h](?![.\w'’]))?\b\s*(.*)$", re.I
)


def _ascii(value: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c)
    ).lower()


@lru_cache(maxsize=65536)
def normalise_street(name: str) -> str:
    """The comparison key of a street name (see the module docstring)."""
    tokens = _SEPARATORS.sub(" ", _ascii(name)).split()
    expanded: list[str] = []
    for index, token in enumerate(tokens):
        # "r" and "l" are only abbreviations in first position ("r. Pasteur"), not in "l'Eglise".
        if token in ABBREVIATIONS and (len(token) > 1 or index == 0):
            expanded.extend(ABBREVIATIONS[token].split())
        else:
            expanded.append(token)
    kept = [t for t in expanded if t not in ARTICLES]
    return " ".join(kept or expanded)


def without_street_type(key: str) -> str:
    """'rue victor hugo' -> 'victor hugo', so a street given without its type still matches."""
    for street_type in sorted(STREET_TYPES, key=len, reverse=True):
        if key.startswith(street_type + " "):
            return key[len(street_type) + 1 :]
    return key


def normalise_repetition(value: str | None) -> str:
    """'B', 'bis', 'Bis' -> 'bis'; 'ter' -> 'ter'; other letters kept ('a', 'c')."""
    if not value:
        return ""
    key = _ascii(value).strip(" .")
    return REPETITIONS.get(key, key)


def split_number(value: str | int | None) -> tuple[int | None, str, str]:
    """'42 bis' -> (42, 'bis', ''); '12B' -> (12, 'bis', ''); '3 rue X' -> (3, '', 'rue X')."""
    if value is None:
        return None, "", ""
    if isinstance(value, int):
        return value, "", ""
    match = _NUMBER.match(value)
    if not match:
        return None, "", value.strip()
    return int(match.group(1)), normalise_repetition(match.group(2)), match.group(3).strip(" ,")

"""Election results per bureau de vote, in the three layouts the Ministry and data.gouv.fr use.

- classic: 2017-2022 files, often Latin-1. Fixed bureau columns, then one block of candidate
  columns per candidate; only the first block is named.
- numbered: 2024+ files, UTF-8. Candidate columns are numbered ("Numéro de panneau 1", "Voix 1",
  "Nuance candidat 1"...), percentages look like "71,74%".
- long: one row per candidate (bureau totals repeated on each row), or data.gouv.fr's pair of
  tables, general results (one row per bureau) and candidate results (one row per candidate).

Percentages are never read: they are recomputed from the counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from territory.formats import codes
from territory.formats.common import (
    FormatError,
    normalise_header,
    parse_int,
    read_rows,
    strip_accents,
)


@dataclass
class ParsedCandidate:
    panel_number: int | None
    last_name: str
    first_name: str
    sex: str
    nuance: str | None
    list_label: str | None
    votes: int

    @property
    def key(self) -> str:
        """Identity within a round: same panel and same name in every bureau. Panel numbers
        alone are not enough: they restart in each commune (municipales) or constituency."""
        names = "|".join(
            strip_accents(part).upper().strip() for part in (self.last_name, self.first_name)
        )
        if not self.last_name and not self.first_name:
            names = strip_accents(self.list_label or "").upper().strip()
        panel = "" if self.panel_number is None else str(self.panel_number)
        return f"{panel}|{names}"[:250]


@dataclass
class ParsedBureau:
    line: int
    departement_code: str
    commune_code: str
    commune_name: str
    bureau_code: str
    circonscription_code: str | None = None
    registered: int | None = None
    abstentions: int | None = None
    voters: int | None = None
    blank: int | None = None
    null: int | None = None
    expressed: int | None = None
    candidates: list[ParsedCandidate] = field(default_factory=list)

    @property
    def zone_code(self) -> str:
        return codes.bureau_zone_code(self.commune_code, self.bureau_code)


@dataclass
class ParsedResults:
    layout: str
    encoding: str
    bureaux: list[ParsedBureau]


# Header aliases, normalised (see normalise_header).
DEPT = ("code_du_departement", "code_departement", "code_dpt", "departement")
COMMUNE = ("code_de_la_commune", "code_commune", "code_insee", "commune_code")
COMMUNE_NAME = ("libelle_de_la_commune", "libelle_commune", "nom_commune", "commune")
CIRCO = (
    "code_de_la_circonscription",
    "code_circonscription",
    "code_circonscription_legislative",
)
BUREAU = (
    "code_du_b_vote",
    "code_b_vote",
    "code_bv",
    "code_du_bureau_de_vote",
    "code_bureau_de_vote",
    "bureau_de_vote",
    "num_bureau",
)
BUREAU_ID = ("id_brut_miom", "id_bv", "id_brut_bv")
ELECTION_ID = ("id_election",)
TOTALS = {
    "registered": ("inscrits",),
    "abstentions": ("abstentions",),
    "voters": ("votants",),
    "blank": ("blancs",),
    "null": ("nuls",),
    "expressed": ("exprimes",),
}
CANDIDATE_FIELDS = {
    "panel": ("n_panneau", "n_pan", "n_liste", "numero_de_panneau", "numero_panneau", "panneau"),
    "sex": ("sexe", "sexe_candidat"),
    "last_name": ("nom", "nom_candidat", "nom_tete_de_liste", "nom_tete_liste"),
    "first_name": ("prenom", "prenom_candidat", "prenom_tete_de_liste", "prenom_tete_liste"),
    "nuance": ("nuance", "code_nuance", "nuance_candidat", "nuance_liste", "nuance_de_liste"),
    "list_label": (
        "liste",
        "libelle_abrege_de_liste",
        "libelle_abrege_liste",
        "libelle_de_liste",
        "libelle_liste",
        "nom_liste",
    ),
    "votes": ("voix",),
}
# A candidate block of the classic layout starts with one of these columns.
BLOCK_START = ("n_panneau", "n_pan", "n_liste", "code_nuance", "numero_de_panneau")
NUMBERED = re.compile(r"^(?P<base>.+?)_(?P<n>\d+)$")


def _index(header: Sequence[str], aliases: Iterable[str]) -> int | None:
    for alias in aliases:
        if alias in header:
            return header.index(alias)
    return None


def _sex(raw: str) -> str:
    value = strip_accents(raw).strip().upper()
    if value in {"M", "MASCULIN", "H", "HOMME"}:
        return "M"
    if value in {"F", "FEMININ", "FEMME"}:
        return "F"
    return ""


def _optional_text(raw: str | None) -> str | None:
    """Empty nuances and list labels are NULL, never ''."""
    if raw is None:
        return None
    value = raw.strip()
    return value or None


def _candidate(values: dict[str, str], *, line: int, suffix: str = "") -> ParsedCandidate | None:
    if not any(v.strip() for v in values.values()):
        return None
    votes = parse_int(values.get("votes", ""), line=line, field=_("Votes") + suffix)
    panel = parse_int(values.get("panel", ""), line=line, field=_("Panel") + suffix, required=False)
    candidate = ParsedCandidate(
        panel_number=panel,
        last_name=values.get("last_name", "").strip(),
        first_name=values.get("first_name", "").strip(),
        sex=_sex(values.get("sex", "")),
        nuance=_optional_text(values.get("nuance")),
        list_label=_optional_text(values.get("list_label")),
        votes=votes or 0,
    )
    if not (candidate.last_name or candidate.list_label or candidate.panel_number is not None):
        raise FormatError(_("a candidate has no name, list or panel number"), line=line)
    return candidate


class _Columns:
    """Where the bureau columns are in one file's header."""

    def __init__(self, header: list[str]):
        self.header = header
        self.dept = _index(header, DEPT)
        self.commune = _index(header, COMMUNE)
        self.commune_name = _index(header, COMMUNE_NAME)
        self.circo = _index(header, CIRCO)
        self.bureau = _index(header, BUREAU)
        self.bureau_id = _index(header, BUREAU_ID)
        self.election_id = _index(header, ELECTION_ID)
        self.totals = {name: _index(header, aliases) for name, aliases in TOTALS.items()}
        if self.bureau is None and self.bureau_id is None:
            raise FormatError(
                _(
                    "no polling station column "
                    "(expected “Code du b.vote”, “Code BV” or “id_brut_miom”)"
                ),
                line=1,
            )
        if self.commune is None and self.bureau_id is None:
            raise FormatError(_("no commune column (expected “Code de la commune”)"), line=1)

    @property
    def has_totals(self) -> bool:
        return self.totals["registered"] is not None

    def parse_bureau(self, fields: list[str], line: int) -> ParsedBureau:
        def get(index: int | None) -> str:
            return fields[index] if index is not None and index < len(fields) else ""

        if self.commune is not None and self.dept is not None:
            dept, insee = codes.commune_code(
                get(self.dept), get(self.commune), line=line, field=self.header[self.commune]
            )
        elif self.commune is not None and len(get(self.commune).strip()) == 5:
            insee = get(self.commune).strip().upper()
            dept = insee[:3] if insee.startswith("97") else insee[:2]
        else:
            insee = ""
            dept = ""
        if self.bureau is not None:
            bureau = codes.bureau_code(get(self.bureau), line=line, field=self.header[self.bureau])
        else:
            raw_id = get(self.bureau_id)
            commune_part, _sep, bureau_part = raw_id.strip().partition("_")
            if not bureau_part:
                raise FormatError(
                    _("“%(value)s” is not a polling station id (commune_bureau)")
                    % {"value": raw_id},
                    line=line,
                    field="id_brut_miom",
                )
            bureau = codes.bureau_code(bureau_part, line=line, field="id_brut_miom")
            if not insee:
                insee = commune_part.upper().zfill(5)
                dept = insee[:3] if insee.startswith("97") else insee[:2]
        circo = None
        if self.circo is not None:
            circo = codes.circonscription_code(
                dept, get(self.circo), line=line, field=self.header[self.circo]
            )
        parsed = ParsedBureau(
            line=line,
            departement_code=dept,
            commune_code=insee,
            commune_name=get(self.commune_name).strip(),
            bureau_code=bureau,
            circonscription_code=circo,
        )
        for name, index in self.totals.items():
            if index is not None:
                label = self.header[index]
                setattr(
                    parsed,
                    name,
                    parse_int(
                        get(index),
                        line=line,
                        field=label,
                        required=name in {"registered", "voters", "expressed"},
                    ),
                )
        return parsed


def _parse_classic(
    header: list[str], rows: list[tuple[int, list[str]]], columns: _Columns
) -> list[ParsedBureau]:
    start = next(i for i, name in enumerate(header) if name in BLOCK_START)
    block = header[start:]
    width = len(block)
    mapping: dict[int, str] = {}
    for offset, name in enumerate(block):
        for field_name, aliases in CANDIDATE_FIELDS.items():
            if name in aliases and field_name not in mapping.values():
                mapping[offset] = field_name
    if "votes" not in mapping.values():
        raise FormatError(_("the candidate block has no “Voix” column"), line=1)
    bureaux = []
    for line, fields in rows:
        bureau = columns.parse_bureau(fields, line)
        rest = fields[start:]
        while rest and not rest[-1].strip():
            rest = rest[:-1]
        for number, offset in enumerate(range(0, len(rest), width), start=1):
            chunk = rest[offset : offset + width]
            values = {mapping[i]: chunk[i] if i < len(chunk) else "" for i in mapping}
            candidate = _candidate(values, line=line, suffix=f" ({_('candidate')} {number})")
            if candidate is None:
                break
            bureau.candidates.append(candidate)
        bureaux.append(bureau)
    return bureaux


def _parse_numbered(
    header: list[str], rows: list[tuple[int, list[str]]], columns: _Columns
) -> list[ParsedBureau]:
    blocks: dict[int, dict[str, int]] = {}
    for index, name in enumerate(header):
        match = NUMBERED.match(name)
        if not match:
            continue
        base, number = match.group("base"), int(match.group("n"))
        for field_name, aliases in CANDIDATE_FIELDS.items():
            if base in aliases:
                blocks.setdefault(number, {})[field_name] = index
    ordered = [blocks[n] for n in sorted(blocks)]
    if not ordered or any("votes" not in block for block in ordered):
        raise FormatError(_("numbered candidate columns need “Voix N” for every N"), line=1)
    bureaux = []
    for line, fields in rows:
        bureau = columns.parse_bureau(fields, line)
        for number, block in zip(sorted(blocks), ordered, strict=True):
            values = {name: fields[i] if i < len(fields) else "" for name, i in block.items()}
            candidate = _candidate(values, line=line, suffix=f" {number}")
            if candidate is None:
                break  # unpivot until the first empty block
            bureau.candidates.append(candidate)
        bureaux.append(bureau)
    return bureaux


def _parse_long(
    header: list[str], rows: list[tuple[int, list[str]]], columns: _Columns
) -> list[ParsedBureau]:
    mapping = {
        name: index
        for name, aliases in CANDIDATE_FIELDS.items()
        if (index := _index(header, aliases)) is not None
    }
    has_candidates = "votes" in mapping
    by_code: dict[str, ParsedBureau] = {}
    for line, fields in rows:
        row = columns.parse_bureau(fields, line)
        bureau = by_code.get(row.zone_code)
        if bureau is None:
            bureau = by_code[row.zone_code] = row
        elif columns.has_totals:
            for name in TOTALS:
                if getattr(row, name) != getattr(bureau, name):
                    raise FormatError(
                        _("the polling station totals differ from line %(first)s")
                        % {"first": bureau.line},
                        line=line,
                        field=name,
                    )
        if has_candidates:
            values = {name: fields[i] if i < len(fields) else "" for name, i in mapping.items()}
            candidate = _candidate(values, line=line)
            if candidate is not None:
                bureau.candidates.append(candidate)
    return list(by_code.values())


def _read_one(path: Path, election_id: str | None) -> tuple[str, str, list[ParsedBureau], bool]:
    raw_header, row_iter, encoding = read_rows(path)
    header = [normalise_header(name) for name in raw_header]
    while header and not header[-1]:
        header.pop()
    columns = _Columns(header)
    rows = list(row_iter)
    if columns.election_id is not None:
        ids = {fields[columns.election_id].strip() for _line, fields in rows}
        if election_id is None and len(ids) > 1:
            raise FormatError(
                _("the file holds several elections (%(ids)s): choose one with --id-election")
                % {"ids": ", ".join(sorted(ids))}
            )
        if election_id is not None:
            rows = [(n, f) for n, f in rows if f[columns.election_id].strip() == election_id]
            if not rows:
                raise FormatError(
                    _("no row has id_election “%(id)s” (found: %(ids)s)")
                    % {"id": election_id, "ids": ", ".join(sorted(ids))}
                )
    if any(NUMBERED.match(name) and name.startswith("numero_de_panneau") for name in header):
        return "numbered", encoding, _parse_numbered(header, rows, columns), columns.has_totals
    if any(name in BLOCK_START for name in header) and any(len(f) > len(header) for _n, f in rows):
        return "classic", encoding, _parse_classic(header, rows, columns), columns.has_totals
    return "long", encoding, _parse_long(header, rows, columns), columns.has_totals


def _check(bureau: ParsedBureau) -> None:
    if bureau.registered is None or bureau.voters is None or bureau.expressed is None:
        raise FormatError(
            _(
                "registered voters, voters and expressed votes are required; for data.gouv.fr's "
                "long tables give the general results file too"
            ),
            line=bureau.line,
        )
    if bureau.abstentions is None:
        bureau.abstentions = bureau.registered - bureau.voters
    if bureau.abstentions + bureau.voters != bureau.registered:
        raise FormatError(
            _("abstentions (%(abstentions)s) + voters (%(voters)s) ≠ registered (%(registered)s)")
            % {
                "abstentions": bureau.abstentions,
                "voters": bureau.voters,
                "registered": bureau.registered,
            },
            line=bureau.line,
        )
    if bureau.expressed > bureau.voters:
        raise FormatError(_("more expressed votes than voters"), line=bureau.line)
    total = sum(c.votes for c in bureau.candidates)
    if bureau.candidates and total != bureau.expressed:
        raise FormatError(
            _("the candidates' votes add up to %(total)s, not the %(expressed)s expressed votes")
            % {"total": total, "expressed": bureau.expressed},
            line=bureau.line,
        )
    keys = [c.key for c in bureau.candidates]
    if len(keys) != len(set(keys)):
        raise FormatError(_("the same candidate appears twice"), line=bureau.line)


def parse_results(paths: Sequence[str | Path], *, election_id: str | None = None) -> ParsedResults:
    """Read one results file (or data.gouv.fr's general + candidates pair) into bureaux."""
    if not paths:
        raise FormatError(_("no file given"))
    merged: dict[str, ParsedBureau] = {}
    layouts, encodings = [], []
    for path in paths:
        layout, encoding, bureaux, has_totals = _read_one(Path(path), election_id)
        layouts.append(layout)
        encodings.append(encoding)
        for bureau in bureaux:
            known = merged.get(bureau.zone_code)
            if known is None:
                if bureau.zone_code in merged:
                    continue
                merged[bureau.zone_code] = bureau
                continue
            if known.candidates and bureau.candidates:
                raise FormatError(
                    _("polling station %(code)s appears twice") % {"code": bureau.zone_code},
                    line=bureau.line,
                )
            if has_totals and known.registered is None:
                for name in TOTALS:
                    setattr(known, name, getattr(bureau, name))
                known.circonscription_code = (
                    known.circonscription_code or bureau.circonscription_code
                )
                known.commune_name = known.commune_name or bureau.commune_name
            elif has_totals:
                raise FormatError(
                    _("polling station %(code)s appears twice") % {"code": bureau.zone_code},
                    line=bureau.line,
                )
            known.candidates.extend(bureau.candidates)
    for bureau in merged.values():
        _check(bureau)
    if not merged:
        raise FormatError(_("the file holds no polling station"))
    return ParsedResults(
        layout="+".join(sorted(set(layouts))),
        encoding="+".join(sorted(set(encodings))),
        bureaux=list(merged.values()),
    )

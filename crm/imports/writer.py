"""The bulk writer: parsed rows go into a staging table (PostgreSQL: `COPY` into an UNLOGGED
table), then a fixed number of set-based SQL statements de-duplicate them, match them against
the base and write people, contact points, registrations, attachments, tags, consents and the
review queue. Python never touches the base row by row, so a 1M-row roll costs a few dozen
statements; SQLite runs the same SQL (only the loading and id reservation differ).

Order of matching, in the file and against the base (see `crm.services.matching`):
external id, email, phone (one owner, first names agreeing), roll identity (birth or usage
name + first names + full birth date, birthplace separating homonyms; partial birth dates only
against people already on the same commune's roll). Uncertain cases go to the review queue.
"""

from __future__ import annotations

import difflib
import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import CharField, TextField
from django.utils import timezone

from crm.imports.rows import INPUT_COLUMNS
from crm.models import (
    CampaignAttachment,
    Consent,
    DuplicateCandidate,
    ImportChange,
    Person,
    Purpose,
)
from crm.normalize import name_key

logger = logging.getLogger(__name__)

# Columns of the staging table filled by the merge, after the parsed ones.
WORK_COLUMNS: tuple[tuple[str, str], ...] = (
    ("grp", "int"),
    ("sig", "text"),
    ("bp_fill", "text"),
    ("m_person", "int"),
    ("m_rule", "int"),
    ("person_id", "int"),
    ("ambiguous", "int"),
)
STAGE_COLUMNS = INPUT_COLUMNS[:2] + (("grp", "int"), ("sig", "text")) + INPUT_COLUMNS[2:]
COPY_COLUMNS = tuple(name for name, _ in STAGE_COLUMNS)

# Person columns an import fills when blank (never overwriting what the base knows).
FILL_COLUMNS = (
    "sex",
    "first_names",
    "birth_name",
    "usage_name",
    "birth_place_code",
    "birth_place_name",
    "birth_department",
    "birth_country",
    "nationality",
    "street_number",
    "street_repetition",
    "street_name",
    "address_complement",
    "locality",
    "postcode",
    "commune_code",
    "commune_name",
)
KEY_COLUMNS = (
    "roll_key",
    "roll_usage_key",
    "last_name_key",
    "first_names_key",
    "address_key",
    "commune_key",
    "search_text",
)
SNAPSHOT_COLUMNS = (
    *FILL_COLUMNS,
    "birth_year",
    "birth_month",
    "birth_day",
    "polling_station_code",
    "member_status",
    "member_since",
    "country",
)

RULE_EXTERNAL_ID, RULE_EMAIL, RULE_PHONE, RULE_ROLL = 1, 2, 3, 4


@dataclass
class MergeOptions:
    run_id: int
    campaign_id: int | None
    is_roll: bool
    is_members: bool
    attach_reason: str
    source_label: str
    external_id_source: str
    tag_ids: list[int] = field(default_factory=list)
    consent_text_ids: dict[str, int] = field(default_factory=dict)  # channel -> ConsentText
    actor_id: int | None = None


_INPUT_NAMES = tuple(name for name, _ in INPUT_COLUMNS)
_EXT, _EMAIL, _PHONE, _PHONE2, _LINK1, _LINK2, _BP, _TAGS, _LIST = (
    _INPUT_NAMES.index(n)
    for n in (
        "ext_value",
        "email",
        "phone",
        "phone2",
        "link1",
        "link2",
        "bp_key",
        "tags",
        "list_type",
    )
)


@dataclass
class StageFlags:
    """What the staged rows contain, so the merge skips what cannot apply."""

    ext: bool = False
    email: bool = False
    phone: bool = False
    link2: bool = False
    partial: bool = False
    bp_missing: bool = False
    tags: bool = False
    registrations: bool = False

    def note(self, row: Sequence[Any]) -> None:
        if row[_EXT]:
            self.ext = True
        if row[_EMAIL]:
            self.email = True
        if row[_PHONE] or row[_PHONE2]:
            self.phone = True
        if row[_LINK2]:
            self.link2 = True
        link1 = row[_LINK1]
        if link1:
            if link1.startswith("P:"):
                self.partial = True
            if not row[_BP]:
                self.bp_missing = True
        if row[_TAGS]:
            self.tags = True
        if row[_LIST]:
            self.registrations = True

    def as_dict(self) -> dict[str, bool]:
        return dict(self.__dict__)


@dataclass
class MergeResult:
    created: int = 0
    updated: int = 0
    duplicates_in_file: int = 0
    to_review: int = 0
    staged: int = 0
    preview: list[dict[str, Any]] = field(default_factory=list)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


# --- staging ---------------------------------------------------------------------------------


class Stage:
    """The staging table of one run. Survives a worker crash (PostgreSQL: unlogged, so fast and
    never replicated), so a resumed run merges without reading the file again."""

    def __init__(self, run_id: int) -> None:
        self.table = f"crm_import_stage_{int(run_id)}"

    def exists(self) -> bool:
        return self.table in connection.introspection.table_names()

    def create(self) -> None:
        self.drop()
        types = {"int": "BIGINT", "text": "TEXT NOT NULL DEFAULT ''"}
        columns = [f"{name} {types[kind]}" for name, kind in STAGE_COLUMNS]
        columns += [
            f"{name} {types[kind]}" for name, kind in WORK_COLUMNS if name not in ("grp", "sig")
        ]
        unlogged = "UNLOGGED " if is_postgres() else ""
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE {unlogged}TABLE {self.table} ({', '.join(columns)})")

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")

    def count(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {self.table}")
            return int(cursor.fetchone()[0])

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        """Append parsed rows (INPUT_COLUMNS order); grp starts as the row's own number."""
        if not rows:
            return
        staged = [(r[0], r[1], r[0], _signature(r), *r[2:]) for r in rows]
        with connection.cursor() as cursor:
            if is_postgres():
                statement = f"COPY {self.table} ({', '.join(COPY_COLUMNS)}) FROM STDIN"
                with cursor.cursor.copy(statement) as copy:
                    for row in staged:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(COPY_COLUMNS))
                cursor.executemany(
                    f"INSERT INTO {self.table} ({', '.join(COPY_COLUMNS)}) VALUES ({marks})",
                    staged,
                )


_SIG_SLICE = slice(2, 39)  # the person-relevant inputs (ids, contacts, identity, address…)


def _signature(row: Sequence[Any]) -> str:
    """Rows with the same signature carry the same facts: a duplicate adds nothing."""
    return format(hash(tuple(row[_SIG_SLICE])) & 0xFFFFFFFFFFFF, "x")


# --- the merge -------------------------------------------------------------------------------


class Merger:
    def __init__(self, stage: Stage, options: MergeOptions, flags: StageFlags) -> None:
        self.t = stage.table
        self.options = options
        self.flags = flags
        self.pg = is_postgres()
        self.now = timezone.now()
        self.base = 0  # new people get id base + grp
        self.result = MergeResult()
        self.timings: dict[str, float] = {}

    # helpers
    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, list(params))
            return cursor.rowcount

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with connection.cursor() as cursor:
            cursor.execute(sql, list(params))
            row = cursor.fetchone()
            return row[0] if row else None

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(sql, list(params))
            return list(cursor.fetchall())

    def least(self, a: str, b: str) -> str:
        return f"LEAST({a}, {b})" if self.pg else f"MIN({a}, {b})"

    def greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})" if self.pg else f"MAX({a}, {b})"

    @property
    def pid(self) -> str:
        """The person a staged row ends on: matched, or the new one of its group."""
        return f"COALESCE(s.person_id, {int(self.base)} + s.grp)"

    # steps
    def reserve_ids(self) -> None:
        """New people take ids base+1 … base+N (N = staged rows); gaps are harmless."""
        if self.pg:
            raise RuntimeError("PostgreSQL ids are reserved by reserve_person_ids()")
        top = self.scalar("SELECT COALESCE(MAX(id), 0) FROM crm_person") or 0
        seq = self.scalar("SELECT seq FROM sqlite_sequence WHERE name = 'crm_person'") or 0
        self.base = max(int(top), int(seq))

    def run(self, *, base: int | None = None, preview: int = 0) -> MergeResult:
        if base is not None:
            self.base = base
        else:
            self.reserve_ids()
        self.result.staged = self.scalar(f"SELECT COUNT(*) FROM {self.t}") or 0
        if not self.result.staged:
            return self.result
        steps = [
            self.resolve_birthplaces,
            self.group,
            self.count_duplicates,
            self.match,
            self.insert_people,
            self.update_people,
            self.insert_contacts,
            self.insert_external_ids,
            self.write_registrations,
            self.insert_attachments,
            self.insert_tags,
            self.insert_consents,
            self.flag_for_review,
            self.refresh_keys,
        ]
        for step in steps:
            started = time.perf_counter()
            step()
            self.timings[step.__name__] = round(time.perf_counter() - started, 3)
        logger.info("import %s merge steps: %s", self.options.run_id, self.timings)
        self.result.updated = (
            ImportChange.objects.filter(run_id=self.options.run_id, person__isnull=False)
            .exclude(model="crm.duplicatecandidate")
            .values("person")
            .distinct()
            .count()
        )
        if preview:
            self.result.preview = self.preview(preview)
        return self.result

    def count_duplicates(self) -> None:
        self.result.duplicates_in_file = (
            self.scalar(f"SELECT COUNT(*) FROM {self.t} WHERE grp <> rownum") or 0
        )

    def resolve_birthplaces(self) -> None:
        """A roll row without birthplace links to the rows of its name and date only when
        they all share one birthplace; with several (homonyms), it is ambiguous."""
        if not self.flags.bp_missing:
            return
        t = self.t
        for column in ("link1", "link2") if self.flags.link2 else ("link1",):
            known = (
                f"SELECT k, MIN(bp_key) AS bp, COUNT(DISTINCT bp_key) AS n FROM ("
                f"SELECT link1 AS k, bp_key FROM {t} WHERE link1 <> '' AND bp_key <> '' "
                f"UNION ALL SELECT link2, bp_key FROM {t} WHERE link2 <> '' AND bp_key <> ''"
                f") x GROUP BY k"
            )
            self.execute(
                f"UPDATE {t} SET bp_fill = CASE WHEN u.n = 1 THEN u.bp ELSE '?' || {t}.rownum END,"
                f" ambiguous = CASE WHEN u.n > 1 THEN 1 ELSE {t}.ambiguous END"
                f" FROM ({known}) u WHERE {t}.bp_key = '' AND {t}.{column} = u.k"
                f" AND {t}.bp_fill = ''"
            )

    def _link(self, column: str, alias: str = "") -> str:
        prefix = f"{alias}." if alias else ""
        return (
            f"{prefix}{column} || '#' || CASE WHEN {prefix}bp_key <> '' THEN {prefix}bp_key "
            f"ELSE {prefix}bp_fill END"
        )

    def group(self) -> None:
        """Connected rows (sharing an id, an email, a phone with first name, or a roll identity
        with a compatible birthplace) form one group: grp = the smallest row number in it."""
        t = self.t
        keys: list[tuple[str, str]] = []  # (expression over alias s, non-empty condition)
        if self.flags.ext:
            keys.append(("s.ext_value", "s.ext_value <> ''"))
        if self.flags.email:
            keys.append(("s.email", "s.email <> ''"))
        if self.flags.phone:
            keys.append(("s.phone || '|' || s.first_token", "s.phone <> ''"))
        roll = [("link1", "s.link1 <> ''")]
        if self.flags.link2:
            roll.append(("link2", "s.link2 <> ''"))
        passes = 0
        while True:
            passes += 1
            changed = 0
            for expression, condition in keys:
                changed += self.execute(
                    f"UPDATE {t} SET grp = m.g FROM (SELECT {expression} AS k, MIN(s.grp) AS g "
                    f"FROM {t} s WHERE {condition} GROUP BY {expression} HAVING COUNT(*) > 1) m "
                    f"WHERE {expression.replace('s.', t + '.')} = m.k AND {t}.grp > m.g"
                )
            union = " UNION ALL ".join(
                f"SELECT {self._link(c, 's')} AS k, s.grp FROM {t} s WHERE {cond}"
                for c, cond in roll
            )
            groups = f"SELECT k, MIN(grp) AS g FROM ({union}) x GROUP BY k HAVING COUNT(*) > 1"
            for column, _condition in roll:
                changed += self.execute(
                    f"UPDATE {t} SET grp = m.g FROM ({groups}) m "
                    f"WHERE {t}.{column} <> '' AND {self._link(column, t)} = m.k "
                    f"AND {t}.grp > m.g"
                )
            single_key = len(keys) + len(roll) == 1
            if not changed or single_key or passes >= 20:
                break

    def match(self) -> None:
        t, o = self.t, self.options
        if self.flags.ext:
            self.execute(
                f"UPDATE {t} SET m_person = e.person_id, m_rule = {RULE_EXTERNAL_ID} "
                f"FROM crm_externalid e WHERE {t}.ext_value <> '' AND e.source = %s "
                f"AND e.value = {t}.ext_value",
                [o.external_id_source],
            )
        if self.flags.email:
            self.execute(
                f"UPDATE {t} SET m_person = e.person_id, m_rule = {RULE_EMAIL} "
                f"FROM crm_emailaddress e WHERE {t}.m_person IS NULL AND {t}.email <> '' "
                f"AND e.email = {t}.email"
            )
        if self.flags.phone:
            owners = (
                "SELECT e164, MIN(person_id) AS person_id FROM crm_phonenumber "
                f"WHERE e164 IN (SELECT phone FROM {t} WHERE phone <> '') "
                "GROUP BY e164 HAVING COUNT(DISTINCT person_id) = 1"
            )
            self.execute(
                f"UPDATE {t} SET m_person = o.person_id, m_rule = {RULE_PHONE} "
                f"FROM ({owners}) o, crm_person p "
                f"WHERE p.id = o.person_id AND {t}.m_person IS NULL AND {t}.phone = o.e164 "
                f"AND ({t}.first_token = '' OR p.first_names_key = '' "
                f"OR p.first_names_key = {t}.first_token "
                f"OR p.first_names_key LIKE {t}.first_token || ' %%')"
            )
        self.match_roll()
        # The group's person: the best-ranked match of any of its rows.
        ranked = (
            f"SELECT grp, m_person, ROW_NUMBER() OVER (PARTITION BY grp ORDER BY m_rule, rownum) "
            f"AS rn FROM {t} WHERE m_person IS NOT NULL"
        )
        self.execute(
            f"UPDATE {t} SET person_id = g.m_person FROM ({ranked}) g "
            f"WHERE g.rn = 1 AND {t}.grp = g.grp"
        )

    def match_roll(self) -> None:
        t = self.t
        self.execute("DROP TABLE IF EXISTS crm_import_candidates")
        temp = "TEMPORARY "
        compat = (
            "CASE WHEN s.birth_place_code <> '' AND p.birth_place_code <> '' THEN "
            "(CASE WHEN s.birth_place_code = p.birth_place_code THEN 1 ELSE 0 END) "
            "WHEN s.birth_place_name = '' OR p.birth_place_name = '' THEN 1 ELSE NULL END"
        )
        joins = []
        for mine, theirs in (
            ("roll_key", "roll_key"),
            ("roll_key", "roll_usage_key"),
            ("roll_usage_key", "roll_key"),
            ("roll_usage_key", "roll_usage_key"),
        ):
            if mine == "roll_usage_key" and not self.flags.link2:
                continue
            joins.append(
                f"SELECT s.rownum, p.id AS person_id, {compat} AS compat, "
                f"s.birth_place_name AS s_name, p.birth_place_name AS p_name "
                f"FROM {t} s JOIN crm_person p ON p.{theirs} = s.{mine} "
                f"WHERE s.m_person IS NULL AND s.{mine} <> ''"
            )
        if self.flags.partial:
            same_month = (
                "(p.birth_month = s.birth_month OR (p.birth_month IS NULL "
                "AND s.birth_month IS NULL))"
            )
            joins.append(
                f"SELECT s.rownum, p.id AS person_id, {compat} AS compat, "
                f"s.birth_place_name AS s_name, p.birth_place_name AS p_name "
                f"FROM {t} s JOIN crm_person p ON p.last_name_key = s.last_name_key "
                f"AND p.first_names_key = s.first_names_key AND p.birth_year = s.birth_year "
                f"AND {same_month} AND p.birth_day IS NULL "
                f"WHERE s.m_person IS NULL AND s.link1 LIKE 'P:%%' AND s.list_commune <> '' "
                f"AND EXISTS (SELECT 1 FROM crm_electoralregistration r WHERE r.person_id = p.id "
                f"AND r.commune_code = s.list_commune)"
            )
        self.execute(f"CREATE {temp}TABLE crm_import_candidates AS " + " UNION ".join(joins))
        # Birthplaces given by name only (2013 layout) are compared here, by their keys.
        unsure = self.rows(
            "SELECT rownum, person_id, s_name, p_name FROM crm_import_candidates "
            "WHERE compat IS NULL"
        )
        if unsure:
            decided = [
                (1 if name_key(s_name) == name_key(p_name) else 0, rownum, person_id)
                for rownum, person_id, s_name, p_name in unsure
            ]
            with connection.cursor() as cursor:
                cursor.executemany(
                    "UPDATE crm_import_candidates SET compat = %s "
                    "WHERE rownum = %s AND person_id = %s",
                    decided,
                )
        self.execute(
            f"UPDATE {t} SET m_person = x.pid, m_rule = {RULE_ROLL} FROM ("
            "SELECT rownum, MIN(person_id) AS pid FROM crm_import_candidates WHERE compat = 1 "
            "GROUP BY rownum HAVING COUNT(*) = 1) x "
            f"WHERE {t}.rownum = x.rownum"
        )
        self.execute(
            f"UPDATE {t} SET ambiguous = 1 WHERE rownum IN ("
            "SELECT rownum FROM crm_import_candidates WHERE compat = 1 "
            "GROUP BY rownum HAVING COUNT(*) > 1)"
        )

    # --- people ------------------------------------------------------------------------------

    def _person_insert_columns(self) -> tuple[list[str], list[str], list[Any]]:
        """(columns, SELECT expressions over alias s, parameters) for new people."""
        o = self.options
        now = self.now
        uuid = "gen_random_uuid()" if self.pg else "lower(hex(randomblob(16)))"
        special: dict[str, tuple[str, list[Any]]] = {
            "id": (f"{int(self.base)} + s.grp", []),
            "uuid": (uuid, []),
            "birth_year": ("s.birth_year", []),
            "birth_month": ("s.birth_month", []),
            "birth_day": ("s.birth_day", []),
            "country": ("CASE WHEN s.country <> '' THEN s.country ELSE 'FR' END", []),
            "polling_station_code": ("s.polling_station_code", []),
            "member_status": ("%s", ["member" if o.is_members else ""]),
            "member_since": (
                "CASE WHEN s.member_since <> '' THEN "
                + ("CAST(s.member_since AS date)" if self.pg else "s.member_since")
                + " ELSE NULL END"
                if o.is_members
                else "NULL",
                [],
            ),
            "first_source": ("%s", [o.source_label[:300]]),
            "first_campaign_id": ("%s", [o.campaign_id]),
            "created_by_import_id": ("%s", [o.run_id]),
            "created_at": ("%s", [now]),
            "updated_at": ("%s", [now]),
        }
        columns: list[str] = []
        expressions: list[str] = []
        params: list[Any] = []
        for model_field in Person._meta.concrete_fields:
            column = str(model_field.column)
            if column in special:
                expression, values = special[column]
            elif column in FILL_COLUMNS or column in KEY_COLUMNS:
                expression, values = f"s.{column}", []
            elif isinstance(model_field, CharField | TextField):
                expression, values = "%s", [model_field.get_default() or ""]
            else:
                expression, values = "NULL", []
            columns.append(column)
            expressions.append(expression)
            params.extend(values)
        return columns, expressions, params

    def insert_people(self) -> None:
        columns, expressions, params = self._person_insert_columns()
        self.result.created = self.execute(
            f"INSERT INTO crm_person ({', '.join(columns)}) SELECT {', '.join(expressions)} "
            f"FROM {self.t} s WHERE s.rownum = s.grp AND s.person_id IS NULL",
            params,
        )

    def update_people(self) -> None:
        """Fill blanks of matched people (and of new people from their duplicates carrying
        more), set what the source is authoritative for, snapshot before changing."""
        t, o = self.t, self.options
        self.execute("DROP TABLE IF EXISTS crm_import_updates")
        # Matched rows, and duplicates that carry more than the row their person came from.
        self.execute(
            "CREATE TEMPORARY TABLE crm_import_updates AS "
            f"SELECT s.*, {self.pid} AS pid, "
            "ROW_NUMBER() OVER (PARTITION BY s.grp ORDER BY s.rownum) AS pass "
            f"FROM {t} s WHERE s.person_id IS NOT NULL UNION ALL "
            f"SELECT s.*, {self.pid} AS pid, "
            "ROW_NUMBER() OVER (PARTITION BY s.grp ORDER BY s.rownum) AS pass "
            f"FROM {t} s JOIN {t} r ON r.rownum = s.grp WHERE s.person_id IS NULL "
            "AND s.rownum <> s.grp AND s.sig <> r.sig"
        )
        fill = [
            f"{c} = CASE WHEN crm_person.{c} = '' THEN u.{c} ELSE crm_person.{c} END"
            for c in FILL_COLUMNS
        ]
        fill.append(
            "birth_year = CASE WHEN crm_person.birth_year IS NULL THEN u.birth_year "
            "ELSE crm_person.birth_year END"
        )
        for part in ("birth_month", "birth_day"):
            fill.append(
                f"{part} = CASE WHEN crm_person.birth_year IS NULL THEN u.{part} "
                f"ELSE crm_person.{part} END"
            )
        changes = [f"(crm_person.{c} = '' AND u.{c} <> '')" for c in FILL_COLUMNS]
        changes.append("(crm_person.birth_year IS NULL AND u.birth_year IS NOT NULL)")
        if o.is_roll:
            fill.append(
                "polling_station_code = CASE WHEN u.polling_station_code <> '' "
                "THEN u.polling_station_code ELSE crm_person.polling_station_code END"
            )
            changes.append(
                "(u.polling_station_code <> '' AND "
                "u.polling_station_code <> crm_person.polling_station_code)"
            )
        if o.is_members:
            since = "CAST(u.member_since AS date)" if self.pg else "u.member_since"
            fill.append("member_status = 'member'")
            fill.append(
                f"member_since = CASE WHEN crm_person.member_since IS NULL AND "
                f"u.member_since <> '' THEN {since} ELSE crm_person.member_since END"
            )
            changes.append("crm_person.member_status <> 'member'")
            changes.append("(crm_person.member_since IS NULL AND u.member_since <> '')")
        fill.append("updated_at = %s")
        changed = " OR ".join(changes)
        json_object = "jsonb_build_object" if self.pg else "json_object"
        snapshot = ", ".join(f"'{c}', crm_person.{c}" for c in SNAPSHOT_COLUMNS)
        passes = self.scalar("SELECT MAX(pass) FROM crm_import_updates") or 0
        for number in range(1, min(int(passes), 5) + 1):
            # Before the first change to a person that existed before this import: its values.
            self.execute(
                "INSERT INTO crm_importchange (run_id, kind, model, row_id, person_id, data) "
                f"SELECT %s, 'snapshot', 'crm.person', crm_person.id, crm_person.id, "
                f"{json_object}({snapshot}) FROM crm_person JOIN crm_import_updates u "
                "ON u.pid = crm_person.id WHERE u.pass = %s AND u.person_id IS NOT NULL "
                "AND (crm_person.created_by_import_id IS NULL "
                "OR crm_person.created_by_import_id <> %s) "
                f"AND ({changed}) AND NOT EXISTS (SELECT 1 FROM crm_importchange c "
                "WHERE c.run_id = %s AND c.kind = 'snapshot' AND c.model = 'crm.person' "
                "AND c.row_id = crm_person.id)",
                [o.run_id, number, o.run_id, o.run_id],
            )
            self.execute(
                f"UPDATE crm_person SET {', '.join(fill)} FROM crm_import_updates u "
                f"WHERE u.pid = crm_person.id AND u.pass = %s AND ({changed})",
                [self.now, number],
            )

    # --- related rows ------------------------------------------------------------------------

    def _track_added(
        self, table: str, model: str, before: int, person_column: str = "person_id"
    ) -> None:
        """Rows this import added to people it did not create: undo deletes them."""
        o = self.options
        self.execute(
            "INSERT INTO crm_importchange (run_id, kind, model, row_id, person_id, data) "
            f"SELECT %s, 'added', %s, x.id, x.{person_column}, '{{}}' FROM {table} x "
            "JOIN crm_person p ON p.id = x." + person_column + " "
            "WHERE x.id > %s AND (p.created_by_import_id IS NULL "
            "OR p.created_by_import_id <> %s)",
            [o.run_id, model, before, o.run_id],
        )

    def _max_id(self, table: str) -> int:
        return int(self.scalar(f"SELECT COALESCE(MAX(id), 0) FROM {table}") or 0)

    def insert_contacts(self) -> None:
        t = self.t
        if self.flags.email:
            before = self._max_id("crm_emailaddress")
            self.execute(
                "INSERT INTO crm_emailaddress (person_id, email, is_primary, status, "
                "suppression_key, created_at) "
                f"SELECT MIN({self.pid}), s.email, %s, 'valid', MIN(s.email_skey), %s "
                f"FROM {t} s WHERE s.email <> '' AND NOT EXISTS (SELECT 1 FROM "
                "crm_emailaddress e WHERE e.email = s.email) GROUP BY s.email",
                [False, self.now],
            )
            self._primary("crm_emailaddress", before)
            self._track_added("crm_emailaddress", "crm.emailaddress", before)
        if self.flags.phone:
            before = self._max_id("crm_phonenumber")
            phones = (
                f"SELECT {self.pid} AS pid, s.phone AS e164, s.phone_kind AS kind, "
                f"s.phone_skey AS skey FROM {t} s WHERE s.phone <> '' "
                f"UNION ALL SELECT {self.pid}, s.phone2, s.phone2_kind, s.phone2_skey "
                f"FROM {t} s WHERE s.phone2 <> ''"
            )
            self.execute(
                "INSERT INTO crm_phonenumber (person_id, e164, kind, is_primary, status, "
                "suppression_key, created_at) "
                "SELECT x.pid, x.e164, MIN(x.kind), %s, 'valid', MIN(x.skey), %s "
                f"FROM ({phones}) x WHERE NOT EXISTS (SELECT 1 FROM crm_phonenumber p "
                "WHERE p.person_id = x.pid AND p.e164 = x.e164) GROUP BY x.pid, x.e164",
                [False, self.now],
            )
            self._primary("crm_phonenumber", before)
            self._track_added("crm_phonenumber", "crm.phonenumber", before)

    def _primary(self, table: str, before: int) -> None:
        """The first contact point of a person without a primary one becomes primary."""
        self.execute(
            f"UPDATE {table} SET is_primary = %s WHERE id IN (SELECT MIN(x.id) FROM {table} x "
            f"WHERE x.person_id IN (SELECT person_id FROM {table} WHERE id > %s) "
            f"GROUP BY x.person_id HAVING MAX(CASE WHEN x.is_primary THEN 1 ELSE 0 END) = 0)",
            [True, before],
        )

    def insert_external_ids(self) -> None:
        if not self.flags.ext:
            return
        o = self.options
        before = self._max_id("crm_externalid")
        self.execute(
            "INSERT INTO crm_externalid (person_id, source, value, campaign_id, created_at) "
            f"SELECT MIN({self.pid}), %s, s.ext_value, CAST(%s AS BIGINT), %s FROM {self.t} s "
            "WHERE s.ext_value <> '' AND NOT EXISTS (SELECT 1 FROM crm_externalid e "
            "WHERE e.source = %s AND e.value = s.ext_value) GROUP BY s.ext_value",
            [o.external_id_source, o.campaign_id, self.now, o.external_id_source],
        )
        self._track_added("crm_externalid", "crm.externalid", before)

    def write_registrations(self) -> None:
        if not self.flags.registrations:
            return
        t, o = self.t, self.options
        entries = (
            f"SELECT {self.pid} AS pid, s.list_type, s.list_commune, "
            "MIN(s.polling_station_code) AS code, MIN(s.polling_station_label) AS label, "
            f"MIN(s.order_number) AS ord FROM {t} s WHERE s.list_type <> '' "
            f"GROUP BY {self.pid}, s.list_type, s.list_commune"
        )
        self.execute("DROP TABLE IF EXISTS crm_import_registrations")
        self.execute(f"CREATE TEMPORARY TABLE crm_import_registrations AS {entries}")
        json_object = "jsonb_build_object" if self.pg else "json_object"
        same = (
            "r.person_id = x.pid AND r.list_type = x.list_type AND r.commune_code = x.list_commune"
        )
        # What the row does not say (an empty label, no order number) is left as it is.
        differs = (
            "((x.code <> '' AND r.polling_station_code <> x.code) "
            "OR (x.label <> '' AND r.polling_station_label <> x.label) "
            "OR (x.ord IS NOT NULL AND COALESCE(r.order_number, -1) <> x.ord))"
        )
        self.execute(
            "INSERT INTO crm_importchange (run_id, kind, model, row_id, person_id, data) "
            f"SELECT %s, 'snapshot', 'crm.electoralregistration', r.id, r.person_id, "
            f"{json_object}('polling_station_code', r.polling_station_code, "
            "'polling_station_label', r.polling_station_label, 'order_number', r.order_number) "
            f"FROM crm_electoralregistration r JOIN crm_import_registrations x ON {same} "
            f"WHERE {differs}",
            [o.run_id],
        )
        r = "crm_electoralregistration"
        self.execute(
            f"UPDATE {r} SET "
            f"polling_station_code = CASE WHEN x.code <> '' THEN x.code "
            f"ELSE {r}.polling_station_code END, "
            f"polling_station_label = CASE WHEN x.label <> '' THEN x.label "
            f"ELSE {r}.polling_station_label END, "
            f"order_number = COALESCE(x.ord, {r}.order_number) "
            f"FROM crm_import_registrations x WHERE {r}.person_id = x.pid "
            f"AND {r}.list_type = x.list_type AND {r}.commune_code = x.list_commune "
            f"AND {differs.replace('r.', r + '.')}"
        )
        before = self._max_id("crm_electoralregistration")
        self.execute(
            "INSERT INTO crm_electoralregistration (person_id, list_type, commune_code, "
            "polling_station_code, polling_station_label, order_number, campaign_id, "
            "imported_at) SELECT x.pid, x.list_type, x.list_commune, x.code, x.label, x.ord, "
            "%s, %s FROM crm_import_registrations x WHERE NOT EXISTS (SELECT 1 FROM "
            f"crm_electoralregistration r WHERE {same})",
            [o.campaign_id, self.now],
        )
        self._track_added("crm_electoralregistration", "crm.electoralregistration", before)

    def insert_attachments(self) -> None:
        o = self.options
        if o.campaign_id is None:
            return
        before = self._max_id("crm_campaignattachment")
        columns = "person_id, campaign_id, reason, detail, first_at, last_at"
        values = [o.campaign_id, o.attach_reason, o.source_label[:300], self.now, self.now]
        # New people: one row per group, nothing to check against.
        self.execute(
            f"INSERT INTO crm_campaignattachment ({columns}) SELECT {int(self.base)} + s.grp, "
            f"%s, %s, %s, %s, %s FROM {self.t} s WHERE s.person_id IS NULL AND s.rownum = s.grp",
            values,
        )
        self.execute(
            f"INSERT INTO crm_campaignattachment ({columns}) SELECT DISTINCT s.person_id, "
            f"%s, %s, %s, %s, %s FROM {self.t} s WHERE s.person_id IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM crm_campaignattachment a WHERE a.person_id = "
            "s.person_id AND a.campaign_id = %s AND a.reason = %s)",
            [*values, o.campaign_id, o.attach_reason],
        )
        self._track_added("crm_campaignattachment", "crm.campaignattachment", before)

    def insert_tags(self) -> None:
        from crm.imports.services import tag_ids_for

        o = self.options
        pairs: list[tuple[int, str]] = [(tag_id, "") for tag_id in o.tag_ids]
        if self.flags.tags:
            names: set[str] = set()
            for (value,) in self.rows(f"SELECT DISTINCT tags FROM {self.t} WHERE tags <> ''"):
                names.update(n for n in str(value).split(",") if n)
            for name, tag_id in tag_ids_for(sorted(names), o.campaign_id).items():
                pairs.append((tag_id, name))
        if not pairs:
            return
        before = self._max_id("crm_persontag")
        for tag_id, name in pairs:
            condition = "1 = 1"
            params: list[Any] = [tag_id, self.now, o.actor_id]
            if name:
                condition = "(',' || s.tags || ',') LIKE %s"
                params.append(f"%,{name},%")
            self.execute(
                "INSERT INTO crm_persontag (person_id, tag_id, added_at, added_by_id) "
                f"SELECT DISTINCT {self.pid}, %s, %s, CAST(%s AS BIGINT) FROM {self.t} s "
                f"WHERE {condition} "
                "AND NOT EXISTS (SELECT 1 FROM crm_persontag x WHERE x.person_id = "
                f"{self.pid} AND x.tag_id = %s)",
                [*params, tag_id],
            )
        self._track_added("crm_persontag", "crm.persontag", before)

    def insert_consents(self) -> None:
        """Consent declared for the whole file (never for a roll), refused where an opt-out
        applies: an import never overrides a suppression."""
        o = self.options
        if not o.consent_text_ids or o.campaign_id is None:
            return
        before = self._max_id("crm_consent")
        for channel, text_id in o.consent_text_ids.items():
            column, skey = (
                ("email", "email_skey") if channel == "email" else ("phone", "phone_skey")
            )
            self.execute(
                "INSERT INTO crm_consent (person_id, campaign_id, channel, purpose, text_id, "
                "given_at, source_kind, source_detail, confirmation_required, confirmed_at, "
                "withdrawn_at, withdrawal_source) "
                f"SELECT DISTINCT {self.pid}, %s, %s, %s, %s, %s, %s, %s, %s, NULL, NULL, '' "
                f"FROM {self.t} s WHERE s.{column} <> '' AND NOT EXISTS (SELECT 1 FROM "
                f"crm_suppression x WHERE x.key_hash = s.{skey} AND (x.campaign_id IS NULL "
                "OR x.campaign_id = %s) AND (x.channel = '' OR x.channel = %s)) AND NOT EXISTS ("
                f"SELECT 1 FROM crm_consent c WHERE c.person_id = {self.pid} AND "
                "c.campaign_id = %s AND c.channel = %s AND c.purpose = %s "
                "AND c.withdrawn_at IS NULL)",
                [
                    o.campaign_id,
                    channel,
                    Purpose.NEWS,
                    text_id,
                    self.now,
                    Consent.SourceKind.IMPORT,
                    o.source_label[:500],
                    False,
                    o.campaign_id,
                    channel,
                    o.campaign_id,
                    channel,
                    Purpose.NEWS,
                ],
            )
        self._track_added("crm_consent", "crm.consent", before)

    # --- review queue ------------------------------------------------------------------------

    def flag_for_review(self) -> None:
        t = self.t
        pairs: list[str] = []
        # A row whose name and birth date fit several people (homonyms, birthplace unknown).
        pairs.append(
            f"SELECT {self.pid} AS a, c.person_id AS b, '{DuplicateCandidate.Reason.NAME_BIRTH}' "
            f"AS reason FROM {t} s JOIN crm_import_candidates c ON c.rownum = s.rownum "
            "WHERE s.ambiguous = 1 AND c.compat = 1"
        )
        # Rows of the file ambiguous between homonyms of the same file.
        if self.flags.bp_missing:
            pairs.append(
                f"SELECT {self.pid} AS a, COALESCE(o.person_id, {int(self.base)} + o.grp) AS b, "
                f"'{DuplicateCandidate.Reason.NAME_BIRTH}' AS reason FROM {t} s JOIN {t} o "
                "ON o.link1 = s.link1 AND o.bp_key <> '' WHERE s.ambiguous = 1 "
                "AND s.bp_key = '' AND s.link1 <> ''"
            )
        # One group of rows matching several people: one row says A, another says B.
        pairs.append(
            f"SELECT {self.pid} AS a, s.m_person AS b, "
            f"'{DuplicateCandidate.Reason.IMPORT_CONFLICT}' AS reason FROM {t} s "
            "WHERE s.m_person IS NOT NULL AND s.m_person <> s.person_id"
        )
        union = " UNION ".join(pairs)
        before = self._max_id("crm_duplicatecandidate")
        self.execute(
            "INSERT INTO crm_duplicatecandidate (person_a_id, person_b_id, reason, status, "
            "created_at, resolved_at, resolved_by_id) "
            f"SELECT {self.least('x.a', 'x.b')}, {self.greatest('x.a', 'x.b')}, MIN(x.reason), "
            f"'open', %s, NULL, NULL FROM ({union}) x WHERE x.a <> x.b AND NOT EXISTS ("
            "SELECT 1 FROM crm_duplicatecandidate d WHERE d.person_a_id = "
            f"{self.least('x.a', 'x.b')} AND d.person_b_id = {self.greatest('x.a', 'x.b')}) "
            f"GROUP BY {self.least('x.a', 'x.b')}, {self.greatest('x.a', 'x.b')}",
            [self.now],
        )
        if not self.options.is_roll:
            self.flag_typos(before)
        self._track_added("crm_duplicatecandidate", "crm.duplicatecandidate", before, "person_a_id")
        mine = f"SELECT {self.pid} FROM {t} s"
        self.result.to_review = int(
            self.scalar(
                f"SELECT COUNT(*) FROM (SELECT person_a_id AS p FROM crm_duplicatecandidate "
                f"WHERE id > %s UNION SELECT person_b_id FROM crm_duplicatecandidate "
                f"WHERE id > %s) x WHERE x.p IN ({mine})",
                [before, before],
            )
            or 0
        )

    def flag_typos(self, before: int) -> None:
        """New people of a table import whose name is close to someone born the same day:
        likely a typo, for a human to look at."""
        t = self.t
        candidates = self.rows(
            "SELECT n.id, n.last_name_key, n.first_names_key, p.id, p.last_name_key, "
            "p.first_names_key FROM crm_person n JOIN crm_person p ON "
            "p.birth_year = n.birth_year AND p.birth_month = n.birth_month AND "
            "p.birth_day = n.birth_day AND p.id <> n.id AND "
            "(p.first_names_key = n.first_names_key OR p.last_name_key = n.last_name_key) "
            "WHERE n.created_by_import_id = %s AND n.birth_day IS NOT NULL "
            f"AND n.id IN (SELECT {int(self.base)} + grp FROM {t} WHERE person_id IS NULL)",
            [self.options.run_id],
        )
        found = []
        for new_id, new_last, new_first, other_id, other_last, other_first in candidates:
            if new_last == other_last and new_first == other_first:
                continue  # same name and date: the birthplace rule decided already
            if _similar(new_last, other_last) and _similar(new_first, other_first):
                found.append((min(new_id, other_id), max(new_id, other_id)))
        rows = [
            DuplicateCandidate(
                person_a_id=a, person_b_id=b, reason=DuplicateCandidate.Reason.SIMILAR_NAME
            )
            for a, b in sorted(set(found))
        ]
        DuplicateCandidate.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)

    # --- keys --------------------------------------------------------------------------------

    def refresh_keys(self) -> None:
        """Keys depend on names, address and contact points: recompute them (in Python, the
        same code as every other path) for the people whose values changed."""
        t, o = self.t, self.options
        ids = {
            row[0]
            for row in self.rows(
                "SELECT DISTINCT person_id FROM crm_importchange WHERE run_id = %s "
                "AND person_id IS NOT NULL AND model IN ('crm.person', 'crm.emailaddress', "
                "'crm.phonenumber')",
                [o.run_id],
            )
        }
        ids |= {
            row[0]
            for row in self.rows(
                f"SELECT DISTINCT {self.pid} FROM {t} s JOIN {t} r ON r.rownum = s.grp "
                "WHERE s.rownum <> s.grp AND s.sig <> r.sig"
            )
        }
        refresh_person_keys(sorted(ids))

    def preview(self, limit: int) -> list[dict[str, Any]]:
        t = self.t
        rows = self.rows(
            f"SELECT s.line, s.rownum, s.grp, s.person_id, {self.pid} FROM {t} s "
            f"ORDER BY s.rownum LIMIT {int(limit)}"
        )
        people = Person.objects.in_bulk([r[4] for r in rows])
        out = []
        for line, rownum, grp, matched, pid in rows:
            person = people.get(pid)
            if person is None:
                continue
            outcome = "duplicate" if rownum != grp else ("updated" if matched else "created")
            emails = list(person.emails.values_list("email", flat=True))
            phones = list(person.phones.values_list("e164", flat=True))
            out.append(
                {
                    "line": line,
                    "outcome": outcome,
                    "first_names": person.first_names,
                    "birth_name": person.birth_name,
                    "usage_name": person.usage_name,
                    "birth_date": person.birth_date.display(),
                    "email": emails[0] if emails else "",
                    "phone": phones[0] if phones else "",
                    "address": ", ".join(person.address_lines),
                    "polling_station": person.polling_station_code,
                    "member_status": person.member_status,
                }
            )
        return out


def _similar(a: str, b: str) -> bool:
    return bool(a and b) and difflib.SequenceMatcher(None, a, b).ratio() >= 0.8


def refresh_person_keys(ids: Sequence[int], batch: int = 2000) -> None:
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        people = list(Person.objects.filter(pk__in=chunk).prefetch_related("emails", "phones"))
        for person in people:
            person.compute_keys()
        Person.objects.bulk_update(people, list(KEY_COLUMNS), batch_size=batch)


def reserve_person_ids(count: int) -> int:
    """PostgreSQL: reserve `count` person ids in one block, in its own short transaction, so
    the merge can give new people base + row number without asking the sequence per row.

    The EXCLUSIVE lock only keeps concurrent inserts (which take the sequence's next value)
    out for the instant of the reservation."""
    from django.db import transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE crm_person IN EXCLUSIVE MODE")
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('crm_person', 'id'), "
            "nextval(pg_get_serial_sequence('crm_person', 'id')) + %s)",
            [max(count, 0)],
        )
        top = int(cursor.fetchone()[0])
    return top - count - 1  # ids base+1 … base+count are ours


def changes_json(data: Any) -> str:
    return json.dumps(data)


def chunked(iterable: Iterable[Any], size: int) -> Iterable[list[Any]]:
    chunk: list[Any] = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


ATTACH_ROLL = CampaignAttachment.Reason.ROLL
ATTACH_IMPORT = CampaignAttachment.Reason.IMPORT

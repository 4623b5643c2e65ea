"""The typed migration plan (what a plan YAML file holds).

``ferry plan-schema`` prints :func:`plan_json_schema`; ``ferry init`` writes a
plan from introspection; :mod:`ferry.plan.loader` reads one with locations.
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Lookup(_Strict):
    """``lookup:`` of an added column: the value of ``column`` in the row of
    ``table`` whose ``key`` columns equal this row's (a lookup join)."""

    table: str = Field(description="source table to look the value up in")
    column: str = Field(description="its column that gives the value")
    key: dict[str, str] = Field(description="{lookup table column: this table's column}; must be that "
                                            "table's primary key or a unique key", min_length=1)


class ColumnMapping(_Strict):
    """How one target column is made: from a source column (renamed, cast,
    transformed) or added (``default`` / ``expression``, no ``name``).

    Every transform is compiled into the one source ``SELECT``, in this order:
    ``expression`` (else the column) -> ``timezone`` -> ``trim`` -> ``normalize_whitespace`` ->
    ``lower`` / ``upper`` -> ``value_map`` -> conversion to the target ``type``
    (SQL CAST when a non-text value becomes text) -> ``null_default`` ->
    ``on_invalid`` -> ``mask`` -> ``hash``. A column left out of ``columns:``
    (or marked ``drop: true``) is not copied.
    """

    name: str | None = Field(None, description="source column name; omit it for an added column "
                                               "(then give target, and default or expression)")
    target: str | None = Field(None, description="target column name (default: the source name)")
    type: str | None = Field(None, description="target type in neutral spelling, e.g. decimal(20,0); "
                                                "default: chosen by the casting rules")
    drop: bool = Field(False, description="do not copy this column (same as leaving it out of columns:)")
    on_invalid: Literal["reject", "null", "clamp"] | None = Field(
        None, description="values `type` cannot hold (out of range integers, too long text): reject the "
                          "row, set NULL (counted) or clamp to the nearest value that fits (counted); "
                          "default: the casting rule's `invalid` (reject)")
    expression: str | None = Field(None, description="portable SQL (sqlglot's default dialect) over the "
                                                     "table's source columns, e.g. \"first || ' ' || last\"; "
                                                     "transpiled for the source engine")
    default: str | int | float | bool | None = Field(
        None, description="constant value of an added column (no `name`)")
    python: str | None = Field(None, description="package.module:function applied in Python to each value "
                                                 "after the SQL transforms (the escape hatch: the table "
                                                 "takes the row path and is verified in Python on the "
                                                 "source side; a function that raises rejects the row)")
    value_map: dict[str | int | float | bool, str | int | float | bool | None] | None = Field(
        None, description="replace values: {old: new}; values not listed are kept")
    null_default: str | int | float | bool | None = Field(
        None, description="value written instead of NULL (COALESCE)")
    trim: bool = Field(False, description="remove leading and trailing spaces")
    normalize_whitespace: bool = Field(False, description="trim, and collapse inner runs of spaces, "
                                                          "tabs and line breaks to one space")
    lower: bool = Field(False, description="lower-case the text")
    upper: bool = Field(False, description="upper-case the text")
    mask: dict[str, int] | None = Field(
        None, description="keep the first/last N characters, replace the rest with `*`: "
                          "{first: 2, last: 4}")
    hash: bool = Field(False, description="replace the value by the MD5 hex digest of its text "
                                          "(PostgreSQL, MySQL sources)")
    remap: Literal["uuid4", "uuid7", "sequence"] | None = Field(
        None, description="give every row a new key in this (single-column key) column: a random UUID "
                          "v4, a time-ordered UUID v7, or a new integer sequence (1, 2, ...); the old -> "
                          "new mapping is kept in the target table <target>_keymap (old_key, new_key), "
                          "and columns referencing this key (declared foreign keys, `references:`) are "
                          "rewritten through it")
    lookup: Lookup | None = Field(
        None, description="added column taken from another source table (a merge by lookup join): "
                          "{table: user_details, column: phone, key: {user_id: id}}; NULL when no row matches")
    references: str | None = Field(
        None, description="source table whose key this column holds (a foreign key declared in the "
                          "plan): created on the target, and rewritten when that key is remapped")
    timezone: dict[str, str] | None = Field(
        None, description="{from: Europe/Paris}: a naive timestamp written in that zone becomes a "
                          "timestamptz; {to: Europe/Paris}: a timestamptz becomes the naive wall-clock "
                          "time of that zone. PostgreSQL AT TIME ZONE; MySQL CONVERT_TZ (needs the "
                          "server's time zone tables); SQLite: ferry's own functions (Python zoneinfo). "
                          "DST gap: the offset before the transition; overlap: the offset after it")

    @model_validator(mode="after")
    def _consistent(self) -> "ColumnMapping":
        if self.timezone is not None:
            _check_zone(self.timezone)
        if self.name is None and self.target is None:
            raise ValueError("a column needs `name` (source column) or `target` (added column)")
        if self.lookup is not None and (self.name is not None or self.expression or self.default is not None):
            raise ValueError("`lookup` makes an added column: give `target`, not `name`, `expression` or `default`")
        if self.name is None and self.expression is None and self.default is None and self.lookup is None:
            raise ValueError(f"added column {self.target!r} needs `default`, `expression` or `lookup`")
        if self.name is not None and self.default is not None:
            raise ValueError("`default` is for added columns (no `name`); use `null_default` "
                             "to replace NULLs")
        if (self.remap or self.references) and self.name is None:
            raise ValueError("`remap` and `references` apply to a source column (give `name`)")
        if self.remap and self.references:
            raise ValueError("`remap` (a new key) and `references` (a key of another table) exclude "
                             "each other")
        if self.lower and self.upper:
            raise ValueError("`lower` and `upper` exclude each other")
        if self.mask is not None and (set(self.mask) - {"first", "last"}
                                      or any(v < 0 for v in self.mask.values())):
            raise ValueError("mask takes {first: N, last: N} with N >= 0")
        return self


def _check_zone(timezone: dict[str, str]) -> None:
    import zoneinfo

    if len(timezone) != 1 or set(timezone) - {"from", "to"}:
        raise ValueError("timezone takes {from: <IANA zone>} (naive -> timestamptz) or {to: <IANA zone>} "
                         "(timestamptz -> naive wall-clock time), e.g. {from: Europe/Paris}")
    zone = next(iter(timezone.values()))
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r} (IANA names such as Europe/Paris)") from None


class TableMapping(_Strict):
    """How one source table becomes one target table."""

    source: str = Field(description="source table, `name` or `schema.name`")
    target: str | None = Field(None, description="target table name (default: the source name)")
    key: list[str] | None = Field(None, description="key columns used for chunks and checksums "
                                                    "(default: the primary key)")
    columns: list[ColumnMapping] | None = Field(None, description="target columns, in order (default: "
                                                                  "every source column, with casting "
                                                                  "rules); source columns left out are "
                                                                  "not copied")
    origin: str | None = Field(None, description="merge: several mappings may write one target table "
                                                 "when each gives its own `origin`; the value goes into "
                                                 "the target's `origin` column, which joins the key")
    filter: str | None = Field(None, description="portable SQL condition over source columns: only "
                                                 "matching rows are copied (the others are counted and "
                                                 "reported, never counted as missing)")


class Options(_Strict):
    """Run options; the CLI flags of the same names override them."""

    jobs: int = Field(0, ge=0, description="parallel chunk workers (0 = number of CPU cores)")
    chunk_rows: int = Field(100_000, ge=1, description="rows per chunk (unit of copy and resume; checksums: checks.segment_rows)")
    batch_rows: int = Field(10_000, ge=1, description="rows per read/write batch inside a chunk")
    max_rejects: int = Field(0, ge=0, description="fail the run when more rows than this are rejected")
    if_exists: Literal["fail", "drop", "truncate"] = Field(
        "fail", description="what to do with a target table that exists before the first run")
    verify: bool = Field(True, description="run `verify` (counts and checksums) at the end of the run")
    create_indexes: bool = Field(True, description="create primary keys, indexes and foreign keys")
    native_copy: bool = Field(True, description="PostgreSQL -> PostgreSQL: stream COPY from server to server "
                              "(transforms included); false sends every row through the row path")


class SqlCheck(_Strict):
    """A plan-defined SQL check: ``must_return_zero`` on one side, or a query
    on both sides whose results must be equal (within ``tolerance``)."""

    name: str = Field(description="a name for reports and the journal")
    must_return_zero: str | None = Field(None, description="SELECT returning one number (or no row) that must be 0")
    on: Literal["source", "target"] = Field("target", description="where `must_return_zero` runs")
    query: str | None = Field(None, description="SELECT run on both sides; results must be equal")
    source_query: str | None = Field(None, description="the source's spelling of `query` when dialects differ")
    target_query: str | None = Field(None, description="the target's spelling of `query` when dialects differ")
    tolerance: float | str = Field(0.0, description="relative tolerance for numbers: 0.1 or '10%'")


class Checks(_Strict):
    """The `checks:` section: which checks `verify` runs by default, and their thresholds."""

    default: list[str] = Field(default_factory=lambda: ["counts", "checksum"],
                               description="checks run when --checks is not given")
    sample_size: int = Field(100, ge=1, description="random keys compared field by field by `sample`")
    sample_seed: int = Field(42, description="seed of the `sample` key draw")
    float_tolerance: float = Field(1e-9, ge=0, description="relative tolerance of float aggregates")
    max_nulls: int = Field(0, ge=0, description="acceptable NULLs in a NOT NULL column")
    max_duplicates: int = Field(0, ge=0, description="acceptable duplicate rows per unique key")
    max_orphans: int = Field(0, ge=0, description="acceptable rows without parent per foreign key")
    segment_rows: int = Field(100_000, ge=1, description="rows per checksum segment: the key range each "
                                                          "first checksum covers (a differing segment is "
                                                          "searched again: smaller ones search less, but "
                                                          "cost more queries when the tables are equal; "
                                                          "a single integer key's are cut smaller once "
                                                          "some differ and some match)")
    bisect_factor: int = Field(16, ge=2, description="sub-ranges per split of a mismatching segment")
    bisect_threshold: int = Field(1000, ge=1, description="rows at or under which a differing segment's "
                                                          "row hashes are downloaded and compared")
    sql: list[SqlCheck] = Field(default_factory=list, description="SQL checks")


class Plan(_Strict):
    """A migration plan: source, target, tables, casting rules, options."""

    version: Literal[1] = 1
    name: str | None = Field(None, description="a name for reports")
    source: str = Field(description="source database URL; `${ENV}` references allowed")
    target: str = Field(description="target database URL; `${ENV}` references allowed")
    state: str | None = Field(None, description="journal file (default: <plan>.state.db beside the plan, "
                                                "or .ferry/<hash>.state.db for URL-only runs)")
    include: list[str] = Field(default_factory=list, description="table name patterns to copy (fnmatch)")
    exclude: list[str] = Field(default_factory=list, description="table name patterns to leave out")
    tables: list[TableMapping] | None = Field(None, description="explicit table mappings "
                                                                "(default: every table)")
    casting: list[dict] = Field(default_factory=list,
                                description="casting rules applied before the defaults: "
                                            "{match: 'tinyint(1)', to: smallint}")
    options: Options = Field(default_factory=Options)
    checks: Checks = Field(default_factory=Checks, description="verification checks and thresholds")

    @field_validator("source", "target")
    @classmethod
    def _url_has_scheme(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("must be a URL such as postgresql://user@host/db or sqlite:///file.db")
        return value

    def identity(self) -> str:
        """A short stable hash of what defines the migration (URLs, tables, rules)."""
        data = self.model_dump(exclude={"options", "name", "state", "checks"})
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def plan_json_schema() -> dict:
    """The JSON Schema of a plan file."""
    return Plan.model_json_schema()

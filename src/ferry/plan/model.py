"""The typed migration plan (what a plan YAML file holds).

``ferry plan-schema`` prints :func:`plan_json_schema`; ``ferry init`` writes a
plan from introspection; :mod:`ferry.plan.loader` reads one with locations.
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ColumnMapping(_Strict):
    """How one source column becomes one target column."""

    name: str = Field(description="source column name")
    target: str | None = Field(None, description="target column name (default: the source name)")
    type: str | None = Field(None, description="target type in neutral spelling, e.g. decimal(20,0); "
                                                "default: chosen by the casting rules")


class TableMapping(_Strict):
    """How one source table becomes one target table."""

    source: str = Field(description="source table, `name` or `schema.name`")
    target: str | None = Field(None, description="target table name (default: the source name)")
    key: list[str] | None = Field(None, description="key columns used for chunks and checksums "
                                                    "(default: the primary key)")
    columns: list[ColumnMapping] | None = Field(None, description="columns to copy (default: all, "
                                                                  "with casting rules)")


class Options(_Strict):
    """Run options; the CLI flags of the same names override them."""

    jobs: int = Field(0, ge=0, description="parallel chunk workers (0 = number of CPU cores)")
    chunk_rows: int = Field(100_000, ge=1, description="rows per chunk (unit of copy, resume, checksum)")
    batch_rows: int = Field(10_000, ge=1, description="rows per read/write batch inside a chunk")
    max_rejects: int = Field(0, ge=0, description="fail the run when more rows than this are rejected")
    if_exists: Literal["fail", "drop", "truncate"] = Field(
        "fail", description="what to do with a target table that exists before the first run")
    verify: bool = Field(True, description="run `verify` (counts and checksums) at the end of the run")
    create_indexes: bool = Field(True, description="create primary keys, indexes and foreign keys")


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

    @field_validator("source", "target")
    @classmethod
    def _url_has_scheme(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("must be a URL such as postgresql://user@host/db or sqlite:///file.db")
        return value

    def identity(self) -> str:
        """A short stable hash of what defines the migration (URLs, tables, rules)."""
        data = self.model_dump(exclude={"options", "name", "state"})
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def plan_json_schema() -> dict:
    """The JSON Schema of a plan file."""
    return Plan.model_json_schema()

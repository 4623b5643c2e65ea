"""PostgreSQL introspection: system catalogs -> :class:`ferry.catalog.model.Catalog`.

Reads ``pg_class``, ``pg_attribute``, ``pg_type``, ``pg_constraint``,
``pg_index``, ``pg_trigger``, ``pg_proc`` and ``pg_depend`` directly (one query
each), so a database with thousands of tables is read in a handful of round
trips. Catalog layouts: PostgreSQL 15 manual, chapter 53 "System Catalogs".
"""

from __future__ import annotations

from collections import defaultdict
from fnmatch import fnmatchcase
from typing import Callable, Sequence

from ferry.catalog.model import (Catalog, Column, ForeignKey, Index, SkippedObject, Table)
from ferry.connectors.pg_types import PgType, to_datatype

Query = Callable[[str, Sequence], list[tuple]]

_USER_NS = "n.nspname NOT LIKE 'pg\\_%%' AND n.nspname <> 'information_schema'"
_EXT_MEMBER = ("EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '{cat}'::regclass "
               "AND d.objid = {oid} AND d.deptype = 'e')")
_FK_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
_RELKIND_SKIP = {"v": "view", "m": "materialized view", "f": "foreign table"}
_PROKIND = {"f": "function", "p": "procedure", "a": "aggregate", "w": "window function"}

RELATIONS_SQL = f"""
SELECT c.oid, n.nspname, c.relname, c.relkind, c.relispartition,
       (CASE WHEN c.reltuples < 0 THEN pg_stat_get_live_tuples(c.oid) ELSE c.reltuples END)::float8,
       {_EXT_MEMBER.format(cat='pg_class', oid='c.oid')} AS in_extension
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND {_USER_NS}
ORDER BY n.nspname, c.relname"""

COLUMNS_SQL = """
SELECT a.attrelid, a.attnum, a.attname, a.atttypid, a.atttypmod, a.attnotnull, a.attidentity,
       a.attgenerated, pg_get_expr(d.adbin, d.adrelid), format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum"""

TYPES_SQL = """
WITH RECURSIVE ty(oid) AS (
  SELECT DISTINCT atttypid FROM pg_attribute WHERE attrelid = ANY(%s) AND attnum > 0
  UNION
  SELECT v.x FROM ty JOIN pg_type t ON t.oid = ty.oid
  CROSS JOIN LATERAL (VALUES (t.typbasetype), (t.typelem)) v(x) WHERE v.x <> 0)
SELECT t.oid, t.typname, n.nspname, t.typtype, t.typbasetype, t.typtypmod, t.typelem,
       t.typcategory, t.typnotnull, format_type(t.typbasetype, t.typtypmod)
FROM pg_type t JOIN ty ON ty.oid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace"""

ENUMS_SQL = """
SELECT enumtypid, array_agg(enumlabel::text ORDER BY enumsortorder) FROM pg_enum
WHERE enumtypid = ANY(%s) GROUP BY enumtypid"""

CONSTRAINTS_SQL = """
SELECT con.conrelid, con.conname, con.contype, con.conkey::int2[], con.confrelid,
       con.confkey::int2[], con.confupdtype, con.confdeltype, pg_get_constraintdef(con.oid)
FROM pg_constraint con WHERE con.conrelid = ANY(%s) AND con.conparentid = 0
ORDER BY con.conrelid, con.conname"""

INDEXES_SQL = """
SELECT i.indrelid, ic.relname, i.indisunique, i.indkey::int2[], i.indnkeyatts,
       i.indexprs IS NOT NULL OR i.indpred IS NOT NULL, am.amname, pg_get_indexdef(i.indexrelid),
       EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid
               AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x'))
       OR EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
WHERE i.indrelid = ANY(%s) ORDER BY i.indrelid, ic.relname"""

TRIGGERS_SQL = """
SELECT t.tgrelid, t.tgname FROM pg_trigger t
WHERE t.tgrelid = ANY(%s) AND NOT t.tgisinternal AND t.tgparentid = 0 ORDER BY 1, 2"""

ROUTINES_SQL = f"""
SELECT n.nspname, p.proname, p.prokind, pg_get_function_identity_arguments(p.oid)
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE {_USER_NS} AND NOT {_EXT_MEMBER.format(cat='pg_proc', oid='p.oid')}
ORDER BY 1, 2, 4"""

SEQUENCE_USERS_SQL = """
SELECT d.objid FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
  AND d.objid = ANY(%s) AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
UNION
SELECT d.refobjid FROM pg_depend d JOIN pg_attrdef ad ON ad.oid = d.objid
WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass
  AND d.refobjid = ANY(%s)"""

PARTITION_ROWS_SQL = """
SELECT p.oid, sum(CASE WHEN c.reltuples < 0 THEN pg_stat_get_live_tuples(c.oid)
                        ELSE c.reltuples END)::float8 FROM unnest(%s::oid[]) p(oid)
CROSS JOIN LATERAL pg_partition_tree(p.oid) pt JOIN pg_class c ON c.oid = pt.relid
WHERE pt.isleaf GROUP BY p.oid"""

INHERITANCE_SQL = f"""
SELECT nc.nspname || '.' || c.relname, np.nspname || '.' || p.relname
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
JOIN pg_namespace nc ON nc.oid = c.relnamespace JOIN pg_namespace np ON np.oid = p.relnamespace
WHERE p.relkind = 'r' ORDER BY 1"""

LEAVES_SQL = """
SELECT pt.relid::oid, p.oid FROM unnest(%s::oid[]) p(oid) CROSS JOIN LATERAL pg_partition_tree(p.oid) pt
WHERE pt.isleaf"""

ATTNAMES_SQL = """
SELECT attrelid, attnum, attname FROM pg_attribute
WHERE attrelid = ANY(%s) AND attnum > 0 AND NOT attisdropped"""

EXTENSIONS_SQL = "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1"


def matches(schema: str, name: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """True when ``name`` or ``schema.name`` matches an include pattern (or
    there are none) and no exclude pattern (fnmatch, case-sensitive)."""
    names = (name, f"{schema}.{name}")
    if include and not any(fnmatchcase(n, p) for p in include for n in names):
        return False
    return not any(fnmatchcase(n, p) for p in exclude for n in names)


class Introspector:
    """One introspection pass over a database through ``query(sql, params)``."""

    def __init__(self, query: Query, include: Sequence[str], exclude: Sequence[str]) -> None:
        self.query = query
        self.include, self.exclude = include, exclude
        self.skipped: list[SkippedObject] = []
        self.tables: dict[int, Table] = {}
        self.attnames: dict[int, dict[int, str]] = defaultdict(dict)
        self.domains: set[int] = set()

    def run(self) -> Catalog:
        """The catalog: tables (parents before children) and skipped objects."""
        relations = self.query(RELATIONS_SQL, ())
        self._tables(relations)
        oids = list(self.tables)
        if oids:
            self._columns(oids)
            self._constraints(oids)
            self._indexes(oids)
            self._triggers(oids)
            self._partition_rows(relations)
            self._lift_from_partitions(relations)
        self._sequences(relations)
        self._routines_and_more()
        return Catalog(dependency_order(list(self.tables.values())), self.skipped)

    def _skip(self, kind: str, name: str, reason: str = "not migrated by ferry 0.1") -> None:
        self.skipped.append(SkippedObject(kind, name, reason))

    def _tables(self, relations) -> None:
        for oid, schema, name, kind, is_partition, tuples, in_ext in relations:
            if is_partition or kind == "S" or not matches(schema, name, self.include, self.exclude):
                continue
            qualified = f"{schema}.{name}"
            if in_ext:
                self._skip(_RELKIND_SKIP.get(kind, "table"), qualified, "belongs to an extension")
            elif kind in _RELKIND_SKIP:
                self._skip(_RELKIND_SKIP[kind], qualified)
            else:
                self.tables[oid] = Table(name, [], schema=schema, row_estimate=max(int(tuples), 0))
                if kind == "p":
                    self._skip("partitioning", qualified, "partitions are merged into one table")

    def _columns(self, oids: list[int]) -> None:
        rows = self.query(COLUMNS_SQL, (oids,))
        types = {r[0]: PgType(*r) for r in self.query(TYPES_SQL, (oids,))}
        enums = {oid: tuple(labels) for oid, labels in
                 self.query(ENUMS_SQL, ([o for o, t in types.items() if t.typtype == "e"],))}
        for relid, num, name, typid, typmod, notnull, ident, generated, default, native in rows:
            self.attnames[relid][num] = name
            table = self.tables[relid]
            if generated:
                self._skip("generated column", f"{table.qualified}.{name}",
                           f"GENERATED ALWAYS AS ({default}) STORED: add it on the target")
                continue
            dtype = to_datatype(types, enums, typid, typmod, native)
            self._note_domain(types, typid, table, name)
            identity = bool(ident) or (default or "").startswith("nextval(")
            table.columns.append(Column(name, dtype, nullable=not (notnull or _domain_notnull(types, typid)),
                                        default=None if identity else default, identity=identity))

    def _note_domain(self, types: dict[int, PgType], typid: int, table: Table, column: str) -> None:
        t = types.get(typid)
        if t is not None and t.typtype == "d" and typid not in self.domains:
            self.domains.add(typid)
            self._skip("domain", f"{t.schema}.{t.name}",
                       f"{table.qualified}.{column} uses its base type {t.base_native}; "
                       "the domain's constraints are not migrated")

    def _constraints(self, oids: list[int]) -> None:
        for relid, name, kind, keys, ref, ref_keys, upd, dele, definition in self.query(CONSTRAINTS_SQL, (oids,)):
            table = self.tables[relid]
            cols = tuple(self.attnames[relid].get(k, str(k)) for k in keys or ())
            if kind == "p":
                table.primary_key = cols
            elif kind == "u":
                table.uniques.append(Index(name, cols, unique=True))
            elif kind == "f":
                table.foreign_keys.append(self._foreign_key(name, cols, ref, ref_keys, upd, dele))
            elif kind in ("c", "x"):
                label = "check constraint" if kind == "c" else "exclusion constraint"
                self._skip(label, f"{table.qualified}.{name}", definition)

    def _foreign_key(self, name, cols, ref, ref_keys, upd, dele) -> ForeignKey:
        target = self.tables.get(ref)
        ref_name = target.qualified if target else self._relation_name(ref)
        ref_cols = tuple(self._attname(ref, k) for k in ref_keys or ())
        return ForeignKey(name, cols, ref_name, ref_cols,
                          on_delete=_FK_ACTIONS.get(dele), on_update=_FK_ACTIONS.get(upd))

    def _attname(self, relid: int, num: int) -> str:
        if num not in self.attnames.get(relid, {}):
            rows = self.query("SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum = %s",
                              (relid, num))
            self.attnames[relid][num] = rows[0][0] if rows else str(num)
        return self.attnames[relid][num]

    def _relation_name(self, relid: int) -> str:
        rows = self.query("SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n "
                          "ON n.oid = c.relnamespace WHERE c.oid = %s", (relid,))
        return rows[0][0] if rows else str(relid)

    def _indexes(self, oids: list[int]) -> None:
        for relid, name, unique, keys, nkey, expr_or_partial, method, definition, backs in \
                self.query(INDEXES_SQL, (oids,)):
            table = self.tables[relid]
            if backs:
                continue
            label = f"{table.qualified}.{name}"
            if expr_or_partial:
                self._skip("index", label, f"expression or partial index: {definition}")
            elif method not in ("btree", "hash"):
                self._skip("index", label, f"{method} index (access method not portable): {definition}")
            else:
                cols = tuple(self.attnames[relid][k] for k in keys[:nkey])
                table.indexes.append(Index(name, cols, unique=unique))

    def _triggers(self, oids: list[int]) -> None:
        for relid, name in self.query(TRIGGERS_SQL, (oids,)):
            self._skip("trigger", f"{self.tables[relid].qualified}.{name}")

    def _partition_rows(self, relations) -> None:
        parents = [r[0] for r in relations if r[3] == "p" and r[0] in self.tables]
        if parents:
            for oid, rows in self.query(PARTITION_ROWS_SQL, (parents,)):
                self.tables[oid].row_estimate = int(rows or 0)

    def _lift_from_partitions(self, relations) -> None:
        """Foreign keys and plain indexes declared on most leaf partitions
        (more than half) rather than on the parent become the parent's: in
        pagila, ``payment``'s foreign keys exist on 6 of its 7 partitions only.
        A lifted foreign key is validated when the target creates it."""
        parents = [r[0] for r in relations if r[3] == "p" and r[0] in self.tables]
        leaves = self.query(LEAVES_SQL, (parents,)) if parents else []
        if not leaves:
            return
        parent_of = dict(leaves)
        for relid, num, name in self.query(ATTNAMES_SQL, (list(parent_of),)):
            self.attnames[relid][num] = name
        found: dict[int, dict[tuple, set[int]]] = defaultdict(lambda: defaultdict(set))
        for relid, _name, kind, keys, ref, ref_keys, upd, dele, _def in \
                self.query(CONSTRAINTS_SQL, (list(parent_of),)):
            if kind == "f":
                cols = tuple(self.attnames[relid][k] for k in keys)
                found[parent_of[relid]][("f", cols, ref, tuple(ref_keys), upd, dele)].add(relid)
        for relid, _name, unique, keys, nkey, partial, method, _def, backs in \
                self.query(INDEXES_SQL, (list(parent_of),)):
            if not (backs or partial) and method in ("btree", "hash"):
                cols = tuple(self.attnames[relid][k] for k in keys[:nkey])
                found[parent_of[relid]][("i", cols, unique)].add(relid)
        counts = defaultdict(int)
        for parent in parent_of.values():
            counts[parent] += 1
        for parent, sigs in found.items():
            for sig, rels in sigs.items():
                if 2 * len(rels) > counts[parent]:
                    self._add_lifted(self.tables[parent], sig)

    def _add_lifted(self, table: Table, sig: tuple) -> None:
        cols = sig[1]
        name = f"{table.name}_{'_'.join(cols)}_{'fkey' if sig[0] == 'f' else 'idx'}"[:63]
        if sig[0] == "f":
            if all(fk.columns != cols for fk in table.foreign_keys):
                table.foreign_keys.append(self._foreign_key(name, cols, *sig[2:]))
        elif all(ix.columns != cols for ix in table.indexes) and cols != table.primary_key:
            table.indexes.append(Index(name, cols, unique=sig[2]))

    def _sequences(self, relations) -> None:
        seqs = {r[0]: f"{r[1]}.{r[2]}" for r in relations
                if r[3] == "S" and not r[6] and matches(r[1], r[2], self.include, self.exclude)}
        if not seqs:
            return
        used = {r[0] for r in self.query(SEQUENCE_USERS_SQL, (list(seqs), list(seqs)))}
        for oid, name in seqs.items():
            if oid not in used:
                self._skip("sequence", name, "not owned by a column (standalone sequence)")

    def _routines_and_more(self) -> None:
        for schema, name, kind, args in self.query(ROUTINES_SQL, ()):
            self._skip(_PROKIND.get(kind, "function"), f"{schema}.{name}({args})")
        for child, parent in self.query(INHERITANCE_SQL, ()):
            self._skip("inheritance", child, f"its rows are also read through its parent {parent}")
        for (name,) in self.query(EXTENSIONS_SQL, ()):
            self._skip("extension", name, "install it on the target when it is needed there")


def _domain_notnull(types: dict[int, PgType], typid: int) -> bool:
    t = types.get(typid)
    while t is not None and t.typtype == "d":
        if t.notnull:
            return True
        t = types.get(t.base)
    return False


def dependency_order(tables: list[Table]) -> list[Table]:
    """Tables with referenced (parent) tables first; self-references ignored,
    tables in a cycle keep their input order after the others."""
    by_name = {t.qualified: t for t in tables}
    pending = {t.qualified: {fk.ref_table for fk in t.foreign_keys
                             if fk.ref_table in by_name and fk.ref_table != t.qualified}
               for t in tables}
    ordered: list[Table] = []
    while pending:
        ready = [n for n, deps in pending.items() if not deps]
        if not ready:  # a cycle: break it at the first table in input order
            ready = [next(iter(pending))]
        for name in ready:
            ordered.append(by_name[name])
            del pending[name]
        for deps in pending.values():
            deps.difference_update(ready)
    return ordered

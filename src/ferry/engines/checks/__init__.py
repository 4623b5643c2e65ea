"""Verification checks with pass criteria, run by ``ferry verify --checks``.

Every check yields :class:`CheckResult` rows (one per table, column, key or
foreign key) with its criteria and its measured value; the overall status of
a verification is ``pass`` when every row passes, ``fail`` when one fails,
``review`` (needs review) when nothing failed but something could not be
decided (e.g. a table without key and with rejects cannot be checksummed).

Checks: ``counts`` and ``checksum`` (see :mod:`ferry.engines.validate`),
``sample`` (:mod:`.sample`), ``aggregates`` (:mod:`.aggregates`), ``not_null``,
``unique``, ``foreign_keys`` (:mod:`.quality`), ``sql`` (:mod:`.sqlcheck`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ferry.errors import InputError

CHECK_NAMES = ("counts", "checksum", "sample", "aggregates", "not_null", "unique", "foreign_keys", "sql")
QUALITY_CHECKS = ("not_null", "unique", "foreign_keys")
STATUSES = ("pass", "fail", "review")


@dataclass
class CheckResult:
    """One measured assertion.

    Attributes:
        table: the source table's qualified name, or ``"*"`` for plan-wide checks.
        name: the check (``counts``, ``unique``, ...), with a suffix naming the
            column, key or foreign key when there are several (``not_null:email``).
        status: ``pass``, ``fail`` or ``review``.
        criteria: the pass criterion in words (``"<= 0 NULL"``).
        measured: what was measured, in words (``"3 NULL"``).
        detail: first keys, differing values, errors ("" when none).
        side: ``source``, ``target`` or ``both``.
        value: the measured number when there is one (for reports), else None.
    """

    table: str
    name: str
    status: str
    criteria: str
    measured: str
    detail: str = ""
    side: str = "both"
    value: float | int | None = None


class Verification(list):
    """The table results of a verification (a list of
    :class:`ferry.engines.validate.TableResult`, as before), plus every check
    result (``checks``), the check names run (``names``), whether only the
    source was checked (``source_only``), seconds spent (``elapsed``) and the
    overall ``status``."""

    def __init__(self, tables=(), checks=(), names=(), source_only=False, elapsed=0.0) -> None:
        super().__init__(tables)
        self.checks, self.names = list(checks), list(names)
        self.source_only, self.elapsed = source_only, elapsed

    @property
    def tables(self) -> list:
        return list(self)

    @property
    def status(self) -> str:
        """``pass``, ``fail`` or ``review`` over every check."""
        return overall_status(self.checks)


def overall_status(checks: list[CheckResult]) -> str:
    """``fail`` if any check failed, else ``review`` if any needs review, else ``pass``."""
    statuses = {c.status for c in checks}
    return "fail" if "fail" in statuses else "review" if "review" in statuses else "pass"


def parse_names(text: str | list[str] | None, default: list[str]) -> list[str]:
    """Check names from ``"counts,checksum"`` (or a list); ``default`` when empty.

    Raises:
        InputError: an unknown check name.
    """
    if isinstance(text, str):
        text = [p.strip() for p in text.split(",") if p.strip()]
    names = list(text or default)
    unknown = [n for n in names if n not in CHECK_NAMES]
    if unknown:
        raise InputError(f"unknown check(s): {', '.join(unknown)}",
                         f"choose among {', '.join(CHECK_NAMES)}")
    return [n for n in CHECK_NAMES if n in names]


def verdict(ok: bool) -> str:
    """``pass`` or ``fail``."""
    return "pass" if ok else "fail"

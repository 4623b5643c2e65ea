"""Time-zone shifts for engines without a time-zone database (SQLite).

PostgreSQL and MySQL convert inside the source (``AT TIME ZONE``,
``CONVERT_TZ``). SQLite has no zone data, so ferry registers two functions on
its SQLite connections, ``ferry_tz_from(text, zone)`` and ``ferry_tz_to(text,
zone)``, which call :func:`local_to_utc` and :func:`utc_to_local` (Python's
``zoneinfo``, the IANA database). Both copy and verification read through
them, so the target is still compared with the source as transformed.

DST edges follow PostgreSQL, so every engine gives the same instant: a local
time that does not exist (the spring-forward gap, e.g. 02:30 on 2024-03-31 in
Europe/Paris) is read with the offset *before* the transition (02:30 CET =
01:30 UTC); a local time that exists twice (the fall-back overlap, 02:30 on
2024-10-27) is read with the offset *after* it (standard time: 01:30 UTC).
Source: PostgreSQL's ``DetermineTimeZoneOffsetInternal`` ("in a spring-forward
transition, prefer the before interpretation; in a fall-back transition,
prefer after"), https://www.postgresql.org/docs/current/datetime-invalid-input.html
(MySQL's ``CONVERT_TZ`` may differ inside a gap: see its manual).
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_to_utc(local: datetime, zone: str) -> datetime:
    """The UTC instant (aware) of the naive wall-clock time ``local`` in ``zone``.

    Raises:
        zoneinfo.ZoneInfoNotFoundError: unknown zone.
    """
    z = _zone(zone)
    first, second = local.replace(tzinfo=z, fold=0), local.replace(tzinfo=z, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(timezone.utc)
    in_gap = first.astimezone(timezone.utc).astimezone(z).replace(tzinfo=None) != local
    return (first if in_gap else second).astimezone(timezone.utc)


def utc_to_local(instant: datetime, zone: str) -> datetime:
    """The naive wall-clock time in ``zone`` of ``instant`` (naive = UTC)."""
    aware = instant if instant.tzinfo else instant.replace(tzinfo=timezone.utc)
    return aware.astimezone(_zone(zone)).replace(tzinfo=None)


def sqlite_tz_from(value, zone: str) -> str | None:
    """SQLite function ``ferry_tz_from``: naive timestamp text -> UTC text
    ``YYYY-MM-DD HH:MM:SS[.ffffff]+00:00`` (NULL stays NULL; text that is not
    a timestamp comes back unchanged, for the target to refuse)."""
    parsed = _parse(value)
    return value if parsed is None else local_to_utc(parsed.replace(tzinfo=None), zone).isoformat(" ")


def sqlite_tz_to(value, zone: str) -> str | None:
    """SQLite function ``ferry_tz_to``: timestamp text (UTC unless it carries
    an offset) -> naive wall-clock text in ``zone``."""
    parsed = _parse(value)
    return value if parsed is None else utc_to_local(parsed, zone).isoformat(" ")


def _parse(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None

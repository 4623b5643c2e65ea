"""Create the generated *legacy* schema the restructuring examples migrate.

    python examples/legacy/generate.py sqlite:///legacy.db --users 1000
    python examples/legacy/generate.py postgresql://postgres@127.0.0.1/legacy

Tables (integer SERIAL / AUTO_INCREMENT keys, naive local timestamps)::

    users       id, name, email (unique), created_at, country
    orders      id, user_id -> users, total decimal(10,2), created_at
    sessions    id, user_id -> users, token, started_at
    audit_logs  id, user_id -> users (NULL for system events), action, at

Rows are deterministic for a given ``--users`` (seeded), about 3 orders,
2 sessions and 2 audit lines per user. The database must exist; the tables
must not (``--drop`` drops them first).
"""

from __future__ import annotations

import argparse
import random
from datetime import datetime, timedelta

from ferry.connectors import open_connector

_KEY = {"sqlite": "INTEGER PRIMARY KEY", "postgresql": "serial PRIMARY KEY",
        "mysql": "int AUTO_INCREMENT PRIMARY KEY"}
_TABLES = {
    "users": "id {key}, name varchar(100), email varchar(200) NOT NULL UNIQUE, "
             "created_at timestamp NOT NULL, country char(2)",
    "orders": "id {key}, user_id integer NOT NULL REFERENCES users (id), total decimal(10,2) NOT NULL, "
              "created_at timestamp NOT NULL",
    "sessions": "id {key}, user_id integer NOT NULL REFERENCES users (id), token varchar(64) NOT NULL, "
                "started_at timestamp NOT NULL",
    "audit_logs": "id {key}, user_id integer REFERENCES users (id), action varchar(40) NOT NULL, "
                  "at timestamp NOT NULL",
}
_COUNTRIES = ("FR", "DE", "US", "GB", "JP", None)
_ACTIONS = ("login", "logout", "password_reset", "export", "system_backup")
# around the Europe/Paris spring-forward gap (2024-03-31 02:00 -> 03:00)
_EPOCH = datetime(2024, 3, 30, 22, 0, 0)


def rows(users: int, seed: int = 7) -> dict[str, list[tuple]]:
    """The rows of every table for ``users`` users: ``{table: [tuple, ...]}``."""
    rnd = random.Random(seed)
    out: dict[str, list[tuple]] = {t: [] for t in _TABLES}
    for uid in range(1, users + 1):
        created = _EPOCH + timedelta(minutes=7 * uid)
        name = None if uid % 50 == 0 else f"User {uid}"
        out["users"].append((uid, name, f"user{uid}@example.org", created, _COUNTRIES[uid % 6]))
        for _ in range(rnd.randint(1, 5)):
            total = f"{rnd.randint(100, 99999) / 100:.2f}"
            out["orders"].append((len(out["orders"]) + 1, uid, total, created + timedelta(hours=rnd.randint(1, 900))))
        for _ in range(rnd.randint(1, 3)):
            token = f"{rnd.getrandbits(128):032x}"
            out["sessions"].append((len(out["sessions"]) + 1, uid, token, created + timedelta(minutes=rnd.randint(1, 9000))))
        for _ in range(rnd.randint(1, 3)):
            action = rnd.choice(_ACTIONS)
            who = None if action == "system_backup" else uid
            out["audit_logs"].append((len(out["audit_logs"]) + 1, who, action, created + timedelta(seconds=rnd.randint(1, 99999))))
    return out


def create(url: str, users: int, drop: bool = False) -> dict[str, int]:
    """Create and fill the legacy tables in ``url``; returns rows per table.

    Raises:
        FerryError: the database cannot be reached, or a table exists (without ``drop``).
    """
    conn = open_connector(url, read_only=False)
    try:
        d = conn.dialect
        if drop:
            for table in reversed(list(_TABLES)):
                conn.execute(f"DROP TABLE IF EXISTS {d.quote(table)}")
        for table, columns in _TABLES.items():
            conn.execute(f"CREATE TABLE {d.quote(table)} ({columns.format(key=_KEY[d.name])})")
        data = rows(users)
        marker = "?" if d.name == "sqlite" else "%s"
        for table, values in data.items():
            width = len(values[0])
            sql = f"INSERT INTO {d.quote(table)} VALUES ({', '.join([marker] * width)})"
            for row in values:
                conn.execute(sql, row)
        if d.name == "postgresql":
            for table in _TABLES:
                conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"(SELECT max(id) FROM {table}))")
        conn.commit()
        return {t: len(v) for t, v in data.items()}
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="database URL, e.g. sqlite:///legacy.db")
    parser.add_argument("--users", type=int, default=1000, help="number of users (default 1000)")
    parser.add_argument("--drop", action="store_true", help="drop the legacy tables first")
    args = parser.parse_args()
    counts = create(args.url, args.users, args.drop)
    print(", ".join(f"{t}: {n} rows" for t, n in counts.items()))


if __name__ == "__main__":
    main()

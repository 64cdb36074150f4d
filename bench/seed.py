#!/usr/bin/env python3
"""Fills the benchmark's database up to COUNT users, straight in SQL (the management API would take
far too long). The filler users copy the layout of the bench user, whom setup.mjs created through
the API: same tenant, a unique id and email each, and a copy of each of the bench user's five
authentication methods (password hash, recovery code, TOTP secrets) under new ids, so the
authentication_methods table and its indexes are as large as that many such users make them.

The users go in in batches (SEED_BATCH, default 50,000), one transaction each, with a progress line
on stderr after each: one transaction of a million users and five million methods would hold the
database's lock (SQLite) for minutes and show nothing meanwhile.

Usage: seed.py sqlite PATH_TO_DB COUNT | seed.py postgres DATABASE_URL COUNT
"""
import os
import subprocess
import sys
import time

BENCH_EMAIL = "bench@example.com"
BATCH = int(os.environ.get("SEED_BATCH", "50000"))


def batch(dialect, lo, hi):
    """The statements that add filler users lo..hi (inclusive) and their methods."""
    if dialect == "sqlite":
        numbers = f"(WITH RECURSIVE s(i) AS (SELECT {lo} UNION ALL SELECT i + 1 FROM s WHERE i < {hi}) SELECT i FROM s) AS s"
        hex_id = "printf('%024x', s.i)"
    else:
        numbers = f"generate_series({lo}, {hi}) AS s(i)"
        hex_id = "lpad(to_hex(s.i), 24, '0')"
    bench = f"(SELECT tenant_id, id, created_at FROM users WHERE email = '{BENCH_EMAIL}')"
    return [
        f"""INSERT INTO users (tenant_id, id, email, email_verified, username, phone_number, phone_verified, name,
               given_name, family_name, nickname, picture, user_metadata, app_metadata, blocked, created_at,
               updated_at, last_login_at, logins_count)
            SELECT b.tenant_id, 'auth0|' || {hex_id}, 'user' || s.i || '@bench.example', FALSE, NULL, NULL, FALSE,
               NULL, NULL, NULL, 'user' || s.i, NULL, '{{}}', '{{}}', FALSE, b.created_at - s.i, b.created_at - s.i,
               NULL, 0
            FROM {numbers}, {bench} AS b""",
        # Password ids are `password|{user id}`; other ids get 15 hex digits of the user and the copy's number.
        # The batch's users are found by their id range (fixed-width hex, so the range is the batch).
        f"""INSERT INTO authentication_methods (tenant_id, id, user_id, method_type, secret, created_at, updated_at,
               last_used_at, confirmed, name, details, lookup_key)
            SELECT m.tenant_id,
               CASE WHEN m.method_type = 'password' THEN 'password|' || u.id
                    ELSE m.method_type || '|dev_' || substr(u.id, 16) || m.k END,
               u.id, m.method_type, m.secret, u.created_at, u.created_at, NULL, m.confirmed, m.name, m.details,
               m.lookup_key
            FROM users AS u,
                 (SELECT a.*, ROW_NUMBER() OVER (ORDER BY a.id) AS k FROM authentication_methods AS a, {bench} AS b
                  WHERE a.tenant_id = b.tenant_id AND a.user_id = b.id) AS m
            WHERE u.tenant_id = m.tenant_id AND u.id BETWEEN 'auth0|{lo:024x}' AND 'auth0|{hi:024x}'
              AND u.email LIKE '%@bench.example'""",
    ]


CHECK = f"""SELECT (SELECT count(*) FROM users),
                   (SELECT count(*) FROM authentication_methods),
                   (SELECT count(*) FROM authentication_methods AS a, users AS u
                    WHERE u.email = '{BENCH_EMAIL}' AND a.tenant_id = u.tenant_id AND a.user_id = u.id)"""


class Progress:
    """`seed: 350000/1000000 users (35%) 12 s` on stderr: rewritten in place on a terminal, a line
    per batch in a log."""

    def __init__(self, total):
        self.total, self.start, self.tty = total, time.monotonic(), sys.stderr.isatty()

    def show(self, users):
        line = f"seed: {users}/{self.total} users ({100 * users // self.total}%) {time.monotonic() - self.start:.0f} s"
        print(("\r" + line) if self.tty else line, end="" if self.tty else "\n", file=sys.stderr, flush=True)

    def done(self):
        if self.tty:
            print(file=sys.stderr)


def main():
    dialect, target, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    fillers = count - 1  # the bench user is one of them
    progress = Progress(count)
    progress.show(1)
    # Filler i is user i + 1 (after the bench user): batches end on round numbers of users.
    ranges = [(max(1, end - BATCH), min(end - 1, fillers)) for end in range(BATCH, fillers + 1 + BATCH, BATCH)]
    ranges = [(lo, hi) for lo, hi in ranges if lo <= hi]
    if dialect == "sqlite":
        import sqlite3

        db = sqlite3.connect(target, timeout=60, isolation_level=None)
        # A larger page cache for this connection only: the email and method indexes take their
        # inserts all over the tree, and the default 2 MiB makes each batch re-read pages.
        db.execute("PRAGMA cache_size = -262144")
        for lo, hi in ranges:
            db.execute("BEGIN IMMEDIATE")
            for sql in batch(dialect, lo, hi):
                db.execute(sql)
            db.execute("COMMIT")
            progress.show(hi + 1)
        progress.done()
        db.execute("ANALYZE")
        users, methods, own = db.execute(CHECK).fetchone()
        db.close()
    else:
        # One psql for the whole seed, a transaction per batch; `\echo` after each COMMIT says when
        # it is through (ON_ERROR_STOP ends psql, and so the seed, at the first error).
        psql = subprocess.Popen(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-q", target],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        # Losing the last commits on a crash does not matter to a benchmark's throwaway database.
        psql.stdin.write("SET synchronous_commit = off;\n")
        for lo, hi in ranges:
            # ANALYZE after each batch, so that no batch is planned from the statistics of an
            # emptier table (one batch's method copy once ran for 12 minutes instead of ~10 s).
            psql.stdin.write("BEGIN;\n" + ";\n".join(batch(dialect, lo, hi))
                             + f";\nCOMMIT;\nANALYZE users, authentication_methods;\n\\echo seeded {hi}\n")
            psql.stdin.flush()
            if psql.stdout.readline().strip() != f"seeded {hi}":
                sys.exit(f"seed: psql failed at users {lo}..{hi} (exit {psql.wait()})")
            progress.show(hi + 1)
        progress.done()
        psql.stdin.write("ANALYZE;\n")
        psql.stdin.close()
        if psql.wait() != 0:
            sys.exit("seed: psql failed on ANALYZE")
        out = subprocess.run(["psql", "-X", "-At", "-F", " ", "-c", CHECK, target], capture_output=True, text=True, check=True)
        users, methods, own = map(int, out.stdout.split())
    print(f"seed: {users} users, {methods} authentication methods, {own} of them the bench user's, "
          f"in {time.monotonic() - progress.start:.0f} s", file=sys.stderr)
    if users != count or own != 5 or methods < 5 * count:
        sys.exit(f"seed: expected {count} users and the bench user's 5 methods")


if __name__ == "__main__":
    main()

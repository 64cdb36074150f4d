#!/usr/bin/env python3
"""Fills the benchmark's database up to COUNT users, straight in SQL (the management API would take
far too long). The filler users copy the layout of the bench user, whom setup.mjs created through
the API: same tenant, a unique id and email each, and a copy of each of the bench user's five
authentication methods (password hash, recovery code, TOTP secrets) under new ids, so the
authentication_methods table and its indexes are as large as 100,000 such users make them.

Usage: seed.py sqlite PATH_TO_DB COUNT | seed.py postgres DATABASE_URL COUNT
"""
import subprocess
import sys

BENCH_EMAIL = "bench@example.com"


def statements(dialect, n):
    if dialect == "sqlite":
        numbers = f"(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s) AS s"
        hex_id = "printf('%024x', s.i)"
    else:
        numbers = f"generate_series(1, {n}) AS s(i)"
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
            WHERE u.tenant_id = m.tenant_id AND u.email LIKE '%@bench.example'""",
        "ANALYZE",
    ]


CHECK = f"""SELECT (SELECT count(*) FROM users),
                   (SELECT count(*) FROM authentication_methods),
                   (SELECT count(*) FROM authentication_methods AS a, users AS u
                    WHERE u.email = '{BENCH_EMAIL}' AND a.tenant_id = u.tenant_id AND a.user_id = u.id)"""


def main():
    dialect, target, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    fillers = count - 1  # the bench user is one of them
    if dialect == "sqlite":
        import sqlite3

        db = sqlite3.connect(target, timeout=60, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        for sql in statements(dialect, fillers)[:-1]:
            db.execute(sql)
        db.execute("COMMIT")
        db.execute("ANALYZE")
        users, methods, own = db.execute(CHECK).fetchone()
        db.close()
    else:
        script = "BEGIN;\n" + ";\n".join(statements(dialect, fillers)[:-1]) + ";\nCOMMIT;\nANALYZE;\n"
        subprocess.run(["psql", "-v", "ON_ERROR_STOP=1", "-q", target], input=script, text=True, check=True)
        out = subprocess.run(["psql", "-At", "-F", " ", "-c", CHECK, target], capture_output=True, text=True, check=True)
        users, methods, own = map(int, out.stdout.split())
    print(f"seed: {users} users, {methods} authentication methods, {own} of them the bench user's", file=sys.stderr)
    if users != count or own != 5 or methods < 5 * count:
        sys.exit(f"seed: expected {count} users and the bench user's 5 methods")


if __name__ == "__main__":
    main()

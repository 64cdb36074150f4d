# shellcheck shell=bash
# What bench/run and bench/sweep share, sourced by both (from the repository's root, under
# `set -euo pipefail`): the tools, the binary, a server on a free port, wrk and its output.
# The server functions read the caller's current server from globals:
#   BIN   the accountd binary (accountd_bin sets it)
#   dir   the server's work directory: data/ (SQLite and keys), stdout, stderr, wrk.log
#   url   the PostgreSQL database URL, empty for SQLite
#   redis the Redis URL, empty for none
#   sync  SQLite's synchronous setting (normal or full)
#   port, base  where it listens (base is http://127.0.0.1:$port)
# and set PID (the server), cid and secret (its management client).
# The wrk functions read DURATION, CONNS and THREADS, and the scripts' BENCH_DIR from the environment.

# $1: the calling script's name, for messages.
need_tools() {
  command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
  command -v node >/dev/null || { echo "$1: node is needed" >&2; exit 1; }
}

# Sets BIN: $ACCOUNTD_BIN, or target/release/accountd built first so that a stale binary is never
# measured. $1: the calling script's name, for messages.
accountd_bin() {
  if [ -z "${ACCOUNTD_BIN:-}" ]; then
    cargo build --release --locked --bin accountd >&2
    BIN="$PWD/target/release/accountd"
  else
    BIN="$(realpath "$ACCOUNTD_BIN")"
  fi
  [ -x "$BIN" ] || { echo "$1: no accountd binary at $BIN" >&2; exit 1; }
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The server's environment in SERVER_ENV; $1: whether tokens are checked against revocations
# (security.revocation_check).
server_env() {
  SERVER_ENV=(ACCOUNTD_STORAGE__DATA_DIR="$dir/data" ACCOUNTD_STORAGE__DATABASE_URL="$url" ACCOUNTD_REDIS__URL="$redis"
    ACCOUNTD_STORAGE__SQLITE_SYNCHRONOUS="$sync" ACCOUNTD_SECURITY__REVOCATION_CHECK="$1"
    ACCOUNTD_SERVER__LISTEN="127.0.0.1:$port" ACCOUNTD_LOG__LEVEL=warn ACCOUNTD_STORAGE__MAX_CONNECTIONS=32)
}

# Starts the server in the background (PID) and waits until /healthz answers; $1 as server_env's.
# Output is appended to $dir/stdout and $dir/stderr, so a restart keeps the first start's.
start_server() {
  server_env "$1"
  env "${SERVER_ENV[@]}" "$BIN" serve >> "$dir/stdout" 2>> "$dir/stderr" &
  PID=$!
  for _ in $(seq 1 300); do
    curl -sf "$base/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench: the server at $base did not come up: $(tail -5 "$dir/stderr")" >&2
  exit 1
}

# Stops the server (SIGINT: a graceful shutdown, as an operator's Ctrl-C).
stop_server() {
  [ -n "${PID:-}" ] || return 0
  kill -INT "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=
}

# Sets cid and secret: the management client that a first start on an empty database prints.
boot_client() {
  for _ in $(seq 1 100); do grep -q "client_secret:" "$dir/stdout" 2>/dev/null && break; sleep 0.1; done
  cid="$(awk '/client_id:/ {print $2; exit}' "$dir/stdout")"
  secret="$(awk '/client_secret:/ {print $2; exit}' "$dir/stdout")"
  [ -n "$cid" ] && [ -n "$secret" ] || { echo "bench: no management client in $dir/stdout" >&2; exit 1; }
}

# wrk output → "rps p50 p99 non2xx requests socket-errors" (wrk counts statuses >= 400 as non-2xx)
parse() {
  awk '
    /Requests\/sec/ {rps=$2}
    /^ +50%/ {p50=$2}
    /^ +99%/ {p99=$2}
    /Non-2xx/ {bad=$NF}
    / requests in / {n=$1}
    /Socket errors/ {gsub(",", ""); err=$4+$6+$8+$10}
    END {printf "%s %s %s %s %s %s\n", rps, p50, p99, (bad==""?0:bad), n, (err==""?0:err)}'
}

# wrk with the scripts' settings and the arguments given; its output is kept in $dir/wrk.log and
# parsed (see parse).
run_wrk() { wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$@" 2>&1 | tee -a "$dir/wrk.log" | parse; }

#!/usr/bin/env bash
# The end-to-end load generator (bench/load_generator) against SQLite, PostgreSQL with one node and
# PostgreSQL with two nodes (one database, clients round-robin), in one run on the same machine;
# prints a table and the PostgreSQL/SQLite ratios. Called by scripts/run-benchmarks.sh
# (LIAISON_BENCH_PG=1) or on its own:
#
#   scripts/bench-load-pg.sh BUILD_DIR        (BUILD_DIR configured with -DLIAISON_BUILD_BENCHMARKS=ON)
#
# Starts a throwaway PostgreSQL cluster (scripts/pg-cluster.sh) in a temporary directory on a free
# loopback port, or uses LIAISON_TEST_PG_DSN when set (each run gets its own database). Settings:
# LIAISON_BENCH_N (objects, default 100000), LIAISON_BENCH_B (per envelope, 1000), LIAISON_BENCH_C
# (clients, 4), LIAISON_BENCH_READ_C (clients of the concurrent read phase, default C),
# LIAISON_BENCH_PAGE (page size, 1000), LIAISON_BENCH_PG_SHARED_BUFFERS (our own cluster's
# shared_buffers, default 512MB; empty: PostgreSQL's default of 128MB). Results:
# BUILD_DIR/bench-results/load_*.json.
#
# shared_buffers: 100k objects make ~75 MB of object rows plus ~70 MB of events and audit rows
# written in the same transactions. With the default 128MB the object pages read back are partly
# evicted by then, and every page read then costs the database a pread from the OS cache and a
# page verification (measured: a third of its CPU in the read phase, 3.9 vs 2.8 us per object
# read). A server sized as operators do (the PostgreSQL docs suggest 25% of RAM) holds the working
# set; an existing cluster (LIAISON_TEST_PG_DSN) is used as it is, and its setting is printed.
#
# Where the CPU goes: the load generator is given every node's pid and the PostgreSQL postmaster's
# (its backends are its children; found for our own cluster, or through data_directory when the
# DSN's role may read it) and prints per phase the CPU seconds of the nodes, the database and
# itself, and how busy the machine was. Everything shares this machine's cores: when it is busy
# throughout a phase, a second node cannot add throughput, only spread the same work.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

build="${1:-build/bench}"
[ -d "$build" ] || { echo "bench-load-pg: no build directory $build" >&2; exit 2; }
build="$(cd "$build" && pwd)"
liaison="$build/src/cli/liaison"
lg="$build/bench/load_generator"
for f in "$liaison" "$lg"; do
  [ -x "$f" ] || { echo "bench-load-pg: $f not built" >&2; exit 2; }
done
if ! "$liaison" serve --help 2>&1 | grep -q -- '--store'; then
  echo "bench-load-pg: $liaison has no --store option" >&2
  exit 2
fi
N="${LIAISON_BENCH_N:-100000}"
B="${LIAISON_BENCH_B:-1000}"
C="${LIAISON_BENCH_C:-4}"
PAGE="${LIAISON_BENCH_PAGE:-1000}"
READ_C="${LIAISON_BENCH_READ_C:-$C}"
results="$build/bench-results"
mkdir -p "$results"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/liaison-bench-pg.XXXXXX")"
pids=()
own_cluster=0
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  [ "$own_cluster" = 1 ] && bash "$root/scripts/pg-cluster.sh" stop "$tmp/pg"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dsn="${LIAISON_TEST_PG_DSN:-}"
if [ -z "$dsn" ]; then
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  own_cluster=1
  dsn="$(bash "$root/scripts/pg-cluster.sh" start "$tmp/pg" "$port")" ||
    { echo "bench-load-pg: cannot start PostgreSQL" >&2; exit 1; }
  shared_buffers="${LIAISON_BENCH_PG_SHARED_BUFFERS-512MB}"
  if [ -n "$shared_buffers" ]; then
    psql "$dsn" -Xqc "ALTER SYSTEM SET shared_buffers = '$shared_buffers'" &&
      bash "$root/scripts/pg-cluster.sh" restart "$tmp/pg" ||
      { echo "bench-load-pg: cannot set shared_buffers = $shared_buffers" >&2; exit 1; }
  fi
fi
echo "PostgreSQL: $(psql "$dsn" -XAtc "SELECT 'shared_buffers ' || current_setting('shared_buffers')
  || ', ' || split_part(version(), ' on ', 1)" 2>/dev/null)"
base="${dsn%/*}"

# The postmaster's pid, for the CPU figures (empty when it cannot be found).
db_pid=""
if [ "$own_cluster" = 1 ]; then
  db_pid="$(head -1 "$tmp/pg/data/postmaster.pid" 2>/dev/null || true)"
else
  datadir="$(psql "$dsn" -XAtc "SELECT setting FROM pg_settings WHERE name = 'data_directory'" \
    2>/dev/null || true)"
  [ -n "$datadir" ] && db_pid="$(head -1 "$datadir/postmaster.pid" 2>/dev/null || true)"
fi
case "$db_pid" in ''|*[!0-9]*) db_pid="" ;; esac

password="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

# setup NAME STORE_ARGS...: liaison init + a publisher in $tmp/NAME.
setup_hub() {
  local name="$1"; shift
  "$liaison" init --data "$tmp/$name" --org "Benchmark" "$@" >"$tmp/$name-init.log" 2>&1 ||
    { cat "$tmp/$name-init.log" >&2; return 1; }
  printf '%s\n' "$password" | "$liaison" user add bench --role publisher --password-stdin \
    --data "$tmp/$name" "$@" >"$tmp/$name-user.log" 2>&1 ||
    { cat "$tmp/$name-user.log" >&2; return 1; }
}

# start_node NAME LOG STORE_ARGS...: serve; sets PORT; appends the pid to pids.
start_node() {
  local name="$1" log="$2"; shift 2
  "$liaison" serve --data "$tmp/$name" --listen 127.0.0.1:0 "$@" >"$tmp/$log.out" 2>"$tmp/$log.err" &
  local pid=$! port="" i
  pids+=("$pid")
  for i in $(seq 1 300); do
    port="$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$tmp/$log.out" | head -1)"
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "bench-load-pg: $log did not start:" >&2; cat "$tmp/$log.err" >&2; return 1; }
  PORT="$port"
}

stop_all() {
  local p
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  pids=()
}

# run LABEL PORT...: the load generator against those nodes (the running ones: pids).
run_lg() {
  local label="$1"; shift
  local args=() p
  for p in "$@"; do args+=(--url "http://127.0.0.1:$p/api/"); done
  for p in "${pids[@]}"; do args+=(--hub-pid "$p"); done
  [ -z "$db_pid" ] || [ "$label" = sqlite ] || args+=(--db-pid "$db_pid")
  echo "== $label: N=$N B=$B C=$C read C=$READ_C page=$PAGE"
  "$lg" "${args[@]}" --user bench --password "$password" -n "$N" -b "$B" -c "$C" \
    --read-clients "$READ_C" --page-size "$PAGE" --json "$results/load_$label.json"
}

failed=0
# 1. SQLite, one node.
setup_hub sqlite || exit 1
start_node sqlite sqlite || exit 1
run_lg sqlite "$PORT" || failed=1
stop_all

# 2. PostgreSQL, one node (its own database).
db1="bench_pg1_$$"; db2="bench_pg2_$$"
psql "$dsn" -qc "CREATE DATABASE $db1" || exit 1
setup_hub pg1 --store "$base/$db1" || exit 1
start_node pg1 pg1 --store "$base/$db1" || exit 1
run_lg pg1 "$PORT" || failed=1
stop_all
# Its pages would otherwise share the buffer cache with the next run's.
psql "$dsn" -qc "DROP DATABASE $db1" || true

# 3. PostgreSQL, two nodes on one database (same hub.key), clients round-robin.
psql "$dsn" -qc "CREATE DATABASE $db2" || exit 1
setup_hub pg2 --store "$base/$db2" || exit 1
cp -r "$tmp/pg2" "$tmp/pg2b"
start_node pg2 pg2-node1 --store "$base/$db2" || exit 1
p1="$PORT"
start_node pg2b pg2-node2 --store "$base/$db2" || exit 1
run_lg pg2 "$p1" "$PORT" || failed=1
stop_all
if [ "$own_cluster" = 0 ]; then  # a shared cluster: leave it as we found it
  psql "$dsn" -qc "DROP DATABASE $db2" || true
fi

python3 - "$results" <<'PY'
import json, os, sys
res = sys.argv[1]
runs = {}
for label in ("sqlite", "pg1", "pg2"):
    try:
        with open(os.path.join(res, "load_%s.json" % label)) as f:
            runs[label] = json.load(f)
    except (OSError, ValueError):
        pass
cols = [("ingest_objects_per_s", "ingest obj/s"), ("post_p50_ms", "POST p50 ms"),
        ("post_p99_ms", "POST p99 ms"), ("read_objects_per_s", "read obj/s (1)"),
        ("concurrent_read_objects_per_s", "read obj/s (C)"), ("page_p50_ms", "page p50 ms"),
        ("page_p99_ms", "page p99 ms"), ("id_get_p50_ms", "id p50 ms"), ("id_get_p99_ms", "id p99 ms")]
names = {"sqlite": "SQLite, 1 node", "pg1": "PostgreSQL, 1 node", "pg2": "PostgreSQL, 2 nodes"}
print("\n%-22s" % "" + "".join("%16s" % c[1] for c in cols))
for label, r in runs.items():
    print("%-22s" % names[label] + "".join("%16.1f" % float(r.get(k, 0)) for k, _ in cols)
          + ("" if r.get("ok") else "  VERIFY FAILED"))
def ratio(a, b, key):
    if a in runs and b in runs and float(runs[b].get(key) or 0) > 0:
        return float(runs[a].get(key, 0)) / float(runs[b][key])
    return float("nan")
print("\nratios: PG 1 node / SQLite ingest %.2f, read %.2f, concurrent read %.2f"
      % (ratio("pg1", "sqlite", "ingest_objects_per_s"), ratio("pg1", "sqlite", "read_objects_per_s"),
         ratio("pg1", "sqlite", "concurrent_read_objects_per_s")))
print("        PG 2 nodes / PG 1 node ingest %.2f, concurrent read %.2f"
      % (ratio("pg2", "pg1", "ingest_objects_per_s"),
         ratio("pg2", "pg1", "concurrent_read_objects_per_s")))
# Where the CPU went in the concurrent read phase (microseconds of CPU per object read).
print("\nconcurrent read, CPU per object read (us): nodes / database (of it background:"
      " autovacuum, writers) / load generator; machine busy")
for label, r in runs.items():
    c = r.get("cpu", {}).get("concurrent_read")
    if not c:
        continue
    n = float(r.get("concurrent_read_objects_per_s", 0)) * float(c.get("wall_s", 0))
    def us(key):
        v = float(c.get(key, -1))
        return "%8.1f" % (v * 1e6 / n) if v >= 0 and n > 0 else "       -"
    busy = float(c.get("machine_busy", -1))
    print("%-22s %s %s (%s) %s   %s of %d CPUs" % (names[label], us("hub_cpu_s"), us("db_cpu_s"),
          us("db_background_cpu_s").strip(), us("load_generator_cpu_s"),
          "%3.0f%%" % (busy * 100) if busy >= 0 else "  ?", int(c.get("cpus", 0))))
# Other work on a shared machine moves the wall-clock figures by tens of percent; CPU per object
# does not move much. "If alone": the concurrent read rate these processes would reach with every
# CPU of the machine to themselves (CPUs / CPU seconds per object).
alone = {}
for label, r in runs.items():
    c = r.get("cpu", {}).get("concurrent_read")
    n = float(r.get("concurrent_read_objects_per_s", 0)) * float((c or {}).get("wall_s", 0))
    if not c or n <= 0 or float(c.get("hub_cpu_s", -1)) < 0:
        continue
    used = sum(max(0.0, float(c.get(k, 0))) for k in ("hub_cpu_s", "db_cpu_s", "load_generator_cpu_s"))
    if used > 0:
        alone[label] = int(c.get("cpus", 0)) * n / used
if alone:
    print("concurrent read if alone on the machine (objects/s): " +
          ", ".join("%s %.0f" % (names[k], v) for k, v in alone.items()))
    if "pg1" in alone and "pg2" in alone:
        print("        PG 2 nodes / PG 1 node, if alone: %.2f" % (alone["pg2"] / alone["pg1"]))
PY
exit "$failed"

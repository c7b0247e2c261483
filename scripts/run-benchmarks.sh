#!/usr/bin/env bash
# Runs every benchmark built in BUILD_DIR (called by `make bench` with build/bench):
#  1. the end-to-end load test: a fresh hub in a temporary directory (init, one publisher),
#     served on a free loopback port, driven by bench/load_generator;
#  2. every benchmark binary found in BUILD_DIR (*_benchmark, *_bench), with short settings.
# Results (JSON) go to BUILD_DIR/bench-results/. Exit status: non-zero if any benchmark failed or
# the load generator's nothing-lost check failed.
#
# Settings (environment): LIAISON_BENCH_N (objects, default 100000), LIAISON_BENCH_B (per
# envelope, 1000), LIAISON_BENCH_C (clients, 4), LIAISON_BENCH_PAGE (page size, 1000),
# LIAISON_BENCH_MIN_TIME (Google Benchmark min time per benchmark in seconds, 0.05; raise for
# stable figures), LIAISON_BENCH_FILTER (regex passed as --benchmark_filter), LIAISON_BENCH_FULL=1
# (other benchmark tools run with their own full defaults instead of quick settings),
# LIAISON_BENCH_PG=1 (also the load test on PostgreSQL, 1 and 2 nodes: scripts/bench-load-pg.sh).
set -uo pipefail

build="${1:-build/bench}"
if [ ! -d "$build" ]; then
  echo "run-benchmarks: no build directory $build" >&2
  exit 2
fi
build="$(cd "$build" && pwd)"
N="${LIAISON_BENCH_N:-100000}"
B="${LIAISON_BENCH_B:-1000}"
C="${LIAISON_BENCH_C:-4}"
PAGE="${LIAISON_BENCH_PAGE:-1000}"
MIN_TIME="${LIAISON_BENCH_MIN_TIME:-0.05}"
FILTER="${LIAISON_BENCH_FILTER:-}"
results="$build/bench-results"
mkdir -p "$results"
failed=0

tmp="$(mktemp -d "${TMPDIR:-/tmp}/liaison-bench.XXXXXX")"
hub_pid=""
cleanup() {
  if [ -n "$hub_pid" ] && kill -0 "$hub_pid" 2>/dev/null; then
    kill -TERM "$hub_pid" 2>/dev/null
    wait "$hub_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------------------ load test
run_load_test() {
  local liaison="$build/src/cli/liaison" lg="$build/bench/load_generator"
  if [ ! -x "$liaison" ] || [ ! -x "$lg" ]; then
    echo "== load test skipped: $liaison or $lg not built"
    return 0
  fi
  echo "== load test: N=$N B=$B C=$C page=$PAGE"
  if ! "$liaison" init --data "$tmp/hub" --org "Benchmark" >"$tmp/init.log" 2>&1; then
    echo "run-benchmarks: liaison init failed:" >&2
    cat "$tmp/init.log" >&2
    return 1
  fi
  local password
  password="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  if ! printf '%s\n' "$password" |
      "$liaison" user add bench --role publisher --password-stdin --data "$tmp/hub" \
        >"$tmp/user.log" 2>&1; then
    echo "run-benchmarks: liaison user add failed:" >&2
    cat "$tmp/user.log" >&2
    return 1
  fi
  "$liaison" serve --data "$tmp/hub" --listen 127.0.0.1:0 >"$tmp/serve.out" 2>"$tmp/serve.err" &
  hub_pid=$!
  local port="" i
  for i in $(seq 1 300); do
    port="$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$tmp/serve.out" | head -1)"
    [ -n "$port" ] && break
    if ! kill -0 "$hub_pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "run-benchmarks: the hub did not start:" >&2
    cat "$tmp/serve.err" >&2
    return 1
  fi
  echo "hub pid $hub_pid on 127.0.0.1:$port (data in $tmp/hub)"
  local rc=0
  "$lg" --url "http://127.0.0.1:$port/api/" --user bench --password "$password" \
    -n "$N" -b "$B" -c "$C" --page-size "$PAGE" --hub-pid "$hub_pid" \
    --json "$results/load_generator.json" || rc=$?
  local hub_rss
  hub_rss="$(awk '/VmHWM/ {print $2 " " $3}' "/proc/$hub_pid/status" 2>/dev/null)"
  [ -n "$hub_rss" ] && echo "hub peak RSS: $hub_rss"
  du -sh "$tmp/hub" 2>/dev/null | awk '{print "hub data size: " $1}'
  kill -TERM "$hub_pid" 2>/dev/null
  wait "$hub_pid"
  local hub_rc=$?
  hub_pid=""
  if [ "$hub_rc" -ne 0 ]; then
    echo "run-benchmarks: hub exited $hub_rc on SIGTERM" >&2
    tail -20 "$tmp/serve.err" >&2
    rc=1
  fi
  return "$rc"
}

run_load_test || failed=1

# ------------------------------------------------------------------------------ PostgreSQL load test
# LIAISON_BENCH_PG=1: the same load against SQLite, PostgreSQL with one node and with two nodes, in
# one run, with the ratios (scripts/bench-load-pg.sh; starts its own throwaway cluster).
if [ "${LIAISON_BENCH_PG:-0}" = 1 ]; then
  bash "$(dirname "$0")/bench-load-pg.sh" "$build" || failed=1
fi

# ------------------------------------------------------------------------------ benchmark binaries
# Google Benchmark binaries get a short --benchmark_min_time and JSON output. Other load tools
# (their --help does not mention --benchmark_filter) run with quick settings from the table below
# (their own defaults with LIAISON_BENCH_FULL=1).
quick_args() {
  case "$1" in
    pattern_benchmark) echo "--indicators 100000 --regex 1000 --compound 100 --observations 1000000" ;;
    # Two hubs partnered (issue 4); full run: 10,000 latency samples, 100,000 objects replicated.
    federation_benchmark) echo "--latency 2000 --throughput 20000 --backlog 20000" ;;
    *) echo "" ;;
  esac
}
mapfile -t benches < <(find "$build" -type f -perm -u+x \( -name '*_benchmark' -o -name '*_bench' \) \
  -not -path '*/CMakeFiles/*' | sort)
if [ "${#benches[@]}" -eq 0 ]; then
  echo "== no benchmark binaries in $build"
fi
for bench in "${benches[@]}"; do
  name="$(basename "$bench")"
  if "$bench" --help 2>&1 | grep -q -- '--benchmark_filter'; then
    echo "== $name (Google Benchmark, min time ${MIN_TIME}s per benchmark)"
    args=(--benchmark_min_time="$MIN_TIME" --benchmark_out="$results/$name.json"
          --benchmark_out_format=json)
    [ -n "$FILTER" ] && args+=(--benchmark_filter="$FILTER")
  else
    args=()
    if [ -z "${LIAISON_BENCH_FULL:-}" ]; then
      read -r -a args <<<"$(quick_args "$name")"
    fi
    echo "== $name ${args[*]:-(its defaults)}"
  fi
  if ! (cd "$tmp" && "$bench" "${args[@]}" 2>&1 | tee "$results/$name.txt"; exit "${PIPESTATUS[0]}"); then
    echo "run-benchmarks: $name failed" >&2
    failed=1
  fi
done

echo "== results in $results"
exit "$failed"

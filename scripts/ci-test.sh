#!/usr/bin/env bash
# Runs the whole test suite (ctest: unit, store conformance, end-to-end) against SQLite and a
# throwaway PostgreSQL cluster. Called by `make test` (and so by .ci/run) after the build.
#
#   scripts/ci-test.sh BUILD_DIR [JOBS]
#
# The cluster lives in a temporary directory on a free loopback port (scripts/pg-cluster.sh) and is
# stopped and deleted on every exit path. LIAISON_TEST_PG_DSN and LIAISON_TEST_PG_DIR point the
# PostgreSQL store tests and the e2e_pg_* suites at it. If PostgreSQL cannot start, this fails:
# CI never silently skips the PostgreSQL backend.
#
# Environment: LIAISON_CI_PG_PORT (default: a free port picked by the kernel), CTEST_ARGS (extra
# ctest arguments for both phases), LIAISON_CI_KEEP_PG=1 (leave the cluster running: prints
# how to stop it).
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir="${1:?usage: scripts/ci-test.sh BUILD_DIR [JOBS]}"
jobs="${2:-$(nproc)}"
[ -d "$build_dir" ] || { echo "ci-test: no build directory $build_dir" >&2; exit 1; }

pg_dir="$(mktemp -d "${TMPDIR:-/tmp}/liaison-ci-pg.XXXXXX")"
started=0
cleanup() {
  local rc=$?
  if [ "$started" = 1 ] && [ "${LIAISON_CI_KEEP_PG:-0}" != 1 ]; then
    bash scripts/pg-cluster.sh stop "$pg_dir" || echo "ci-test: could not stop PostgreSQL in $pg_dir" >&2
  fi
  if [ "${LIAISON_CI_KEEP_PG:-0}" = 1 ] && [ "$started" = 1 ]; then
    echo "ci-test: PostgreSQL left running; stop it with: scripts/pg-cluster.sh stop $pg_dir" >&2
  else
    rm -rf "$pg_dir"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port="${LIAISON_CI_PG_PORT:-}"
if [ -z "$port" ]; then
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
fi

t0=$(date +%s)
started=1
if ! dsn="$(bash scripts/pg-cluster.sh start "$pg_dir" "$port")"; then
  echo "ci-test: ERROR: cannot start a PostgreSQL cluster on 127.0.0.1:$port in $pg_dir." >&2
  echo "ci-test: the PostgreSQL backend cannot be tested; failing (install postgresql: make deps)." >&2
  [ -f "$pg_dir/server.log" ] && tail -n 30 "$pg_dir/server.log" >&2
  exit 1
fi
# Prove the cluster answers before running anything against it.
if ! psql "$dsn" -qtAc 'SELECT 1' >/dev/null; then
  echo "ci-test: ERROR: PostgreSQL started but does not answer at $dsn" >&2
  exit 1
fi
export LIAISON_TEST_PG_DSN="$dsn"
export LIAISON_TEST_PG_DIR="$pg_dir"
echo "ci-test: PostgreSQL at $dsn (data in $pg_dir)"

# Phase 1, in parallel: everything except the tests that restart the cluster (they would break
# the others' connections). Phase 2, one at a time: those tests, with LIAISON_TEST_PG_DIR set.
restarting='DatabaseRestart|test_multinode'
rc=0
# shellcheck disable=SC2086
(cd "$build_dir" && env -u LIAISON_TEST_PG_DIR \
   ctest --output-on-failure -j "$jobs" --timeout 600 -E "$restarting" ${CTEST_ARGS:-}) || rc=$?
t1=$(date +%s)
echo "ci-test: phase 1 (parallel) finished in $(( t1 - t0 )) s (exit $rc)"
# shellcheck disable=SC2086
(cd "$build_dir" && ctest --output-on-failure -j 1 --timeout 600 -R "$restarting" ${CTEST_ARGS:-}) || rc=$?
echo "ci-test: phase 2 (cluster restarts, serial) finished in $(( $(date +%s) - t1 )) s"
echo "ci-test: all tests finished in $(( $(date +%s) - t0 )) s (exit $rc)"
exit "$rc"

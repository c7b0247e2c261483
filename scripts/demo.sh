#!/usr/bin/env bash
# The partner scenario of issue 4 (`make demo`): three hubs A, B, C on loopback ports in temporary
# directories, partnered with the CLI; A publishes an AMBER+STRICT report for B; B matches its
# indicators, sends sightings and "acted on: suspects detained" back; A sees receipts and feedback;
# C receives nothing. Prints a timeline with measured latencies.
#
#   scripts/demo.sh [LIAISON_BINARY]      (default: $LIAISON_BIN, else build/release/src/cli/liaison)
#
# Exit status 0 only when every step held. The driver is tests/e2e/partner_demo.py (Python 3
# standard library; it shares the end-to-end tests' harness); the scenario's data files are in
# examples/partner-scenario/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-${LIAISON_BIN:-$root/build/release/src/cli/liaison}}"
if [ ! -x "$bin" ]; then
  echo "demo: no liaison binary at $bin (build it with 'make build', or pass its path)" >&2
  exit 2
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "demo: python3 is required" >&2
  exit 2
fi
exec python3 "$root/tests/e2e/partner_demo.py" --liaison "$bin"

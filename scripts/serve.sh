#!/usr/bin/env bash
# Used by `make serve`: creates the hub in DATA on first run (printing the generated admin
# password once), then serves it.
set -euo pipefail
bin="$1"; data="$2"; listen="$3"
if [ ! -e "$data/hub.db" ]; then
  "$bin" init --data "$data" --org "${LIAISON_ORG:-My Organisation}" --admin-user admin
fi
exec "$bin" serve --data "$data" --listen "$listen"

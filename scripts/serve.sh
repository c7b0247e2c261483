#!/usr/bin/env bash
# Used by `make serve`: creates the hub in DATA on first run (printing the generated admin
# password once; LIAISON_ORG names the organisation, LIAISON_URL is the public API root URL
# partners call), then serves it.
set -euo pipefail
bin="$1"; data="$2"; listen="$3"
if [ ! -e "$data/hub.db" ]; then
  init_args=(init --data "$data" --org "${LIAISON_ORG:-My Organisation}" --admin-user admin)
  if [ -n "${LIAISON_URL:-}" ]; then
    init_args+=(--url "$LIAISON_URL")
  fi
  "$bin" "${init_args[@]}"
fi
exec "$bin" serve --data "$data" --listen "$listen"

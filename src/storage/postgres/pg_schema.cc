#include "storage/postgres/pg_schema.h"

namespace liaison::storage::postgres {

// Schema 1: everything the Store holds as of issue 4 (the SQLite backend's schemas 1 and 2).
//
// Written for PostgreSQL 15 and kept to what the Postgres-compatible distributed engines
// (CockroachDB, YugabyteDB) also run: plain tables, B-tree and partial indexes, foreign keys with
// ON DELETE CASCADE, no triggers, no stored procedures, no extensions. Caveats for those engines
// (docs/ and the README say the same):
//  - BIGSERIAL (sequences) gives unique keys but not commit-ordered ones; the keys that readers
//    page by and must never skip are therefore NOT sequences: events.seq and audit.seq come from
//    the `counters` rows, taken under a row lock inside the writing transaction, and
//    objects.date_added from collections.last_date_added, also under the collection's row lock.
//    Sequences remain for api_roots/collections/channels (creation order), outbox (push order,
//    claimed per partner) and feedback (tie-break). On CockroachDB, SERIAL defaults to
//    unique_rowid() (unique, roughly time-ordered): fine for those uses.
//  - LISTEN/NOTIFY (the event wake-up) is PostgreSQL-only; elsewhere nodes fall back to polling
//    ListEvents (the events table is the source of truth, NOTIFY only wakes readers up).
//  - FOR UPDATE SKIP LOCKED (ClaimOutbox) exists in PostgreSQL, CockroachDB (22.2+) and YugabyteDB.
//
// Design notes for objects (same as SQLite's): primary key (coll, date_added) serves TAXII
// paging; objects_by_id (coll, id, version) serves match[id], duplicates and versions;
// objects_by_type (coll, type, date_added) serves match[type]; is_last/is_first mark the newest and
// oldest version of each (coll, id) so that match[version]=last/first are row filters.
// Labels are object columns; recipients use storage::EncodeRecipients' text form, NULL for none.
// json is TEXT (the bytes as received; never jsonb, which would re-serialise).
static constexpr std::string_view kSchema1 = R"sql(
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE api_roots (
  seq                BIGSERIAL PRIMARY KEY,
  name               TEXT NOT NULL UNIQUE,
  title              TEXT NOT NULL,
  description        TEXT NOT NULL,
  max_content_length BIGINT NOT NULL
);

CREATE TABLE collections (
  seq             BIGSERIAL PRIMARY KEY,
  id              TEXT NOT NULL UNIQUE,
  api_root        TEXT NOT NULL REFERENCES api_roots(name),
  title           TEXT NOT NULL,
  description     TEXT NOT NULL,
  alias           TEXT NOT NULL,
  media_types     TEXT NOT NULL,
  last_date_added BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX collections_by_root ON collections(api_root, seq);
CREATE UNIQUE INDEX collections_by_alias ON collections(api_root, alias) WHERE alias <> '';

CREATE TABLE grants (
  collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  subject       TEXT NOT NULL,
  can_read      BOOLEAN NOT NULL,
  can_write     BOOLEAN NOT NULL,
  PRIMARY KEY (collection_id, subject)
);

CREATE TABLE users (
  name          TEXT PRIMARY KEY,
  role          TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  disabled      BOOLEAN NOT NULL,
  created       BIGINT NOT NULL,
  partner       TEXT NOT NULL DEFAULT ''
);

CREATE TABLE api_keys (
  key_id      TEXT PRIMARY KEY,
  user_name   TEXT NOT NULL REFERENCES users(name),
  secret_hash TEXT NOT NULL,
  description TEXT NOT NULL,
  created     BIGINT NOT NULL,
  revoked     BOOLEAN NOT NULL
);
CREATE INDEX api_keys_by_user ON api_keys(user_name, key_id);

CREATE TABLE objects (
  coll          BIGINT NOT NULL REFERENCES collections(seq) ON DELETE CASCADE,
  date_added    BIGINT NOT NULL,
  id            TEXT NOT NULL,
  type          TEXT NOT NULL,
  spec_version  TEXT NOT NULL,
  version       BIGINT NOT NULL,
  has_version   BOOLEAN NOT NULL,
  is_last       BOOLEAN NOT NULL,
  is_first      BOOLEAN NOT NULL,
  json          TEXT NOT NULL,
  tlp           INTEGER NOT NULL,
  origin        TEXT NOT NULL,
  received_from TEXT NOT NULL,
  recipients    TEXT,
  sealed        BOOLEAN NOT NULL,
  signature     TEXT NOT NULL,
  PRIMARY KEY (coll, date_added)
);
CREATE UNIQUE INDEX objects_by_id ON objects(coll, id, version);
CREATE INDEX objects_by_type ON objects(coll, type, date_added);

CREATE TABLE statuses (
  id                TEXT PRIMARY KEY,
  api_root          TEXT NOT NULL,
  status            TEXT NOT NULL,
  request_timestamp BIGINT NOT NULL,
  total_count       BIGINT NOT NULL,
  success_count     BIGINT NOT NULL,
  failure_count     BIGINT NOT NULL,
  pending_count     BIGINT NOT NULL,
  owner             TEXT NOT NULL,
  successes         BYTEA NOT NULL,
  failures          BYTEA NOT NULL,
  pendings          BYTEA NOT NULL
);

CREATE TABLE partners (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  identity_json TEXT NOT NULL,
  url           TEXT NOT NULL,
  inbox         TEXT NOT NULL,
  sign_key      TEXT NOT NULL,
  box_key       TEXT NOT NULL,
  token         TEXT NOT NULL,
  user_name     TEXT NOT NULL,
  disabled      BOOLEAN NOT NULL,
  created       BIGINT NOT NULL
);

CREATE TABLE channels (
  seq               BIGSERIAL PRIMARY KEY,
  id                TEXT NOT NULL UNIQUE,
  partner           TEXT NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
  collection_id     TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  mode              TEXT NOT NULL,
  max_tlp           INTEGER NOT NULL,
  remote_collection TEXT NOT NULL,
  cursor            TEXT NOT NULL,
  created           BIGINT NOT NULL,
  UNIQUE (partner, collection_id, mode, remote_collection)
);
CREATE INDEX channels_by_created ON channels(created, seq);
CREATE INDEX channels_by_collection ON channels(collection_id);

CREATE TABLE outbox (
  seq           BIGSERIAL PRIMARY KEY,
  partner       TEXT NOT NULL,
  collection_id TEXT NOT NULL,
  object_id     TEXT NOT NULL,
  version       BIGINT NOT NULL,
  date_added    BIGINT NOT NULL,
  state         SMALLINT NOT NULL,
  attempts      INTEGER NOT NULL,
  next_attempt  BIGINT NOT NULL,
  delivered_at  BIGINT NOT NULL,
  error         TEXT NOT NULL,
  created       BIGINT NOT NULL,
  lease_until   BIGINT NOT NULL
);
CREATE INDEX outbox_by_partner ON outbox(partner, state, seq);
CREATE INDEX outbox_by_object ON outbox(object_id, seq);

CREATE TABLE events (
  seq           BIGINT PRIMARY KEY,
  time          BIGINT NOT NULL,
  kind          TEXT NOT NULL,
  collection_id TEXT NOT NULL,
  object_id     TEXT NOT NULL,
  version       BIGINT NOT NULL,
  tlp           INTEGER NOT NULL,
  origin        TEXT NOT NULL,
  received_from TEXT NOT NULL,
  recipients    TEXT,
  sealed        BOOLEAN NOT NULL,
  signature     TEXT NOT NULL,
  data          TEXT NOT NULL
);

CREATE TABLE audit (
  seq       BIGINT PRIMARY KEY,
  time      BIGINT NOT NULL,
  kind      TEXT NOT NULL,
  actor     TEXT NOT NULL,
  subject   TEXT NOT NULL,
  detail    TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);

CREATE TABLE feedback (
  seq              BIGSERIAL PRIMARY KEY,
  about_id         TEXT NOT NULL,
  feedback_id      TEXT NOT NULL,
  feedback_version BIGINT NOT NULL,
  from_id          TEXT NOT NULL,
  outcome          TEXT NOT NULL,
  note             TEXT NOT NULL,
  count            BIGINT NOT NULL,
  received         BIGINT NOT NULL
);
CREATE INDEX feedback_by_about ON feedback(about_id, received, feedback_id);

-- The heads of the strictly ordered sequences: events (value = last seq) and the audit chain
-- (value = last seq, hash = its hash). Locked by the transactions that append to them.
CREATE TABLE counters (
  name  TEXT PRIMARY KEY,
  value BIGINT NOT NULL,
  hash  TEXT NOT NULL
);
INSERT INTO counters(name, value, hash) VALUES ('events', 0, ''), ('audit', 0, '');
)sql";

const std::vector<std::string_view>& Migrations() {
  static const std::vector<std::string_view> kMigrations = {kSchema1};
  return kMigrations;
}

}  // namespace liaison::storage::postgres

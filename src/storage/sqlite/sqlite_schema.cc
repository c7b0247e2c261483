#include "storage/sqlite/sqlite_schema.h"

namespace liaison::storage::sqlite {

// Design notes for the objects table (schema 1):
//  - Clustered on (coll, date_added) (WITHOUT ROWID), so the TAXII paging query
//    `coll = ? AND date_added > ? ORDER BY date_added LIMIT n` is one range scan over consecutive
//    rows that stops after n+1 matches, whatever the collection's size.
//  - is_last/is_first mark the newest/oldest version of each (coll, id); AddObjects and
//    DeleteObject keep them current, so match[version]=last/first are row filters, not GROUP BYs.
//  - objects_by_id (coll, id, version) serves match[id], duplicate detection and versions;
//    objects_by_type (coll, type, date_added) serves match[type] in date_added order.
//  - collections.last_date_added is the high-water mark of date_added, read and advanced inside
//    the write transaction: values are never reused, even after deletes or across processes.
static constexpr std::string_view kSchema1 = R"sql(
CREATE TABLE settings (
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE api_roots (
  seq                INTEGER PRIMARY KEY,
  name               TEXT NOT NULL UNIQUE,
  title              TEXT NOT NULL,
  description        TEXT NOT NULL,
  max_content_length INTEGER NOT NULL
);

CREATE TABLE collections (
  seq             INTEGER PRIMARY KEY,
  id              TEXT NOT NULL UNIQUE,
  api_root        TEXT NOT NULL REFERENCES api_roots(name),
  title           TEXT NOT NULL,
  description     TEXT NOT NULL,
  alias           TEXT NOT NULL,
  media_types     TEXT NOT NULL,
  last_date_added INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX collections_by_root ON collections(api_root, seq);
CREATE UNIQUE INDEX collections_by_alias ON collections(api_root, alias) WHERE alias <> '';

CREATE TABLE grants (
  collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  subject       TEXT NOT NULL,
  can_read      INTEGER NOT NULL,
  can_write     INTEGER NOT NULL,
  PRIMARY KEY (collection_id, subject)
) WITHOUT ROWID;

CREATE TABLE users (
  name          TEXT PRIMARY KEY NOT NULL,
  role          TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  disabled      INTEGER NOT NULL,
  created       INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE api_keys (
  key_id      TEXT PRIMARY KEY NOT NULL,
  user        TEXT NOT NULL REFERENCES users(name),
  secret_hash TEXT NOT NULL,
  description TEXT NOT NULL,
  created     INTEGER NOT NULL,
  revoked     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX api_keys_by_user ON api_keys(user, key_id);

CREATE TABLE objects (
  coll         INTEGER NOT NULL REFERENCES collections(seq) ON DELETE CASCADE,
  date_added   INTEGER NOT NULL,
  id           TEXT NOT NULL,
  type         TEXT NOT NULL,
  spec_version TEXT NOT NULL,
  version      INTEGER NOT NULL,
  has_version  INTEGER NOT NULL,
  is_last      INTEGER NOT NULL,
  is_first     INTEGER NOT NULL,
  json         TEXT NOT NULL,
  PRIMARY KEY (coll, date_added)
) WITHOUT ROWID;
CREATE UNIQUE INDEX objects_by_id ON objects(coll, id, version);
CREATE INDEX objects_by_type ON objects(coll, type, date_added);

CREATE TABLE statuses (
  id                TEXT PRIMARY KEY NOT NULL,
  api_root          TEXT NOT NULL,
  status            TEXT NOT NULL,
  request_timestamp INTEGER NOT NULL,
  total_count       INTEGER NOT NULL,
  success_count     INTEGER NOT NULL,
  failure_count     INTEGER NOT NULL,
  pending_count     INTEGER NOT NULL,
  owner             TEXT NOT NULL,
  successes         BLOB NOT NULL,
  failures          BLOB NOT NULL,
  pendings          BLOB NOT NULL
);
)sql";

const std::vector<std::string_view>& Migrations() {
  static const std::vector<std::string_view> kMigrations = {kSchema1};
  return kMigrations;
}

}  // namespace liaison::storage::sqlite

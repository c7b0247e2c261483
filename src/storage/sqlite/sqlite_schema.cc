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

// Schema 2 (issue 4: partnership channels). Upgrades a schema-1 file in place.
//  - Object labels are columns of the object row (read with every object, metadata-only too),
//    placed before json so that metadata reads of large (overflowing) objects do not walk the
//    json's overflow pages; the objects table is therefore rebuilt (copied once) by this migration:
//    tlp (policy::Tlp as an integer), origin, received_from, sealed, signature, and recipients in
//    the compact text form of storage::EncodeRecipients (ids joined by ',', '\' and ',' escaped
//    with '\'), NULL for no recipients. Objects stored before schema 2 get the default label:
//    TLP:AMBER (2), origin "", no recipients, not sealed, no signature.
//  - outbox: one row per (object version, partner) to push. state is the OutboxState value
//    (0 queued, 1 delivered, 2 failed). outbox_by_partner serves ClaimOutbox (the partner's
//    queued rows in seq order); outbox_by_object serves ListOutbox for one object (receipts).
//    seq is AUTOINCREMENT so that a seq is never reused, even after DeletePartner.
//  - events: the live stream; seq (the rowid) is the paging key. Events are never deleted, so
//    the rowid (max + 1) is never reused; without AUTOINCREMENT an insert costs one b-tree write
//    (a future pruning must keep the newest event). The label is copied so that the stream can be
//    filtered without touching the objects.
//  - audit: the hash chain; seq is MAX(seq)+1 read inside the write transaction (BEGIN IMMEDIATE
//    holds the database's write lock), so appends from several processes form one chain.
//  - feedback: records about objects that originated here, listed by about_id.
//  - channels cascade with their partner and their collection.
static constexpr std::string_view kSchema2 = R"sql(
CREATE TABLE objects_v2 (
  coll          INTEGER NOT NULL REFERENCES collections(seq) ON DELETE CASCADE,
  date_added    INTEGER NOT NULL,
  id            TEXT NOT NULL,
  type          TEXT NOT NULL,
  spec_version  TEXT NOT NULL,
  version       INTEGER NOT NULL,
  has_version   INTEGER NOT NULL,
  is_last       INTEGER NOT NULL,
  is_first      INTEGER NOT NULL,
  tlp           INTEGER NOT NULL,
  origin        TEXT NOT NULL,
  received_from TEXT NOT NULL,
  recipients    TEXT,
  sealed        INTEGER NOT NULL,
  signature     TEXT NOT NULL,
  json          TEXT NOT NULL,
  PRIMARY KEY (coll, date_added)
) WITHOUT ROWID;
INSERT INTO objects_v2(coll, date_added, id, type, spec_version, version, has_version, is_last,
                       is_first, tlp, origin, received_from, recipients, sealed, signature, json)
  SELECT coll, date_added, id, type, spec_version, version, has_version, is_last, is_first,
         2, '', '', NULL, 0, '', json
  FROM objects;
DROP TABLE objects;
ALTER TABLE objects_v2 RENAME TO objects;
CREATE UNIQUE INDEX objects_by_id ON objects(coll, id, version);
CREATE INDEX objects_by_type ON objects(coll, type, date_added);

ALTER TABLE users ADD COLUMN partner TEXT NOT NULL DEFAULT '';

CREATE TABLE partners (
  id            TEXT PRIMARY KEY NOT NULL,
  name          TEXT NOT NULL,
  identity_json TEXT NOT NULL,
  url           TEXT NOT NULL,
  inbox         TEXT NOT NULL,
  sign_key      TEXT NOT NULL,
  box_key       TEXT NOT NULL,
  token         TEXT NOT NULL,
  user          TEXT NOT NULL,
  disabled      INTEGER NOT NULL,
  created       INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE channels (
  seq               INTEGER PRIMARY KEY,
  id                TEXT NOT NULL UNIQUE,
  partner           TEXT NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
  collection_id     TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  mode              TEXT NOT NULL,
  max_tlp           INTEGER NOT NULL,
  remote_collection TEXT NOT NULL,
  cursor            TEXT NOT NULL,
  created           INTEGER NOT NULL,
  UNIQUE (partner, collection_id, mode, remote_collection)
);
CREATE INDEX channels_by_created ON channels(created, seq);
CREATE INDEX channels_by_collection ON channels(collection_id);

CREATE TABLE outbox (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  partner       TEXT NOT NULL,
  collection_id TEXT NOT NULL,
  object_id     TEXT NOT NULL,
  version       INTEGER NOT NULL,
  date_added    INTEGER NOT NULL,
  state         INTEGER NOT NULL,
  attempts      INTEGER NOT NULL,
  next_attempt  INTEGER NOT NULL,
  delivered_at  INTEGER NOT NULL,
  error         TEXT NOT NULL,
  created       INTEGER NOT NULL,
  lease_until   INTEGER NOT NULL
);
CREATE INDEX outbox_by_partner ON outbox(partner, state, seq);
CREATE INDEX outbox_by_object ON outbox(object_id, seq);

CREATE TABLE events (
  seq           INTEGER PRIMARY KEY,
  time          INTEGER NOT NULL,
  kind          TEXT NOT NULL,
  collection_id TEXT NOT NULL,
  object_id     TEXT NOT NULL,
  version       INTEGER NOT NULL,
  tlp           INTEGER NOT NULL,
  origin        TEXT NOT NULL,
  received_from TEXT NOT NULL,
  recipients    TEXT,
  sealed        INTEGER NOT NULL,
  signature     TEXT NOT NULL,
  data          TEXT NOT NULL
);

CREATE TABLE audit (
  seq       INTEGER PRIMARY KEY,
  time      INTEGER NOT NULL,
  kind      TEXT NOT NULL,
  actor     TEXT NOT NULL,
  subject   TEXT NOT NULL,
  detail    TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);

CREATE TABLE feedback (
  seq              INTEGER PRIMARY KEY,
  about_id         TEXT NOT NULL,
  feedback_id      TEXT NOT NULL,
  feedback_version INTEGER NOT NULL,
  from_id          TEXT NOT NULL,
  outcome          TEXT NOT NULL,
  note             TEXT NOT NULL,
  count            INTEGER NOT NULL,
  received         INTEGER NOT NULL
);
CREATE INDEX feedback_by_about ON feedback(about_id, received, feedback_id);
)sql";

const std::vector<std::string_view>& Migrations() {
  static const std::vector<std::string_view> kMigrations = {kSchema1, kSchema2};
  return kMigrations;
}

}  // namespace liaison::storage::sqlite

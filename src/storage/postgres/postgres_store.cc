#include "storage/postgres/postgres_store.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>

#include "audit/chain.h"
#include "common/log.h"
#include "storage/postgres/pg_connection.h"
#include "storage/postgres/pg_schema.h"
#include "storage/store_util.h"

namespace liaison::storage::postgres {
namespace {

Status UnknownCollection(const std::string& id) {
  return NotFoundError("collection '" + id + "' does not exist");
}

// Rows per multi-row INSERT: well below libpq's 65535 parameters with 16 columns.
constexpr size_t kInsertChunk = 500;

// ---------------------------------------------------------------------------------------------
// Labels and rows

constexpr char kLabelColumns[] = "tlp, origin, received_from, recipients, sealed, signature";

// Appends the six label fields (kLabelColumns order) to a COPY row.
void CopyLabel(CopyRows& rows, const ObjectLabel& label, bool with_signature = true) {
  rows.Field(int64_t{label.tlp}).Field(label.origin).Field(label.received_from);
  if (label.recipients.empty()) {
    rows.Null();
  } else {
    rows.Field(EncodeRecipients(label.recipients));
  }
  rows.Field(label.sealed).Field(with_signature ? std::string_view(label.signature) : "");
}

Result<ObjectLabel> ReadLabel(const PgResult& r, int row, int first) {
  ObjectLabel label;
  label.tlp = static_cast<int32_t>(r.Int(row, first));
  label.origin = r.Text(row, first + 1);
  label.received_from = r.Text(row, first + 2);
  if (!r.IsNull(row, first + 3)) {
    ASSIGN_OR_RETURN(label.recipients, DecodeRecipients(r.Text(row, first + 3)));
  }
  label.sealed = r.Bool(row, first + 4);
  label.signature = r.Text(row, first + 5);
  return label;
}

constexpr char kObjectColumns[] =
    "o.date_added, o.id, o.type, o.spec_version, o.version, o.tlp, o.origin, o.received_from, "
    "o.recipients, o.sealed, o.signature";
constexpr int kObjectJsonColumn = 11;

Result<StoredObject> ReadObjectRow(const PgResult& r, int row, bool with_json) {
  StoredObject o;
  o.date_added = r.Int(row, 0);
  o.id = r.Text(row, 1);
  o.type = r.Text(row, 2);
  o.spec_version = r.Text(row, 3);
  o.version = r.Int(row, 4);
  ASSIGN_OR_RETURN(o.label, ReadLabel(r, row, 5));
  if (with_json) o.json = r.Text(row, kObjectJsonColumn);
  return o;
}

struct CollectionRow {
  int64_t seq = 0;
  int64_t last_date_added = 0;
};

// `lock`: FOR NO KEY UPDATE, serialising writers of the collection (date_added, is_last/is_first)
// without blocking inserts that only reference it (grants, channels take FOR KEY SHARE).
Result<CollectionRow> LookupCollection(PgConnection& c, const std::string& id, bool lock) {
  Params p;
  std::string sql = "SELECT seq, last_date_added FROM collections WHERE id = " + p.Add(id);
  if (lock) sql += " FOR NO KEY UPDATE";
  ASSIGN_OR_RETURN(PgResult r, c.ExecPrepared(sql, p));
  if (r.rows() == 0) return UnknownCollection(id);
  return CollectionRow{r.Int(0, 0), r.Int(0, 1)};
}

Result<bool> Exists(PgConnection& c, const std::string& sql, const std::vector<std::string>& args) {
  Params p;
  for (const std::string& a : args) p.Add(a);
  ASSIGN_OR_RETURN(PgResult r, c.ExecPrepared(sql, p));
  return r.rows() > 0;
}

constexpr char kCollectionColumns[] = "id, api_root, title, description, alias, media_types";

Collection ReadCollectionRow(const PgResult& r, int row) {
  Collection c;
  c.id = r.Text(row, 0);
  c.api_root = r.Text(row, 1);
  c.title = r.Text(row, 2);
  c.description = r.Text(row, 3);
  c.alias = r.Text(row, 4);
  c.media_types = SplitLines(r.Text(row, 5));
  return c;
}

constexpr char kUserColumns[] = "name, role, password_hash, disabled, created, partner";

Result<User> ReadUserRow(const PgResult& r, int row) {
  User u;
  u.name = r.Text(row, 0);
  Result<Role> role = ParseRole(r.Text(row, 1));
  if (!role.ok()) return DataLossError("user '" + u.name + "' has a corrupt role");
  u.role = *role;
  u.password_hash = r.Text(row, 2);
  u.disabled = r.Bool(row, 3);
  u.created = r.Int(row, 4);
  u.partner = r.Text(row, 5);
  return u;
}

constexpr char kApiKeyColumns[] = "key_id, user_name, secret_hash, description, created, revoked";

ApiKey ReadApiKeyRow(const PgResult& r, int row) {
  ApiKey k;
  k.key_id = r.Text(row, 0);
  k.user = r.Text(row, 1);
  k.secret_hash = r.Text(row, 2);
  k.description = r.Text(row, 3);
  k.created = r.Int(row, 4);
  k.revoked = r.Bool(row, 5);
  return k;
}

constexpr char kOutboxColumns[] =
    "seq, partner, collection_id, object_id, version, date_added, state, attempts, next_attempt, "
    "delivered_at, error, created, lease_until";

Result<OutboxRow> ReadOutboxRow(const PgResult& r, int row) {
  OutboxRow o;
  o.seq = r.Int(row, 0);
  o.partner = r.Text(row, 1);
  o.collection_id = r.Text(row, 2);
  o.object_id = r.Text(row, 3);
  o.version = r.Int(row, 4);
  o.date_added = r.Int(row, 5);
  const int64_t state = r.Int(row, 6);
  if (state < 0 || state > 2) return DataLossError("an outbox row has a corrupt state");
  o.state = static_cast<OutboxState>(state);
  o.attempts = static_cast<int32_t>(r.Int(row, 7));
  o.next_attempt = r.Int(row, 8);
  o.delivered_at = r.Int(row, 9);
  o.error = r.Text(row, 10);
  o.created = r.Int(row, 11);
  o.lease_until = r.Int(row, 12);
  return o;
}

constexpr char kPartnerColumns[] =
    "id, name, identity_json, url, inbox, sign_key, box_key, token, user_name, disabled, created";

Partner ReadPartnerRow(const PgResult& r, int row) {
  Partner p;
  p.id = r.Text(row, 0);
  p.name = r.Text(row, 1);
  p.identity_json = r.Text(row, 2);
  p.url = r.Text(row, 3);
  p.inbox = r.Text(row, 4);
  p.sign_key = r.Text(row, 5);
  p.box_key = r.Text(row, 6);
  p.token = r.Text(row, 7);
  p.user = r.Text(row, 8);
  p.disabled = r.Bool(row, 9);
  p.created = r.Int(row, 10);
  return p;
}

constexpr char kChannelColumns[] =
    "id, partner, collection_id, mode, max_tlp, remote_collection, cursor, created";

Result<Channel> ReadChannelRow(const PgResult& r, int row) {
  Channel ch;
  ch.id = r.Text(row, 0);
  ch.partner = r.Text(row, 1);
  ch.collection_id = r.Text(row, 2);
  Result<ChannelMode> mode = ParseChannelMode(r.Text(row, 3));
  if (!mode.ok()) return DataLossError("channel '" + ch.id + "' has a corrupt mode");
  ch.mode = *mode;
  ch.max_tlp = static_cast<int32_t>(r.Int(row, 4));
  ch.remote_collection = r.Text(row, 5);
  ch.cursor = r.Text(row, 6);
  ch.created = r.Int(row, 7);
  return ch;
}

// ---------------------------------------------------------------------------------------------
// Helpers that run inside a transaction the caller holds.

// The label of the newest stored version (highest version, then latest date_added) of `id` in any
// collection; nullopt when the id is unknown. One objects_by_id probe per collection.
Result<std::optional<ObjectLabel>> NewestLabel(PgConnection& c, const std::string& id) {
  Params p;
  ASSIGN_OR_RETURN(
      PgResult r,
      c.Exec(std::string("SELECT ") + kLabelColumns +
                 " FROM collections c JOIN objects o ON o.coll = c.seq WHERE o.id = " + p.Add(id) +
                 " AND o.is_last ORDER BY o.version DESC, o.date_added DESC LIMIT 1",
             p));
  if (r.rows() == 0) return std::optional<ObjectLabel>();
  ASSIGN_OR_RETURN(ObjectLabel label, ReadLabel(r, 0, 0));
  return std::optional<ObjectLabel>(std::move(label));
}

// The label of one stored version; nullopt when the collection or the version is unknown.
Result<std::optional<ObjectLabel>> VersionLabel(PgConnection& c, const std::string& collection_id,
                                                const std::string& id, int64_t version) {
  Params p;
  std::string sql =
      std::string("SELECT ") + kLabelColumns +
      " FROM collections c JOIN objects o ON o.coll = c.seq WHERE c.id = " + p.Add(collection_id) +
      " AND o.id = " + p.Add(id) + " AND o.version = " + p.Add(version);
  ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
  if (r.rows() == 0) return std::optional<ObjectLabel>();
  ASSIGN_OR_RETURN(ObjectLabel label, ReadLabel(r, 0, 0));
  return std::optional<ObjectLabel>(std::move(label));
}

// Appends events: their seqs come from the events counter row, locked (by the UPDATE) until the
// transaction ends, so seqs are gap-free and become visible in seq order whatever node writes.
// Then NOTIFY (delivered by PostgreSQL at commit, only if the transaction commits).
Status AppendEvents(PgConnection& c, std::vector<HubEvent>& events, const std::string& channel) {
  if (events.empty()) return Status::Ok();
  int64_t last = 0;
  {
    Params p;
    ASSIGN_OR_RETURN(PgResult r, c.Exec("UPDATE counters SET value = value + " +
                                            p.Add(static_cast<int64_t>(events.size())) +
                                            " WHERE name = 'events' RETURNING value",
                                        p));
    if (r.rows() != 1) return DataLossError("the events counter row is missing");
    last = r.Int(0, 0);
  }
  int64_t seq = last - static_cast<int64_t>(events.size());
  for (HubEvent& e : events) e.seq = ++seq;
  CopyRows rows;
  for (const HubEvent& e : events) {
    rows.Field(e.seq).Field(e.time).Field(e.kind).Field(e.collection_id).Field(e.object_id);
    rows.Field(e.version);
    CopyLabel(rows, e.label, /*with_signature=*/false);  // events keep no signature (store.h)
    rows.Field(e.data);
    rows.EndRow();
  }
  RETURN_IF_ERROR(c.CopyIn(std::string("COPY events(seq, time, kind, collection_id, object_id, "
                                       "version, ") +
                               kLabelColumns + ", data) FROM STDIN",
                           rows.data()));
  Params p;
  std::string sql = "SELECT pg_notify(" + p.Add(channel) + ", " + p.Add(std::to_string(last)) + ")";
  ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
  return Status::Ok();
}

// Appends to the audit chain under the lock of its head row (counters 'audit'), so appends from
// every connection and node form one chain.
Result<std::vector<AuditRecord>> AppendAuditIn(PgConnection& c,
                                               const std::vector<AuditRecord>& records,
                                               int64_t now_micros) {
  std::vector<AuditRecord> out;
  if (records.empty()) return out;
  int64_t seq = 0;
  std::string prev_hash;
  {
    ASSIGN_OR_RETURN(PgResult r,
                     c.Exec("SELECT value, hash FROM counters WHERE name = 'audit' FOR UPDATE"));
    if (r.rows() != 1) return DataLossError("the audit chain head row is missing");
    seq = r.Int(0, 0);
    prev_hash = r.Text(0, 1);
  }
  out.reserve(records.size());
  for (const AuditRecord& given : records) {
    AuditRecord r = given;
    r.seq = ++seq;
    if (r.time == 0) r.time = now_micros;
    r.prev_hash = prev_hash;
    r.hash = audit::ChainHash(r);
    if (r.hash.empty()) return InternalError("cannot compute the audit hash (libsodium)");
    prev_hash = r.hash;
    out.push_back(std::move(r));
  }
  // COPY rather than multi-row VALUES: a publish appends one record per object, and binding
  // eight parameters per record cost more than the rows themselves.
  CopyRows rows;
  for (const AuditRecord& r : out) {
    rows.Field(r.seq).Field(r.time).Field(r.kind).Field(r.actor).Field(r.subject);
    rows.Field(r.detail).Field(r.prev_hash).Field(r.hash);
    rows.EndRow();
  }
  RETURN_IF_ERROR(
      c.CopyIn("COPY audit(seq, time, kind, actor, subject, detail, prev_hash, hash) FROM STDIN",
               rows.data()));
  Params p;
  std::string sql = "UPDATE counters SET value = " + p.Add(seq) + ", hash = " + p.Add(prev_hash) +
                    " WHERE name = 'audit'";
  ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
  return out;
}

// The SQL condition (on alias `o`) selecting versions by the query's version filters, or "" when
// every version qualifies. `default_last`: what empty filters mean (kLast for queries, every
// version for DeleteObject). "last"/"first" are judged among the versions matching spec_versions:
// the maintained flags without a spec_version filter, else a correlated MAX/MIN over the id's
// versions (an objects_by_id range).
std::string VersionCondition(const ObjectQuery& q, bool default_last, Params& p) {
  std::vector<VersionSelector> selectors = q.version_selectors;
  if (selectors.empty() && q.versions.empty()) {
    if (!default_last) return "";
    selectors.push_back(VersionSelector::kLast);
  }
  std::vector<std::string> terms;
  for (VersionSelector s : selectors) {
    if (s == VersionSelector::kAll) return "";
    bool last = s == VersionSelector::kLast;
    if (q.spec_versions.empty()) {
      terms.push_back(last ? "o.is_last" : "o.is_first");
    } else {
      terms.push_back(std::string("o.version = (SELECT ") + (last ? "MAX" : "MIN") +
                      "(o2.version) FROM objects o2 WHERE o2.coll = o.coll AND o2.id = o.id AND "
                      "o2.spec_version = ANY(" +
                      p.AddTextArray(q.spec_versions) + "))");
    }
  }
  if (!q.versions.empty()) terms.push_back("o.version = ANY(" + p.AddBigintArray(q.versions) + ")");
  std::string out = "(";
  for (size_t i = 0; i < terms.size(); ++i) {
    if (i > 0) out += " OR ";
    out += terms[i];
  }
  return out + ")";
}

ObjectPage FinishPage(std::vector<StoredObject> rows, size_t limit) {
  ObjectPage page;
  page.more = rows.size() > limit;
  if (page.more) rows.resize(limit);
  page.objects = std::move(rows);
  return page;
}

bool Retryable(const std::string& sqlstate) { return sqlstate == "40001" || sqlstate == "40P01"; }

std::string ChannelFor(const std::string& schema) {
  if (schema.empty() || schema == "public") return "liaison_events";
  return ("liaison_events_" + schema).substr(0, 63);
}

}  // namespace

bool IsPostgresUrl(std::string_view store) {
  return store.substr(0, 13) == "postgresql://" || store.substr(0, 11) == "postgres://";
}

// ---------------------------------------------------------------------------------------------
// Pool

class PostgresStore::Lease {
 public:
  Lease(PostgresStore* store, std::unique_ptr<PgConnection> connection)
      : store_(store), connection_(std::move(connection)) {}
  Lease(Lease&& other) noexcept = default;
  Lease& operator=(Lease&&) = delete;
  ~Lease() {
    if (connection_ != nullptr) store_->Release(std::move(connection_));
  }
  PgConnection& operator*() const { return *connection_; }
  PgConnection* operator->() const { return connection_.get(); }
  // Closes the connection instead of returning it (it failed in a way that leaves it unusable).
  void Discard() {
    connection_.reset();
    store_->Release(nullptr);
  }

 private:
  PostgresStore* store_;
  std::unique_ptr<PgConnection> connection_;
};

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& url) {
  return Open(url, Options());
}

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& url,
                                                           const Options& options) {
  if (url.empty()) return InvalidArgumentError("PostgreSQL URL is empty");
  if (options.pool_size < 1) return InvalidArgumentError("pool size must be at least 1");
  if (options.schema.empty()) return InvalidArgumentError("schema name is empty");
  ASSIGN_OR_RETURN(ConnectSpec spec, ResolveConnectSpec(url, options.connect_timeout_s,
                                                        options.application_name, options.schema));
  std::unique_ptr<PostgresStore> store(
      new PostgresStore(std::make_shared<const ConnectSpec>(std::move(spec)), options));
  RETURN_IF_ERROR(store->Migrate());
  // A hub loaded by other means (a restore, a node that stopped before checking): give the
  // planner statistics before the first page is read. An optimisation: failures only log.
  Result<std::vector<std::string>> analyzed = store->EnsureStatistics();
  if (!analyzed.ok()) {
    store->statistics_warned_ = true;
    LOG_WARN("postgres store: cannot check planner statistics: {}", analyzed.status().ToString());
  }
  return store;
}

int PostgresStore::SchemaVersion() { return static_cast<int>(Migrations().size()); }

PostgresStore::PostgresStore(std::shared_ptr<const ConnectSpec> spec, Options options)
    : spec_(std::move(spec)), options_(std::move(options)), channel_(ChannelFor(options_.schema)) {}

PostgresStore::~PostgresStore() = default;

Result<PostgresStore::Lease> PostgresStore::Acquire() {
  std::unique_lock<std::mutex> lock(pool_mu_);
  while (true) {
    while (!idle_.empty()) {
      std::unique_ptr<PgConnection> c = std::move(idle_.back());
      idle_.pop_back();
      if (c->healthy()) return Lease(this, std::move(c));
      --open_;  // dead while idle: drop it
    }
    if (open_ < options_.pool_size) {
      ++open_;
      lock.unlock();
      Result<std::unique_ptr<PgConnection>> c = PgConnection::Connect(*spec_);
      if (!c.ok()) {
        lock.lock();
        --open_;
        pool_cv_.notify_one();
        return c.status();
      }
      return Lease(this, std::move(c).value());
    }
    pool_cv_.wait(lock);
  }
}

void PostgresStore::Release(std::unique_ptr<PgConnection> connection) {
  std::lock_guard<std::mutex> lock(pool_mu_);
  if (connection != nullptr && connection->healthy()) {
    idle_.push_back(std::move(connection));
  } else {
    --open_;
  }
  pool_cv_.notify_one();
}

template <typename T, typename Body>
Result<T> PostgresStore::Write(const char* what, Body&& body) {
  bool reconnected = false;
  int retries = 0;
  while (true) {
    Result<Lease> lease = Acquire();
    if (!lease.ok()) return lease.status().WithContext(what);
    PgConnection& c = **lease;
    Status begun = c.ExecScript("BEGIN");
    if (!begun.ok()) {
      if (c.last_error_was_connection() && !reconnected) {
        reconnected = true;  // the pooled connection died while idle (e.g. server restart)
        lease->Discard();
        continue;
      }
      return begun.WithContext(what);
    }
    Result<T> result = body(c);
    if (!result.ok()) {
      const bool lost = c.last_error_was_connection();
      const std::string state = c.last_sqlstate();
      if (!lost) {
        Status rolled_back = c.ExecScript("ROLLBACK");
        if (!rolled_back.ok()) lease->Discard();
      } else {
        lease->Discard();
      }
      // Nothing was committed: retrying the whole transaction is safe.
      if (lost && !reconnected) {
        reconnected = true;
        continue;
      }
      if (Retryable(state) && retries < options_.transaction_retries) {
        ++retries;
        continue;
      }
      if (lost || Retryable(state)) return result.status().WithContext(what);
      return result;
    }
    Status committed = c.ExecScript("COMMIT");
    if (!committed.ok()) {
      // A serialization failure at commit rolled the transaction back: safe to retry. A lost
      // connection during COMMIT is ambiguous: report kUnavailable, never guess.
      if (Retryable(c.last_sqlstate()) && retries < options_.transaction_retries) {
        ++retries;
        continue;
      }
      if (c.last_error_was_connection()) lease->Discard();
      return committed.WithContext(what);
    }
    return result;
  }
}

template <typename Body>
Status PostgresStore::WriteStatus(const char* what, Body&& body) {
  Result<bool> r = Write<bool>(what, [&](PgConnection& c) -> Result<bool> {
    RETURN_IF_ERROR(body(c));
    return true;
  });
  return r.status();
}

template <typename T, typename Body>
Result<T> PostgresStore::Read(const char* what, Body&& body) {
  bool reconnected = false;
  while (true) {
    Result<Lease> lease = Acquire();
    if (!lease.ok()) return lease.status().WithContext(what);
    Result<T> result = body(**lease);
    if (!result.ok() && (*lease)->last_error_was_connection()) {
      lease->Discard();
      if (!reconnected) {
        reconnected = true;  // reads have no effect: retry once on a fresh connection
        continue;
      }
      return result.status().WithContext(what);
    }
    return result;
  }
}

// ---------------------------------------------------------------------------------------------
// Schema

Status PostgresStore::Migrate() {
  const auto& migrations = Migrations();
  Result<bool> done =
      Write<bool>("migrating the database schema", [&](PgConnection& c) -> Result<bool> {
        // One migrator at a time per schema, across every node: the lock is held to the end of the
        // transaction, and the second node then finds the schema current.
        {
          Params p;
          ASSIGN_OR_RETURN(PgResult r, c.Exec("SELECT pg_advisory_xact_lock(hashtext(" +
                                                  p.Add("liaison-schema:" + options_.schema) + "))",
                                              p));
        }
        RETURN_IF_ERROR(
            c.ExecScript("CREATE SCHEMA IF NOT EXISTS " + QuoteIdentifier(options_.schema) +
                         "; CREATE TABLE IF NOT EXISTS " + QuoteIdentifier(options_.schema) +
                         ".liaison_schema (version INTEGER NOT NULL)"));
        int64_t version = 0;
        bool has_row = false;
        {
          ASSIGN_OR_RETURN(PgResult r, c.Exec("SELECT version FROM liaison_schema"));
          if (r.rows() > 0) {
            has_row = true;
            version = r.Int(0, 0);
          }
        }
        if (version > static_cast<int64_t>(migrations.size())) {
          return FailedPreconditionError(
              "the PostgreSQL database at " + spec_->display + " has Liaison schema version " +
              std::to_string(version) + ", newer than this Liaison understands (" +
              std::to_string(migrations.size()) + "); use a newer Liaison");
        }
        for (size_t i = static_cast<size_t>(version); i < migrations.size(); ++i) {
          Status s = c.ExecScript(std::string(migrations[i]));
          if (!s.ok()) {
            return s.WithContext("migrating the database schema to version " +
                                 std::to_string(i + 1));
          }
        }
        Params p;
        std::string sql = has_row ? "UPDATE liaison_schema SET version = " +
                                        p.Add(static_cast<int64_t>(migrations.size()))
                                  : "INSERT INTO liaison_schema(version) VALUES (" +
                                        p.Add(static_cast<int64_t>(migrations.size())) + ")";
        ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
        return true;
      });
  return done.status();
}

// ---------------------------------------------------------------------------------------------
// Planner statistics

namespace {

// The tables read by key ranges in key order (paging by date_added, events and audit by seq,
// outbox by partner and seq), whose plans go wrong without statistics. Plain identifiers: they
// are spliced into ANALYZE as they are (the search_path names the schema).
constexpr const char* kRangeReadTables[] = {"objects", "events", "audit", "outbox"};

}  // namespace

Result<std::vector<std::string>> PostgresStore::EnsureStatistics() {
  return Read<std::vector<std::string>>(
      "checking table statistics", [&](PgConnection& c) -> Result<std::vector<std::string>> {
        std::vector<std::string> tables(std::begin(kRangeReadTables), std::end(kRangeReadTables));
        // pg_stats (unlike pg_statistic) is readable by the table's owner. An empty table gets no
        // statistics from ANALYZE, so only tables with pages are candidates.
        Params p;
        std::string sql =
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname = ANY(" +
            p.AddTextArray(tables) +
            ") AND pg_relation_size(c.oid) > 0 AND NOT EXISTS (SELECT 1 FROM pg_stats s WHERE "
            "s.schemaname = n.nspname AND s.tablename = c.relname) ORDER BY c.relname";
        // Prepared: the pg_stats view costs more to plan (~10 ms on a busy box) than to run.
        ASSIGN_OR_RETURN(PgResult r, c.ExecPrepared(sql, p));
        std::vector<std::string> missing;
        for (int i = 0; i < r.rows(); ++i) {
          std::string name = r.Text(i, 0);
          // Only our own constant names go into the statement.
          if (std::find(tables.begin(), tables.end(), name) != tables.end()) {
            missing.push_back(std::move(name));
          }
        }
        if (missing.empty()) return missing;
        std::string analyze = "ANALYZE (SKIP_LOCKED) ";
        for (size_t i = 0; i < missing.size(); ++i) {
          if (i > 0) analyze += ", ";
          analyze += missing[i];
        }
        RETURN_IF_ERROR(c.ExecScript(analyze));
        return missing;
      });
}

void PostgresStore::NoteRowsAdded(size_t rows) {
  const int64_t n = static_cast<int64_t>(rows);
  if (rows_since_statistics_check_.fetch_add(n) + n < kStatisticsCheckRows) return;
  bool expected = false;
  if (!checking_statistics_.compare_exchange_strong(expected, true)) return;  // another thread
  rows_since_statistics_check_ = 0;
  Result<std::vector<std::string>> analyzed = EnsureStatistics();
  if (!analyzed.ok() && !statistics_warned_.exchange(true)) {
    LOG_WARN(
        "postgres store: cannot refresh planner statistics (reads of a freshly loaded table "
        "may be slow until autovacuum analyzes it): {}",
        analyzed.status().ToString());
  }
  checking_statistics_ = false;
}

Status PostgresStore::DropSchema() {
  Status s = WriteStatus("dropping the schema", [&](PgConnection& c) -> Status {
    if (options_.schema == "public") {
      return c.ExecScript(
          "DROP TABLE IF EXISTS settings, api_roots, collections, grants, users, api_keys, "
          "objects, statuses, partners, channels, outbox, events, audit, feedback, counters, "
          "liaison_schema CASCADE");
    }
    return c.ExecScript("DROP SCHEMA IF EXISTS " + QuoteIdentifier(options_.schema) + " CASCADE");
  });
  return s;
}

// ---------------------------------------------------------------------------------------------
// Event listener

EventListener::EventListener(std::shared_ptr<const ConnectSpec> spec, std::string channel,
                             std::function<void()> on_notify, std::unique_ptr<PgConnection> first)
    : spec_(std::move(spec)), channel_(std::move(channel)), on_notify_(std::move(on_notify)) {
  thread_ = std::thread([this, c = std::move(first)]() mutable { Run(std::move(c)); });
}

EventListener::~EventListener() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void EventListener::Run(std::unique_ptr<PgConnection> connection) {
  while (!stop_) {
    if (connection == nullptr) {
      // Reconnect, then wake the caller: notifications sent while disconnected were lost.
      Result<std::unique_ptr<PgConnection>> c = PgConnection::Connect(*spec_);
      if (c.ok() && (*c)->ExecScript("LISTEN " + QuoteIdentifier(channel_)).ok()) {
        connection = std::move(c).value();
        ++notifications_;
        on_notify_();
      } else {
        for (int i = 0; i < 10 && !stop_; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        continue;
      }
    }
    PGconn* raw = connection->raw();
    pollfd fd{PQsocket(raw), POLLIN, 0};
    int ready = fd.fd < 0 ? -1 : poll(&fd, 1, 200);
    if (ready < 0 || (ready > 0 && PQconsumeInput(raw) == 0) || PQstatus(raw) != CONNECTION_OK) {
      connection.reset();
      continue;
    }
    bool woke = false;
    while (PGnotify* n = PQnotifies(raw)) {
      woke = true;
      PQfreemem(n);
    }
    if (woke) {
      ++notifications_;
      on_notify_();
    }
  }
}

Result<std::unique_ptr<EventListener>> PostgresStore::Listen(std::function<void()> on_notify) {
  if (!on_notify) return InvalidArgumentError("Listen needs a callback");
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> c, PgConnection::Connect(*spec_));
  RETURN_IF_ERROR(
      c->ExecScript("LISTEN " + QuoteIdentifier(channel_)).WithContext("listening for events"));
  return std::unique_ptr<EventListener>(
      new EventListener(spec_, channel_, std::move(on_notify), std::move(c)));
}

// ---------------------------------------------------------------------------------------------
// Settings

Result<std::optional<std::string>> PostgresStore::GetSetting(const std::string& key) {
  return Read<std::optional<std::string>>(
      "reading a setting", [&](PgConnection& c) -> Result<std::optional<std::string>> {
        Params p;
        ASSIGN_OR_RETURN(PgResult r,
                         c.ExecPrepared("SELECT value FROM settings WHERE key = " + p.Add(key), p));
        if (r.rows() == 0) return std::optional<std::string>();
        return std::optional<std::string>(r.Text(0, 0));
      });
}

Status PostgresStore::PutSetting(const std::string& key, const std::string& value) {
  if (key.empty()) return InvalidArgumentError("setting key is empty");
  return WriteStatus("saving a setting", [&](PgConnection& c) -> Status {
    Params p;
    std::string sql = "INSERT INTO settings(key, value) VALUES (" + p.Add(key) + ", " +
                      p.Add(value) + ") ON CONFLICT (key) DO UPDATE SET value = excluded.value";
    return c.Exec(sql, p).status();
  });
}

// ---------------------------------------------------------------------------------------------
// API roots

Status PostgresStore::CreateApiRoot(const ApiRoot& root) {
  if (root.name.empty()) return InvalidArgumentError("API root name is empty");
  return WriteStatus("creating an API root", [&](PgConnection& c) -> Status {
    Params p;
    std::string sql =
        "INSERT INTO api_roots(name, title, description, max_content_length) VALUES (" +
        p.Add(root.name) + ", " + p.Add(root.title) + ", " + p.Add(root.description) + ", " +
        p.Add(root.max_content_length) + ") ON CONFLICT (name) DO NOTHING";
    ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
    if (r.affected() == 0) return AlreadyExistsError("API root '" + root.name + "' exists");
    return Status::Ok();
  });
}

namespace {
ApiRoot ReadApiRootRow(const PgResult& r, int row) {
  ApiRoot a;
  a.name = r.Text(row, 0);
  a.title = r.Text(row, 1);
  a.description = r.Text(row, 2);
  a.max_content_length = r.Int(row, 3);
  return a;
}
}  // namespace

Result<std::vector<ApiRoot>> PostgresStore::ListApiRoots() {
  return Read<std::vector<ApiRoot>>(
      "listing API roots", [&](PgConnection& c) -> Result<std::vector<ApiRoot>> {
        ASSIGN_OR_RETURN(PgResult r, c.Exec("SELECT name, title, description, max_content_length "
                                            "FROM api_roots ORDER BY seq"));
        std::vector<ApiRoot> out;
        for (int i = 0; i < r.rows(); ++i) out.push_back(ReadApiRootRow(r, i));
        return out;
      });
}

Result<ApiRoot> PostgresStore::GetApiRoot(const std::string& name) {
  return Read<ApiRoot>("reading an API root", [&](PgConnection& c) -> Result<ApiRoot> {
    Params p;
    ASSIGN_OR_RETURN(PgResult r,
                     c.ExecPrepared("SELECT name, title, description, max_content_length "
                                    "FROM api_roots WHERE name = " +
                                        p.Add(name),
                                    p));
    if (r.rows() == 0) return NotFoundError("API root '" + name + "' does not exist");
    return ReadApiRootRow(r, 0);
  });
}

// ---------------------------------------------------------------------------------------------
// Collections

Status PostgresStore::CreateCollection(const Collection& collection) {
  if (collection.id.empty()) return InvalidArgumentError("collection id is empty");
  return WriteStatus("creating a collection", [&](PgConnection& c) -> Status {
    // Locking the API root row serialises collection creation within the root, so the id/alias
    // checks below cannot race with another node's.
    ASSIGN_OR_RETURN(bool root,
                     Exists(c, "SELECT 1 FROM api_roots WHERE name = $1 FOR NO KEY UPDATE",
                            {collection.api_root}));
    if (!root) return NotFoundError("API root '" + collection.api_root + "' does not exist");
    ASSIGN_OR_RETURN(bool taken,
                     Exists(c, "SELECT 1 FROM collections WHERE id = $1", {collection.id}));
    if (taken) return AlreadyExistsError("collection '" + collection.id + "' exists");
    ASSIGN_OR_RETURN(bool id_is_alias,
                     Exists(c, "SELECT 1 FROM collections WHERE api_root = $1 AND alias = $2",
                            {collection.api_root, collection.id}));
    if (id_is_alias) {
      return AlreadyExistsError("collection id '" + collection.id + "' is taken as an alias");
    }
    if (!collection.alias.empty()) {
      ASSIGN_OR_RETURN(bool alias_taken, Exists(c,
                                                "SELECT 1 FROM collections WHERE api_root = $1 AND "
                                                "(alias = $2 OR id = $2)",
                                                {collection.api_root, collection.alias}));
      if (alias_taken) {
        return AlreadyExistsError("collection alias '" + collection.alias + "' is taken");
      }
    }
    Params p;
    std::string sql =
        "INSERT INTO collections(id, api_root, title, description, alias, media_types) VALUES (" +
        p.Add(collection.id) + ", " + p.Add(collection.api_root) + ", " + p.Add(collection.title) +
        ", " + p.Add(collection.description) + ", " + p.Add(collection.alias) + ", " +
        p.Add(JoinLines(collection.media_types)) + ")";
    return c.Exec(sql, p).status();
  });
}

Result<std::vector<Collection>> PostgresStore::ListCollections(const std::string& api_root) {
  return Read<std::vector<Collection>>(
      "listing collections", [&](PgConnection& c) -> Result<std::vector<Collection>> {
        ASSIGN_OR_RETURN(bool root,
                         Exists(c, "SELECT 1 FROM api_roots WHERE name = $1", {api_root}));
        if (!root) return NotFoundError("API root '" + api_root + "' does not exist");
        Params p;
        ASSIGN_OR_RETURN(PgResult r, c.Exec(std::string("SELECT ") + kCollectionColumns +
                                                " FROM collections WHERE api_root = " +
                                                p.Add(api_root) + " ORDER BY seq",
                                            p));
        std::vector<Collection> out;
        for (int i = 0; i < r.rows(); ++i) out.push_back(ReadCollectionRow(r, i));
        return out;
      });
}

Result<Collection> PostgresStore::GetCollection(const std::string& api_root,
                                                const std::string& id_or_alias) {
  if (id_or_alias.empty()) return UnknownCollection(id_or_alias);
  return Read<Collection>("reading a collection", [&](PgConnection& c) -> Result<Collection> {
    // The id first, then the alias (CreateCollection keeps them from colliding in one root).
    Params p;
    std::string root = p.Add(api_root);
    std::string key = p.Add(id_or_alias);
    ASSIGN_OR_RETURN(PgResult r, c.ExecPrepared(std::string("SELECT ") + kCollectionColumns +
                                                    " FROM collections WHERE api_root = " + root +
                                                    " AND (id = " + key + " OR alias = " + key +
                                                    ") ORDER BY (id = " + key + ") DESC LIMIT 1",
                                                p));
    if (r.rows() == 0) return UnknownCollection(id_or_alias);
    return ReadCollectionRow(r, 0);
  });
}

Status PostgresStore::DeleteCollection(const std::string& api_root, const std::string& id) {
  return WriteStatus("deleting a collection", [&](PgConnection& c) -> Status {
    // Objects, grants and channels go with it (ON DELETE CASCADE).
    Params p;
    std::string sql =
        "DELETE FROM collections WHERE api_root = " + p.Add(api_root) + " AND id = " + p.Add(id);
    ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
    if (r.affected() == 0) return UnknownCollection(id);
    return Status::Ok();
  });
}

// ---------------------------------------------------------------------------------------------
// Grants

Status PostgresStore::PutGrant(const Grant& grant) {
  if (grant.subject.empty()) return InvalidArgumentError("grant subject is empty");
  return WriteStatus("saving a grant", [&](PgConnection& c) -> Status {
    ASSIGN_OR_RETURN(bool exists, Exists(c, "SELECT 1 FROM collections WHERE id = $1 FOR KEY SHARE",
                                         {grant.collection_id}));
    if (!exists) return UnknownCollection(grant.collection_id);
    Params p;
    std::string sql = "INSERT INTO grants(collection_id, subject, can_read, can_write) VALUES (" +
                      p.Add(grant.collection_id) + ", " + p.Add(grant.subject) + ", " +
                      p.Add(grant.can_read) + ", " + p.Add(grant.can_write) +
                      ") ON CONFLICT (collection_id, subject) DO UPDATE SET can_read = "
                      "excluded.can_read, can_write = excluded.can_write";
    return c.Exec(sql, p).status();
  });
}

Status PostgresStore::DeleteGrant(const std::string& collection_id, const std::string& subject) {
  return WriteStatus("deleting a grant", [&](PgConnection& c) -> Status {
    Params p;
    std::string sql = "DELETE FROM grants WHERE collection_id = " + p.Add(collection_id) +
                      " AND subject = " + p.Add(subject);
    ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
    if (r.affected() == 0) {
      return NotFoundError("no grant for '" + subject + "' on collection '" + collection_id + "'");
    }
    return Status::Ok();
  });
}

Result<std::vector<Grant>> PostgresStore::ListGrants(const std::string& collection_id) {
  return Read<std::vector<Grant>>(
      "listing grants", [&](PgConnection& c) -> Result<std::vector<Grant>> {
        // One statement (one round trip, one snapshot) for the collection and its grants, read
        // on every request: no row is an unknown collection, a NULL subject one without grants.
        Params p;
        ASSIGN_OR_RETURN(
            PgResult r,
            c.ExecPrepared("SELECT g.subject, g.can_read, g.can_write FROM collections c LEFT JOIN "
                           "grants g ON g.collection_id = c.id WHERE c.id = " +
                               p.Add(collection_id) + " ORDER BY g.subject",
                           p));
        if (r.rows() == 0) return UnknownCollection(collection_id);
        std::vector<Grant> out;
        for (int i = 0; i < r.rows(); ++i) {
          if (r.IsNull(i, 0)) continue;
          out.push_back({collection_id, r.Text(i, 0), r.Bool(i, 1), r.Bool(i, 2)});
        }
        return out;
      });
}

// ---------------------------------------------------------------------------------------------
// Users and API keys

Status PostgresStore::CreateUser(const User& user) {
  if (user.name.empty()) return InvalidArgumentError("user name is empty");
  return WriteStatus("creating a user", [&](PgConnection& c) -> Status {
    Params p;
    std::string sql = std::string("INSERT INTO users(") + kUserColumns + ") VALUES (" +
                      p.Add(user.name) + ", " + p.Add(RoleName(user.role)) + ", " +
                      p.Add(user.password_hash) + ", " + p.Add(user.disabled) + ", " +
                      p.Add(user.created) + ", " + p.Add(user.partner) +
                      ") ON CONFLICT (name) DO NOTHING";
    ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
    if (r.affected() == 0) return AlreadyExistsError("user '" + user.name + "' exists");
    return Status::Ok();
  });
}

Status PostgresStore::UpdateUser(const User& user) {
  return WriteStatus("updating a user", [&](PgConnection& c) -> Status {
    Params p;
    std::string sql = "UPDATE users SET role = " + p.Add(RoleName(user.role)) +
                      ", password_hash = " + p.Add(user.password_hash) +
                      ", disabled = " + p.Add(user.disabled) +
                      ", partner = " + p.Add(user.partner) + " WHERE name = " + p.Add(user.name);
    ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
    if (r.affected() == 0) return NotFoundError("user '" + user.name + "' does not exist");
    return Status::Ok();
  });
}

Result<User> PostgresStore::GetUser(const std::string& name) {
  return Read<User>("reading a user", [&](PgConnection& c) -> Result<User> {
    Params p;
    ASSIGN_OR_RETURN(PgResult r, c.ExecPrepared(std::string("SELECT ") + kUserColumns +
                                                    " FROM users WHERE name = " + p.Add(name),
                                                p));
    if (r.rows() == 0) return NotFoundError("user '" + name + "' does not exist");
    return ReadUserRow(r, 0);
  });
}

Result<std::vector<User>> PostgresStore::ListUsers() {
  return Read<std::vector<User>>(
      "listing users", [&](PgConnection& c) -> Result<std::vector<User>> {
        // COLLATE "C": byte order, like the other backends, whatever the database's locale.
        ASSIGN_OR_RETURN(PgResult r, c.Exec(std::string("SELECT ") + kUserColumns +
                                            " FROM users ORDER BY name COLLATE \"C\""));
        std::vector<User> out;
        for (int i = 0; i < r.rows(); ++i) {
          ASSIGN_OR_RETURN(User u, ReadUserRow(r, i));
          out.push_back(std::move(u));
        }
        return out;
      });
}

Status PostgresStore::CreateApiKey(const ApiKey& key) {
  if (key.key_id.empty()) return InvalidArgumentError("API key id is empty");
  return WriteStatus("creating an API key", [&](PgConnection& c) -> Status {
    ASSIGN_OR_RETURN(bool user,
                     Exists(c, "SELECT 1 FROM users WHERE name = $1 FOR KEY SHARE", {key.user}));
    if (!user) return NotFoundError("user '" + key.user + "' does not exist");
    Params p;
    std::string sql = std::string("INSERT INTO api_keys(") + kApiKeyColumns + ") VALUES (" +
                      p.Add(key.key_id) + ", " + p.Add(key.user) + ", " + p.Add(key.secret_hash) +
                      ", " + p.Add(key.description) + ", " + p.Add(key.created) + ", " +
                      p.Add(key.revoked) + ") ON CONFLICT (key_id) DO NOTHING";
    ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
    if (r.affected() == 0) return AlreadyExistsError("API key '" + key.key_id + "' exists");
    return Status::Ok();
  });
}

Result<ApiKey> PostgresStore::FindApiKey(const std::string& key_id) {
  return Read<ApiKey>("reading an API key", [&](PgConnection& c) -> Result<ApiKey> {
    Params p;
    ASSIGN_OR_RETURN(PgResult r,
                     c.ExecPrepared(std::string("SELECT ") + kApiKeyColumns +
                                        " FROM api_keys WHERE key_id = " + p.Add(key_id),
                                    p));
    if (r.rows() == 0) return NotFoundError("API key '" + key_id + "' does not exist");
    return ReadApiKeyRow(r, 0);
  });
}

Result<std::vector<ApiKey>> PostgresStore::ListApiKeys(const std::string& user) {
  return Read<std::vector<ApiKey>>(
      "listing API keys", [&](PgConnection& c) -> Result<std::vector<ApiKey>> {
        Params p;
        ASSIGN_OR_RETURN(PgResult r, c.Exec(std::string("SELECT ") + kApiKeyColumns +
                                                " FROM api_keys WHERE user_name = " + p.Add(user) +
                                                " ORDER BY key_id COLLATE \"C\"",
                                            p));
        std::vector<ApiKey> out;
        for (int i = 0; i < r.rows(); ++i) out.push_back(ReadApiKeyRow(r, i));
        return out;
      });
}

Status PostgresStore::RevokeApiKey(const std::string& key_id) {
  return WriteStatus("revoking an API key", [&](PgConnection& c) -> Status {
    Params p;
    ASSIGN_OR_RETURN(
        PgResult r,
        c.Exec("UPDATE api_keys SET revoked = true WHERE key_id = " + p.Add(key_id), p));
    if (r.affected() == 0) return NotFoundError("API key '" + key_id + "' does not exist");
    return Status::Ok();
  });
}

// ---------------------------------------------------------------------------------------------
// Objects

namespace {

// What AddObjects knows about the versions of one id in the collection: those in the database
// before the request plus those added so far by it.
struct IdState {
  bool has_any = false;
  int64_t min_version = 0;
  int64_t max_version = 0;
  std::set<int64_t> versions;
  std::vector<std::pair<std::string, int64_t>> unversioned;  // json bytes, version
  // Flag bookkeeping: the min/max the stored rows' is_first/is_last currently reflect.
  bool stored_any = false;
  int64_t stored_min = 0;
  int64_t stored_max = 0;
};

struct PendingRow {
  const NewObject* object;
  int64_t date_added;
  int64_t version;
};

}  // namespace

Result<AddObjectsResult> PostgresStore::AddObjects(const AddObjectsRequest& request,
                                                   int64_t now_micros) {
  RETURN_IF_ERROR(ValidateAddObjectsRequest(request));
  Result<AddObjectsResult> added = Write<
      AddObjectsResult>("adding objects", [&](PgConnection& c) -> Result<AddObjectsResult> {
    // The collection's row lock serialises writers of this collection on every node until
    // commit: date_added values are assigned and become visible in order.
    ASSIGN_OR_RETURN(CollectionRow coll, LookupCollection(c, request.collection_id, true));
    if (!request.status.id.empty()) {
      ASSIGN_OR_RETURN(bool taken,
                       Exists(c, "SELECT 1 FROM statuses WHERE id = $1", {request.status.id}));
      if (taken) return AlreadyExistsError("status '" + request.status.id + "' exists");
    }

    // One query for what is already stored under the request's ids.
    std::unordered_map<std::string, IdState> states;
    {
      std::vector<std::string> ids;
      for (const NewObject& o : request.objects) ids.push_back(o.id);
      ids = Dedup(ids);
      for (size_t start = 0; start < ids.size(); start += kMaxQueryValues) {
        std::vector<std::string> chunk(ids.begin() + static_cast<std::ptrdiff_t>(start),
                                       ids.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                         ids.size(), start + kMaxQueryValues)));
        Params p;
        std::string sql =
            "SELECT id, version, has_version, CASE WHEN has_version THEN NULL ELSE json END FROM "
            "objects WHERE coll = " +
            p.Add(coll.seq) + " AND id = ANY(" + p.AddTextArray(chunk) + ")";
        ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
        for (int i = 0; i < r.rows(); ++i) {
          IdState& st = states[r.Text(i, 0)];
          int64_t v = r.Int(i, 1);
          if (!st.has_any) {
            st.has_any = true;
            st.min_version = st.max_version = v;
          }
          st.min_version = std::min(st.min_version, v);
          st.max_version = std::max(st.max_version, v);
          st.versions.insert(v);
          if (!r.Bool(i, 2)) st.unversioned.emplace_back(r.Text(i, 3), v);
        }
      }
      for (auto& [id, st] : states) {
        st.stored_any = st.has_any;
        st.stored_min = st.min_version;
        st.stored_max = st.max_version;
      }
    }

    AddObjectsResult result;
    result.status = request.status;
    result.status.successes.reserve(result.status.successes.size() + request.objects.size());
    std::vector<HubEvent> events;
    std::vector<PendingRow> pending;     // object rows not yet inserted
    std::vector<PendingRow> added_rows;  // every new row (for outbox rows)
    std::vector<FeedbackRecord> feedback;
    int64_t last = coll.last_date_added;

    // Inserts the pending rows: first clears the flags of stored rows that stop being the
    // newest/oldest, then one multi-row INSERT per chunk with flags from the current state.
    auto flush = [&]() -> Status {
      if (pending.empty()) return Status::Ok();
      std::vector<std::string> clear_last, clear_first;
      std::set<std::string> seen;
      for (const PendingRow& row : pending) {
        const std::string& id = row.object->id;
        if (!seen.insert(id).second) continue;
        IdState& st = states[id];
        if (st.stored_any && st.max_version > st.stored_max) clear_last.push_back(id);
        if (st.stored_any && st.min_version < st.stored_min) clear_first.push_back(id);
      }
      if (!clear_last.empty()) {
        Params p;
        std::string sql = "UPDATE objects SET is_last = false WHERE coll = " + p.Add(coll.seq) +
                          " AND id = ANY(" + p.AddTextArray(clear_last) + ") AND is_last";
        ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
      }
      if (!clear_first.empty()) {
        Params p;
        std::string sql = "UPDATE objects SET is_first = false WHERE coll = " + p.Add(coll.seq) +
                          " AND id = ANY(" + p.AddTextArray(clear_first) + ") AND is_first";
        ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
      }
      CopyRows rows;
      for (const PendingRow& row : pending) {
        const NewObject& o = *row.object;
        const IdState& st = states[o.id];
        rows.Field(coll.seq).Field(row.date_added).Field(o.id).Field(o.type);
        rows.Field(o.spec_version).Field(row.version).Field(o.version.has_value());
        rows.Field(row.version == st.max_version).Field(row.version == st.min_version);
        rows.Field(o.json);
        CopyLabel(rows, o.label);
        rows.EndRow();
      }
      RETURN_IF_ERROR(c.CopyIn(std::string("COPY objects(coll, date_added, id, type, spec_version, "
                                           "version, has_version, is_last, is_first, json, ") +
                                   kLabelColumns + ") FROM STDIN",
                               rows.data()));
      for (const PendingRow& row : pending) {
        IdState& st = states[row.object->id];
        st.stored_any = true;
        st.stored_min = st.min_version;
        st.stored_max = st.max_version;
      }
      pending.clear();
      return Status::Ok();
    };

    for (const NewObject& o : request.objects) {
      int64_t candidate = NextDateAdded(last, now_micros);
      int64_t version = o.version.value_or(candidate);
      IdState& st = states[o.id];
      std::optional<int64_t> existing;
      if (st.has_any) {
        if (!o.version) {
          // Store contract: an unversioned object is a duplicate when its bytes are already
          // stored unversioned under the same id.
          for (const auto& [json, v] : st.unversioned) {
            if (json == o.json) {
              existing = v;
              break;
            }
          }
        }
        if (!existing && st.versions.count(version) > 0) existing = version;
      }
      if (existing) {
        result.status.successes.push_back({o.id, FormatVersionText(*existing), ""});
        continue;
      }
      if (!st.has_any) {
        st.has_any = true;
        st.min_version = st.max_version = version;
      }
      st.min_version = std::min(st.min_version, version);
      st.max_version = std::max(st.max_version, version);
      st.versions.insert(version);
      if (!o.version) st.unversioned.emplace_back(o.json, version);
      pending.push_back({&o, candidate, version});
      added_rows.push_back({&o, candidate, version});

      // The new version's extras (store.h, "Sharing"): its event, outbox rows and feedback.
      HubEvent event;
      event.time = now_micros;
      event.kind = "object";
      event.collection_id = request.collection_id;
      event.object_id = o.id;
      event.version = version;
      event.label = o.label;
      {
        StoredObject meta;
        meta.type = o.type;
        meta.spec_version = o.spec_version;
        meta.date_added = candidate;
        event.data = ObjectEventData(meta);
      }
      events.push_back(std::move(event));
      if (!o.feedback.empty()) {
        // The feedback event carries the label of the newest stored version of the object it
        // is about, as stored at this point of the request.
        RETURN_IF_ERROR(flush());
        for (const FeedbackRecord& given : o.feedback) {
          FeedbackRecord record = given;
          record.feedback_id = o.id;
          record.feedback_version = version;
          record.received = now_micros;
          HubEvent fb;
          fb.time = now_micros;
          fb.kind = "feedback";
          fb.collection_id = request.collection_id;
          fb.object_id = record.about_id;
          fb.version = version;
          ASSIGN_OR_RETURN(std::optional<ObjectLabel> about, NewestLabel(c, record.about_id));
          fb.label = about ? std::move(*about) : o.label;
          fb.data = FeedbackEventData(record);
          events.push_back(std::move(fb));
          feedback.push_back(std::move(record));
        }
      }

      last = candidate;
      if (result.added == 0) result.first_date_added = candidate;
      result.last_date_added = candidate;
      ++result.added;
      result.status.successes.push_back({o.id, FormatVersionText(version), ""});
    }
    RETURN_IF_ERROR(flush());

    // Outbox rows, in object order then partner order: COPY inserts in order, so the seq
    // defaults follow it (seq order = push order).
    {
      CopyRows rows;
      for (const PendingRow& row : added_rows) {
        for (const std::string& partner : row.object->outbox_partners) {
          rows.Field(partner).Field(request.collection_id).Field(row.object->id);
          rows.Field(row.version).Field(row.date_added).Field(int64_t{0}).Field(int64_t{0});
          rows.Field(now_micros).Field(int64_t{0}).Field("").Field(now_micros).Field(int64_t{0});
          rows.EndRow();
        }
      }
      if (!rows.empty()) {
        RETURN_IF_ERROR(
            c.CopyIn("COPY outbox(partner, collection_id, object_id, version, "
                     "date_added, state, attempts, next_attempt, delivered_at, error, "
                     "created, lease_until) FROM STDIN",
                     rows.data()));
      }
    }
    for (size_t start = 0; start < feedback.size(); start += kInsertChunk) {
      size_t end = std::min(feedback.size(), start + kInsertChunk);
      Params p;
      std::string sql =
          "INSERT INTO feedback(about_id, feedback_id, feedback_version, from_id, outcome, note, "
          "count, received) VALUES ";
      for (size_t i = start; i < end; ++i) {
        const FeedbackRecord& f = feedback[i];
        if (i > start) sql += ", ";
        sql += "(" + p.Add(f.about_id) + ", " + p.Add(f.feedback_id) + ", " +
               p.Add(f.feedback_version) + ", " + p.Add(f.from) + ", " + p.Add(f.outcome) + ", " +
               p.Add(f.note) + ", " + p.Add(f.count) + ", " + p.Add(f.received) + ")";
      }
      ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
    }

    if (last != coll.last_date_added) {
      Params p;
      std::string sql = "UPDATE collections SET last_date_added = " + p.Add(last) +
                        " WHERE seq = " + p.Add(coll.seq);
      ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
    }

    FinishStatusCounts(result.status);
    if (!result.status.id.empty()) {
      const StatusResource& s = result.status;
      Params p;
      std::string sql =
          "INSERT INTO statuses(id, api_root, status, request_timestamp, total_count, "
          "success_count, failure_count, pending_count, owner, successes, failures, pendings) "
          "VALUES (" +
          p.Add(s.id) + ", " + p.Add(s.api_root) + ", " + p.Add(s.status) + ", " +
          p.Add(s.request_timestamp) + ", " + p.Add(s.total_count) + ", " + p.Add(s.success_count) +
          ", " + p.Add(s.failure_count) + ", " + p.Add(s.pending_count) + ", " + p.Add(s.owner) +
          ", " + p.AddBytes(EncodeStatusDetails(s.successes)) + ", " +
          p.AddBytes(EncodeStatusDetails(s.failures)) + ", " +
          p.AddBytes(EncodeStatusDetails(s.pendings)) + ")";
      ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
    }
    // Lock order everywhere: collection row, then the events head, then the audit head.
    RETURN_IF_ERROR(AppendEvents(c, events, channel_));
    std::vector<AuditRecord> audit = request.audit;  // then each new version's own records
    for (const PendingRow& row : added_rows) {
      audit.insert(audit.end(), row.object->audit.begin(), row.object->audit.end());
    }
    RETURN_IF_ERROR(AppendAuditIn(c, audit, now_micros).status());
    return result;
  });
  if (added.ok() && added->added > 0) NoteRowsAdded(added->added);
  return added;
}

namespace {

// Types above this count are matched with one `= ANY` scan instead of one range per type.
constexpr size_t kMaxTypeRanges = 32;

// The collection's key as a scalar subquery: the lookup rides along with the query (one round trip
// instead of two); an empty result is then checked for an unknown collection.
std::string CollectionKey(const std::string& collection_id, Params& p) {
  return "(SELECT seq FROM collections WHERE id = " + p.Add(collection_id) + ")";
}

std::string PageConditions(const ObjectQuery& q, const std::string& coll, Params& p) {
  std::string sql = " WHERE o.coll = " + coll + " AND o.date_added > " +
                    p.Add(q.added_after.value_or(std::numeric_limits<int64_t>::min()));
  if (!q.spec_versions.empty()) {
    sql += " AND o.spec_version = ANY(" + p.AddTextArray(q.spec_versions) + ")";
  }
  std::string versions = VersionCondition(q, /*default_last=*/true, p);
  if (!versions.empty()) sql += " AND " + versions;
  return sql;
}

}  // namespace

Result<ObjectPage> PostgresStore::QueryObjects(const ObjectQuery& query) {
  RETURN_IF_ERROR(ValidateObjectQuery(query));
  return Read<ObjectPage>("querying objects", [&](PgConnection& c) -> Result<ObjectPage> {
    const int64_t fetch = FetchLimit(query.limit);
    std::vector<std::string> ids = Dedup(query.ids);
    std::vector<std::string> types = Dedup(query.types);
    const std::string columns =
        std::string(kObjectColumns) + (query.metadata_only ? "" : ", o.json");
    Params p;
    const std::string coll = CollectionKey(query.collection_id, p);
    std::string sql;
    if (!ids.empty() || types.size() <= 1 || types.size() > kMaxTypeRanges) {
      // ids: an objects_by_id probe per id (few versions each) then a sort; one type: an
      // objects_by_type range in date_added order; no filter: the primary key range.
      sql = "SELECT " + columns + " FROM objects o" + PageConditions(query, coll, p);
      if (!ids.empty()) sql += " AND o.id = ANY(" + p.AddTextArray(ids) + ")";
      if (types.size() == 1) {
        sql += " AND o.type = " + p.Add(types[0]);
      } else if (!types.empty()) {
        sql += " AND o.type = ANY(" + p.AddTextArray(types) + ")";
      }
      sql += " ORDER BY o.date_added LIMIT " + p.Add(fetch);
    } else {
      // Several types: one objects_by_type range per type, each stopping after `fetch` rows,
      // merged by date_added: cost ~ types x page, never the collection size.
      const std::string conditions = PageConditions(query, coll, p);
      const std::string fetch_param = p.Add(fetch);
      sql = "SELECT * FROM (";
      for (size_t i = 0; i < types.size(); ++i) {
        if (i > 0) sql += " UNION ALL ";
        sql += "(SELECT " + columns + " FROM objects o" + conditions +
               " AND o.type = " + p.Add(types[i]) + " ORDER BY o.date_added LIMIT " + fetch_param +
               ")";
      }
      sql += ") AS page ORDER BY date_added LIMIT " + fetch_param;
    }
    ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
    if (r.rows() == 0) RETURN_IF_ERROR(LookupCollection(c, query.collection_id, false).status());
    std::vector<StoredObject> rows;
    rows.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      ASSIGN_OR_RETURN(StoredObject o, ReadObjectRow(r, i, !query.metadata_only));
      rows.push_back(std::move(o));
    }
    return FinishPage(std::move(rows), query.limit);
  });
}

Result<ObjectPage> PostgresStore::QueryVersions(const ObjectQuery& query, const std::string& id) {
  RETURN_IF_ERROR(ValidateObjectQuery(query));
  return Read<ObjectPage>("querying object versions", [&](PgConnection& c) -> Result<ObjectPage> {
    ASSIGN_OR_RETURN(CollectionRow coll, LookupCollection(c, query.collection_id, false));
    Params p;
    std::string sql = std::string("SELECT ") + kObjectColumns +
                      (query.metadata_only ? "" : ", o.json") +
                      " FROM objects o WHERE o.coll = " + p.Add(coll.seq) +
                      " AND o.id = " + p.Add(id) + " AND o.date_added > " +
                      p.Add(query.added_after.value_or(std::numeric_limits<int64_t>::min()));
    if (!query.spec_versions.empty()) {
      sql += " AND o.spec_version = ANY(" + p.AddTextArray(query.spec_versions) + ")";
    }
    sql += " ORDER BY o.date_added LIMIT " + p.Add(FetchLimit(query.limit));
    ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
    std::vector<StoredObject> rows;
    for (int i = 0; i < r.rows(); ++i) {
      ASSIGN_OR_RETURN(StoredObject o, ReadObjectRow(r, i, !query.metadata_only));
      rows.push_back(std::move(o));
    }
    return FinishPage(std::move(rows), query.limit);
  });
}

Result<int64_t> PostgresStore::DeleteObject(const ObjectQuery& query, const std::string& id) {
  RETURN_IF_ERROR(ValidateObjectQuery(query));
  return Write<int64_t>("deleting an object", [&](PgConnection& c) -> Result<int64_t> {
    ASSIGN_OR_RETURN(CollectionRow coll, LookupCollection(c, query.collection_id, true));
    // Select first, then delete: "first"/"last" are judged before the deletion.
    std::vector<int64_t> doomed;
    {
      Params p;
      std::string sql = "SELECT o.date_added FROM objects o WHERE o.coll = " + p.Add(coll.seq) +
                        " AND o.id = " + p.Add(id);
      if (!query.spec_versions.empty()) {
        sql += " AND o.spec_version = ANY(" + p.AddTextArray(query.spec_versions) + ")";
      }
      std::string versions = VersionCondition(query, /*default_last=*/false, p);
      if (!versions.empty()) sql += " AND " + versions;
      ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
      for (int i = 0; i < r.rows(); ++i) doomed.push_back(r.Int(i, 0));
    }
    if (doomed.empty()) {
      return NotFoundError("no version of object '" + id + "' in collection '" +
                           query.collection_id + "' matches");
    }
    {
      Params p;
      std::string sql = "DELETE FROM objects WHERE coll = " + p.Add(coll.seq) +
                        " AND date_added = ANY(" + p.AddBigintArray(doomed) + ")";
      ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
    }
    // Re-mark the newest and oldest remaining versions.
    Params p;
    std::string cp = p.Add(coll.seq);
    std::string ip = p.Add(id);
    std::string sql =
        "UPDATE objects o SET is_last = (o.version = m.max_version), is_first = (o.version = "
        "m.min_version) FROM (SELECT MAX(version) AS max_version, MIN(version) AS min_version "
        "FROM objects WHERE coll = " +
        cp + " AND id = " + ip + ") m WHERE o.coll = " + cp + " AND o.id = " + ip;
    ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
    return static_cast<int64_t>(doomed.size());
  });
}

Result<StatusResource> PostgresStore::GetStatus(const std::string& api_root,
                                                const std::string& status_id) {
  return Read<StatusResource>("reading a status", [&](PgConnection& c) -> Result<StatusResource> {
    Params p;
    std::string sql =
        "SELECT id, api_root, status, request_timestamp, total_count, success_count, "
        "failure_count, pending_count, owner, successes, failures, pendings FROM statuses WHERE "
        "id = " +
        p.Add(status_id) + " AND api_root = " + p.Add(api_root);
    ASSIGN_OR_RETURN(PgResult r, c.ExecPrepared(sql, p));
    if (r.rows() == 0) return NotFoundError("status '" + status_id + "' does not exist");
    StatusResource s;
    s.id = r.Text(0, 0);
    s.api_root = r.Text(0, 1);
    s.status = r.Text(0, 2);
    s.request_timestamp = r.Int(0, 3);
    s.total_count = r.Int(0, 4);
    s.success_count = r.Int(0, 5);
    s.failure_count = r.Int(0, 6);
    s.pending_count = r.Int(0, 7);
    s.owner = r.Text(0, 8);
    ASSIGN_OR_RETURN(s.successes, DecodeStatusDetails(r.Bytes(0, 9)));
    ASSIGN_OR_RETURN(s.failures, DecodeStatusDetails(r.Bytes(0, 10)));
    ASSIGN_OR_RETURN(s.pendings, DecodeStatusDetails(r.Bytes(0, 11)));
    return s;
  });
}

Result<int64_t> PostgresStore::CountObjects(const std::string& collection_id) {
  return Read<int64_t>("counting objects", [&](PgConnection& c) -> Result<int64_t> {
    ASSIGN_OR_RETURN(CollectionRow coll, LookupCollection(c, collection_id, false));
    Params p;
    ASSIGN_OR_RETURN(PgResult r,
                     c.Exec("SELECT COUNT(*) FROM objects WHERE coll = " + p.Add(coll.seq), p));
    return r.rows() > 0 ? r.Int(0, 0) : int64_t{0};
  });
}

// ---------------------------------------------------------------------------------------------
// Sharing (issue 4)

Result<std::vector<StoredObject>> PostgresStore::LookupObjects(
    const std::vector<std::string>& ids) {
  RETURN_IF_ERROR(ValidateLookupIds(ids));
  std::vector<std::string> unique = Dedup(ids);
  if (unique.empty()) return std::vector<StoredObject>();
  return Read<std::vector<StoredObject>>(
      "looking up objects", [&](PgConnection& c) -> Result<std::vector<StoredObject>> {
        // objects_by_id probes per (collection, id); is_last marks each collection's newest.
        Params p;
        std::string sql = std::string("SELECT DISTINCT ON (o.id) ") + kObjectColumns +
                          " FROM collections c JOIN objects o ON o.coll = c.seq WHERE o.id = "
                          "ANY(" +
                          p.AddTextArray(unique) +
                          ") AND o.is_last ORDER BY o.id, o.version DESC, o.date_added DESC";
        ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
        std::unordered_map<std::string, StoredObject> found;
        for (int i = 0; i < r.rows(); ++i) {
          ASSIGN_OR_RETURN(StoredObject o, ReadObjectRow(r, i, /*with_json=*/false));
          std::string key = o.id;
          found.emplace(std::move(key), std::move(o));
        }
        std::vector<StoredObject> out;
        for (const std::string& id : unique) {
          auto it = found.find(id);
          if (it != found.end()) out.push_back(std::move(it->second));
        }
        return out;
      });
}

Result<StoredObject> PostgresStore::GetObjectVersion(const std::string& collection_id,
                                                     const std::string& id, int64_t version) {
  return Read<StoredObject>(
      "reading an object version", [&](PgConnection& c) -> Result<StoredObject> {
        Params p;
        std::string sql =
            std::string("SELECT ") + kObjectColumns +
            ", o.json FROM objects o WHERE o.coll = " + CollectionKey(collection_id, p) +
            " AND o.id = " + p.Add(id) + " AND o.version = " + p.Add(version);
        ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
        if (r.rows() == 0) {
          RETURN_IF_ERROR(LookupCollection(c, collection_id, false).status());
          return NotFoundError("object '" + id + "' version " + FormatVersionText(version) +
                               " is not in collection '" + collection_id + "'");
        }
        return ReadObjectRow(r, 0, /*with_json=*/true);
      });
}

Result<std::vector<StoredObject>> PostgresStore::GetObjectVersions(
    const std::string& collection_id, const std::vector<ObjectVersionKey>& keys,
    bool metadata_only) {
  ASSIGN_OR_RETURN(std::vector<ObjectVersionKey> unique, UniqueVersionKeys(keys));
  return Read<std::vector<StoredObject>>(
      "reading object versions", [&](PgConnection& c) -> Result<std::vector<StoredObject>> {
        ASSIGN_OR_RETURN(CollectionRow coll, LookupCollection(c, collection_id, false));
        if (unique.empty()) return std::vector<StoredObject>();
        std::vector<std::string> ids;
        std::vector<int64_t> versions;
        ids.reserve(unique.size());
        versions.reserve(unique.size());
        for (const ObjectVersionKey& key : unique) {
          ids.push_back(key.id);
          versions.push_back(key.version);
        }
        // The keys as a relation joined on objects_by_id: one index probe per key.
        Params p;
        std::string sql = std::string("SELECT ") + kObjectColumns +
                          (metadata_only ? "" : ", o.json") + " FROM unnest(" +
                          p.AddTextArray(ids) + ", " + p.AddBigintArray(versions) +
                          ") AS k(id, version) JOIN objects o ON o.coll = " + p.Add(coll.seq) +
                          " AND o.id = k.id AND o.version = k.version";
        ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
        std::vector<StoredObject> out;
        out.reserve(static_cast<size_t>(r.rows()));
        for (int i = 0; i < r.rows(); ++i) {
          ASSIGN_OR_RETURN(StoredObject o, ReadObjectRow(r, i, !metadata_only));
          out.push_back(std::move(o));
        }
        return out;
      });
}

Result<std::vector<AuditRecord>> PostgresStore::AppendAudit(const std::vector<AuditRecord>& records,
                                                            int64_t now_micros) {
  RETURN_IF_ERROR(ValidateAuditRecords(records));
  if (records.empty()) return std::vector<AuditRecord>();
  return Write<std::vector<AuditRecord>>("appending to the audit log",
                                         [&](PgConnection& c) -> Result<std::vector<AuditRecord>> {
                                           return AppendAuditIn(c, records, now_micros);
                                         });
}

Result<std::vector<AuditRecord>> PostgresStore::ListAudit(int64_t after_seq, size_t limit) {
  return Read<std::vector<AuditRecord>>(
      "reading the audit log", [&](PgConnection& c) -> Result<std::vector<AuditRecord>> {
        Params p;
        std::string sql =
            "SELECT seq, time, kind, actor, subject, detail, prev_hash, hash FROM audit WHERE "
            "seq > " +
            p.Add(after_seq) + " ORDER BY seq LIMIT " + p.Add(FetchLimit(limit) - 1);
        ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
        std::vector<AuditRecord> out;
        for (int i = 0; i < r.rows(); ++i) {
          AuditRecord a;
          a.seq = r.Int(i, 0);
          a.time = r.Int(i, 1);
          a.kind = r.Text(i, 2);
          a.actor = r.Text(i, 3);
          a.subject = r.Text(i, 4);
          a.detail = r.Text(i, 5);
          a.prev_hash = r.Text(i, 6);
          a.hash = r.Text(i, 7);
          out.push_back(std::move(a));
        }
        return out;
      });
}

Result<std::vector<HubEvent>> PostgresStore::ListEvents(int64_t after_seq, size_t limit) {
  return Read<std::vector<HubEvent>>(
      "reading events", [&](PgConnection& c) -> Result<std::vector<HubEvent>> {
        Params p;
        std::string sql =
            std::string("SELECT seq, time, kind, collection_id, object_id, version, data, ") +
            kLabelColumns + " FROM events WHERE seq > " + p.Add(after_seq) +
            " ORDER BY seq LIMIT " + p.Add(FetchLimit(limit) - 1);
        ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
        std::vector<HubEvent> out;
        for (int i = 0; i < r.rows(); ++i) {
          HubEvent e;
          e.seq = r.Int(i, 0);
          e.time = r.Int(i, 1);
          e.kind = r.Text(i, 2);
          e.collection_id = r.Text(i, 3);
          e.object_id = r.Text(i, 4);
          e.version = r.Int(i, 5);
          e.data = r.Text(i, 6);
          ASSIGN_OR_RETURN(e.label, ReadLabel(r, i, 7));
          out.push_back(std::move(e));
        }
        return out;
      });
}

Result<int64_t> PostgresStore::LastEventSeq() {
  return Read<int64_t>("reading the last event", [&](PgConnection& c) -> Result<int64_t> {
    // The counter is the last seq committed (it is updated in the events' transaction).
    ASSIGN_OR_RETURN(PgResult r,
                     c.ExecPrepared("SELECT value FROM counters WHERE name = 'events'", Params()));
    return r.rows() > 0 ? r.Int(0, 0) : int64_t{0};
  });
}

Status PostgresStore::CreatePartner(const Partner& partner) {
  RETURN_IF_ERROR(ValidatePartner(partner));
  return WriteStatus("adding a partner", [&](PgConnection& c) -> Status {
    Params p;
    std::string sql =
        std::string("INSERT INTO partners(") + kPartnerColumns + ") VALUES (" + p.Add(partner.id) +
        ", " + p.Add(partner.name) + ", " + p.Add(partner.identity_json) + ", " +
        p.Add(partner.url) + ", " + p.Add(partner.inbox) + ", " + p.Add(partner.sign_key) + ", " +
        p.Add(partner.box_key) + ", " + p.Add(partner.token) + ", " + p.Add(partner.user) + ", " +
        p.Add(partner.disabled) + ", " + p.Add(partner.created) + ") ON CONFLICT (id) DO NOTHING";
    ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
    if (r.affected() == 0) return AlreadyExistsError("partner '" + partner.id + "' exists");
    return Status::Ok();
  });
}

Status PostgresStore::UpdatePartner(const Partner& partner) {
  return WriteStatus("updating a partner", [&](PgConnection& c) -> Status {
    Params p;
    std::string sql =
        "UPDATE partners SET name = " + p.Add(partner.name) +
        ", identity_json = " + p.Add(partner.identity_json) + ", url = " + p.Add(partner.url) +
        ", inbox = " + p.Add(partner.inbox) + ", sign_key = " + p.Add(partner.sign_key) +
        ", box_key = " + p.Add(partner.box_key) + ", token = " + p.Add(partner.token) +
        ", user_name = " + p.Add(partner.user) + ", disabled = " + p.Add(partner.disabled) +
        " WHERE id = " + p.Add(partner.id);
    ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
    if (r.affected() == 0) return NotFoundError("partner '" + partner.id + "' does not exist");
    return Status::Ok();
  });
}

Result<Partner> PostgresStore::GetPartner(const std::string& id) {
  return Read<Partner>("reading a partner", [&](PgConnection& c) -> Result<Partner> {
    Params p;
    ASSIGN_OR_RETURN(PgResult r, c.Exec(std::string("SELECT ") + kPartnerColumns +
                                            " FROM partners WHERE id = " + p.Add(id),
                                        p));
    if (r.rows() == 0) return NotFoundError("partner '" + id + "' does not exist");
    return ReadPartnerRow(r, 0);
  });
}

Result<std::vector<Partner>> PostgresStore::ListPartners() {
  return Read<std::vector<Partner>>(
      "listing partners", [&](PgConnection& c) -> Result<std::vector<Partner>> {
        ASSIGN_OR_RETURN(PgResult r, c.Exec(std::string("SELECT ") + kPartnerColumns +
                                            " FROM partners ORDER BY id COLLATE \"C\""));
        std::vector<Partner> out;
        for (int i = 0; i < r.rows(); ++i) out.push_back(ReadPartnerRow(r, i));
        return out;
      });
}

Status PostgresStore::DeletePartner(const std::string& id) {
  return WriteStatus("deleting a partner", [&](PgConnection& c) -> Status {
    // Channels go with it (ON DELETE CASCADE); queued rows are dropped, receipts stay.
    Params p;
    ASSIGN_OR_RETURN(PgResult r, c.Exec("DELETE FROM partners WHERE id = " + p.Add(id), p));
    if (r.affected() == 0) return NotFoundError("partner '" + id + "' does not exist");
    Params q;
    return c.Exec("DELETE FROM outbox WHERE partner = " + q.Add(id) + " AND state = 0", q).status();
  });
}

Status PostgresStore::CreateChannel(const Channel& channel) {
  RETURN_IF_ERROR(ValidateChannel(channel));
  return WriteStatus("creating a channel", [&](PgConnection& c) -> Status {
    ASSIGN_OR_RETURN(bool partner, Exists(c, "SELECT 1 FROM partners WHERE id = $1 FOR KEY SHARE",
                                          {channel.partner}));
    if (!partner) return NotFoundError("partner '" + channel.partner + "' does not exist");
    ASSIGN_OR_RETURN(bool coll, Exists(c, "SELECT 1 FROM collections WHERE id = $1 FOR KEY SHARE",
                                       {channel.collection_id}));
    if (!coll) return UnknownCollection(channel.collection_id);
    ASSIGN_OR_RETURN(bool taken, Exists(c, "SELECT 1 FROM channels WHERE id = $1", {channel.id}));
    if (taken) return AlreadyExistsError("channel '" + channel.id + "' exists");
    {
      Params p;
      std::string sql = "SELECT id FROM channels WHERE partner = " + p.Add(channel.partner) +
                        " AND collection_id = " + p.Add(channel.collection_id) +
                        " AND mode = " + p.Add(ChannelModeName(channel.mode)) +
                        " AND remote_collection = " + p.Add(channel.remote_collection);
      ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
      if (r.rows() > 0) {
        return AlreadyExistsError("an identical channel exists ('" + r.Text(0, 0) + "')");
      }
    }
    Params p;
    std::string sql = std::string("INSERT INTO channels(") + kChannelColumns + ") VALUES (" +
                      p.Add(channel.id) + ", " + p.Add(channel.partner) + ", " +
                      p.Add(channel.collection_id) + ", " + p.Add(ChannelModeName(channel.mode)) +
                      ", " + p.Add(int64_t{channel.max_tlp}) + ", " +
                      p.Add(channel.remote_collection) + ", " + p.Add(channel.cursor) + ", " +
                      p.Add(channel.created) + ")";
    return c.Exec(sql, p).status();
  });
}

Result<std::vector<Channel>> PostgresStore::ListChannels(const std::string& partner) {
  return Read<std::vector<Channel>>(
      "listing channels", [&](PgConnection& c) -> Result<std::vector<Channel>> {
        Params p;
        std::string sql = std::string("SELECT ") + kChannelColumns + " FROM channels";
        if (!partner.empty()) sql += " WHERE partner = " + p.Add(partner);
        sql += " ORDER BY created, seq";
        ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
        std::vector<Channel> out;
        for (int i = 0; i < r.rows(); ++i) {
          ASSIGN_OR_RETURN(Channel ch, ReadChannelRow(r, i));
          out.push_back(std::move(ch));
        }
        return out;
      });
}

Status PostgresStore::DeleteChannel(const std::string& id) {
  return WriteStatus("deleting a channel", [&](PgConnection& c) -> Status {
    Params p;
    ASSIGN_OR_RETURN(PgResult r, c.Exec("DELETE FROM channels WHERE id = " + p.Add(id), p));
    if (r.affected() == 0) return NotFoundError("channel '" + id + "' does not exist");
    return Status::Ok();
  });
}

Status PostgresStore::SetChannelCursor(const std::string& id, const std::string& cursor) {
  return WriteStatus("saving a channel cursor", [&](PgConnection& c) -> Status {
    Params p;
    std::string sql = "UPDATE channels SET cursor = " + p.Add(cursor) + " WHERE id = " + p.Add(id);
    ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
    if (r.affected() == 0) return NotFoundError("channel '" + id + "' does not exist");
    return Status::Ok();
  });
}

Result<std::vector<OutboxRow>> PostgresStore::ClaimOutbox(const std::string& partner, size_t limit,
                                                          int64_t now_micros,
                                                          int64_t lease_micros) {
  if (lease_micros <= 0) return InvalidArgumentError("outbox lease must be positive");
  if (limit == 0) return std::vector<OutboxRow>();
  return Write<std::vector<OutboxRow>>(
      "claiming outbox rows", [&](PgConnection& c) -> Result<std::vector<OutboxRow>> {
        // The partner's queued rows in seq order, up to the first one not yet due (order per
        // partner), that are not leased. FOR UPDATE SKIP LOCKED: rows another node is claiming
        // or marking right now are skipped, not waited for; a row leased by a claim that
        // committed meanwhile is re-checked (lease_until) and excluded.
        Params p;
        std::string pp = p.Add(partner);
        std::string np = p.Add(now_micros);
        std::string sql = "UPDATE outbox SET lease_until = " + p.Add(now_micros + lease_micros) +
                          " WHERE seq IN (SELECT seq FROM outbox WHERE partner = " + pp +
                          " AND state = 0 AND next_attempt <= " + np + " AND lease_until <= " + np +
                          " AND seq < COALESCE((SELECT MIN(seq) FROM outbox WHERE partner = " + pp +
                          " AND state = 0 AND next_attempt > " + np + "), " +
                          std::to_string(std::numeric_limits<int64_t>::max()) +
                          ") ORDER BY seq LIMIT " +
                          p.Add(static_cast<int64_t>(std::min<size_t>(limit, 1 << 20))) +
                          " FOR UPDATE SKIP LOCKED) RETURNING " + kOutboxColumns;
        ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
        std::vector<OutboxRow> out;
        for (int i = 0; i < r.rows(); ++i) {
          ASSIGN_OR_RETURN(OutboxRow row, ReadOutboxRow(r, i));
          out.push_back(std::move(row));
        }
        std::sort(out.begin(), out.end(),
                  [](const OutboxRow& a, const OutboxRow& b) { return a.seq < b.seq; });
        return out;
      });
}

namespace {

// Applies `set_sql` to the outbox rows `seqs` (unknown seqs ignored) and writes one receipt event
// per changed row, in the order of `seqs`.
Status UpdateOutboxAndReceipt(PgConnection& c, const std::vector<int64_t>& seqs,
                              const std::string& set_sql, Params& p, int64_t now_micros,
                              const std::string& channel) {
  std::string sql = "UPDATE outbox SET " + set_sql + " WHERE seq = ANY(" + p.AddBigintArray(seqs) +
                    ") RETURNING " + kOutboxColumns;
  ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
  std::unordered_map<int64_t, OutboxRow> changed;
  for (int i = 0; i < r.rows(); ++i) {
    ASSIGN_OR_RETURN(OutboxRow row, ReadOutboxRow(r, i));
    changed.emplace(row.seq, std::move(row));
  }
  std::vector<HubEvent> events;
  std::set<int64_t> done;
  for (int64_t seq : seqs) {
    auto it = changed.find(seq);
    if (it == changed.end() || !done.insert(seq).second) continue;
    const OutboxRow& row = it->second;
    HubEvent event;
    event.time = now_micros;
    event.kind = "receipt";
    event.collection_id = row.collection_id;
    event.object_id = row.object_id;
    event.version = row.version;
    ASSIGN_OR_RETURN(std::optional<ObjectLabel> label,
                     VersionLabel(c, row.collection_id, row.object_id, row.version));
    event.label = label ? std::move(*label) : UnknownObjectLabel();
    event.data = ReceiptEventData(row);
    events.push_back(std::move(event));
  }
  return AppendEvents(c, events, channel);
}

}  // namespace

Status PostgresStore::MarkOutboxDelivered(const std::vector<int64_t>& seqs, int64_t now_micros) {
  if (seqs.empty()) return Status::Ok();
  return WriteStatus("recording deliveries", [&](PgConnection& c) -> Status {
    Params p;
    std::string set =
        "state = 1, delivered_at = " + p.Add(now_micros) + ", error = '', lease_until = 0";
    return UpdateOutboxAndReceipt(c, seqs, set, p, now_micros, channel_);
  });
}

Status PostgresStore::MarkOutboxFailed(const std::vector<int64_t>& seqs, const std::string& error,
                                       bool permanent, int64_t next_attempt, int64_t now_micros) {
  if (seqs.empty()) return Status::Ok();
  return WriteStatus("recording delivery failures", [&](PgConnection& c) -> Status {
    Params p;
    std::string set = "attempts = attempts + 1, error = " + p.Add(error) + ", lease_until = 0";
    if (permanent) {
      set += ", state = 2";
    } else {
      set += ", state = 0, next_attempt = " + p.Add(next_attempt);
    }
    return UpdateOutboxAndReceipt(c, seqs, set, p, now_micros, channel_);
  });
}

Result<std::vector<OutboxRow>> PostgresStore::ListOutbox(const OutboxQuery& query) {
  return Read<std::vector<OutboxRow>>(
      "listing the outbox", [&](PgConnection& c) -> Result<std::vector<OutboxRow>> {
        Params p;
        std::string sql = std::string("SELECT ") + kOutboxColumns + " FROM outbox WHERE seq > " +
                          p.Add(query.after_seq);
        if (!query.partner.empty()) sql += " AND partner = " + p.Add(query.partner);
        if (!query.object_id.empty()) sql += " AND object_id = " + p.Add(query.object_id);
        if (query.state) sql += " AND state = " + p.Add(static_cast<int64_t>(*query.state));
        sql += " ORDER BY seq LIMIT " + p.Add(FetchLimit(query.limit) - 1);
        ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
        std::vector<OutboxRow> out;
        for (int i = 0; i < r.rows(); ++i) {
          ASSIGN_OR_RETURN(OutboxRow row, ReadOutboxRow(r, i));
          out.push_back(std::move(row));
        }
        return out;
      });
}

Result<std::vector<std::string>> PostgresStore::PartnersWithQueuedOutbox() {
  return Read<std::vector<std::string>>(
      "listing partners with queued deliveries",
      [&](PgConnection& c) -> Result<std::vector<std::string>> {
        ASSIGN_OR_RETURN(PgResult r, c.Exec("SELECT DISTINCT partner COLLATE \"C\" FROM outbox "
                                            "WHERE state = 0 ORDER BY 1"));
        std::vector<std::string> out;
        for (int i = 0; i < r.rows(); ++i) out.push_back(r.Text(i, 0));
        return out;
      });
}

Result<std::vector<FeedbackRecord>> PostgresStore::ListFeedback(const std::string& about_id) {
  return Read<std::vector<FeedbackRecord>>(
      "listing feedback", [&](PgConnection& c) -> Result<std::vector<FeedbackRecord>> {
        Params p;
        std::string sql =
            "SELECT about_id, feedback_id, feedback_version, from_id, outcome, note, count, "
            "received FROM feedback";
        if (!about_id.empty()) sql += " WHERE about_id = " + p.Add(about_id);
        sql += " ORDER BY received, feedback_id COLLATE \"C\", seq";
        ASSIGN_OR_RETURN(PgResult r, c.Exec(sql, p));
        std::vector<FeedbackRecord> out;
        for (int i = 0; i < r.rows(); ++i) {
          FeedbackRecord f;
          f.about_id = r.Text(i, 0);
          f.feedback_id = r.Text(i, 1);
          f.feedback_version = r.Int(i, 2);
          f.from = r.Text(i, 3);
          f.outcome = r.Text(i, 4);
          f.note = r.Text(i, 5);
          f.count = r.Int(i, 6);
          f.received = r.Int(i, 7);
          out.push_back(std::move(f));
        }
        return out;
      });
}

}  // namespace liaison::storage::postgres

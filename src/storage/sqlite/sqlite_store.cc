#include "storage/sqlite/sqlite_store.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <utility>
#include <variant>

#include "audit/chain.h"
#include "common/log.h"
#include "storage/sqlite/sqlite_connection.h"
#include "storage/sqlite/sqlite_schema.h"
#include "storage/store_util.h"

namespace liaison::storage::sqlite {
namespace {

// Reads of more rows than this use a bulk reader (a memory-mapped file; see ReaderKind).
constexpr int64_t kBulkRows = 64;

Status UnknownCollection(const std::string& id) {
  return NotFoundError("collection '" + id + "' does not exist");
}

// ---------------------------------------------------------------------------------------------
// Dynamic SQL with numbered parameters.

class SqlBuilder {
 public:
  std::string Param(int64_t v) {
    params_.emplace_back(v);
    return "?" + std::to_string(params_.size());
  }
  std::string Param(const std::string& v) {
    params_.emplace_back(v);
    return "?" + std::to_string(params_.size());
  }
  template <typename T>
  std::string List(const std::vector<T>& values) {
    std::string out = "(";
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) out += ", ";
      out += Param(values[i]);
    }
    return out + ")";
  }
  void BindAll(Statement& stmt) const {
    for (size_t i = 0; i < params_.size(); ++i) {
      int index = static_cast<int>(i + 1);
      if (const int64_t* v = std::get_if<int64_t>(&params_[i])) {
        stmt.Bind(index, *v);
      } else {
        stmt.Bind(index, std::get<std::string>(params_[i]));
      }
    }
  }

 private:
  std::vector<std::variant<int64_t, std::string>> params_;
};

// The SQL condition (on table alias `o`) selecting versions by the query's version filters, or ""
// when every version qualifies. `default_last`: what empty filters mean (kLast for queries, every
// version for DeleteObject). "last"/"first" are judged among the versions of the id that match
// spec_versions: the maintained is_last/is_first flags when there is no spec_version filter,
// otherwise a correlated MAX/MIN over the id's versions (an objects_by_id range).
std::string VersionCondition(const ObjectQuery& q, bool default_last, SqlBuilder& b) {
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
      terms.push_back(last ? "o.is_last = 1" : "o.is_first = 1");
    } else {
      terms.push_back(
          std::string("o.version = (SELECT ") + (last ? "MAX" : "MIN") +
          "(o2.version) FROM objects o2 INDEXED BY objects_by_id WHERE o2.coll = o.coll AND "
          "o2.id = o.id "
          "AND o2.spec_version IN " +
          b.List(q.spec_versions) + ")");
    }
  }
  if (!q.versions.empty()) terms.push_back("o.version IN " + b.List(q.versions));
  std::string out = "(";
  for (size_t i = 0; i < terms.size(); ++i) {
    if (i > 0) out += " OR ";
    out += terms[i];
  }
  return out + ")";
}

// The label columns, in this order, of the objects and events tables (schema 2).
constexpr char kLabelColumns[] = "tlp, origin, received_from, recipients, sealed, signature";
constexpr int kLabelColumnCount = 6;

// Binds `label` to parameters first..first+5 (kLabelColumns order).
void BindLabel(Statement& stmt, int first, const ObjectLabel& label) {
  stmt.Bind(first, int64_t{label.tlp}).Bind(first + 1, label.origin);
  stmt.Bind(first + 2, label.received_from);
  if (label.recipients.empty()) {
    stmt.BindNull(first + 3);
  } else {
    stmt.Bind(first + 3, EncodeRecipients(label.recipients));
  }
  stmt.Bind(first + 4, int64_t{label.sealed}).Bind(first + 5, label.signature);
}

// Reads the label columns starting at column `first` (kLabelColumns order).
Result<ObjectLabel> ReadLabel(const Statement& stmt, int first) {
  ObjectLabel label;
  label.tlp = static_cast<int32_t>(stmt.Int(first));
  label.origin = stmt.Text(first + 1);
  label.received_from = stmt.Text(first + 2);
  if (!stmt.IsNull(first + 3)) {
    ASSIGN_OR_RETURN(label.recipients, DecodeRecipients(stmt.Text(first + 3)));
  }
  label.sealed = stmt.Int(first + 4) != 0;
  label.signature = stmt.Text(first + 5);
  return label;
}

constexpr char kObjectColumns[] =
    "o.date_added, o.id, o.type, o.spec_version, o.version, o.tlp, o.origin, o.received_from, "
    "o.recipients, o.sealed, o.signature";
constexpr int kObjectJsonColumn = 5 + kLabelColumnCount;

Result<StoredObject> ReadObjectRow(const Statement& stmt, bool with_json) {
  StoredObject o;
  o.date_added = stmt.Int(0);
  o.id = stmt.Text(1);
  o.type = stmt.Text(2);
  o.spec_version = stmt.Text(3);
  o.version = stmt.Int(4);
  ASSIGN_OR_RETURN(o.label, ReadLabel(stmt, 5));
  if (with_json) o.json = stmt.Text(kObjectJsonColumn);
  return o;
}

struct CollectionRow {
  int64_t seq = 0;
  int64_t last_date_added = 0;
};

Result<CollectionRow> LookupCollection(Connection& c, const std::string& id) {
  ASSIGN_OR_RETURN(Statement stmt,
                   c.Prepare("SELECT seq, last_date_added FROM collections WHERE id = ?1"));
  stmt.Bind(1, id);
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return UnknownCollection(id);
  return CollectionRow{stmt.Int(0), stmt.Int(1)};
}

Result<bool> Exists(Connection& c, const std::string& sql, const std::vector<std::string>& args) {
  ASSIGN_OR_RETURN(Statement stmt, c.Prepare(sql));
  for (size_t i = 0; i < args.size(); ++i) stmt.Bind(static_cast<int>(i + 1), args[i]);
  return stmt.Step();
}

Result<Collection> ReadCollectionRow(const Statement& stmt) {
  Collection c;
  c.id = stmt.Text(0);
  c.api_root = stmt.Text(1);
  c.title = stmt.Text(2);
  c.description = stmt.Text(3);
  c.alias = stmt.Text(4);
  c.media_types = SplitLines(stmt.Text(5));
  return c;
}

constexpr char kCollectionColumns[] = "id, api_root, title, description, alias, media_types";

Result<User> ReadUserRow(const Statement& stmt) {
  User u;
  u.name = stmt.Text(0);
  Result<Role> role = ParseRole(stmt.Text(1));
  if (!role.ok()) return DataLossError("user '" + u.name + "' has a corrupt role");
  u.role = *role;
  u.password_hash = stmt.Text(2);
  u.disabled = stmt.Int(3) != 0;
  u.created = stmt.Int(4);
  u.partner = stmt.Text(5);
  return u;
}

ApiKey ReadApiKeyRow(const Statement& stmt) {
  ApiKey k;
  k.key_id = stmt.Text(0);
  k.user = stmt.Text(1);
  k.secret_hash = stmt.Text(2);
  k.description = stmt.Text(3);
  k.created = stmt.Int(4);
  k.revoked = stmt.Int(5) != 0;
  return k;
}

constexpr char kApiKeyColumns[] = "key_id, user, secret_hash, description, created, revoked";

// ---------------------------------------------------------------------------------------------
// Sharing (issue 4): helpers that run inside a transaction the caller holds.

Status InsertEvent(Connection& c, const HubEvent& e) {
  // Built once: this runs for every new object version.
  static const std::string kSql =
      std::string(
          "INSERT INTO events(time, kind, collection_id, object_id, "
          "version, ") +
      kLabelColumns + ", data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
  ASSIGN_OR_RETURN(Statement stmt, c.Prepare(kSql));
  stmt.Bind(1, e.time).Bind(2, e.kind).Bind(3, e.collection_id).Bind(4, e.object_id);
  stmt.Bind(5, e.version);
  BindLabel(stmt, 6, e.label);
  stmt.Bind(11, std::string_view(""));  // events keep no signature (store.h)
  stmt.Bind(12, e.data);
  return stmt.Run();
}

// The label of the newest stored version (highest version, then latest date_added) of `id` in
// any collection; nullopt when the id is unknown. One objects_by_id probe per collection.
Result<std::optional<ObjectLabel>> NewestLabel(Connection& c, const std::string& id) {
  ASSIGN_OR_RETURN(Statement stmt,
                   c.Prepare(std::string("SELECT ") + kLabelColumns +
                             " FROM collections c CROSS JOIN objects o INDEXED BY objects_by_id "
                             "WHERE o.coll = c.seq AND o.id = ?1 AND o.is_last = 1 "
                             "ORDER BY o.version DESC, o.date_added DESC LIMIT 1"));
  stmt.Bind(1, id);
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<ObjectLabel>();
  ASSIGN_OR_RETURN(ObjectLabel label, ReadLabel(stmt, 0));
  return std::optional<ObjectLabel>(std::move(label));
}

// The label of one stored version; nullopt when the collection or the version is unknown.
Result<std::optional<ObjectLabel>> VersionLabel(Connection& c, const std::string& collection_id,
                                                const std::string& id, int64_t version) {
  // Built once: this runs for every receipt.
  static const std::string kSql =
      std::string("SELECT ") + kLabelColumns +
      " FROM collections c CROSS JOIN objects o INDEXED BY objects_by_id "
      "WHERE c.id = ?1 AND o.coll = c.seq AND o.id = ?2 AND o.version = ?3";
  ASSIGN_OR_RETURN(Statement stmt, c.Prepare(kSql));
  stmt.Bind(1, collection_id).Bind(2, id).Bind(3, version);
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<ObjectLabel>();
  ASSIGN_OR_RETURN(ObjectLabel label, ReadLabel(stmt, 0));
  return std::optional<ObjectLabel>(std::move(label));
}

// Appends to the audit chain. seq and prev_hash come from the last entry read in this (write)
// transaction: the database's write lock makes appends from every connection and process one
// chain.
Result<std::vector<AuditRecord>> AppendAuditIn(Connection& c,
                                               const std::vector<AuditRecord>& records,
                                               int64_t now_micros) {
  std::vector<AuditRecord> out;
  if (records.empty()) return out;
  int64_t seq = 0;
  std::string prev_hash;
  {
    ASSIGN_OR_RETURN(Statement last,
                     c.Prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"));
    ASSIGN_OR_RETURN(bool row, last.Step());
    if (row) {
      seq = last.Int(0);
      prev_hash = last.Text(1);
    }
  }
  ASSIGN_OR_RETURN(Statement insert,
                   c.Prepare("INSERT INTO audit(seq, time, kind, actor, subject, detail, "
                             "prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  out.reserve(records.size());
  for (const AuditRecord& given : records) {
    AuditRecord r = given;
    r.seq = ++seq;
    if (r.time == 0) r.time = now_micros;
    r.prev_hash = prev_hash;
    r.hash = audit::ChainHash(r);
    if (r.hash.empty()) return InternalError("cannot compute the audit hash (libsodium)");
    insert.Reset();
    insert.Bind(1, r.seq).Bind(2, r.time).Bind(3, r.kind).Bind(4, r.actor).Bind(5, r.subject);
    insert.Bind(6, r.detail).Bind(7, r.prev_hash).Bind(8, r.hash);
    RETURN_IF_ERROR(insert.Run());
    prev_hash = r.hash;
    out.push_back(std::move(r));
  }
  return out;
}

constexpr char kOutboxColumns[] =
    "seq, partner, collection_id, object_id, version, date_added, state, attempts, next_attempt, "
    "delivered_at, error, created, lease_until";

Result<OutboxRow> ReadOutboxRow(const Statement& stmt) {
  OutboxRow r;
  r.seq = stmt.Int(0);
  r.partner = stmt.Text(1);
  r.collection_id = stmt.Text(2);
  r.object_id = stmt.Text(3);
  r.version = stmt.Int(4);
  r.date_added = stmt.Int(5);
  const int64_t state = stmt.Int(6);
  if (state < 0 || state > 2) return DataLossError("an outbox row has a corrupt state");
  r.state = static_cast<OutboxState>(state);
  r.attempts = static_cast<int32_t>(stmt.Int(7));
  r.next_attempt = stmt.Int(8);
  r.delivered_at = stmt.Int(9);
  r.error = stmt.Text(10);
  r.created = stmt.Int(11);
  r.lease_until = stmt.Int(12);
  return r;
}

// Writes the receipt event for the current state of outbox row `seq` (if it exists): one
// "receipt" event with the delivered object's label (TLP:RED when the object is gone).
Status WriteReceiptFor(Connection& c, const OutboxRow& row, int64_t now_micros) {
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
  return InsertEvent(c, event);
}

// Runs `update` (an UPDATE of one outbox row by seq, ?1) for each of `seqs` and writes each
// changed row's receipt event; unknown seqs are ignored. The row is read back by rowid after the
// update: SQLite's RETURNING materialises every returned row in a temporary table and cost twice
// the update itself here (about 8 us a row).
Status UpdateOutboxRows(Connection& c, Statement& update, const std::vector<int64_t>& seqs,
                        int64_t now_micros) {
  static const std::string kRead =
      std::string("SELECT ") + kOutboxColumns + " FROM outbox WHERE seq = ?1";
  ASSIGN_OR_RETURN(Statement read, c.Prepare(kRead));
  for (int64_t seq : seqs) {
    update.Reset();
    update.Bind(1, seq);
    RETURN_IF_ERROR(update.Run());
    if (sqlite3_changes(c.db()) == 0) continue;  // unknown seq: ignored
    read.Reset();
    read.Bind(1, seq);
    ASSIGN_OR_RETURN(bool found, read.Step());
    if (!found) continue;
    ASSIGN_OR_RETURN(OutboxRow row, ReadOutboxRow(read));
    read.Reset();
    RETURN_IF_ERROR(WriteReceiptFor(c, row, now_micros));
  }
  update.Reset();
  return Status::Ok();
}

Partner ReadPartnerRow(const Statement& stmt) {
  Partner p;
  p.id = stmt.Text(0);
  p.name = stmt.Text(1);
  p.identity_json = stmt.Text(2);
  p.url = stmt.Text(3);
  p.inbox = stmt.Text(4);
  p.sign_key = stmt.Text(5);
  p.box_key = stmt.Text(6);
  p.token = stmt.Text(7);
  p.user = stmt.Text(8);
  p.disabled = stmt.Int(9) != 0;
  p.created = stmt.Int(10);
  return p;
}

constexpr char kPartnerColumns[] =
    "id, name, identity_json, url, inbox, sign_key, box_key, token, user, disabled, created";

Result<Channel> ReadChannelRow(const Statement& stmt) {
  Channel ch;
  ch.id = stmt.Text(0);
  ch.partner = stmt.Text(1);
  ch.collection_id = stmt.Text(2);
  Result<ChannelMode> mode = ParseChannelMode(stmt.Text(3));
  if (!mode.ok()) return DataLossError("channel '" + ch.id + "' has a corrupt mode");
  ch.mode = *mode;
  ch.max_tlp = static_cast<int32_t>(stmt.Int(4));
  ch.remote_collection = stmt.Text(5);
  ch.cursor = stmt.Text(6);
  ch.created = stmt.Int(7);
  return ch;
}

constexpr char kChannelColumns[] =
    "id, partner, collection_id, mode, max_tlp, remote_collection, cursor, created";

}  // namespace

// ---------------------------------------------------------------------------------------------
// Connections

class SqliteStore::ReaderLease {
 public:
  ReaderLease(SqliteStore* store, ReaderKind kind, std::unique_ptr<Connection> connection)
      : store_(store), kind_(kind), connection_(std::move(connection)) {}
  ReaderLease(ReaderLease&& other) noexcept = default;
  ReaderLease& operator=(ReaderLease&&) = delete;
  ~ReaderLease() {
    if (connection_ != nullptr) store_->ReleaseReader(kind_, std::move(connection_));
  }
  Connection& operator*() const { return *connection_; }
  Connection* get() const { return connection_.get(); }

 private:
  SqliteStore* store_;
  ReaderKind kind_;
  std::unique_ptr<Connection> connection_;
};

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  return Open(path, Options());
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                       const Options& options) {
  if (path.empty()) return InvalidArgumentError("database path is empty");
  Connection::Options writer_options;
  writer_options.busy_timeout_ms = options.busy_timeout_ms;
  writer_options.cache_kib = options.cache_kib;
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer, Connection::Open(path, writer_options));

  // Migrations: one IMMEDIATE transaction, so a second process opening the same new file waits
  // for the first to finish and then finds the schema current.
  {
    ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(writer.get(), /*immediate=*/true));
    int64_t version = 0;
    {
      ASSIGN_OR_RETURN(Statement stmt, writer->Prepare("PRAGMA user_version"));
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (row) version = stmt.Int(0);
    }
    const auto& migrations = Migrations();
    if (version > static_cast<int64_t>(migrations.size())) {
      return FailedPreconditionError("database '" + path + "' has schema version " +
                                     std::to_string(version) +
                                     ", newer than this Liaison understands (" +
                                     std::to_string(migrations.size()) + "); use a newer Liaison");
    }
    for (size_t i = static_cast<size_t>(version); i < migrations.size(); ++i) {
      RETURN_IF_ERROR(writer->Exec(
          migrations[i], "migrating the database schema to version " + std::to_string(i + 1)));
    }
    if (version < static_cast<int64_t>(migrations.size())) {
      RETURN_IF_ERROR(writer->Exec("PRAGMA user_version = " + std::to_string(migrations.size()),
                                   "recording the schema version"));
    }
    RETURN_IF_ERROR(txn.Commit());
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(path, options, std::move(writer)));
}

int SqliteStore::SchemaVersion() { return static_cast<int>(Migrations().size()); }

SqliteStore::SqliteStore(std::string path, Options options, std::unique_ptr<Connection> writer)
    : path_(std::move(path)), options_(options), writer_(std::move(writer)) {
  if (options_.max_readers < 1) const_cast<Options&>(options_).max_readers = 1;
}

SqliteStore::~SqliteStore() = default;

Result<SqliteStore::ReaderLease> SqliteStore::AcquireReader(ReaderKind kind) {
  ReaderPool& pool = pools_[static_cast<int>(kind)];
  std::unique_lock<std::mutex> lock(pool_mu_);
  while (true) {
    if (!pool.idle.empty()) {
      std::unique_ptr<Connection> c = std::move(pool.idle.back());
      pool.idle.pop_back();
      return ReaderLease(this, kind, std::move(c));
    }
    if (pool.open < options_.max_readers) {
      ++pool.open;
      lock.unlock();
      Connection::Options reader_options;
      reader_options.read_only = true;
      reader_options.busy_timeout_ms = options_.busy_timeout_ms;
      reader_options.cache_kib = options_.cache_kib;
      if (kind == ReaderKind::kPoint) reader_options.mmap_bytes = 0;
      Result<std::unique_ptr<Connection>> c = Connection::Open(path_, reader_options);
      if (!c.ok()) {
        lock.lock();
        --pool.open;
        pool_cv_.notify_all();
        return c.status();
      }
      return ReaderLease(this, kind, std::move(c).value());
    }
    pool_cv_.wait(lock);
  }
}

void SqliteStore::ReleaseReader(ReaderKind kind, std::unique_ptr<Connection> connection) {
  std::lock_guard<std::mutex> lock(pool_mu_);
  pools_[static_cast<int>(kind)].idle.push_back(std::move(connection));
  pool_cv_.notify_all();  // waiters of both kinds share the condition variable
}

template <typename T, typename Body>
Result<T> SqliteStore::Write(const char* what, Body&& body) {
  MutexLock lock(&write_mu_);
  Result<Transaction> txn = Transaction::Begin(writer_.get(), /*immediate=*/true);
  if (!txn.ok()) return txn.status().WithContext(what);
  Result<T> result = body(*writer_);
  if (!result.ok()) return result;  // the transaction rolls back
  Status committed = txn->Commit();
  if (!committed.ok()) return committed.WithContext(what);
  return result;
}

template <typename Body>
Status SqliteStore::WriteStatus(const char* what, Body&& body) {
  Result<bool> r = Write<bool>(what, [&](Connection& c) -> Result<bool> {
    RETURN_IF_ERROR(body(c));
    return true;
  });
  return r.status();
}

template <typename T, typename Body>
Result<T> SqliteStore::Read(const char* what, Body&& body) {
  return ReadWith<T>(ReaderKind::kPoint, what, std::forward<Body>(body));
}

template <typename T, typename Body>
Result<T> SqliteStore::ReadWith(ReaderKind kind, const char* what, Body&& body) {
  ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader(kind));
  // One read transaction, so a query made of several statements sees one snapshot.
  Result<Transaction> txn = Transaction::Begin(lease.get(), /*immediate=*/false);
  if (!txn.ok()) return txn.status().WithContext(what);
  Result<T> result = body(*lease);
  if (!result.ok()) return result;
  Status committed = txn->Commit();
  if (!committed.ok()) return committed.WithContext(what);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Settings

Result<std::optional<std::string>> SqliteStore::GetSetting(const std::string& key) {
  return Read<std::optional<std::string>>(
      "reading a setting", [&](Connection& c) -> Result<std::optional<std::string>> {
        ASSIGN_OR_RETURN(Statement stmt, c.Prepare("SELECT value FROM settings WHERE key = ?1"));
        stmt.Bind(1, key);
        ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) return std::optional<std::string>();
        return std::optional<std::string>(stmt.Text(0));
      });
}

Status SqliteStore::PutSetting(const std::string& key, const std::string& value) {
  if (key.empty()) return InvalidArgumentError("setting key is empty");
  return WriteStatus("saving a setting", [&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(Statement stmt,
                     c.Prepare("INSERT INTO settings(key, value) VALUES (?1, ?2) "
                               "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
    stmt.Bind(1, key).Bind(2, value);
    return stmt.Run();
  });
}

// ---------------------------------------------------------------------------------------------
// API roots

Status SqliteStore::CreateApiRoot(const ApiRoot& root) {
  if (root.name.empty()) return InvalidArgumentError("API root name is empty");
  return WriteStatus("creating an API root", [&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(bool exists,
                     Exists(c, "SELECT 1 FROM api_roots WHERE name = ?1", {root.name}));
    if (exists) return AlreadyExistsError("API root '" + root.name + "' exists");
    ASSIGN_OR_RETURN(Statement stmt, c.Prepare("INSERT INTO api_roots(name, title, description, "
                                               "max_content_length) VALUES (?1, ?2, ?3, ?4)"));
    stmt.Bind(1, root.name).Bind(2, root.title).Bind(3, root.description);
    stmt.Bind(4, root.max_content_length);
    return stmt.Run();
  });
}

namespace {
ApiRoot ReadApiRootRow(const Statement& stmt) {
  ApiRoot r;
  r.name = stmt.Text(0);
  r.title = stmt.Text(1);
  r.description = stmt.Text(2);
  r.max_content_length = stmt.Int(3);
  return r;
}
}  // namespace

Result<std::vector<ApiRoot>> SqliteStore::ListApiRoots() {
  return Read<std::vector<ApiRoot>>(
      "listing API roots", [&](Connection& c) -> Result<std::vector<ApiRoot>> {
        ASSIGN_OR_RETURN(Statement stmt,
                         c.Prepare("SELECT name, title, description, max_content_length FROM "
                                   "api_roots ORDER BY seq"));
        std::vector<ApiRoot> out;
        while (true) {
          ASSIGN_OR_RETURN(bool row, stmt.Step());
          if (!row) break;
          out.push_back(ReadApiRootRow(stmt));
        }
        return out;
      });
}

Result<ApiRoot> SqliteStore::GetApiRoot(const std::string& name) {
  return Read<ApiRoot>("reading an API root", [&](Connection& c) -> Result<ApiRoot> {
    ASSIGN_OR_RETURN(Statement stmt,
                     c.Prepare("SELECT name, title, description, max_content_length FROM "
                               "api_roots WHERE name = ?1"));
    stmt.Bind(1, name);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return NotFoundError("API root '" + name + "' does not exist");
    return ReadApiRootRow(stmt);
  });
}

// ---------------------------------------------------------------------------------------------
// Collections

Status SqliteStore::CreateCollection(const Collection& collection) {
  if (collection.id.empty()) return InvalidArgumentError("collection id is empty");
  return WriteStatus("creating a collection", [&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(bool root,
                     Exists(c, "SELECT 1 FROM api_roots WHERE name = ?1", {collection.api_root}));
    if (!root) return NotFoundError("API root '" + collection.api_root + "' does not exist");
    ASSIGN_OR_RETURN(bool taken,
                     Exists(c, "SELECT 1 FROM collections WHERE id = ?1", {collection.id}));
    if (taken) return AlreadyExistsError("collection '" + collection.id + "' exists");
    ASSIGN_OR_RETURN(bool id_is_alias,
                     Exists(c, "SELECT 1 FROM collections WHERE api_root = ?1 AND alias = ?2",
                            {collection.api_root, collection.id}));
    if (id_is_alias) {
      return AlreadyExistsError("collection id '" + collection.id + "' is taken as an alias");
    }
    if (!collection.alias.empty()) {
      ASSIGN_OR_RETURN(bool alias_taken, Exists(c,
                                                "SELECT 1 FROM collections WHERE api_root = ?1 AND "
                                                "(alias = ?2 OR id = ?2)",
                                                {collection.api_root, collection.alias}));
      if (alias_taken) {
        return AlreadyExistsError("collection alias '" + collection.alias + "' is taken");
      }
    }
    ASSIGN_OR_RETURN(Statement stmt,
                     c.Prepare("INSERT INTO collections(id, api_root, title, description, alias, "
                               "media_types) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    stmt.Bind(1, collection.id).Bind(2, collection.api_root).Bind(3, collection.title);
    stmt.Bind(4, collection.description).Bind(5, collection.alias);
    stmt.Bind(6, JoinLines(collection.media_types));
    return stmt.Run();
  });
}

Result<std::vector<Collection>> SqliteStore::ListCollections(const std::string& api_root) {
  return Read<std::vector<Collection>>(
      "listing collections", [&](Connection& c) -> Result<std::vector<Collection>> {
        ASSIGN_OR_RETURN(bool root,
                         Exists(c, "SELECT 1 FROM api_roots WHERE name = ?1", {api_root}));
        if (!root) return NotFoundError("API root '" + api_root + "' does not exist");
        ASSIGN_OR_RETURN(Statement stmt,
                         c.Prepare(std::string("SELECT ") + kCollectionColumns +
                                   " FROM collections WHERE api_root = ?1 ORDER BY seq"));
        stmt.Bind(1, api_root);
        std::vector<Collection> out;
        while (true) {
          ASSIGN_OR_RETURN(bool row, stmt.Step());
          if (!row) break;
          ASSIGN_OR_RETURN(Collection coll, ReadCollectionRow(stmt));
          out.push_back(std::move(coll));
        }
        return out;
      });
}

Result<Collection> SqliteStore::GetCollection(const std::string& api_root,
                                              const std::string& id_or_alias) {
  return Read<Collection>("reading a collection", [&](Connection& c) -> Result<Collection> {
    if (id_or_alias.empty()) return UnknownCollection(id_or_alias);
    // The id first, then the alias (CreateCollection keeps them from colliding in one root).
    for (const char* column : {"id", "alias"}) {
      ASSIGN_OR_RETURN(Statement stmt,
                       c.Prepare(std::string("SELECT ") + kCollectionColumns +
                                 " FROM collections WHERE api_root = ?1 AND " + column + " = ?2"));
      stmt.Bind(1, api_root).Bind(2, id_or_alias);
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (row) return ReadCollectionRow(stmt);
    }
    return UnknownCollection(id_or_alias);
  });
}

Status SqliteStore::DeleteCollection(const std::string& api_root, const std::string& id) {
  return WriteStatus("deleting a collection", [&](Connection& c) -> Status {
    // Objects and grants go with it (ON DELETE CASCADE).
    ASSIGN_OR_RETURN(Statement stmt,
                     c.Prepare("DELETE FROM collections WHERE api_root = ?1 AND id = ?2"));
    stmt.Bind(1, api_root).Bind(2, id);
    RETURN_IF_ERROR(stmt.Run());
    if (sqlite3_changes(c.db()) == 0) return UnknownCollection(id);
    return Status::Ok();
  });
}

// ---------------------------------------------------------------------------------------------
// Grants

Status SqliteStore::PutGrant(const Grant& grant) {
  if (grant.subject.empty()) return InvalidArgumentError("grant subject is empty");
  return WriteStatus("saving a grant", [&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(bool exists,
                     Exists(c, "SELECT 1 FROM collections WHERE id = ?1", {grant.collection_id}));
    if (!exists) return UnknownCollection(grant.collection_id);
    ASSIGN_OR_RETURN(Statement stmt,
                     c.Prepare("INSERT INTO grants(collection_id, subject, can_read, can_write) "
                               "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(collection_id, subject) DO "
                               "UPDATE SET can_read = excluded.can_read, "
                               "can_write = excluded.can_write"));
    stmt.Bind(1, grant.collection_id).Bind(2, grant.subject);
    stmt.Bind(3, int64_t{grant.can_read}).Bind(4, int64_t{grant.can_write});
    return stmt.Run();
  });
}

Status SqliteStore::DeleteGrant(const std::string& collection_id, const std::string& subject) {
  return WriteStatus("deleting a grant", [&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(Statement stmt,
                     c.Prepare("DELETE FROM grants WHERE collection_id = ?1 AND subject = ?2"));
    stmt.Bind(1, collection_id).Bind(2, subject);
    RETURN_IF_ERROR(stmt.Run());
    if (sqlite3_changes(c.db()) == 0) {
      return NotFoundError("no grant for '" + subject + "' on collection '" + collection_id + "'");
    }
    return Status::Ok();
  });
}

Result<std::vector<Grant>> SqliteStore::ListGrants(const std::string& collection_id) {
  return Read<std::vector<Grant>>(
      "listing grants", [&](Connection& c) -> Result<std::vector<Grant>> {
        ASSIGN_OR_RETURN(bool exists,
                         Exists(c, "SELECT 1 FROM collections WHERE id = ?1", {collection_id}));
        if (!exists) return UnknownCollection(collection_id);
        ASSIGN_OR_RETURN(Statement stmt,
                         c.Prepare("SELECT subject, can_read, can_write FROM grants WHERE "
                                   "collection_id = ?1 ORDER BY subject"));
        stmt.Bind(1, collection_id);
        std::vector<Grant> out;
        while (true) {
          ASSIGN_OR_RETURN(bool row, stmt.Step());
          if (!row) break;
          out.push_back({collection_id, stmt.Text(0), stmt.Int(1) != 0, stmt.Int(2) != 0});
        }
        return out;
      });
}

// ---------------------------------------------------------------------------------------------
// Users and API keys

Status SqliteStore::CreateUser(const User& user) {
  if (user.name.empty()) return InvalidArgumentError("user name is empty");
  return WriteStatus("creating a user", [&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(bool exists, Exists(c, "SELECT 1 FROM users WHERE name = ?1", {user.name}));
    if (exists) return AlreadyExistsError("user '" + user.name + "' exists");
    ASSIGN_OR_RETURN(Statement stmt,
                     c.Prepare("INSERT INTO users(name, role, password_hash, disabled, created, "
                               "partner) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    stmt.Bind(1, user.name).Bind(2, RoleName(user.role)).Bind(3, user.password_hash);
    stmt.Bind(4, int64_t{user.disabled}).Bind(5, user.created).Bind(6, user.partner);
    return stmt.Run();
  });
}

Status SqliteStore::UpdateUser(const User& user) {
  return WriteStatus("updating a user", [&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(Statement stmt,
                     c.Prepare("UPDATE users SET role = ?2, password_hash = ?3, disabled = ?4, "
                               "partner = ?5 WHERE name = ?1"));
    stmt.Bind(1, user.name).Bind(2, RoleName(user.role)).Bind(3, user.password_hash);
    stmt.Bind(4, int64_t{user.disabled}).Bind(5, user.partner);
    RETURN_IF_ERROR(stmt.Run());
    if (sqlite3_changes(c.db()) == 0) {
      return NotFoundError("user '" + user.name + "' does not exist");
    }
    return Status::Ok();
  });
}

Result<User> SqliteStore::GetUser(const std::string& name) {
  return Read<User>("reading a user", [&](Connection& c) -> Result<User> {
    ASSIGN_OR_RETURN(Statement stmt, c.Prepare("SELECT name, role, password_hash, disabled, "
                                               "created, partner FROM users WHERE name = ?1"));
    stmt.Bind(1, name);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return NotFoundError("user '" + name + "' does not exist");
    return ReadUserRow(stmt);
  });
}

Result<std::vector<User>> SqliteStore::ListUsers() {
  return Read<std::vector<User>>("listing users", [&](Connection& c) -> Result<std::vector<User>> {
    ASSIGN_OR_RETURN(Statement stmt, c.Prepare("SELECT name, role, password_hash, disabled, "
                                               "created, partner FROM users ORDER BY name"));
    std::vector<User> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      ASSIGN_OR_RETURN(User u, ReadUserRow(stmt));
      out.push_back(std::move(u));
    }
    return out;
  });
}

Status SqliteStore::CreateApiKey(const ApiKey& key) {
  if (key.key_id.empty()) return InvalidArgumentError("API key id is empty");
  return WriteStatus("creating an API key", [&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(bool user, Exists(c, "SELECT 1 FROM users WHERE name = ?1", {key.user}));
    if (!user) return NotFoundError("user '" + key.user + "' does not exist");
    ASSIGN_OR_RETURN(bool exists,
                     Exists(c, "SELECT 1 FROM api_keys WHERE key_id = ?1", {key.key_id}));
    if (exists) return AlreadyExistsError("API key '" + key.key_id + "' exists");
    ASSIGN_OR_RETURN(Statement stmt,
                     c.Prepare(std::string("INSERT INTO api_keys(") + kApiKeyColumns +
                               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    stmt.Bind(1, key.key_id).Bind(2, key.user).Bind(3, key.secret_hash);
    stmt.Bind(4, key.description).Bind(5, key.created).Bind(6, int64_t{key.revoked});
    return stmt.Run();
  });
}

Result<ApiKey> SqliteStore::FindApiKey(const std::string& key_id) {
  return Read<ApiKey>("reading an API key", [&](Connection& c) -> Result<ApiKey> {
    ASSIGN_OR_RETURN(Statement stmt, c.Prepare(std::string("SELECT ") + kApiKeyColumns +
                                               " FROM api_keys WHERE key_id = ?1"));
    stmt.Bind(1, key_id);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return NotFoundError("API key '" + key_id + "' does not exist");
    return ReadApiKeyRow(stmt);
  });
}

Result<std::vector<ApiKey>> SqliteStore::ListApiKeys(const std::string& user) {
  return Read<std::vector<ApiKey>>(
      "listing API keys", [&](Connection& c) -> Result<std::vector<ApiKey>> {
        ASSIGN_OR_RETURN(Statement stmt,
                         c.Prepare(std::string("SELECT ") + kApiKeyColumns +
                                   " FROM api_keys WHERE user = ?1 ORDER BY key_id"));
        stmt.Bind(1, user);
        std::vector<ApiKey> out;
        while (true) {
          ASSIGN_OR_RETURN(bool row, stmt.Step());
          if (!row) break;
          out.push_back(ReadApiKeyRow(stmt));
        }
        return out;
      });
}

Status SqliteStore::RevokeApiKey(const std::string& key_id) {
  return WriteStatus("revoking an API key", [&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(Statement stmt,
                     c.Prepare("UPDATE api_keys SET revoked = 1 WHERE key_id = ?1"));
    stmt.Bind(1, key_id);
    RETURN_IF_ERROR(stmt.Run());
    if (sqlite3_changes(c.db()) == 0) {
      return NotFoundError("API key '" + key_id + "' does not exist");
    }
    return Status::Ok();
  });
}

// ---------------------------------------------------------------------------------------------
// Objects

Result<AddObjectsResult> SqliteStore::AddObjects(const AddObjectsRequest& request,
                                                 int64_t now_micros) {
  RETURN_IF_ERROR(ValidateAddObjectsRequest(request));
  return Write<AddObjectsResult>("adding objects", [&](Connection& c) -> Result<AddObjectsResult> {
    ASSIGN_OR_RETURN(CollectionRow coll, LookupCollection(c, request.collection_id));
    if (!request.status.id.empty()) {
      ASSIGN_OR_RETURN(bool taken,
                       Exists(c, "SELECT 1 FROM statuses WHERE id = ?1", {request.status.id}));
      if (taken) return AlreadyExistsError("status '" + request.status.id + "' exists");
    }
    ASSIGN_OR_RETURN(
        Statement range,
        c.Prepare("SELECT MIN(version), MAX(version) FROM objects INDEXED BY objects_by_id "
                  "WHERE coll = ?1 AND id = ?2"));
    ASSIGN_OR_RETURN(
        Statement find_version,
        c.Prepare("SELECT 1 FROM objects INDEXED BY objects_by_id WHERE coll = ?1 AND id = ?2 AND "
                  "version = ?3"));
    ASSIGN_OR_RETURN(
        Statement find_same_bytes,
        c.Prepare("SELECT version FROM objects INDEXED BY objects_by_id WHERE coll = ?1 AND "
                  "id = ?2 AND "
                  "has_version = 0 AND json = ?3 LIMIT 1"));
    ASSIGN_OR_RETURN(
        Statement clear_last,
        c.Prepare("UPDATE objects INDEXED BY objects_by_id SET is_last = 0 WHERE coll = ?1 "
                  "AND id = ?2 AND "
                  "is_last = 1"));
    ASSIGN_OR_RETURN(
        Statement clear_first,
        c.Prepare("UPDATE objects INDEXED BY objects_by_id SET is_first = 0 WHERE coll = ?1 "
                  "AND id = ?2 AND "
                  "is_first = 1"));
    ASSIGN_OR_RETURN(Statement insert,
                     c.Prepare(std::string("INSERT INTO objects(coll, date_added, id, type, "
                                           "spec_version, version, has_version, is_last, "
                                           "is_first, json, ") +
                               kLabelColumns +
                               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                               "?14, ?15, ?16)"));
    ASSIGN_OR_RETURN(Statement insert_outbox,
                     c.Prepare("INSERT INTO outbox(partner, collection_id, object_id, version, "
                               "date_added, state, attempts, next_attempt, delivered_at, error, "
                               "created, lease_until) VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, ?6, 0, '', "
                               "?6, 0)"));
    ASSIGN_OR_RETURN(Statement insert_feedback,
                     c.Prepare("INSERT INTO feedback(about_id, feedback_id, feedback_version, "
                               "from_id, outcome, note, count, received) VALUES (?1, ?2, ?3, ?4, "
                               "?5, ?6, ?7, ?8)"));
    AddObjectsResult result;
    result.status = request.status;
    result.status.successes.reserve(result.status.successes.size() + request.objects.size());
    int64_t last = coll.last_date_added;
    std::vector<AuditRecord> audit = request.audit;  // then each new version's own records

    for (const NewObject& o : request.objects) {
      int64_t candidate = NextDateAdded(last, now_micros);
      int64_t version = o.version.value_or(candidate);
      range.Reset();
      range.Bind(1, coll.seq).Bind(2, o.id);
      ASSIGN_OR_RETURN(bool row, range.Step());
      bool has_any = row && !range.IsNull(0);
      int64_t min_version = has_any ? range.Int(0) : 0;
      int64_t max_version = has_any ? range.Int(1) : 0;
      range.Reset();

      std::optional<int64_t> existing;
      if (has_any) {
        if (!o.version) {
          // Store contract: an unversioned object is a duplicate when its bytes are already
          // stored unversioned under the same id.
          find_same_bytes.Reset();
          find_same_bytes.Bind(1, coll.seq).Bind(2, o.id).Bind(3, o.json);
          ASSIGN_OR_RETURN(bool same, find_same_bytes.Step());
          if (same) existing = find_same_bytes.Int(0);
          find_same_bytes.Reset();
        }
        if (!existing) {
          find_version.Reset();
          find_version.Bind(1, coll.seq).Bind(2, o.id).Bind(3, version);
          ASSIGN_OR_RETURN(bool found, find_version.Step());
          if (found) existing = version;
          find_version.Reset();
        }
      }
      if (existing) {
        result.status.successes.push_back({o.id, FormatVersionText(*existing), ""});
        continue;
      }

      bool is_last = !has_any || version > max_version;
      bool is_first = !has_any || version < min_version;
      if (has_any && is_last) {
        clear_last.Reset();
        clear_last.Bind(1, coll.seq).Bind(2, o.id);
        RETURN_IF_ERROR(clear_last.Run());
      }
      if (has_any && is_first) {
        clear_first.Reset();
        clear_first.Bind(1, coll.seq).Bind(2, o.id);
        RETURN_IF_ERROR(clear_first.Run());
      }
      insert.Reset();
      insert.Bind(1, coll.seq).Bind(2, candidate).Bind(3, o.id).Bind(4, o.type);
      insert.Bind(5, o.spec_version).Bind(6, version).Bind(7, int64_t{o.version.has_value()});
      insert.Bind(8, int64_t{is_last}).Bind(9, int64_t{is_first}).Bind(10, o.json);
      BindLabel(insert, 11, o.label);
      RETURN_IF_ERROR(insert.Run());

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
      RETURN_IF_ERROR(InsertEvent(c, event));
      for (const std::string& partner : o.outbox_partners) {
        insert_outbox.Reset();
        insert_outbox.Bind(1, partner).Bind(2, request.collection_id).Bind(3, o.id);
        insert_outbox.Bind(4, version).Bind(5, candidate).Bind(6, now_micros);
        RETURN_IF_ERROR(insert_outbox.Run());
      }
      for (const FeedbackRecord& given : o.feedback) {
        FeedbackRecord record = given;
        record.feedback_id = o.id;
        record.feedback_version = version;
        record.received = now_micros;
        insert_feedback.Reset();
        insert_feedback.Bind(1, record.about_id).Bind(2, record.feedback_id);
        insert_feedback.Bind(3, record.feedback_version).Bind(4, record.from);
        insert_feedback.Bind(5, record.outcome).Bind(6, record.note).Bind(7, record.count);
        insert_feedback.Bind(8, record.received);
        RETURN_IF_ERROR(insert_feedback.Run());
        HubEvent fb;
        fb.time = now_micros;
        fb.kind = "feedback";
        fb.collection_id = request.collection_id;
        fb.object_id = record.about_id;
        fb.version = version;
        ASSIGN_OR_RETURN(std::optional<ObjectLabel> about, NewestLabel(c, record.about_id));
        fb.label = about ? std::move(*about) : o.label;
        fb.data = FeedbackEventData(record);
        RETURN_IF_ERROR(InsertEvent(c, fb));
      }

      audit.insert(audit.end(), o.audit.begin(), o.audit.end());
      last = candidate;
      if (result.added == 0) result.first_date_added = candidate;
      result.last_date_added = candidate;
      ++result.added;
      result.status.successes.push_back({o.id, FormatVersionText(version), ""});
    }

    if (last != coll.last_date_added) {
      ASSIGN_OR_RETURN(Statement update,
                       c.Prepare("UPDATE collections SET last_date_added = ?2 WHERE seq = ?1"));
      update.Bind(1, coll.seq).Bind(2, last);
      RETURN_IF_ERROR(update.Run());
    }

    FinishStatusCounts(result.status);
    if (!result.status.id.empty()) {
      const StatusResource& s = result.status;
      ASSIGN_OR_RETURN(Statement stmt,
                       c.Prepare("INSERT INTO statuses(id, api_root, status, request_timestamp, "
                                 "total_count, success_count, failure_count, pending_count, "
                                 "owner, successes, failures, pendings) VALUES (?1, ?2, ?3, ?4, "
                                 "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"));
      stmt.Bind(1, s.id).Bind(2, s.api_root).Bind(3, s.status).Bind(4, s.request_timestamp);
      stmt.Bind(5, s.total_count).Bind(6, s.success_count).Bind(7, s.failure_count);
      stmt.Bind(8, s.pending_count).Bind(9, s.owner);
      stmt.BindBlob(10, EncodeStatusDetails(s.successes))
          .BindBlob(11, EncodeStatusDetails(s.failures));
      stmt.BindBlob(12, EncodeStatusDetails(s.pendings));
      RETURN_IF_ERROR(stmt.Run());
    }
    RETURN_IF_ERROR(AppendAuditIn(c, audit, now_micros).status());
    return result;
  });
}

namespace {

// Appends to `out` at most `fetch` rows of one indexed range query over the collection: the
// query's filters, optionally narrowed to one id or one type (the index that drives the scan).
Status RunPageQuery(Connection& c, int64_t coll, const ObjectQuery& q, const std::string* id,
                    const std::string* type, const std::vector<std::string>& type_filter,
                    int64_t fetch, std::vector<StoredObject>& out) {
  SqlBuilder b;
  std::string sql = std::string("SELECT ") + kObjectColumns + (q.metadata_only ? "" : ", o.json") +
                    " FROM objects o " +
                    // Pin the index that drives the scan: without statistics the planner would
                    // prefer the primary key (date_added order) and scan the whole collection
                    // for an id.
                    (id != nullptr     ? "INDEXED BY objects_by_id"
                     : type != nullptr ? "INDEXED BY objects_by_type"
                                       : "NOT INDEXED") +
                    " WHERE o.coll = " + b.Param(coll) + " AND o.date_added > " +
                    b.Param(q.added_after.value_or(std::numeric_limits<int64_t>::min()));
  if (id != nullptr) sql += " AND o.id = " + b.Param(*id);
  if (type != nullptr) sql += " AND o.type = " + b.Param(*type);
  if (!type_filter.empty()) sql += " AND o.type IN " + b.List(type_filter);
  if (!q.spec_versions.empty()) sql += " AND o.spec_version IN " + b.List(q.spec_versions);
  std::string versions = VersionCondition(q, /*default_last=*/true, b);
  if (!versions.empty()) sql += " AND " + versions;
  sql += " ORDER BY o.date_added LIMIT " + b.Param(fetch);
  ASSIGN_OR_RETURN(Statement stmt, c.Prepare(sql));
  b.BindAll(stmt);
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    ASSIGN_OR_RETURN(StoredObject o, ReadObjectRow(stmt, !q.metadata_only));
    out.push_back(std::move(o));
  }
  return Status::Ok();
}

ObjectPage FinishPage(std::vector<StoredObject> rows, size_t limit) {
  ObjectPage page;
  page.more = rows.size() > limit;
  if (page.more) rows.resize(limit);
  page.objects = std::move(rows);
  return page;
}

}  // namespace

Result<ObjectPage> SqliteStore::QueryObjects(const ObjectQuery& query) {
  RETURN_IF_ERROR(ValidateObjectQuery(query));
  // A page of many objects maps the file; a lookup of a few by id reads pages (see ReaderKind).
  const ReaderKind kind = query.ids.empty() && FetchLimit(query.limit) > kBulkRows
                              ? ReaderKind::kBulk
                              : ReaderKind::kPoint;
  return ReadWith<ObjectPage>(kind, "querying objects", [&](Connection& c) -> Result<ObjectPage> {
    ASSIGN_OR_RETURN(CollectionRow coll, LookupCollection(c, query.collection_id));
    int64_t fetch = FetchLimit(query.limit);
    std::vector<std::string> ids = Dedup(query.ids);
    std::vector<std::string> types = Dedup(query.types);
    std::vector<StoredObject> rows;
    // Each value of the driving filter is its own indexed range query of at most `fetch` rows,
    // merged below by date_added: cost ~ values x page, never the collection size.
    size_t runs = 1;
    if (!ids.empty()) {
      runs = ids.size();
      for (const std::string& id : ids) {
        RETURN_IF_ERROR(RunPageQuery(c, coll.seq, query, &id, nullptr, types, fetch, rows));
      }
    } else if (!types.empty()) {
      runs = types.size();
      for (const std::string& type : types) {
        RETURN_IF_ERROR(RunPageQuery(c, coll.seq, query, nullptr, &type, {}, fetch, rows));
      }
    } else {
      RETURN_IF_ERROR(RunPageQuery(c, coll.seq, query, nullptr, nullptr, {}, fetch, rows));
    }
    if (runs > 1) {
      std::sort(rows.begin(), rows.end(), [](const StoredObject& a, const StoredObject& b) {
        return a.date_added < b.date_added;
      });
      if (rows.size() > static_cast<size_t>(fetch)) rows.resize(static_cast<size_t>(fetch));
    }
    return FinishPage(std::move(rows), query.limit);
  });
}

Result<ObjectPage> SqliteStore::QueryVersions(const ObjectQuery& query, const std::string& id) {
  RETURN_IF_ERROR(ValidateObjectQuery(query));
  return Read<ObjectPage>("querying object versions", [&](Connection& c) -> Result<ObjectPage> {
    ASSIGN_OR_RETURN(CollectionRow coll, LookupCollection(c, query.collection_id));
    SqlBuilder b;
    std::string sql =
        std::string("SELECT ") + kObjectColumns + (query.metadata_only ? "" : ", o.json") +
        " FROM objects o INDEXED BY objects_by_id WHERE o.coll = " + b.Param(coll.seq) +
        " AND o.id = " + b.Param(id) + " AND o.date_added > " +
        b.Param(query.added_after.value_or(std::numeric_limits<int64_t>::min()));
    if (!query.spec_versions.empty()) {
      sql += " AND o.spec_version IN " + b.List(query.spec_versions);
    }
    sql += " ORDER BY o.date_added LIMIT " + b.Param(FetchLimit(query.limit));
    ASSIGN_OR_RETURN(Statement stmt, c.Prepare(sql));
    b.BindAll(stmt);
    std::vector<StoredObject> rows;
    while (true) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      ASSIGN_OR_RETURN(StoredObject o, ReadObjectRow(stmt, !query.metadata_only));
      rows.push_back(std::move(o));
    }
    return FinishPage(std::move(rows), query.limit);
  });
}

Result<int64_t> SqliteStore::DeleteObject(const ObjectQuery& query, const std::string& id) {
  RETURN_IF_ERROR(ValidateObjectQuery(query));
  return Write<int64_t>("deleting an object", [&](Connection& c) -> Result<int64_t> {
    ASSIGN_OR_RETURN(CollectionRow coll, LookupCollection(c, query.collection_id));
    // Select first, then delete: "first"/"last" are judged before the deletion.
    std::vector<int64_t> doomed;
    {
      SqlBuilder b;
      std::string sql =
          "SELECT o.date_added FROM objects o INDEXED BY objects_by_id WHERE o.coll = " +
          b.Param(coll.seq) + " AND o.id = " + b.Param(id);
      if (!query.spec_versions.empty()) {
        sql += " AND o.spec_version IN " + b.List(query.spec_versions);
      }
      std::string versions = VersionCondition(query, /*default_last=*/false, b);
      if (!versions.empty()) sql += " AND " + versions;
      ASSIGN_OR_RETURN(Statement stmt, c.Prepare(sql));
      b.BindAll(stmt);
      while (true) {
        ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) break;
        doomed.push_back(stmt.Int(0));
      }
    }
    if (doomed.empty()) {
      return NotFoundError("no version of object '" + id + "' in collection '" +
                           query.collection_id + "' matches");
    }
    {
      ASSIGN_OR_RETURN(Statement del,
                       c.Prepare("DELETE FROM objects WHERE coll = ?1 AND date_added = ?2"));
      for (int64_t date : doomed) {
        del.Reset();
        del.Bind(1, coll.seq).Bind(2, date);
        RETURN_IF_ERROR(del.Run());
      }
    }
    // Re-mark the newest and oldest remaining versions.
    ASSIGN_OR_RETURN(Statement flags,
                     c.Prepare("UPDATE objects INDEXED BY objects_by_id SET "
                               "is_last = (version = (SELECT MAX(version) FROM objects o2 WHERE "
                               "o2.coll = ?1 AND o2.id = ?2)), "
                               "is_first = (version = (SELECT MIN(version) FROM objects o2 WHERE "
                               "o2.coll = ?1 AND o2.id = ?2)) "
                               "WHERE coll = ?1 AND id = ?2"));
    flags.Bind(1, coll.seq).Bind(2, id);
    RETURN_IF_ERROR(flags.Run());
    return static_cast<int64_t>(doomed.size());
  });
}

Result<StatusResource> SqliteStore::GetStatus(const std::string& api_root,
                                              const std::string& status_id) {
  return Read<StatusResource>("reading a status", [&](Connection& c) -> Result<StatusResource> {
    ASSIGN_OR_RETURN(Statement stmt,
                     c.Prepare("SELECT id, api_root, status, request_timestamp, total_count, "
                               "success_count, failure_count, pending_count, owner, successes, "
                               "failures, pendings FROM statuses WHERE id = ?1 AND "
                               "api_root = ?2"));
    stmt.Bind(1, status_id).Bind(2, api_root);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return NotFoundError("status '" + status_id + "' does not exist");
    StatusResource s;
    s.id = stmt.Text(0);
    s.api_root = stmt.Text(1);
    s.status = stmt.Text(2);
    s.request_timestamp = stmt.Int(3);
    s.total_count = stmt.Int(4);
    s.success_count = stmt.Int(5);
    s.failure_count = stmt.Int(6);
    s.pending_count = stmt.Int(7);
    s.owner = stmt.Text(8);
    ASSIGN_OR_RETURN(s.successes, DecodeStatusDetails(stmt.Text(9)));
    ASSIGN_OR_RETURN(s.failures, DecodeStatusDetails(stmt.Text(10)));
    ASSIGN_OR_RETURN(s.pendings, DecodeStatusDetails(stmt.Text(11)));
    return s;
  });
}

Result<int64_t> SqliteStore::CountObjects(const std::string& collection_id) {
  return Read<int64_t>("counting objects", [&](Connection& c) -> Result<int64_t> {
    ASSIGN_OR_RETURN(CollectionRow coll, LookupCollection(c, collection_id));
    ASSIGN_OR_RETURN(Statement stmt, c.Prepare("SELECT COUNT(*) FROM objects WHERE coll = ?1"));
    stmt.Bind(1, coll.seq);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    return row ? stmt.Int(0) : int64_t{0};
  });
}

// ---------------------------------------------------------------------------------------------
// Sharing (issue 4)

Result<std::vector<StoredObject>> SqliteStore::LookupObjects(const std::vector<std::string>& ids) {
  RETURN_IF_ERROR(ValidateLookupIds(ids));
  std::vector<std::string> unique = Dedup(ids);
  return Read<std::vector<StoredObject>>(
      "looking up objects", [&](Connection& c) -> Result<std::vector<StoredObject>> {
        // One objects_by_id probe per (collection, id): is_last marks each collection's newest.
        ASSIGN_OR_RETURN(
            Statement stmt,
            c.Prepare(std::string("SELECT ") + kObjectColumns +
                      " FROM collections c CROSS JOIN objects o INDEXED BY objects_by_id "
                      "WHERE o.coll = c.seq AND o.id = ?1 AND o.is_last = 1 "
                      "ORDER BY o.version DESC, o.date_added DESC LIMIT 1"));
        std::vector<StoredObject> out;
        for (const std::string& id : unique) {
          stmt.Reset();
          stmt.Bind(1, id);
          ASSIGN_OR_RETURN(bool row, stmt.Step());
          if (!row) continue;
          ASSIGN_OR_RETURN(StoredObject o, ReadObjectRow(stmt, /*with_json=*/false));
          out.push_back(std::move(o));
        }
        return out;
      });
}

Result<StoredObject> SqliteStore::GetObjectVersion(const std::string& collection_id,
                                                   const std::string& id, int64_t version) {
  return Read<StoredObject>(
      "reading an object version", [&](Connection& c) -> Result<StoredObject> {
        ASSIGN_OR_RETURN(CollectionRow coll, LookupCollection(c, collection_id));
        ASSIGN_OR_RETURN(
            Statement stmt,
            c.Prepare(std::string("SELECT ") + kObjectColumns +
                      ", o.json FROM objects o INDEXED BY objects_by_id WHERE o.coll = ?1 "
                      "AND o.id = ?2 AND o.version = ?3"));
        stmt.Bind(1, coll.seq).Bind(2, id).Bind(3, version);
        ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) {
          return NotFoundError("object '" + id + "' version " + FormatVersionText(version) +
                               " is not in collection '" + collection_id + "'");
        }
        return ReadObjectRow(stmt, /*with_json=*/true);
      });
}

Result<std::vector<StoredObject>> SqliteStore::GetObjectVersions(
    const std::string& collection_id, const std::vector<ObjectVersionKey>& keys,
    bool metadata_only) {
  ASSIGN_OR_RETURN(std::vector<ObjectVersionKey> unique, UniqueVersionKeys(keys));
  return Read<std::vector<StoredObject>>(
      "reading object versions", [&](Connection& c) -> Result<std::vector<StoredObject>> {
        ASSIGN_OR_RETURN(CollectionRow coll, LookupCollection(c, collection_id));
        // One prepared statement, one objects_by_id probe per key.
        ASSIGN_OR_RETURN(
            Statement stmt,
            c.Prepare(std::string("SELECT ") + kObjectColumns + (metadata_only ? "" : ", o.json") +
                      " FROM objects o INDEXED BY objects_by_id WHERE o.coll = ?1 "
                      "AND o.id = ?2 AND o.version = ?3"));
        std::vector<StoredObject> out;
        out.reserve(unique.size());
        for (const ObjectVersionKey& key : unique) {
          stmt.Reset();
          stmt.Bind(1, coll.seq).Bind(2, key.id).Bind(3, key.version);
          ASSIGN_OR_RETURN(bool row, stmt.Step());
          if (!row) continue;
          ASSIGN_OR_RETURN(StoredObject o, ReadObjectRow(stmt, !metadata_only));
          out.push_back(std::move(o));
        }
        return out;
      });
}

Result<std::vector<AuditRecord>> SqliteStore::AppendAudit(const std::vector<AuditRecord>& records,
                                                          int64_t now_micros) {
  RETURN_IF_ERROR(ValidateAuditRecords(records));
  if (records.empty()) return std::vector<AuditRecord>();
  return Write<std::vector<AuditRecord>>("appending to the audit log",
                                         [&](Connection& c) -> Result<std::vector<AuditRecord>> {
                                           return AppendAuditIn(c, records, now_micros);
                                         });
}

Result<std::vector<AuditRecord>> SqliteStore::ListAudit(int64_t after_seq, size_t limit) {
  return ReadWith<std::vector<AuditRecord>>(
      limit > static_cast<size_t>(kBulkRows) ? ReaderKind::kBulk : ReaderKind::kPoint,
      "reading the audit log", [&](Connection& c) -> Result<std::vector<AuditRecord>> {
        ASSIGN_OR_RETURN(Statement stmt,
                         c.Prepare("SELECT seq, time, kind, actor, subject, detail, prev_hash, "
                                   "hash FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2"));
        stmt.Bind(1, after_seq).Bind(2, FetchLimit(limit) - 1);
        std::vector<AuditRecord> out;
        while (true) {
          ASSIGN_OR_RETURN(bool row, stmt.Step());
          if (!row) break;
          AuditRecord r;
          r.seq = stmt.Int(0);
          r.time = stmt.Int(1);
          r.kind = stmt.Text(2);
          r.actor = stmt.Text(3);
          r.subject = stmt.Text(4);
          r.detail = stmt.Text(5);
          r.prev_hash = stmt.Text(6);
          r.hash = stmt.Text(7);
          out.push_back(std::move(r));
        }
        return out;
      });
}

Result<std::vector<HubEvent>> SqliteStore::ListEvents(int64_t after_seq, size_t limit) {
  return Read<std::vector<HubEvent>>(
      "reading events", [&](Connection& c) -> Result<std::vector<HubEvent>> {
        ASSIGN_OR_RETURN(
            Statement stmt,
            c.Prepare(std::string("SELECT seq, time, kind, collection_id, "
                                  "object_id, version, data, ") +
                      kLabelColumns + " FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"));
        stmt.Bind(1, after_seq).Bind(2, FetchLimit(limit) - 1);
        std::vector<HubEvent> out;
        while (true) {
          ASSIGN_OR_RETURN(bool row, stmt.Step());
          if (!row) break;
          HubEvent e;
          e.seq = stmt.Int(0);
          e.time = stmt.Int(1);
          e.kind = stmt.Text(2);
          e.collection_id = stmt.Text(3);
          e.object_id = stmt.Text(4);
          e.version = stmt.Int(5);
          e.data = stmt.Text(6);
          ASSIGN_OR_RETURN(e.label, ReadLabel(stmt, 7));
          out.push_back(std::move(e));
        }
        return out;
      });
}

Result<int64_t> SqliteStore::LastEventSeq() {
  return Read<int64_t>("reading the last event", [&](Connection& c) -> Result<int64_t> {
    ASSIGN_OR_RETURN(Statement stmt, c.Prepare("SELECT MAX(seq) FROM events"));
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    return row && !stmt.IsNull(0) ? stmt.Int(0) : int64_t{0};
  });
}

Status SqliteStore::CreatePartner(const Partner& partner) {
  RETURN_IF_ERROR(ValidatePartner(partner));
  return WriteStatus("adding a partner", [&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(bool exists, Exists(c, "SELECT 1 FROM partners WHERE id = ?1", {partner.id}));
    if (exists) return AlreadyExistsError("partner '" + partner.id + "' exists");
    ASSIGN_OR_RETURN(Statement stmt,
                     c.Prepare(std::string("INSERT INTO partners(") + kPartnerColumns +
                               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
    stmt.Bind(1, partner.id).Bind(2, partner.name).Bind(3, partner.identity_json);
    stmt.Bind(4, partner.url).Bind(5, partner.inbox).Bind(6, partner.sign_key);
    stmt.Bind(7, partner.box_key).Bind(8, partner.token).Bind(9, partner.user);
    stmt.Bind(10, int64_t{partner.disabled}).Bind(11, partner.created);
    return stmt.Run();
  });
}

Status SqliteStore::UpdatePartner(const Partner& partner) {
  return WriteStatus("updating a partner", [&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(Statement stmt,
                     c.Prepare("UPDATE partners SET name = ?2, identity_json = ?3, url = ?4, "
                               "inbox = ?5, sign_key = ?6, box_key = ?7, token = ?8, user = ?9, "
                               "disabled = ?10 WHERE id = ?1"));
    stmt.Bind(1, partner.id).Bind(2, partner.name).Bind(3, partner.identity_json);
    stmt.Bind(4, partner.url).Bind(5, partner.inbox).Bind(6, partner.sign_key);
    stmt.Bind(7, partner.box_key).Bind(8, partner.token).Bind(9, partner.user);
    stmt.Bind(10, int64_t{partner.disabled});
    RETURN_IF_ERROR(stmt.Run());
    if (sqlite3_changes(c.db()) == 0) {
      return NotFoundError("partner '" + partner.id + "' does not exist");
    }
    return Status::Ok();
  });
}

Result<Partner> SqliteStore::GetPartner(const std::string& id) {
  return Read<Partner>("reading a partner", [&](Connection& c) -> Result<Partner> {
    ASSIGN_OR_RETURN(Statement stmt, c.Prepare(std::string("SELECT ") + kPartnerColumns +
                                               " FROM partners WHERE id = ?1"));
    stmt.Bind(1, id);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return NotFoundError("partner '" + id + "' does not exist");
    return ReadPartnerRow(stmt);
  });
}

Result<std::vector<Partner>> SqliteStore::ListPartners() {
  return Read<std::vector<Partner>>(
      "listing partners", [&](Connection& c) -> Result<std::vector<Partner>> {
        ASSIGN_OR_RETURN(Statement stmt, c.Prepare(std::string("SELECT ") + kPartnerColumns +
                                                   " FROM partners ORDER BY id"));
        std::vector<Partner> out;
        while (true) {
          ASSIGN_OR_RETURN(bool row, stmt.Step());
          if (!row) break;
          out.push_back(ReadPartnerRow(stmt));
        }
        return out;
      });
}

Status SqliteStore::DeletePartner(const std::string& id) {
  return WriteStatus("deleting a partner", [&](Connection& c) -> Status {
    // Channels go with it (ON DELETE CASCADE); queued rows are dropped, receipts stay.
    ASSIGN_OR_RETURN(Statement stmt, c.Prepare("DELETE FROM partners WHERE id = ?1"));
    stmt.Bind(1, id);
    RETURN_IF_ERROR(stmt.Run());
    if (sqlite3_changes(c.db()) == 0) return NotFoundError("partner '" + id + "' does not exist");
    ASSIGN_OR_RETURN(Statement queued,
                     c.Prepare("DELETE FROM outbox WHERE partner = ?1 AND state = 0"));
    queued.Bind(1, id);
    return queued.Run();
  });
}

Status SqliteStore::CreateChannel(const Channel& channel) {
  RETURN_IF_ERROR(ValidateChannel(channel));
  return WriteStatus("creating a channel", [&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(bool partner,
                     Exists(c, "SELECT 1 FROM partners WHERE id = ?1", {channel.partner}));
    if (!partner) return NotFoundError("partner '" + channel.partner + "' does not exist");
    ASSIGN_OR_RETURN(bool coll,
                     Exists(c, "SELECT 1 FROM collections WHERE id = ?1", {channel.collection_id}));
    if (!coll) return UnknownCollection(channel.collection_id);
    ASSIGN_OR_RETURN(bool taken, Exists(c, "SELECT 1 FROM channels WHERE id = ?1", {channel.id}));
    if (taken) return AlreadyExistsError("channel '" + channel.id + "' exists");
    {
      ASSIGN_OR_RETURN(Statement same,
                       c.Prepare("SELECT id FROM channels WHERE partner = ?1 AND collection_id = "
                                 "?2 AND mode = ?3 AND remote_collection = ?4"));
      same.Bind(1, channel.partner).Bind(2, channel.collection_id);
      same.Bind(3, ChannelModeName(channel.mode)).Bind(4, channel.remote_collection);
      ASSIGN_OR_RETURN(bool row, same.Step());
      if (row) return AlreadyExistsError("an identical channel exists ('" + same.Text(0) + "')");
    }
    ASSIGN_OR_RETURN(Statement stmt,
                     c.Prepare(std::string("INSERT INTO channels(") + kChannelColumns +
                               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    stmt.Bind(1, channel.id).Bind(2, channel.partner).Bind(3, channel.collection_id);
    stmt.Bind(4, ChannelModeName(channel.mode)).Bind(5, int64_t{channel.max_tlp});
    stmt.Bind(6, channel.remote_collection).Bind(7, channel.cursor).Bind(8, channel.created);
    return stmt.Run();
  });
}

Result<std::vector<Channel>> SqliteStore::ListChannels(const std::string& partner) {
  return Read<std::vector<Channel>>(
      "listing channels", [&](Connection& c) -> Result<std::vector<Channel>> {
        ASSIGN_OR_RETURN(Statement stmt, c.Prepare(std::string("SELECT ") + kChannelColumns +
                                                   " FROM channels WHERE ?1 = '' OR partner = ?1 "
                                                   "ORDER BY created, seq"));
        stmt.Bind(1, partner);
        std::vector<Channel> out;
        while (true) {
          ASSIGN_OR_RETURN(bool row, stmt.Step());
          if (!row) break;
          ASSIGN_OR_RETURN(Channel ch, ReadChannelRow(stmt));
          out.push_back(std::move(ch));
        }
        return out;
      });
}

Status SqliteStore::DeleteChannel(const std::string& id) {
  return WriteStatus("deleting a channel", [&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(Statement stmt, c.Prepare("DELETE FROM channels WHERE id = ?1"));
    stmt.Bind(1, id);
    RETURN_IF_ERROR(stmt.Run());
    if (sqlite3_changes(c.db()) == 0) return NotFoundError("channel '" + id + "' does not exist");
    return Status::Ok();
  });
}

Status SqliteStore::SetChannelCursor(const std::string& id, const std::string& cursor) {
  return WriteStatus("saving a channel cursor", [&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(Statement stmt, c.Prepare("UPDATE channels SET cursor = ?2 WHERE id = ?1"));
    stmt.Bind(1, id).Bind(2, cursor);
    RETURN_IF_ERROR(stmt.Run());
    if (sqlite3_changes(c.db()) == 0) return NotFoundError("channel '" + id + "' does not exist");
    return Status::Ok();
  });
}

namespace {

// ClaimOutbox's reads and lease updates, in the write transaction the caller holds.
Result<std::vector<OutboxRow>> ClaimOutboxIn(Connection& c, const std::string& partner,
                                             size_t limit, int64_t now_micros,
                                             int64_t lease_micros) {
  std::vector<OutboxRow> out;
  {
    ASSIGN_OR_RETURN(Statement stmt,
                     c.Prepare(std::string("SELECT ") + kOutboxColumns +
                               " FROM outbox INDEXED BY outbox_by_partner WHERE partner = "
                               "?1 AND state = 0 ORDER BY seq"));
    stmt.Bind(1, partner);
    while (out.size() < limit) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      ASSIGN_OR_RETURN(OutboxRow r, ReadOutboxRow(stmt));
      if (r.next_attempt > now_micros) break;  // order per partner: stop at the first wait
      if (r.lease_until > now_micros) continue;
      r.lease_until = now_micros + lease_micros;
      out.push_back(std::move(r));
    }
  }
  ASSIGN_OR_RETURN(Statement lease, c.Prepare("UPDATE outbox SET lease_until = ?2 WHERE seq = ?1"));
  for (const OutboxRow& r : out) {
    lease.Reset();
    lease.Bind(1, r.seq).Bind(2, r.lease_until);
    RETURN_IF_ERROR(lease.Run());
  }
  return out;
}

}  // namespace

Result<std::vector<OutboxRow>> SqliteStore::ClaimOutbox(const std::string& partner, size_t limit,
                                                        int64_t now_micros, int64_t lease_micros) {
  if (lease_micros <= 0) return InvalidArgumentError("outbox lease must be positive");
  if (limit == 0) return std::vector<OutboxRow>();
  // A write transaction (BEGIN IMMEDIATE): the rows are read and leased under the database's
  // write lock, so two stores on one file never hand out the same row while its lease holds.
  //
  // The lease is committed without waiting for the disk (synchronous = NORMAL for this one
  // transaction; every other write stays FULL): it is the one write on the path from a publish to
  // the partner, and an fsync costs milliseconds. A lease is a hint between live processes, not
  // data: should a power loss drop it, it also dropped every request made under it, and the rows
  // go again after the restart as they would once the lease expired (the partner ignores versions
  // it holds). WAL keeps commits in order, so the next FULL commit (this row's receipt, say)
  // makes the lease durable too.
  MutexLock lock(&write_mu_);
  Connection& writer = *writer_;
  RETURN_IF_ERROR(writer.Exec("PRAGMA synchronous = NORMAL", "claiming outbox rows"));
  Result<std::vector<OutboxRow>> claimed = [&]() -> Result<std::vector<OutboxRow>> {
    Result<Transaction> txn = Transaction::Begin(&writer, /*immediate=*/true);
    if (!txn.ok()) return txn.status().WithContext("claiming outbox rows");
    Result<std::vector<OutboxRow>> result =
        ClaimOutboxIn(writer, partner, limit, now_micros, lease_micros);
    if (!result.ok()) return result;  // the transaction rolls back
    Status committed = txn->Commit();
    if (!committed.ok()) return committed.WithContext("claiming outbox rows");
    return result;
  }();
  // Back to FULL before any other write may use the connection (the transaction is over: it
  // committed or rolled back). Should that fail, the process stops rather than go on writing
  // less durably.
  Status restored = writer.Exec("PRAGMA synchronous = FULL", "restoring synchronous = FULL");
  if (!restored.ok()) {
    LOG_ERROR("sqlite store: {}; the process must restart", restored.ToString());
    std::abort();
  }
  return claimed;
}

Status SqliteStore::MarkOutboxDelivered(const std::vector<int64_t>& seqs, int64_t now_micros) {
  if (seqs.empty()) return Status::Ok();
  return WriteStatus("recording deliveries", [&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(Statement stmt,
                     c.Prepare("UPDATE outbox SET state = 1, delivered_at = ?2, error = '', "
                               "lease_until = 0 WHERE seq = ?1"));
    stmt.Bind(2, now_micros);
    return UpdateOutboxRows(c, stmt, seqs, now_micros);
  });
}

Status SqliteStore::MarkOutboxFailed(const std::vector<int64_t>& seqs, const std::string& error,
                                     bool permanent, int64_t next_attempt, int64_t now_micros) {
  if (seqs.empty()) return Status::Ok();
  return WriteStatus("recording delivery failures", [&](Connection& c) -> Status {
    ASSIGN_OR_RETURN(
        Statement stmt,
        c.Prepare("UPDATE outbox SET attempts = attempts + 1, error = ?2, lease_until = 0, "
                  "state = CASE WHEN ?3 THEN 2 ELSE 0 END, "
                  "next_attempt = CASE WHEN ?3 THEN next_attempt ELSE ?4 END WHERE seq = ?1"));
    stmt.Bind(2, error).Bind(3, int64_t{permanent}).Bind(4, next_attempt);
    return UpdateOutboxRows(c, stmt, seqs, now_micros);
  });
}

Result<std::vector<OutboxRow>> SqliteStore::ListOutbox(const OutboxQuery& query) {
  return Read<std::vector<OutboxRow>>(
      "listing the outbox", [&](Connection& c) -> Result<std::vector<OutboxRow>> {
        SqlBuilder b;
        std::string sql = std::string("SELECT ") + kOutboxColumns + " FROM outbox";
        // Pin the access path (the planner has no statistics): an object's rows, a partner's
        // rows in one state, or else seq order from after_seq (a page costs the rows it skips,
        // never a sort of every row of a partner).
        if (!query.object_id.empty()) {
          sql += " INDEXED BY outbox_by_object";
        } else if (!query.partner.empty() && query.state) {
          sql += " INDEXED BY outbox_by_partner";
        } else {
          sql += " NOT INDEXED";
        }
        sql += " WHERE seq > " + b.Param(query.after_seq);
        if (!query.partner.empty()) sql += " AND partner = " + b.Param(query.partner);
        if (!query.object_id.empty()) sql += " AND object_id = " + b.Param(query.object_id);
        if (query.state) sql += " AND state = " + b.Param(static_cast<int64_t>(*query.state));
        sql += " ORDER BY seq LIMIT " + b.Param(FetchLimit(query.limit) - 1);
        ASSIGN_OR_RETURN(Statement stmt, c.Prepare(sql));
        b.BindAll(stmt);
        std::vector<OutboxRow> out;
        while (true) {
          ASSIGN_OR_RETURN(bool row, stmt.Step());
          if (!row) break;
          ASSIGN_OR_RETURN(OutboxRow r, ReadOutboxRow(stmt));
          out.push_back(std::move(r));
        }
        return out;
      });
}

Result<std::vector<std::string>> SqliteStore::PartnersWithQueuedOutbox() {
  return Read<std::vector<std::string>>(
      "listing partners with queued deliveries",
      [&](Connection& c) -> Result<std::vector<std::string>> {
        // A skip scan over outbox_by_partner: one probe per distinct partner, however many
        // delivered rows the outbox holds.
        ASSIGN_OR_RETURN(Statement lowest, c.Prepare("SELECT MIN(partner) FROM outbox"));
        ASSIGN_OR_RETURN(Statement next_partner,
                         c.Prepare("SELECT partner FROM outbox INDEXED BY outbox_by_partner "
                                   "WHERE partner > ?1 ORDER BY partner LIMIT 1"));
        ASSIGN_OR_RETURN(Statement queued,
                         c.Prepare("SELECT 1 FROM outbox INDEXED BY outbox_by_partner WHERE "
                                   "partner = ?1 AND state = 0 LIMIT 1"));
        std::vector<std::string> out;
        ASSIGN_OR_RETURN(bool any, lowest.Step());
        if (!any || lowest.IsNull(0)) return out;
        std::string partner = lowest.Text(0);
        while (true) {
          queued.Reset();
          queued.Bind(1, partner);
          ASSIGN_OR_RETURN(bool has, queued.Step());
          if (has) out.push_back(partner);
          next_partner.Reset();
          next_partner.Bind(1, partner);
          ASSIGN_OR_RETURN(bool row, next_partner.Step());
          if (!row) break;
          partner = next_partner.Text(0);
        }
        return out;
      });
}

Result<std::vector<FeedbackRecord>> SqliteStore::ListFeedback(const std::string& about_id) {
  return Read<std::vector<FeedbackRecord>>(
      "listing feedback", [&](Connection& c) -> Result<std::vector<FeedbackRecord>> {
        constexpr char kColumns[] =
            "SELECT about_id, feedback_id, feedback_version, from_id, outcome, note, count, "
            "received FROM feedback";
        ASSIGN_OR_RETURN(
            Statement stmt,
            c.Prepare(about_id.empty()
                          ? std::string(kColumns) + " ORDER BY received, feedback_id, seq"
                          : std::string(kColumns) +
                                " INDEXED BY feedback_by_about WHERE about_id = ?1 "
                                "ORDER BY received, feedback_id, seq"));
        if (!about_id.empty()) stmt.Bind(1, about_id);
        std::vector<FeedbackRecord> out;
        while (true) {
          ASSIGN_OR_RETURN(bool row, stmt.Step());
          if (!row) break;
          FeedbackRecord r;
          r.about_id = stmt.Text(0);
          r.feedback_id = stmt.Text(1);
          r.feedback_version = stmt.Int(2);
          r.from = stmt.Text(3);
          r.outcome = stmt.Text(4);
          r.note = stmt.Text(5);
          r.count = stmt.Int(6);
          r.received = stmt.Int(7);
          out.push_back(std::move(r));
        }
        return out;
      });
}

}  // namespace liaison::storage::sqlite

#pragma once

// PostgresStore: the scale-out Store, on PostgreSQL 15 (libpq). Several hub processes ("nodes")
// may share one database and behave as one hub.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<storage::postgres::PostgresStore> store,
//                    storage::postgres::PostgresStore::Open(
//                        "postgresql://liaison@db.example:5432/liaison", {}));
//
// Connections: a pool of up to Options::pool_size libpq connections, opened on demand; each is
// used by one thread at a time (a call waits for a free one). A connection found dead is dropped
// and a new one is opened on next use. A call whose connection dies before its transaction was
// sent for commit is retried once on a fresh connection (it had no effect); if the connection dies
// during COMMIT, or the server cannot be reached, the call returns kUnavailable and the caller
// retries (an AddObjects retried after an ambiguous commit is a duplicate, a no-op success, except
// that its status id then reports kAlreadyExists). Never a wrong answer.
//
// Unreachable server: connect_timeout (Options::connect_timeout_s, default 5 s) bounds each
// connection attempt; the error is kUnavailable "cannot reach PostgreSQL at HOST:PORT: ...".
//
// Schema: versioned migrations (table liaison_schema(version)) applied by Open and Migrate() in
// one transaction under pg_advisory_xact_lock, so nodes starting at once are safe. A database
// whose schema is newer than this binary is kFailedPrecondition. Tables live in Options::schema
// (created when missing), so a hub can share a database with other services.
//
// Several nodes:
//  - date_added is assigned under a row lock on the collection (SELECT ... FOR UPDATE of
//    collections.last_date_added): max(now, last + 1), committed before the lock is released, so
//    `added_after` paging on any node never skips or repeats an object.
//  - events.seq and the audit chain head are taken under a row lock (table counters) at the end
//    of the writing transaction: seqs are gap-free, strictly increasing in commit order.
//  - ClaimOutbox uses FOR UPDATE SKIP LOCKED plus lease_until: no row is handed to two nodes
//    while its lease holds; a node that dies mid-push leaves rows that become claimable again
//    when the lease ends.
//  - Every transaction that writes events sends NOTIFY on the events channel (payload: the last
//    event seq) as part of its commit; Listen() wakes other nodes' event streams.
//
// Errors: the Store contract's codes; PostgreSQL errors mapped as in pg_connection.h (connection
// problems, serialization failures and deadlocks -> kUnavailable after retrying the transaction).
//
// Thread-safe: every method may be called from any thread. Methods block on the network.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "storage/store.h"

namespace liaison::storage::postgres {

class PgConnection;
struct ConnectSpec;

// True when `store` names a PostgreSQL database ("postgresql://..." or "postgres://..."), the
// form `--store` takes for this backend (anything else is a SQLite path).
bool IsPostgresUrl(std::string_view store);

// A LISTEN on the events channel running on its own connection and thread. Destroying it stops
// the thread (within about a quarter of a second) and closes the connection.
class EventListener {
 public:
  ~EventListener();
  EventListener(const EventListener&) = delete;
  EventListener& operator=(const EventListener&) = delete;

  // Number of times on_notify has been called (for tests and metrics).
  int64_t notifications() const { return notifications_.load(); }

 private:
  friend class PostgresStore;
  EventListener(std::shared_ptr<const ConnectSpec> spec, std::string channel,
                std::function<void()> on_notify, std::unique_ptr<PgConnection> first);
  void Run(std::unique_ptr<PgConnection> connection);

  const std::shared_ptr<const ConnectSpec> spec_;
  const std::string channel_;
  const std::function<void()> on_notify_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> notifications_{0};
  std::thread thread_;
};

class PostgresStore final : public Store {
 public:
  struct Options {
    int pool_size = 8;              // connections at most (opened on demand)
    int connect_timeout_s = 5;      // per connection attempt (libpq's minimum is 2)
    std::string schema = "public";  // where the tables live; created when missing
    std::string application_name = "liaison";
    int transaction_retries = 3;  // on serialization failure or deadlock
  };

  // Opens a pool on `url` (postgresql://USER[:PASS]@HOST:PORT/DB[?params], as libpq accepts),
  // connects once to check it, and applies the migrations. Errors: kInvalidArgument (bad URL or
  // options), kUnavailable (cannot reach the server: "cannot reach PostgreSQL at HOST:PORT: ..."),
  // kFailedPrecondition (schema newer than this binary), others as mapped.
  static Result<std::unique_ptr<PostgresStore>> Open(const std::string& url,
                                                     const Options& options);
  static Result<std::unique_ptr<PostgresStore>> Open(const std::string& url);

  // The schema version this binary creates and understands (the number of migrations).
  static int SchemaVersion();

  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  // Applies missing migrations (Open does this already). Safe to call from several nodes at once.
  Status Migrate();

  // The NOTIFY channel of this store's events ("liaison_events", or "liaison_events_<schema>"
  // for a schema other than public).
  const std::string& EventChannel() const { return channel_; }

  // Starts listening for events committed by any node: `on_notify` is called on the listener's
  // thread after each notification (several commits may fold into one call) and after each
  // reconnection (notifications may have been missed meanwhile), so the caller then reads
  // ListEvents from its last seq. kUnavailable when the first connection fails; later connection
  // losses are retried in the background (every second). Keep `on_notify` short and non-blocking.
  Result<std::unique_ptr<EventListener>> Listen(std::function<void()> on_notify);

  // Drops the schema and everything in it (tests; `liaison store` tooling). Irreversible.
  Status DropSchema();

  // Runs ANALYZE on the tables that are read by range (objects, events, audit, outbox) and hold
  // rows but have no planner statistics yet, as after a bulk load into a new hub before
  // autovacuum's first pass. Without statistics the planner answers the paging query
  // (`date_added > $after ORDER BY date_added LIMIT n`) with a bitmap scan of every row after the
  // cursor and a sort (measured: 130-250 ms per 1000-object page on a fresh 100k-object table)
  // instead of one index range (3-6 ms). Tables that have statistics are left to autovacuum.
  // Open calls it, and AddObjects calls it after every kStatisticsCheckRows rows this process
  // added. Returns the tables analyzed. ANALYZE (SKIP_LOCKED) skips a table another node is
  // analyzing. Errors: kUnavailable and the mapped PostgreSQL errors (engines without pg_stats
  // or ANALYZE options fail here; callers treat it as an optimisation and carry on).
  Result<std::vector<std::string>> EnsureStatistics();
  static constexpr int64_t kStatisticsCheckRows = 5000;

  Result<std::optional<std::string>> GetSetting(const std::string& key) override;
  Status PutSetting(const std::string& key, const std::string& value) override;

  Status CreateApiRoot(const ApiRoot& root) override;
  Result<std::vector<ApiRoot>> ListApiRoots() override;
  Result<ApiRoot> GetApiRoot(const std::string& name) override;

  Status CreateCollection(const Collection& collection) override;
  Result<std::vector<Collection>> ListCollections(const std::string& api_root) override;
  Result<Collection> GetCollection(const std::string& api_root,
                                   const std::string& id_or_alias) override;
  Status DeleteCollection(const std::string& api_root, const std::string& id) override;

  Status PutGrant(const Grant& grant) override;
  Status DeleteGrant(const std::string& collection_id, const std::string& subject) override;
  Result<std::vector<Grant>> ListGrants(const std::string& collection_id) override;

  Status CreateUser(const User& user) override;
  Status UpdateUser(const User& user) override;
  Result<User> GetUser(const std::string& name) override;
  Result<std::vector<User>> ListUsers() override;

  Status CreateApiKey(const ApiKey& key) override;
  Result<ApiKey> FindApiKey(const std::string& key_id) override;
  Result<std::vector<ApiKey>> ListApiKeys(const std::string& user) override;
  Status RevokeApiKey(const std::string& key_id) override;

  Result<AddObjectsResult> AddObjects(const AddObjectsRequest& request,
                                      int64_t now_micros) override;
  Result<ObjectPage> QueryObjects(const ObjectQuery& query) override;
  Result<ObjectPage> QueryVersions(const ObjectQuery& query, const std::string& id) override;
  Result<int64_t> DeleteObject(const ObjectQuery& query, const std::string& id) override;

  Result<StatusResource> GetStatus(const std::string& api_root,
                                   const std::string& status_id) override;
  Result<int64_t> CountObjects(const std::string& collection_id) override;

  Result<std::vector<StoredObject>> LookupObjects(const std::vector<std::string>& ids) override;
  Result<StoredObject> GetObjectVersion(const std::string& collection_id, const std::string& id,
                                        int64_t version) override;
  Result<std::vector<StoredObject>> GetObjectVersions(const std::string& collection_id,
                                                      const std::vector<ObjectVersionKey>& keys,
                                                      bool metadata_only) override;

  Result<std::vector<AuditRecord>> AppendAudit(const std::vector<AuditRecord>& records,
                                               int64_t now_micros) override;
  Result<std::vector<AuditRecord>> ListAudit(int64_t after_seq, size_t limit) override;

  Result<std::vector<HubEvent>> ListEvents(int64_t after_seq, size_t limit) override;
  Result<int64_t> LastEventSeq() override;

  Status CreatePartner(const Partner& partner) override;
  Status UpdatePartner(const Partner& partner) override;
  Result<Partner> GetPartner(const std::string& id) override;
  Result<std::vector<Partner>> ListPartners() override;
  Status DeletePartner(const std::string& id) override;

  Status CreateChannel(const Channel& channel) override;
  Result<std::vector<Channel>> ListChannels(const std::string& partner) override;
  Status DeleteChannel(const std::string& id) override;
  Status SetChannelCursor(const std::string& id, const std::string& cursor) override;

  Result<std::vector<OutboxRow>> ClaimOutbox(const std::string& partner, size_t limit,
                                             int64_t now_micros, int64_t lease_micros) override;
  Status MarkOutboxDelivered(const std::vector<int64_t>& seqs, int64_t now_micros) override;
  Status MarkOutboxFailed(const std::vector<int64_t>& seqs, const std::string& error,
                          bool permanent, int64_t next_attempt, int64_t now_micros) override;
  Result<std::vector<OutboxRow>> ListOutbox(const OutboxQuery& query) override;
  Result<std::vector<std::string>> PartnersWithQueuedOutbox() override;

  Result<std::vector<FeedbackRecord>> ListFeedback(const std::string& about_id) override;

 private:
  class Lease;  // a pooled connection, returned when destroyed

  PostgresStore(std::shared_ptr<const ConnectSpec> spec, Options options);

  Result<Lease> Acquire();
  // Counts rows added by this process; every kStatisticsCheckRows runs EnsureStatistics (one
  // thread at a time; failures are logged once and otherwise ignored).
  void NoteRowsAdded(size_t rows);
  void Release(std::unique_ptr<PgConnection> connection);

  // Runs `body(connection)` in one read-write transaction (READ COMMITTED), retried on a fresh
  // connection when the connection was lost before COMMIT was sent, and on serialization
  // failures/deadlocks up to options_.transaction_retries times.
  template <typename T, typename Body>
  Result<T> Write(const char* what, Body&& body);
  template <typename Body>
  Status WriteStatus(const char* what, Body&& body);
  // Runs `body(connection)` outside a transaction (each statement sees the committed state when
  // it starts), retried once on a fresh connection when the connection was lost.
  template <typename T, typename Body>
  Result<T> Read(const char* what, Body&& body);

  // Constant after construction.
  const std::shared_ptr<const ConnectSpec> spec_;
  const Options options_;
  const std::string channel_;

  std::atomic<int64_t> rows_since_statistics_check_{0};
  std::atomic<bool> checking_statistics_{false};
  std::atomic<bool> statistics_warned_{false};

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // guarded by pool_mu_
  int open_ = 0;                                     // guarded by pool_mu_
};

}  // namespace liaison::storage::postgres

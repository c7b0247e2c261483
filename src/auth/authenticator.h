#pragma once

// Authenticator: turns an HTTP Authorization header into a policy::Principal.
//
// Accepted schemes (scheme names are case-insensitive, RFC 9110 section 11.1):
//   Basic <base64(user:password)>   RFC 7617; the password is checked with argon2id
//   Bearer lsk_<key_id>.<secret>    an API key (auth/api_key.h)
//
//   auth::Authenticator authenticator(store, clock, {});
//   Result<policy::Principal> p = authenticator.Authenticate(header, peer_address);
//
// Errors:
//   kUnauthenticated    no header, a malformed header, an unknown scheme, a wrong password, an
//                       unknown user, a disabled user, an unknown or revoked key. The message never
//                       says which, so it does not reveal whether a user or key exists.
//   kResourceExhausted  this client address failed too often recently: refused without checking
//                       (http/ answers 429 with Retry-After).
//   kUnavailable        every password-verification slot stayed busy for
//                       Options::verification_wait_micros (overload; retry later).
//   others              store failures passed through (e.g. kUnavailable).
//
// Partners (issue 4): a user with Role::kPartner authenticates like any other, and the principal
// carries the partner organisation (Principal::partner = User::partner). Such an account fails
// like a disabled user (kUnauthenticated, same message) when it names no partner, when the partner
// is unknown, or when the partner is disabled (storage::Partner::disabled); both are re-read on
// every request.
//
// Audit (AuthenticatorOptions::audit_store): every answer kUnauthenticated to a request that
// presented credentials, and every throttled refusal, is an authentication failure. Failures are
// appended to the audit chain as kind "auth-failure", actor "-", subject "", detail
//   {"address": <client address>, "scheme": "basic"|"bearer"|"other", "reason": <why, for the
//    operator: "wrong password", "unknown user", "disabled user", "revoked key", ...>,
//    "count": <failures folded into this record>}
// at most one record per client address per audit_interval_micros: the first failure is written
// at once, later ones in the interval are counted and folded into the next record (written at the
// next failure or request after the interval ends, or by FlushAudit()). At most
// audit_max_records records are written per interval in all (what is due beyond that stays folded
// until a later interval), and beyond max_tracked_addresses distinct addresses failures fold into
// address "*", so a flood from any number of addresses cannot flood the log. A failed audit write
// is logged and never changes the answer.
//
// Costs: a Basic check runs argon2id (~70 ms, 64 MiB), so successes are cached for
// Options::cache_ttl_micros, keyed by a keyed BLAKE2b of (user, password, stored hash) under a
// per-process random key; plaintext is never kept. The user record is re-read on every request
// (one indexed lookup), so disabling a user, changing a role or a password takes effect at once.
// Concurrent argon2id verifications are limited to Options::max_concurrent_verifications to bound
// memory. Unknown users are checked against a dummy hash so they cost the same as known ones.
//
// Thread-safe; blocks (store lookups, argon2id).

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "policy/principal.h"
#include "storage/store.h"

namespace liaison::auth {

struct AuthenticatorOptions {
  // How long a verified Basic credential is remembered.
  int64_t cache_ttl_micros = 60'000'000;
  // Most cached credentials; the oldest are dropped beyond this.
  size_t cache_capacity = 10'000;
  // A client address that fails this many times within failure_window_micros is refused until the
  // window ends.
  int max_failures = 20;
  int64_t failure_window_micros = 60'000'000;
  // Most client addresses tracked for failures (older entries are dropped beyond this).
  size_t max_tracked_addresses = 100'000;
  // At most this many argon2id verifications run at once (each uses 64 MiB).
  int max_concurrent_verifications = 2;
  // A Basic check that cannot start a verification within this time (a flood of password guesses
  // from many addresses) fails with kUnavailable instead of tying up a server thread.
  int64_t verification_wait_micros = 5'000'000;
  // The hub secret (32 raw bytes, see LoadOrCreateHubSecret); empty: loaded from (or created in)
  // the store on first use of an API key.
  std::string hub_secret;
  // Where authentication failures are audited (see the file comment); null: not audited. Usually
  // the same store as the constructor's; must outlive the Authenticator.
  storage::Store* audit_store = nullptr;
  // At most one "auth-failure" record per client address per this interval...
  int64_t audit_interval_micros = 10'000'000;
  // ...and at most this many records per interval in all.
  int audit_max_records = 1000;
};

class Authenticator {
 public:
  Authenticator(storage::Store& store, Clock& clock, AuthenticatorOptions options = {});
  ~Authenticator();
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  // See the file comment. `client_address` keys the failure counter (e.g. "127.0.0.1"); it may be
  // empty (then all such clients share one counter).
  Result<policy::Principal> Authenticate(std::string_view authorization_header,
                                         std::string_view client_address);

  // Seconds until `client_address` may try again (0 when not throttled). For Retry-After.
  int64_t RetryAfterSeconds(std::string_view client_address);

  // Forgets every cached credential (e.g. after an administrative change in another process).
  void ClearCache();

  // Writes every folded authentication failure now, due or not (e.g. at shutdown; the destructor
  // calls it). No-op without an audit store. Returns the store's error if the append fails.
  Status FlushAudit() EXCLUDES(mu_);

  // Counters since construction, for metrics and tests.
  struct Stats {
    uint64_t password_verifications = 0;  // argon2id runs
    uint64_t cache_hits = 0;              // Basic successes served from the cache
    uint64_t failures = 0;                // requests answered kUnauthenticated
    uint64_t throttled = 0;               // requests refused with kResourceExhausted
    uint64_t audit_records = 0;           // "auth-failure" records written
  };
  Stats stats() EXCLUDES(mu_);

 private:
  class Semaphore;
  struct FailureEntry {
    int count = 0;
    int64_t window_start = 0;
  };
  struct CacheEntry {
    int64_t expires = 0;
    std::list<std::string>::iterator order;
  };

  // Audit state of one client address (or "*").
  struct AuditEntry {
    int64_t pending = 0;       // failures not yet written
    std::string scheme;        // of the latest pending failure
    std::string reason;        // of the latest pending failure
    bool written = false;      // a record was written for this address
    int64_t last_written = 0;  // monotonic micros of that record
    bool queued = false;       // in audit_due_
  };

  // On failure `*reason` says why (for the audit log; never shown to the client).
  Result<policy::Principal> AuthenticateBasic(std::string_view credentials, std::string* reason);
  Result<policy::Principal> AuthenticateBearer(std::string_view token, std::string* reason);
  // The principal for a user whose credentials checked out: refuses disabled users and partner
  // accounts whose partner is missing or disabled.
  Result<policy::Principal> PrincipalFor(const storage::User& user, std::string method,
                                         std::string* reason);
  Result<std::string> HubSecret() EXCLUDES(mu_);
  // The dummy argon2id hash that unknown users are verified against (made once, lazily).
  std::string DummyHash() EXCLUDES(mu_);
  std::string CacheKey(std::string_view user, std::string_view password,
                       std::string_view stored_hash) const;
  bool CacheLookup(const std::string& key) EXCLUDES(mu_);
  void CacheInsert(const std::string& key) EXCLUDES(mu_);
  bool Throttled(const std::string& address) EXCLUDES(mu_);
  void RecordFailure(const std::string& address) EXCLUDES(mu_);
  // Counts an authentication failure for the audit log and writes whatever records are due.
  void AuditFailure(const std::string& address, std::string_view scheme, std::string reason)
      EXCLUDES(mu_);
  // Writes the records that are due (every pending one when `all`).
  void AuditDue(bool all) EXCLUDES(mu_);
  // Moves due entries into `out` as records (all pending ones when `all`), within the budget.
  void TakeDueLocked(int64_t now, bool all, std::vector<storage::AuditRecord>* out) REQUIRES(mu_);
  Status WriteAudit(std::vector<storage::AuditRecord> records) EXCLUDES(mu_);

  // Constant after construction.
  storage::Store& store_;
  Clock& clock_;
  const AuthenticatorOptions options_;
  std::string cache_key_;  // per-process random BLAKE2b key for cache entries
  std::unique_ptr<Semaphore> verify_slots_;

  Mutex mu_;
  std::optional<std::string> hub_secret_ GUARDED_BY(mu_);
  std::string dummy_hash_ GUARDED_BY(mu_);
  std::unordered_map<std::string, CacheEntry> cache_ GUARDED_BY(mu_);
  std::list<std::string> cache_order_ GUARDED_BY(mu_);  // oldest first
  std::unordered_map<std::string, FailureEntry> failures_ GUARDED_BY(mu_);
  Stats stats_ GUARDED_BY(mu_);
  std::unordered_map<std::string, AuditEntry> audit_ GUARDED_BY(mu_);
  // (due time, address) of entries with pending failures, earliest first.
  std::set<std::pair<int64_t, std::string>> audit_due_ GUARDED_BY(mu_);
  int64_t audit_window_start_ GUARDED_BY(mu_) = 0;
  int audit_window_records_ GUARDED_BY(mu_) = 0;
};

}  // namespace liaison::auth

#include "auth/authenticator.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "auth/api_key.h"
#include "auth/password.h"
#include "common/json_writer.h"
#include "common/log.h"

namespace liaison::auth {
namespace {

// One message for every credential failure, so a client cannot tell an unknown user from a wrong
// password, a disabled account or a revoked key.
constexpr char kInvalidCredentials[] = "invalid credentials";
constexpr size_t kMaxHeaderBytes = 8192;
constexpr size_t kMaxUserBytes = 256;
// Client addresses longer than this are cut in audit records (they come from the socket, so this
// is only a bound).
constexpr size_t kMaxAuditAddressBytes = 128;
// The audit address under which failures are folded once too many addresses are tracked or the
// interval's record budget is spent.
constexpr char kOverflowAddress[] = "*";

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

// Decodes RFC 4648 base64 (padding optional). nullopt when malformed.
std::optional<std::string> DecodeBase64(std::string_view in) {
  std::string out(in.size() / 4 * 3 + 3, '\0');
  for (int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING}) {
    size_t len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), in.data(),
                          in.size(), nullptr, &len, &end, variant) == 0 &&
        end == in.data() + in.size()) {
      out.resize(len);
      return out;
    }
  }
  return std::nullopt;
}

int64_t MonotonicMicros(const Clock& clock) { return clock.MonotonicNanos() / 1000; }

}  // namespace

// A counting semaphore with a runtime limit (std::counting_semaphore's limit is compile-time).
class Authenticator::Semaphore {
 public:
  explicit Semaphore(int slots) : free_(std::max(1, slots)) {}
  // False when no slot freed up within `timeout`.
  bool Acquire(std::chrono::microseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [this] { return free_ > 0; })) return false;
    --free_;
    return true;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++free_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int free_;
};

Authenticator::Authenticator(storage::Store& store, Clock& clock, AuthenticatorOptions options)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      verify_slots_(std::make_unique<Semaphore>(options_.max_concurrent_verifications)) {
  // If libsodium cannot initialise, every Basic check fails closed (VerifyPassword returns false)
  // and API keys report kInternal; the key below is then merely not secret, never used for a
  // success.
  (void)EnsureSodium();
  std::array<unsigned char, crypto_generichash_KEYBYTES> key{};
  randombytes_buf(key.data(), key.size());
  cache_key_.assign(reinterpret_cast<const char*>(key.data()), key.size());
  sodium_memzero(key.data(), key.size());
  if (!options_.hub_secret.empty()) hub_secret_ = options_.hub_secret;
}

Authenticator::~Authenticator() {
  // Best effort: whatever failures were folded but not yet written go to the log now.
  (void)FlushAudit();
  if (!cache_key_.empty()) sodium_memzero(cache_key_.data(), cache_key_.size());
}

Result<policy::Principal> Authenticator::Authenticate(std::string_view authorization_header,
                                                      std::string_view client_address) {
  if (options_.audit_store != nullptr) AuditDue(/*all=*/false);
  std::string_view header = Trim(authorization_header);
  if (header.empty()) return UnauthenticatedError("authentication required");
  const std::string address(client_address);

  const size_t space = header.find_first_of(" \t");
  const std::string_view scheme_text = header.substr(0, space);
  const std::string_view scheme = EqualsIgnoreCase(scheme_text, "Basic")    ? "basic"
                                  : EqualsIgnoreCase(scheme_text, "Bearer") ? "bearer"
                                                                            : "other";
  if (Throttled(address)) {
    {
      MutexLock lock(&mu_);
      ++stats_.throttled;
    }
    AuditFailure(address, scheme, "throttled");
    return ResourceExhaustedError("too many failed authentication attempts; try again later");
  }
  std::string reason = "malformed Authorization header";
  Result<policy::Principal> result = UnauthenticatedError("malformed Authorization header");
  if (header.size() <= kMaxHeaderBytes) {
    std::string_view rest = space == std::string_view::npos ? "" : Trim(header.substr(space));
    if (scheme == "basic") {
      result = AuthenticateBasic(rest, &reason);
    } else if (scheme == "bearer") {
      result = AuthenticateBearer(rest, &reason);
    } else {
      reason = "unsupported scheme";
      result = UnauthenticatedError("unsupported authentication scheme (use Basic or Bearer)");
    }
  }
  if (!result.ok() && result.status().code() == StatusCode::kUnauthenticated) {
    RecordFailure(address);
    AuditFailure(address, scheme, std::move(reason));
  }
  return result;
}

Result<policy::Principal> Authenticator::AuthenticateBasic(std::string_view credentials,
                                                           std::string* reason) {
  *reason = "malformed Basic credentials";
  std::optional<std::string> decoded = DecodeBase64(credentials);
  if (!decoded) return UnauthenticatedError("malformed Basic credentials");
  // RFC 7617 section 2: user-id and password are separated by the first colon.
  size_t colon = decoded->find(':');
  if (colon == std::string::npos || colon == 0 || colon > kMaxUserBytes) {
    sodium_memzero(decoded->data(), decoded->size());
    return UnauthenticatedError("malformed Basic credentials");
  }
  const std::string user_name = decoded->substr(0, colon);
  std::string password = decoded->substr(colon + 1);
  sodium_memzero(decoded->data(), decoded->size());
  struct Wipe {
    std::string& s;
    ~Wipe() { sodium_memzero(s.data(), s.size()); }
  } wipe{password};

  Result<storage::User> user = store_.GetUser(user_name);
  if (!user.ok() && user.status().code() != StatusCode::kNotFound) return user.status();
  const bool known = user.ok() && !user->password_hash.empty();
  const std::string hash = known ? user->password_hash : DummyHash();

  const std::string key = CacheKey(user_name, password, hash);
  bool verified = known && CacheLookup(key);
  if (!verified) {
    if (!verify_slots_->Acquire(std::chrono::microseconds(options_.verification_wait_micros))) {
      LOG_WARN("password verification queue full; refusing a Basic login for '{}'", user_name);
      return UnavailableError("the hub is busy; try again shortly");
    }
    bool match = VerifyPassword(hash, password);
    verify_slots_->Release();
    {
      MutexLock lock(&mu_);
      ++stats_.password_verifications;
    }
    verified = known && match;
    if (verified) CacheInsert(key);
  }
  if (!verified) {
    *reason = known ? "wrong password" : "unknown user or no password";
    LOG_INFO("authentication failed for user '{}' ({})", user_name, *reason);
    return UnauthenticatedError(kInvalidCredentials);
  }
  return PrincipalFor(*user, "basic", reason);
}

Result<policy::Principal> Authenticator::PrincipalFor(const storage::User& user, std::string method,
                                                      std::string* reason) {
  if (user.disabled) {
    *reason = "disabled user";
    LOG_INFO("authentication refused for disabled user '{}'", user.name);
    return UnauthenticatedError(kInvalidCredentials);
  }
  policy::Principal principal;
  if (user.role == storage::Role::kPartner) {
    // A partner account speaks for its partner organisation: without one, or when the partner is
    // gone or disabled, it is as good as disabled.
    if (user.partner.empty()) {
      *reason = "partner account names no partner";
      LOG_WARN("authentication refused for partner user '{}': it names no partner", user.name);
      return UnauthenticatedError(kInvalidCredentials);
    }
    Result<storage::Partner> partner = store_.GetPartner(user.partner);
    if (!partner.ok()) {
      if (partner.status().code() != StatusCode::kNotFound) return partner.status();
      *reason = "unknown partner";
      LOG_INFO("authentication refused for partner user '{}': partner {} is unknown", user.name,
               user.partner);
      return UnauthenticatedError(kInvalidCredentials);
    }
    if (partner->disabled) {
      *reason = "disabled partner";
      LOG_INFO("authentication refused for partner user '{}': partner {} is disabled", user.name,
               user.partner);
      return UnauthenticatedError(kInvalidCredentials);
    }
    principal.partner = user.partner;
  }
  principal.user = user.name;
  principal.role = user.role;
  principal.authenticated = true;
  principal.method = std::move(method);
  return principal;
}

Result<policy::Principal> Authenticator::AuthenticateBearer(std::string_view token,
                                                            std::string* reason) {
  *reason = "malformed bearer token";
  Result<ParsedApiKey> parsed = ParseApiKey(token);
  if (!parsed.ok()) return UnauthenticatedError("malformed bearer token");
  ASSIGN_OR_RETURN(std::string hub_secret, HubSecret());
  // Hash before the lookup so unknown keys cost the same as known ones.
  const std::string presented = HashApiKeySecret(parsed->secret, hub_secret);
  sodium_memzero(parsed->secret.data(), parsed->secret.size());

  Result<storage::ApiKey> key = store_.FindApiKey(parsed->key_id);
  if (!key.ok()) {
    if (key.status().code() != StatusCode::kNotFound) return key.status();
    *reason = "unknown API key";
    LOG_INFO("authentication failed: unknown API key {}", parsed->key_id);
    return UnauthenticatedError(kInvalidCredentials);
  }
  if (key->secret_hash.size() != presented.size() ||
      sodium_memcmp(key->secret_hash.data(), presented.data(), presented.size()) != 0) {
    *reason = "wrong API key secret";
    LOG_INFO("authentication failed: wrong secret for API key {}", parsed->key_id);
    return UnauthenticatedError(kInvalidCredentials);
  }
  if (key->revoked) {
    *reason = "revoked API key";
    LOG_INFO("authentication refused: API key {} is revoked", parsed->key_id);
    return UnauthenticatedError(kInvalidCredentials);
  }
  Result<storage::User> user = store_.GetUser(key->user);
  if (!user.ok()) {
    if (user.status().code() != StatusCode::kNotFound) return user.status();
    *reason = "API key of an unknown user";
    LOG_INFO("authentication refused: API key {} belongs to unknown user", parsed->key_id);
    return UnauthenticatedError(kInvalidCredentials);
  }
  ASSIGN_OR_RETURN(policy::Principal principal, PrincipalFor(*user, "api-key", reason));
  principal.api_key_id = key->key_id;
  return principal;
}

Result<std::string> Authenticator::HubSecret() {
  {
    MutexLock lock(&mu_);
    if (hub_secret_) return *hub_secret_;
  }
  ASSIGN_OR_RETURN(std::string secret, LoadOrCreateHubSecret(store_));
  MutexLock lock(&mu_);
  if (!hub_secret_) hub_secret_ = secret;
  return *hub_secret_;
}

std::string Authenticator::DummyHash() {
  {
    MutexLock lock(&mu_);
    if (!dummy_hash_.empty()) return dummy_hash_;
  }
  // A hash of a random password: nothing verifies against it. Made outside the lock (70 ms); a
  // race makes two, and the first stored wins.
  std::array<unsigned char, 24> random{};
  randombytes_buf(random.data(), random.size());
  std::string password(reinterpret_cast<const char*>(random.data()), random.size());
  for (char& c : password) c = static_cast<char>('a' + static_cast<unsigned char>(c) % 26);
  Result<std::string> hash = HashPassword(password);
  MutexLock lock(&mu_);
  if (dummy_hash_.empty() && hash.ok()) dummy_hash_ = *hash;
  // If hashing failed, "" makes VerifyPassword return false at once: still fails closed.
  return dummy_hash_;
}

std::string Authenticator::CacheKey(std::string_view user, std::string_view password,
                                    std::string_view stored_hash) const {
  crypto_generichash_state state;
  crypto_generichash_init(&state, reinterpret_cast<const unsigned char*>(cache_key_.data()),
                          cache_key_.size(), 32);
  // Length-prefix each part so ("ab","c") and ("a","bc") differ.
  for (std::string_view part : {user, password, stored_hash}) {
    uint64_t len = part.size();
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(&len), sizeof len);
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(part.data()),
                              part.size());
  }
  std::string out(32, '\0');
  crypto_generichash_final(&state, reinterpret_cast<unsigned char*>(out.data()), out.size());
  return out;
}

bool Authenticator::CacheLookup(const std::string& key) {
  const int64_t now = MonotonicMicros(clock_);
  MutexLock lock(&mu_);
  auto it = cache_.find(key);
  if (it == cache_.end()) return false;
  if (it->second.expires <= now) {
    cache_order_.erase(it->second.order);
    cache_.erase(it);
    return false;
  }
  ++stats_.cache_hits;
  return true;
}

void Authenticator::CacheInsert(const std::string& key) {
  if (options_.cache_capacity == 0 || options_.cache_ttl_micros <= 0) return;
  const int64_t expires = MonotonicMicros(clock_) + options_.cache_ttl_micros;
  MutexLock lock(&mu_);
  auto it = cache_.find(key);
  if (it != cache_.end()) {
    // Refresh: move to the back of the eviction order.
    cache_order_.erase(it->second.order);
    cache_.erase(it);
  }
  while (cache_.size() >= options_.cache_capacity && !cache_order_.empty()) {
    cache_.erase(cache_order_.front());
    cache_order_.pop_front();
  }
  cache_order_.push_back(key);
  cache_.emplace(key, CacheEntry{expires, std::prev(cache_order_.end())});
}

Authenticator::Stats Authenticator::stats() {
  MutexLock lock(&mu_);
  return stats_;
}

void Authenticator::ClearCache() {
  MutexLock lock(&mu_);
  cache_.clear();
  cache_order_.clear();
}

bool Authenticator::Throttled(const std::string& address) {
  if (options_.max_failures <= 0) return false;
  const int64_t now = MonotonicMicros(clock_);
  MutexLock lock(&mu_);
  auto it = failures_.find(address);
  if (it == failures_.end()) return false;
  if (now - it->second.window_start >= options_.failure_window_micros) {
    failures_.erase(it);
    return false;
  }
  return it->second.count >= options_.max_failures;
}

void Authenticator::RecordFailure(const std::string& address) {
  const int64_t now = MonotonicMicros(clock_);
  MutexLock lock(&mu_);
  ++stats_.failures;
  if (options_.max_failures <= 0) return;
  auto it = failures_.find(address);
  if (it != failures_.end() && now - it->second.window_start >= options_.failure_window_micros) {
    failures_.erase(it);
    it = failures_.end();
  }
  if (it == failures_.end()) {
    if (failures_.size() >= options_.max_tracked_addresses) {
      std::erase_if(failures_, [&](const auto& entry) {
        return now - entry.second.window_start >= options_.failure_window_micros;
      });
      // Still full (a flood from many addresses): forget an arbitrary one to stay bounded.
      if (failures_.size() >= options_.max_tracked_addresses) failures_.erase(failures_.begin());
    }
    it = failures_.emplace(address, FailureEntry{0, now}).first;
  }
  ++it->second.count;
}

void Authenticator::AuditFailure(const std::string& address, std::string_view scheme,
                                 std::string reason) {
  if (options_.audit_store == nullptr) return;
  std::vector<storage::AuditRecord> records;
  {
    const int64_t now = MonotonicMicros(clock_);
    MutexLock lock(&mu_);
    std::string key = address.substr(0, kMaxAuditAddressBytes);
    if (!audit_.contains(key) && audit_.size() >= options_.max_tracked_addresses) {
      // Forget addresses with nothing pending whose interval is over; if still full, fold.
      std::erase_if(audit_, [&](const auto& entry) {
        return !entry.second.queued &&
               now - entry.second.last_written >= options_.audit_interval_micros;
      });
      if (audit_.size() >= options_.max_tracked_addresses) key = kOverflowAddress;
    }
    AuditEntry& entry = audit_[key];
    ++entry.pending;
    entry.scheme = std::string(scheme);
    entry.reason = std::move(reason);
    if (!entry.queued) {
      const int64_t due = entry.written ? entry.last_written + options_.audit_interval_micros : now;
      audit_due_.emplace(due, key);
      entry.queued = true;
    }
    TakeDueLocked(now, /*all=*/false, &records);
  }
  if (!records.empty()) (void)WriteAudit(std::move(records));
}

void Authenticator::AuditDue(bool all) {
  std::vector<storage::AuditRecord> records;
  {
    const int64_t now = MonotonicMicros(clock_);
    MutexLock lock(&mu_);
    if (audit_due_.empty() || (!all && audit_due_.begin()->first > now)) return;
    TakeDueLocked(now, all, &records);
  }
  if (!records.empty()) (void)WriteAudit(std::move(records));
}

Status Authenticator::FlushAudit() {
  if (options_.audit_store == nullptr) return Status::Ok();
  std::vector<storage::AuditRecord> records;
  {
    const int64_t now = MonotonicMicros(clock_);
    MutexLock lock(&mu_);
    TakeDueLocked(now, /*all=*/true, &records);
  }
  if (records.empty()) return Status::Ok();
  return WriteAudit(std::move(records));
}

void Authenticator::TakeDueLocked(int64_t now, bool all, std::vector<storage::AuditRecord>* out) {
  if (now - audit_window_start_ >= options_.audit_interval_micros) {
    audit_window_start_ = now;
    audit_window_records_ = 0;
  }
  while (!audit_due_.empty()) {
    auto first = audit_due_.begin();
    if (!all) {
      if (first->first > now) break;
      if (audit_window_records_ >= options_.audit_max_records) {
        // The interval's budget is spent: what is due waits for the next interval, folded.
        break;
      }
    }
    const std::string key = first->second;
    audit_due_.erase(first);
    auto it = audit_.find(key);
    if (it == audit_.end()) continue;  // cannot happen: queued entries are never erased
    AuditEntry& entry = it->second;
    entry.queued = false;
    if (entry.pending == 0) continue;

    JsonWriter detail;
    detail.BeginObject();
    detail.Key("address");
    detail.String(key);
    detail.Key("scheme");
    detail.String(entry.scheme);
    detail.Key("reason");
    detail.String(entry.reason);
    detail.Key("count");
    detail.Int(entry.pending);
    detail.EndObject();

    storage::AuditRecord record;
    record.kind = "auth-failure";
    record.actor = "-";
    record.detail = std::move(detail).Take();
    out->push_back(std::move(record));

    entry.pending = 0;
    entry.written = true;
    entry.last_written = now;
    ++audit_window_records_;
  }
}

Status Authenticator::WriteAudit(std::vector<storage::AuditRecord> records) {
  const size_t n = records.size();
  Result<std::vector<storage::AuditRecord>> written =
      options_.audit_store->AppendAudit(records, clock_.NowMicros());
  if (!written.ok()) {
    // The answer to the client does not depend on the audit log; the operator sees this.
    LOG_WARN("could not audit {} authentication failure record(s): {}", n,
             written.status().ToString());
    return written.status();
  }
  MutexLock lock(&mu_);
  stats_.audit_records += n;
  return Status::Ok();
}

int64_t Authenticator::RetryAfterSeconds(std::string_view client_address) {
  if (options_.max_failures <= 0) return 0;
  const int64_t now = MonotonicMicros(clock_);
  MutexLock lock(&mu_);
  auto it = failures_.find(std::string(client_address));
  if (it == failures_.end() || it->second.count < options_.max_failures) return 0;
  int64_t remaining = it->second.window_start + options_.failure_window_micros - now;
  if (remaining <= 0) return 0;
  return (remaining + 999'999) / 1'000'000;
}

}  // namespace liaison::auth

#include "taxii/service.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string_view>

#include "common/json_writer.h"
#include "common/uuid.h"
#include "policy/collection_access.h"
#include "stix/timestamp.h"
#include "storage/store_util.h"
#include "taxii/cursor.h"
#include "taxii/indicator_pattern.h"
#include "taxii/media_type.h"
#include "taxii/query.h"

namespace liaison::taxii {
namespace {

constexpr size_t kMaxTargetBytes = 4096;
constexpr char kDateAddedFirst[] = "X-TAXII-Date-Added-First";
constexpr char kDateAddedLast[] = "X-TAXII-Date-Added-Last";
// With a sharing filter, one GET scans at most this many times its page size in stored rows.
constexpr size_t kScanFactor = 20;

// ---------------------------------------------------------------------------------------------
// Routing: TAXII 2.1 section 3.1, endpoint table.

enum class Route {
  kDiscovery,    // /taxii2/
  kApiRoot,      // /{api-root}/
  kStatus,       // /{api-root}/status/{status-id}/
  kCollections,  // /{api-root}/collections/
  kCollection,   // /{api-root}/collections/{id}/
  kManifest,     // /{api-root}/collections/{id}/manifest/
  kObjects,      // /{api-root}/collections/{id}/objects/
  kObject,       // /{api-root}/collections/{id}/objects/{object-id}/
  kVersions,     // /{api-root}/collections/{id}/objects/{object-id}/versions/
};

struct Path {
  Route route = Route::kDiscovery;
  std::string api_root;
  std::string collection;  // id or alias, as given
  std::string object_id;
  std::string status_id;
};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits an origin-form path into percent-decoded segments. The trailing '/' that TAXII requires
// (section 3.1) is accepted but not demanded. nullopt for anything that cannot name a resource:
// no leading '/', empty or dot segments, bad escapes, control characters.
std::optional<std::vector<std::string>> SplitPath(std::string_view target) {
  if (size_t q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  if (target.size() > kMaxTargetBytes || target.empty() || target[0] != '/') return std::nullopt;
  target.remove_prefix(1);
  if (!target.empty() && target.back() == '/') target.remove_suffix(1);
  std::vector<std::string> segments;
  if (target.empty()) return segments;
  size_t start = 0;
  while (true) {
    size_t slash = target.find('/', start);
    std::string_view raw = target.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (raw.empty()) return std::nullopt;
    std::string segment;
    for (size_t i = 0; i < raw.size(); ++i) {
      char c = raw[i];
      if (c == '%') {
        if (i + 2 >= raw.size()) return std::nullopt;
        int hi = HexValue(raw[i + 1]);
        int lo = HexValue(raw[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        c = static_cast<char>(hi * 16 + lo);
        i += 2;
      }
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
      segment += c;
    }
    if (segment == "." || segment == "..") return std::nullopt;
    segments.push_back(std::move(segment));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

std::optional<Path> MatchRoute(std::vector<std::string> s) {
  Path p;
  if (s.empty()) return std::nullopt;
  if (s.size() == 1 && s[0] == "taxii2") {
    p.route = Route::kDiscovery;
    return p;
  }
  p.api_root = std::move(s[0]);
  if (s.size() == 1) {
    p.route = Route::kApiRoot;
    return p;
  }
  if (s[1] == "status") {
    if (s.size() != 3) return std::nullopt;
    p.route = Route::kStatus;
    p.status_id = std::move(s[2]);
    return p;
  }
  if (s[1] != "collections") return std::nullopt;
  if (s.size() == 2) {
    p.route = Route::kCollections;
    return p;
  }
  p.collection = std::move(s[2]);
  if (s.size() == 3) {
    p.route = Route::kCollection;
    return p;
  }
  if (s.size() == 4 && s[3] == "manifest") {
    p.route = Route::kManifest;
    return p;
  }
  if (s[3] != "objects") return std::nullopt;
  if (s.size() == 4) {
    p.route = Route::kObjects;
    return p;
  }
  p.object_id = std::move(s[4]);
  if (s.size() == 5) {
    p.route = Route::kObject;
    return p;
  }
  if (s.size() == 6 && s[5] == "versions") {
    p.route = Route::kVersions;
    return p;
  }
  return std::nullopt;
}

const char* AllowedMethods(Route route) {
  switch (route) {
    case Route::kObjects:
      return "GET, HEAD, POST";
    case Route::kObject:
      return "GET, HEAD, DELETE";
    default:
      return "GET, HEAD";
  }
}

bool MethodAllowed(Route route, std::string_view method) {
  if (method == "GET" || method == "HEAD") return true;
  if (method == "POST") return route == Route::kObjects;
  if (method == "DELETE") return route == Route::kObject;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

// Client-supplied text shown in an error message: bounded, and printable ASCII only (other bytes
// become '?'), so a message never carries control characters or invalid UTF-8.
std::string Quote(std::string_view v) {
  constexpr size_t kMax = 100;
  std::string out = "'";
  for (char c : v.substr(0, kMax)) out += (c >= 0x20 && c <= 0x7e) ? c : '?';
  if (v.size() > kMax) out += "...";
  out += "'";
  return out;
}

// TAXII 2.1 section 2, timestamp: "YYYY-MM-DDTHH:MM:SS.ssssssZ", microsecond precision.
std::string TaxiiTimestamp(int64_t micros) {
  return stix::FormatTimestamp(stix::Timestamp{micros}, 6);
}

// The text of an object version: STIX timestamps usually carry milliseconds, so show three digits
// when that loses nothing, else six (the same rule the store uses in status resources).
std::string VersionText(int64_t micros) {
  return stix::FormatTimestamp(stix::Timestamp{micros}, micros % 1000 == 0 ? 3 : 6);
}

// A random (version 4) UUID for status resources (TAXII 2.1 section 2, identifier).
std::string NewUuid() { return RandomUuidV4(); }

// A Host header usable in a URL: host names, IPv4, bracketed IPv6, optional port. Anything else
// (it is client-supplied) falls back to relative URLs, which TAXII 2.1 section 4.1.1 allows.
bool IsSafeHost(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// Percent-encodes a path segment (RFC 3986 unreserved characters stay).
std::string EncodeSegment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// A store lookup keyed by a path segment failed because no such resource exists: kNotFound, or
// kInvalidArgument for a key the backend finds malformed (which cannot name a resource either).
bool IsNoSuchKey(const Status& s) {
  return s.code() == StatusCode::kNotFound || s.code() == StatusCode::kInvalidArgument;
}

Response JsonResponse(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response MethodNotAllowed(Route route, std::string_view method) {
  JsonWriter w;
  w.BeginObject();
  w.Key("title");
  w.String("Method Not Allowed");
  w.Key("description");
  w.String("this endpoint does not support " + Quote(method) + "; it supports " +
           AllowedMethods(route));
  w.Key("http_status");
  w.String("405");
  w.EndObject();
  Response r = JsonResponse(405, std::move(w).Take());
  r.headers.emplace_back("Allow", AllowedMethods(route));
  return r;
}

void WriteStatusDetails(JsonWriter& w, const char* key,
                        const std::vector<storage::StatusDetail>& details) {
  // TAXII 2.1 section 2, list: empty lists are omitted.
  if (details.empty()) return;
  w.Key(key);
  w.BeginArray();
  for (const storage::StatusDetail& d : details) {
    w.BeginObject();
    w.Key("id");
    w.String(d.id);
    w.Key("version");
    w.String(d.version);
    if (!d.message.empty()) {
      w.Key("message");
      w.String(d.message);
    }
    w.EndObject();
  }
  w.EndArray();
}

// TAXII 2.1 section 4.3.1.
std::string StatusJson(const storage::StatusResource& s) {
  JsonWriter w;
  w.BeginObject();
  w.Key("id");
  w.String(s.id);
  w.Key("status");
  w.String(s.status);
  if (s.request_timestamp > 0) {
    w.Key("request_timestamp");
    w.String(TaxiiTimestamp(s.request_timestamp));
  }
  w.Key("total_count");
  w.Int(s.total_count);
  w.Key("success_count");
  w.Int(s.success_count);
  WriteStatusDetails(w, "successes", s.successes);
  w.Key("failure_count");
  w.Int(s.failure_count);
  WriteStatusDetails(w, "failures", s.failures);
  w.Key("pending_count");
  w.Int(s.pending_count);
  WriteStatusDetails(w, "pendings", s.pendings);
  w.EndObject();
  return std::move(w).Take();
}

// TAXII 2.1 section 5.2.1.
void WriteCollection(JsonWriter& w, const storage::Collection& c,
                     const policy::CollectionAccess& access) {
  w.BeginObject();
  w.Key("id");
  w.String(c.id);
  w.Key("title");
  w.String(c.title);
  if (!c.description.empty()) {
    w.Key("description");
    w.String(c.description);
  }
  if (!c.alias.empty()) {
    w.Key("alias");
    w.String(c.alias);
  }
  w.Key("can_read");
  w.Bool(access.can_read);
  w.Key("can_write");
  w.Bool(access.can_write);
  if (!c.media_types.empty()) {
    w.Key("media_types");
    w.BeginArray();
    for (const std::string& m : c.media_types) w.String(m);
    w.EndArray();
  }
  w.EndObject();
}

// ---------------------------------------------------------------------------------------------
// The handler of one request.

struct Resolved {
  storage::ApiRoot root;
  storage::Collection collection;
  policy::CollectionAccess access;
};

class Handler {
 public:
  Handler(storage::Store& store, Clock& clock, const ServiceOptions& options, SharingHooks* sharing,
          const Request& request)
      : store_(store), clock_(clock), options_(options), sharing_(sharing), request_(request) {}

  Result<Response> Run() {
    std::optional<std::vector<std::string>> segments = SplitPath(request_.target);
    std::optional<Path> path;
    if (segments) path = MatchRoute(std::move(*segments));
    if (!path) return NotFoundError("no TAXII resource at this path");

    // TAXII 2.1 section 1.6.9: every endpoint here needs an authenticated client.
    if (!request_.principal.authenticated) {
      return UnauthenticatedError("authentication is required");
    }
    if (!MethodAllowed(path->route, request_.method)) {
      return MethodNotAllowed(path->route, request_.method);
    }
    RETURN_IF_ERROR(NegotiateAccept(request_.accept));

    const bool get = request_.method == "GET" || request_.method == "HEAD";
    switch (path->route) {
      case Route::kDiscovery:
        return Discovery();
      case Route::kApiRoot:
        return ApiRootInfo(*path);
      case Route::kStatus:
        return GetStatus(*path);
      case Route::kCollections:
        return Collections(*path);
      case Route::kCollection:
        return CollectionInfo(*path);
      case Route::kManifest:
        return Read(*path, Endpoint::kManifest);
      case Route::kObjects:
        return get ? Read(*path, Endpoint::kObjects) : AddObjects(*path);
      case Route::kObject:
        return get ? Read(*path, Endpoint::kObject) : DeleteObject(*path);
      case Route::kVersions:
        return Read(*path, Endpoint::kVersions);
    }
    return InternalError("unhandled TAXII route");
  }

 private:
  const policy::Principal& principal() const { return request_.principal; }

  Result<storage::ApiRoot> GetRoot(const std::string& name) {
    Result<storage::ApiRoot> root = store_.GetApiRoot(name);
    if (!root.ok() && IsNoSuchKey(root.status()))
      return NotFoundError("no API root " + Quote(name));
    return root;
  }

  static Status CollectionNotFound(const std::string& key, const std::string& root) {
    // The same answer whether the collection does not exist or is hidden from the principal.
    return NotFoundError("no collection " + Quote(key) + " that you can access in API root " +
                         Quote(root));
  }

  static Status ObjectNotFound(const std::string& id, const std::string& collection) {
    return NotFoundError("no object " + Quote(id) + " in collection " + Quote(collection));
  }

  // The API root, the collection (by id or alias) and the principal's access to it; kNotFound
  // unless the principal may read or write it.
  Result<Resolved> ResolveCollection(const Path& path) {
    Resolved r;
    ASSIGN_OR_RETURN(r.root, GetRoot(path.api_root));
    Result<storage::Collection> c = store_.GetCollection(path.api_root, path.collection);
    if (!c.ok()) {
      if (IsNoSuchKey(c.status())) return CollectionNotFound(path.collection, path.api_root);
      return c.status();
    }
    r.collection = std::move(c).value();
    Result<policy::CollectionAccess> access =
        policy::GetCollectionAccess(store_, principal(), r.collection.id);
    if (!access.ok()) {
      // kNotFound: deleted since it was looked up.
      if (IsNoSuchKey(access.status())) return CollectionNotFound(path.collection, path.api_root);
      return access.status();
    }
    r.access = *access;
    if (!r.access.visible()) return CollectionNotFound(path.collection, path.api_root);
    return r;
  }

  std::string RootUrl(const std::string& name) const {
    std::string url;
    if (IsSafeHost(request_.host)) {
      url = request_.tls ? "https://" : "http://";
      url += request_.host;
    }
    url += '/';
    url += EncodeSegment(name);
    url += '/';
    return url;
  }

  // TAXII 2.1 section 4.1.
  Result<Response> Discovery() {
    ASSIGN_OR_RETURN(std::vector<storage::ApiRoot> roots, store_.ListApiRoots());
    JsonWriter w;
    w.BeginObject();
    w.Key("title");
    w.String(options_.title);
    if (!options_.description.empty()) {
      w.Key("description");
      w.String(options_.description);
    }
    if (!options_.contact.empty()) {
      w.Key("contact");
      w.String(options_.contact);
    }
    if (!roots.empty()) {
      // The first API root created (init's) is the default; it must be in api_roots (4.1.1).
      w.Key("default");
      w.String(RootUrl(roots.front().name));
      w.Key("api_roots");
      w.BeginArray();
      for (const storage::ApiRoot& root : roots) w.String(RootUrl(root.name));
      w.EndArray();
    }
    w.EndObject();
    return JsonResponse(200, std::move(w).Take());
  }

  // TAXII 2.1 section 4.2.
  Result<Response> ApiRootInfo(const Path& path) {
    ASSIGN_OR_RETURN(storage::ApiRoot root, GetRoot(path.api_root));
    JsonWriter w;
    w.BeginObject();
    w.Key("title");
    w.String(root.title.empty() ? root.name : root.title);
    if (!root.description.empty()) {
      w.Key("description");
      w.String(root.description);
    }
    w.Key("versions");
    w.BeginArray();
    w.String(kTaxiiMediaType);
    w.EndArray();
    w.Key("max_content_length");
    w.Int(root.max_content_length);
    w.EndObject();
    return JsonResponse(200, std::move(w).Take());
  }

  // TAXII 2.1 section 4.3. Status resources are readable by the principal that posted them and
  // by admins; to anyone else they do not exist.
  Result<Response> GetStatus(const Path& path) {
    ASSIGN_OR_RETURN(storage::ApiRoot root, GetRoot(path.api_root));
    Status not_found =
        NotFoundError("no status " + Quote(path.status_id) + " in API root " + Quote(root.name));
    if (!LooksLikeUuid(path.status_id)) return not_found;
    Result<storage::StatusResource> status = store_.GetStatus(root.name, path.status_id);
    if (!status.ok()) {
      if (IsNoSuchKey(status.status())) return not_found;
      return status.status();
    }
    if (!principal().is_admin() &&
        (principal().user.empty() || status->owner != principal().user)) {
      return not_found;
    }
    return JsonResponse(200, StatusJson(*status));
  }

  // TAXII 2.1 section 5.1: only the collections the principal may read or write, in the store's
  // (creation) order, which is consistent across requests (section 3.3).
  Result<Response> Collections(const Path& path) {
    ASSIGN_OR_RETURN(storage::ApiRoot root, GetRoot(path.api_root));
    ASSIGN_OR_RETURN(std::vector<storage::Collection> all, store_.ListCollections(root.name));
    JsonWriter w;
    w.BeginObject();
    bool any = false;
    for (const storage::Collection& c : all) {
      Result<policy::CollectionAccess> access =
          policy::GetCollectionAccess(store_, principal(), c.id);
      if (!access.ok()) {
        // Deleted since it was listed: leave it out.
        if (access.status().code() == StatusCode::kNotFound) continue;
        return access.status();
      }
      if (!access->visible()) continue;
      if (!any) {
        w.Key("collections");
        w.BeginArray();
        any = true;
      }
      WriteCollection(w, c, *access);
    }
    if (any) w.EndArray();
    w.EndObject();  // {} when none (5.1.1: the key is omitted)
    return JsonResponse(200, std::move(w).Take());
  }

  // TAXII 2.1 section 5.2.
  Result<Response> CollectionInfo(const Path& path) {
    ASSIGN_OR_RETURN(Resolved r, ResolveCollection(path));
    JsonWriter w;
    WriteCollection(w, r.collection, r.access);
    return JsonResponse(200, std::move(w).Take());
  }

  size_t PageSize(const Filters& f) const {
    size_t cap = std::max<size_t>(options_.max_page_size, 1);
    size_t wanted = f.limit ? *f.limit : options_.default_page_size;
    return std::clamp<size_t>(wanted, 1, cap);
  }

  // The text a cursor binds to: endpoint, collection, object and every selecting filter.
  static std::string Scope(Endpoint endpoint, const std::string& collection_id,
                           const std::string& object_id, const Filters& f) {
    std::string scope = std::to_string(static_cast<int>(endpoint));
    scope += '\n';
    scope += collection_id;
    scope += '\n';
    scope += object_id;
    scope += '\n';
    scope += f.Canonical();
    return scope;
  }

  QueryLimits Limits() const {
    return QueryLimits{.max_params = options_.max_query_params,
                       .max_query_bytes = options_.max_query_bytes,
                       .max_match_values = options_.max_match_values};
  }

  // GET objects (5.4), manifest (5.3), object (5.6) and versions (5.8).
  Result<Response> Read(const Path& path, Endpoint endpoint) {
    ASSIGN_OR_RETURN(Resolved r, ResolveCollection(path));
    // Sections 5.3, 5.4, 5.6, 5.8: can_read false gives 403 (the collection is visible, since the
    // principal may write it) or 404.
    if (!r.access.can_read) {
      return PermissionDeniedError("you may not read collection " + Quote(path.collection));
    }
    ASSIGN_OR_RETURN(Filters f, ParseFilters(request_.query, endpoint, Limits()));
    const bool per_object = endpoint == Endpoint::kObject || endpoint == Endpoint::kVersions;
    if (per_object && !LooksLikeStixId(path.object_id)) {
      return ObjectNotFound(path.object_id, path.collection);
    }

    storage::ObjectQuery q;
    q.collection_id = r.collection.id;
    q.added_after = f.added_after;
    if (f.next) {
      ASSIGN_OR_RETURN(int64_t after,
                       DecodeCursor(*f.next, Scope(endpoint, r.collection.id, path.object_id, f)));
      q.added_after = after;
    }
    q.ids = f.ids;
    q.types = f.types;
    // TAXII 2.1 section 3.4.1, spec_version: without the filter, "only the latest specification
    // version that it can provide for each object". The hub stores each object version exactly as
    // received, in the one spec_version it was written in, so every stored version is the latest
    // the hub can provide of itself: no filter applies. (Filtering on "2.1" would hide STIX 2.0
    // content entirely.)
    q.spec_versions = f.spec_versions;
    q.version_selectors = f.version_selectors;
    q.versions = f.versions;
    if (endpoint == Endpoint::kObject) q.ids = {path.object_id};
    q.limit = PageSize(f);
    q.metadata_only = endpoint == Endpoint::kManifest || endpoint == Endpoint::kVersions;

    std::unique_ptr<ReadFilter> filter;
    if (sharing_ != nullptr) filter = sharing_->ForReader(principal(), r.collection);
    const bool versions = endpoint == Endpoint::kVersions;
    ASSIGN_OR_RETURN(VisiblePage visible, QueryVisible(q, versions, path.object_id, filter.get()));
    storage::ObjectPage& page = visible.page;

    if (page.objects.empty() && per_object) {
      // An object the collection does not hold at all (or holds only in versions hidden from the
      // principal, whose existence must not leak) is 404 (5.6, 5.8); one whose visible versions
      // are all filtered out is an empty 200 answer.
      ASSIGN_OR_RETURN(bool exists,
                       HasVisibleVersion(r.collection.id, path.object_id, filter.get()));
      if (!exists) return ObjectNotFound(path.object_id, path.collection);
    }

    std::string next;
    if (page.more && visible.resume_after > 0) {
      next =
          EncodeCursor(visible.resume_after, Scope(endpoint, r.collection.id, path.object_id, f));
    }
    if (filter != nullptr && !q.metadata_only) {
      // The bytes this reader gets: unsealed for this hub's people, wire form for partners.
      for (storage::StoredObject& o : page.objects) {
        ASSIGN_OR_RETURN(o.json, filter->Present(o));
      }
    }
    Result<std::string> body = endpoint == Endpoint::kManifest   ? ManifestBody(page, next)
                               : endpoint == Endpoint::kVersions ? VersionsBody(page, next)
                                                                 : EnvelopeBody(page, next);
    if (!body.ok()) return body.status();
    Response response = JsonResponse(200, std::move(body).value());
    // TAXII 2.1 section 3.2: the date_added of the first and last result returned (hidden rows
    // scanned past do not count; `next` resumes after them).
    if (!page.objects.empty()) {
      response.headers.emplace_back(kDateAddedFirst,
                                    TaxiiTimestamp(page.objects.front().date_added));
      response.headers.emplace_back(kDateAddedLast, TaxiiTimestamp(page.objects.back().date_added));
    }
    return response;
  }

  struct VisiblePage {
    storage::ObjectPage page;  // the visible results, at most the query's limit
    int64_t resume_after = 0;  // date_added of the last row scanned (the `next` cursor)
  };

  Result<storage::ObjectPage> RunQuery(const storage::ObjectQuery& q, bool versions,
                                       const std::string& object_id) {
    if (versions) return store_.QueryVersions(q, object_id);
    return store_.QueryObjects(q);
  }

  // One page of results the principal may see. Without a filter: the store's page. With one: rows
  // hidden by the filter are skipped and the store is asked again until the page is full or the
  // store has no more, so paging stays exact (date_added is unique and increasing: resuming after
  // the last row scanned neither skips nor repeats). The scan is bounded per request
  // (kScanFactor x limit rows); beyond it the page is returned short with more=true and a cursor
  // after the last row scanned. Each store call asks for exactly the rows still missing, so a
  // page that fills ends on a returned row.
  Result<VisiblePage> QueryVisible(storage::ObjectQuery q, bool versions,
                                   const std::string& object_id, ReadFilter* filter) {
    VisiblePage out;
    if (filter == nullptr) {
      ASSIGN_OR_RETURN(out.page, RunQuery(q, versions, object_id));
      if (!out.page.objects.empty()) out.resume_after = out.page.objects.back().date_added;
      return out;
    }
    const size_t want = q.limit;
    const size_t budget = want * kScanFactor;
    size_t scanned = 0;
    while (true) {
      q.limit = std::min(budget - scanned, want - out.page.objects.size());
      ASSIGN_OR_RETURN(storage::ObjectPage batch, RunQuery(q, versions, object_id));
      scanned += batch.objects.size();
      if (!batch.objects.empty()) {
        out.resume_after = batch.objects.back().date_added;
        q.added_after = out.resume_after;
      }
      for (storage::StoredObject& o : batch.objects) {
        if (filter->Visible(o)) out.page.objects.push_back(std::move(o));
      }
      if (!batch.more) return out;  // more = false
      if (out.page.objects.size() >= want || scanned >= budget || batch.objects.empty()) {
        out.page.more = true;
        return out;
      }
    }
  }

  // Whether the collection holds a version of `object_id` the principal may see (bounded scan:
  // an object with more hidden versions than that counts as absent).
  Result<bool> HasVisibleVersion(const std::string& collection_id, const std::string& object_id,
                                 ReadFilter* filter) {
    storage::ObjectQuery probe;
    probe.collection_id = collection_id;
    probe.metadata_only = true;
    probe.limit = filter == nullptr ? 1 : 1000;
    for (int round = 0; round < 20; ++round) {
      ASSIGN_OR_RETURN(storage::ObjectPage any, store_.QueryVersions(probe, object_id));
      if (filter == nullptr) return !any.objects.empty();
      for (const storage::StoredObject& o : any.objects) {
        if (filter->Visible(o)) return true;
      }
      if (!any.more || any.objects.empty()) return false;
      probe.added_after = any.objects.back().date_added;
    }
    return false;
  }

  // The shape every paged TAXII answer shares: {"more":..,"next":..,"<list_key>":[items]}, or {}
  // when there is nothing (TAXII 2.1 sections 3.7, 5.3.1, 5.8.1). `append_item` writes one item;
  // an error from it aborts the body.
  template <typename AppendItem>
  static Result<std::string> PageBody(const storage::ObjectPage& page, const std::string& next,
                                      std::string_view list_key, size_t reserve,
                                      AppendItem append_item) {
    std::string out;
    out.reserve(reserve + next.size());
    out += '{';
    if (!page.objects.empty() || page.more) {
      out += "\"more\":";
      out += page.more ? "true" : "false";
      if (!next.empty()) {
        out += ",\"next\":";
        JsonWriter::AppendEscaped(out, next);
      }
    }
    if (!page.objects.empty()) {
      out += ",\"";
      out += list_key;
      out += "\":[";
      bool first = true;
      for (const storage::StoredObject& o : page.objects) {
        if (!first) out += ',';
        first = false;
        RETURN_IF_ERROR(append_item(out, o));
      }
      out += ']';
    }
    out += '}';
    return out;
  }

  // TAXII 2.1 section 3.7. The stored bytes are spliced in as they are: never re-serialised.
  static Result<std::string> EnvelopeBody(const storage::ObjectPage& page,
                                          const std::string& next) {
    size_t size = 64;
    for (const storage::StoredObject& o : page.objects) size += o.json.size() + 1;
    return PageBody(page, next, "objects", size,
                    [](std::string& out, const storage::StoredObject& o) -> Status {
                      // The store returns bytes for non-metadata queries; empty bytes would
                      // corrupt the answer.
                      if (o.json.empty()) {
                        return DataLossError("the stored bytes of object " + o.id + " are missing");
                      }
                      out += o.json;
                      return Status::Ok();
                    });
  }

  // TAXII 2.1 section 5.3.1.
  static Result<std::string> ManifestBody(const storage::ObjectPage& page,
                                          const std::string& next) {
    return PageBody(page, next, "objects", 64 + page.objects.size() * 180,
                    [](std::string& out, const storage::StoredObject& o) -> Status {
                      out += "{\"id\":";
                      JsonWriter::AppendEscaped(out, o.id);
                      out += ",\"date_added\":\"";
                      out += TaxiiTimestamp(o.date_added);
                      out += "\",\"version\":\"";
                      out += VersionText(o.version);
                      out += "\",\"media_type\":";
                      JsonWriter::AppendEscaped(out,
                                                "application/stix+json;version=" + o.spec_version);
                      out += '}';
                      return Status::Ok();
                    });
  }

  // TAXII 2.1 section 5.8.1.
  static Result<std::string> VersionsBody(const storage::ObjectPage& page,
                                          const std::string& next) {
    return PageBody(page, next, "versions", 64 + page.objects.size() * 32,
                    [](std::string& out, const storage::StoredObject& o) -> Status {
                      out += '"';
                      out += VersionText(o.version);
                      out += '"';
                      return Status::Ok();
                    });
  }

  // TAXII 2.1 section 5.7. Deleting needs both can_read and can_write; one of them alone is 403,
  // neither is 404 (the table in 5.7).
  Result<Response> DeleteObject(const Path& path) {
    ASSIGN_OR_RETURN(Resolved r, ResolveCollection(path));
    if (!r.access.can_read || !r.access.can_write) {
      return PermissionDeniedError("deleting objects needs read and write access to collection " +
                                   Quote(path.collection));
    }
    ASSIGN_OR_RETURN(Filters f, ParseFilters(request_.query, Endpoint::kDeleteObject, Limits()));
    if (!LooksLikeStixId(path.object_id)) return ObjectNotFound(path.object_id, path.collection);
    storage::ObjectQuery q;
    q.collection_id = r.collection.id;
    q.spec_versions = f.spec_versions;
    q.version_selectors = f.version_selectors;
    q.versions = f.versions;
    if (sharing_ != nullptr) {
      std::unique_ptr<ReadFilter> filter = sharing_->ForReader(principal(), r.collection);
      return DeleteVisible(q, path, *filter);
    }
    Result<int64_t> deleted = store_.DeleteObject(q, path.object_id);
    if (!deleted.ok()) {
      if (deleted.status().code() == StatusCode::kNotFound) {
        return ObjectNotFound(path.object_id, path.collection);
      }
      return deleted.status();
    }
    return JsonResponse(200, "");
  }

  // DELETE under a sharing filter: the versions the filters select (the same rules as
  // Store::DeleteObject: no version filter selects every version; "first"/"last" are the oldest
  // and newest version among those matching spec_versions), of which only those visible to the
  // principal are deleted. None visible: 404, as if the object were not there.
  Result<Response> DeleteVisible(const storage::ObjectQuery& q, const Path& path,
                                 ReadFilter& filter) {
    storage::ObjectQuery all;
    all.collection_id = q.collection_id;
    all.spec_versions = q.spec_versions;
    all.metadata_only = true;
    all.limit = 1000;
    std::vector<storage::StoredObject> versions;
    while (true) {
      ASSIGN_OR_RETURN(storage::ObjectPage page, store_.QueryVersions(all, path.object_id));
      if (!page.objects.empty()) all.added_after = page.objects.back().date_added;
      for (storage::StoredObject& o : page.objects) versions.push_back(std::move(o));
      if (!page.more || page.objects.empty()) break;
    }
    std::optional<int64_t> first, last;
    for (const storage::StoredObject& o : versions) {
      if (!first || o.version < *first) first = o.version;
      if (!last || o.version > *last) last = o.version;
    }
    const bool select_all = (q.version_selectors.empty() && q.versions.empty()) ||
                            std::find(q.version_selectors.begin(), q.version_selectors.end(),
                                      storage::VersionSelector::kAll) != q.version_selectors.end();
    auto selected = [&](const storage::StoredObject& o) {
      if (select_all) return true;
      for (storage::VersionSelector s : q.version_selectors) {
        if (s == storage::VersionSelector::kFirst && first && o.version == *first) return true;
        if (s == storage::VersionSelector::kLast && last && o.version == *last) return true;
      }
      return std::find(q.versions.begin(), q.versions.end(), o.version) != q.versions.end();
    };
    std::vector<int64_t> doomed;
    for (const storage::StoredObject& o : versions) {
      if (selected(o) && filter.Visible(o)) doomed.push_back(o.version);
    }
    std::sort(doomed.begin(), doomed.end());
    doomed.erase(std::unique(doomed.begin(), doomed.end()), doomed.end());
    if (doomed.empty()) return ObjectNotFound(path.object_id, path.collection);
    for (size_t i = 0; i < doomed.size(); i += storage::kMaxQueryValues) {
      storage::ObjectQuery batch;
      batch.collection_id = q.collection_id;
      batch.spec_versions = q.spec_versions;
      const size_t end = std::min(doomed.size(), i + storage::kMaxQueryValues);
      batch.versions.assign(doomed.begin() + static_cast<std::ptrdiff_t>(i),
                            doomed.begin() + static_cast<std::ptrdiff_t>(end));
      Result<int64_t> deleted = store_.DeleteObject(batch, path.object_id);
      // kNotFound: deleted concurrently since it was listed, which is the outcome asked for.
      if (!deleted.ok() && deleted.status().code() != StatusCode::kNotFound) {
        return deleted.status();
      }
    }
    return JsonResponse(200, "");
  }

  // TAXII 2.1 section 5.5.
  Result<Response> AddObjects(const Path& path) {
    ASSIGN_OR_RETURN(Resolved r, ResolveCollection(path));
    if (!r.access.can_write) {
      return PermissionDeniedError("you may not add objects to collection " +
                                   Quote(path.collection));
    }
    RETURN_IF_ERROR(CheckRequestContentType(request_.content_type));
    // TAXII 2.1 section 4.2.1: max_content_length bounds request bodies (413 beyond it).
    if (r.root.max_content_length > 0 &&
        request_.body.size() > static_cast<uint64_t>(r.root.max_content_length)) {
      return ResourceExhaustedError("the request body of " + std::to_string(request_.body.size()) +
                                    " bytes exceeds the max_content_length of API root " +
                                    Quote(r.root.name) + " (" +
                                    std::to_string(r.root.max_content_length) + " bytes)");
    }
    ASSIGN_OR_RETURN(stix::ParsedEnvelope envelope,
                     stix::ParseEnvelope(request_.body, options_.parse_limits));

    const int64_t now = clock_.NowMicros();
    storage::AddObjectsRequest add;
    add.collection_id = r.collection.id;
    add.status.api_root = r.root.name;
    add.status.owner = principal().user;
    add.status.request_timestamp = now;
    add.status.total_count = static_cast<int64_t>(envelope.objects.size());
    add.objects.reserve(envelope.objects.size());
    std::vector<stix::ObjectInfo> valid;  // for the sharing hooks, in request order
    for (size_t i = 0; i < envelope.objects.size(); ++i) {
      stix::ObjectResult& result = envelope.objects[i];
      if (!result.ok()) {
        // A bad object is reported in the status and the rest are kept (issue 2, DESIGN.md).
        storage::StatusDetail failure;
        failure.id = result.id_hint.empty() ? "objects[" + std::to_string(i) + "]"
                                            : std::move(result.id_hint);
        failure.version = std::move(result.version_hint);
        failure.message = result.error.message();
        add.status.failures.push_back(std::move(failure));
        continue;
      }
      stix::ObjectInfo& info = result.info;
      if (Status pattern = CheckIndicatorPattern(info); !pattern.ok()) {
        storage::StatusDetail failure;
        failure.id = info.id;
        failure.version = std::move(result.version_hint);
        failure.message = pattern.message();
        add.status.failures.push_back(std::move(failure));
        continue;
      }
      if (sharing_ != nullptr) {
        valid.push_back(std::move(info));
        continue;
      }
      storage::NewObject object;
      object.id = std::move(info.id);
      object.type = std::move(info.type);
      // STIX 2.1 section 3.2: objects written to this specification are 2.1 unless they say
      // otherwise; the store needs a value for every object.
      object.spec_version = info.spec_version.empty() ? "2.1" : std::move(info.spec_version);
      if (std::optional<stix::Timestamp> v = info.version()) object.version = v->micros;
      object.json = std::move(info.json);
      add.objects.push_back(std::move(object));
    }
    if (sharing_ != nullptr) {
      // Labels, signatures, sealing, outbox rows and feedback: decided by the sharing policy;
      // the objects it refuses are status failures like invalid ones.
      ASSIGN_OR_RETURN(PreparedAdd prepared,
                       sharing_->PrepareAdd(principal(), r.collection, std::move(valid)));
      add.objects = std::move(prepared.objects);
      for (storage::StatusDetail& failure : prepared.failures) {
        add.status.failures.push_back(std::move(failure));
      }
      add.audit = std::move(prepared.audit);
    }

    // A fresh random id collides with an existing one with negligible probability; retry anyway
    // rather than fail a publication.
    Result<storage::AddObjectsResult> added = InternalError("no attempt made");
    for (int attempt = 0; attempt < 3; ++attempt) {
      add.status.id = NewUuid();
      added = store_.AddObjects(add, now);
      if (added.ok() || added.status().code() != StatusCode::kAlreadyExists) break;
    }
    if (!added.ok()) return added.status();
    if (sharing_ != nullptr) sharing_->Committed(r.collection, *added);
    return JsonResponse(202, StatusJson(added->status));
  }

  storage::Store& store_;
  Clock& clock_;
  const ServiceOptions& options_;
  SharingHooks* const sharing_;  // may be null: everything visible, nothing labelled
  const Request& request_;
};

}  // namespace

Service::Service(storage::Store& store, Clock& clock, ServiceOptions options, SharingHooks* sharing)
    : store_(store), clock_(clock), options_(std::move(options)), sharing_(sharing) {}

Result<Response> Service::Handle(const Request& request) const {
  try {
    return Handler(store_, clock_, options_, sharing_, request).Run();
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError("out of memory while handling the request");
  } catch (const std::exception& e) {
    return InternalError(std::string("unexpected failure handling the request: ") + e.what());
  }
}

Result<int64_t> Service::MaxContentLength(const std::string& target) const {
  std::optional<std::vector<std::string>> segments = SplitPath(target);
  if (!segments || segments->empty() || (segments->size() == 1 && (*segments)[0] == "taxii2")) {
    return NotFoundError("no API root at this path");
  }
  Result<storage::ApiRoot> root = store_.GetApiRoot((*segments)[0]);
  if (!root.ok()) {
    if (IsNoSuchKey(root.status())) return NotFoundError("no API root " + Quote((*segments)[0]));
    return root.status();
  }
  return root->max_content_length;
}

bool Service::OwnsPath(const std::string& target) const {
  std::optional<std::vector<std::string>> segments = SplitPath(target);
  if (!segments || segments->empty()) return false;
  if ((*segments)[0] == "taxii2") return true;
  Result<storage::ApiRoot> root = store_.GetApiRoot((*segments)[0]);
  // A store failure is not "no such root": let Handle report it.
  return root.ok() || !IsNoSuchKey(root.status());
}

}  // namespace liaison::taxii

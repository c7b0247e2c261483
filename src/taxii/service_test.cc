#include "taxii/service.h"

#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

#include "stix/json_codec.h"
#include "storage/memory/memory_store.h"
#include "storage/store_wrapper.h"

namespace liaison::taxii {
namespace {

using storage::Role;
using Query = std::vector<std::pair<std::string, std::string>>;

constexpr char kRoot[] = "api";
constexpr char kDefault[] = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";  // alias "default"
constexpr char kSecret[] = "52892447-4d7e-4f70-b94d-d7f22742ff63";   // only carol
constexpr char kDropBox[] = "64993447-4d7e-4f70-b94d-d7f22742ff64";  // write-only for dropper
constexpr int64_t kMaxContentLength = 4 * 1024 * 1024;

std::string Uuid(int n, int variant = 0) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4000-8000-%012x", n, variant, n);
  return buf;
}

std::string IndicatorId(int n) { return "indicator--" + Uuid(n); }

std::string Indicator(int n, const std::string& modified = "2020-01-01T00:00:00.000Z") {
  return R"({"type":"indicator","spec_version":"2.1","id":")" + IndicatorId(n) +
         R"(","created":"2020-01-01T00:00:00.000Z","modified":")" + modified + R"(","name":"n)" +
         std::to_string(n) +
         R"(","pattern":"[ipv4-addr:value = '10.0.0.1']","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z"})";
}

std::string Malware(int n) {
  return R"({"type":"malware","spec_version":"2.1","id":"malware--)" + Uuid(n) +
         R"(","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"m)" +
         std::to_string(n) + R"(","is_family":false})";
}

std::string Envelope(const std::vector<std::string>& objects) {
  std::string out = R"({"objects":[)";
  for (size_t i = 0; i < objects.size(); ++i) {
    if (i) out += ',';
    out += objects[i];
  }
  return out + "]}";
}

policy::Principal Who(std::string user, Role role) {
  policy::Principal p;
  p.user = std::move(user);
  p.role = role;
  p.authenticated = true;
  p.method = "basic";
  return p;
}

std::string Header(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

struct Json {
  stix::JsonTree tree;
  stix::JsonValue root() const { return tree.root(); }
};

Json ParseBody(const std::string& body) {
  Result<stix::JsonTree> t = stix::ParseJson(body);
  EXPECT_TRUE(t.ok()) << t.status().ToString() << "\n" << body;
  if (!t.ok()) return {};
  return Json{std::move(t).value()};
}

stix::JsonValue Member(const stix::JsonValue& v, std::string_view key) {
  stix::JsonValue out;
  EXPECT_TRUE(v.Find(key, &out)) << "missing " << key;
  return out;
}

std::string Str(const stix::JsonValue& v, std::string_view key) {
  stix::JsonValue m;
  if (!v.Find(key, &m) || !m.is_string()) return "<absent>";
  return std::string(m.string_value());
}

int64_t Int(const stix::JsonValue& v, std::string_view key) {
  stix::JsonValue m;
  if (!v.Find(key, &m) || !m.is_integer()) return -1;
  return m.int_value();
}

// The "id" of every object (or manifest record) of an envelope, in order.
std::vector<std::string> Ids(const std::string& body) {
  Json j = ParseBody(body);
  std::vector<std::string> ids;
  stix::JsonValue objects;
  if (!j.root().Find("objects", &objects)) return ids;
  for (stix::JsonValue o : objects) ids.push_back(Str(o, "id"));
  return ids;
}

class TaxiiServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = storage::memory::MemoryStore::Create();
    storage::ApiRoot root;
    root.name = kRoot;
    root.title = "Trust group";
    root.description = "The default API root";
    root.max_content_length = kMaxContentLength;
    ASSERT_TRUE(store_->CreateApiRoot(root).ok());
    storage::ApiRoot second;
    second.name = "second";
    second.title = "Second";
    ASSERT_TRUE(store_->CreateApiRoot(second).ok());

    AddCollection(kDefault, "Default", "default");
    AddCollection(kSecret, "Secret", "");
    AddCollection(kDropBox, "Drop box", "");
    Grant(kDefault, "role:publisher", true, true);
    Grant(kDefault, "role:reader", true, false);
    Grant(kSecret, "user:carol", true, true);
    Grant(kDropBox, "user:dropper", false, true);

    service_ = std::make_unique<Service>(*store_, clock_, ServiceOptions{});
  }

  void AddCollection(const std::string& id, const std::string& title, const std::string& alias) {
    storage::Collection c;
    c.id = id;
    c.api_root = kRoot;
    c.title = title;
    c.description = title + " collection";
    c.alias = alias;
    ASSERT_TRUE(store_->CreateCollection(c).ok());
  }

  void Grant(const std::string& collection, const std::string& subject, bool read, bool write) {
    storage::Grant g;
    g.collection_id = collection;
    g.subject = subject;
    g.can_read = read;
    g.can_write = write;
    ASSERT_TRUE(store_->PutGrant(g).ok());
  }

  Request Make(const std::string& method, const std::string& target, const policy::Principal& who,
               Query query = {}) {
    Request r;
    r.method = method;
    r.target = target;
    r.query = std::move(query);
    r.accept = "application/taxii+json;version=2.1";
    r.host = "hub.example:8443";
    r.tls = true;
    r.principal = who;
    return r;
  }

  Result<Response> Get(const std::string& target, const policy::Principal& who, Query q = {}) {
    return service_->Handle(Make("GET", target, who, std::move(q)));
  }

  Result<Response> Post(const std::string& target, const policy::Principal& who, std::string body,
                        std::string content_type = "application/taxii+json;version=2.1") {
    Request r = Make("POST", target, who);
    r.body = std::move(body);
    r.content_type = std::move(content_type);
    return service_->Handle(r);
  }

  static std::string ObjectsPath(const std::string& collection = kDefault) {
    return std::string("/") + kRoot + "/collections/" + collection + "/objects/";
  }

  // Posts objects as the publisher and expects every one to succeed.
  void Publish(const std::vector<std::string>& objects, const std::string& collection = kDefault,
               const policy::Principal* who = nullptr) {
    Result<Response> r = Post(ObjectsPath(collection), who ? *who : publisher_, Envelope(objects));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 202);
    Json j = ParseBody(r->body);
    ASSERT_EQ(Int(j.root(), "success_count"), static_cast<int64_t>(objects.size())) << r->body;
  }

  FakeClock clock_;
  std::unique_ptr<storage::memory::MemoryStore> store_;
  std::unique_ptr<Service> service_;

  const policy::Principal anonymous_{};
  const policy::Principal admin_ = Who("root", Role::kAdmin);
  const policy::Principal publisher_ = Who("pub", Role::kPublisher);
  const policy::Principal reader_ = Who("rdr", Role::kReader);
  const policy::Principal carol_ = Who("carol", Role::kReader);
  const policy::Principal dropper_ = Who("dropper", Role::kReader);
  const policy::Principal nobody_ = Who("nobody", Role::kReader);
};

// =============================================================================================
// Denial paths

TEST_F(TaxiiServiceTest, AnonymousIsUnauthenticatedEverywhere) {
  for (const std::string& path :
       {std::string("/taxii2/"), std::string("/api/"), std::string("/api/collections/"),
        ObjectsPath(), std::string("/api/status/2d086da7-4bdc-4f91-900e-d77486753710/")}) {
    Result<Response> r = Get(path, anonymous_);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << path;
  }
  Result<Response> post = Post(ObjectsPath(), anonymous_, Envelope({Indicator(1)}));
  EXPECT_EQ(post.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(store_->CountObjects(kDefault).value_or(-1), 0);
}

TEST_F(TaxiiServiceTest, UnknownPathsAndRootsAreNotFound) {
  for (const char* path :
       {"/", "", "nope", "/api/collections/x/y/", "/api/collections/" /* ok */, "/nope/",
        "/nope/collections/", "/api/status/", "/api/stuff/", "/api//collections/",
        "/api/collections/%zz/", "/api/collections/../", "/api/collections/%00/",
        "/api/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/objects/x/versions/extra/"}) {
    if (std::string(path) == "/api/collections/") continue;
    Result<Response> r = Get(path, admin_);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << path;
  }
}

TEST_F(TaxiiServiceTest, MethodNotAllowedIs405WithAllow) {
  Request put = Make("PUT", ObjectsPath(), publisher_);
  Result<Response> r = service_->Handle(put);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(Header(*r, "Allow"), "GET, HEAD, POST");
  Json j = ParseBody(r->body);
  EXPECT_EQ(Str(j.root(), "http_status"), "405");
  EXPECT_NE(Str(j.root(), "title"), "<absent>");

  r = Post("/api/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/manifest/", admin_, "{}");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(Header(*r, "Allow"), "GET, HEAD");

  r = service_->Handle(Make("DELETE", "/api/collections/", admin_));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 405);

  r = service_->Handle(Make("POST", "/taxii2/", admin_));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 405);
}

TEST_F(TaxiiServiceTest, NotAcceptableIs406) {
  Request r = Make("GET", "/taxii2/", admin_);
  r.accept = "application/json";
  EXPECT_EQ(service_->Handle(r).status().code(), StatusCode::kNotAcceptable);
  r.accept = "application/taxii+json;version=2.0";
  EXPECT_EQ(service_->Handle(r).status().code(), StatusCode::kNotAcceptable);
  r.target = ObjectsPath();
  EXPECT_EQ(service_->Handle(r).status().code(), StatusCode::kNotAcceptable);
}

TEST_F(TaxiiServiceTest, ReaderMayNotPost) {
  Result<Response> r = Post(ObjectsPath(), reader_, Envelope({Indicator(1)}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->CountObjects(kDefault).value_or(-1), 0);
}

TEST_F(TaxiiServiceTest, UserWithoutGrantGetsNotFoundNotForbidden) {
  Publish({Indicator(1)}, kSecret, &carol_);
  const std::string secret = std::string("/api/collections/") + kSecret + "/";
  for (const std::string& path : {secret, secret + "objects/", secret + "manifest/",
                                  secret + "objects/" + IndicatorId(1) + "/",
                                  secret + "objects/" + IndicatorId(1) + "/versions/"}) {
    Result<Response> r = Get(path, publisher_ /* publisher, but no grant on the secret one */);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << path;
  }
  Result<Response> post = Post(secret + "objects/", publisher_, Envelope({Indicator(2)}));
  EXPECT_EQ(post.status().code(), StatusCode::kNotFound);
  Result<Response> del =
      service_->Handle(Make("DELETE", secret + "objects/" + IndicatorId(1) + "/", publisher_));
  EXPECT_EQ(del.status().code(), StatusCode::kNotFound);

  // The message for a hidden collection is the same as for one that does not exist.
  Result<Response> hidden = Get(secret, nobody_);
  Result<Response> missing = Get("/api/collections/00000000-0000-4000-8000-000000000000/", nobody_);
  ASSERT_FALSE(hidden.ok());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(hidden.status().code(), missing.status().code());
  std::string a = hidden.status().message(), b = missing.status().message();
  EXPECT_EQ(a.substr(0, a.find('\'')), b.substr(0, b.find('\'')));
}

TEST_F(TaxiiServiceTest, WriteOnlyUserMayPostButNotRead) {
  Result<Response> r = Post(ObjectsPath(kDropBox), dropper_, Envelope({Indicator(1)}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 202);
  Result<Response> get = Get(ObjectsPath(kDropBox), dropper_);
  EXPECT_EQ(get.status().code(), StatusCode::kPermissionDenied);
  Result<Response> manifest =
      Get(std::string("/api/collections/") + kDropBox + "/manifest/", dropper_);
  EXPECT_EQ(manifest.status().code(), StatusCode::kPermissionDenied);
  // Delete needs both read and write (TAXII 2.1 section 5.7 table): 403.
  Result<Response> del =
      service_->Handle(Make("DELETE", ObjectsPath(kDropBox) + IndicatorId(1) + "/", dropper_));
  EXPECT_EQ(del.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(TaxiiServiceTest, StatusOfAnotherUserIsNotFound) {
  Result<Response> r = Post(ObjectsPath(), publisher_, Envelope({Indicator(1)}));
  ASSERT_TRUE(r.ok());
  Json j = ParseBody(r->body);
  const std::string status_path = std::string("/api/status/") + Str(j.root(), "id") + "/";

  Result<Response> other = Get(status_path, reader_);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kNotFound);
  // Not in another API root either.
  Result<Response> wrong_root = Get("/second/status/" + Str(j.root(), "id") + "/", publisher_);
  EXPECT_EQ(wrong_root.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Get("/api/status/not-a-uuid/", admin_).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Get("/api/status/2d086da7-4bdc-4f91-900e-d77486753710/", admin_).status().code(),
            StatusCode::kNotFound);

  Result<Response> own = Get(status_path, publisher_);
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  EXPECT_EQ(own->body, r->body);
  Result<Response> admin = Get(status_path, admin_);
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(admin->body, r->body);
}

TEST_F(TaxiiServiceTest, PostWithWrongContentTypeIs415) {
  for (const char* type : {"application/json", "application/stix+json;version=2.1",
                           "application/taxii+json;version=2.0", ""}) {
    Result<Response> r = Post(ObjectsPath(), publisher_, Envelope({Indicator(1)}), type);
    ASSERT_FALSE(r.ok()) << type;
    EXPECT_EQ(r.status().code(), StatusCode::kUnsupportedMediaType) << type;
  }
  // Without a version, application/taxii+json means the latest version: 2.1.
  Result<Response> r =
      Post(ObjectsPath(), publisher_, Envelope({Indicator(1)}), "application/taxii+json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 202);
}

TEST_F(TaxiiServiceTest, PostBeyondMaxContentLengthIs413) {
  std::string body = Envelope({Indicator(1)});
  body.append(kMaxContentLength, ' ');
  Result<Response> r = Post(ObjectsPath(), publisher_, body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(store_->CountObjects(kDefault).value_or(-1), 0);
}

TEST_F(TaxiiServiceTest, PostOfSomethingNotAnEnvelopeIs400) {
  for (const char* body : {"", "not json", "[1,2]", "{\"objects\":5}"}) {
    Result<Response> r = Post(ObjectsPath(), publisher_, body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << body;
  }
}

TEST_F(TaxiiServiceTest, MalformedFiltersAre400) {
  Publish({Indicator(1), Indicator(2), Indicator(3)});
  for (const Query& q : {Query{{"limit", "0"}}, Query{{"limit", "-1"}}, Query{{"limit", "ten"}},
                         Query{{"added_after", "yesterday"}}, Query{{"match[version]", "all,last"}},
                         Query{{"match[type]", "indicator"}, {"match[type]", "malware"}},
                         Query{{"next", "garbage"}}}) {
    Result<Response> r = Get(ObjectsPath(), reader_, q);
    ASSERT_FALSE(r.ok()) << q[0].first << "=" << q[0].second;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << q[0].first;
  }
}

TEST_F(TaxiiServiceTest, NextFromAnotherQueryIs400) {
  Publish({Indicator(1), Indicator(2), Indicator(3)});
  Result<Response> first = Get(ObjectsPath(), reader_, {{"limit", "1"}});
  ASSERT_TRUE(first.ok());
  Json j = ParseBody(first->body);
  const std::string next = Str(j.root(), "next");
  ASSERT_NE(next, "<absent>");
  // Same filters: fine. Other filters, or the manifest endpoint: refused.
  EXPECT_TRUE(Get(ObjectsPath(), reader_, {{"limit", "1"}, {"next", next}}).ok());
  EXPECT_EQ(
      Get(ObjectsPath(), reader_, {{"next", next}, {"match[type]", "indicator"}}).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(
      Get(std::string("/api/collections/") + kDefault + "/manifest/", reader_, {{"next", next}})
          .status()
          .code(),
      StatusCode::kInvalidArgument);
}

TEST_F(TaxiiServiceTest, UnknownObjectIs404) {
  Publish({Indicator(1)});
  EXPECT_EQ(Get(ObjectsPath() + IndicatorId(2) + "/", reader_).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(Get(ObjectsPath() + "not-an-id/", reader_).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Get(ObjectsPath() + IndicatorId(2) + "/versions/", reader_).status().code(),
            StatusCode::kNotFound);
  Result<Response> del =
      service_->Handle(Make("DELETE", ObjectsPath() + IndicatorId(2) + "/", publisher_));
  EXPECT_EQ(del.status().code(), StatusCode::kNotFound);
}

TEST_F(TaxiiServiceTest, ReaderMayNotDelete) {
  Publish({Indicator(1)});
  Result<Response> del =
      service_->Handle(Make("DELETE", ObjectsPath() + IndicatorId(1) + "/", reader_));
  EXPECT_EQ(del.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->CountObjects(kDefault).value_or(-1), 1);
}

// =============================================================================================
// Endpoints

TEST_F(TaxiiServiceTest, DiscoveryListsApiRootsAsAbsoluteUrls) {
  Result<Response> r = Get("/taxii2/", reader_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->content_type, "application/taxii+json;version=2.1");
  Json j = ParseBody(r->body);
  EXPECT_EQ(Str(j.root(), "title"), "Liaison");
  EXPECT_EQ(Str(j.root(), "default"), "https://hub.example:8443/api/");
  stix::JsonValue roots = Member(j.root(), "api_roots");
  ASSERT_EQ(roots.size(), 2u);
  std::vector<std::string> urls;
  for (stix::JsonValue v : roots) urls.emplace_back(v.string_value());
  EXPECT_EQ(urls, (std::vector<std::string>{"https://hub.example:8443/api/",
                                            "https://hub.example:8443/second/"}));

  // Plain HTTP, and a hostile Host header (relative URLs then).
  Request plain = Make("GET", "/taxii2", reader_);
  plain.tls = false;
  plain.host = "127.0.0.1:8080";
  r = service_->Handle(plain);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Str(ParseBody(r->body).root(), "default"), "http://127.0.0.1:8080/api/");
  plain.host = "evil.example/\"><script>";
  r = service_->Handle(plain);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Str(ParseBody(r->body).root(), "default"), "/api/");
}

TEST_F(TaxiiServiceTest, DiscoveryWithoutApiRootsHasNoDefault) {
  auto empty = storage::memory::MemoryStore::Create();
  ServiceOptions options;
  options.title = "Empty hub";
  options.description = "Nothing here";
  options.contact = "soc@example.com";
  Service service(*empty, clock_, options);
  Result<Response> r = service.Handle(Make("GET", "/taxii2/", reader_));
  ASSERT_TRUE(r.ok());
  Json j = ParseBody(r->body);
  EXPECT_EQ(Str(j.root(), "title"), "Empty hub");
  EXPECT_EQ(Str(j.root(), "description"), "Nothing here");
  EXPECT_EQ(Str(j.root(), "contact"), "soc@example.com");
  EXPECT_FALSE(j.root().Has("default"));
  EXPECT_FALSE(j.root().Has("api_roots"));
}

TEST_F(TaxiiServiceTest, ApiRootInformation) {
  Result<Response> r = Get("/api/", reader_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Json j = ParseBody(r->body);
  EXPECT_EQ(Str(j.root(), "title"), "Trust group");
  EXPECT_EQ(Str(j.root(), "description"), "The default API root");
  EXPECT_EQ(Int(j.root(), "max_content_length"), kMaxContentLength);
  stix::JsonValue versions = Member(j.root(), "versions");
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ((*versions.begin()).string_value(), "application/taxii+json;version=2.1");
  EXPECT_EQ(Get("/nope/", reader_).status().code(), StatusCode::kNotFound);
}

TEST_F(TaxiiServiceTest, CollectionsListsOnlyWhatThePrincipalMayUse) {
  auto ids_of = [&](const policy::Principal& who) {
    Result<Response> r = Get("/api/collections/", who);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> ids;
    if (!r.ok()) return ids;
    Json j = ParseBody(r->body);
    stix::JsonValue list;
    if (!j.root().Find("collections", &list)) return ids;
    for (stix::JsonValue c : list) {
      ids.push_back(Str(c, "id") + (Member(c, "can_read").bool_value() ? " r" : " -") +
                    (Member(c, "can_write").bool_value() ? "w" : "-"));
    }
    return ids;
  };
  EXPECT_EQ(ids_of(reader_), (std::vector<std::string>{std::string(kDefault) + " r-"}));
  EXPECT_EQ(ids_of(publisher_), (std::vector<std::string>{std::string(kDefault) + " rw"}));
  EXPECT_EQ(ids_of(carol_), (std::vector<std::string>{std::string(kDefault) + " r-",
                                                      std::string(kSecret) + " rw"}));
  EXPECT_EQ(ids_of(dropper_), (std::vector<std::string>{std::string(kDefault) + " r-",
                                                        std::string(kDropBox) + " -w"}));
  EXPECT_EQ(ids_of(admin_).size(), 3u);

  // No visible collection: an empty object (TAXII 2.1 section 5.1.1).
  Result<Response> none = Get("/second/collections/", admin_);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->body, "{}");
}

TEST_F(TaxiiServiceTest, CollectionByIdOrAlias) {
  for (const char* key : {kDefault, "default"}) {
    Result<Response> r = Get(std::string("/api/collections/") + key + "/", reader_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    Json j = ParseBody(r->body);
    EXPECT_EQ(Str(j.root(), "id"), kDefault);
    EXPECT_EQ(Str(j.root(), "title"), "Default");
    EXPECT_EQ(Str(j.root(), "alias"), "default");
    EXPECT_TRUE(Member(j.root(), "can_read").bool_value());
    EXPECT_FALSE(Member(j.root(), "can_write").bool_value());
    stix::JsonValue media = Member(j.root(), "media_types");
    ASSERT_EQ(media.size(), 1u);
    EXPECT_EQ((*media.begin()).string_value(), "application/stix+json;version=2.1");
  }
  // Objects through the alias too.
  Publish({Indicator(1)});
  Result<Response> objects = Get("/api/collections/default/objects/", reader_);
  ASSERT_TRUE(objects.ok());
  EXPECT_EQ(Ids(objects->body), (std::vector<std::string>{IndicatorId(1)}));
}

TEST_F(TaxiiServiceTest, AddObjectsReportsSuccessesAndFailures) {
  const std::string bad_missing_pattern =
      R"({"type":"indicator","spec_version":"2.1","id":")" + IndicatorId(9) +
      R"(","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z"})";
  clock_.Set(1700000000123456);
  Result<Response> r =
      Post(ObjectsPath(), publisher_, Envelope({Indicator(1), bad_missing_pattern, Malware(2)}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 202);
  EXPECT_EQ(r->content_type, "application/taxii+json;version=2.1");
  Json j = ParseBody(r->body);
  EXPECT_EQ(Str(j.root(), "status"), "complete");
  EXPECT_EQ(Str(j.root(), "request_timestamp"), "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(Int(j.root(), "total_count"), 3);
  EXPECT_EQ(Int(j.root(), "success_count"), 2);
  EXPECT_EQ(Int(j.root(), "failure_count"), 1);
  EXPECT_EQ(Int(j.root(), "pending_count"), 0);
  EXPECT_FALSE(j.root().Has("pendings"));
  stix::JsonValue failures = Member(j.root(), "failures");
  ASSERT_EQ(failures.size(), 1u);
  stix::JsonValue failure = *failures.begin();
  EXPECT_EQ(Str(failure, "id"), IndicatorId(9));
  EXPECT_EQ(Str(failure, "version"), "2020-01-01T00:00:00.000Z");
  EXPECT_NE(Str(failure, "message").find("pattern"), std::string::npos) << Str(failure, "message");
  stix::JsonValue successes = Member(j.root(), "successes");
  ASSERT_EQ(successes.size(), 2u);
  EXPECT_EQ(Str(*successes.begin(), "id"), IndicatorId(1));
  EXPECT_EQ(Str(*successes.begin(), "version"), "2020-01-01T00:00:00.000Z");

  EXPECT_EQ(store_->CountObjects(kDefault).value_or(-1), 2);

  // Posting the same objects again is not an error (TAXII 2.1 section 5.5).
  r = Post(ObjectsPath(), publisher_, Envelope({Indicator(1), Malware(2)}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Int(ParseBody(r->body).root(), "success_count"), 2);
  EXPECT_EQ(store_->CountObjects(kDefault).value_or(-1), 2);
}

TEST_F(TaxiiServiceTest, IndicatorsWithInvalidStixPatternsAreFailures) {
  std::string bad = Indicator(5);
  const std::string good_pattern = "[ipv4-addr:value = '10.0.0.1']";
  bad.replace(bad.find(good_pattern), good_pattern.size(), "[this is not a pattern");
  Result<Response> r = Post(ObjectsPath(), publisher_, Envelope({bad, Indicator(6)}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Json j = ParseBody(r->body);
  EXPECT_EQ(Int(j.root(), "success_count"), 1);
  EXPECT_EQ(Int(j.root(), "failure_count"), 1);
  stix::JsonValue failure = *Member(j.root(), "failures").begin();
  EXPECT_EQ(Str(failure, "id"), IndicatorId(5));
  EXPECT_EQ(Str(failure, "version"), "2020-01-01T00:00:00.000Z");
  EXPECT_NE(Str(failure, "message").find("pattern"), std::string::npos);
  EXPECT_EQ(Ids(Get(ObjectsPath(), reader_)->body), (std::vector<std::string>{IndicatorId(6)}));
}

TEST_F(TaxiiServiceTest, AddObjectsNamesUnreadableObjectsByPosition) {
  Result<Response> r = Post(ObjectsPath(), publisher_, R"({"objects":[5, {"type":"indicator"}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Json j = ParseBody(r->body);
  EXPECT_EQ(Int(j.root(), "failure_count"), 2);
  EXPECT_EQ(Int(j.root(), "success_count"), 0);
  stix::JsonValue failures = Member(j.root(), "failures");
  EXPECT_EQ(Str(*failures.begin(), "id"), "objects[0]");
}

TEST_F(TaxiiServiceTest, EmptyEnvelopeIsACompleteEmptyStatus) {
  Result<Response> r = Post(ObjectsPath(), publisher_, R"({"objects":[]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Json j = ParseBody(r->body);
  EXPECT_EQ(Int(j.root(), "total_count"), 0);
  EXPECT_EQ(Str(j.root(), "status"), "complete");
}

TEST_F(TaxiiServiceTest, GetObjectsSplicesStoredBytesAndSetsHeaders) {
  clock_.Set(1700000000000000);
  Publish({Indicator(1), Malware(2)});
  Result<Response> r = Get(ObjectsPath(), reader_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->content_type, "application/taxii+json;version=2.1");
  EXPECT_EQ(r->body, R"({"more":false,"objects":[)" + Indicator(1) + "," + Malware(2) + "]}");
  EXPECT_EQ(Header(*r, "X-TAXII-Date-Added-First"), "2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(Header(*r, "X-TAXII-Date-Added-Last"), "2023-11-14T22:13:20.000001Z");

  // HEAD is GET without a body (http/ drops it).
  Result<Response> head = service_->Handle(Make("HEAD", ObjectsPath(), reader_));
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->status, 200);
}

TEST_F(TaxiiServiceTest, EmptyResultsAre200WithAnEmptyObject) {
  for (const std::string& path :
       {ObjectsPath(), std::string("/api/collections/") + kDefault + "/manifest/"}) {
    Result<Response> r = Get(path, reader_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "{}");
    EXPECT_EQ(Header(*r, "X-TAXII-Date-Added-First"), "");
  }
  Publish({Indicator(1)});
  Result<Response> r = Get(ObjectsPath(), reader_, {{"match[type]", "malware"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "{}");
}

TEST_F(TaxiiServiceTest, FiltersByTypeAndId) {
  Publish({Indicator(1), Malware(2), Indicator(3), Malware(4)});
  auto ids = [&](Query q) {
    Result<Response> r = Get(ObjectsPath(), reader_, std::move(q));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? Ids(r->body) : std::vector<std::string>{};
  };
  EXPECT_EQ(ids({{"match[type]", "indicator"}}),
            (std::vector<std::string>{IndicatorId(1), IndicatorId(3)}));
  EXPECT_EQ(ids({{"match[type]", "malware,indicator"}}).size(), 4u);
  EXPECT_EQ(ids({{"match[id]", IndicatorId(3) + ",malware--" + Uuid(2)}}),
            (std::vector<std::string>{"malware--" + Uuid(2), IndicatorId(3)}));
  EXPECT_EQ(ids({{"match[id]", IndicatorId(3)}, {"match[type]", "malware"}}),
            std::vector<std::string>{});
  EXPECT_EQ(ids({{"match[spec_version]", "2.1"}}).size(), 4u);
  EXPECT_EQ(ids({{"match[spec_version]", "2.0"}}), std::vector<std::string>{});
  EXPECT_EQ(ids({{"match[spec_version]", "2.0,2.1"}}).size(), 4u);
  EXPECT_EQ(ids({{"match[color]", "blue"}}).size(), 4u);  // unknown match fields are ignored
}

class VersionedTest : public TaxiiServiceTest {
 protected:
  void SetUp() override {
    TaxiiServiceTest::SetUp();
    // Three versions of indicator 1 (posted newest first, so date_added and version orders
    // differ), one version of indicator 2.
    Publish({Indicator(1, "2020-03-01T00:00:00.000Z")});
    Publish({Indicator(1, "2020-01-01T00:00:00.000Z"), Indicator(2)});
    Publish({Indicator(1, "2020-02-01T00:00:00.123456Z")});
  }

  std::vector<std::string> Modified(const Result<Response>& r) {
    std::vector<std::string> out;
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return out;
    Json j = ParseBody(r->body);
    stix::JsonValue objects;
    if (!j.root().Find("objects", &objects)) return out;
    for (stix::JsonValue o : objects)
      out.push_back(Str(o, "id").substr(0, 12) + Str(o, "modified"));
    return out;
  }
};

TEST_F(VersionedTest, MatchVersion) {
  const std::string one = IndicatorId(1).substr(0, 12);
  auto get = [&](Query q) {
    return Modified(Get(ObjectsPath() + IndicatorId(1) + "/", reader_, q));
  };
  EXPECT_EQ(get({}), (std::vector<std::string>{one + "2020-03-01T00:00:00.000Z"}));
  EXPECT_EQ(get({{"match[version]", "last"}}),
            (std::vector<std::string>{one + "2020-03-01T00:00:00.000Z"}));
  EXPECT_EQ(get({{"match[version]", "first"}}),
            (std::vector<std::string>{one + "2020-01-01T00:00:00.000Z"}));
  EXPECT_EQ(get({{"match[version]", "all"}}).size(), 3u);
  EXPECT_EQ(get({{"match[version]", "first,last"}}).size(), 2u);
  EXPECT_EQ(get({{"match[version]", "2020-02-01T00:00:00.123456Z"}}),
            (std::vector<std::string>{one + "2020-02-01T00:00:00.123456Z"}));
  // A version the object does not have: an empty envelope, not 404 (the object exists).
  Result<Response> none = Get(ObjectsPath() + IndicatorId(1) + "/", reader_,
                              {{"match[version]", "2019-01-01T00:00:00Z"}});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->body, "{}");

  // On the objects endpoint: last of each by default, everything with all.
  EXPECT_EQ(Modified(Get(ObjectsPath(), reader_)).size(), 2u);
  EXPECT_EQ(Modified(Get(ObjectsPath(), reader_, {{"match[version]", "all"}})).size(), 4u);
}

TEST_F(VersionedTest, VersionsEndpointPagesInDateAddedOrder) {
  const std::string path = ObjectsPath() + IndicatorId(1) + "/versions/";
  Result<Response> all = Get(path, reader_);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  Json j = ParseBody(all->body);
  EXPECT_FALSE(Member(j.root(), "more").bool_value());
  std::vector<std::string> versions;
  for (stix::JsonValue v : Member(j.root(), "versions")) versions.emplace_back(v.string_value());
  EXPECT_EQ(versions,
            (std::vector<std::string>{"2020-03-01T00:00:00.000Z", "2020-01-01T00:00:00.000Z",
                                      "2020-02-01T00:00:00.123456Z"}));
  EXPECT_NE(Header(*all, "X-TAXII-Date-Added-First"), "");

  std::vector<std::string> paged;
  Query q = {{"limit", "2"}};
  for (int pages = 0; pages < 5; ++pages) {
    Result<Response> r = Get(path, reader_, q);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    Json page = ParseBody(r->body);
    for (stix::JsonValue v : Member(page.root(), "versions")) paged.emplace_back(v.string_value());
    if (!Member(page.root(), "more").bool_value()) break;
    q = {{"limit", "2"}, {"next", Str(page.root(), "next")}};
  }
  EXPECT_EQ(paged, versions);
}

TEST_F(VersionedTest, ManifestDescribesVersions) {
  Result<Response> r = Get(std::string("/api/collections/") + kDefault + "/manifest/", reader_,
                           {{"match[version]", "all"}, {"match[id]", IndicatorId(1)}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Json j = ParseBody(r->body);
  stix::JsonValue records = Member(j.root(), "objects");
  ASSERT_EQ(records.size(), 3u);
  stix::JsonValue first = *records.begin();
  EXPECT_EQ(Str(first, "id"), IndicatorId(1));
  EXPECT_EQ(Str(first, "version"), "2020-03-01T00:00:00.000Z");
  EXPECT_EQ(Str(first, "media_type"), "application/stix+json;version=2.1");
  EXPECT_EQ(Str(first, "date_added").size(), std::string("2023-11-14T22:13:20.000000Z").size());
  EXPECT_EQ(Str(first, "date_added"), Header(*r, "X-TAXII-Date-Added-First"));
  EXPECT_FALSE(first.Has("type"));  // metadata only
}

TEST_F(VersionedTest, DeleteSelectedVersions) {
  const std::string path = ObjectsPath() + IndicatorId(1) + "/";
  Request del = Make("DELETE", path, publisher_, {{"match[version]", "first"}});
  Result<Response> r = service_->Handle(del);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Modified(Get(path, reader_, {{"match[version]", "all"}})).size(), 2u);

  r = service_->Handle(Make("DELETE", path, publisher_));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // TAXII 2.1 section 5.7: after a successful delete, fetching the object is 404.
  EXPECT_EQ(Get(path, reader_).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Ids(Get(ObjectsPath(), reader_)->body), (std::vector<std::string>{IndicatorId(2)}));
}

TEST_F(TaxiiServiceTest, AddedAfterIsExclusive) {
  clock_.Set(1700000000000000);
  Publish({Indicator(1)});
  clock_.Set(1700000001000000);
  Publish({Indicator(2)});
  auto ids = [&](const char* after) {
    Result<Response> r = Get(ObjectsPath(), reader_, {{"added_after", after}});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? Ids(r->body) : std::vector<std::string>{};
  };
  EXPECT_EQ(ids("2023-11-14T22:13:19.999999Z").size(), 2u);
  EXPECT_EQ(ids("2023-11-14T22:13:20.000000Z"), (std::vector<std::string>{IndicatorId(2)}));
  EXPECT_EQ(ids("2023-11-14T22:13:20.5Z"), (std::vector<std::string>{IndicatorId(2)}));
  EXPECT_EQ(ids("2023-11-14T22:13:21Z"), std::vector<std::string>{});
}

TEST_F(TaxiiServiceTest, LimitAboveTheMaximumIsLowered) {
  ServiceOptions options;
  options.default_page_size = 3;
  options.max_page_size = 5;
  Service small(*store_, clock_, options);
  std::vector<std::string> objects;
  for (int i = 0; i < 8; ++i) objects.push_back(Indicator(i));
  Publish(objects);

  Request r = Make("GET", ObjectsPath(), reader_, {{"limit", "1000"}});
  Result<Response> big = small.Handle(r);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(Ids(big->body).size(), 5u);
  Json j = ParseBody(big->body);
  EXPECT_TRUE(Member(j.root(), "more").bool_value());
  EXPECT_NE(Str(j.root(), "next"), "<absent>");

  r.query = {};
  Result<Response> dflt = small.Handle(r);
  ASSERT_TRUE(dflt.ok());
  EXPECT_EQ(Ids(dflt->body).size(), 3u);
}

// Pages through 10,000 objects with limit and next, then with added_after from the
// X-TAXII-Date-Added-Last header: every object exactly once, in order.
TEST_F(TaxiiServiceTest, PagingThroughTenThousandObjectsSkipsAndRepeatsNothing) {
  constexpr int kObjects = 10000;
  std::vector<std::string> batch;
  for (int i = 0; i < kObjects; ++i) {
    batch.push_back(Indicator(i));
    if (batch.size() == 1000) {
      Publish(batch);
      batch.clear();
      clock_.Advance(1000);
    }
  }
  ASSERT_EQ(store_->CountObjects(kDefault).value_or(-1), kObjects);

  // With next.
  std::vector<std::string> seen;
  Query q = {{"limit", "333"}};
  int pages = 0;
  while (true) {
    Result<Response> r = Get(ObjectsPath(), reader_, q);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ++pages;
    ASSERT_LT(pages, 100);
    std::vector<std::string> ids = Ids(r->body);
    ASSERT_LE(ids.size(), 333u);
    seen.insert(seen.end(), ids.begin(), ids.end());
    Json j = ParseBody(r->body);
    if (!j.root().Has("more") || !Member(j.root(), "more").bool_value()) break;
    q = {{"limit", "333"}, {"next", Str(j.root(), "next")}};
  }
  ASSERT_EQ(seen.size(), static_cast<size_t>(kObjects));
  for (int i = 0; i < kObjects; ++i) ASSERT_EQ(seen[i], IndicatorId(i)) << i;
  EXPECT_EQ(pages, (kObjects + 332) / 333);

  // With added_after (TAXII 2.1 section 3.5's other way to page), on the manifest endpoint.
  std::vector<std::string> via_added_after;
  q = {{"limit", "1000"}};
  std::set<std::string> dates;
  while (true) {
    Result<Response> r =
        Get(std::string("/api/collections/") + kDefault + "/manifest/", reader_, q);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> ids = Ids(r->body);
    if (ids.empty()) break;
    via_added_after.insert(via_added_after.end(), ids.begin(), ids.end());
    const std::string last = Header(*r, "X-TAXII-Date-Added-Last");
    ASSERT_TRUE(dates.insert(last).second) << "page boundary repeated: " << last;
    q = {{"limit", "1000"}, {"added_after", last}};
  }
  EXPECT_EQ(via_added_after, seen);
}

TEST_F(TaxiiServiceTest, ConcurrentRequestsAreSafe) {
  constexpr int kThreads = 4;
  constexpr int kPostsPerThread = 25;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPostsPerThread; ++i) {
        int n = t * 1000 + i;
        Result<Response> post = Post(ObjectsPath(), publisher_, Envelope({Indicator(n)}));
        if (!post.ok() || post->status != 202) ++failures[t];
        Result<Response> get = Get(ObjectsPath(), reader_, {{"limit", "10"}});
        if (!get.ok() || get->status != 200) ++failures[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0);
  EXPECT_EQ(store_->CountObjects(kDefault).value_or(-1), kThreads * kPostsPerThread);
}

TEST_F(TaxiiServiceTest, MaxContentLengthOfTheTargetsApiRoot) {
  Result<int64_t> max = service_->MaxContentLength(ObjectsPath());
  ASSERT_TRUE(max.ok()) << max.status().ToString();
  EXPECT_EQ(*max, kMaxContentLength);
  EXPECT_EQ(service_->MaxContentLength("/nope/collections/x/objects/").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(service_->MaxContentLength("/taxii2/").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->MaxContentLength("garbage").status().code(), StatusCode::kNotFound);
}

TEST_F(TaxiiServiceTest, ErrorMessagesCarryOnlyPrintableText) {
  Result<Response> r = Get("/%ff%c3%28/", admin_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  const std::string path_message = r.status().message();
  EXPECT_NE(path_message.find("'?"
                              "?('"),
            std::string::npos)
      << path_message;
  for (char c : path_message) EXPECT_TRUE(c >= 0x20 && c <= 0x7e) << path_message;

  r = Get(ObjectsPath(), reader_, {{"match[type]", "\x01\xff"}});
  ASSERT_FALSE(r.ok());
  const std::string filter_message = r.status().message();
  for (char c : filter_message) EXPECT_TRUE(c >= 0x20 && c <= 0x7e) << filter_message;
}

// A store that fails on demand (storage/store_wrapper.h).
class FaultyStore : public storage::StoreWrapper {
 public:
  using StoreWrapper::StoreWrapper;
  Result<storage::ObjectPage> QueryObjects(const storage::ObjectQuery& q) override {
    if (fail_queries) return UnavailableError("injected: database busy");
    return StoreWrapper::QueryObjects(q);
  }
  Result<std::vector<storage::Grant>> ListGrants(const std::string& collection) override {
    if (fail_grants) return UnavailableError("injected: grants unavailable");
    return StoreWrapper::ListGrants(collection);
  }
  Result<storage::AddObjectsResult> AddObjects(const storage::AddObjectsRequest& r,
                                               int64_t now) override {
    status_ids.push_back(r.status.id);
    if (status_id_collisions > 0) {
      --status_id_collisions;
      return AlreadyExistsError("injected: status id taken");
    }
    if (fail_adds) return UnavailableError("injected: disk full");
    return StoreWrapper::AddObjects(r, now);
  }
  bool fail_queries = false;
  bool fail_grants = false;
  bool fail_adds = false;
  int status_id_collisions = 0;
  std::vector<std::string> status_ids;
};

TEST_F(TaxiiServiceTest, StoreFailuresPassThroughAndCommitNothing) {
  FaultyStore faulty(*store_);
  Service service(faulty, clock_, ServiceOptions{});
  Request get = Make("GET", ObjectsPath(), reader_);

  faulty.fail_queries = true;
  EXPECT_EQ(service.Handle(get).status().code(), StatusCode::kUnavailable);
  faulty.fail_queries = false;

  // A grant lookup that fails is an outage (503), not "no such collection" (404).
  faulty.fail_grants = true;
  EXPECT_EQ(service.Handle(get).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(service.Handle(Make("GET", "/api/collections/", reader_)).status().code(),
            StatusCode::kUnavailable);
  faulty.fail_grants = false;

  faulty.fail_adds = true;
  Request post = Make("POST", ObjectsPath(), publisher_);
  post.content_type = "application/taxii+json;version=2.1";
  post.body = Envelope({Indicator(1)});
  EXPECT_EQ(service.Handle(post).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store_->CountObjects(kDefault).value_or(-1), 0);
  ASSERT_EQ(faulty.status_ids.size(), 1u);
  EXPECT_EQ(Get("/api/status/" + faulty.status_ids[0] + "/", admin_).status().code(),
            StatusCode::kNotFound);
}

TEST_F(TaxiiServiceTest, StatusIdCollisionIsRetriedWithAFreshId) {
  FaultyStore faulty(*store_);
  faulty.status_id_collisions = 2;
  Service service(faulty, clock_, ServiceOptions{});
  Request post = Make("POST", ObjectsPath(), publisher_);
  post.content_type = "application/taxii+json;version=2.1";
  post.body = Envelope({Indicator(1)});
  Result<Response> r = service.Handle(post);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 202);
  ASSERT_EQ(faulty.status_ids.size(), 3u);
  EXPECT_NE(faulty.status_ids[0], faulty.status_ids[1]);
  EXPECT_NE(faulty.status_ids[1], faulty.status_ids[2]);
  EXPECT_EQ(Str(ParseBody(r->body).root(), "id"), faulty.status_ids[2]);
}

TEST_F(TaxiiServiceTest, StatusIdsAreRandomUuids) {
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    Result<Response> r = Post(ObjectsPath(), publisher_, Envelope({Indicator(i)}));
    ASSERT_TRUE(r.ok());
    const std::string id = Str(ParseBody(r->body).root(), "id");
    ASSERT_EQ(id.size(), 36u) << id;
    EXPECT_EQ(id[14], '4') << id;                                          // version 4
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // RFC 4122 variant
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 20u);
}

TEST_F(TaxiiServiceTest, OwnsPath) {
  EXPECT_TRUE(service_->OwnsPath("/taxii2/"));
  EXPECT_TRUE(service_->OwnsPath("/taxii2"));
  EXPECT_TRUE(service_->OwnsPath("/api/"));
  EXPECT_TRUE(service_->OwnsPath("/api/collections/x/objects/"));
  EXPECT_TRUE(service_->OwnsPath("/second/"));
  EXPECT_FALSE(service_->OwnsPath("/"));
  EXPECT_FALSE(service_->OwnsPath("/ui/index.html"));
  EXPECT_FALSE(service_->OwnsPath("/healthz"));
  EXPECT_FALSE(service_->OwnsPath("relative"));
}

}  // namespace
}  // namespace liaison::taxii

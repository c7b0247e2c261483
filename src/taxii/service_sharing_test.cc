// taxii::Service with SharingHooks: every path calls the hooks (POST: PrepareAdd, Committed; GET
// objects/object/versions/manifest: ReadFilter; DELETE: only visible versions), and paging over
// hidden objects stays exact.

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

#include "stix/json_codec.h"
#include "storage/memory/memory_store.h"
#include "storage/store_wrapper.h"
#include "taxii/service.h"

namespace liaison::taxii {
namespace {

using Query = std::vector<std::pair<std::string, std::string>>;

constexpr char kRoot[] = "api";
constexpr char kCollection[] = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";

std::string Uuid(int n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-0000-4000-8000-%012x", n, n);
  return buf;
}

std::string MalwareId(int n) { return "malware--" + Uuid(n); }

std::string Malware(int n, const std::string& modified = "2020-01-01T00:00:00.000Z") {
  return R"({"type":"malware","spec_version":"2.1","id":")" + MalwareId(n) +
         R"(","created":"2020-01-01T00:00:00.000Z","modified":")" + modified + R"(","name":"m)" +
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

policy::Principal Who(std::string user, storage::Role role) {
  policy::Principal p;
  p.user = std::move(user);
  p.role = role;
  p.authenticated = true;
  p.method = "basic";
  return p;
}

struct Body {
  stix::JsonTree tree;
  bool ok = false;
};

Body Parse(const std::string& text) {
  Result<stix::JsonTree> t = stix::ParseJson(text);
  EXPECT_TRUE(t.ok()) << text;
  if (!t.ok()) return {};
  return Body{std::move(t).value(), true};
}

std::string Str(const stix::JsonValue& v, std::string_view key) {
  stix::JsonValue m;
  if (!v.Find(key, &m) || !m.is_string()) return "<absent>";
  return std::string(m.string_value());
}

bool More(const std::string& body) {
  Body b = Parse(body);
  stix::JsonValue m;
  return b.ok && b.tree.root().Find("more", &m) && m.is_bool() && m.bool_value();
}

// Ids (objects, manifest) or version strings (versions) of a page, in order.
std::vector<std::string> Items(const std::string& body, std::string_view list = "objects") {
  std::vector<std::string> out;
  Body b = Parse(body);
  if (!b.ok) return out;
  stix::JsonValue items;
  if (!b.tree.root().Find(list, &items)) return out;
  for (stix::JsonValue item : items) {
    out.push_back(item.is_string() ? std::string(item.string_value()) : Str(item, "id"));
  }
  return out;
}

storage::ObjectQuery AllOf(bool all_versions = false, bool metadata_only = false) {
  storage::ObjectQuery q;
  q.collection_id = kCollection;
  if (all_versions) q.version_selectors = {storage::VersionSelector::kAll};
  q.metadata_only = metadata_only;
  return q;
}

std::string Header(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

// Hooks whose decisions the test sets: `hidden` ids are invisible, Present marks the bytes it
// serves, PrepareAdd refuses `refuse` ids and labels the rest with tlp 3.
class FakeHooks final : public SharingHooks {
 public:
  class Filter final : public ReadFilter {
   public:
    explicit Filter(FakeHooks& hooks) : hooks_(hooks) {}
    bool Visible(const storage::StoredObject& object) override {
      std::lock_guard<std::mutex> lock(hooks_.mu);
      ++hooks_.visible_calls;
      if (hooks_.visible) return hooks_.visible(object);
      return hooks_.hidden.count(object.id) == 0;
    }
    Result<std::string> Present(const storage::StoredObject& object) override {
      std::lock_guard<std::mutex> lock(hooks_.mu);
      if (hooks_.present_fails) return DataLossError("cannot open " + object.id);
      // Marks the bytes: {"x_presented":true,...}
      return "{\"x_presented\":true," + object.json.substr(1);
    }

   private:
    FakeHooks& hooks_;
  };

  Result<PreparedAdd> PrepareAdd(const policy::Principal& principal,
                                 const storage::Collection& collection,
                                 std::vector<stix::ObjectInfo> objects) override {
    std::lock_guard<std::mutex> lock(mu);
    ++prepare_calls;
    last_principal = principal.user;
    last_collection = collection.id;
    if (prepare_fails) return UnavailableError("policy store down");
    PreparedAdd out;
    for (stix::ObjectInfo& info : objects) {
      if (refuse.count(info.id)) {
        out.failures.push_back({info.id, "2020-01-01T00:00:00.000Z", "refused by policy"});
        continue;
      }
      storage::NewObject o;
      o.id = info.id;
      o.type = info.type;
      o.spec_version = "2.1";
      if (info.version()) o.version = info.version()->micros;
      o.json = info.json;
      o.label.tlp = 3;
      o.label.origin = "identity--" + Uuid(1);
      out.objects.push_back(std::move(o));
    }
    return out;
  }

  void Committed(const storage::Collection& collection,
                 const storage::AddObjectsResult& result) override {
    std::lock_guard<std::mutex> lock(mu);
    ++committed_calls;
    last_collection = collection.id;
    committed_added += result.added;
  }

  std::unique_ptr<ReadFilter> ForReader(const policy::Principal& principal,
                                        const storage::Collection&) override {
    std::lock_guard<std::mutex> lock(mu);
    ++reader_calls;
    last_principal = principal.user;
    return std::make_unique<Filter>(*this);
  }

  std::mutex mu;
  std::set<std::string> hidden, refuse;
  std::function<bool(const storage::StoredObject&)> visible;
  bool prepare_fails = false;
  bool present_fails = false;
  int prepare_calls = 0, committed_calls = 0, reader_calls = 0;
  size_t committed_added = 0;
  int64_t visible_calls = 0;
  std::string last_principal, last_collection;
};

// Records what AddObjects was asked to store.
class RecordingStore final : public storage::StoreWrapper {
 public:
  using StoreWrapper::StoreWrapper;
  Result<storage::AddObjectsResult> AddObjects(const storage::AddObjectsRequest& request,
                                               int64_t now) override {
    last = request;
    storage::AddObjectsRequest without_audit = request;
    without_audit.audit.clear();  // the audit chain is the store's business, tested there
    return StoreWrapper::AddObjects(without_audit, now);
  }
  storage::AddObjectsRequest last;
};

class SharingServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    memory_ = storage::memory::MemoryStore::Create();
    store_ = std::make_unique<RecordingStore>(*memory_);
    storage::ApiRoot root;
    root.name = kRoot;
    ASSERT_TRUE(store_->CreateApiRoot(root).ok());
    storage::Collection c;
    c.id = kCollection;
    c.api_root = kRoot;
    c.title = "Shared";
    ASSERT_TRUE(store_->CreateCollection(c).ok());
    storage::Grant g;
    g.collection_id = kCollection;
    g.subject = "role:publisher";
    g.can_read = g.can_write = true;
    ASSERT_TRUE(store_->PutGrant(g).ok());
    service_ = std::make_unique<Service>(*store_, clock_, ServiceOptions{}, &hooks_);
  }

  Result<Response> Do(const std::string& method, const std::string& target, Query q = {},
                      std::string body = "") {
    Request r;
    r.method = method;
    r.target = target;
    r.query = std::move(q);
    r.accept = "application/taxii+json;version=2.1";
    r.content_type = "application/taxii+json;version=2.1";
    r.body = std::move(body);
    r.principal = publisher_;
    return service_->Handle(r);
  }

  static std::string Objects() {
    return std::string("/api/collections/") + kCollection + "/objects/";
  }
  static std::string Manifest() {
    return std::string("/api/collections/") + kCollection + "/manifest/";
  }
  static std::string Object(const std::string& id) { return Objects() + id + "/"; }

  void Publish(const std::vector<std::string>& objects) {
    Result<Response> r = Do("POST", Objects(), {}, Envelope(objects));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 202);
  }

  // Pages through `target` with limit and next; returns the items in order and the page count.
  std::vector<std::string> PageAll(const std::string& target, size_t limit, int* pages,
                                   std::string_view list = "objects") {
    std::vector<std::string> seen;
    Query q = {{"limit", std::to_string(limit)}};
    *pages = 0;
    while (true) {
      Result<Response> r = Do("GET", target, q);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) break;
      ++*pages;
      if (*pages > 100000) {
        ADD_FAILURE() << "paging does not end";
        break;
      }
      std::vector<std::string> items = Items(r->body, list);
      EXPECT_LE(items.size(), limit);
      seen.insert(seen.end(), items.begin(), items.end());
      if (!More(r->body)) break;
      Body b = Parse(r->body);
      std::string next = Str(b.tree.root(), "next");
      EXPECT_NE(next, "<absent>") << r->body;
      if (next == "<absent>") break;
      q = {{"limit", std::to_string(limit)}, {"next", next}};
    }
    return seen;
  }

  FakeClock clock_;
  FakeHooks hooks_;
  std::unique_ptr<storage::memory::MemoryStore> memory_;
  std::unique_ptr<RecordingStore> store_;
  std::unique_ptr<Service> service_;
  policy::Principal publisher_ = Who("pat", storage::Role::kPublisher);
};

TEST_F(SharingServiceTest, PostGoesThroughPrepareAddAndCommitted) {
  hooks_.refuse = {MalwareId(2)};
  Result<Response> r =
      Do("POST", Objects(), {}, Envelope({Malware(1), Malware(2), R"({"type":"malware"})"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(hooks_.prepare_calls, 1);
  EXPECT_EQ(hooks_.committed_calls, 1);
  EXPECT_EQ(hooks_.committed_added, 1u);
  EXPECT_EQ(hooks_.last_principal, "pat");
  EXPECT_EQ(hooks_.last_collection, kCollection);
  // The invalid object and the refused one are failures; the labelled one was stored.
  Body b = Parse(r->body);
  stix::JsonValue v;
  ASSERT_TRUE(b.tree.root().Find("failure_count", &v));
  EXPECT_EQ(v.int_value(), 2);
  ASSERT_TRUE(b.tree.root().Find("success_count", &v));
  EXPECT_EQ(v.int_value(), 1);
  EXPECT_NE(r->body.find("refused by policy"), std::string::npos) << r->body;
  ASSERT_EQ(store_->last.objects.size(), 1u);
  EXPECT_EQ(store_->last.objects[0].label.tlp, 3);
  Result<storage::ObjectPage> page = memory_->QueryObjects(AllOf());
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].id, MalwareId(1));
}

TEST_F(SharingServiceTest, PrepareAddErrorFailsTheRequestAndStoresNothing) {
  hooks_.prepare_fails = true;
  Result<Response> r = Do("POST", Objects(), {}, Envelope({Malware(1)}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(hooks_.committed_calls, 0);
  EXPECT_EQ(memory_->CountObjects(kCollection).value_or(-1), 0);
}

TEST_F(SharingServiceTest, ReadsServePresentedBytesOfVisibleObjectsOnly) {
  Publish({Malware(1), Malware(2), Malware(3)});
  hooks_.hidden = {MalwareId(2)};
  Result<Response> r = Do("GET", Objects());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Items(r->body), (std::vector<std::string>{MalwareId(1), MalwareId(3)}));
  EXPECT_NE(r->body.find("\"x_presented\":true"), std::string::npos);
  EXPECT_EQ(r->body.find(MalwareId(2)), std::string::npos);

  Result<Response> m = Do("GET", Manifest());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Items(m->body), (std::vector<std::string>{MalwareId(1), MalwareId(3)}));

  // The hidden object does not exist for this reader: 404 on object and versions.
  Result<Response> one = Do("GET", Object(MalwareId(2)));
  ASSERT_FALSE(one.ok());
  EXPECT_EQ(one.status().code(), StatusCode::kNotFound);
  Result<Response> versions = Do("GET", Object(MalwareId(2)) + "versions/");
  ASSERT_FALSE(versions.ok());
  EXPECT_EQ(versions.status().code(), StatusCode::kNotFound);

  Result<Response> visible = Do("GET", Object(MalwareId(3)));
  ASSERT_TRUE(visible.ok());
  EXPECT_EQ(Items(visible->body), std::vector<std::string>{MalwareId(3)});
  EXPECT_NE(visible->body.find("x_presented"), std::string::npos);
}

TEST_F(SharingServiceTest, PresentFailureFailsTheRead) {
  Publish({Malware(1)});
  hooks_.present_fails = true;
  Result<Response> r = Do("GET", Objects());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  // The manifest serves no bytes, so it does not need Present.
  EXPECT_TRUE(Do("GET", Manifest()).ok());
}

TEST_F(SharingServiceTest, DateAddedHeadersDescribeTheReturnedObjects) {
  Publish({Malware(1)});
  clock_.Advance(1000);
  Publish({Malware(2)});
  clock_.Advance(1000);
  Publish({Malware(3)});
  hooks_.hidden = {MalwareId(1), MalwareId(3)};
  Result<Response> r = Do("GET", Objects());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(Items(r->body), std::vector<std::string>{MalwareId(2)});
  Result<storage::ObjectPage> all = memory_->QueryObjects(AllOf());
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->objects.size(), 3u);
  const std::string second = stix::FormatTimestamp(stix::Timestamp{all->objects[1].date_added}, 6);
  EXPECT_EQ(Header(*r, "X-TAXII-Date-Added-First"), second);
  EXPECT_EQ(Header(*r, "X-TAXII-Date-Added-Last"), second);

  hooks_.hidden = {MalwareId(1), MalwareId(2), MalwareId(3)};
  Result<Response> none = Do("GET", Objects());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->body, "{}");
  EXPECT_EQ(Header(*none, "X-TAXII-Date-Added-First"), "");
}

TEST_F(SharingServiceTest, ScanIsBoundedAndResumesAfterTheLastRowScanned) {
  std::vector<std::string> batch;
  for (int i = 0; i < 300; ++i) batch.push_back(Malware(i));
  Publish(batch);
  // Only the last object is visible: with limit 5 a request scans at most 100 rows, so it takes
  // several short (empty) pages with more=true to reach it.
  hooks_.hidden.clear();
  for (int i = 0; i < 299; ++i) hooks_.hidden.insert(MalwareId(i));
  int pages = 0;
  std::vector<std::string> seen = PageAll(Objects(), 5, &pages);
  EXPECT_EQ(seen, std::vector<std::string>{MalwareId(299)});
  EXPECT_EQ(pages, 3);
  EXPECT_LE(hooks_.visible_calls, 300 + 3);  // every row judged once
}

TEST_F(SharingServiceTest, DeleteRemovesOnlyVisibleVersions) {
  Publish({Malware(1, "2020-01-01T00:00:00.000Z"), Malware(1, "2021-01-01T00:00:00.000Z"),
           Malware(1, "2022-01-01T00:00:00.000Z"), Malware(2)});
  // The 2021 version of malware 1 is hidden; malware 2 entirely.
  const int64_t hidden_version = stix::ParseTimestamp("2021-01-01T00:00:00.000Z")->micros;
  hooks_.visible = [&](const storage::StoredObject& o) {
    return o.id != MalwareId(2) && o.version != hidden_version;
  };
  Result<Response> gone = Do("DELETE", Object(MalwareId(2)));
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(memory_->CountObjects(kCollection).value_or(-1), 4);

  // match[version]=last picks 2022 (visible); then "all" deletes 2020 but not the hidden 2021.
  ASSERT_TRUE(Do("DELETE", Object(MalwareId(1)), {{"match[version]", "last"}}).ok());
  EXPECT_EQ(memory_->CountObjects(kCollection).value_or(-1), 3);
  // Now "last" is the hidden 2021 version: nothing visible is selected.
  Result<Response> last = Do("DELETE", Object(MalwareId(1)), {{"match[version]", "last"}});
  ASSERT_FALSE(last.ok());
  EXPECT_EQ(last.status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(Do("DELETE", Object(MalwareId(1))).ok());
  hooks_.visible = nullptr;
  Result<storage::ObjectPage> left = memory_->QueryObjects(AllOf(true));
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->objects.size(), 2u);
  EXPECT_EQ(left->objects[0].id, MalwareId(1));
  EXPECT_EQ(left->objects[0].version, hidden_version);
  EXPECT_EQ(left->objects[1].id, MalwareId(2));
}

// Property: whatever the visibility of each object and whatever the page size, paging with next
// returns every visible object exactly once, in date_added order, and nothing hidden, on the
// objects, manifest and versions endpoints.
TEST_F(SharingServiceTest, PagingOverHiddenObjectsNeverSkipsOrRepeats) {
  constexpr int kObjects = 600;
  std::vector<std::string> batch;
  for (int i = 0; i < kObjects; ++i) {
    batch.push_back(Malware(i));
    if (batch.size() == 50) {
      Publish(batch);
      batch.clear();
    }
  }
  // Versions of one object, for the versions endpoint.
  std::vector<std::string> versions_of_one;
  for (int v = 0; v < 120; ++v) {
    char modified[40];
    std::snprintf(modified, sizeof modified, "2021-01-01T00:%02d:%02d.000Z", v / 60, v % 60);
    versions_of_one.push_back(Malware(100000, modified));
  }
  Publish(versions_of_one);

  std::mt19937 rng(20261129);
  for (int round = 0; round < 24; ++round) {
    const double p_visible = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    std::map<std::string, bool> visible_id;   // objects: by id
    std::map<int64_t, bool> visible_version;  // versions of malware 100000: by version
    std::bernoulli_distribution coin(round % 6 == 0 ? 0.02 : p_visible);
    std::vector<std::string> expected_objects;
    for (int i = 0; i < kObjects; ++i) {
      bool v = coin(rng);
      visible_id[MalwareId(i)] = v;
      if (v) expected_objects.push_back(MalwareId(i));
    }
    Result<storage::ObjectPage> all_versions =
        memory_->QueryVersions(AllOf(false, true), MalwareId(100000));
    ASSERT_TRUE(all_versions.ok());
    std::vector<std::string> expected_versions;
    for (const storage::StoredObject& o : all_versions->objects) {
      bool v = coin(rng);
      visible_version[o.version] = v;
      if (v) {
        std::string text = stix::FormatTimestamp(stix::Timestamp{o.version}, 3);
        expected_versions.push_back(text);
      }
    }
    // Malware 100000 is judged per version; the objects endpoint shows its last version.
    hooks_.visible = [&](const storage::StoredObject& o) {
      if (o.id == MalwareId(100000)) return visible_version[o.version];
      return visible_id[o.id];
    };
    if (visible_version[all_versions->objects.back().version]) {
      expected_objects.push_back(MalwareId(100000));
    }

    const size_t limit = std::uniform_int_distribution<size_t>(1, 40)(rng);
    int pages = 0;
    EXPECT_EQ(PageAll(Objects(), limit, &pages), expected_objects)
        << "round " << round << " limit " << limit;
    EXPECT_EQ(PageAll(Manifest(), limit, &pages), expected_objects)
        << "round " << round << " limit " << limit;
    if (expected_versions.empty()) {
      // No visible version: the object does not exist for this reader.
      Result<Response> r = Do("GET", Object(MalwareId(100000)) + "versions/");
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
    } else {
      EXPECT_EQ(PageAll(Object(MalwareId(100000)) + "versions/", limit, &pages, "versions"),
                expected_versions)
          << "round " << round << " limit " << limit;
    }
  }
}

}  // namespace
}  // namespace liaison::taxii

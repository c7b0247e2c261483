// Fuzz target for everything the TAXII service parses from a client: paths, query parameters,
// Accept and Content-Type headers, paging cursors and POSTed bodies, through Service::Handle over
// a MemoryStore. Any input must give a Status or a Response, never a crash.
//
// Input layout (lines separated by '\n'; missing lines are empty):
//   method, target, Accept, Content-Type, query ("k=v&k=v", not percent-decoded), then the body.
// The whole input is also fed to the header and cursor parsers on its own.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/memory/memory_store.h"
#include "taxii/cursor.h"
#include "taxii/media_type.h"
#include "taxii/service.h"

namespace {

using liaison::taxii::Request;

struct Fixture {
  Fixture() : store(liaison::storage::memory::MemoryStore::Create()) {
    liaison::storage::ApiRoot root;
    root.name = "api";
    root.title = "API";
    root.max_content_length = 64 * 1024;
    (void)store->CreateApiRoot(root);
    liaison::storage::Collection c;
    c.id = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
    c.api_root = "api";
    c.title = "Default";
    c.alias = "default";
    (void)store->CreateCollection(c);
    liaison::storage::Grant g;
    g.collection_id = c.id;
    g.subject = "role:publisher";
    g.can_read = true;
    g.can_write = true;
    (void)store->PutGrant(g);
    service =
        std::make_unique<liaison::taxii::Service>(*store, clock, liaison::taxii::ServiceOptions{});
    principal.user = "pub";
    principal.role = liaison::storage::Role::kPublisher;
    principal.authenticated = true;
  }

  liaison::FakeClock clock;
  std::unique_ptr<liaison::storage::memory::MemoryStore> store;
  std::unique_ptr<liaison::taxii::Service> service;
  liaison::policy::Principal principal;
};

std::string_view NextLine(std::string_view& rest) {
  size_t nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  return line;
}

std::vector<std::pair<std::string, std::string>> SplitQuery(std::string_view q) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view item = q.substr(0, amp);
    size_t eq = item.find('=');
    out.emplace_back(std::string(item.substr(0, eq)),
                     eq == std::string_view::npos ? "" : std::string(item.substr(eq + 1)));
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fixture = new Fixture();  // shared across inputs, like a running hub
  std::string_view input(reinterpret_cast<const char*>(data), size);

  (void)liaison::taxii::NegotiateAccept(input);
  (void)liaison::taxii::CheckRequestContentType(input);
  (void)liaison::taxii::DecodeCursor(input, "scope");

  std::string_view rest = input;
  Request r;
  r.method = std::string(NextLine(rest));
  r.target = std::string(NextLine(rest));
  r.accept = std::string(NextLine(rest));
  r.content_type = std::string(NextLine(rest));
  r.query = SplitQuery(NextLine(rest));
  r.body = std::string(rest);
  r.host = "hub.example";
  r.principal = fixture->principal;
  (void)fixture->service->OwnsPath(r.target);
  (void)fixture->service->MaxContentLength(r.target);
  liaison::Result<liaison::taxii::Response> response = fixture->service->Handle(r);
  if (response.ok() && response->status == 200 && r.method == "GET" && response->body.empty()) {
    __builtin_trap();  // every successful GET has a JSON body
  }
  return 0;
}

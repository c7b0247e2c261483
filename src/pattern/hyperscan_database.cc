#include "pattern/hyperscan_database.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>

#include <hs/hs.h>

namespace liaison::pattern {
namespace {

constexpr unsigned kBaseFlags =
    HS_FLAG_UTF8 | HS_FLAG_DOTALL | HS_FLAG_ALLOWEMPTY | HS_FLAG_SINGLEMATCH | HS_FLAG_PREFILTER;

struct ScanContext {
  void (*cb)(void*, unsigned);
  void* ctx;
};

int OnMatch(unsigned int id, unsigned long long /*from*/, unsigned long long /*to*/,
            unsigned int /*flags*/, void* context) {
  auto* sc = static_cast<ScanContext*>(context);
  sc->cb(sc->ctx, id);
  return 0;  // continue: SINGLEMATCH already limits each id to one report
}

Status FromHsError(hs_error_t err, std::string_view what) {
  std::string msg = std::string(what) + ": Hyperscan error " + std::to_string(err);
  if (err == HS_NOMEM || err == HS_SCRATCH_IN_USE) return ResourceExhaustedError(msg);
  return InternalError(msg);
}

}  // namespace

HyperscanDatabase::~HyperscanDatabase() {
  if (db_ != nullptr) hs_free_database(db_);
}

Result<CompileOutput> HyperscanDatabase::Compile(std::span<const HyperscanExpression> expressions) {
  CompileOutput out;
  // Screen each expression alone first (hs_expression_info is a parse and analysis, far cheaper
  // than a full compile), so one bad expression doesn't cost a failed multi-compile.
  std::vector<const HyperscanExpression*> accepted;
  accepted.reserve(expressions.size());
  for (const HyperscanExpression& e : expressions) {
    unsigned flags = kBaseFlags | (e.caseless ? HS_FLAG_CASELESS : 0);
    hs_expr_info_t* info = nullptr;
    hs_compile_error_t* error = nullptr;
    hs_error_t rc = hs_expression_info(e.regex.c_str(), flags, &info, &error);
    if (info != nullptr) std::free(info);
    if (error != nullptr) hs_free_compile_error(error);
    // A NUL inside the expression cannot be passed through the C string API.
    if (rc != HS_SUCCESS || e.regex.find('\0') != std::string::npos) {
      out.rejected.push_back(e.id);
    } else {
      accepted.push_back(&e);
    }
  }
  // The multi-compile can still refuse one expression (e.g. too large combined); drop it and retry.
  while (!accepted.empty()) {
    std::vector<const char*> regexes;
    std::vector<unsigned> flags;
    std::vector<unsigned> ids;
    for (const HyperscanExpression* e : accepted) {
      regexes.push_back(e->regex.c_str());
      flags.push_back(kBaseFlags | (e->caseless ? HS_FLAG_CASELESS : 0));
      ids.push_back(e->id);
    }
    hs_database_t* db = nullptr;
    hs_compile_error_t* error = nullptr;
    hs_error_t rc = hs_compile_multi(regexes.data(), flags.data(), ids.data(),
                                     static_cast<unsigned>(regexes.size()), HS_MODE_BLOCK, nullptr,
                                     &db, &error);
    if (rc == HS_SUCCESS) {
      out.database.reset(new HyperscanDatabase(db));
      return out;
    }
    int bad = error != nullptr ? error->expression : -1;
    std::string message = error != nullptr && error->message != nullptr ? error->message : "";
    if (error != nullptr) hs_free_compile_error(error);
    if (bad < 0 || static_cast<size_t>(bad) >= accepted.size()) {
      return InternalError("Hyperscan compile failed: " + message);
    }
    out.rejected.push_back(accepted[static_cast<size_t>(bad)]->id);
    accepted.erase(accepted.begin() + bad);
  }
  return out;
}

Status HyperscanDatabase::ScanImpl(std::string_view subject, HyperscanScratch& scratch,
                                   RawCallback cb, void* ctx) const {
  if (subject.size() > 0xffffffffu) return InvalidArgumentError("subject too large to scan");
  ScanContext sc{cb, ctx};
  hs_error_t rc = hs_scan(db_, subject.data(), static_cast<unsigned>(subject.size()), 0,
                          scratch.raw(), &OnMatch, &sc);
  if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) return FromHsError(rc, "hs_scan");
  return Status::Ok();
}

Result<std::string> HyperscanDatabase::Serialize() const {
  char* bytes = nullptr;
  size_t length = 0;
  hs_error_t rc = hs_serialize_database(db_, &bytes, &length);
  if (rc != HS_SUCCESS) return FromHsError(rc, "hs_serialize_database");
  std::string out(bytes, length);
  std::free(bytes);
  return out;
}

Result<std::unique_ptr<HyperscanDatabase>> HyperscanDatabase::Deserialize(std::string_view bytes) {
  hs_database_t* db = nullptr;
  hs_error_t rc = hs_deserialize_database(bytes.data(), bytes.size(), &db);
  if (rc != HS_SUCCESS) {
    return InvalidArgumentError("not a serialised Hyperscan database for this platform (error " +
                                std::to_string(rc) + ")");
  }
  return std::unique_ptr<HyperscanDatabase>(new HyperscanDatabase(db));
}

size_t HyperscanDatabase::SizeBytes() const {
  size_t size = 0;
  if (hs_database_size(db_, &size) != HS_SUCCESS) return 0;
  return size;
}

HyperscanScratch::~HyperscanScratch() {
  if (scratch_ != nullptr) hs_free_scratch(scratch_);
}

Status HyperscanScratch::Prepare(const HyperscanDatabase& db) {
  hs_error_t rc = hs_alloc_scratch(db.raw(), &scratch_);
  if (rc != HS_SUCCESS) return FromHsError(rc, "hs_alloc_scratch");
  return Status::Ok();
}

std::string LikeToRegex(std::string_view like, bool* ok) {
  *ok = like.find('\\') == std::string_view::npos;
  if (!*ok) return {};
  std::string out = "^";
  for (unsigned char c : like) {
    if (c == '%') {
      out += ".*";
    } else if (c == '_') {
      out += '.';  // one code point in UTF-8 mode
    } else if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
               (c >= 'A' && c <= 'Z')) {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  out += '$';
  return out;
}

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // ASCII runs, eight bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace liaison::pattern

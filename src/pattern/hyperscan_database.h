#pragma once

// A thin owner of Hyperscan (libhs) block-mode databases, used by the pattern index to pre-filter
// LIKE and MATCHES comparisons: one scan of an observed string against thousands of expressions
// yields the few candidate comparisons, which the evaluator then confirms exactly.
//
// Compilation is slow and pattern-dependent (milliseconds to minutes), so it happens off the hot
// path: build with Compile() on any thread, then hand the result to the reader side. A compiled
// database can be serialised (Serialize / Deserialize) to cache it across restarts.
//
// Prefilter contract: expressions are compiled so that every subject the original expression
// (PCRE2 semantics) matches is reported: regular expressions use HS_FLAG_PREFILTER (Hyperscan then
// approximates constructs it cannot run exactly, such as back-references, only ever widening the
// match set), and an expression Hyperscan refuses altogether is listed in CompileOutput::rejected
// for the caller to treat as "always a candidate". Reports may be false positives; never false
// negatives. Subjects must be valid UTF-8 (see IsValidUtf8) because expressions compile in UTF-8
// mode.
//
//   std::vector<HyperscanExpression> exprs = {{LikeToRegex("%.evil.com"), 0}, {"^a+b", 1}};
//   ASSIGN_OR_RETURN(CompileOutput out, HyperscanDatabase::Compile(exprs));
//   HyperscanScratch scratch;
//   RETURN_IF_ERROR(scratch.Prepare(*out.database));
//   RETURN_IF_ERROR(out.database->Scan("www.evil.com", scratch, [](unsigned id) { ... }));
//
// Thread-safety: a HyperscanDatabase is immutable and may be scanned from many threads at once,
// each with its own HyperscanScratch (a scratch is used by one scan at a time).

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/status.h"

struct hs_database;
struct hs_scratch;

namespace liaison::pattern {

struct HyperscanExpression {
  std::string regex;  // PCRE-syntax expression
  unsigned id = 0;    // reported on a match
  bool caseless = false;
};

class HyperscanDatabase;

struct CompileOutput {
  std::unique_ptr<HyperscanDatabase> database;  // null when no expression compiled
  std::vector<unsigned> rejected;               // ids Hyperscan refused (callers: always-candidate)
};

class HyperscanDatabase {
 public:
  ~HyperscanDatabase();
  HyperscanDatabase(const HyperscanDatabase&) = delete;
  HyperscanDatabase& operator=(const HyperscanDatabase&) = delete;

  // Compiles `expressions` into one block-mode database (flags: UTF8, DOTALL, ALLOWEMPTY,
  // SINGLEMATCH, PREFILTER; CASELESS when asked). Expressions Hyperscan cannot compile even in
  // prefilter mode are left out and listed in `rejected`. Errors: kResourceExhausted/kInternal
  // only when Hyperscan fails for reasons other than an expression (out of memory, unsupported
  // CPU).
  static Result<CompileOutput> Compile(std::span<const HyperscanExpression> expressions);

  // Calls on_match(id) for each expression reported in `subject` (at most once per id and scan).
  // Errors: kInternal when Hyperscan reports a failure (e.g. a scratch prepared for another
  // database).
  template <typename Fn>
  Status Scan(std::string_view subject, class HyperscanScratch& scratch, Fn&& on_match) const {
    return ScanImpl(subject, scratch, &CallbackThunk<Fn>, &on_match);
  }

  // The serialised database (hs_serialize_database), and back. Deserialize checks the bytes with
  // Hyperscan (kInvalidArgument when they are not a database for this platform).
  Result<std::string> Serialize() const;
  static Result<std::unique_ptr<HyperscanDatabase>> Deserialize(std::string_view bytes);

  size_t SizeBytes() const;
  hs_database* raw() const { return db_; }

 private:
  explicit HyperscanDatabase(hs_database* db) : db_(db) {}
  using RawCallback = void (*)(void* ctx, unsigned id);
  template <typename Fn>
  static void CallbackThunk(void* ctx, unsigned id) {
    (*static_cast<std::remove_reference_t<Fn>*>(ctx))(id);
  }
  Status ScanImpl(std::string_view subject, HyperscanScratch& scratch, RawCallback cb,
                  void* ctx) const;

  hs_database* db_;
};

// Per-thread working memory for scans. Prepare it for every database it will scan (one scratch
// serves several databases once prepared for each). Not thread-safe: one scan at a time.
class HyperscanScratch {
 public:
  HyperscanScratch() = default;
  ~HyperscanScratch();
  HyperscanScratch(const HyperscanScratch&) = delete;
  HyperscanScratch& operator=(const HyperscanScratch&) = delete;
  HyperscanScratch(HyperscanScratch&& other) noexcept : scratch_(other.scratch_) {
    other.scratch_ = nullptr;
  }

  // Grows the scratch so it can scan `db`. Errors: kResourceExhausted / kInternal from Hyperscan.
  Status Prepare(const HyperscanDatabase& db);

  hs_scratch* raw() const { return scratch_; }

 private:
  hs_scratch* scratch_ = nullptr;
};

// Translates a STIX LIKE pattern (STIX 2.1 Patterning section 9.5: `%` any run of characters, `_`
// exactly one character) into an anchored regular expression for a prefilter ("^a.*b.$"). Every
// other character is matched literally. Sets *ok = false (and returns "") when `like` holds a
// backslash, whose escaping rules a prefilter should not guess at: the caller then treats the
// comparison as always a candidate.
std::string LikeToRegex(std::string_view like, bool* ok);

// True when `s` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace liaison::pattern

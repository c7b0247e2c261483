#include "pattern/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <string>

namespace liaison::pattern {
namespace {

std::string PcreMessage(int code) {
  PCRE2_UCHAR buffer[256];
  int n = pcre2_get_error_message(code, buffer, sizeof(buffer));
  if (n < 0) return "error " + std::to_string(code);
  return std::string(reinterpret_cast<const char*>(buffer), static_cast<size_t>(n));
}

// One match-data block per thread, reused: a 1-pair ovector is enough because only the match
// outcome is used.
pcre2_match_data* ThreadMatchData() {
  struct Holder {
    pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
    ~Holder() { pcre2_match_data_free(data); }
  };
  thread_local Holder holder;
  return holder.data;
}

// Converts UTF-8 text whose code points are all < U+0100 to Latin-1 bytes; false otherwise.
bool Utf8ToLatin1(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < in.size()) {
      unsigned char d = static_cast<unsigned char>(in[i + 1]);
      if ((d & 0xC0) != 0x80) return false;
      out->push_back(static_cast<char>(((c & 0x1F) << 6) | (d & 0x3F)));
      ++i;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

struct Regex::Impl {
  pcre2_code* text = nullptr;   // UTF mode
  pcre2_code* bytes = nullptr;  // 8-bit mode over the Latin-1 form; null when not representable
  pcre2_match_context* context = nullptr;

  ~Impl() {
    pcre2_code_free(text);
    pcre2_code_free(bytes);
    pcre2_match_context_free(context);
  }

  bool Run(const pcre2_code* code, std::string_view subject) const {
    if (code == nullptr) return false;
    pcre2_match_data* md = ThreadMatchData();
    if (md == nullptr) return false;
    int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0,
                         md, context);
    // rc < 0: no match, or a limit was hit (PCRE2_ERROR_MATCHLIMIT, DEPTHLIMIT, JIT stack): both
    // count as no match, by design (see the header).
    return rc >= 0;
  }
};

Regex::Regex(std::string pattern) : pattern_(std::move(pattern)), impl_(std::make_unique<Impl>()) {}

Regex::~Regex() = default;

Result<std::shared_ptr<const Regex>> Regex::Compile(std::string_view pattern) {
  std::shared_ptr<Regex> re(new Regex(std::string(pattern)));
  int error = 0;
  PCRE2_SIZE offset = 0;
  re->impl_->text = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                  PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
  if (re->impl_->text == nullptr) {
    return InvalidArgumentError("invalid regular expression: " + PcreMessage(error) +
                                " at offset " + std::to_string(offset));
  }
  // JIT makes matching several times faster; when unavailable the interpreter is used.
  (void)pcre2_jit_compile(re->impl_->text, PCRE2_JIT_COMPLETE);

  std::string latin1;
  if (Utf8ToLatin1(pattern, &latin1)) {
    re->impl_->bytes = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(latin1.data()), latin1.size(), 0,
                                     &error, &offset, nullptr);
    if (re->impl_->bytes != nullptr) (void)pcre2_jit_compile(re->impl_->bytes, PCRE2_JIT_COMPLETE);
  }

  re->impl_->context = pcre2_match_context_create(nullptr);
  if (re->impl_->context == nullptr) return InternalError("out of memory compiling a regex");
  pcre2_set_match_limit(re->impl_->context, kMatchLimit);
  pcre2_set_depth_limit(re->impl_->context, kDepthLimit);
  return std::shared_ptr<const Regex>(std::move(re));
}

bool Regex::Search(std::string_view subject) const { return impl_->Run(impl_->text, subject); }

bool Regex::SearchBytes(std::string_view bytes) const { return impl_->Run(impl_->bytes, bytes); }

}  // namespace liaison::pattern

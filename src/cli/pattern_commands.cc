// `liaison pattern check 'PATTERN' [--stix-version 2.0|2.1] [--print]`: validates a STIX pattern
// (grammar, then semantics: pattern/parser.h Check()).
//
//   stderr: liaison: at position N: expected X, found Y     (syntax error, with a caret line)
//           liaison: error: at position N: <message>          (semantic error)
//           liaison: warning: at position N: <message>        (e.g. unknown property)
//   stdout: the canonical form of the pattern, with --print (only when valid)
//
// Exit status: 0 valid (warnings allowed), 2 invalid (syntax or semantic error, or bad usage).

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "pattern/parser.h"

namespace liaison::cli {
namespace {

// Prints the pattern and a caret under byte offset `position` (only for single-line patterns
// short enough to read).
void PrintCaret(const std::string& text, size_t position) {
  if (text.size() > 200 || text.find('\n') != std::string::npos || position > text.size()) return;
  std::string caret;
  for (size_t i = 0; i < position; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) == 0x80) continue;  // one column per UTF-8 character
    caret += text[i] == '\t' ? '\t' : ' ';
  }
  std::fprintf(stderr, "  %s\n  %s^\n", text.c_str(), caret.c_str());
}

// The N of a message starting "at position N:", or npos.
size_t PositionOf(const std::string& message) {
  constexpr std::string_view kPrefix = "at position ";
  if (message.rfind(kPrefix, 0) != 0) return std::string::npos;
  size_t n = 0;
  size_t i = kPrefix.size();
  if (i >= message.size() || message[i] < '0' || message[i] > '9') return std::string::npos;
  for (; i < message.size() && message[i] >= '0' && message[i] <= '9'; ++i) {
    n = n * 10 + static_cast<size_t>(message[i] - '0');
  }
  return n;
}

}  // namespace

void RegisterPatternCommands(CLI::App& app, CommandContext& ctx) {
  CLI::App* group = app.add_subcommand("pattern", "STIX Patterning tools");
  group->require_subcommand(1);

  struct Options {
    std::string pattern;
    std::string version = "2.1";
    bool print = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* check = group->add_subcommand(
      "check",
      "Validate a STIX pattern: exit 0 when valid (warnings on stderr), 2 when invalid (the "
      "message, with its position, on stderr).");
  check
      ->add_option("PATTERN", opts->pattern, "The pattern, e.g. \"[ipv4-addr:value = '10.0.0.1']\"")
      ->required();
  check->add_option("--stix-version", opts->version, "Grammar version: 2.0 or 2.1 (default 2.1)")
      ->check(CLI::IsMember({"2.0", "2.1"}));
  check->add_flag("--print", opts->print, "Print the canonical form of a valid pattern on stdout");
  check->callback([opts, &ctx]() {
    pattern::ParseOptions options;
    options.version =
        opts->version == "2.0" ? pattern::StixVersion::k20 : pattern::StixVersion::k21;
    Result<pattern::Pattern> p = pattern::Parse(opts->pattern, options);
    if (!p.ok()) {
      std::fprintf(stderr, "liaison: %s\n", p.status().message().c_str());
      size_t pos = PositionOf(p.status().message());
      if (pos != std::string::npos) PrintCaret(opts->pattern, pos);
      ctx.exit_code = 2;
      return;
    }
    pattern::CheckResult result = pattern::Check(*p);
    for (const pattern::Diagnostic& d : result.errors) {
      std::fprintf(stderr, "liaison: error: %s\n", d.message.c_str());
    }
    for (const pattern::Diagnostic& d : result.warnings) {
      std::fprintf(stderr, "liaison: warning: %s\n", d.message.c_str());
    }
    if (!result.ok()) {
      if (result.errors.size() == 1) PrintCaret(opts->pattern, result.errors[0].position);
      ctx.exit_code = 2;
      return;
    }
    if (opts->print) std::fprintf(stdout, "%s\n", pattern::Print(*p).c_str());
    ctx.exit_code = 0;
  });
}

}  // namespace liaison::cli

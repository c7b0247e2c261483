// `liaison match`: one pattern against observed data, or many indicators against a stream.
// The logic lives in match_runner.{h,cc}; this file reads files and wires flags to it.

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "cli/match_runner.h"
#include "common/clock.h"
#include "pattern/index.h"

namespace liaison::cli {
namespace {

struct MatchFlags {
  std::string pattern;
  std::string indicators;
  std::string observed;
  std::string stix_version;
  std::string format = "jsonl";
  bool json = false;
};

// Reads a whole file ("-": standard input). Errors: kInvalidArgument naming the file.
Result<std::string> ReadAll(const std::string& path) {
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) return InvalidArgumentError("cannot open '" + path + "'");
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return InvalidArgumentError("cannot read '" + path + "'");
  return ss.str();
}

int RunSingle(const MatchFlags& flags) {
  std::optional<pattern::StixVersion> version;
  if (!flags.stix_version.empty()) {
    Result<pattern::StixVersion> v = ParseStixVersion(flags.stix_version);
    if (!v.ok()) {
      std::cerr << "liaison: " << v.status().message() << "\n";
      return 2;
    }
    version = *v;
  }
  Result<std::string> observed = ReadAll(flags.observed);
  if (!observed.ok()) {
    std::cerr << "liaison: " << observed.status().message() << "\n";
    return 2;
  }
  SingleMatchOutcome outcome = RunSingleMatch(flags.pattern, *observed, version, flags.json);
  if (outcome.exit_code == 2) {
    std::cerr << "liaison: " << outcome.error << "\n";
  } else {
    std::cout << outcome.output;
  }
  return outcome.exit_code;
}

int RunBulk(const MatchFlags& flags) {
  if (flags.format != "jsonl") {
    std::cerr << "liaison: --format must be jsonl\n";
    return 2;
  }
  StreamOptions options;
  if (!flags.stix_version.empty()) {
    Result<pattern::StixVersion> v = ParseStixVersion(flags.stix_version);
    if (!v.ok()) {
      std::cerr << "liaison: " << v.status().message() << "\n";
      return 2;
    }
    options.version = *v;
  }
  Result<std::string> text = ReadAll(flags.indicators);
  if (!text.ok()) {
    std::cerr << "liaison: " << text.status().message() << "\n";
    return 2;
  }
  pattern::Index index;
  auto load_start = std::chrono::steady_clock::now();
  Result<IndicatorLoadSummary> loaded = LoadIndicators(*text, &index);
  if (!loaded.ok()) {
    std::cerr << "liaison: " << loaded.status().message() << "\n";
    return 2;
  }
  text->clear();
  text->shrink_to_fit();
  double load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  for (const std::string& reason : loaded->skip_reasons) {
    std::cerr << "liaison: skipped " << reason << "\n";
  }
  if (loaded->skipped > loaded->skip_reasons.size()) {
    std::cerr << "liaison: ... and " << loaded->skipped - loaded->skip_reasons.size()
              << " more skipped\n";
  }

  std::ifstream file;
  std::istream* in = &std::cin;
  if (flags.observed != "-") {
    file.open(flags.observed, std::ios::binary);
    if (!file) {
      std::cerr << "liaison: cannot open '" << flags.observed << "'\n";
      return 2;
    }
    in = &file;
  }
  std::ios::sync_with_stdio(false);
  auto stream_start = std::chrono::steady_clock::now();
  StreamSummary s = MatchStream(
      *in, index, std::cout, std::cerr, SystemClock::Default(),
      [] { return "sighting--" + RandomUuid(); }, options);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stream_start).count();
  std::cerr << "liaison: indicators loaded " << loaded->loaded << ", skipped " << loaded->skipped
            << " (" << load_seconds << " s); observations read " << s.observations << " from "
            << s.lines << " lines (" << s.bad_lines << " bad); hits " << s.hits << "; rate "
            << static_cast<uint64_t>(seconds > 0 ? static_cast<double>(s.observations) / seconds
                                                 : 0.0)
            << " observations/s\n";
  return s.hits > 0 ? 0 : 1;
}

}  // namespace

void RegisterMatchCommand(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<MatchFlags>();
  CLI::App* cmd = app.add_subcommand(
      "match",
      "Match observed data against one pattern (--pattern) or many indicators (--indicators).\n"
      "Single: exit 0 match, 1 no match, 2 invalid pattern or input.\n"
      "Bulk: prints one STIX 2.1 sighting per hit (JSON lines) and a summary on stderr; exit 0\n"
      "when there was at least one hit, 1 when none, 2 when the input cannot be read.");
  auto* pattern_opt = cmd->add_option("--pattern", flags->pattern, "a STIX pattern");
  auto* indicators_opt = cmd->add_option("--indicators", flags->indicators,
                                         "indicators: a STIX bundle or JSONL ('-' = stdin)");
  cmd->add_option("--observed", flags->observed,
                  "observed data: with --pattern a JSON array or bundle; with --indicators JSONL, "
                  "one observed-data or bundle per line ('-' = stdin, streamed)")
      ->required();
  cmd->add_option("--stix-version", flags->stix_version,
                  "2.0 or 2.1: grammar and observation model (default: 2.1, or what the input "
                  "declares)");
  cmd->add_flag("--json", flags->json, "with --pattern: print which observed-data satisfied it");
  cmd->add_option("--format", flags->format, "with --indicators: output format (jsonl)");
  pattern_opt->excludes(indicators_opt);
  cmd->callback([flags, &ctx, pattern_opt, indicators_opt] {
    if (pattern_opt->count() == 0 && indicators_opt->count() == 0) {
      std::cerr << "liaison: match needs --pattern or --indicators\n";
      ctx.exit_code = 2;
      return;
    }
    if (indicators_opt->count() > 0 && flags->indicators == "-" && flags->observed == "-") {
      std::cerr << "liaison: --indicators and --observed cannot both be stdin\n";
      ctx.exit_code = 2;
      return;
    }
    ctx.exit_code = pattern_opt->count() > 0 ? RunSingle(*flags) : RunBulk(*flags);
  });
}

}  // namespace liaison::cli

// Runs the data-driven pattern cases in tests/pattern/**/*.test (one parameterised test per file).
//
// File format (line based; '#' starts a comment line, blank lines separate nothing):
//
//   data NAME              a named observation block, used as `observations @NAME`
//   <observation lines>
//   end
//
//   case NAME              starts a case
//   version 2.0            grammar and observation model (default 2.1)
//   pattern TEXT           the pattern (rest of the line)
//   observations [@NAME]   observation lines follow (until the first `expect`), or a named block
//   expect match [I,J,...] the pattern matches (optionally: exactly these observation indices)
//   expect no-match
//   expect error [TEXT]        Parse fails (message contains TEXT)
//   expect check-error [TEXT]  Parse succeeds, Check reports an error containing TEXT
//   expect check-warning [TEXT]
//   expect check-ok            Check reports no error and no warning
//   expect load-error [TEXT]   the observations fail to load
//   expect print TEXT          Print(Parse(pattern)) == TEXT
//
// Observation lines are either raw JSON (an array, a bundle or one observed-data object, possibly
// over several lines), or shorthand lines, one observed-data each:
//   obs [FIRST[/LAST]] [xN] {"0": {...}, "1": {...}}
// which become observed-data objects with those embedded objects; FIRST defaults to
// 2020-01-01T00:00:00Z, LAST to FIRST, N (number_observed) to 1.

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pattern/evaluator.h"
#include "pattern/observation.h"
#include "pattern/parser.h"

namespace liaison::pattern {
namespace {

struct Expectation {
  std::string kind;  // match, no-match, error, check-error, check-warning, check-ok, load-error,
                     // print
  std::string arg;
  int line = 0;
};

struct Case {
  std::string name;
  int line = 0;
  StixVersion version = StixVersion::k21;
  std::string pattern;
  bool has_pattern = false;
  std::vector<std::string> observation_lines;
  std::vector<Expectation> expectations;
};

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool StartsWith(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

std::string Rest(const std::string& line, size_t word_len) {
  return line.size() > word_len ? Trim(line.substr(word_len)) : "";
}

// Turns observation lines into one JSON document.
std::string ObservationsJson(const std::vector<std::string>& lines) {
  bool shorthand = !lines.empty() && StartsWith(Trim(lines[0]), "obs");
  if (!shorthand) {
    std::string json;
    for (const auto& l : lines) json += l + "\n";
    return json;
  }
  std::string json = "[";
  int n = 0;
  for (const auto& raw : lines) {
    std::string l = Trim(raw);
    if (l.empty()) continue;
    std::istringstream in(l.substr(3));
    std::string first = "2020-01-01T00:00:00Z", last, count = "1", word;
    std::string objects;
    while (in >> word) {
      if (word[0] == '{') {
        std::string tail;
        std::getline(in, tail);
        objects = word + tail;
        break;
      }
      if (word[0] == 'x') {
        count = word.substr(1);
      } else if (size_t slash = word.find('/'); slash != std::string::npos) {
        first = word.substr(0, slash);
        last = word.substr(slash + 1);
      } else {
        first = word;
      }
    }
    if (last.empty()) last = first;
    char id[64];
    std::snprintf(id, sizeof(id), "observed-data--00000000-0000-4000-8000-%012d", n);
    if (n++ > 0) json += ",";
    json += "{\"type\":\"observed-data\",\"spec_version\":\"2.1\",\"id\":\"" + std::string(id) +
            "\",\"first_observed\":\"" + first + "\",\"last_observed\":\"" + last +
            "\",\"number_observed\":" + count + ",\"objects\":" + objects + "}";
  }
  return json + "]";
}

std::vector<Case> ParseFile(const std::filesystem::path& path, std::string* error) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::map<std::string, std::vector<std::string>> data;
  std::vector<Case> cases;
  Case* cur = nullptr;
  bool in_observations = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    const int lineno = static_cast<int>(i + 1);
    std::string line = Trim(lines[i]);
    if (StartsWith(line, "data ")) {
      std::string name = Rest(line, 4);
      std::vector<std::string> block;
      for (++i; i < lines.size() && Trim(lines[i]) != "end"; ++i) block.push_back(lines[i]);
      data[name] = block;
      in_observations = false;
      continue;
    }
    if (in_observations && !StartsWith(line, "expect") && !StartsWith(line, "case ")) {
      if (!line.empty() && line[0] != '#') cur->observation_lines.push_back(lines[i]);
      continue;
    }
    in_observations = false;
    if (line.empty() || line[0] == '#') continue;
    if (StartsWith(line, "case ")) {
      cases.push_back(Case{});
      cur = &cases.back();
      cur->name = Rest(line, 4);
      cur->line = lineno;
      continue;
    }
    if (cur == nullptr) {
      *error = path.string() + ":" + std::to_string(lineno) + ": expected 'case' or 'data'";
      return {};
    }
    if (StartsWith(line, "version ")) {
      cur->version = Rest(line, 7) == "2.0" ? StixVersion::k20 : StixVersion::k21;
    } else if (StartsWith(line, "pattern")) {
      // The pattern is the rest of the raw line after "pattern " (keep inner spacing).
      std::string raw = lines[i];
      size_t at = raw.find("pattern");
      cur->pattern = raw.size() > at + 8 ? raw.substr(at + 8) : "";
      while (!cur->pattern.empty() && (cur->pattern.back() == '\r')) cur->pattern.pop_back();
      cur->has_pattern = true;
    } else if (StartsWith(line, "observations")) {
      std::string ref = Rest(line, 12);
      if (!ref.empty() && ref[0] == '@') {
        auto it = data.find(ref.substr(1));
        if (it == data.end()) {
          *error = path.string() + ":" + std::to_string(lineno) + ": unknown data block " + ref;
          return {};
        }
        cur->observation_lines = it->second;
      } else {
        in_observations = true;
      }
    } else if (StartsWith(line, "expect ")) {
      std::string rest = Rest(line, 6);
      size_t sp = rest.find(' ');
      Expectation e;
      e.kind = rest.substr(0, sp);
      e.arg = sp == std::string::npos ? "" : Trim(rest.substr(sp + 1));
      e.line = lineno;
      cur->expectations.push_back(e);
    } else {
      *error = path.string() + ":" + std::to_string(lineno) + ": unknown directive: " + line;
      return {};
    }
  }
  return cases;
}

std::vector<std::filesystem::path> CaseFiles() {
  std::vector<std::filesystem::path> files;
  std::filesystem::path root = std::filesystem::path(LIAISON_SOURCE_DIR) / "tests" / "pattern";
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.is_regular_file() && entry.path().extension() == ".test") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string Join(const std::vector<size_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

bool ContainsMessage(const std::vector<Diagnostic>& ds, const std::string& text) {
  for (const auto& d : ds) {
    if (d.message.find(text) != std::string::npos) return true;
  }
  return false;
}

std::string Messages(const std::vector<Diagnostic>& ds) {
  std::string s;
  for (const auto& d : ds) s += "\n    " + d.message;
  return s.empty() ? " (none)" : s;
}

void RunCase(const std::filesystem::path& file, const Case& c) {
  const std::string where =
      file.filename().string() + ":" + std::to_string(c.line) + " (" + c.name + ")";
  SCOPED_TRACE(where);
  ASSERT_TRUE(c.has_pattern) << where << ": no pattern";
  ASSERT_FALSE(c.expectations.empty()) << where << ": no expectation";
  Result<Pattern> p = Parse(c.pattern, ParseOptions{.version = c.version});
  for (const Expectation& e : c.expectations) {
    SCOPED_TRACE("expect " + e.kind + " " + e.arg + " at line " + std::to_string(e.line));
    if (e.kind == "error") {
      ASSERT_FALSE(p.ok()) << where << ": parsed, expected an error; printed as " << Print(*p);
      EXPECT_NE(p.status().message().find(e.arg), std::string::npos)
          << where << ": message was: " << p.status().message();
      continue;
    }
    ASSERT_TRUE(p.ok()) << where << ": " << p.status().ToString();
    // Every pattern that parses must round-trip through the printer.
    Result<Pattern> again = Parse(Print(*p), ParseOptions{.version = c.version});
    ASSERT_TRUE(again.ok()) << where << ": reprint does not parse: " << Print(*p) << ": "
                            << again.status().ToString();
    EXPECT_TRUE(*again == *p) << where << ": round trip changed the pattern: " << Print(*p);
    if (e.kind == "print") {
      EXPECT_EQ(Print(*p), e.arg) << where;
      continue;
    }
    if (e.kind == "check-error" || e.kind == "check-warning" || e.kind == "check-ok") {
      CheckResult r = Check(*p);
      if (e.kind == "check-error") {
        EXPECT_TRUE(ContainsMessage(r.errors, e.arg)) << where << ": errors:" << Messages(r.errors);
      } else if (e.kind == "check-warning") {
        EXPECT_TRUE(ContainsMessage(r.warnings, e.arg))
            << where << ": warnings:" << Messages(r.warnings);
        EXPECT_TRUE(r.errors.empty()) << where << ": errors:" << Messages(r.errors);
      } else {
        EXPECT_TRUE(r.errors.empty()) << where << ": errors:" << Messages(r.errors);
        EXPECT_TRUE(r.warnings.empty()) << where << ": warnings:" << Messages(r.warnings);
      }
      continue;
    }
    Result<std::vector<Observation>> obs =
        LoadObservations(ObservationsJson(c.observation_lines), LoadOptions{.version = c.version});
    if (e.kind == "load-error") {
      ASSERT_FALSE(obs.ok()) << where << ": observations loaded";
      EXPECT_NE(obs.status().message().find(e.arg), std::string::npos)
          << where << ": message was: " << obs.status().message();
      continue;
    }
    ASSERT_TRUE(obs.ok()) << where << ": observations: " << obs.status().ToString();
    Result<MatchResult> m = Match(*p, *obs);
    ASSERT_TRUE(m.ok()) << where << ": " << m.status().ToString();
    if (e.kind == "match") {
      EXPECT_TRUE(m->matched) << where << ": expected a match";
      if (!e.arg.empty() && m->matched) {
        EXPECT_EQ(Join(m->observation_indices), e.arg) << where;
      }
    } else if (e.kind == "no-match") {
      EXPECT_FALSE(m->matched) << where << ": expected no match, matched observations "
                               << Join(m->observation_indices);
    } else {
      ADD_FAILURE() << where << ": unknown expectation '" << e.kind << "'";
    }
  }
}

class PatternCases : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(PatternCases, Run) {
  std::string error;
  std::vector<Case> cases = ParseFile(GetParam(), &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_FALSE(cases.empty()) << GetParam() << " has no cases";
  for (const Case& c : cases) RunCase(GetParam(), c);
}

INSTANTIATE_TEST_SUITE_P(Files, PatternCases, ::testing::ValuesIn(CaseFiles()),
                         [](const ::testing::TestParamInfo<std::filesystem::path>& info) {
                           std::string name = info.param.stem().string();
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace liaison::pattern

#include "cli/match_runner.h"

#include <algorithm>
#include <span>

#include "common/json_writer.h"
#include "common/uuid.h"
#include "pattern/evaluator.h"
#include "pattern/observation.h"
#include "pattern/parser.h"
#include "stix/timestamp.h"

namespace liaison::cli {
namespace {

using pattern::StixVersion;
using pattern::Value;

const std::string* StringMember(const Value& v, std::string_view key) {
  const Value* m = v.Find(key);
  return m != nullptr && m->is_string() ? &m->as_string() : nullptr;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// The version an input declares: a bundle's spec_version "2.0", or observed-data without
// spec_version (STIX 2.0 objects carry none) -> 2.0; otherwise 2.1.
StixVersion DetectVersion(const Value& doc) {
  if (const std::string* sv = StringMember(doc, "spec_version"); sv && *sv == "2.0") {
    return StixVersion::k20;
  }
  const Value* objects = doc.is_list() ? &doc : doc.Find("objects");
  if (objects == nullptr || !objects->is_list()) {
    if (const std::string* t = StringMember(doc, "type"); t && *t == "observed-data") {
      return doc.Find("spec_version") == nullptr ? StixVersion::k20 : StixVersion::k21;
    }
    return StixVersion::k21;
  }
  bool saw_20 = false;
  for (const Value& o : objects->as_list()) {
    const std::string* t = StringMember(o, "type");
    if (t == nullptr || *t != "observed-data") continue;
    const std::string* sv = StringMember(o, "spec_version");
    if (sv != nullptr && *sv == "2.1") return StixVersion::k21;
    if (sv == nullptr || *sv == "2.0") saw_20 = true;
  }
  return saw_20 ? StixVersion::k20 : StixVersion::k21;
}

std::string FirstLine(std::string s) {
  size_t nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  return s;
}

// Adds the indicator `obj` (a map) to `index`, or says why it is skipped.
void AddIndicator(const Value& obj, pattern::Index* index, IndicatorLoadSummary* summary) {
  const std::string* type = StringMember(obj, "type");
  if (type == nullptr || *type != "indicator") return;
  const std::string* id = StringMember(obj, "id");
  std::string name = id != nullptr ? *id : std::string("indicator without id");
  auto skip = [&](const std::string& why) {
    ++summary->skipped;
    if (summary->skip_reasons.size() < 100) summary->skip_reasons.push_back(name + ": " + why);
  };
  if (id == nullptr || id->empty()) return skip("no id");
  if (const Value* revoked = obj.Find("revoked");
      revoked && revoked->is_bool() && revoked->as_bool()) {
    return skip("revoked");
  }
  if (const std::string* pt = StringMember(obj, "pattern_type"); pt && *pt != "stix") {
    return skip("pattern_type '" + *pt + "' is not 'stix'");
  }
  const std::string* text = StringMember(obj, "pattern");
  if (text == nullptr) return skip("no pattern");
  StixVersion version = StixVersion::k21;
  const std::string* pv = StringMember(obj, "pattern_version");
  const std::string* sv = StringMember(obj, "spec_version");
  if ((pv != nullptr && *pv == "2.0") || (pv == nullptr && (sv == nullptr || *sv == "2.0"))) {
    version = StixVersion::k20;
  }
  Result<pattern::Pattern> p = pattern::Parse(*text, {.version = version});
  if (!p.ok()) return skip("invalid pattern: " + FirstLine(p.status().message()));
  int64_t from = pattern::Index::kNoStart, until = pattern::Index::kNoEnd;
  if (const std::string* vf = StringMember(obj, "valid_from")) {
    Result<stix::Timestamp> ts = stix::ParseTimestamp(*vf);
    if (!ts.ok()) return skip("valid_from: " + ts.status().message());
    from = ts->micros;
  }
  if (const std::string* vu = StringMember(obj, "valid_until")) {
    Result<stix::Timestamp> ts = stix::ParseTimestamp(*vu);
    if (!ts.ok()) return skip("valid_until: " + ts.status().message());
    until = ts->micros;
  }
  if (until <= from) return skip("valid_until is not after valid_from");
  Status added = index->Add(*id, std::move(*p), from, until);
  if (!added.ok()) return skip(added.message());
  ++summary->loaded;
}

void AddDocument(const Value& doc, pattern::Index* index, IndicatorLoadSummary* summary) {
  if (doc.is_list()) {
    for (const Value& o : doc.as_list()) AddIndicator(o, index, summary);
    return;
  }
  if (const Value* objects = doc.Find("objects"); objects && objects->is_list()) {
    for (const Value& o : objects->as_list()) AddIndicator(o, index, summary);
    return;
  }
  AddIndicator(doc, index, summary);
}

}  // namespace

Result<StixVersion> ParseStixVersion(std::string_view text) {
  if (text == "2.0") return StixVersion::k20;
  if (text == "2.1") return StixVersion::k21;
  return InvalidArgumentError("--stix-version must be 2.0 or 2.1, not '" + std::string(text) + "'");
}

SingleMatchOutcome RunSingleMatch(std::string_view pattern_text, std::string_view observed_json,
                                  std::optional<StixVersion> version, bool json) {
  SingleMatchOutcome out;
  if (!version) {
    Result<Value> doc = pattern::ParseJsonValue(observed_json);
    if (!doc.ok()) {
      out.error = "observed data: " + FirstLine(doc.status().message());
      return out;
    }
    version = DetectVersion(*doc);
  }
  Result<pattern::Pattern> p = pattern::Parse(pattern_text, {.version = *version});
  if (!p.ok()) {
    out.error = "invalid pattern: " + FirstLine(p.status().message());
    return out;
  }
  pattern::CheckResult check = pattern::Check(*p);
  if (!check.ok()) {
    out.error = "invalid pattern: " + FirstLine(check.errors.front().message);
    return out;
  }
  Result<std::vector<pattern::Observation>> obs =
      pattern::LoadObservations(observed_json, {.version = *version});
  if (!obs.ok()) {
    out.error = "observed data: " + FirstLine(obs.status().message());
    return out;
  }
  Result<pattern::MatchResult> r = pattern::Match(*p, *obs);
  if (!r.ok()) {
    out.error = FirstLine(r.status().message());
    return out;
  }
  out.exit_code = r->matched ? 0 : 1;
  if (json) {
    JsonWriter w;
    w.BeginObject();
    w.Key("matched");
    w.Bool(r->matched);
    w.Key("observed_data_refs");
    w.BeginArray();
    for (size_t i : r->observation_indices) {
      if (i < obs->size() && !(*obs)[i].id.empty()) w.String((*obs)[i].id);
    }
    w.EndArray();
    w.Key("observation_indices");
    w.BeginArray();
    for (size_t i : r->observation_indices) w.Uint(i);
    w.EndArray();
    w.EndObject();
    out.output = std::move(w).Take() + "\n";
  } else if (r->matched) {
    std::string ids;
    for (size_t i : r->observation_indices) {
      if (!ids.empty()) ids += ", ";
      ids += i < obs->size() && !(*obs)[i].id.empty() ? (*obs)[i].id
                                                      : "observation #" + std::to_string(i);
    }
    out.output = "match: " + ids + "\n";
  } else {
    out.output = "no match\n";
  }
  return out;
}

Result<IndicatorLoadSummary> LoadIndicators(std::string_view text, pattern::Index* index) {
  IndicatorLoadSummary summary;
  std::string_view trimmed = Trim(text);
  if (trimmed.empty()) return summary;
  // One JSON document (bundle, envelope, array, single object)...
  if (Result<Value> doc = pattern::ParseJsonValue(trimmed); doc.ok()) {
    if (!doc->is_list() && !doc->is_map()) {
      return InvalidArgumentError("indicators: expected a bundle, an array or JSONL of objects");
    }
    AddDocument(*doc, index, &summary);
  } else {
    // ...or JSONL.
    size_t line_no = 0;
    size_t start = 0;
    while (start <= text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = Trim(text.substr(start, end - start));
      ++line_no;
      start = end + 1;
      if (line.empty()) {
        if (end == text.size()) break;
        continue;
      }
      Result<Value> v = pattern::ParseJsonValue(line);
      if (!v.ok() || (!v->is_map() && !v->is_list())) {
        return InvalidArgumentError(
            "indicators line " + std::to_string(line_no) + ": " +
            (v.ok() ? std::string("not a JSON object") : FirstLine(v.status().message())));
      }
      AddDocument(*v, index, &summary);
      if (end == text.size()) break;
    }
  }
  Status compiled = index->RebuildRegexDatabases();
  if (!compiled.ok()) return compiled;
  return summary;
}

std::string SightingJson(const pattern::IndexHit& hit, std::string_view id, int64_t now_us) {
  int64_t first = 0, last = 0, count = 0;
  bool any = false;
  for (const pattern::ObservationRef& r : hit.observations) {
    first = any ? std::min(first, r.first_observed_us) : r.first_observed_us;
    last = any ? std::max(last, r.last_observed_us) : r.last_observed_us;
    count += r.number_observed;
    any = true;
  }
  std::string now = stix::FormatTimestamp(stix::Timestamp{now_us}, 3);
  JsonWriter w;
  w.BeginObject();
  w.Key("type");
  w.String("sighting");
  w.Key("spec_version");
  w.String("2.1");
  w.Key("id");
  w.String(id);
  w.Key("created");
  w.String(now);
  w.Key("modified");
  w.String(now);
  w.Key("sighting_of_ref");
  w.String(hit.indicator_id);
  std::vector<std::string> refs;
  for (const pattern::ObservationRef& r : hit.observations) {
    if (!r.id.empty() && std::find(refs.begin(), refs.end(), r.id) == refs.end()) {
      refs.push_back(r.id);
    }
  }
  if (!refs.empty()) {
    w.Key("observed_data_refs");
    w.BeginArray();
    for (const std::string& r : refs) w.String(r);
    w.EndArray();
  }
  if (any) {
    w.Key("first_seen");
    w.String(stix::FormatTimestamp(stix::Timestamp{first}, 3));
    w.Key("last_seen");
    w.String(stix::FormatTimestamp(stix::Timestamp{last}, 3));
    // STIX 2.1 section 5.2: count is 0..999999999.
    w.Key("count");
    w.Int(std::min<int64_t>(count, 999999999));
  }
  w.EndObject();
  return std::move(w).Take();
}

StreamSummary MatchStream(std::istream& in, pattern::Index& index, std::ostream& out,
                          std::ostream& errors, const Clock& clock,
                          const std::function<std::string()>& new_id,
                          const StreamOptions& options) {
  StreamSummary summary;
  std::string line;
  uint64_t line_no = 0;
  std::vector<pattern::IndexHit> hits;
  auto report = [&](const std::string& message) {
    ++summary.bad_lines;
    if (summary.bad_lines <= options.max_reported_errors) {
      errors << "liaison: observations line " << line_no << ": " << message << "\n";
    }
  };
  while (std::getline(in, line)) {
    ++line_no;
    std::string_view view = Trim(line);
    if (view.empty()) continue;
    ++summary.lines;
    if (view.size() > options.max_line_bytes) {
      report("line longer than " + std::to_string(options.max_line_bytes) + " bytes");
      continue;
    }
    Result<std::vector<pattern::Observation>> obs =
        pattern::LoadObservationLine(view, {.version = options.version});
    if (!obs.ok()) {
      report(FirstLine(obs.status().message()));
      continue;
    }
    for (const pattern::Observation& o : *obs) {
      ++summary.observations;
      hits.clear();
      index.Match(o, &hits);
      for (const pattern::IndexHit& hit : hits) {
        out << SightingJson(hit, new_id(), clock.NowMicros()) << "\n";
        ++summary.hits;
      }
    }
  }
  out.flush();
  return summary;
}

std::string RandomUuid() { return RandomUuidV4(); }

}  // namespace liaison::cli

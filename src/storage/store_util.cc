#include "storage/store_util.h"

#include <algorithm>
#include <limits>
#include <set>

#include "common/json_writer.h"
#include "stix/timestamp.h"

namespace liaison::storage {

std::string FormatVersionText(int64_t micros) {
  return stix::FormatTimestamp(stix::Timestamp{micros}, micros % 1000 == 0 ? 3 : 6);
}

Status ValidateAddObjectsRequest(const AddObjectsRequest& request) {
  for (size_t i = 0; i < request.objects.size(); ++i) {
    const NewObject& o = request.objects[i];
    std::string what = "object " + std::to_string(i) + (o.id.empty() ? "" : " (" + o.id + ")");
    if (o.id.empty()) return InvalidArgumentError(what + ": id is empty");
    if (o.type.empty()) return InvalidArgumentError(what + ": type is empty");
    if (o.spec_version.empty()) return InvalidArgumentError(what + ": spec_version is empty");
    if (o.json.empty()) return InvalidArgumentError(what + ": json is empty");
    RETURN_IF_ERROR(ValidateAuditRecords(o.audit));
  }
  return ValidateAuditRecords(request.audit);
}

Status ValidateObjectQuery(const ObjectQuery& query) {
  auto check = [](size_t n, const char* what) {
    if (n <= kMaxQueryValues) return Status::Ok();
    return InvalidArgumentError(std::string("too many ") + what + " values in one query (" +
                                std::to_string(n) + "; at most " + std::to_string(kMaxQueryValues) +
                                ")");
  };
  RETURN_IF_ERROR(check(query.ids.size(), "match[id]"));
  RETURN_IF_ERROR(check(query.types.size(), "match[type]"));
  RETURN_IF_ERROR(check(query.spec_versions.size(), "match[spec_version]"));
  RETURN_IF_ERROR(check(query.versions.size() + query.version_selectors.size(), "match[version]"));
  return Status::Ok();
}

void FinishStatusCounts(StatusResource& status) {
  status.success_count = static_cast<int64_t>(status.successes.size());
  status.failure_count = static_cast<int64_t>(status.failures.size());
  status.pending_count = static_cast<int64_t>(status.pendings.size());
  int64_t sum = status.success_count + status.failure_count + status.pending_count;
  if (status.total_count < sum) status.total_count = sum;
  status.status = status.pending_count > 0 ? "pending" : "complete";
}

int64_t FetchLimit(size_t limit) {
  constexpr size_t kMax = static_cast<size_t>(std::numeric_limits<int64_t>::max() - 1);
  return static_cast<int64_t>(limit > kMax ? kMax : limit) + 1;
}

Status ValidatePartner(const Partner& partner) {
  if (partner.id.empty()) return InvalidArgumentError("partner id is empty");
  return Status::Ok();
}

Status ValidateChannel(const Channel& channel) {
  if (channel.id.empty()) return InvalidArgumentError("channel id is empty");
  if (channel.partner.empty()) return InvalidArgumentError("channel partner is empty");
  if (channel.collection_id.empty()) return InvalidArgumentError("channel collection is empty");
  return Status::Ok();
}

Status ValidateAuditRecords(const std::vector<AuditRecord>& records) {
  for (const AuditRecord& r : records) {
    if (r.kind.empty()) return InvalidArgumentError("audit record kind is empty");
  }
  return Status::Ok();
}

Status ValidateLookupIds(const std::vector<std::string>& ids) {
  if (ids.size() > kMaxQueryValues) {
    return InvalidArgumentError("too many ids in one lookup (" + std::to_string(ids.size()) +
                                "; at most " + std::to_string(kMaxQueryValues) + ")");
  }
  for (const std::string& id : ids) {
    if (id.empty()) return InvalidArgumentError("an object id to look up is empty");
  }
  return Status::Ok();
}

Result<std::vector<ObjectVersionKey>> UniqueVersionKeys(const std::vector<ObjectVersionKey>& keys) {
  if (keys.size() > kMaxQueryValues) {
    return InvalidArgumentError("too many object versions in one lookup (" +
                                std::to_string(keys.size()) + "; at most " +
                                std::to_string(kMaxQueryValues) + ")");
  }
  for (const ObjectVersionKey& key : keys) {
    if (key.id.empty()) return InvalidArgumentError("an object id to look up is empty");
  }
  std::vector<ObjectVersionKey> unique = keys;
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  return unique;
}

ObjectLabel UnknownObjectLabel() {
  ObjectLabel label;
  label.tlp = 4;  // policy::Tlp::kRed (storage does not depend on policy)
  return label;
}

std::string ReceiptEventData(const OutboxRow& row) {
  JsonWriter w;
  w.BeginObject();
  w.Key("partner");
  w.String(row.partner);
  w.Key("state");
  w.String(OutboxStateName(row.state));
  w.Key("attempts");
  w.Int(row.attempts);
  w.Key("delivered_at");
  w.Int(row.delivered_at);
  w.Key("error");
  w.String(row.error);
  w.EndObject();
  return std::move(w).Take();
}

std::string FeedbackEventData(const FeedbackRecord& record) {
  JsonWriter w;
  w.BeginObject();
  w.Key("about_id");
  w.String(record.about_id);
  w.Key("feedback_id");
  w.String(record.feedback_id);
  w.Key("feedback_version");
  w.Int(record.feedback_version);
  w.Key("from");
  w.String(record.from);
  w.Key("outcome");
  w.String(record.outcome);
  w.Key("note");
  w.String(record.note);
  w.Key("count");
  w.Int(record.count);
  w.Key("received");
  w.Int(record.received);
  w.EndObject();
  return std::move(w).Take();
}

std::string ObjectEventData(const StoredObject& object) {
  JsonWriter w;
  w.BeginObject();
  w.Key("type");
  w.String(object.type);
  w.Key("spec_version");
  w.String(object.spec_version);
  w.Key("date_added");
  w.Int(object.date_added);
  w.EndObject();
  return std::move(w).Take();
}

std::string EncodeRecipients(const std::vector<std::string>& recipients) {
  std::string out;
  for (size_t i = 0; i < recipients.size(); ++i) {
    if (i > 0) out += ',';
    for (char ch : recipients[i]) {
      if (ch == '\\' || ch == ',') out += '\\';
      out += ch;
    }
  }
  return out;
}

Result<std::vector<std::string>> DecodeRecipients(std::string_view text) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    if (ch == '\\') {
      if (i + 1 == text.size()) {
        return DataLossError("stored recipient list ends in a dangling escape");
      }
      out.back() += text[++i];
    } else if (ch == ',') {
      out.emplace_back();
    } else {
      out.back() += ch;
    }
  }
  return out;
}

namespace {

void AppendField(std::string& out, const std::string& field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

bool ReadField(std::string_view& in, std::string& field) {
  size_t colon = in.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 12) return false;
  size_t len = 0;
  for (size_t i = 0; i < colon; ++i) {
    if (in[i] < '0' || in[i] > '9') return false;
    len = len * 10 + static_cast<size_t>(in[i] - '0');
  }
  in.remove_prefix(colon + 1);
  if (len > in.size()) return false;
  field.assign(in.data(), len);
  in.remove_prefix(len);
  return true;
}

}  // namespace

std::string EncodeStatusDetails(const std::vector<StatusDetail>& details) {
  std::string out;
  for (const StatusDetail& d : details) {
    AppendField(out, d.id);
    AppendField(out, d.version);
    AppendField(out, d.message);
  }
  return out;
}

Result<std::vector<StatusDetail>> DecodeStatusDetails(std::string_view blob) {
  std::vector<StatusDetail> out;
  while (!blob.empty()) {
    StatusDetail d;
    if (!ReadField(blob, d.id) || !ReadField(blob, d.version) || !ReadField(blob, d.message)) {
      return DataLossError("a stored status resource is corrupt");
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::string JoinLines(const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += '\n';
    out += values[i];
  }
  return out;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  size_t start = 0;
  while (true) {
    size_t nl = text.find('\n', start);
    out.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

std::vector<std::string> Dedup(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const std::string& v : values) {
    if (seen.insert(v).second) out.push_back(v);
  }
  return out;
}

}  // namespace liaison::storage

#include "storage/store_util.h"

#include <limits>

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
  }
  return Status::Ok();
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

}  // namespace liaison::storage

#pragma once

// Helpers shared by the Store backends (storage/memory, storage/sqlite, later storage/postgres), so
// that every backend applies the same rules for the parts of the contract that are not SQL:
// argument checks, the text of versions in status resources, status counters, and the assignment
// of date_added values. Not for use outside storage/.
//
// Thread-safe: all functions here are pure.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/store.h"

namespace liaison::storage {

// The STIX timestamp text of a version (or date_added) in microseconds: three fractional digits
// when the value is whole milliseconds ("2016-05-12T08:17:27.000Z"), else six.
std::string FormatVersionText(int64_t micros);

// Checks the parts of an AddObjectsRequest a backend relies on: every object has a non-empty id,
// type, spec_version and json, every audit record a kind. kInvalidArgument naming the first bad
// object.
Status ValidateAddObjectsRequest(const AddObjectsRequest& request);

// The most values one filter list of an ObjectQuery may hold (ids, types, spec_versions,
// versions). Backends build one SQL parameter per value.
inline constexpr size_t kMaxQueryValues = 4096;

// kInvalidArgument when a filter list of `query` holds more than kMaxQueryValues values.
Status ValidateObjectQuery(const ObjectQuery& query);

// Fills the counters of a status from its lists: success/failure/pending counts, total_count at
// least their sum, and status "pending" when pendings remain, else "complete".
void FinishStatusCounts(StatusResource& status);

// The date_added to give the next new version in a collection whose last assigned value is
// `last_date_added`: max(now_micros, last_date_added + 1). Strictly increasing whatever the
// clock does.
inline int64_t NextDateAdded(int64_t last_date_added, int64_t now_micros) {
  return now_micros > last_date_added ? now_micros : last_date_added + 1;
}

// The number of rows a page query should fetch to know `more`: limit + 1, clamped so that huge
// limits do not overflow.
int64_t FetchLimit(size_t limit);

// ---------------------------------------------------------------------------------------------
// Sharing (issue 4)

// Argument checks shared by the backends: kInvalidArgument for an empty Partner::id, an empty
// Channel::id / partner / collection_id, an empty id list entry.
Status ValidatePartner(const Partner& partner);
Status ValidateChannel(const Channel& channel);
// kInvalidArgument for an audit record with an empty kind.
Status ValidateAuditRecords(const std::vector<AuditRecord>& records);
// kInvalidArgument for more than kMaxQueryValues ids or an empty id.
Status ValidateLookupIds(const std::vector<std::string>& ids);
// kInvalidArgument for more than kMaxQueryValues keys or an empty id; returns the keys sorted,
// each once.
Result<std::vector<ObjectVersionKey>> UniqueVersionKeys(const std::vector<ObjectVersionKey>& keys);

// The label given to events about an object whose label is unknown (deleted since): TLP:RED with
// no origin or recipients, so that no visibility filter lets it through by accident.
ObjectLabel UnknownObjectLabel();

// HubEvent::data of a "receipt" event for `row` after its change:
// {"partner":"...","state":"delivered","attempts":1,"delivered_at":123,"error":""}.
std::string ReceiptEventData(const OutboxRow& row);

// HubEvent::data of a "feedback" event:
// {"about_id","feedback_id","feedback_version","from","outcome","note","count","received"}.
std::string FeedbackEventData(const FeedbackRecord& record);

// HubEvent::data of an "object" event: {"type":"indicator","spec_version":"2.1","date_added":N}.
std::string ObjectEventData(const StoredObject& object);

// The compact text form of ObjectLabel::recipients used by the SQL backends: the ids joined by
// ',', each backslash doubled and each ',' inside an id written as backslash-comma
// ("identity--a,identity--b"; `x\,y` is the one id "x,y"). The empty list is stored as SQL NULL by
// the backends (so that a list holding one empty id, encoded "", stays distinct).
std::string EncodeRecipients(const std::vector<std::string>& recipients);
// The inverse of EncodeRecipients. kDataLoss for a dangling escape.
Result<std::vector<std::string>> DecodeRecipients(std::string_view text);

// Status details as the SQL backends store them (one blob per list, so one row per status
// whatever the number of objects): for each detail three length-prefixed fields
// ("<decimal length>:<bytes>") for id, version and message. Both backends use this one encoding,
// which `liaison store copy` relies on.
std::string EncodeStatusDetails(const std::vector<StatusDetail>& details);
// The inverse of EncodeStatusDetails. kDataLoss for a malformed blob.
Result<std::vector<StatusDetail>> DecodeStatusDetails(std::string_view blob);

// Collection media types as the SQL backends store them: joined by '\n' (media types contain
// no newline). SplitLines("") is the empty list.
std::string JoinLines(const std::vector<std::string>& values);
std::vector<std::string> SplitLines(const std::string& text);

// The values without repeats, in order of first appearance (query filters).
std::vector<std::string> Dedup(const std::vector<std::string>& values);

}  // namespace liaison::storage

#include "server/local_sharing.h"

#include <optional>
#include <string>
#include <utility>

#include "common/json_writer.h"
#include "policy/tlp.h"
#include "storage/hub_settings.h"

namespace liaison::server {
namespace {

class LocalReader final : public taxii::ReadFilter {
 public:
  explicit LocalReader(bool partner) : partner_(partner) {}
  bool Visible(const storage::StoredObject& object) override {
    return !partner_ && !object.label.sealed;
  }
  Result<std::string> Present(const storage::StoredObject& object) override {
    if (partner_ || object.label.sealed) return FailedPreconditionError(kNoIdentityMessage);
    return object.json;
  }

 private:
  const bool partner_;
};

}  // namespace

LocalOnlySharing::LocalOnlySharing(storage::Store& store, Notifier& events_changed)
    : store_(store), events_changed_(events_changed) {}

Result<taxii::PreparedAdd> LocalOnlySharing::PrepareAdd(const policy::Principal& principal,
                                                        const storage::Collection& collection,
                                                        std::vector<stix::ObjectInfo> objects) {
  if (principal.is_partner()) return FailedPreconditionError(kNoIdentityMessage);
  policy::Tlp default_tlp = policy::Tlp::kAmber;
  ASSIGN_OR_RETURN(std::optional<std::string> setting,
                   store_.GetSetting(storage::kDefaultTlpSetting));
  if (setting) {
    Result<policy::Tlp> parsed = policy::ParseTlp(*setting);
    if (parsed.ok()) default_tlp = *parsed;
  }
  taxii::PreparedAdd prepared;
  prepared.objects.reserve(objects.size());
  for (stix::ObjectInfo& info : objects) {
    storage::NewObject object;
    object.id = std::move(info.id);
    object.type = std::move(info.type);
    object.spec_version = std::move(info.spec_version);
    if (std::optional<stix::Timestamp> version = info.version()) object.version = version->micros;
    object.label.tlp =
        static_cast<int32_t>(policy::TlpOfMarkings(info.object_marking_refs).value_or(default_tlp));
    object.json = std::move(info.json);
    prepared.objects.push_back(std::move(object));
  }
  JsonWriter detail;
  detail.BeginObject();
  detail.Key("collection");
  detail.String(collection.id);
  detail.Key("objects");
  detail.Uint(prepared.objects.size());
  detail.EndObject();
  storage::AuditRecord record;
  record.kind = "publish";
  record.actor = principal.user;
  record.subject = collection.id;
  record.detail = std::move(detail).Take();
  prepared.audit.push_back(std::move(record));
  return prepared;
}

void LocalOnlySharing::Committed(const storage::Collection&,
                                 const storage::AddObjectsResult& result) {
  if (result.added > 0) events_changed_.Notify();
}

std::unique_ptr<taxii::ReadFilter> LocalOnlySharing::ForReader(const policy::Principal& principal,
                                                               const storage::Collection&) {
  return std::make_unique<LocalReader>(principal.is_partner());
}

}  // namespace liaison::server

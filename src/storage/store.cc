#include "storage/store.h"

namespace liaison::storage {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kPublisher:
      return "publisher";
    case Role::kReader:
      return "reader";
    case Role::kPartner:
      return "partner";
  }
  return "reader";
}

Result<Role> ParseRole(std::string_view name) {
  if (name == "admin") return Role::kAdmin;
  if (name == "publisher") return Role::kPublisher;
  if (name == "reader") return Role::kReader;
  if (name == "partner") return Role::kPartner;
  return InvalidArgumentError("unknown role '" + std::string(name) +
                              "' (expected admin, publisher, reader or partner)");
}

std::string_view OutboxStateName(OutboxState state) {
  switch (state) {
    case OutboxState::kQueued:
      return "queued";
    case OutboxState::kDelivered:
      return "delivered";
    case OutboxState::kFailed:
      return "failed";
  }
  return "queued";
}

std::string_view ChannelModeName(ChannelMode mode) {
  return mode == ChannelMode::kPull ? "pull" : "push";
}

Result<ChannelMode> ParseChannelMode(std::string_view name) {
  if (name == "push") return ChannelMode::kPush;
  if (name == "pull") return ChannelMode::kPull;
  return InvalidArgumentError("unknown channel mode '" + std::string(name) +
                              "' (expected push or pull)");
}

}  // namespace liaison::storage

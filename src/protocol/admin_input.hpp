#pragma once
// Bodies of the moderation endpoints: PUT /workers/{id}, PUT /status/modes.

#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace horde::protocol {

struct WorkerModifyInput {
    std::optional<bool> maintenance;
    std::optional<std::string> maintenance_msg;
    std::optional<bool> paused;
    std::optional<std::string> info;
    std::optional<std::string> name;
    std::optional<std::string> team;  // accepted, teams are not implemented yet
};
Result<WorkerModifyInput> DecodeWorkerModify(std::string_view body);

struct ModesInput {
    std::optional<bool> maintenance;
    std::optional<bool> invite_only;
    std::optional<bool> raid;
};
Result<ModesInput> DecodeModes(std::string_view body);

}  // namespace horde::protocol

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

namespace horde::protocol {

struct TransferInput {
    std::string username;
    int64_t amount = 100;
};
/// POST /kudos/transfer: a fractional amount is kInvalidKudosTransferAmount.
Result<TransferInput> DecodeTransfer(std::string_view body);

struct AwardInput {
    std::string username;
    double amount = 100;
};
Result<AwardInput> DecodeAward(std::string_view body);

struct UserModifyInput {
    std::optional<double> kudos;
    std::optional<bool> moderator;
    std::optional<bool> trusted;
    std::optional<bool> flagged;
    std::optional<int64_t> concurrency;
    std::optional<int64_t> worker_invited;
    std::optional<bool> public_workers;
    std::optional<std::string> username;
    std::optional<std::string> contact;
    std::optional<double> usage_multiplier;
    std::optional<double> monthly_kudos;
    std::optional<bool> customizer;
    std::optional<bool> vpn;
    std::optional<bool> service;
    std::optional<bool> education;
    std::optional<bool> special;
    std::optional<std::string> admin_comment;
    std::optional<bool> reset_suspicion;
};
Result<UserModifyInput> DecodeUserModify(std::string_view body);

}  // namespace horde::protocol

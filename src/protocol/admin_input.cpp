#include "protocol/admin_input.hpp"

#include "protocol/json_util.hpp"

namespace horde::protocol {

Result<WorkerModifyInput> DecodeWorkerModify(std::string_view body) {
    HORDE_TRY(auto object, ParseJsonObject(body));
    FieldReader f(object);
    WorkerModifyInput in;
    HORDE_TRY(in.maintenance, f.OptBool("maintenance"));
    HORDE_TRY(in.maintenance_msg, f.OptString("maintenance_msg", {.max_chars = 500}));
    HORDE_TRY(in.paused, f.OptBool("paused"));
    HORDE_TRY(in.info, f.OptString("info", {.max_chars = 1000}));
    HORDE_TRY(in.name, f.OptString("name", {.min_chars = 5, .max_chars = 100}));
    HORDE_TRY(in.team, f.OptString("team", {.max_chars = 36}));
    return in;
}

Result<ModesInput> DecodeModes(std::string_view body) {
    HORDE_TRY(auto object, ParseJsonObject(body));
    FieldReader f(object);
    ModesInput in;
    HORDE_TRY(in.maintenance, f.OptBool("maintenance"));
    HORDE_TRY(in.invite_only, f.OptBool("invite_only"));
    HORDE_TRY(in.raid, f.OptBool("raid"));
    return in;
}

}  // namespace horde::protocol

namespace horde::protocol {

Result<TransferInput> DecodeTransfer(std::string_view body) {
    HORDE_TRY(auto object, ParseJsonObject(body));
    FieldReader f(object);
    TransferInput in;
    HORDE_TRY(in.username, f.RequiredString("username", {.min_chars = 1, .max_chars = 255}));
    if (const auto* v = f.Find("amount")) {
        if (!v->is_number()) {
            return ValidationError("'amount' must be an integer", "amount");
        }
        const double d = v->to_number<double>();
        if (d != static_cast<double>(static_cast<int64_t>(d)) || d > 1e15 || d < -1e15) {
            return MakeError(ErrorCode::kInvalidKudosTransferAmount,
                             "Kudos are transferred in whole numbers.");
        }
        in.amount = static_cast<int64_t>(d);
    }
    return in;
}

Result<AwardInput> DecodeAward(std::string_view body) {
    HORDE_TRY(auto object, ParseJsonObject(body));
    FieldReader f(object);
    AwardInput in;
    HORDE_TRY(in.username, f.RequiredString("username", {.min_chars = 1, .max_chars = 255}));
    HORDE_TRY(in.amount, f.Double("amount", 100, -1e12, 1e12));
    return in;
}

Result<UserModifyInput> DecodeUserModify(std::string_view body) {
    HORDE_TRY(auto object, ParseJsonObject(body));
    FieldReader f(object);
    UserModifyInput in;
    HORDE_TRY(in.kudos, f.OptDouble("kudos", -1e12, 1e12));
    HORDE_TRY(in.moderator, f.OptBool("moderator"));
    HORDE_TRY(in.trusted, f.OptBool("trusted"));
    HORDE_TRY(in.flagged, f.OptBool("flagged"));
    HORDE_TRY(in.concurrency, f.OptInt("concurrency", 0, 500));
    HORDE_TRY(in.worker_invited, f.OptInt("worker_invited", 0, 100));
    HORDE_TRY(in.public_workers, f.OptBool("public_workers"));
    HORDE_TRY(in.username, f.OptString("username", {.min_chars = 3, .max_chars = 100}));
    if (in.username && in.username->size() > 30) {
        return MakeError(ErrorCode::kTooLongUserName);
    }
    HORDE_TRY(in.contact, f.OptString("contact", {.min_chars = 5, .max_chars = 500}));
    HORDE_TRY(in.usage_multiplier, f.OptDouble("usage_multiplier", 0.1, 10));
    HORDE_TRY(in.monthly_kudos, f.OptDouble("monthly_kudos", 0, 1e9));
    HORDE_TRY(in.customizer, f.OptBool("customizer"));
    HORDE_TRY(in.vpn, f.OptBool("vpn"));
    HORDE_TRY(in.service, f.OptBool("service"));
    HORDE_TRY(in.education, f.OptBool("education"));
    HORDE_TRY(in.special, f.OptBool("special"));
    HORDE_TRY(in.admin_comment, f.OptString("admin_comment", {.min_chars = 5, .max_chars = 500}));
    HORDE_TRY(in.reset_suspicion, f.OptBool("reset_suspicion"));
    return in;
}

}  // namespace horde::protocol

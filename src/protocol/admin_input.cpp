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

// PUT/DELETE /workers/{id}, PUT /status/modes.

#include <boost/json.hpp>

#include "api/api.hpp"
#include "api/error_mapping.hpp"
#include "protocol/admin_input.hpp"

namespace horde::api {

http::Response Api::WorkerModify(http::Request& req) const {
    auto caller = CallerOf(req, true);
    if (!caller) {
        return ErrorResponse(caller.error());
    }
    auto in = protocol::DecodeWorkerModify(req.body);
    if (!in) {
        return ErrorResponse(in.error());
    }
    service::HordeService::WorkerChange change{.maintenance = in->maintenance,
                                               .maintenance_msg = in->maintenance_msg,
                                               .paused = in->paused,
                                               .info = in->info,
                                               .name = in->name};
    auto v = service_.ModifyWorker(caller->user, req.path_params.at(0), change);
    if (!v) {
        return ErrorResponse(v.error());
    }
    // The reference echoes the fields that changed.
    boost::json::object out;
    if (in->maintenance) {
        out["maintenance"] = v->worker.maintenance;
    }
    if (in->paused) {
        out["paused"] = v->worker.paused;
    }
    if (in->info) {
        out["info"] = v->worker.info;
    }
    if (in->name) {
        out["name"] = v->worker.name;
    }
    return JsonResponse(200, out);
}

http::Response Api::WorkerDelete(http::Request& req) const {
    auto caller = CallerOf(req, true);
    if (!caller) {
        return ErrorResponse(caller.error());
    }
    auto v = service_.DeleteWorker(caller->user, req.path_params.at(0));
    if (!v) {
        return ErrorResponse(v.error());
    }
    return JsonResponse(200, boost::json::object{{"deleted_id", v->worker.id.value()},
                                                 {"deleted_name", v->worker.name}});
}

http::Response Api::ModesPut(http::Request& req) const {
    auto caller = CallerOf(req, true);
    if (!caller) {
        return ErrorResponse(caller.error());
    }
    auto in = protocol::DecodeModes(req.body);
    if (!in) {
        return ErrorResponse(in.error());
    }
    auto msg = MaintenanceMessageInput(req.body);
    if (!msg) {
        return ErrorResponse(msg.error());
    }
    if (*msg) {
        if (auto set = service_.SetMaintenanceMessage(caller->user, **msg); !set) {
            return ErrorResponse(set.error());
        }
    }
    const bool any_mode = in->maintenance || in->invite_only || in->raid;
    auto modes = any_mode || !*msg
                     ? service_.SetModes(caller->user, in->maintenance, in->invite_only, in->raid)
                     : Result<service::HordeService::Modes>(service_.GetModes());
    if (!modes) {
        return ErrorResponse(modes.error());
    }
    boost::json::object out;
    if (*msg) {
        out["maintenance_msg"] = **msg;
    }
    if (in->maintenance) {
        out["maintenance_mode"] = modes->maintenance;
    }
    if (in->invite_only) {
        out["invite_only_mode"] = modes->invite_only;
    }
    if (in->raid) {
        out["raid_mode"] = modes->raid;
    }
    return JsonResponse(200, out);
}

}  // namespace horde::api

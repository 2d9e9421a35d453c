// GET /status/heartbeat, /status/models(/{name}), /status/performance, /status/modes.

#include <boost/json.hpp>

#include "api/api.hpp"
#include "api/error_mapping.hpp"

namespace horde::api {

using domain::GenKind;

namespace {

boost::json::object EncodeModel(const service::ModelView& m) {
    const bool image = m.kind == GenKind::kImage;
    boost::json::object o;
    o["name"] = m.name;
    o["count"] = m.count;
    o["performance"] = m.performance;
    o["queued"] =
        image ? static_cast<double>(m.queued_things) / 1e6 : static_cast<double>(m.queued_things);
    o["jobs"] = static_cast<double>(m.jobs);
    o["eta"] = m.eta_s;
    o["type"] = image ? "image" : "text";
    return o;
}

}  // namespace

http::Response Api::Heartbeat(http::Request&) const {
    const auto h = service_.Heartbeat();
    boost::json::object o;
    o["message"] = "OK";
    o["version"] = settings_.version;
    o["queue"] = h.queued_jobs;
    o["threads"] = h.threads;
    o["active_count"] = h.workers;
    o["db_connection"] = true;
    return JsonResponse(200, o);
}

http::Response Api::Models(http::Request& req) const {
    const std::string type = req.Query("type", "image");
    if (type != "image" && type != "text") {
        return ErrorResponse(MakeError(ErrorCode::kValidationFailed,
                                       "'type' needs to be one of ['image', 'text']", "type"));
    }
    const std::string state = req.Query("model_state", "all");
    if (state != "all" && state != "known" && state != "custom") {
        return ErrorResponse(MakeError(
            ErrorCode::kValidationFailed,
            "'model_state' needs to be one of ['known', 'custom', 'all']", "model_state"));
    }
    int min_count = -1;
    int max_count = -1;
    try {
        min_count = std::stoi(req.Query("min_count", "-1"));
        max_count = std::stoi(req.Query("max_count", "-1"));
    } catch (const std::exception&) {
        return ErrorResponse(MakeError(ErrorCode::kValidationFailed,
                                       "'min_count' and 'max_count' must be integers",
                                       "min_count"));
    }
    boost::json::array out;
    for (const auto& m : service_.Models(type == "image" ? GenKind::kImage : GenKind::kText)) {
        if ((min_count >= 0 && m.count < min_count) || (max_count >= 0 && m.count > max_count)) {
            continue;
        }
        out.push_back(EncodeModel(m));
    }
    return JsonResponse(200, out);
}

http::Response Api::ModelByName(http::Request& req) const {
    const std::string& name = req.path_params.at(0);
    boost::json::array out;
    for (GenKind kind : {GenKind::kImage, GenKind::kText}) {
        for (const auto& m : service_.Models(kind)) {
            if (m.name == name) {
                out.push_back(EncodeModel(m));
            }
        }
    }
    return JsonResponse(200, out);
}

http::Response Api::Performance(http::Request&) const {
    const auto p = service_.Performance();
    boost::json::object o;
    o["queued_requests"] = p.queued_requests;
    o["queued_text_requests"] = p.queued_text_requests;
    o["worker_count"] = p.worker_count;
    o["text_worker_count"] = p.text_worker_count;
    o["thread_count"] = p.thread_count;
    o["text_thread_count"] = p.text_thread_count;
    o["queued_megapixelsteps"] = p.queued_megapixelsteps;
    o["past_minute_megapixelsteps"] = p.past_minute_megapixelsteps;
    o["queued_forms"] = 0.0;
    o["interrogator_count"] = 0;
    o["interrogator_thread_count"] = 0;
    o["queued_tokens"] = static_cast<double>(p.queued_tokens);
    o["past_minute_tokens"] = static_cast<double>(p.past_minute_tokens);
    return JsonResponse(200, o);
}

http::Response Api::ModesGet(http::Request& req) const {
    const auto modes = service_.GetModes();
    boost::json::object o;
    o["maintenance_mode"] = modes.maintenance;
    o["invite_only_mode"] = modes.invite_only;
    if (modes.maintenance) {
        o["maintenance_msg"] = service_.MaintenanceMessage();  // docs/web.md
    }
    if (!req.Header("apikey").empty()) {
        auto caller = CallerOf(req, true);
        if (!caller) {
            return ErrorResponse(caller.error());
        }
        if (!caller->user.moderator) {
            return ErrorResponse(MakeError(ErrorCode::kNotModerator));
        }
        o["raid_mode"] = modes.raid;
    }
    return JsonResponse(200, o);
}

}  // namespace horde::api

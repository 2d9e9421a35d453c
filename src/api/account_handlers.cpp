// GET /find_user, /users, /users/{id}, /workers, /workers/{id}, /workers/name/{name}.

#include <boost/json.hpp>
#include <charconv>
#include <ctime>

#include "api/api.hpp"
#include "api/error_mapping.hpp"
#include "domain/bridge_capabilities.hpp"

namespace horde::api {

using domain::GenKind;

namespace {

/// "Thu, 26 Nov 2026 15:04:05 GMT", the date format of the reference's responses.
std::string Rfc822(TimePoint t) {
    const std::time_t secs = static_cast<std::time_t>(ToUnixMillis(t) / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

double Stat(const service::UserView& v, const std::string& key) {
    auto it = v.stats.find(key);
    return it == v.stats.end() ? 0.0 : it->second;
}

/// privilege: 0 public, 1 the user itself, 2 a moderator.
boost::json::object EncodeUser(const service::UserView& v, int privilege, TimePoint now) {
    const auto& u = v.user;
    boost::json::object o;
    o["username"] = u.username + "#" + std::to_string(u.id.value());
    o["id"] = u.id.value();
    o["kudos"] = v.kudos.ToWire();
    o["concurrency"] = u.concurrency;
    o["worker_invited"] = u.worker_invited;
    o["moderator"] = u.moderator;
    o["trusted"] = u.trusted;
    o["flagged"] = u.flagged;
    o["pseudonymous"] = u.pseudonymous;
    o["service"] = u.service;
    o["education"] = u.education;
    o["customizer"] = u.customizer;
    o["deleted"] = u.deleted;
    o["worker_count"] = v.worker_count;
    o["account_age"] = static_cast<int64_t>(SecondsBetween(u.created, now));
    o["styles"] = boost::json::array();
    boost::json::object details;
    for (const char* key : {"accumulated", "gifted", "donated", "admin", "received", "recurring",
                            "awarded", "styled"}) {
        details[key] = 0.0;
    }
    // Our ledger's statistics mapped onto the reference's names; `accumulated` nets what was
    // earned by workers and spent on requests, as the reference's does.
    details["accumulated"] = Stat(v, "kudos.accumulated") + Stat(v, "kudos.used");
    details["gifted"] = Stat(v, "kudos.gifted");
    details["received"] = Stat(v, "kudos.received");
    details["admin"] = Stat(v, "kudos.admin");
    details["awarded"] = Stat(v, "kudos.awarded");
    details["recurring"] = Stat(v, "kudos.recurring");
    details["uptime"] = Stat(v, "kudos.uptime");
    details["generated"] = Stat(v, "kudos.accumulated");
    details["used"] = 0.0 - Stat(v, "kudos.used") + 0.0;
    o["kudos_details"] = std::move(details);
    o["usage"] = boost::json::object{{"megapixelsteps", nullptr}, {"requests", nullptr}};
    o["contributions"] =
        boost::json::object{{"megapixelsteps", nullptr}, {"fulfillments", nullptr}};
    boost::json::object records;
    records["usage"] =
        boost::json::object{{"megapixelsteps", Stat(v, "usage.megapixelsteps")},
                            {"tokens", static_cast<int64_t>(Stat(v, "usage.tokens"))}};
    records["contribution"] =
        boost::json::object{{"megapixelsteps", Stat(v, "contribution.megapixelsteps")},
                            {"tokens", static_cast<int64_t>(Stat(v, "contribution.tokens"))}};
    records["fulfillment"] =
        boost::json::object{{"image", static_cast<int64_t>(Stat(v, "fulfillment.image"))},
                            {"text", static_cast<int64_t>(Stat(v, "fulfillment.text"))},
                            {"interrogation", 0}};
    records["request"] =
        boost::json::object{{"image", static_cast<int64_t>(Stat(v, "request.image"))},
                            {"text", static_cast<int64_t>(Stat(v, "request.text"))},
                            {"interrogation", 0}};
    records["style"] = boost::json::object{{"image", 0}, {"text", 0}, {"interrogation", 0}};
    o["records"] = std::move(records);
    if (u.public_workers || privilege >= 1) {
        boost::json::array ids;
        for (const auto& w : v.worker_ids) {
            ids.push_back(boost::json::value(w.value()));
        }
        o["worker_ids"] = std::move(ids);
    }
    if (privilege >= 1) {
        o["sharedkey_ids"] = boost::json::array();
        if (!u.contact.empty()) {
            o["contact"] = u.contact;
        }
        o["vpn"] = u.vpn;
        o["special"] = u.special;
        if (!v.active_image.empty() || !v.active_text.empty()) {
            boost::json::array img;
            boost::json::array txt;
            for (const auto& r : v.active_image) {
                img.push_back(boost::json::value(r.value()));
            }
            for (const auto& r : v.active_text) {
                txt.push_back(boost::json::value(r.value()));
            }
            o["active_generations"] =
                boost::json::object{{"image", std::move(img)}, {"text", std::move(txt)}};
        }
    }
    if (privilege >= 1) {
        // The user may see its own escrow (the reference shows it to moderators only).
        o["evaluating_kudos"] = v.evaluating.ToWire();
    }
    if (privilege >= 2) {
        boost::json::object monthly{{"amount", static_cast<int64_t>(u.monthly_kudos.ToDouble())}};
        if (u.monthly_kudos_last.time_since_epoch().count() != 0) {
            monthly["last_received"] = Rfc822(u.monthly_kudos_last);
        }
        o["monthly_kudos"] = std::move(monthly);
        if (!u.admin_comment.empty()) {
            o["admin_comment"] = u.admin_comment;
        }
        o["suspicious"] = 0;
    }
    return o;
}

boost::json::object EncodeWorker(const service::WorkerView& v, int privilege) {
    const auto& w = v.worker;
    const bool image = w.kind == GenKind::kImage;
    boost::json::object o;
    o["type"] = image ? "image" : "text";
    o["name"] = w.name;
    o["id"] = w.id.value();
    o["online"] = v.online;
    o["requests_fulfilled"] = w.fulfilments;
    o["uncompleted_jobs"] = w.aborted_jobs;
    o["kudos_rewards"] = (w.kudos_generated + w.kudos_uptime).ToWire();
    o["kudos_details"] = boost::json::object{{"generated", w.kudos_generated.ToWire()},
                                             {"uptime", w.kudos_uptime.ToWire()}};
    double speed = 0;
    for (double s : w.speed_samples) {
        speed += s;
    }
    if (!w.speed_samples.empty()) {
        speed /= static_cast<double>(w.speed_samples.size());
    }
    char perf[64];
    if (image) {
        std::snprintf(perf, sizeof perf, "%.1f megapixelsteps per second", speed / 1e6);
    } else {
        std::snprintf(perf, sizeof perf, "%.1f tokens per second", speed);
    }
    o["performance"] = perf;
    o["threads"] = w.profile.threads;
    o["uptime"] = w.uptime_s;
    o["maintenance_mode"] = w.maintenance;
    if (!w.info.empty()) {
        o["info"] = w.info;
    }
    o["trusted"] = v.owner_trusted;
    o["flagged"] = false;
    o["team"] = boost::json::object{{"name", nullptr}, {"id", nullptr}};
    o["bridge_agent"] = w.profile.bridge_agent;
    o["nsfw"] = w.profile.nsfw;
    boost::json::array models;
    for (const auto& m : w.profile.models) {
        models.push_back(boost::json::value(m));
    }
    o["models"] = std::move(models);
    if (v.owner_public_workers || privilege >= 1) {
        o["owner"] = v.owner_name;
        o["messages"] = boost::json::array();
    }
    if (privilege >= 2) {
        o["paused"] = w.paused;
        o["suspicious"] = 0;
        o["ipaddr"] = w.ipaddr;
    }
    if (image) {
        o["max_pixels"] = w.profile.max_pixels;
        o["megapixelsteps_generated"] = w.things_done / 1e6;
        o["img2img"] = w.profile.allow_img2img;
        o["painting"] = w.profile.allow_painting;
        o["post-processing"] = w.profile.allow_post_processing;
        o["controlnet"] = w.profile.allow_controlnet;
        o["sdxl_controlnet"] = w.profile.allow_sdxl_controlnet;
        o["lora"] = w.profile.allow_lora;
    } else {
        o["max_length"] = w.profile.max_length;
        o["max_context_length"] = w.profile.max_context_length;
        o["tokens_generated"] = static_cast<int64_t>(w.things_done);
    }
    return o;
}

}  // namespace

http::Response Api::FindUser(http::Request& req) const {
    if (req.Header("apikey").empty()) {
        return ErrorResponse(MakeError(ErrorCode::kInvalidApiKey));
    }
    auto caller = CallerOf(req, true);
    if (!caller) {
        if (caller.error().code == ErrorCode::kInvalidApiKey) {
            return ErrorResponse(
                MakeError(ErrorCode::kUserNotFound,
                          "User with api_key '" + req.Header("apikey") + "' not found."));
        }
        return ErrorResponse(caller.error());
    }
    auto view = service_.GetUser(caller->user.id);
    if (!view) {
        return ErrorResponse(view.error());
    }
    view->user = caller->user;
    return JsonResponse(200,
                        EncodeUser(*view, caller->user.moderator ? 2 : 1, service_.clock().Now()));
}

http::Response Api::Users(http::Request& req) const {
    int page = 1;
    const std::string p = req.Query("page", "1");
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), page);
    if (ec != std::errc() || ptr != p.data() + p.size() || page < 1) {
        return ErrorResponse(
            MakeError(ErrorCode::kValidationFailed, "'page' must be a positive integer", "page"));
    }
    const std::string sort = req.Query("sort", "kudos");
    if (sort != "kudos" && sort != "age") {
        return ErrorResponse(MakeError(ErrorCode::kValidationFailed,
                                       "'sort' must be one of 'kudos', 'age'", "sort"));
    }
    boost::json::array out;
    if (page <= 10000) {
        const auto now = service_.clock().Now();
        for (const auto& v : service_.ListUsers(page, sort)) {
            out.push_back(EncodeUser(v, 0, now));
        }
    }
    return JsonResponse(200, out);
}

http::Response Api::UserById(http::Request& req) const {
    const std::string& raw = req.path_params.at(0);
    int64_t id = -1;
    auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), id);
    if (ec != std::errc() || ptr != raw.data() + raw.size() || id < 0) {
        return ErrorResponse(
            MakeError(ErrorCode::kUserNotFound, "User with ID '" + raw + "' not found."));
    }
    int privilege = 0;
    if (!req.Header("apikey").empty()) {
        auto caller = CallerOf(req, true);
        if (!caller) {
            return ErrorResponse(caller.error());
        }
        privilege = caller->user.moderator ? 2 : (caller->user.id.value() == id ? 1 : 0);
    }
    auto view = service_.GetUser(UserId(id));
    if (!view || view->user.deleted) {
        return ErrorResponse(
            MakeError(ErrorCode::kUserNotFound, "User with ID '" + raw + "' not found."));
    }
    return JsonResponse(200, EncodeUser(*view, privilege, service_.clock().Now()));
}

http::Response Api::Workers(http::Request& req) const {
    std::optional<GenKind> kind;
    const std::string type = req.Query("type");
    if (type == "image") {
        kind = GenKind::kImage;
    } else if (type == "text") {
        kind = GenKind::kText;
    } else if (type == "interrogation") {
        return JsonResponse(200, boost::json::array());
    } else if (!type.empty()) {
        return ErrorResponse(MakeError(ErrorCode::kValidationFailed,
                                       "'type' must be one of 'image', 'text', 'interrogation'",
                                       "type"));
    }
    int privilege = 0;
    if (!req.Header("apikey").empty()) {
        auto caller = CallerOf(req, true);
        if (!caller) {
            return ErrorResponse(caller.error());
        }
        privilege = caller->user.moderator ? 2 : 0;
    }
    boost::json::array out;
    for (const auto& v : service_.ListWorkers(kind, req.Query("name"))) {
        out.push_back(EncodeWorker(v, privilege));
    }
    return JsonResponse(200, out);
}

namespace {

int WorkerPrivilege(const std::optional<service::Caller>& caller, const service::WorkerView& v) {
    if (!caller) {
        return 0;
    }
    if (caller->user.moderator) {
        return 2;
    }
    return caller->user.id == v.worker.owner ? 1 : 0;
}

}  // namespace

http::Response Api::WorkerById(http::Request& req) const {
    return WorkerResponse(req, [&] { return service_.GetWorker(req.path_params.at(0)); });
}

http::Response Api::WorkerByName(http::Request& req) const {
    return WorkerResponse(req, [&] { return service_.GetWorkerByName(req.path_params.at(0)); });
}

http::Response Api::WorkerResponse(
    const http::Request& req, const std::function<Result<service::WorkerView>()>& lookup) const {
    std::optional<service::Caller> caller;
    if (!req.Header("apikey").empty()) {
        auto c = CallerOf(req, true);
        if (!c) {
            return ErrorResponse(c.error());
        }
        caller = std::move(*c);
    }
    auto v = lookup();
    if (!v) {
        return ErrorResponse(v.error());
    }
    return JsonResponse(200, EncodeWorker(*v, WorkerPrivilege(caller, *v)));
}

}  // namespace horde::api

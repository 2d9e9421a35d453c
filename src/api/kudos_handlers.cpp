// POST /kudos/transfer, POST /kudos/award, PUT /users/{id}.

#include <boost/json.hpp>
#include <charconv>

#include "api/api.hpp"
#include "api/error_mapping.hpp"
#include "protocol/admin_input.hpp"

namespace horde::api {

namespace {

constexpr size_t kIdempotencyKeyMaxChars = 255;

}  // namespace

http::Response Api::KudosTransfer(http::Request& req) const {
    auto caller = CallerOf(req, true);
    if (!caller) {
        return ErrorResponse(caller.error());
    }
    auto in = protocol::DecodeTransfer(req.body);
    if (!in) {
        return ErrorResponse(in.error());
    }
    const std::string& key = req.Header("idempotency-key");
    if (key.size() > kIdempotencyKeyMaxChars) {
        return ErrorResponse(MakeError(ErrorCode::kValidationFailed,
                                       "Idempotency-Key must be at most 255 characters",
                                       "Idempotency-Key"));
    }
    auto out = service_.Transfer(caller->user, in->username, in->amount, key);
    if (!out) {
        return ErrorResponse(out.error());
    }
    return JsonResponse(200, boost::json::object{{"transferred", out->ToWire()}});
}

http::Response Api::KudosAward(http::Request& req) const {
    auto caller = CallerOf(req, true);
    if (!caller) {
        return ErrorResponse(caller.error());
    }
    auto in = protocol::DecodeAward(req.body);
    if (!in) {
        return ErrorResponse(in.error());
    }
    auto out = service_.Award(caller->user, in->username, Kudos::FromDoubleCents(in->amount));
    if (!out) {
        return ErrorResponse(out.error());
    }
    return JsonResponse(200, boost::json::object{{"awarded", out->ToWire()}});
}

http::Response Api::UserModify(http::Request& req) const {
    auto caller = CallerOf(req, true);
    if (!caller) {
        return ErrorResponse(caller.error());
    }
    const std::string& raw = req.path_params.at(0);
    int64_t id = -1;
    auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), id);
    if (ec != std::errc() || ptr != raw.data() + raw.size() || id < 0) {
        return ErrorResponse(
            MakeError(ErrorCode::kUserNotFound, "User with ID '" + raw + "' not found."));
    }
    auto in = protocol::DecodeUserModify(req.body);
    if (!in) {
        return ErrorResponse(in.error());
    }
    service::HordeService::UserChange c;
    if (in->kudos) {
        c.kudos = Kudos::FromDoubleCents(*in->kudos);
    }
    c.moderator = in->moderator;
    c.trusted = in->trusted;
    c.flagged = in->flagged;
    if (in->concurrency) {
        c.concurrency = static_cast<int>(*in->concurrency);
    }
    if (in->worker_invited) {
        c.worker_invited = static_cast<int>(*in->worker_invited);
    }
    c.public_workers = in->public_workers;
    c.username = in->username;
    c.contact = in->contact;
    c.usage_multiplier = in->usage_multiplier;
    if (in->monthly_kudos) {
        c.monthly_kudos = Kudos::FromDoubleCents(*in->monthly_kudos);
    }
    c.customizer = in->customizer;
    c.vpn = in->vpn;
    c.service = in->service;
    c.education = in->education;
    c.special = in->special;
    c.admin_comment = in->admin_comment;
    c.reset_suspicion = in->reset_suspicion.value_or(false);
    auto out = service_.ModifyUser(caller->user, UserId(id), c);
    if (!out) {
        return ErrorResponse(out.error());
    }
    // Echo what changed, as the reference's ModifyUser model does.
    const auto& u = out->user;
    boost::json::object o;
    if (out->new_kudos) {
        o["new_kudos"] = out->new_kudos->ToWire();
    }
    if (in->moderator) {
        o["moderator"] = u.moderator;
    }
    if (in->trusted) {
        o["trusted"] = u.trusted;
    }
    if (in->flagged) {
        o["flagged"] = u.flagged;
    }
    if (in->concurrency) {
        o["concurrency"] = u.concurrency;
    }
    if (in->worker_invited) {
        o["worker_invited"] = u.worker_invited;
    }
    if (in->public_workers) {
        o["public_workers"] = u.public_workers;
    }
    if (in->username) {
        o["username"] = u.username;
    }
    if (in->contact) {
        o["contact"] = u.contact;
    }
    if (in->usage_multiplier) {
        o["usage_multiplier"] = u.usage_multiplier;
    }
    if (in->monthly_kudos) {
        o["monthly_kudos"] = u.monthly_kudos.ToWire();
    }
    auto echo = [&](const std::optional<bool>& sent, const char* key, bool value) {
        if (sent) {
            o[key] = value;
        }
    };
    echo(in->customizer, "customizer", u.customizer);
    echo(in->vpn, "vpn", u.vpn);
    echo(in->service, "service", u.service);
    echo(in->education, "education", u.education);
    echo(in->special, "special", u.special);
    if (in->admin_comment) {
        o["admin_comment"] = u.admin_comment;
    }
    if (in->reset_suspicion) {
        o["new_suspicion"] = 0;
    }
    return JsonResponse(200, o);
}

}  // namespace horde::api

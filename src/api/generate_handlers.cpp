// POST /generate[/text]/async, GET /generate/check|status, GET/DELETE /generate[/text]/status.

#include <boost/json.hpp>

#include "api/api.hpp"
#include "api/error_mapping.hpp"
#include "protocol/generate_input.hpp"

namespace horde::api {

using domain::GenKind;

namespace {

boost::json::value SeedValue(GenKind kind, int64_t seed) {
    if (kind == GenKind::kImage) {
        return boost::json::value(std::to_string(seed));
    }
    return boost::json::value(seed);
}

boost::json::value MetadataOf(const std::string& json) {
    boost::system::error_code ec;
    auto v = boost::json::parse(json, ec);
    if (ec || !v.is_array()) {
        return boost::json::array();
    }
    return v;
}

http::Response AcceptedResponse(const Result<service::Accepted>& accepted, bool dry_run) {
    if (!accepted) {
        return ErrorResponse(accepted.error());
    }
    boost::json::object body;
    if (dry_run) {
        body["kudos"] = accepted->kudos.ToWire();
        return JsonResponse(200, body);
    }
    body["id"] = accepted->id.value();
    body["kudos"] = accepted->kudos.ToWire();
    if (!accepted->message.empty()) {
        body["message"] = accepted->message;
    }
    if (!accepted->warnings.empty()) {
        boost::json::array warnings;
        for (const auto& [code, message] : accepted->warnings) {
            warnings.push_back(boost::json::object{{"code", code}, {"message", message}});
        }
        body["warnings"] = std::move(warnings);
    }
    return JsonResponse(202, body);
}

}  // namespace

void Api::ImageAsync(http::Request& req, const Responder& out) const {
    Async(GenKind::kImage, req, out);
}
void Api::TextAsync(http::Request& req, const Responder& out) const {
    Async(GenKind::kText, req, out);
}

void Api::Async(GenKind kind, http::Request& req, const Responder& out) const {
    auto decoded = kind == GenKind::kImage ? protocol::DecodeImageGenerate(req.body)
                                           : protocol::DecodeTextGenerate(req.body);
    if (!decoded) {
        return out.Send(ErrorResponse(decoded.error()));
    }
    auto caller = CallerOf(req, false);
    if (!caller) {
        return out.Send(ErrorResponse(caller.error()));
    }
    service::NewRequest input;
    input.request = std::move(decoded->request);
    input.request.kind = kind;
    input.dry_run = decoded->dry_run;
    input.allow_downgrade = decoded->allow_downgrade;
    input.source_image = std::move(decoded->source_image);
    input.source_mask = std::move(decoded->source_mask);
    // The 202 is sent once the request is stored.
    service_.SubmitRequestThen(
        std::move(input), *caller, out.Resume(),
        [out, dry_run = decoded->dry_run](Result<service::Accepted> accepted) {
            out.Send(AcceptedResponse(accepted, dry_run));
        });
}

boost::json::object Api::EncodeRequestView(const http::Request& req, const service::RequestView& v,
                                           bool full) const {
    boost::json::object o;
    o["finished"] = v.finished;
    o["processing"] = v.processing;
    o["restarted"] = v.restarted;
    o["waiting"] = v.waiting;
    o["done"] = v.done;
    o["faulted"] = v.request.faulted;
    o["wait_time"] = v.wait_time_s;
    o["queue_position"] = v.queue_position;
    o["kudos"] = v.request.consumed.ToWire();
    o["is_possible"] = v.is_possible;
    if (!full) {
        return o;
    }
    const bool image = v.request.kind == GenKind::kImage;
    boost::json::array gens;
    for (const auto& g : v.generations) {
        boost::json::object go;
        if (image) {
            if (v.request.r2) {
                go["img"] = SignedResultUrl(req, g.result_name, "get");
            } else {
                auto bytes = service_.files().Read(g.result_name);
                go["img"] = bytes ? service::EncodeBase64(*bytes) : std::string();
            }
            go["id"] = g.job.id.value();
            go["censored"] = g.job.censored;
        } else {
            go["text"] = g.job.generation;
        }
        go["seed"] = SeedValue(v.request.kind, g.job.seed);
        go["worker_id"] = g.job.worker.value();
        go["worker_name"] = g.job.worker_name;
        go["model"] = g.job.model;
        go["state"] = image ? "ok" : g.job.result_state;
        go["gen_metadata"] = MetadataOf(g.job.gen_metadata_json);
        gens.push_back(std::move(go));
    }
    o["generations"] = std::move(gens);
    if (image) {
        o["shared"] = v.request.shared;
    }
    return o;
}

http::Response Api::Status(GenKind kind, http::Request& req, bool full, bool cancel) const {
    const std::string& id = req.path_params.at(0);
    auto view = cancel ? service_.CancelRequest(kind, id) : service_.GetRequest(kind, id, full);
    if (!view) {
        return ErrorResponse(view.error());
    }
    return JsonResponse(200, EncodeRequestView(req, *view, full));
}

http::Response Api::ImageCheck(http::Request& req) const {
    return Status(GenKind::kImage, req, false, false);
}
http::Response Api::ImageStatus(http::Request& req) const {
    return Status(GenKind::kImage, req, true, false);
}
http::Response Api::ImageCancel(http::Request& req) const {
    return Status(GenKind::kImage, req, true, true);
}
http::Response Api::TextStatus(http::Request& req) const {
    return Status(GenKind::kText, req, true, false);
}
http::Response Api::TextCancel(http::Request& req) const {
    return Status(GenKind::kText, req, true, true);
}

}  // namespace horde::api

// POST /generate[/text]/pop, /generate[/text]/submit, and the results store URLs.

#include <array>
#include <boost/json.hpp>

#include "api/api.hpp"
#include "api/error_mapping.hpp"
#include "common/ids.hpp"
#include "protocol/job_payload.hpp"
#include "protocol/worker_input.hpp"

namespace horde::api {

using domain::GenKind;

namespace {

/// The twelve keys an empty image pop always reports (0 when nothing was skipped for them).
constexpr const char* kImageSkippedKeys[] = {
    "bridge_version", "untrusted", "performance", "controlnet", "post-processing", "lora",
    "nsfw",           "unsafe_ip", "painting",    "img2img",    "worker_id",       "models"};

bool IsResultName(const std::string& name) {
    return name.size() == 41 && name.ends_with(".webp") && IsUuid(name.substr(0, 36));
}

}  // namespace

void Api::ImagePop(http::Request& req, const Responder& out) const {
    Pop(GenKind::kImage, req, out);
}
void Api::TextPop(http::Request& req, const Responder& out) const { Pop(GenKind::kText, req, out); }
void Api::ImageSubmit(http::Request& req, const Responder& out) const {
    Submit(GenKind::kImage, req, out);
}
void Api::TextSubmit(http::Request& req, const Responder& out) const {
    Submit(GenKind::kText, req, out);
}

void Api::Pop(GenKind kind, http::Request& req, const Responder& answer) const {
    auto caller = CallerOf(req, true);
    if (!caller) {
        return answer.Send(ErrorResponse(caller.error()));
    }
    auto input = kind == GenKind::kImage ? protocol::DecodeImagePop(req.body)
                                         : protocol::DecodeTextPop(req.body);
    if (!input) {
        return answer.Send(ErrorResponse(input.error()));
    }
    // The jobs are sent once their claim is stored; the answer's URLs need the request's host.
    auto held = std::make_shared<http::Request>(std::move(req));
    service_.PopThen(kind, input->name, std::move(input->profile), input->amount, *caller,
                     answer.Resume(), [this, kind, held, answer](Result<service::PopOutcome> out) {
                         answer.Send(PopResponse(kind, *held, out));
                     });
}

http::Response Api::PopResponse(GenKind kind, const http::Request& req,
                                const Result<service::PopOutcome>& out) const {
    if (!out) {
        return ErrorResponse(out.error());
    }
    // The answer's tree lives in one arena (a pop's is ~2-4 KiB: the payload, the URLs), freed
    // at once after it is written out.
    std::array<unsigned char, 8192> arena;
    boost::json::monotonic_resource mr(arena.data(), arena.size());
    boost::json::object body(&mr);
    body.reserve(16);
    body["messages"] = boost::json::array();
    const bool image = kind == GenKind::kImage;
    if (!out->request) {
        boost::json::object skipped(&mr);
        if (image) {
            for (const char* key : kImageSkippedKeys) {
                skipped[key] = 0;
            }
        }
        for (const auto& [key, count] : out->skipped) {
            skipped[key] = count;
        }
        body["payload"] = boost::json::object();
        body["id"] = nullptr;
        body["ids"] = boost::json::array();
        body["ttl"] = nullptr;
        body["model"] = nullptr;
        body["skipped"] = std::move(skipped);
        body["extra_source_images"] = nullptr;
        if (image) {
            body["source_image"] = nullptr;
            body["source_processing"] = "img2img";
            body["source_mask"] = nullptr;
            body["r2_upload"] = nullptr;
            body["r2_uploads"] = nullptr;
        } else {
            body["softprompt"] = nullptr;
        }
        return JsonResponse(200, body);
    }
    const auto& r = *out->request;
    const auto& jobs = out->jobs;
    boost::json::array ids(&mr);
    for (const auto& j : jobs) {
        ids.push_back(boost::json::value(j.id.value()));
    }
    body["id"] = jobs.front().id.value();
    body["ids"] = std::move(ids);
    body["model"] = jobs.front().model;
    body["ttl"] = jobs.front().ttl_s;
    body["skipped"] = boost::json::object();
    body["extra_source_images"] = nullptr;
    if (!image) {
        body["payload"] = protocol::TextPopPayload(r, &mr);
        body["softprompt"] = r.text.softprompt.empty()
                                 ? boost::json::value(nullptr)
                                 : boost::json::value(r.text.softprompt.view());
        return JsonResponse(200, body);
    }
    const bool censor = !r.nsfw && r.censor_nsfw;
    body["payload"] =
        protocol::ImagePopPayload(r, jobs.front().seed, static_cast<int>(jobs.size()), censor, &mr);
    auto source = [&](std::string_view ref) -> boost::json::value {
        if (ref.empty()) {
            return nullptr;
        }
        if (ref.rfind("http", 0) == 0) {
            return boost::json::value(ref);
        }
        if (out->caps.Has(domain::Capability::kR2Source)) {
            return boost::json::value(SignedResultUrl(req, std::string(ref), "get"));
        }
        auto bytes = service_.files().Read(std::string(ref));
        return bytes ? boost::json::value(service::EncodeBase64(*bytes))
                     : boost::json::value(nullptr);
    };
    body["source_image"] = source(r.source_image);
    body["source_mask"] = source(r.source_mask);
    body["source_processing"] = r.image.source_processing.view();
    boost::json::array uploads(&mr);
    for (const auto& j : jobs) {
        uploads.push_back(boost::json::value(SignedResultUrl(req, j.id.value() + ".webp", "put")));
    }
    body["r2_upload"] = uploads.front();
    body["r2_uploads"] = std::move(uploads);
    return JsonResponse(200, body);
}

void Api::Submit(GenKind kind, http::Request& req, const Responder& answer) const {
    auto caller = CallerOf(req, true);
    if (!caller) {
        return answer.Send(ErrorResponse(caller.error()));
    }
    auto input = protocol::DecodeSubmit(req.body, kind);
    if (!input) {
        return answer.Send(ErrorResponse(input.error()));
    }
    service::HordeService::SubmitInput s;
    s.job_id = input->id.value();
    s.generation = std::move(input->generation);
    s.state = input->state;
    s.seed = input->seed;
    s.censored = input->censored;
    s.gen_metadata_json = input->gen_metadata_json;
    // The reward is sent once the settlement is stored.
    service_.SubmitThen(
        kind, std::move(s), *caller, answer.Resume(), [answer](Result<service::SubmitOutcome> out) {
            answer.Send(
                out ? JsonResponse(200, boost::json::object{{"reward", out->reward.ToWire()}})
                    : ErrorResponse(out.error()));
        });
}

http::Response Api::ResultPut(http::Request& req) const {
    const std::string& name = req.path_params.at(0);
    if (!IsResultName(name)) {
        return ErrorResponse(MakeError(ErrorCode::kNotFound));
    }
    int64_t expires = 0;
    try {
        expires = std::stoll(req.Query("expires", "0"));
    } catch (const std::exception&) {
        expires = 0;
    }
    if (auto ok = service_.VerifyUrl(name, "put", expires, req.Query("sig")); !ok) {
        return ErrorResponse(ok.error());
    }
    if (auto ok = service_.AcceptUpload(name.substr(0, 36), req.body); !ok) {
        return ErrorResponse(ok.error());
    }
    http::Response resp;
    resp.status = 200;
    resp.body = "";
    resp.content_type = "text/plain";
    return resp;
}

http::Response Api::ResultGet(http::Request& req) const {
    const std::string& name = req.path_params.at(0);
    int64_t expires = 0;
    try {
        expires = std::stoll(req.Query("expires", "0"));
    } catch (const std::exception&) {
        expires = 0;
    }
    if (auto ok = service_.VerifyUrl(name, "get", expires, req.Query("sig")); !ok) {
        return ErrorResponse(ok.error());
    }
    if (!service_.files().Exists(name)) {
        return ErrorResponse(MakeError(ErrorCode::kNotFound, "This result no longer exists."));
    }
    http::Response resp;
    resp.status = 200;
    resp.content_type = name.ends_with(".webp") ? "image/webp" : "application/octet-stream";
    resp.file_path = service_.files().PathOf(name);
    resp.headers.emplace_back("Cache-Control", "private, max-age=1800");
    return resp;
}

}  // namespace horde::api

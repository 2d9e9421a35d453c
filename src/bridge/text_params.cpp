#include "bridge/text_params.hpp"

#include <algorithm>

namespace horde::bridge {

namespace {

constexpr int64_t kDefaultMaxLength = 80;
constexpr int64_t kDefaultMaxContextLength = 2048;

void CopyIfPositive(const json::object& from, std::string_view key, json::object& to,
                    std::string_view as) {
    if (const auto v = json::OptDouble(from, key); v && *v > 0) {
        to[as] = *v;
    }
}

}  // namespace

TextJob ParseTextPayload(const json::object& payload, const TextLimits& limits,
                         std::string backend_model, int64_t seed) {
    TextJob job;
    job.prompt = json::String(payload, "prompt");
    job.params = payload;
    job.params.erase("prompt");
    job.params.erase("n");
    const int64_t length = json::Int(payload, "max_length", kDefaultMaxLength);
    const int64_t context = json::Int(payload, "max_context_length", kDefaultMaxContextLength);
    job.max_length = static_cast<int>(std::clamp<int64_t>(length, 1, limits.max_length));
    job.max_context_length =
        static_cast<int>(std::clamp<int64_t>(context, 1, limits.max_context_length));
    job.max_length = std::min(job.max_length, job.max_context_length);
    job.params["max_length"] = job.max_length;
    job.params["max_context_length"] = job.max_context_length;
    job.model = std::move(backend_model);
    job.seed = seed;
    return job;
}

json::object BuildKoboldRequest(const TextJob& job, std::string_view genkey) {
    json::object body = job.params;
    body["prompt"] = job.prompt;
    body["max_length"] = job.max_length;
    body["max_context_length"] = job.max_context_length;
    if (json::Find(body, "sampler_seed") == nullptr) {
        body["sampler_seed"] = job.seed;
    }
    body["quiet"] = true;
    body["genkey"] = genkey;
    return body;
}

json::object BuildOpenAiRequest(const TextJob& job) {
    const json::object& p = job.params;
    json::object body;
    body["model"] = job.model;
    body["prompt"] = job.prompt;
    body["max_tokens"] = job.max_length;
    body["stream"] = false;
    body["seed"] = job.seed;
    if (const auto v = json::OptDouble(p, "temperature")) {
        body["temperature"] = *v;
    }
    if (const auto v = json::OptDouble(p, "top_p")) {
        body["top_p"] = *v;
    }
    if (const auto v = json::OptInt(p, "top_k"); v && *v > 0) {
        body["top_k"] = *v;
    }
    CopyIfPositive(p, "min_p", body, "min_p");
    if (const auto v = json::OptDouble(p, "typical"); v && *v > 0 && *v < 1) {
        body["typical_p"] = *v;
    }
    if (const auto v = json::OptDouble(p, "tfs"); v && *v > 0 && *v < 1) {
        body["tfs_z"] = *v;
    }
    CopyIfPositive(p, "top_a", body, "top_a");
    if (const auto v = json::OptDouble(p, "rep_pen"); v && *v > 0) {
        body["repetition_penalty"] = *v;
        body["repeat_penalty"] = *v;
    }
    if (const auto v = json::OptInt(p, "rep_pen_range"); v && *v > 0) {
        body["repeat_last_n"] = *v;
    }
    const auto stops = json::Strings(p, "stop_sequence");
    if (!stops.empty()) {
        json::array stop;
        for (const auto& s : stops) {
            if (!s.empty()) {
                stop.emplace_back(s);
            }
        }
        if (!stop.empty()) {
            body["stop"] = std::move(stop);
        }
    }
    CopyIfPositive(p, "smoothing_factor", body, "smoothing_factor");
    if (const auto v = json::OptDouble(p, "dynatemp_range"); v && *v > 0) {
        body["dynatemp_range"] = *v;
        body["dynatemp_exponent"] = json::Double(p, "dynatemp_exponent", 1.0);
    }
    return body;
}

std::string FinishText(std::string text, const json::object& params) {
    if (json::Bool(params, "singleline", false)) {
        // A leading line break is part of the reply's formatting, not its end.
        const size_t start = text.find_first_not_of("\r\n");
        if (start != std::string::npos) {
            const size_t cut = text.find_first_of("\r\n", start);
            if (cut != std::string::npos) {
                text.resize(cut);
            }
        }
    }
    return text;
}

}  // namespace horde::bridge

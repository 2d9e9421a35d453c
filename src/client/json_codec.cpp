#include "client/json_codec.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace horde::client {

namespace json = boost::json;

namespace {

// ---------------------------------------------------------------------------------------------
// Writing

/// Writes `v` compactly; doubles in the shortest round-trip form with a decimal point.
void Write(const json::value& v, std::string& out) {
    switch (v.kind()) {
        case json::kind::null:
            out += "null";
            return;
        case json::kind::bool_:
            out += v.get_bool() ? "true" : "false";
            return;
        case json::kind::int64:
            out += std::to_string(v.get_int64());
            return;
        case json::kind::uint64:
            out += std::to_string(v.get_uint64());
            return;
        case json::kind::double_: {
            const double d = v.get_double();
            if (!std::isfinite(d)) {
                out += "null";
                return;
            }
            char buf[64];
            auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
            std::string s(buf, ec == std::errc() ? end : buf);
            if (s.find_first_of(".eE") == std::string::npos) {
                s += ".0";
            }
            out += s;
            return;
        }
        case json::kind::string:
            out += json::serialize(v);
            return;
        case json::kind::array: {
            out += '[';
            bool first = true;
            for (const auto& e : v.get_array()) {
                if (!first) {
                    out += ',';
                }
                first = false;
                Write(e, out);
            }
            out += ']';
            return;
        }
        case json::kind::object: {
            out += '{';
            bool first = true;
            for (const auto& kv : v.get_object()) {
                if (!first) {
                    out += ',';
                }
                first = false;
                out += json::serialize(json::value(kv.key()));
                out += ':';
                Write(kv.value(), out);
            }
            out += '}';
            return;
        }
    }
}

std::string Serialize(const json::value& v) {
    std::string out;
    Write(v, out);
    return out;
}

template <typename T>
void Put(json::object& o, const char* key, const std::optional<T>& v) {
    if (v) {
        o[key] = *v;
    }
}

void Put(json::object& o, const char* key, const std::optional<std::vector<std::string>>& v) {
    if (v) {
        json::array a;
        for (const auto& s : *v) {
            a.emplace_back(s);
        }
        o[key] = std::move(a);
    }
}

void Put(json::object& o, const char* key, const std::optional<std::vector<int>>& v) {
    if (v) {
        json::array a;
        for (int x : *v) {
            a.emplace_back(x);
        }
        o[key] = std::move(a);
    }
}

/// Parses `text` as a JSON object (for the extra_json escape hatches).
ApiResult<json::object> ParseObject(const std::string& text, const char* what) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) {
        return MakeApiError(ErrorKind::kInvalidArgument,
                            std::string(what) + " must be a JSON object");
    }
    return std::move(v.get_object());
}

/// Adds the members of `extra_json` (when set) to `o`, replacing same-named ones.
ApiResult<void> Merge(json::object& o, const std::string& extra_json, const char* what) {
    if (extra_json.empty()) {
        return {};
    }
    auto extra = ParseObject(extra_json, what);
    if (!extra) {
        return std::move(extra).error();
    }
    for (auto& kv : *extra) {
        o[kv.key()] = kv.value();
    }
    return {};
}

ApiResult<json::object> EncodeImageParams(const ImageParams& p) {
    json::object o;
    Put(o, "sampler_name", p.sampler_name);
    Put(o, "cfg_scale", p.cfg_scale);
    Put(o, "denoising_strength", p.denoising_strength);
    Put(o, "hires_fix_denoising_strength", p.hires_fix_denoising_strength);
    Put(o, "width", p.width);
    Put(o, "height", p.height);
    Put(o, "steps", p.steps);
    Put(o, "n", p.n);
    Put(o, "seed", p.seed);
    Put(o, "seed_variation", p.seed_variation);
    Put(o, "post_processing", p.post_processing);
    Put(o, "karras", p.karras);
    Put(o, "tiling", p.tiling);
    Put(o, "hires_fix", p.hires_fix);
    Put(o, "transparent", p.transparent);
    Put(o, "clip_skip", p.clip_skip);
    Put(o, "facefixer_strength", p.facefixer_strength);
    Put(o, "control_type", p.control_type);
    Put(o, "image_is_control", p.image_is_control);
    Put(o, "return_control_map", p.return_control_map);
    if (p.loras) {
        json::array a;
        for (const auto& l : *p.loras) {
            json::object lo;
            lo["name"] = l.name;
            Put(lo, "model", l.model);
            Put(lo, "clip", l.clip);
            Put(lo, "inject_trigger", l.inject_trigger);
            Put(lo, "is_version", l.is_version);
            a.emplace_back(std::move(lo));
        }
        o["loras"] = std::move(a);
    }
    if (p.tis) {
        json::array a;
        for (const auto& t : *p.tis) {
            json::object to;
            to["name"] = t.name;
            Put(to, "inject_ti", t.inject_ti);
            Put(to, "strength", t.strength);
            a.emplace_back(std::move(to));
        }
        o["tis"] = std::move(a);
    }
    Put(o, "workflow", p.workflow);
    if (p.extra_texts) {
        json::array a;
        for (const auto& t : *p.extra_texts) {
            a.emplace_back(json::object{{"text", t.text}, {"reference", t.reference}});
        }
        o["extra_texts"] = std::move(a);
    }
    if (p.special_json) {
        auto special = ParseObject(*p.special_json, "params.special");
        if (!special) {
            return std::move(special).error();
        }
        o["special"] = std::move(*special);
    }
    auto merged = Merge(o, p.extra_json, "params extra_json");
    if (!merged) {
        return merged.error();
    }
    return o;
}

ApiResult<json::object> EncodeTextParams(const TextParams& p) {
    json::object o;
    Put(o, "n", p.n);
    Put(o, "max_context_length", p.max_context_length);
    Put(o, "max_length", p.max_length);
    Put(o, "rep_pen", p.rep_pen);
    Put(o, "rep_pen_range", p.rep_pen_range);
    Put(o, "rep_pen_slope", p.rep_pen_slope);
    Put(o, "temperature", p.temperature);
    Put(o, "tfs", p.tfs);
    Put(o, "top_a", p.top_a);
    Put(o, "top_k", p.top_k);
    Put(o, "top_p", p.top_p);
    Put(o, "typical", p.typical);
    Put(o, "min_p", p.min_p);
    Put(o, "smoothing_factor", p.smoothing_factor);
    Put(o, "dynatemp_range", p.dynatemp_range);
    Put(o, "dynatemp_exponent", p.dynatemp_exponent);
    Put(o, "frmtadsnsp", p.frmtadsnsp);
    Put(o, "frmtrmblln", p.frmtrmblln);
    Put(o, "frmtrmspch", p.frmtrmspch);
    Put(o, "frmttriminc", p.frmttriminc);
    Put(o, "singleline", p.singleline);
    Put(o, "use_default_badwordsids", p.use_default_badwordsids);
    Put(o, "sampler_order", p.sampler_order);
    Put(o, "stop_sequence", p.stop_sequence);
    auto merged = Merge(o, p.extra_json, "params extra_json");
    if (!merged) {
        return merged.error();
    }
    return o;
}

// ---------------------------------------------------------------------------------------------
// Reading: tolerant of ints for floats, floats for ints, strings for numbers, nulls.

const json::value* Get(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return (v == nullptr || v->is_null()) ? nullptr : v;
}

double Num(const json::object& o, std::string_view key, double fallback = 0) {
    const json::value* v = Get(o, key);
    if (v == nullptr) {
        return fallback;
    }
    if (v->is_double()) {
        return v->get_double();
    }
    if (v->is_int64()) {
        return static_cast<double>(v->get_int64());
    }
    if (v->is_uint64()) {
        return static_cast<double>(v->get_uint64());
    }
    if (v->is_bool()) {
        return v->get_bool() ? 1 : 0;
    }
    if (v->is_string()) {
        const std::string s(v->get_string());
        char* end = nullptr;
        const double d = std::strtod(s.c_str(), &end);
        return (end != s.c_str()) ? d : fallback;
    }
    return fallback;
}

int64_t Int(const json::object& o, std::string_view key, int64_t fallback = 0) {
    const json::value* v = Get(o, key);
    if (v == nullptr) {
        return fallback;
    }
    if (v->is_int64()) {
        return v->get_int64();
    }
    if (v->is_uint64()) {
        return static_cast<int64_t>(v->get_uint64());
    }
    const double d = Num(o, key, static_cast<double>(fallback));
    if (!std::isfinite(d) || std::fabs(d) > 9.0e18) {
        return fallback;
    }
    return static_cast<int64_t>(d);
}

int Int32(const json::object& o, std::string_view key, int fallback = 0) {
    const int64_t x = Int(o, key, fallback);
    if (x > INT32_MAX || x < INT32_MIN) {
        return fallback;
    }
    return static_cast<int>(x);
}

std::string Str(const json::object& o, std::string_view key) {
    const json::value* v = Get(o, key);
    if (v == nullptr) {
        return {};
    }
    if (v->is_string()) {
        return std::string(v->get_string());
    }
    if (v->is_int64()) {
        return std::to_string(v->get_int64());
    }
    if (v->is_uint64()) {
        return std::to_string(v->get_uint64());
    }
    if (v->is_double()) {
        return Serialize(*v);
    }
    if (v->is_bool()) {
        return v->get_bool() ? "true" : "false";
    }
    return {};
}

bool Bool(const json::object& o, std::string_view key, bool fallback = false) {
    const json::value* v = Get(o, key);
    if (v == nullptr) {
        return fallback;
    }
    if (v->is_bool()) {
        return v->get_bool();
    }
    if (v->is_int64() || v->is_uint64() || v->is_double()) {
        return Num(o, key) != 0;
    }
    return fallback;
}

std::vector<std::string> StrList(const json::object& o, std::string_view key) {
    std::vector<std::string> out;
    const json::value* v = Get(o, key);
    if (v == nullptr || !v->is_array()) {
        return out;
    }
    for (const auto& e : v->get_array()) {
        if (e.is_string()) {
            out.emplace_back(e.get_string());
        } else if (!e.is_null()) {
            out.push_back(Serialize(e));
        }
    }
    return out;
}

const json::object* Obj(const json::object& o, std::string_view key) {
    const json::value* v = Get(o, key);
    return (v != nullptr && v->is_object()) ? &v->get_object() : nullptr;
}

ApiResult<json::value> ParseValue(std::string_view text) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec) {
        std::string snippet(text.substr(0, 120));
        return MakeApiError(ErrorKind::kInvalidResponse,
                            "the server's answer is not JSON (" + ec.message() + "): " + snippet);
    }
    return v;
}

ApiResult<json::object> ParseTopObject(std::string_view text) {
    auto v = ParseValue(text);
    if (!v) {
        return std::move(v).error();
    }
    if (!v->is_object()) {
        return MakeApiError(ErrorKind::kInvalidResponse,
                            "the server's answer is not a JSON object");
    }
    return std::move(v->get_object());
}

ApiResult<json::array> ParseTopArray(std::string_view text) {
    auto v = ParseValue(text);
    if (!v) {
        return std::move(v).error();
    }
    if (!v->is_array()) {
        return MakeApiError(ErrorKind::kInvalidResponse, "the server's answer is not a JSON list");
    }
    return std::move(v->get_array());
}

void ReadStatusHead(const json::object& o, RequestStatus& s) {
    s.finished = Int32(o, "finished");
    s.processing = Int32(o, "processing");
    s.restarted = Int32(o, "restarted");
    s.waiting = Int32(o, "waiting");
    s.done = Bool(o, "done");
    s.faulted = Bool(o, "faulted");
    s.wait_time_s = Int32(o, "wait_time");
    s.queue_position = Int32(o, "queue_position");
    s.kudos = Num(o, "kudos");
    s.is_possible = Bool(o, "is_possible", true);
}

std::vector<GenMetadata> ReadMetadata(const json::object& o) {
    std::vector<GenMetadata> out;
    const json::value* v = Get(o, "gen_metadata");
    if (v == nullptr || !v->is_array()) {
        return out;
    }
    for (const auto& e : v->get_array()) {
        if (!e.is_object()) {
            continue;
        }
        const auto& m = e.get_object();
        out.push_back(GenMetadata{Str(m, "type"), Str(m, "value"), Str(m, "ref")});
    }
    return out;
}

const json::array* GenerationsOf(const json::object& o) {
    const json::value* v = Get(o, "generations");
    return (v != nullptr && v->is_array()) ? &v->get_array() : nullptr;
}

UserDetails ReadUser(const json::object& o) {
    UserDetails u;
    u.username = Str(o, "username");
    u.id = Int(o, "id");
    u.kudos = Num(o, "kudos");
    if (const auto* d = Obj(o, "kudos_details")) {
        for (const auto& kv : *d) {
            u.kudos_details[std::string(kv.key())] = Num(*d, kv.key());
        }
    }
    u.concurrency = Int32(o, "concurrency");
    u.worker_invited = Int32(o, "worker_invited");
    u.moderator = Bool(o, "moderator");
    u.trusted = Bool(o, "trusted");
    u.flagged = Bool(o, "flagged");
    u.pseudonymous = Bool(o, "pseudonymous");
    u.service = Bool(o, "service");
    u.deleted = Bool(o, "deleted");
    u.education = Bool(o, "education");
    u.customizer = Bool(o, "customizer");
    u.worker_count = Int32(o, "worker_count");
    u.account_age_s = Int(o, "account_age");
    if (const auto* r = Obj(o, "records")) {
        auto& rec = u.records;
        if (const auto* x = Obj(*r, "usage")) {
            rec.usage_megapixelsteps = Num(*x, "megapixelsteps");
            rec.usage_tokens = Int(*x, "tokens");
        }
        if (const auto* x = Obj(*r, "contribution")) {
            rec.contribution_megapixelsteps = Num(*x, "megapixelsteps");
            rec.contribution_tokens = Int(*x, "tokens");
        }
        if (const auto* x = Obj(*r, "fulfillment")) {
            rec.fulfillment_image = Int(*x, "image");
            rec.fulfillment_text = Int(*x, "text");
            rec.fulfillment_interrogation = Int(*x, "interrogation");
        }
        if (const auto* x = Obj(*r, "request")) {
            rec.request_image = Int(*x, "image");
            rec.request_text = Int(*x, "text");
            rec.request_interrogation = Int(*x, "interrogation");
        }
    }
    u.worker_ids = StrList(o, "worker_ids");
    u.sharedkey_ids = StrList(o, "sharedkey_ids");
    u.contact = Str(o, "contact");
    if (Get(o, "evaluating_kudos") != nullptr) {
        u.evaluating_kudos = Num(o, "evaluating_kudos");
    }
    if (const auto* a = Obj(o, "active_generations")) {
        u.active_image_requests = StrList(*a, "image");
        u.active_text_requests = StrList(*a, "text");
    }
    u.raw_json = Serialize(o);
    return u;
}

WorkerDetails ReadWorker(const json::object& o) {
    WorkerDetails w;
    w.type = Str(o, "type");
    w.name = Str(o, "name");
    w.id = Str(o, "id");
    w.online = Bool(o, "online");
    w.requests_fulfilled = Int(o, "requests_fulfilled");
    w.uncompleted_jobs = Int(o, "uncompleted_jobs");
    w.kudos_rewards = Num(o, "kudos_rewards");
    w.performance = Str(o, "performance");
    w.threads = Int32(o, "threads");
    w.uptime_s = Int(o, "uptime");
    w.maintenance_mode = Bool(o, "maintenance_mode");
    w.info = Str(o, "info");
    w.trusted = Bool(o, "trusted");
    w.flagged = Bool(o, "flagged");
    if (const auto* t = Obj(o, "team")) {
        w.team_name = Str(*t, "name");
        w.team_id = Str(*t, "id");
    }
    w.bridge_agent = Str(o, "bridge_agent");
    w.nsfw = Bool(o, "nsfw");
    w.models = StrList(o, "models");
    w.owner = Str(o, "owner");
    w.max_pixels = Int(o, "max_pixels");
    w.megapixelsteps_generated = Num(o, "megapixelsteps_generated");
    w.img2img = Bool(o, "img2img");
    w.painting = Bool(o, "painting");
    w.post_processing = Bool(o, "post-processing");
    w.controlnet = Bool(o, "controlnet");
    w.sdxl_controlnet = Bool(o, "sdxl_controlnet");
    w.lora = Bool(o, "lora");
    w.max_length = Int32(o, "max_length");
    w.max_context_length = Int32(o, "max_context_length");
    w.tokens_generated = Int(o, "tokens_generated");
    w.raw_json = Serialize(o);
    return w;
}

ModelStatus ReadModel(const json::object& o) {
    ModelStatus m;
    m.name = Str(o, "name");
    m.count = Int32(o, "count");
    m.performance = Num(o, "performance");
    m.queued = Num(o, "queued");
    m.jobs = Num(o, "jobs");
    m.eta_s = Int(o, "eta");
    m.type = Str(o, "type");
    return m;
}

json::object StatusHeadJson(const RequestStatus& s) {
    json::object o{{"finished", s.finished},
                   {"processing", s.processing},
                   {"restarted", s.restarted},
                   {"waiting", s.waiting},
                   {"done", s.done},
                   {"faulted", s.faulted},
                   {"wait_time", s.wait_time_s},
                   {"queue_position", s.queue_position},
                   {"kudos", s.kudos},
                   {"is_possible", s.is_possible}};
    if (!s.id.empty()) {
        o["id"] = s.id;
    }
    return o;
}

json::array MetadataJson(const std::vector<GenMetadata>& md) {
    json::array a;
    for (const auto& m : md) {
        json::object o{{"type", m.type}, {"value", m.value}};
        if (!m.ref.empty()) {
            o["ref"] = m.ref;
        }
        a.emplace_back(std::move(o));
    }
    return a;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

ApiResult<std::string> EncodeImageRequest(const ImageRequest& r) {
    if (r.prompt.empty()) {
        return MakeApiError(ErrorKind::kInvalidArgument, "the prompt must not be empty");
    }
    json::object o;
    o["prompt"] = r.negative_prompt.empty() ? r.prompt : r.prompt + " ### " + r.negative_prompt;
    auto params = EncodeImageParams(r.params);
    if (!params) {
        return std::move(params).error();
    }
    o["params"] = std::move(*params);
    Put(o, "models", r.models);
    Put(o, "nsfw", r.nsfw);
    Put(o, "censor_nsfw", r.censor_nsfw);
    Put(o, "trusted_workers", r.trusted_workers);
    Put(o, "validated_backends", r.validated_backends);
    Put(o, "slow_workers", r.slow_workers);
    Put(o, "extra_slow_workers", r.extra_slow_workers);
    Put(o, "workers", r.workers);
    Put(o, "worker_blacklist", r.worker_blacklist);
    Put(o, "source_image", r.source_image);
    Put(o, "source_processing", r.source_processing);
    Put(o, "source_mask", r.source_mask);
    if (r.extra_source_images) {
        json::array a;
        for (const auto& e : *r.extra_source_images) {
            json::object eo{{"image", e.image}};
            Put(eo, "strength", e.strength);
            a.emplace_back(std::move(eo));
        }
        o["extra_source_images"] = std::move(a);
    }
    Put(o, "r2", r.r2);
    Put(o, "shared", r.shared);
    Put(o, "replacement_filter", r.replacement_filter);
    Put(o, "dry_run", r.dry_run);
    Put(o, "proxied_account", r.proxied_account);
    Put(o, "disable_batching", r.disable_batching);
    Put(o, "allow_downgrade", r.allow_downgrade);
    Put(o, "webhook", r.webhook);
    Put(o, "style", r.style);
    auto merged = Merge(o, r.extra_json, "extra_json");
    if (!merged) {
        return merged.error();
    }
    return Serialize(o);
}

ApiResult<std::string> EncodeTextRequest(const TextRequest& r) {
    if (r.prompt.empty()) {
        return MakeApiError(ErrorKind::kInvalidArgument, "the prompt must not be empty");
    }
    json::object o;
    o["prompt"] = r.prompt;
    auto params = EncodeTextParams(r.params);
    if (!params) {
        return std::move(params).error();
    }
    o["params"] = std::move(*params);
    Put(o, "models", r.models);
    Put(o, "softprompt", r.softprompt);
    Put(o, "trusted_workers", r.trusted_workers);
    Put(o, "validated_backends", r.validated_backends);
    Put(o, "slow_workers", r.slow_workers);
    Put(o, "extra_slow_workers", r.extra_slow_workers);
    Put(o, "nsfw", r.nsfw);
    Put(o, "workers", r.workers);
    Put(o, "worker_blacklist", r.worker_blacklist);
    Put(o, "dry_run", r.dry_run);
    Put(o, "proxied_account", r.proxied_account);
    Put(o, "disable_batching", r.disable_batching);
    Put(o, "allow_downgrade", r.allow_downgrade);
    Put(o, "webhook", r.webhook);
    Put(o, "style", r.style);
    auto merged = Merge(o, r.extra_json, "extra_json");
    if (!merged) {
        return merged.error();
    }
    return Serialize(o);
}

std::string EncodeTransfer(const std::string& username, double amount) {
    json::object o;
    o["username"] = username;
    // The API takes an integer amount; send whole numbers as integers.
    if (std::floor(amount) == amount && std::fabs(amount) < 9.0e15) {
        o["amount"] = static_cast<int64_t>(amount);
    } else {
        o["amount"] = amount;
    }
    return Serialize(o);
}

ApiResult<AsyncResponse> DecodeAsyncResponse(std::string_view text) {
    auto o = ParseTopObject(text);
    if (!o) {
        return std::move(o).error();
    }
    AsyncResponse r;
    r.id = Str(*o, "id");
    r.kudos = Num(*o, "kudos");
    r.message = Str(*o, "message");
    if (const json::value* w = Get(*o, "warnings"); w != nullptr && w->is_array()) {
        for (const auto& e : w->get_array()) {
            if (e.is_object()) {
                r.warnings.push_back(
                    Warning{Str(e.get_object(), "code"), Str(e.get_object(), "message")});
            }
        }
    }
    return r;
}

ApiResult<RequestStatus> DecodeRequestStatus(std::string_view text) {
    auto o = ParseTopObject(text);
    if (!o) {
        return std::move(o).error();
    }
    RequestStatus s;
    ReadStatusHead(*o, s);
    return s;
}

ApiResult<ImageStatus> DecodeImageStatus(std::string_view text) {
    auto o = ParseTopObject(text);
    if (!o) {
        return std::move(o).error();
    }
    ImageStatus s;
    ReadStatusHead(*o, s);
    s.shared = Bool(*o, "shared");
    if (const auto* gens = GenerationsOf(*o)) {
        for (const auto& e : *gens) {
            if (!e.is_object()) {
                continue;
            }
            const auto& g = e.get_object();
            ImageGeneration ig;
            ig.img = Str(g, "img");
            ig.seed = Str(g, "seed");
            ig.id = Str(g, "id");
            ig.censored = Bool(g, "censored");
            ig.worker_id = Str(g, "worker_id");
            ig.worker_name = Str(g, "worker_name");
            ig.model = Str(g, "model");
            ig.state = Str(g, "state");
            ig.gen_metadata = ReadMetadata(g);
            s.generations.push_back(std::move(ig));
        }
    }
    return s;
}

ApiResult<TextStatus> DecodeTextStatus(std::string_view text) {
    auto o = ParseTopObject(text);
    if (!o) {
        return std::move(o).error();
    }
    TextStatus s;
    ReadStatusHead(*o, s);
    if (const auto* gens = GenerationsOf(*o)) {
        for (const auto& e : *gens) {
            if (!e.is_object()) {
                continue;
            }
            const auto& g = e.get_object();
            TextGeneration tg;
            tg.text = Str(g, "text");
            tg.seed = Int(g, "seed");
            tg.id = Str(g, "id");
            tg.worker_id = Str(g, "worker_id");
            tg.worker_name = Str(g, "worker_name");
            tg.model = Str(g, "model");
            tg.state = Str(g, "state");
            tg.gen_metadata = ReadMetadata(g);
            s.generations.push_back(std::move(tg));
        }
    }
    return s;
}

ApiResult<UserDetails> DecodeUser(std::string_view text) {
    auto o = ParseTopObject(text);
    if (!o) {
        return std::move(o).error();
    }
    return ReadUser(*o);
}

ApiResult<std::vector<UserDetails>> DecodeUserList(std::string_view text) {
    auto a = ParseTopArray(text);
    if (!a) {
        return std::move(a).error();
    }
    std::vector<UserDetails> out;
    for (const auto& e : *a) {
        if (e.is_object()) {
            out.push_back(ReadUser(e.get_object()));
        }
    }
    return out;
}

ApiResult<WorkerDetails> DecodeWorker(std::string_view text) {
    auto o = ParseTopObject(text);
    if (!o) {
        return std::move(o).error();
    }
    return ReadWorker(*o);
}

ApiResult<std::vector<WorkerDetails>> DecodeWorkerList(std::string_view text) {
    auto a = ParseTopArray(text);
    if (!a) {
        return std::move(a).error();
    }
    std::vector<WorkerDetails> out;
    for (const auto& e : *a) {
        if (e.is_object()) {
            out.push_back(ReadWorker(e.get_object()));
        }
    }
    return out;
}

ApiResult<std::vector<ModelStatus>> DecodeModels(std::string_view text) {
    auto a = ParseTopArray(text);
    if (!a) {
        return std::move(a).error();
    }
    std::vector<ModelStatus> out;
    for (const auto& e : *a) {
        if (e.is_object()) {
            out.push_back(ReadModel(e.get_object()));
        }
    }
    return out;
}

ApiResult<Performance> DecodePerformance(std::string_view text) {
    auto o = ParseTopObject(text);
    if (!o) {
        return std::move(o).error();
    }
    Performance p;
    p.queued_requests = Int(*o, "queued_requests");
    p.queued_text_requests = Int(*o, "queued_text_requests");
    p.worker_count = Int(*o, "worker_count");
    p.text_worker_count = Int(*o, "text_worker_count");
    p.thread_count = Int(*o, "thread_count");
    p.text_thread_count = Int(*o, "text_thread_count");
    p.queued_megapixelsteps = Num(*o, "queued_megapixelsteps");
    p.past_minute_megapixelsteps = Num(*o, "past_minute_megapixelsteps");
    p.queued_forms = Num(*o, "queued_forms");
    p.interrogator_count = Int(*o, "interrogator_count");
    p.interrogator_thread_count = Int(*o, "interrogator_thread_count");
    p.queued_tokens = Num(*o, "queued_tokens");
    p.past_minute_tokens = Num(*o, "past_minute_tokens");
    p.raw_json = Serialize(*o);
    return p;
}

ApiResult<Heartbeat> DecodeHeartbeat(std::string_view text) {
    auto o = ParseTopObject(text);
    if (!o) {
        return std::move(o).error();
    }
    Heartbeat h;
    h.message = Str(*o, "message");
    h.version = Str(*o, "version");
    h.queue = Int(*o, "queue");
    h.threads = Int(*o, "threads");
    h.active_count = Int(*o, "active_count");
    h.db_connection = Bool(*o, "db_connection");
    return h;
}

ApiResult<HordeModes> DecodeModes(std::string_view text) {
    auto o = ParseTopObject(text);
    if (!o) {
        return std::move(o).error();
    }
    HordeModes m;
    m.maintenance_mode = Bool(*o, "maintenance_mode");
    m.invite_only_mode = Bool(*o, "invite_only_mode");
    if (Get(*o, "raid_mode") != nullptr) {
        m.raid_mode = Bool(*o, "raid_mode");
    }
    return m;
}

ApiResult<KudosTransfer> DecodeKudosTransfer(std::string_view text) {
    auto o = ParseTopObject(text);
    if (!o) {
        return std::move(o).error();
    }
    if (Get(*o, "transferred") == nullptr) {
        return MakeApiError(ErrorKind::kInvalidResponse,
                            "the transfer answer has no 'transferred' field");
    }
    return KudosTransfer{Num(*o, "transferred")};
}

// ---------------------------------------------------------------------------------------------

std::string ToJson(const RequestStatus& s) { return Serialize(StatusHeadJson(s)); }

std::string ToJson(const ImageStatus& s) {
    json::object o = StatusHeadJson(s);
    json::array gens;
    for (const auto& g : s.generations) {
        gens.emplace_back(json::object{{"img", g.img},
                                       {"seed", g.seed},
                                       {"id", g.id},
                                       {"censored", g.censored},
                                       {"worker_id", g.worker_id},
                                       {"worker_name", g.worker_name},
                                       {"model", g.model},
                                       {"state", g.state},
                                       {"gen_metadata", MetadataJson(g.gen_metadata)}});
    }
    o["generations"] = std::move(gens);
    o["shared"] = s.shared;
    return Serialize(o);
}

std::string ToJson(const TextStatus& s) {
    json::object o = StatusHeadJson(s);
    json::array gens;
    for (const auto& g : s.generations) {
        json::object go{{"text", g.text},
                        {"seed", g.seed},
                        {"worker_id", g.worker_id},
                        {"worker_name", g.worker_name},
                        {"model", g.model},
                        {"state", g.state},
                        {"gen_metadata", MetadataJson(g.gen_metadata)}};
        if (!g.id.empty()) {
            go["id"] = g.id;
        }
        gens.emplace_back(std::move(go));
    }
    o["generations"] = std::move(gens);
    return Serialize(o);
}

std::string ToJson(const AsyncResponse& r) {
    json::object o{{"id", r.id}, {"kudos", r.kudos}};
    if (!r.message.empty()) {
        o["message"] = r.message;
    }
    if (!r.warnings.empty()) {
        json::array a;
        for (const auto& w : r.warnings) {
            a.emplace_back(json::object{{"code", w.code}, {"message", w.message}});
        }
        o["warnings"] = std::move(a);
    }
    return Serialize(o);
}

std::string ToJson(const std::vector<ModelStatus>& models) {
    json::array a;
    for (const auto& m : models) {
        a.emplace_back(json::object{{"name", m.name},
                                    {"count", m.count},
                                    {"performance", m.performance},
                                    {"queued", m.queued},
                                    {"jobs", m.jobs},
                                    {"eta", m.eta_s},
                                    {"type", m.type}});
    }
    return Serialize(a);
}

std::string ToJson(const Heartbeat& h) {
    return Serialize(json::object{{"message", h.message},
                                  {"version", h.version},
                                  {"queue", h.queue},
                                  {"threads", h.threads},
                                  {"active_count", h.active_count},
                                  {"db_connection", h.db_connection}});
}

std::string ToJson(const HordeModes& m) {
    json::object o{{"maintenance_mode", m.maintenance_mode},
                   {"invite_only_mode", m.invite_only_mode}};
    if (m.raid_mode) {
        o["raid_mode"] = *m.raid_mode;
    }
    return Serialize(o);
}

std::string NormalizeJson(std::string_view text) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec) {
        return std::string(text);
    }
    return Serialize(v);
}

bool ImageGeneration::IsUrl() const {
    return img.starts_with("https://") || img.starts_with("http://");
}

}  // namespace horde::client

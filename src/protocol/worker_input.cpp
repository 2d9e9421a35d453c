#include "protocol/worker_input.hpp"

#include <algorithm>
#include <array>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <charconv>
#include <optional>
#include <vector>

#include "protocol/json_util.hpp"

namespace horde::protocol {

namespace {

namespace json = boost::json;
using domain::GenKind;

constexpr std::array<std::string_view, 4> kSubmitStates = {"ok", "censored", "faulted", "csam"};

constexpr std::array<std::string_view, 9> kMetadataTypes = {
    "lora",         "ti",          "censorship",
    "source_image", "source_mask", "extra_source_images",
    "batch_index",  "information", "aesthetic_score"};

constexpr std::array<std::string_view, 6> kMetadataValues = {
    "download_failed", "parse_failed", "baseline_mismatch", "csam", "nsfw", "see_ref"};

constexpr size_t kModelNameCharsMin = 3;
constexpr size_t kModelNameCharsMax = 255;
constexpr size_t kBridgeAgentCharsMax = 1000;
constexpr size_t kPriorityUsernamesMax = 100;
constexpr size_t kSoftpromptsMax = 300;
constexpr size_t kSoftpromptCharsMax = 1024;
constexpr size_t kCapabilitiesMax = 200;
constexpr size_t kCapabilityCharsMax = 100;
constexpr size_t kMetadataRefCharsMax = 255;
constexpr int64_t kTokensMax = 16777216;

/// Removes everything between '<' and the next '>' (an unclosed '<' is kept as text).
std::string StripHtmlTags(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
        if (text[i] == '<') {
            const size_t close = text.find('>', i);
            if (close != std::string_view::npos) {
                i = close + 1;
                continue;
            }
        }
        out.push_back(text[i]);
        ++i;
    }
    return out;
}

/// "alias#digits": something, a '#', then only digits.
bool IsAliasWithId(std::string_view name) {
    const size_t hash = name.rfind('#');
    if (hash == std::string_view::npos || hash == 0 || hash + 1 == name.size()) {
        return false;
    }
    return std::all_of(name.begin() + static_cast<std::ptrdiff_t>(hash) + 1, name.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

Result<std::string> ReadWorkerName(const FieldReader& body) {
    HORDE_TRY(std::string raw, body.RequiredString("name"));
    std::string name(TrimAscii(StripHtmlTags(raw)));
    if (name.empty()) {
        return ValidationError("'name' must not be empty", "name");
    }
    if (Utf8Length(name) > kWorkerNameCharsMax) {
        return MakeError(ErrorCode::kTooLongWorkerName, "", "name");
    }
    return name;
}

Result<std::vector<std::string>> ReadPriorityUsernames(const FieldReader& body) {
    HORDE_TRY(std::optional<std::vector<std::string>> names,
              body.OptStringArray("priority_usernames",
                                  {.max_items = kPriorityUsernamesMax, .drop_empty = true}));
    std::vector<std::string> out = names.value_or(std::vector<std::string>{});
    for (const std::string& name : out) {
        if (!IsAliasWithId(name)) {
            return MakeError(ErrorCode::kInvalidPriorityUsername, "", "priority_usernames");
        }
    }
    return out;
}

/// At most kBlacklistWordsMax words, each cut to kBlacklistWordCharsMax characters (§3.2).
Result<std::vector<std::string>> ReadBlacklist(const FieldReader& body) {
    HORDE_TRY(std::optional<std::vector<std::string>> words,
              body.OptStringArray("blacklist", {.drop_empty = true}));
    std::vector<std::string> out;
    for (const std::string& word : words.value_or(std::vector<std::string>{})) {
        if (out.size() == kBlacklistWordsMax) {
            break;
        }
        out.emplace_back(Utf8Prefix(word, kBlacklistWordCharsMax));
    }
    return out;
}

Status ReadGenericProfile(const FieldReader& body, domain::WorkerProfile& p) {
    HORDE_TRY(p.priority_usernames, ReadPriorityUsernames(body));
    HORDE_TRY(p.nsfw, body.Bool("nsfw", true));
    HORDE_TRY(std::optional<std::vector<std::string>> models,
              body.OptStringArray("models", {.max_items = kWorkerModelsMax,
                                             .min_chars = kModelNameCharsMin,
                                             .max_chars = kModelNameCharsMax}));
    p.models = models.value_or(std::vector<std::string>{});
    HORDE_TRY(p.bridge_agent,
              body.String("bridge_agent", "unknown:0:unknown",
                          {.max_chars = kBridgeAgentCharsMax, .empty_is_unset = true}));
    HORDE_TRY(const int64_t threads, body.Int("threads", 1, 1, 50));
    p.threads = static_cast<int>(threads);
    HORDE_TRY(p.require_upfront_kudos, body.Bool("require_upfront_kudos", false));
    HORDE_TRY(p.extra_slow_worker, body.Bool("extra_slow_worker", false));
    HORDE_TRY(p.allow_unsafe_ipaddr, body.Bool("allow_unsafe_ipaddr", true));
    HORDE_TRY(p.blacklist, ReadBlacklist(body));
    HORDE_TRY(std::optional<std::vector<std::string>> capabilities,
              body.OptStringArray("capabilities", {.max_items = kCapabilitiesMax,
                                                   .max_chars = kCapabilityCharsMax,
                                                   .drop_empty = true}));
    if (capabilities) {
        p.capabilities = std::move(*capabilities);
        p.capabilities_declared = true;
    }
    return Ok();
}

Status ReadImageProfile(const FieldReader& body, domain::WorkerProfile& p) {
    HORDE_TRY(p.max_pixels, body.Int("max_pixels", 262144, 0));
    HORDE_TRY(p.allow_img2img, body.Bool("allow_img2img", true));
    HORDE_TRY(p.allow_painting, body.Bool("allow_painting", true));
    HORDE_TRY(p.allow_post_processing, body.Bool("allow_post_processing", true));
    HORDE_TRY(p.allow_controlnet, body.Bool("allow_controlnet", false));
    HORDE_TRY(p.allow_sdxl_controlnet, body.Bool("allow_sdxl_controlnet", false));
    HORDE_TRY(p.allow_lora, body.Bool("allow_lora", false));
    HORDE_TRY(p.limit_max_steps, body.Bool("limit_max_steps", false));
    return Ok();
}

Status ReadTextProfile(const FieldReader& body, domain::WorkerProfile& p) {
    HORDE_TRY(const int64_t length, body.Int("max_length", 512, 1, kTokensMax));
    HORDE_TRY(const int64_t context, body.Int("max_context_length", 2048, 1, kTokensMax));
    p.max_length = static_cast<int>(length);
    p.max_context_length = static_cast<int>(context);
    HORDE_TRY(std::optional<std::vector<std::string>> softprompts,
              body.OptStringArray("softprompts", {.max_items = kSoftpromptsMax,
                                                  .max_chars = kSoftpromptCharsMax,
                                                  .drop_empty = true}));
    p.softprompts = softprompts.value_or(std::vector<std::string>{});
    return Ok();
}

Result<PopInput> DecodePop(std::string_view body_text, GenKind kind) {
    // The parsed body lives in one arena (a worker's pop is ~0.5-2 KiB), freed at once.
    std::array<unsigned char, 4096> arena;
    json::monotonic_resource mr(arena.data(), arena.size());
    HORDE_TRY(const json::object root, ParseJsonObject(body_text, &mr));
    const FieldReader body(root);
    PopInput out;
    HORDE_TRY(out.name, ReadWorkerName(body));
    HORDE_TRY_STATUS(ReadGenericProfile(body, out.profile));
    if (kind == GenKind::kImage) {
        HORDE_TRY_STATUS(ReadImageProfile(body, out.profile));
    } else {
        HORDE_TRY_STATUS(ReadTextProfile(body, out.profile));
    }
    HORDE_TRY(const int64_t amount, body.Int("amount", 1, 1, 20));
    out.amount = static_cast<int>(amount);
    return out;
}

/// A seed sent as a JSON integer or as its decimal text ("123", "-5").
Result<std::optional<int64_t>> ReadSubmitSeed(const FieldReader& body) {
    const json::value* value = body.Find("seed");
    if (value == nullptr || !value->is_string()) {
        return body.OptInt("seed");
    }
    const std::string_view text = TrimAscii(value->get_string());
    int64_t seed = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seed);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        return ValidationError("'seed' must be an integer", "seed");
    }
    return std::optional<int64_t>(seed);
}

Result<json::object> ReadMetadataEntry(const json::value& value, const std::string& path) {
    if (!value.is_object()) {
        return ValidationError("'" + path + "' must be an object", path);
    }
    const FieldReader item(value.get_object(), path);
    HORDE_TRY(std::optional<std::string> type, item.OptEnum("type", kMetadataTypes));
    HORDE_TRY(std::optional<std::string> meta_value, item.OptEnum("value", kMetadataValues));
    if (!type || !meta_value) {
        const std::string missing = type ? "value" : "type";
        return ValidationError("'" + missing + "' is required", item.PathOf(missing));
    }
    HORDE_TRY(std::optional<std::string> ref,
              item.OptString("ref", {.max_chars = kMetadataRefCharsMax, .empty_is_unset = true}));
    json::object entry;
    entry["type"] = *type;
    entry["value"] = *meta_value;
    if (ref) {
        entry["ref"] = *ref;
    }
    return entry;
}

Result<std::string> ReadGenMetadata(const FieldReader& body) {
    HORDE_TRY(const json::array* entries, body.OptArray("gen_metadata"));
    json::array out;
    if (entries == nullptr) {
        return json::serialize(out);
    }
    if (entries->size() > kGenMetadataMax) {
        return ValidationError(
            "'gen_metadata' must have at most " + std::to_string(kGenMetadataMax) + " entries",
            "gen_metadata");
    }
    for (size_t i = 0; i < entries->size(); ++i) {
        HORDE_TRY(json::object entry,
                  ReadMetadataEntry((*entries)[i], "gen_metadata[" + std::to_string(i) + "]"));
        out.emplace_back(std::move(entry));
    }
    return json::serialize(out);
}

}  // namespace

Result<PopInput> DecodeImagePop(std::string_view body) { return DecodePop(body, GenKind::kImage); }

Result<PopInput> DecodeTextPop(std::string_view body) { return DecodePop(body, GenKind::kText); }

Result<SubmitInput> DecodeSubmit(std::string_view body_text, GenKind kind) {
    HORDE_TRY(const json::object root, ParseJsonObject(body_text));
    const FieldReader body(root);
    SubmitInput out;
    HORDE_TRY(std::string id, body.RequiredString("id"));
    out.id = JobId(std::move(id));
    HORDE_TRY(std::optional<std::string> state, body.OptEnum("state", kSubmitStates));
    out.state = state.value_or("ok");
    const bool faulted = out.state == "faulted";
    HORDE_TRY(std::optional<std::string> generation, body.OptString("generation"));
    if (!generation && !faulted) {
        return ValidationError("'generation' is required", "generation");
    }
    out.generation = generation.value_or("");
    HORDE_TRY(std::optional<int64_t> seed, ReadSubmitSeed(body));
    if (!seed && kind == GenKind::kImage && !faulted) {
        return ValidationError("'seed' is required", "seed");
    }
    out.seed = seed.value_or(0);
    HORDE_TRY(out.censored, body.Bool("censored", false));
    HORDE_TRY(out.gen_metadata_json, ReadGenMetadata(body));
    return out;
}

}  // namespace horde::protocol

#include "protocol/generate_input.hpp"

#include <algorithm>
#include <array>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <cmath>
#include <optional>
#include <set>
#include <span>

#include "common/ascii.hpp"
#include "common/ids.hpp"
#include "domain/bridge_capabilities.hpp"
#include "protocol/json_util.hpp"

namespace horde::protocol {

namespace {

namespace json = boost::json;
using domain::GenKind;

// The post-processors that change the resolution; a request may ask for at most one.
constexpr std::array<std::string_view, 11> kUpscalers = {"RealESRGAN_x4plus",
                                                         "RealESRGAN_x2plus",
                                                         "RealESRGAN_x4plus_anime_6B",
                                                         "NMKD_Siax",
                                                         "4x_AnimeSharp",
                                                         "4xNomos8kSC",
                                                         "4xLSDIRplus",
                                                         "4xNomosWebPhoto_RealPLKSR",
                                                         "4xNomos2_realplksr_dysample",
                                                         "4xNomos2_hq_dat2",
                                                         "2xModernSpanimationV1"};

constexpr std::array<std::string_view, 9> kControlTypes = {
    "canny", "hed", "depth", "normal", "openpose", "seg", "scribble", "fakescribbles", "hough"};

constexpr std::array<std::string_view, 4> kSourceProcessings = {"img2img", "inpainting",
                                                                "outpainting", "remix"};
constexpr std::array<std::string_view, 1> kWorkflows = {"qr_code"};
constexpr std::array<std::string_view, 2> kInjectTi = {"prompt", "negprompt"};

constexpr int kImageSideMin = 64;
constexpr int kImageSideMax = 3072;
constexpr int kImageSideStep = 64;
constexpr int kStepsDefault = 30;
constexpr int kStepsDefaultControlNet = 20;
constexpr int kStepsMaxControlNet = 40;
constexpr size_t kNameCharsMax = 255;
constexpr size_t kSeedCharsMax = 1024;
constexpr size_t kExtraTextsMax = 50;
constexpr size_t kSamplerOrderItemsMax = 64;
constexpr size_t kSamplerOrderDistinctMin = 7;

bool Contains(std::span<const std::string_view> set, std::string_view item) {
    return std::find(set.begin(), set.end(), item) != set.end();
}

bool AllDigits(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
    });
}

size_t CountWords(std::string_view text) {
    size_t words = 0;
    bool in_word = false;
    for (const char c : text) {
        const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
        if (!space && !in_word) {
            ++words;
        }
        in_word = !space;
    }
    return words;
}

std::string ItemPath(const std::string& path, size_t index) {
    return path + "[" + std::to_string(index) + "]";
}

json::array ToJsonArray(const std::vector<std::string>& items) {
    json::array array;
    for (const std::string& item : items) {
        array.emplace_back(item);
    }
    return array;
}

/// Reads an array of objects under `key`, calling `decode(reader)` for each entry.
template <typename T, typename Decode>
Result<std::vector<T>> ReadObjectArray(const FieldReader& parent, std::string_view key,
                                       Decode decode) {
    HORDE_TRY(const json::array* array, parent.OptArray(key));
    std::vector<T> items;
    if (array == nullptr) {
        return items;
    }
    const std::string path = parent.PathOf(key);
    for (size_t i = 0; i < array->size(); ++i) {
        const std::string item_path = ItemPath(path, i);
        if (!(*array)[i].is_object()) {
            return ValidationError("'" + item_path + "' must be an object", item_path);
        }
        HORDE_TRY(T item, decode(FieldReader((*array)[i].get_object(), item_path)));
        items.push_back(std::move(item));
    }
    return items;
}

// ---------------------------------------------------------------------------------------------
// Fields shared by image and text requests.

/// The prompt's type is checked with the schema; its content rules come later (CheckPrompt).
Result<std::string> ReadPrompt(const FieldReader& body) { return body.String("prompt", ""); }

Status CheckPrompt(std::string_view prompt) {
    if (TrimAscii(prompt).empty()) {
        return MakeError(ErrorCode::kMissingPrompt);
    }
    if (CountWords(prompt) > kPromptWordsMax) {
        return MakeError(ErrorCode::kInvalidPromptSize);
    }
    return Ok();
}

Result<std::vector<WorkerId>> ReadWorkers(const FieldReader& body) {
    HORDE_TRY(std::optional<std::vector<std::string>> ids,
              body.OptStringArray("workers", {.drop_empty = true}));
    std::vector<WorkerId> workers;
    if (!ids) {
        return workers;
    }
    // Only the first few are kept (§1.1); the rest are ignored, not validated.
    const size_t kept = std::min(ids->size(), kRequestWorkersKept);
    for (size_t i = 0; i < kept; ++i) {
        std::string id = std::move((*ids)[i]);
        if (!IsUuid(id)) {
            const std::string path = ItemPath("workers", i);
            return ValidationError("'" + path + "' must be a worker id (UUID)", path);
        }
        workers.emplace_back(AsciiLower(id));
    }
    return workers;
}

Result<std::string> ReadWebhook(const FieldReader& body) {
    HORDE_TRY(
        std::optional<std::string> webhook,
        body.OptString("webhook", {.min_chars = 10, .max_chars = 1024, .empty_is_unset = true}));
    if (!webhook) {
        return std::string();
    }
    if (!webhook->starts_with("https://")) {
        return ValidationError("'webhook' must start with https://", "webhook");
    }
    return std::move(*webhook);
}

Status ReadModels(const FieldReader& body, GenKind kind, domain::Request& request) {
    HORDE_TRY(std::optional<std::vector<std::string>> models,
              body.OptStringArray(
                  "models",
                  {.max_items = kRequestModelsMax, .min_chars = 1, .max_chars = kNameCharsMax}));
    if (models) {
        request.models = std::move(*models);
    } else if (kind == GenKind::kImage) {
        request.models = {"stable_diffusion"};
    }
    return Ok();
}

/// The boolean options of §1.1/§1.2. Text requests accept nsfw, censor_nsfw and
/// extra_slow_workers but do not store them (they stay false).
Status ReadFlags(const FieldReader& body, GenKind kind, GenerateInput& out) {
    domain::Request& r = out.request;
    const bool image = kind == GenKind::kImage;
    HORDE_TRY(const bool nsfw, body.Bool("nsfw", true));
    HORDE_TRY(const bool censor_nsfw, body.Bool("censor_nsfw", true));
    HORDE_TRY(const bool extra_slow_workers, body.Bool("extra_slow_workers", false));
    r.nsfw = image && nsfw;
    r.censor_nsfw = image && censor_nsfw;
    r.extra_slow_workers = image && extra_slow_workers;
    HORDE_TRY(r.trusted_workers, body.Bool("trusted_workers", false));
    HORDE_TRY(r.validated_backends, body.Bool("validated_backends", false));
    HORDE_TRY(r.slow_workers, body.Bool("slow_workers", true));
    HORDE_TRY(r.worker_blacklist, body.Bool("worker_blacklist", false));
    HORDE_TRY(r.disable_batching, body.Bool("disable_batching", false));
    HORDE_TRY(out.dry_run, body.Bool("dry_run", false));
    HORDE_TRY(out.allow_downgrade, body.Bool("allow_downgrade", false));
    HORDE_TRY(out.replacement_filter, body.Bool("replacement_filter", true));
    if (image) {
        HORDE_TRY(r.r2, body.Bool("r2", true));
        HORDE_TRY(r.shared, body.Bool("shared", false));
    }
    return Ok();
}

Status ReadCommon(const FieldReader& body, GenKind kind, GenerateInput& out) {
    domain::Request& r = out.request;
    r.kind = kind;
    HORDE_TRY(r.prompt, ReadPrompt(body));
    HORDE_TRY_STATUS(ReadModels(body, kind, r));
    HORDE_TRY(r.workers, ReadWorkers(body));
    HORDE_TRY_STATUS(ReadFlags(body, kind, out));
    HORDE_TRY(r.webhook, ReadWebhook(body));
    HORDE_TRY(out.style, body.String("style", "",
                                     {.min_chars = 3, .max_chars = 1024, .empty_is_unset = true}));
    HORDE_TRY(out.proxied_account, body.String("proxied_account", "", {.empty_is_unset = true}));
    return Ok();
}

Result<std::vector<std::pair<std::string, double>>> ReadExtraSourceImages(const FieldReader& body) {
    using Entry = std::pair<std::string, double>;
    return ReadObjectArray<Entry>(
        body, "extra_source_images", [](const FieldReader& item) -> Result<Entry> {
            HORDE_TRY(std::string image, item.RequiredString("image", {.min_chars = 1}));
            HORDE_TRY(double strength, item.Double("strength", 1.0));
            return Entry{std::move(image), strength};
        });
}

/// Extra source images are for remix only (and never for text), at most kExtraSourceImagesMax.
Status CheckExtraSourceImages(const GenerateInput& in, GenKind kind,
                              std::string_view source_processing) {
    if (in.extra_source_images.empty()) {
        return Ok();
    }
    if (kind == GenKind::kText || source_processing != "remix") {
        return MakeError(ErrorCode::kInvalidExtraSourceImages);
    }
    if (in.extra_source_images.size() > kExtraSourceImagesMax) {
        return MakeError(ErrorCode::kTooManyExtraSourceImages);
    }
    return Ok();
}

// ---------------------------------------------------------------------------------------------
// Image params.

struct Lora {
    std::string name;
    double model = 1.0;
    double clip = 1.0;
    std::optional<std::string> inject_trigger;
    bool is_version = false;
};

struct Ti {
    std::string name;
    std::optional<std::string> inject_ti;
    double strength = 1.0;
};

struct ExtraText {
    std::string text;
    std::string reference;
};

struct ImageParams {
    std::string sampler_name = "k_euler_a";
    double cfg_scale = 5.0;
    std::optional<double> denoising_strength;
    std::optional<double> hires_fix_denoising_strength;
    std::optional<double> facefixer_strength;
    int width = 512;
    int height = 512;
    std::optional<int> steps;  // resolved by ResolveSteps
    int n = 1;
    std::optional<std::string> seed;
    std::optional<int> seed_variation;
    std::vector<std::string> post_processing;
    bool karras = true;
    bool tiling = false;
    bool hires_fix = false;
    bool transparent = false;
    bool image_is_control = false;
    bool return_control_map = false;
    std::optional<int> clip_skip;
    std::optional<std::string> control_type;
    std::optional<std::string> workflow;
    std::vector<Lora> loras;
    std::vector<Ti> tis;
    std::optional<std::vector<ExtraText>> extra_texts;
    std::optional<json::object> special;
};

Result<Lora> ReadLora(const FieldReader& item) {
    Lora lora;
    HORDE_TRY(lora.name, item.RequiredString("name", {.min_chars = 1, .max_chars = kNameCharsMax}));
    HORDE_TRY(lora.model, item.Double("model", 1.0, -5.0, 5.0));
    HORDE_TRY(lora.clip, item.Double("clip", 1.0, -5.0, 5.0));
    HORDE_TRY(lora.inject_trigger,
              item.OptString("inject_trigger",
                             {.min_chars = 1, .max_chars = 30, .empty_is_unset = true}));
    HORDE_TRY(lora.is_version, item.Bool("is_version", false));
    return lora;
}

Result<Ti> ReadTi(const FieldReader& item) {
    Ti ti;
    HORDE_TRY(ti.name, item.RequiredString("name", {.min_chars = 1, .max_chars = kNameCharsMax}));
    HORDE_TRY(ti.inject_ti, item.OptEnum("inject_ti", kInjectTi));
    HORDE_TRY(ti.strength, item.Double("strength", 1.0, -5.0, 5.0));
    return ti;
}

Result<ExtraText> ReadExtraText(const FieldReader& item) {
    ExtraText extra;
    HORDE_TRY(extra.text, item.RequiredString("text"));
    HORDE_TRY(extra.reference, item.RequiredString("reference", {.min_chars = 3}));
    return extra;
}

/// `seed` is a string; integers are accepted and kept as their decimal text. "" = unset.
Result<std::optional<std::string>> ReadSeed(const FieldReader& params) {
    const json::value* value = params.Find("seed");
    if (value != nullptr && value->is_number()) {
        HORDE_TRY(int64_t number, ReadInt(*value, params.PathOf("seed"), kInt64Min, kInt64Max));
        return std::optional<std::string>(std::to_string(number));
    }
    return params.OptString("seed", {.max_chars = kSeedCharsMax, .empty_is_unset = true});
}

Result<int> ReadImageSide(const FieldReader& params, std::string_view key) {
    HORDE_TRY(int64_t side, params.Int(key, 512, kImageSideMin, kImageSideMax));
    if (side % kImageSideStep != 0) {
        return ValidationError("'" + std::string(key) + "' must be a multiple of 64 between " +
                                   std::to_string(kImageSideMin) + " and " +
                                   std::to_string(kImageSideMax),
                               params.PathOf(key));
    }
    return static_cast<int>(side);
}

Result<std::vector<std::string>> ReadPostProcessing(const FieldReader& params) {
    HORDE_TRY(std::optional<std::vector<std::string>> names,
              params.OptStringArray("post_processing", {.drop_empty = true}));
    std::vector<std::string> unique;
    const std::string path = params.PathOf("post_processing");
    for (std::string& name : names.value_or(std::vector<std::string>{})) {
        if (!Contains(domain::KnownPostProcessors(), name)) {
            return ValidationError(
                "'post_processing' entries must be known post-processors; '" + name + "' is not",
                path);
        }
        if (std::find(unique.begin(), unique.end(), name) != unique.end()) {
            return ValidationError("'post_processing' must not repeat '" + name + "'", path);
        }
        unique.push_back(std::move(name));
    }
    return unique;
}

Status ReadImageNumbers(const FieldReader& params, ImageParams& p) {
    HORDE_TRY(p.cfg_scale, params.Double("cfg_scale", 5.0, 0.0, 100.0));
    HORDE_TRY(p.denoising_strength, params.OptDouble("denoising_strength", 0.01, 1.0));
    HORDE_TRY(p.hires_fix_denoising_strength,
              params.OptDouble("hires_fix_denoising_strength", 0.01, 1.0));
    HORDE_TRY(p.facefixer_strength, params.OptDouble("facefixer_strength", 0.0, 1.0));
    HORDE_TRY(p.width, ReadImageSide(params, "width"));
    HORDE_TRY(p.height, ReadImageSide(params, "height"));
    HORDE_TRY(const std::optional<int64_t> steps, params.OptInt("steps", 1, 500));
    if (steps) {
        p.steps = static_cast<int>(*steps);
    }
    HORDE_TRY(const int64_t n, params.Int("n", 1, 1, 20));
    p.n = static_cast<int>(n);
    HORDE_TRY(const std::optional<int64_t> variation, params.OptInt("seed_variation", 1, 1000));
    if (variation) {
        p.seed_variation = static_cast<int>(*variation);
    }
    HORDE_TRY(const std::optional<int64_t> clip_skip, params.OptInt("clip_skip", 1, 12));
    if (clip_skip) {
        p.clip_skip = static_cast<int>(*clip_skip);
    }
    return Ok();
}

Status ReadImageFlags(const FieldReader& params, ImageParams& p) {
    HORDE_TRY(p.karras, params.Bool("karras", true));
    HORDE_TRY(p.tiling, params.Bool("tiling", false));
    HORDE_TRY(p.hires_fix, params.Bool("hires_fix", false));
    HORDE_TRY(p.transparent, params.Bool("transparent", false));
    HORDE_TRY(p.image_is_control, params.Bool("image_is_control", false));
    HORDE_TRY(p.return_control_map, params.Bool("return_control_map", false));
    return Ok();
}

Status ReadImageLists(const FieldReader& params, ImageParams& p) {
    HORDE_TRY(p.post_processing, ReadPostProcessing(params));
    HORDE_TRY(p.loras, ReadObjectArray<Lora>(params, "loras", ReadLora));
    HORDE_TRY(p.tis, ReadObjectArray<Ti>(params, "tis", ReadTi));
    if (params.Has("extra_texts")) {
        HORDE_TRY(std::vector<ExtraText> texts,
                  ReadObjectArray<ExtraText>(params, "extra_texts", ReadExtraText));
        if (texts.size() > kExtraTextsMax) {
            return ValidationError(
                "'extra_texts' must have at most " + std::to_string(kExtraTextsMax) + " entries",
                params.PathOf("extra_texts"));
        }
        p.extra_texts = std::move(texts);
    }
    HORDE_TRY(const json::object* special, params.OptObject("special"));
    if (special != nullptr) {
        p.special = *special;
    }
    return Ok();
}

Result<ImageParams> ReadImageParams(const FieldReader& params) {
    ImageParams p;
    HORDE_TRY(std::optional<std::string> sampler,
              params.OptEnum("sampler_name", domain::KnownSamplers()));
    if (sampler) {
        p.sampler_name = std::move(*sampler);
    }
    HORDE_TRY_STATUS(ReadImageNumbers(params, p));
    HORDE_TRY(p.seed, ReadSeed(params));
    HORDE_TRY_STATUS(ReadImageFlags(params, p));
    HORDE_TRY(p.control_type, params.OptEnum("control_type", kControlTypes));
    HORDE_TRY(p.workflow, params.OptEnum("workflow", kWorkflows));
    HORDE_TRY_STATUS(ReadImageLists(params, p));
    return p;
}

/// Steps default to 30, or 20 with ControlNet; ControlNet silently caps them at 40.
int ResolveSteps(const ImageParams& p) {
    if (!p.control_type) {
        return p.steps.value_or(kStepsDefault);
    }
    return std::min(p.steps.value_or(kStepsDefaultControlNet), kStepsMaxControlNet);
}

/// The params rules with their own rc (§1.1), in the reference's order.
Status CheckImageParams(const ImageParams& p) {
    // Python's `round(x, 2) == x`: the value must be the double nearest a 2-decimal number.
    if (std::round(p.cfg_scale * 100.0) / 100.0 != p.cfg_scale) {
        return MakeError(ErrorCode::kBadCfgDecimals);
    }
    const auto upscalers =
        std::count_if(p.post_processing.begin(), p.post_processing.end(),
                      [](const std::string& name) { return Contains(kUpscalers, name); });
    if (upscalers > 1) {
        return MakeError(ErrorCode::kTooManyUpscalers);
    }
    if (p.loras.size() > kLorasMax) {
        return MakeError(ErrorCode::kTooManyLoras);
    }
    for (const Lora& lora : p.loras) {
        if (lora.is_version && !AllDigits(lora.name)) {
            return MakeError(ErrorCode::kBadLoraVersion);
        }
    }
    if (p.tis.size() > kTisMax) {
        return MakeError(ErrorCode::kTooManyTis);
    }
    return Ok();
}

/// The source-image rules (§1.1 "Other semantic checks") that need only the body.
Status CheckImageSource(const ImageParams& p, const GenerateInput& in,
                        std::string_view source_processing) {
    if (!in.source_mask.empty() && in.source_image.empty()) {
        return MakeError(ErrorCode::kSourceMaskUnnecessary);
    }
    if (p.control_type) {
        if (in.source_image.empty()) {
            return MakeError(ErrorCode::kControlNetSourceMissing);
        }
        if (source_processing == "inpainting") {
            return MakeError(ErrorCode::kControlNetInpaintingMismatch);
        }
    }
    if (p.image_is_control && p.return_control_map) {
        return MakeError(ErrorCode::kControlNetInvalidPayload);
    }
    return Ok();
}

json::array LorasToJson(const std::vector<Lora>& loras) {
    json::array array;
    for (const Lora& lora : loras) {
        json::object entry;
        entry["name"] = lora.name;
        entry["model"] = lora.model;
        entry["clip"] = lora.clip;
        if (lora.inject_trigger) {
            entry["inject_trigger"] = *lora.inject_trigger;
        }
        entry["is_version"] = lora.is_version;
        array.emplace_back(std::move(entry));
    }
    return array;
}

json::array TisToJson(const std::vector<Ti>& tis) {
    json::array array;
    for (const Ti& ti : tis) {
        json::object entry;
        entry["name"] = ti.name;
        if (ti.inject_ti) {
            entry["inject_ti"] = *ti.inject_ti;
        }
        entry["strength"] = ti.strength;
        array.emplace_back(std::move(entry));
    }
    return array;
}

void PutImageExtras(const ImageParams& p, json::object& o) {
    if (!p.loras.empty()) {
        o["loras"] = LorasToJson(p.loras);
    }
    if (!p.tis.empty()) {
        o["tis"] = TisToJson(p.tis);
    }
    if (p.special) {
        o["special"] = *p.special;
    }
    if (p.extra_texts) {
        json::array texts;
        for (const ExtraText& extra : *p.extra_texts) {
            texts.emplace_back(json::object{{"text", extra.text}, {"reference", extra.reference}});
        }
        o["extra_texts"] = std::move(texts);
    }
    if (p.workflow) {
        o["workflow"] = *p.workflow;
    }
}

/// The params a worker receives: known keys only, defaults applied, no `n`.
json::object NormalizedImageParams(const ImageParams& p, int steps) {
    json::object o;
    o["sampler_name"] = p.sampler_name;
    o["cfg_scale"] = p.cfg_scale;
    if (p.denoising_strength) {
        o["denoising_strength"] = *p.denoising_strength;
    }
    if (p.hires_fix_denoising_strength) {
        o["hires_fix_denoising_strength"] = *p.hires_fix_denoising_strength;
    }
    if (p.seed) {
        o["seed"] = *p.seed;
    }
    o["height"] = p.height;
    o["width"] = p.width;
    if (p.seed_variation) {
        o["seed_variation"] = *p.seed_variation;
    }
    o["post_processing"] = ToJsonArray(p.post_processing);
    o["karras"] = p.karras;
    o["tiling"] = p.tiling;
    o["hires_fix"] = p.hires_fix;
    if (p.clip_skip) {
        o["clip_skip"] = *p.clip_skip;
    }
    if (p.control_type) {
        o["control_type"] = *p.control_type;
    }
    o["image_is_control"] = p.image_is_control;
    o["return_control_map"] = p.return_control_map;
    if (p.facefixer_strength) {
        o["facefixer_strength"] = *p.facefixer_strength;
    }
    PutImageExtras(p, o);
    o["transparent"] = p.transparent;
    o["steps"] = steps;
    return o;
}

domain::ImageShape ToImageShape(const ImageParams& p, int steps, const GenerateInput& in,
                                std::string source_processing) {
    domain::ImageShape s;
    s.width = p.width;
    s.height = p.height;
    s.steps = steps;
    s.cfg_scale = p.cfg_scale;
    s.sampler_name = p.sampler_name;
    s.karras = p.karras;
    s.hires_fix = p.hires_fix;
    s.tiling = p.tiling;
    s.transparent = p.transparent;
    s.image_is_control = p.image_is_control;
    s.return_control_map = p.return_control_map;
    s.denoising_strength = p.denoising_strength;
    s.clip_skip = p.clip_skip.value_or(1);
    s.control_type = p.control_type.value_or("");
    s.workflow = p.workflow.value_or("");
    s.post_processing = p.post_processing;
    s.lora_count = static_cast<int>(p.loras.size());
    s.lora_versions = std::any_of(p.loras.begin(), p.loras.end(),
                                  [](const Lora& lora) { return lora.is_version; });
    s.ti_count = static_cast<int>(p.tis.size());
    s.has_source_image = !in.source_image.empty();
    s.has_source_mask = !in.source_mask.empty();
    s.source_processing = std::move(source_processing);
    s.extra_source_images = static_cast<int>(in.extra_source_images.size());
    return s;
}

Result<FieldReader> ParamsReader(const FieldReader& body, const json::object& empty) {
    HORDE_TRY(const json::object* params, body.OptObject("params"));
    return FieldReader(params != nullptr ? *params : empty, "params");
}

Result<std::string> ReadSourceFields(const FieldReader& body, GenerateInput& out) {
    HORDE_TRY(out.source_image, body.String("source_image", "", {.empty_is_unset = true}));
    HORDE_TRY(out.source_mask, body.String("source_mask", "", {.empty_is_unset = true}));
    HORDE_TRY(out.extra_source_images, ReadExtraSourceImages(body));
    HORDE_TRY(std::optional<std::string> processing,
              body.OptEnum("source_processing", kSourceProcessings));
    return processing.value_or("img2img");
}

// ---------------------------------------------------------------------------------------------
// Text params.

struct DoubleParam {
    std::string_view key;
    double min;
    double max;
};

struct IntParam {
    std::string_view key;
    int64_t min;
    int64_t max;
};

constexpr std::array<DoubleParam, 11> kTextDoubleParams = {{{"rep_pen", 1.0, 3.0},
                                                            {"rep_pen_slope", 0.0, 10.0},
                                                            {"temperature", 0.0, 5.0},
                                                            {"tfs", 0.0, 1.0},
                                                            {"top_a", 0.0, 1.0},
                                                            {"top_p", 0.001, 1.0},
                                                            {"typical", 0.0, 1.0},
                                                            {"min_p", 0.0, 1.0},
                                                            {"smoothing_factor", 0.0, 10.0},
                                                            {"dynatemp_range", 0.0, 5.0},
                                                            {"dynatemp_exponent", 0.0, 5.0}}};

constexpr std::array<IntParam, 3> kTextIntParams = {
    {{"rep_pen_range", 0, 4096}, {"top_k", 0, 200}, {"sampler_seed", kInt64Min, kInt64Max}}};

constexpr std::array<std::string_view, 6> kTextBoolParams = {
    "frmtadsnsp",  "frmtrmblln", "frmtrmspch",
    "frmttriminc", "singleline", "use_default_badwordsids"};

struct TextParams {
    json::object normalized;
    int n = 1;
    int max_length = 80;
    int max_context_length = 2048;
    std::optional<std::vector<int64_t>> sampler_order;
    std::optional<std::vector<std::string>> stop_sequence;
};

Status ReadTextScalars(const FieldReader& params, TextParams& t) {
    for (const DoubleParam& spec : kTextDoubleParams) {
        HORDE_TRY(std::optional<double> value, params.OptDouble(spec.key, spec.min, spec.max));
        if (value) {
            t.normalized[spec.key] = *value;
        }
    }
    for (const IntParam& spec : kTextIntParams) {
        HORDE_TRY(std::optional<int64_t> value, params.OptInt(spec.key, spec.min, spec.max));
        if (value) {
            t.normalized[spec.key] = *value;
        }
    }
    for (const std::string_view key : kTextBoolParams) {
        HORDE_TRY(std::optional<bool> value, params.OptBool(key));
        if (value) {
            t.normalized[key] = *value;
        }
    }
    return Ok();
}

/// Stop sequences keep their order; repeats and empty strings are dropped.
Result<std::optional<std::vector<std::string>>> ReadStopSequences(const FieldReader& params) {
    HORDE_TRY(std::optional<std::vector<std::string>> raw,
              params.OptStringArray("stop_sequence", {.drop_empty = true}));
    if (!raw) {
        return raw;
    }
    std::vector<std::string> unique;
    for (std::string& sequence : *raw) {
        if (std::find(unique.begin(), unique.end(), sequence) == unique.end()) {
            unique.push_back(std::move(sequence));
        }
    }
    return std::optional<std::vector<std::string>>(std::move(unique));
}

Result<TextParams> ReadTextParams(const FieldReader& params) {
    TextParams t;
    HORDE_TRY(const int64_t n, params.Int("n", 1, 1, 20));
    HORDE_TRY(const int64_t context, params.Int("max_context_length", 2048, 80, 1048576));
    HORDE_TRY(const int64_t length, params.Int("max_length", 80, 16, 4096));
    t.n = static_cast<int>(n);
    t.max_context_length = static_cast<int>(context);
    t.max_length = static_cast<int>(length);
    t.normalized["max_context_length"] = context;
    t.normalized["max_length"] = length;
    HORDE_TRY_STATUS(ReadTextScalars(params, t));
    HORDE_TRY(t.sampler_order, params.OptIntArray("sampler_order", kSamplerOrderItemsMax));
    if (t.sampler_order) {
        json::array order;
        for (const int64_t item : *t.sampler_order) {
            order.emplace_back(item);
        }
        t.normalized["sampler_order"] = std::move(order);
    }
    HORDE_TRY(t.stop_sequence, ReadStopSequences(params));
    if (t.stop_sequence) {
        t.normalized["stop_sequence"] = ToJsonArray(*t.stop_sequence);
    }
    return t;
}

Status CheckTextParams(const TextParams& t) {
    if (t.sampler_order) {
        const std::set<int64_t> distinct(t.sampler_order->begin(), t.sampler_order->end());
        if (distinct.size() < kSamplerOrderDistinctMin) {
            return MakeError(ErrorCode::kMissingFullSamplerOrder);
        }
    }
    if (t.stop_sequence) {
        if (t.stop_sequence->size() > kStopSequencesMax) {
            return MakeError(ErrorCode::kTooManyStopSequences);
        }
        size_t chars = 0;
        for (const std::string& sequence : *t.stop_sequence) {
            chars += Utf8Length(sequence);
        }
        if (chars > kStopSequenceCharsMax) {
            return MakeError(ErrorCode::kExcessiveStopSequence);
        }
    }
    if (t.max_context_length < t.max_length) {
        return MakeError(ErrorCode::kTokenOverflow);
    }
    return Ok();
}

}  // namespace

Result<GenerateInput> DecodeImageGenerate(std::string_view body_text) {
    HORDE_TRY(const json::object root, ParseJsonObject(body_text));
    const FieldReader body(root);
    GenerateInput out;
    HORDE_TRY_STATUS(ReadCommon(body, GenKind::kImage, out));
    const json::object empty;
    HORDE_TRY(const FieldReader params, ParamsReader(body, empty));
    HORDE_TRY(ImageParams p, ReadImageParams(params));
    HORDE_TRY(std::string processing, ReadSourceFields(body, out));

    HORDE_TRY_STATUS(CheckExtraSourceImages(out, GenKind::kImage, processing));
    HORDE_TRY_STATUS(CheckPrompt(out.request.prompt));
    HORDE_TRY_STATUS(CheckImageParams(p));
    HORDE_TRY_STATUS(CheckImageSource(p, out, processing));

    domain::Request& r = out.request;
    const int steps = ResolveSteps(p);
    r.params_json = json::serialize(NormalizedImageParams(p, steps));
    r.image = ToImageShape(p, steps, out, std::move(processing));
    r.seed = p.seed.value_or("");
    r.seed_variation = p.seed_variation;
    r.jobs = p.n;
    r.n = p.n;
    r.things = static_cast<int64_t>(p.width) * p.height * steps;
    if (p.workflow) {
        // The qr_code workflow renders one image per job (§1.1).
        r.disable_batching = true;
    }
    return out;
}

Result<GenerateInput> DecodeTextGenerate(std::string_view body_text) {
    HORDE_TRY(const json::object root, ParseJsonObject(body_text));
    const FieldReader body(root);
    GenerateInput out;
    HORDE_TRY_STATUS(ReadCommon(body, GenKind::kText, out));
    HORDE_TRY(std::string softprompt,
              body.String("softprompt", "", {.max_chars = 1024, .empty_is_unset = true}));
    const json::object empty;
    HORDE_TRY(const FieldReader params, ParamsReader(body, empty));
    HORDE_TRY(TextParams t, ReadTextParams(params));
    HORDE_TRY(out.extra_source_images, ReadExtraSourceImages(body));

    HORDE_TRY_STATUS(CheckExtraSourceImages(out, GenKind::kText, ""));
    HORDE_TRY_STATUS(CheckPrompt(out.request.prompt));
    HORDE_TRY_STATUS(CheckTextParams(t));

    domain::Request& r = out.request;
    r.params_json = json::serialize(t.normalized);
    r.text.max_length = t.max_length;
    r.text.max_context_length = t.max_context_length;
    r.text.softprompt = std::move(softprompt);
    r.text.prompt_chars = static_cast<int>(Utf8Length(r.prompt));
    r.jobs = t.n;
    r.n = t.n;
    r.things = t.max_length;
    return out;
}

}  // namespace horde::protocol

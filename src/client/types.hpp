#pragma once
// Typed requests and responses of the AI Horde API v2 as the client sees them (contract §1).
// Every request field is optional: an unset field is not sent, so the server's default applies
// (the effective defaults of the contract, e.g. image `nsfw` true, `r2` true, `cfg_scale` 5).
// Responses are decoded tolerantly: missing fields keep the defaults below, unknown fields are
// ignored, and `raw_json` keeps the whole answer for anything not modelled here.
// All types are plain values.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace horde::client {

// ---------------------------------------------------------------------------------------------
// Image generation (POST /generate/async)

struct Lora {
    std::string name{};                           // 1..255 chars; a version id when is_version
    std::optional<double> model{};                // -5..5, server default 1
    std::optional<double> clip{};                 // -5..5, server default 1
    std::optional<std::string> inject_trigger{};  // 1..30 chars ("any" = first trigger word)
    std::optional<bool> is_version{};
};

struct TextualInversion {
    std::string name{};
    std::optional<std::string> inject_ti{};  // "prompt" or "negprompt"
    std::optional<double> strength{};        // -5..5, server default 1
};

struct ExtraText {
    std::string text{};
    std::string reference{};  // at least 3 chars
};

struct ExtraSourceImage {
    std::string image{};  // base64 or an https URL
    std::optional<double> strength{};
};

/// `params` of an image request.
struct ImageParams {
    std::optional<std::string> sampler_name{};   // k_euler_a (default), k_dpmpp_2m, DDIM, lcm, ...
    std::optional<double> cfg_scale{};           // 0..100, 2 decimals at most (default 5)
    std::optional<double> denoising_strength{};  // 0.01..1 (img2img)
    std::optional<double> hires_fix_denoising_strength{};  // 0.01..1
    std::optional<int> width{};                            // 64..3072, multiple of 64 (512)
    std::optional<int> height{};                           // 64..3072, multiple of 64 (512)
    std::optional<int> steps{};                            // 1..500 (30)
    std::optional<int> n{};                                // 1..20 images (1)
    std::optional<std::string> seed{};    // digits, or any text (hashed); unset = random per image
    std::optional<int> seed_variation{};  // 1..1000
    std::optional<std::vector<std::string>> post_processing{};  // GFPGAN, RealESRGAN_x4plus, ...
    std::optional<bool> karras{};                               // (true)
    std::optional<bool> tiling{};
    std::optional<bool> hires_fix{};
    std::optional<bool> transparent{};
    std::optional<int> clip_skip{};              // 1..12
    std::optional<double> facefixer_strength{};  // 0..1
    std::optional<std::string> control_type{};   // canny, hed, depth, normal, openpose, ...
    std::optional<bool> image_is_control{};
    std::optional<bool> return_control_map{};
    std::optional<std::vector<Lora>> loras{};             // at most 5
    std::optional<std::vector<TextualInversion>> tis{};   // at most 20
    std::optional<std::string> workflow{};                // "qr_code"
    std::optional<std::vector<ExtraText>> extra_texts{};  // for workflows
    std::optional<std::string> special_json{};  // `special`: a JSON object (special users only)
    /// A JSON object whose members are added to `params` as they are (for fields newer than
    /// this library). Empty = none. Invalid JSON fails the submit with kInvalidArgument.
    std::string extra_json{};
};

struct ImageRequest {
    std::string prompt{};  // required; "positive ### negative" is the wire convention
    /// Convenience: when non-empty it is appended to the prompt as " ### <negative_prompt>".
    std::string negative_prompt{};
    ImageParams params{};
    std::optional<std::vector<std::string>> models{};  // unset = ["stable_diffusion"], [] = any
    std::optional<bool> nsfw{};                        // (true)
    std::optional<bool> censor_nsfw{};                 // (true)
    std::optional<bool> trusted_workers{};
    std::optional<bool> validated_backends{};
    std::optional<bool> slow_workers{};  // (true)
    std::optional<bool> extra_slow_workers{};
    std::optional<std::vector<std::string>> workers{};  // worker ids, at most 5
    std::optional<bool> worker_blacklist{};             // treat `workers` as a block list
    std::optional<std::string> source_image{};       // base64 image or http(s) URL (img2img, ...)
    std::optional<std::string> source_processing{};  // img2img, inpainting, outpainting, remix
    std::optional<std::string> source_mask{};        // base64
    std::optional<std::vector<ExtraSourceImage>> extra_source_images{};  // remix only
    std::optional<bool> r2{};  // (true) results as download URLs; false = base64 in the status
    std::optional<bool> shared{};
    std::optional<bool> replacement_filter{};  // (true)
    std::optional<bool> dry_run{};             // only price the request (see EstimateImageKudos)
    std::optional<std::string> proxied_account{};
    std::optional<bool> disable_batching{};
    std::optional<bool> allow_downgrade{};
    std::optional<std::string> webhook{};  // https URL called per delivered image
    std::optional<std::string> style{};    // style or collection id or name
    std::string extra_json{};              // like ImageParams::extra_json, for the top level
};

// ---------------------------------------------------------------------------------------------
// Text generation (POST /generate/text/async)

struct TextParams {
    std::optional<int> n{};                     // 1..20
    std::optional<int> max_context_length{};    // 80..1048576 (2048)
    std::optional<int> max_length{};            // 16..4096 tokens to generate (80)
    std::optional<double> rep_pen{};            // 1..3
    std::optional<int> rep_pen_range{};         // 0..4096
    std::optional<double> rep_pen_slope{};      // 0..10
    std::optional<double> temperature{};        // 0..5
    std::optional<double> tfs{};                // 0..1
    std::optional<double> top_a{};              // 0..1
    std::optional<int> top_k{};                 // 0..200
    std::optional<double> top_p{};              // 0.001..1
    std::optional<double> typical{};            // 0..1
    std::optional<double> min_p{};              // 0..1
    std::optional<double> smoothing_factor{};   // 0..10
    std::optional<double> dynatemp_range{};     // 0..5
    std::optional<double> dynatemp_exponent{};  // 0..5
    std::optional<bool> frmtadsnsp{};
    std::optional<bool> frmtrmblln{};
    std::optional<bool> frmtrmspch{};
    std::optional<bool> frmttriminc{};
    std::optional<bool> singleline{};
    std::optional<bool> use_default_badwordsids{};
    std::optional<std::vector<int>> sampler_order{};          // all 7 samplers when set
    std::optional<std::vector<std::string>> stop_sequence{};  // at most 128, 2000 chars in all
    std::string extra_json{};                                 // a JSON object merged into `params`
};

struct TextRequest {
    std::string prompt{};
    TextParams params{};
    std::optional<std::vector<std::string>> models{};  // unset or [] = any model
    std::optional<std::string> softprompt{};
    std::optional<bool> trusted_workers{};
    std::optional<bool> validated_backends{};
    std::optional<bool> slow_workers{};
    std::optional<bool> extra_slow_workers{};
    std::optional<bool> nsfw{};
    std::optional<std::vector<std::string>> workers{};
    std::optional<bool> worker_blacklist{};
    std::optional<bool> dry_run{};
    std::optional<std::string> proxied_account{};
    std::optional<bool> disable_batching{};
    std::optional<bool> allow_downgrade{};
    std::optional<std::string> webhook{};
    std::optional<std::string> style{};
    std::string extra_json{};
};

// ---------------------------------------------------------------------------------------------
// Request status (check, status, cancel)

struct Warning {
    std::string code{};  // NoAvailableWorker, StepsTooFew, ...
    std::string message{};
};

/// The answer to an accepted submit (202), or to a dry run (200: `id` empty, `kudos` = price).
struct AsyncResponse {
    std::string id{};
    double kudos = 0;
    std::string message{};  // set e.g. when no worker can currently serve the request
    std::vector<Warning> warnings{};
};

enum class RequestKind { kImage, kText };

/// The lite status (GET /generate/check/{id}); also the head of every full status.
struct RequestStatus {
    std::string id{};         // the request id (filled in by the client; not part of the answer)
    int finished = 0;         // delivered generations
    int processing = 0;       // jobs being generated right now
    int restarted = 0;        // jobs that failed and were queued again
    int waiting = 0;          // jobs not yet handed to a worker
    bool done = false;        // nothing more will happen (finished, cancelled or faulted)
    bool faulted = false;     // the request failed
    int wait_time_s = 0;      // the server's ETA
    int queue_position = 0;   // 1 = next; 0 = nothing left to hand out
    double kudos = 0;         // kudos consumed so far
    bool is_possible = true;  // false: no worker could serve it right now
};

struct GenMetadata {
    std::string type{};   // lora, ti, censorship, source_image, ...
    std::string value{};  // download_failed, parse_failed, csam, nsfw, see_ref, ...
    std::string ref{};
};

struct ImageGeneration {
    std::string img{};   // a download URL (r2, the default) or base64 WebP (r2 = false)
    std::string seed{};  // a string on the wire
    std::string id{};    // the generation (job) id
    bool censored = false;
    std::string worker_id{};
    std::string worker_name{};
    std::string model{};
    std::string state{};  // "ok"
    std::vector<GenMetadata> gen_metadata{};

    /// True when `img` is a URL to download (false: inline base64).
    bool IsUrl() const;
};

struct ImageStatus : RequestStatus {
    std::vector<ImageGeneration> generations{};
    bool shared = false;
};

struct TextGeneration {
    std::string text{};
    int64_t seed = 0;
    std::string id{};  // not sent by every server
    std::string worker_id{};
    std::string worker_name{};
    std::string model{};
    std::string state{};  // ok, censored, csam
    std::vector<GenMetadata> gen_metadata{};
};

struct TextStatus : RequestStatus {
    std::vector<TextGeneration> generations{};
};

// ---------------------------------------------------------------------------------------------
// Account and horde status

struct UserRecords {
    double usage_megapixelsteps = 0;
    int64_t usage_tokens = 0;
    double contribution_megapixelsteps = 0;
    int64_t contribution_tokens = 0;
    int64_t fulfillment_image = 0;
    int64_t fulfillment_text = 0;
    int64_t fulfillment_interrogation = 0;
    int64_t request_image = 0;
    int64_t request_text = 0;
    int64_t request_interrogation = 0;
};

struct UserDetails {
    std::string username{};  // "name#id"
    int64_t id = 0;
    double kudos = 0;
    std::map<std::string, double> kudos_details{};  // accumulated, gifted, received, ...
    int concurrency = 0;
    int worker_invited = 0;
    bool moderator = false;
    bool trusted = false;
    bool flagged = false;
    bool pseudonymous = false;
    bool service = false;
    bool deleted = false;
    bool education = false;
    bool customizer = false;
    int worker_count = 0;
    int64_t account_age_s = 0;
    UserRecords records{};
    std::vector<std::string> worker_ids{};     // when public or shown to the user
    std::vector<std::string> sharedkey_ids{};  // shown to the user
    std::string contact{};                     // shown to the user
    std::optional<double> evaluating_kudos{};  // shown to moderators
    std::vector<std::string> active_image_requests{};
    std::vector<std::string> active_text_requests{};
    std::string raw_json{};
};

struct WorkerDetails {
    std::string type{};  // image, text, interrogation
    std::string name{};
    std::string id{};
    bool online = false;
    int64_t requests_fulfilled = 0;
    int64_t uncompleted_jobs = 0;
    double kudos_rewards = 0;
    std::string performance{};  // e.g. "1.2 megapixelsteps per second"
    int threads = 0;
    int64_t uptime_s = 0;
    bool maintenance_mode = false;
    std::string info{};
    bool trusted = false;
    bool flagged = false;
    std::string team_name{};
    std::string team_id{};
    std::string bridge_agent{};
    bool nsfw = false;
    std::vector<std::string> models{};
    std::string owner{};  // when the owner's workers are public
    // image workers
    int64_t max_pixels = 0;
    double megapixelsteps_generated = 0;
    bool img2img = false;
    bool painting = false;
    bool post_processing = false;
    bool controlnet = false;
    bool sdxl_controlnet = false;
    bool lora = false;
    // text workers
    int max_length = 0;
    int max_context_length = 0;
    int64_t tokens_generated = 0;
    std::string raw_json{};
};

struct ModelStatus {
    std::string name{};
    int count = 0;  // threads serving it
    double performance = 0;
    double queued = 0;  // megapixelsteps (image) or tokens (text)
    double jobs = 0;
    int64_t eta_s = 0;
    std::string type{};  // image or text
};

struct Performance {
    int64_t queued_requests = 0;
    int64_t queued_text_requests = 0;
    int64_t worker_count = 0;
    int64_t text_worker_count = 0;
    int64_t thread_count = 0;
    int64_t text_thread_count = 0;
    double queued_megapixelsteps = 0;
    double past_minute_megapixelsteps = 0;
    double queued_forms = 0;
    int64_t interrogator_count = 0;
    int64_t interrogator_thread_count = 0;
    double queued_tokens = 0;
    double past_minute_tokens = 0;
    std::string raw_json{};
};

struct Heartbeat {
    std::string message{};  // OK, DOWN, OVERLOADED
    std::string version{};
    int64_t queue = 0;
    int64_t threads = 0;
    int64_t active_count = 0;
    bool db_connection = false;
};

struct HordeModes {
    bool maintenance_mode = false;
    bool invite_only_mode = false;
    std::optional<bool> raid_mode{};  // shown to moderators
};

struct KudosTransfer {
    double transferred = 0;
};

}  // namespace horde::client

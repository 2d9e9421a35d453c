#pragma once
// The horde's entities as plain value types: requests (the reference's WaitingPrompt), jobs
// (ProcessingGeneration), workers and users. No I/O, no JSON: wire params travel as an opaque,
// already-validated JSON text (`params_json`) and the fields the rules need are typed here.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/compact_string.hpp"
#include "common/ids.hpp"
#include "common/kudos.hpp"

namespace horde::domain {

enum class GenKind : uint8_t { kImage, kText };

/// What an image request asks for, as far as pricing and matching care. (Members are grouped by
/// size so that no padding is spent: a copy sits in every queued request.)
struct ImageShape {
    double cfg_scale = 5.0;
    std::optional<double> denoising_strength;
    InternedString sampler_name = "k_euler_a";
    InternedString control_type;                   // empty = none
    InternedString workflow;                       // empty = none; "qr_code"
    InternedString source_processing = "img2img";  // img2img | inpainting | outpainting | remix
    std::vector<std::string> post_processing;
    int width = 512;
    int height = 512;
    int steps = 30;
    int clip_skip = 1;
    int lora_count = 0;
    int ti_count = 0;
    int extra_source_images = 0;
    bool karras = true;
    bool hires_fix = false;
    bool tiling = false;
    bool transparent = false;
    bool image_is_control = false;
    bool return_control_map = false;
    bool lora_versions = false;  // any lora with is_version
    // Source image facts (the images themselves live in the results store).
    bool has_source_image = false;
    bool has_source_mask = false;
};

/// What a text request asks for.
struct TextShape {
    int max_length = 80;
    int max_context_length = 2048;
    CompactString softprompt;  // empty = none
    int prompt_chars = 0;
};

/// A client's request for `jobs` generations (the reference's WaitingPrompt).
struct Request {
    RequestId id;
    UserId user;
    CompactString prompt;
    CompactString params_json;  // validated wire params, handed to workers in the pop payload
    CompactStringList models;
    std::vector<WorkerId> workers;  // allow list, or block list when worker_blacklist
    bool worker_blacklist = false;
    bool nsfw = false;
    bool censor_nsfw = false;
    bool trusted_workers = false;
    bool validated_backends = false;
    bool slow_workers = true;
    bool extra_slow_workers = false;
    bool r2 = true;
    bool shared = false;
    bool disable_batching = false;
    bool safe_ip = true;
    bool faulted = false;
    bool cancelled = false;
    GenKind kind = GenKind::kImage;  // with the flags above: one 16-byte run, no padding
    ImageShape image;
    TextShape text;
    CompactString seed;  // image: "" = random per job
    /// Source image and mask: a file name in the results store, or an http(s) URL as given.
    CompactString source_image;
    CompactString source_mask;
    std::optional<int> seed_variation;
    CompactString client_agent;  // stored only: memory keeps neither (see HordeService)
    CompactString ipaddr;
    CompactString webhook;

    int jobs = 1;        // total jobs requested (n); cancel lowers it to the finished count (image)
    int n = 1;           // jobs not yet handed out
    int64_t things = 0;  // per job: pixelsteps (image) or tokens (text)
    Kudos kudos_per_job;              // base price K per job (status/async `kudos`)
    Kudos consumed;                   // everything charged so far
    Kudos hold;                       // upfront kudos still reserved for this request (§4.5)
    int64_t priority_base_milli = 0;  // requester's balance at request time (milli-kudos)
    TimePoint created;
    TimePoint expiry;
    int64_t seq = 0;  // insertion order, tie breaker after `created`
    /// Not the request's own: where the service's expiry index (service/expiry_index.hpp)
    /// keeps it, so that a claim or an update removes it without a scan. Takes the 8 bytes
    /// that the allocator's size class left unused after the request's map node.
    mutable uint32_t expiry_slot = 0;
};

enum class JobState { kProcessing, kDone, kFaulted, kAborted };

/// One job handed to one worker (the reference's ProcessingGeneration).
struct Job {
    JobId id;
    RequestId request;
    GenKind kind = GenKind::kImage;
    WorkerId worker;
    std::string worker_name;
    UserId worker_owner;
    std::string model;
    int64_t seed = 0;
    JobState state = JobState::kProcessing;
    bool fake = false;
    bool censored = false;
    std::string generation;  // text, or "R2" marker for stored images
    std::string gen_metadata_json = "[]";
    std::string result_state = "ok";  // ok | censored | csam
    Kudos reward;
    TimePoint start;
    int ttl_s = 150;
    TimePoint finished;
};

/// Declared by a worker at each pop and stored with it.
struct WorkerProfile {
    std::vector<std::string> models;
    std::string bridge_agent = "unknown:0:unknown";
    int threads = 1;
    bool nsfw = true;
    bool require_upfront_kudos = false;
    bool extra_slow_worker = false;
    bool allow_unsafe_ipaddr = true;
    std::vector<std::string> blacklist;
    std::vector<std::string> priority_usernames;
    // image
    int64_t max_pixels = 262144;
    bool allow_img2img = true;
    bool allow_painting = true;
    bool allow_post_processing = true;
    bool allow_controlnet = false;
    bool allow_sdxl_controlnet = false;
    bool allow_lora = false;
    bool limit_max_steps = false;
    // text
    int max_length = 512;
    int max_context_length = 2048;
    std::vector<std::string> softprompts;
    /// Explicit capability list (§9.5); empty = infer from bridge_agent.
    std::vector<std::string> capabilities;
    bool capabilities_declared = false;
    bool operator==(const WorkerProfile&) const = default;
};

struct Worker {
    WorkerId id;
    GenKind kind = GenKind::kImage;
    std::string name;
    UserId owner;
    WorkerProfile profile;
    std::string info;
    bool maintenance = false;
    std::string maintenance_msg;
    bool paused = false;
    std::string ipaddr;
    TimePoint created;
    TimePoint last_check_in;
    int64_t uptime_s = 0;
    int64_t last_reward_uptime_s = 0;
    int64_t fulfilments = 0;
    int64_t aborted_jobs = 0;
    double things_done = 0;             // pixelsteps or tokens
    Kudos kudos_generated;              // display: rewards for jobs
    Kudos kudos_uptime;                 // display: uptime rewards
    std::vector<double> speed_samples;  // things per second, last 20
};

struct User {
    UserId id;
    std::string username;
    std::string api_key_hash;  // hex; never the key
    bool anonymous = false;
    bool moderator = false;
    bool admin = false;
    bool trusted = false;
    bool flagged = false;
    bool deleted = false;
    bool pseudonymous = false;
    bool public_workers = false;
    int concurrency = 30;
    int worker_invited = 0;
    std::string contact;
    std::string oauth_id;  // login identity (provider id, "pseudonymous:<uuid>", test users)
    TimePoint created;
    TimePoint last_active;
    // Set by moderators and admins (PUT /users/{id}).
    double usage_multiplier = 1.0;  // scales the usage records only
    Kudos monthly_kudos;            // granted every 30 days
    TimePoint monthly_kudos_last;   // when it was last granted
    std::string admin_comment;
    bool customizer = false;
    bool vpn = false;
    bool service = false;
    bool education = false;
    bool special = false;
};

/// A worker is online while it checked in within this many seconds.
inline constexpr int kWorkerOnlineWindowS = 300;

/// Requests live this long after creation, the last pop or the last delivery.
inline constexpr int kRequestLifetimeS = 20 * 60;

}  // namespace horde::domain

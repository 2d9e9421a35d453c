#pragma once
// Decoders for POST /v2/generate/async (image) and /v2/generate/text/async (text): wire JSON in,
// a validated domain::Request out (api-contract.md §1.1, §1.2, §2.1).
//
// The decoders check everything that needs only the body: types, limits, enums and the
// request-shape rules with their own rc (MissingPrompt, BadCFGDecimals, TooManyLoras,
// ControlNetSourceMissing, TokenOverflow, ...). Rules that need the store, the caller or the
// model reference (WorkerNotFound, RequiresTrust, KudosUpfront, model baselines) are the
// service's.
//
// Error order follows the reference: schema errors (kValidationFailed) first, then extra source
// images, the prompt, the params rules and finally the source-image rules.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "domain/entities.hpp"

namespace horde::protocol {

/// The most whitespace-separated words a prompt may hold (kInvalidPromptSize above it).
inline constexpr size_t kPromptWordsMax = 7500;
inline constexpr size_t kRequestModelsMax = 200;
inline constexpr size_t kRequestWorkersKept = 5;
inline constexpr size_t kLorasMax = 5;
inline constexpr size_t kTisMax = 20;
inline constexpr size_t kExtraSourceImagesMax = 5;
inline constexpr size_t kStopSequencesMax = 128;
inline constexpr size_t kStopSequenceCharsMax = 2000;

/// A decoded generate request. `request` carries everything the domain needs; the other fields
/// are request-time options and payloads that the service handles and does not store as such.
struct GenerateInput {
    /// Filled: kind, prompt, params_json, models, workers, worker_blacklist, the flags, image or
    /// text shape, seed, seed_variation, webhook, jobs, n, things. The caller fills id, user,
    /// client_agent, ipaddr and the pricing fields.
    domain::Request request;
    bool dry_run = false;
    bool allow_downgrade = false;
    std::string source_image;                                         // base64 or URL; "" = none
    std::string source_mask;                                          // "" = none
    std::vector<std::pair<std::string, double>> extra_source_images;  // {image, strength}
    // Also decoded (§1.1), for the service to act on:
    std::string style;            // "" = none; style/collection id or name
    std::string proxied_account;  // "" = none; service accounts only
    bool replacement_filter = true;
};

/// Decodes an image generate body. `request.params_json` is the normalized params object
/// (defaults applied, unknown keys and `n` dropped), the base of every worker's pop payload.
/// Errors: kBadRequest, kNulByteInPayload, kValidationFailed (field set), kMissingPrompt,
/// kInvalidPromptSize, kInvalidExtraSourceImages, kTooManyExtraSourceImages, kBadCfgDecimals,
/// kTooManyUpscalers, kTooManyLoras, kBadLoraVersion, kTooManyTis, kSourceMaskUnnecessary,
/// kControlNetSourceMissing, kControlNetInpaintingMismatch, kControlNetInvalidPayload.
Result<GenerateInput> DecodeImageGenerate(std::string_view body);

/// Decodes a text generate body. `request.params_json` keeps only the known params that were
/// sent, plus max_length and max_context_length with their defaults; `n` is dropped.
/// Errors: kBadRequest, kNulByteInPayload, kValidationFailed, kMissingPrompt, kInvalidPromptSize,
/// kInvalidExtraSourceImages, kMissingFullSamplerOrder, kTooManyStopSequences,
/// kExcessiveStopSequence, kTokenOverflow.
Result<GenerateInput> DecodeTextGenerate(std::string_view body);

}  // namespace horde::protocol

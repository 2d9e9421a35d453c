#pragma once
// The horde's text parameters (KoboldAI names) and how they map onto each text backend's API.
// Pure functions, unit tested.
//
// KoboldAI / KoboldCpp (`POST /api/v1/generate`) takes the horde's names as they are; we add
// `sampler_seed`, `quiet` and a `genkey` and drop `n`.
//
// OpenAI-compatible (`POST /v1/completions`; llama.cpp server, vLLM, Aphrodite, TabbyAPI, Ollama):
//   max_length          -> max_tokens
//   temperature, top_p  -> same names
//   top_k               -> top_k            (only when > 0: 0 means "off" for KoboldAI)
//   min_p               -> min_p            (only when > 0)
//   typical             -> typical_p        (only when 0 < typical < 1)
//   tfs                 -> tfs_z            (only when 0 < tfs < 1; llama.cpp, Aphrodite)
//   top_a               -> top_a            (only when > 0; Aphrodite, TabbyAPI)
//   rep_pen             -> repetition_penalty (vLLM, Aphrodite, TabbyAPI) and
//                          repeat_penalty      (llama.cpp); both multiplicative like rep_pen.
//                          Not frequency_penalty: that one is additive and would change the
//                          meaning of the number.
//   rep_pen_range       -> repeat_last_n    (llama.cpp; only when > 0)
//   stop_sequence       -> stop             (list)
//   smoothing_factor    -> smoothing_factor (only when > 0; Aphrodite, TabbyAPI)
//   dynatemp_range/_exponent -> same names (only when range > 0; llama.cpp)
//   (worker's seed)     -> seed
// Dropped: max_context_length (the backend's own context applies; the worker advertises at most
// that), rep_pen_slope, sampler_order, use_default_badwordsids, frmt* (formatting is the
// client's), n.
// After generation, `singleline` cuts the text at its first line break (both backends).

#include <string>
#include <string_view>

#include "bridge/backend.hpp"
#include "bridge/json_read.hpp"

namespace horde::bridge {

/// The limits the worker advertised; a job never asks the backend for more.
struct TextLimits {
    int max_length = 512;
    int max_context_length = 4096;
};

/// A popped text payload (`payload` of /generate/text/pop) as a TextJob for `backend_model`.
TextJob ParseTextPayload(const json::object& payload, const TextLimits& limits,
                         std::string backend_model, int64_t seed);

json::object BuildKoboldRequest(const TextJob& job, std::string_view genkey);
json::object BuildOpenAiRequest(const TextJob& job);

/// Applies the output options the worker honours (`singleline`) to a backend's text.
std::string FinishText(std::string text, const json::object& params);

}  // namespace horde::bridge

#pragma once
// Decoders for the worker side: POST /v2/generate[/text]/pop and /v2/generate[/text]/submit
// (api-contract.md §1.1, §1.2, §3.1, §9.5; peers.md §2.1).

#include <cstdint>
#include <string>
#include <string_view>

#include "common/ids.hpp"
#include "common/result.hpp"
#include "domain/entities.hpp"

namespace horde::protocol {

inline constexpr size_t kWorkerNameCharsMax = 100;
inline constexpr size_t kWorkerModelsMax = 300;
inline constexpr size_t kBlacklistWordsMax = 200;
inline constexpr size_t kBlacklistWordCharsMax = 15;
inline constexpr size_t kGenMetadataMax = 50;

/// A decoded pop request.
struct PopInput {
    std::string name;  // HTML tags stripped, trimmed
    domain::WorkerProfile profile;
    int amount = 1;
};

/// Decodes an image pop body. Unknown keys (bridge_version, allow_unsafe_ip, ...) are ignored.
/// Errors: kBadRequest, kNulByteInPayload, kValidationFailed, kTooLongWorkerName (name over
/// kWorkerNameCharsMax characters), kInvalidPriorityUsername.
Result<PopInput> DecodeImagePop(std::string_view body);

/// Decodes a text pop body (generic fields plus max_length, max_context_length, softprompts).
/// Same errors as DecodeImagePop.
Result<PopInput> DecodeTextPop(std::string_view body);

/// A decoded job submission.
struct SubmitInput {
    JobId id;  // not checked for UUID form: an unknown id is the service's kInvalidJobId
    std::string generation;
    std::string state = "ok";  // ok | censored | faulted | csam
    int64_t seed = 0;
    bool censored = false;
    std::string gen_metadata_json = "[]";  // normalized [{type, value, ref?}]
};

/// Decodes a submit body. `generation` is required unless state is "faulted" (a fault report
/// need not carry a result); for images `seed` is required on the same terms and may be sent as
/// a numeric string. Errors: kBadRequest, kNulByteInPayload, kValidationFailed.
Result<SubmitInput> DecodeSubmit(std::string_view body, domain::GenKind kind);

}  // namespace horde::protocol

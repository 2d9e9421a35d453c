#pragma once
// JSON encoding of requests and tolerant decoding of responses (contract §1). Pure functions:
// no I/O, safe for concurrent use.

#include <string>
#include <string_view>
#include <vector>

#include "client/api_error.hpp"
#include "client/types.hpp"

namespace horde::client {

/// The body of POST /generate/async. Fails (kInvalidArgument) on an empty prompt or an
/// `extra_json`/`special_json` that is not a JSON object.
ApiResult<std::string> EncodeImageRequest(const ImageRequest& request);
/// The body of POST /generate/text/async.
ApiResult<std::string> EncodeTextRequest(const TextRequest& request);
/// The body of POST /kudos/transfer.
std::string EncodeTransfer(const std::string& username, double amount);

ApiResult<AsyncResponse> DecodeAsyncResponse(std::string_view json);
ApiResult<RequestStatus> DecodeRequestStatus(std::string_view json);
ApiResult<ImageStatus> DecodeImageStatus(std::string_view json);
ApiResult<TextStatus> DecodeTextStatus(std::string_view json);
ApiResult<UserDetails> DecodeUser(std::string_view json);
ApiResult<std::vector<UserDetails>> DecodeUserList(std::string_view json);
ApiResult<WorkerDetails> DecodeWorker(std::string_view json);
ApiResult<std::vector<WorkerDetails>> DecodeWorkerList(std::string_view json);
ApiResult<std::vector<ModelStatus>> DecodeModels(std::string_view json);
ApiResult<Performance> DecodePerformance(std::string_view json);
ApiResult<Heartbeat> DecodeHeartbeat(std::string_view json);
ApiResult<HordeModes> DecodeModes(std::string_view json);
ApiResult<KudosTransfer> DecodeKudosTransfer(std::string_view json);

/// Compact JSON of the values, with the API's field names (for --json output and the C ABI).
std::string ToJson(const RequestStatus& status);
std::string ToJson(const ImageStatus& status);
std::string ToJson(const TextStatus& status);
std::string ToJson(const AsyncResponse& response);
std::string ToJson(const std::vector<ModelStatus>& models);
std::string ToJson(const Heartbeat& heartbeat);
std::string ToJson(const HordeModes& modes);

/// Serialises JSON text with numbers in their shortest round-trip form ("7.5", not "7.5E0").
/// Invalid input is returned unchanged.
std::string NormalizeJson(std::string_view json);

}  // namespace horde::client

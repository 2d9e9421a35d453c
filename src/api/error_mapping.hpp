#pragma once
// The only place that knows HTTP statuses, `rc` strings and default public messages.

#include <string>

#include "common/result.hpp"
#include "http/message.hpp"

namespace horde::api {

struct HttpError {
    int status;
    const char* rc;
    const char* message;
};

/// Status, rc and default message of a code. A switch with no default: a new ErrorCode does not
/// compile until it is mapped here.
HttpError ToHttpError(ErrorCode code);

/// The JSON error response for `error`: {message, rc} (+ errors{field: message} for validation).
http::Response ErrorResponse(const Error& error);

}  // namespace horde::api

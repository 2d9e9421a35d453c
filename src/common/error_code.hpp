#pragma once
// The one closed list of failures a client or worker can see. Each maps to exactly one HTTP status,
// one AI Horde `rc` string and one public message in api/error_mapping.cpp (a switch with no
// default, so adding a code here breaks the build until it is mapped).

namespace horde {

enum class ErrorCode {
    // 400
    kBadRequest,
    kValidationFailed,  // flask-restx style: body {message, errors{}}, no rc in the reference
    kMissingPrompt,
    kInvalidPromptSize,
    kNulByteInPayload,
    kDuplicateGen,
    kAbortedGen,
    kTokenOverflow,
    kTooManyStopSequences,
    kExcessiveStopSequence,
    kMissingFullSamplerOrder,
    kBadCfgDecimals,
    kTooManyUpscalers,
    kTooManyLoras,
    kBadLoraVersion,
    kTooManyTis,
    kSourceMaskUnnecessary,
    kControlNetSourceMissing,
    kControlNetInvalidPayload,
    kControlNetInpaintingMismatch,
    kInpaintingMissingMask,
    kSourceImageUnreadable,
    kSourceImageSizeExceeded,
    kUnexpectedModelName,
    kInvalidExtraSourceImages,
    kTooManyExtraSourceImages,
    kPolymorphicNameConflict,
    kInvalidPriorityUsername,
    kRequiresTrust,
    kMaintenanceMode,
    kTooLongWorkerName,
    kTooLongUserName,
    kNoWorkerModSelected,
    kNoUserModSelected,
    kNoHordeModSelected,
    kWorkerNameAlreadyExists,
    kInvalidPayload,  // bad generation payload on submit (e.g. undecodable base64)
    kInvalidInvite,   // unknown, used or expired invite link
    // kudos transfers and awards (400)
    kTooFastKudosTransfers,
    kSourceAccountFlagged,
    kTargetAccountFlagged,
    kNegativeKudosTransfer,
    kInvalidKudosTransferAmount,
    kKudosTransferNotEnough,
    kKudosTransferToAnon,
    kKudosTransferToSelf,
    kKudosTransferFromAnon,
    kInvalidTargetUsername,
    kIdempotencyKeyConflict,
    kInvalidAwardUsername,
    kKudosAwardToAnon,
    // 401
    kInvalidApiKey,
    kSessionExpired,  // browser session cookie unknown or expired
    // 403
    kForbidden,
    kWrongCredentials,
    kNotModerator,
    kNotAdmin,
    kNotOwner,
    kAnonForbidden,
    kAnonForbiddenWorker,
    kWorkerMaintenance,
    kWorkerFlaggedMaintenance,
    kDeletedUser,
    kKudosUpfront,
    kNotAllowedAwards,
    kInvalidSignature,  // result upload/download URL signature missing, wrong or expired
    kCsrfFailed,        // cookie-authenticated change without the right X-CSRF-Token
    kWorkerInviteOnly,
    kRegistrationClosed,  // pseudonymous registration closed (raid mode)
    // 404
    kNotFound,  // unknown route
    kRequestNotFound,
    kInvalidJobId,
    kWorkerNotFound,
    kUserNotFound,
    kUnknownProvider,  // OAuth provider not configured
    // 405
    kMethodNotAllowed,
    // 413
    kPayloadTooLarge,
    // 429
    kTooManyPrompts,
    // 500 / 503
    kInternal,
    kStoreUnavailable,
    kOAuthFailed,  // the OAuth provider's token or user-info call failed
    // client side only: the server could not be reached
    kNetwork,
};

}  // namespace horde

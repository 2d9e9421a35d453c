#include "api/error_mapping.hpp"

#include <boost/json.hpp>

#include "api/api.hpp"
#include "common/check.hpp"

namespace horde::api {

HttpError ToHttpError(ErrorCode code) {
    using E = ErrorCode;
    switch (code) {
        case E::kBadRequest:
            return {400, "BadRequest", "The request could not be understood."};
        case E::kValidationFailed:
            return {400, "BadRequest", "Input payload validation failed"};
        case E::kMissingPrompt:
            return {400, "MissingPrompt", "You cannot specify an empty prompt."};
        case E::kInvalidPromptSize:
            return {400, "InvalidPromptSize",
                    "Too large prompt. Please reduce the amount of tokens contained."};
        case E::kNulByteInPayload:
            return {400, "NulByteInPayload", "Request payload may not contain NUL (0x00) bytes."};
        case E::kDuplicateGen:
            return {400, "DuplicateGen", "Processing Generation already submitted."};
        case E::kAbortedGen:
            return {400, "AbortedGen",
                    "Processing Generation took too long to process and has been aborted! Please "
                    "check your worker speed."};
        case E::kTokenOverflow:
            return {400, "TokenOverflow",
                    "You cannot request more tokens than your context length."};
        case E::kTooManyStopSequences:
            return {400, "TooManyStopSequences",
                    "Too many stop sequences specified (max allowed is 128)."};
        case E::kExcessiveStopSequence:
            return {400, "ExcessiveStopSequence",
                    "Your total stop sequence length exceeds the allowed limit (2000 chars)."};
        case E::kMissingFullSamplerOrder:
            return {400, "MissingFullSamplerOrder",
                    "When sending a custom sampler order, you need to specify all possible "
                    "samplers in the order"};
        case E::kBadCfgDecimals:
            return {400, "BadCFGDecimals", "cfg_scale must be rounded to 2 decimal places"};
        case E::kTooManyUpscalers:
            return {400, "TooManyUpscalers", "Cannot use more than 1 upscaler at a time."};
        case E::kTooManyLoras:
            return {400, "TooManyLoras", "You cannot request more than 5 loras per generation."};
        case E::kBadLoraVersion:
            return {400, "BadLoraVersion",
                    "explicit LoRa version requests have to be a version ID (i.e integer)."};
        case E::kTooManyTis:
            return {400, "TooManyTIs", "You cannot request more than 20 Textual Inversions."};
        case E::kSourceMaskUnnecessary:
            return {400, "SourceMaskUnnecessary",
                    "Please do not pass a source_mask unless you are sending a source_image as "
                    "well"};
        case E::kControlNetSourceMissing:
            return {400, "ControlNetSourceMissing", "Controlnet Requires a source image."};
        case E::kControlNetInvalidPayload:
            return {400, "ControlNetInvalidPayload",
                    "You cannot use image_is_control and return_control_map together."};
        case E::kControlNetInpaintingMismatch:
            return {400, "ControlNetInpaintingMismatch",
                    "You cannot use ControlNet with inpainting."};
        case E::kInpaintingMissingMask:
            return {400, "InpaintingMissingMask",
                    "Inpainting requires a source_mask or an alpha channel in the source image."};
        case E::kSourceImageUnreadable:
            return {400, "SourceImageUnreadable",
                    "The source image could not be read: send base64 image data or an https URL."};
        case E::kSourceImageSizeExceeded:
            return {400, "SourceImageSizeExceeded", "The source image is too large."};
        case E::kUnexpectedModelName:
            return {400, "UnexpectedModelName", "This is not a model name."};
        case E::kInvalidExtraSourceImages:
            return {400, "InvalidExtraSourceImages.",
                    "extra_source_images are only valid with source_processing remix."};
        case E::kTooManyExtraSourceImages:
            return {400, "TooManyExtraSourceImages.",
                    "You cannot send more than 5 extra source images."};
        case E::kPolymorphicNameConflict:
            return {400, "PolymorphicNameConflict",
                    "The specified name is already taken by a different type of worker."};
        case E::kInvalidPriorityUsername:
            return {400, "InvalidPriorityUsername",
                    "Priority usernames need to be provided in the form of 'alias#number'. "
                    "Example: 'db0#1'"};
        case E::kRequiresTrust:
            return {400, "RequiresTrust",
                    "Only trusted users and patreon supporters can disable batching."};
        case E::kMaintenanceMode:
            return {400, "MaintenanceMode",
                    "AI Horde has entered maintenance mode. Please try again later."};
        case E::kTooLongWorkerName:
            return {400, "TooLongWorkerName", "The worker name is too long."};
        case E::kTooLongUserName:
            return {400, "TooLongUserName", "The username is too long."};
        case E::kNoWorkerModSelected:
            return {400, "NoWorkerModSelected", "No worker modification selected!"};
        case E::kNoUserModSelected:
            return {400, "NoUserModSelected", "No usermod operations selected!"};
        case E::kNoHordeModSelected:
            return {400, "NoHordeModSelected", "No mod change selected!"};
        case E::kWorkerNameAlreadyExists:
            return {400, "WorkerNameAlreadyExists", "This worker name already exists."};
        case E::kInvalidPayload:
            return {400, "BadRequest", "The generation payload is invalid."};
        case E::kTooFastKudosTransfers:
            return {400, "TooFastKudosTransfers",
                    "This user sent you kudos less than a minute ago; wait a minute before "
                    "sending kudos back."};
        case E::kSourceAccountFlagged:
            return {400, "SourceAccountFlagged",
                    "Your account is flagged for suspicious activity and cannot send kudos."};
        case E::kTargetAccountFlagged:
            return {400, "TargetAccountFlagged",
                    "The target account is flagged for suspicious activity and cannot receive "
                    "kudos."};
        case E::kNegativeKudosTransfer:
            return {400, "NegativeKudosTransfer", "A transfer amount cannot be negative."};
        case E::kInvalidKudosTransferAmount:
            return {400, "InvalidKudosTransferAmount",
                    "The transfer amount must be a positive whole number of kudos."};
        case E::kKudosTransferNotEnough:
            return {400, "KudosTransferNotEnough",
                    "You do not have enough kudos available for this transfer."};
        case E::kKudosTransferToAnon:
            return {400, "KudosTransferToAnon", "Kudos cannot be sent to the anonymous account."};
        case E::kKudosTransferToSelf:
            return {400, "KudosTransferToSelf", "You cannot send kudos to yourself."};
        case E::kKudosTransferFromAnon:
            return {400, "KudosTransferFromAnon", "The anonymous account cannot send kudos."};
        case E::kInvalidTargetUsername:
            return {400, "InvalidTargetUsername",
                    "No user matches the target username (use the alias, name#id)."};
        case E::kIdempotencyKeyConflict:
            return {400, "IdempotencyKeyConflict",
                    "This Idempotency-Key was already used with a different transfer."};
        case E::kInvalidAwardUsername:
            return {400, "InvalidAwardUsername", "No user matches the award's target username."};
        case E::kKudosAwardToAnon:
            return {400, "KudosAwardToAnon", "Kudos cannot be awarded to the anonymous account."};
        case E::kInvalidApiKey:
            return {401, "InvalidAPIKey",
                    "No user matching sent API Key. Have you remembered to register at this "
                    "horde?"};
        case E::kForbidden:
            return {403, "Forbidden", "Forbidden."};
        case E::kWrongCredentials:
            return {403, "WrongCredentials", "Wrong credentials to submit as this worker."};
        case E::kNotModerator:
            return {403, "NotModerator", "You're not a mod."};
        case E::kNotAdmin:
            return {403, "NotAdmin", "You're not an admin."};
        case E::kNotOwner:
            return {403, "NotOwner", "You're not the owner."};
        case E::kAnonForbidden:
            return {403, "AnonForbidden",
                    "Anonymous user is forbidden from performing this operation"};
        case E::kAnonForbiddenWorker:
            return {403, "AnonForbiddenWorker",
                    "Anonymous user is forbidden from performing this operation"};
        case E::kWorkerMaintenance:
            return {403, "WorkerMaintenance",
                    "This worker has been put into maintenance mode by its owner"};
        case E::kWorkerFlaggedMaintenance:
            return {403, "WorkerFlaggedMaintenance",
                    "Your user has been flagged by our community for suspicious activity."};
        case E::kDeletedUser:
            return {403, "DeletedUser",
                    "This account has been scheduled for deletion and is disabled."};
        case E::kKudosUpfront:
            return {403, "KudosUpfront",
                    "Due to heavy demand, this request needs kudos upfront that the client does "
                    "not have."};
        case E::kNotAllowedAwards:
            return {403, "NotAllowedAwards", "Only the award role may award kudos."};
        case E::kInvalidSignature:
            return {403, "Forbidden", "This URL's signature is missing, wrong or expired."};
        case E::kInvalidInvite:
            return {400, "InvalidInvite", "This invite link is unknown, used or expired."};
        case E::kSessionExpired:
            return {401, "SessionExpired", "Your session has expired. Please log in again."};
        case E::kCsrfFailed:
            return {403, "CsrfFailed",
                    "Missing or wrong X-CSRF-Token header for a cookie-authenticated change."};
        case E::kWorkerInviteOnly:
            return {403, "WorkerInviteOnly",
                    "This horde is invite-only: your account may not run workers."};
        case E::kRegistrationClosed:
            return {403, "RegistrationClosed", "Registration is closed at the moment."};
        case E::kUnknownProvider:
            return {404, "UnknownProvider", "This login provider is not configured."};
        case E::kOAuthFailed:
            return {502, "OAuthFailed", "The login provider could not be reached or refused."};
        case E::kNotFound:
            return {404, "NotFound",
                    "The requested URL was not found on the server. If you entered the URL "
                    "manually please check your spelling and try again."};
        case E::kRequestNotFound:
            return {404, "RequestNotFound", "Request not found."};
        case E::kInvalidJobId:
            return {404, "InvalidJobID", "Processing Job does not exist."};
        case E::kWorkerNotFound:
            return {404, "WorkerNotFound", "Worker not found."};
        case E::kUserNotFound:
            return {404, "UserNotFound", "User not found."};
        case E::kMethodNotAllowed:
            return {405, "MethodNotAllowed", "The method is not allowed for the requested URL."};
        case E::kPayloadTooLarge:
            return {413, "PayloadTooLarge", "The request body is too large."};
        case E::kTooManyPrompts:
            return {429, "TooManyPrompts", "Too many parallel requests."};
        case E::kInternal:
            return {500, "InternalServerError", "Internal Server Error"};
        case E::kNetwork:
            return {502, "NetworkError", "A network error occurred."};
        case E::kStoreUnavailable:
            return {503, "StoreUnavailable",
                    "The horde could not store this change. Please try again later."};
    }
    HORDE_CHECK(false, "unmapped ErrorCode");
    return {500, "InternalServerError", "Internal Server Error"};
}

http::Response ErrorResponse(const Error& error) {
    const HttpError mapped = ToHttpError(error.code);
    boost::json::object body;
    if (error.code == ErrorCode::kValidationFailed) {
        body["message"] = mapped.message;
        boost::json::object errors;
        errors[error.field.empty() ? "payload" : error.field] =
            error.message.empty() ? "invalid value" : error.message;
        body["errors"] = std::move(errors);
    } else {
        // Internal detail (SQL errors, paths) is for the log, never for clients.
        const bool internal =
            error.code == ErrorCode::kInternal || error.code == ErrorCode::kStoreUnavailable;
        body["message"] = error.message.empty() || internal ? mapped.message : error.message;
    }
    body["rc"] = mapped.rc;
    http::Response resp;
    resp.status = mapped.status;
    resp.body = SerializeJson(body);
    return resp;
}

}  // namespace horde::api

#include "domain/matching.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace horde::domain {
namespace {

const UserId kOwner{7};
const UserId kRequester{42};

Capabilities ReGen(int version) {
    return CapabilitiesForBridge(
        BridgeAgent{.name = std::string(kBridgeReGen), .version = version, .url = ""});
}

Capabilities Bridge(std::string_view name, int version) {
    return CapabilitiesForBridge(
        BridgeAgent{.name = std::string(name), .version = version, .url = ""});
}

// A matching pair by default; each test breaks one rule.
class MatchTest : public ::testing::Test {
protected:
    MatchTest() {
        worker.id = WorkerId("11111111-1111-4111-8111-111111111111");
        worker.kind = GenKind::kImage;
        worker.owner = kOwner;
        worker.profile.models = {"stable_diffusion", "Deliberate"};
        worker.profile.bridge_agent = "AI Horde Worker reGen:9.1.0:https://x";
        worker.profile.allow_lora = true;
        worker.profile.allow_controlnet = true;
        worker.profile.allow_sdxl_controlnet = true;

        req.kind = GenKind::kImage;
        req.user = kRequester;
        req.prompt = "a lighthouse at dusk###blurry";
        req.models = {"stable_diffusion"};
        req.nsfw = false;
        req.kudos_per_job = Kudos::FromWhole(10);
    }

    void MakeText() {
        worker.kind = GenKind::kText;
        worker.profile.models = {"koboldcpp/LLaMA2-13B"};
        worker.profile.bridge_agent = "AI Horde Worker~aphrodite~oai:4:https://x";
        caps = ResolveCapabilities(worker.profile);
        req.kind = GenKind::kText;
        req.models = {"koboldcpp/LLaMA2-13B"};
    }

    SkipReason Run() const {
        const MatchContext ctx{
            .worker = worker,
            .caps = caps,
            .owner_trusted = owner_trusted,
            .worker_is_slow = worker_is_slow,
            .worker_tricked = worker_tricked,
            .requester_trusted = requester_trusted,
            .requester_is_priority = requester_is_priority,
            .requester_available = requester_available,
            .models = traits,
            .models_prechecked = models_prechecked,
        };
        return CanGenerate(req, ctx);
    }

    Worker worker;
    Request req;
    Capabilities caps = ReGen(9);
    bool owner_trusted = true;
    bool worker_is_slow = false;
    bool worker_tricked = false;
    bool requester_trusted = false;
    bool requester_is_priority = false;
    Kudos requester_available = Kudos::FromWhole(1000);
    RequestModelTraits traits;
    bool models_prechecked = false;
};

TEST_F(MatchTest, DefaultPairMatches) { EXPECT_EQ(Run(), SkipReason::kNone); }

// ---- models
// ---------------------------------------------------------------------------------------

TEST_F(MatchTest, PrecheckedModelsSkipOnlyTheModelRule) {
    req.models = {"Some Other Model"};
    EXPECT_EQ(Run(), SkipReason::kModels);
    models_prechecked = true;  // the caller found it in the queue of a model the worker serves
    EXPECT_EQ(Run(), SkipReason::kNone);
    req.nsfw = true;
    worker.profile.nsfw = false;
    EXPECT_EQ(Run(), SkipReason::kNsfw);  // every later rule still applies
}

TEST_F(MatchTest, ModelsIntersectionMatches) {
    req.models = {"Unknown Model", "Deliberate"};
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, ModelsDisjointSkips) {
    req.models = {"SDXL 1.0"};
    EXPECT_EQ(Run(), SkipReason::kModels);
}

TEST_F(MatchTest, ModelsEmptyRequestMatchesAnyWorker) {
    req.models.clear();
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, ModelsEmptyRequestSkipsSpecialWorkers) {
    req.models.clear();
    worker.profile.models.push_back("horde_special::alice#3");
    EXPECT_EQ(Run(), SkipReason::kModels);
    worker.profile.models = {"SDXL_beta::stability.ai#6901"};
    EXPECT_EQ(Run(), SkipReason::kModels);
}

TEST_F(MatchTest, ModelsKindMismatchSkips) {
    worker.kind = GenKind::kText;
    EXPECT_EQ(Run(), SkipReason::kModels);
}

// ---- worker_id
// ------------------------------------------------------------------------------------

TEST_F(MatchTest, WorkerAllowListContainingWorkerMatches) {
    req.workers = {WorkerId("other"), worker.id};
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, WorkerAllowListWithoutWorkerSkips) {
    req.workers = {WorkerId("other")};
    EXPECT_EQ(Run(), SkipReason::kWorkerId);
}

TEST_F(MatchTest, WorkerBlockListContainingWorkerSkips) {
    req.workers = {worker.id};
    req.worker_blacklist = true;
    EXPECT_EQ(Run(), SkipReason::kWorkerId);
}

TEST_F(MatchTest, WorkerBlockListWithoutWorkerMatches) {
    req.workers = {WorkerId("other")};
    req.worker_blacklist = true;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

// ---- max_pixels
// -----------------------------------------------------------------------------------

TEST_F(MatchTest, MaxPixelsAtLimitMatches) {
    req.image.width = 512;
    req.image.height = 512;
    worker.profile.max_pixels = 512 * 512;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, MaxPixelsAboveLimitSkips) {
    req.image.width = 576;
    req.image.height = 512;
    worker.profile.max_pixels = 512 * 512;
    EXPECT_EQ(Run(), SkipReason::kMaxPixels);
}

// ---- nsfw
// -----------------------------------------------------------------------------------------

TEST_F(MatchTest, NsfwRequestOnSfwWorkerSkips) {
    req.nsfw = true;
    worker.profile.nsfw = false;
    EXPECT_EQ(Run(), SkipReason::kNsfw);
}

TEST_F(MatchTest, NsfwRequestOnNsfwWorkerMatches) {
    req.nsfw = true;
    worker.profile.nsfw = true;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, SfwRequestOnSfwWorkerMatches) {
    worker.profile.nsfw = false;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

// ---- untrusted
// ------------------------------------------------------------------------------------

TEST_F(MatchTest, TrustedWorkersOnlyWithUntrustedOwnerSkips) {
    req.trusted_workers = true;
    owner_trusted = false;
    EXPECT_EQ(Run(), SkipReason::kUntrusted);
}

TEST_F(MatchTest, TrustedWorkersOnlyWithTrustedOwnerMatches) {
    req.trusted_workers = true;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, UnsafeIpUntrustedRequesterOnUntrustedOwnerSkips) {
    req.safe_ip = false;
    owner_trusted = false;
    EXPECT_EQ(Run(), SkipReason::kUntrusted);
}

TEST_F(MatchTest, UnsafeIpTrustedRequesterOnUntrustedOwnerMatches) {
    req.safe_ip = false;
    owner_trusted = false;
    requester_trusted = true;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, UnsafeIpOnTrustedOwnerMatches) {
    req.safe_ip = false;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

// ---- unsafe_ip
// ------------------------------------------------------------------------------------

TEST_F(MatchTest, UnsafeIpOnWorkerRefusingThemSkips) {
    req.safe_ip = false;
    worker.profile.allow_unsafe_ipaddr = false;
    EXPECT_EQ(Run(), SkipReason::kUnsafeIp);
}

TEST_F(MatchTest, SafeIpOnWorkerRefusingUnsafeMatches) {
    worker.profile.allow_unsafe_ipaddr = false;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

// ---- performance
// ----------------------------------------------------------------------------------

TEST_F(MatchTest, NoSlowWorkersOnSlowWorkerSkips) {
    req.slow_workers = false;
    worker_is_slow = true;
    EXPECT_EQ(Run(), SkipReason::kPerformance);
}

TEST_F(MatchTest, SlowWorkersAllowedOnSlowWorkerMatches) {
    worker_is_slow = true;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, NoSlowWorkersOnFastWorkerMatches) {
    req.slow_workers = false;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, ExtraSlowWorkerWithoutOptInSkips) {
    worker.profile.extra_slow_worker = true;
    EXPECT_EQ(Run(), SkipReason::kPerformance);
}

TEST_F(MatchTest, ExtraSlowWorkerWithOptInMatches) {
    worker.profile.extra_slow_worker = true;
    req.extra_slow_workers = true;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

// ---- img2img / painting
// ---------------------------------------------------------------------------

TEST_F(MatchTest, Img2ImgMatches) {
    req.image.has_source_image = true;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, Img2ImgOnWorkerNotAllowingItSkips) {
    req.image.has_source_image = true;
    worker.profile.allow_img2img = false;
    EXPECT_EQ(Run(), SkipReason::kImg2Img);
}

TEST_F(MatchTest, Img2ImgOnBridgeWithoutItIsBridgeVersion) {
    req.image.has_source_image = true;
    caps = Bridge(kBridgeLegacy, 2);
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
}

TEST_F(MatchTest, InpaintingMatches) {
    req.image.has_source_image = true;
    req.image.has_source_mask = true;
    req.image.source_processing = "inpainting";
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, PaintingOnWorkerNotAllowingItSkips) {
    req.image.has_source_image = true;
    req.image.source_processing = "outpainting";
    worker.profile.allow_painting = false;
    EXPECT_EQ(Run(), SkipReason::kPainting);
}

TEST_F(MatchTest, PaintingOnBridgeWithoutItIsBridgeVersion) {
    req.image.has_source_image = true;
    req.image.source_processing = "inpainting";
    caps = Capabilities{};
    caps.Add(Capability::kImg2Img);
    caps.AddSampler("k_euler_a");
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
}

TEST_F(MatchTest, PlainImg2ImgIgnoresPaintingFlag) {
    req.image.has_source_image = true;
    worker.profile.allow_painting = false;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

// ---- post-processing
// ------------------------------------------------------------------------------

TEST_F(MatchTest, ClassicPostProcessorMatches) {
    req.image.post_processing = {"GFPGAN", "RealESRGAN_x4plus"};
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, PostProcessingNotAllowedSkips) {
    req.image.post_processing = {"GFPGAN"};
    worker.profile.allow_post_processing = false;
    EXPECT_EQ(Run(), SkipReason::kPostProcessing);
}

TEST_F(MatchTest, NewerPostProcessorOnOldBridgeIsBridgeVersion) {
    req.image.post_processing = {"4xNomos8kSC"};
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
    caps = ReGen(13);
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, PostProcessingOnBridgeWithoutItIsBridgeVersion) {
    req.image.post_processing = {"GFPGAN"};
    caps = Bridge(kBridgeAutoWeb, 1);
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
}

// ---- lora / textual inversion
// ---------------------------------------------------------------------

TEST_F(MatchTest, LoraMatches) {
    req.image.lora_count = 2;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, LoraNotAllowedSkips) {
    req.image.lora_count = 1;
    worker.profile.allow_lora = false;
    EXPECT_EQ(Run(), SkipReason::kLora);
}

TEST_F(MatchTest, LoraOnReGen1IsBridgeVersion) {
    req.image.lora_count = 1;
    caps = ReGen(1);
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
    caps = ReGen(2);
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, LoraVersionsNeedReGen3) {
    req.image.lora_count = 1;
    req.image.lora_versions = true;
    caps = ReGen(2);
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
    caps = ReGen(3);
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, TextualInversionNeedsTheCapability) {
    req.image.ti_count = 3;
    worker.profile.allow_lora = false;  // TIs have no allow flag
    caps = ReGen(1);
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
    caps = ReGen(2);
    EXPECT_EQ(Run(), SkipReason::kNone);
}

// ---- controlnet
// -----------------------------------------------------------------------------------

TEST_F(MatchTest, ControlnetMatches) {
    req.image.has_source_image = true;
    req.image.control_type = "canny";
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, ControlnetNotAllowedSkips) {
    req.image.has_source_image = true;
    req.image.control_type = "canny";
    worker.profile.allow_controlnet = false;
    EXPECT_EQ(Run(), SkipReason::kControlnet);
}

TEST_F(MatchTest, ControlnetOnBridgeWithoutItIsBridgeVersion) {
    req.image.has_source_image = true;
    req.image.control_type = "depth";
    caps = Bridge(kBridgeLegacy, 13);
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
}

TEST_F(MatchTest, ImageIsControlNeedsTheCapability) {
    req.image.has_source_image = true;
    req.image.control_type = "canny";
    req.image.image_is_control = true;
    caps = Bridge(kBridgeLegacy, 14);
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
    caps = Bridge(kBridgeLegacy, 15);
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, ReturnControlMapNeedsTheCapability) {
    req.image.has_source_image = true;
    req.image.control_type = "canny";
    req.image.return_control_map = true;
    caps = Bridge(kBridgeLegacy, 20);
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
    caps = Bridge(kBridgeLegacy, 21);
    EXPECT_EQ(Run(), SkipReason::kNone);
}

// ---- transparent
// ----------------------------------------------------------------------------------

TEST_F(MatchTest, TransparentMatchesOnReGen8) {
    req.image.transparent = true;
    caps = ReGen(8);
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, TransparentWithoutSdxlControlnetFlagIsControlnet) {
    req.image.transparent = true;
    worker.profile.allow_sdxl_controlnet = false;
    EXPECT_EQ(Run(), SkipReason::kControlnet);
}

TEST_F(MatchTest, TransparentWithoutLayerDiffuseIsBridgeVersion) {
    req.image.transparent = true;
    caps = ReGen(7);
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
}

// ---- workflow / qr_code
// ---------------------------------------------------------------------------

TEST_F(MatchTest, QrCodeNeedsReGen7) {
    req.image.workflow = "qr_code";
    caps = ReGen(6);
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
    caps = ReGen(7);
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, QrCodeOnSdxlWithoutSdxlControlnetIsControlnet) {
    req.image.workflow = "qr_code";
    traits.any_sdxl = true;
    worker.profile.allow_sdxl_controlnet = false;
    EXPECT_EQ(Run(), SkipReason::kControlnet);
    traits.any_sdxl = false;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

// ---- other bridge capabilities
// --------------------------------------------------------------------

TEST_F(MatchTest, ExtraSourceImagesNeedReGen5) {
    req.image.has_source_image = true;
    req.image.source_processing = "remix";
    req.image.extra_source_images = 2;
    caps = ReGen(4);
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
    caps = ReGen(5);
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, LcmSamplerNeedsReGen3) {
    req.image.sampler_name = "lcm";
    caps = ReGen(2);
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
    caps = ReGen(3);
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, UnknownSamplerIsBridgeVersion) {
    req.image.sampler_name = "uni_pc";
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
}

TEST_F(MatchTest, ClassicSamplerOnUnknownBridgeMatches) {
    caps = Bridge("My Bridge", 1);
    req.image.sampler_name = "k_dpmpp_2m";
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, HiresFixNeedsTheCapability) {
    req.image.hires_fix = true;
    caps = Bridge(kBridgeLegacy, 10);
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
    caps = Bridge(kBridgeLegacy, 11);
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, CascadeHiresFixNeedsTwoPass) {
    req.image.hires_fix = true;
    traits.any_stable_cascade = true;
    caps = ReGen(5);
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
    caps = ReGen(6);
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, TilingNeedsTheCapability) {
    req.image.tiling = true;
    caps = Bridge(kBridgeSdWebUi, 3);
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
    caps = Bridge(kBridgeAutoWeb, 1);
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, ClipSkipAboveOneNeedsTheCapability) {
    caps = Bridge(kBridgeLegacy, 10);
    req.image.clip_skip = 1;
    EXPECT_EQ(Run(), SkipReason::kNone);
    req.image.clip_skip = 2;
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
    caps = Bridge(kBridgeLegacy, 11);
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, FluxModelsNeedReGen9) {
    traits.any_flux = true;
    caps = ReGen(8);
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
    caps = ReGen(9);
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, R2RequestMatchesBridgeWithoutR2) {
    // Departure from the reference: we store results ourselves, so base64 workers qualify.
    req.r2 = true;
    caps = Bridge(kBridgeAutoWeb, 1);
    ASSERT_FALSE(caps.Has(Capability::kR2));
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, DeclaredCapabilitiesDriveMatching) {
    worker.profile.capabilities = {"img2img", "lora"};
    worker.profile.capabilities_declared = true;
    caps = ResolveCapabilities(worker.profile);
    req.image.lora_count = 1;
    EXPECT_EQ(Run(), SkipReason::kNone);
    req.image.hires_fix = true;  // reGen 9 has it, the declared list does not
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
}

// ---- step_count
// -----------------------------------------------------------------------------------

TEST_F(MatchTest, LimitMaxStepsSkipsLongJobs) {
    worker.profile.limit_max_steps = true;
    req.image.steps = 31;
    EXPECT_EQ(Run(), SkipReason::kStepCount);
}

TEST_F(MatchTest, LimitMaxStepsAllowsThreshold) {
    worker.profile.limit_max_steps = true;
    req.image.steps = kLimitMaxStepsThreshold;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, LimitMaxStepsUsesAccurateSteps) {
    worker.profile.limit_max_steps = true;
    req.image.sampler_name = "k_heun";
    req.image.steps = 16;  // 32 accurate steps
    EXPECT_EQ(Run(), SkipReason::kStepCount);
}

TEST_F(MatchTest, NoStepLimitAllowsLongJobs) {
    req.image.steps = 150;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

// ---- maintenance / secret
// -------------------------------------------------------------------------

TEST_F(MatchTest, MaintenanceWorkerSkipsOthersRequests) {
    worker.maintenance = true;
    EXPECT_EQ(Run(), SkipReason::kMaintenance);
}

TEST_F(MatchTest, MaintenanceWorkerServesItsOwner) {
    worker.maintenance = true;
    req.user = kOwner;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, MaintenanceWorkerSkipsPriorityUsers) {
    worker.maintenance = true;
    requester_is_priority = true;
    EXPECT_EQ(Run(), SkipReason::kMaintenance);
}

TEST_F(MatchTest, TrickedWorkerIsSecret) {
    worker_tricked = true;
    EXPECT_EQ(Run(), SkipReason::kSecret);
}

// ---- blacklist
// ------------------------------------------------------------------------------------

TEST_F(MatchTest, BlacklistWordInPromptSkipsCaseInsensitively) {
    worker.profile.blacklist = {"xyz", "LightHouse"};
    EXPECT_EQ(Run(), SkipReason::kBlacklist);
}

TEST_F(MatchTest, BlacklistWordAbsentMatches) {
    worker.profile.blacklist = {"castle", ""};
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, BlacklistSubstringCounts) {
    worker.profile.blacklist = {"light"};
    EXPECT_EQ(Run(), SkipReason::kBlacklist);
}

// ---- kudos
// ----------------------------------------------------------------------------------------

TEST_F(MatchTest, UpfrontWorkerSkipsPoorUntrustedRequester) {
    worker.profile.require_upfront_kudos = true;
    requester_available = Kudos::FromMilli(9'999);
    EXPECT_EQ(Run(), SkipReason::kKudos);
}

TEST_F(MatchTest, UpfrontWorkerAcceptsExactBalance) {
    worker.profile.require_upfront_kudos = true;
    requester_available = Kudos::FromWhole(10);
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, UpfrontWorkerAcceptsTrustedRequester) {
    worker.profile.require_upfront_kudos = true;
    requester_available = Kudos{};
    requester_trusted = true;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, UpfrontWorkerAcceptsPriorityRequester) {
    worker.profile.require_upfront_kudos = true;
    requester_available = Kudos{};
    requester_is_priority = true;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, NoUpfrontWorkerAcceptsPoorRequester) {
    requester_available = Kudos{};
    EXPECT_EQ(Run(), SkipReason::kNone);
}

// ---- precedence
// -----------------------------------------------------------------------------------

TEST_F(MatchTest, PrecedenceFollowsTheDocumentedOrder) {
    worker.profile.require_upfront_kudos = true;
    requester_available = Kudos{};
    EXPECT_EQ(Run(), SkipReason::kKudos);
    worker.profile.blacklist = {"lighthouse"};
    EXPECT_EQ(Run(), SkipReason::kBlacklist);
    worker.profile.limit_max_steps = true;
    req.image.steps = 50;
    EXPECT_EQ(Run(), SkipReason::kStepCount);
    req.image.lora_count = 1;
    worker.profile.allow_lora = false;
    EXPECT_EQ(Run(), SkipReason::kLora);
    req.image.has_source_image = true;
    worker.profile.allow_img2img = false;
    EXPECT_EQ(Run(), SkipReason::kImg2Img);
    req.image.width = 1024;
    EXPECT_EQ(Run(), SkipReason::kMaxPixels);
    req.slow_workers = false;
    worker_is_slow = true;
    EXPECT_EQ(Run(), SkipReason::kPerformance);
    req.safe_ip = false;
    worker.profile.allow_unsafe_ipaddr = false;
    EXPECT_EQ(Run(), SkipReason::kUnsafeIp);
    req.trusted_workers = true;
    owner_trusted = false;
    EXPECT_EQ(Run(), SkipReason::kUntrusted);
    req.nsfw = true;
    worker.profile.nsfw = false;
    EXPECT_EQ(Run(), SkipReason::kNsfw);
    req.workers = {WorkerId("other")};
    EXPECT_EQ(Run(), SkipReason::kWorkerId);
    req.models = {"nope"};
    EXPECT_EQ(Run(), SkipReason::kModels);
    worker.maintenance = true;
    EXPECT_EQ(Run(), SkipReason::kMaintenance);
    worker_tricked = true;
    EXPECT_EQ(Run(), SkipReason::kSecret);
}

// ---- text
// -----------------------------------------------------------------------------------------

TEST_F(MatchTest, TextDefaultPairMatches) {
    MakeText();
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, TextModelsDisjointSkips) {
    MakeText();
    req.models = {"koboldcpp/Other-7B"};
    EXPECT_EQ(Run(), SkipReason::kModels);
    req.models.clear();
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, TextMaxLengthAboveWorkerSkips) {
    MakeText();
    req.text.max_length = 513;
    EXPECT_EQ(Run(), SkipReason::kMaxLength);
    req.text.max_length = 512;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, TextMaxContextLengthAboveWorkerSkips) {
    MakeText();
    req.text.max_context_length = 4096;
    EXPECT_EQ(Run(), SkipReason::kMaxContextLength);
    worker.profile.max_context_length = 4096;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, TextMaxLengthWinsOverContextLength) {
    MakeText();
    req.text.max_length = 1024;
    req.text.max_context_length = 8192;
    EXPECT_EQ(Run(), SkipReason::kMaxLength);
}

TEST_F(MatchTest, TextValidatedBackendsRejectsOtherBridges) {
    MakeText();
    req.validated_backends = true;
    EXPECT_EQ(Run(), SkipReason::kNone);
    worker.profile.bridge_agent = "KoboldCpp:1.60:https://x";
    EXPECT_EQ(Run(), SkipReason::kBridgeVersion);
    req.validated_backends = false;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, TextSoftpromptMustBeServed) {
    MakeText();
    req.text.softprompt = "fantasy";
    EXPECT_EQ(Run(), SkipReason::kMatchingSoftprompt);
    worker.profile.softprompts = {"scifi", "fantasy"};
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, TextUpfrontKudosAppliesToTextWorkers) {
    MakeText();
    worker.profile.require_upfront_kudos = true;
    requester_available = Kudos::FromWhole(1);
    EXPECT_EQ(Run(), SkipReason::kKudos);
    requester_is_priority = true;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, TextIgnoresImageOnlyRules) {
    MakeText();
    worker.profile.extra_slow_worker = true;  // image-only rule
    req.safe_ip = false;                      // image-only untrusted rule
    owner_trusted = false;
    worker.profile.max_pixels = 1;
    EXPECT_EQ(Run(), SkipReason::kNone);
}

TEST_F(MatchTest, TextAppliesGenericRules) {
    MakeText();
    req.slow_workers = false;
    worker_is_slow = true;
    EXPECT_EQ(Run(), SkipReason::kPerformance);
    worker_is_slow = false;
    worker.profile.blacklist = {"LIGHTHOUSE"};
    EXPECT_EQ(Run(), SkipReason::kBlacklist);
    req.safe_ip = false;
    worker.profile.allow_unsafe_ipaddr = false;
    EXPECT_EQ(Run(), SkipReason::kUnsafeIp);
}

// ---- SkipReasonKey
// --------------------------------------------------------------------------------

TEST(MatchSkipReasonTest, KeysAreTheWireKeys) {
    const std::vector<std::pair<SkipReason, std::string_view>> expected = {
        {SkipReason::kModels, "models"},
        {SkipReason::kWorkerId, "worker_id"},
        {SkipReason::kMaxPixels, "max_pixels"},
        {SkipReason::kImg2Img, "img2img"},
        {SkipReason::kPainting, "painting"},
        {SkipReason::kUnsafeIp, "unsafe_ip"},
        {SkipReason::kNsfw, "nsfw"},
        {SkipReason::kLora, "lora"},
        {SkipReason::kPostProcessing, "post-processing"},
        {SkipReason::kControlnet, "controlnet"},
        {SkipReason::kPerformance, "performance"},
        {SkipReason::kUntrusted, "untrusted"},
        {SkipReason::kBridgeVersion, "bridge_version"},
        {SkipReason::kKudos, "kudos"},
        {SkipReason::kBlacklist, "blacklist"},
        {SkipReason::kStepCount, "step_count"},
        {SkipReason::kMaxContextLength, "max_context_length"},
        {SkipReason::kMaxLength, "max_length"},
        {SkipReason::kMatchingSoftprompt, "matching_softprompt"},
    };
    for (const auto& [reason, key] : expected) {
        EXPECT_EQ(SkipReasonKey(reason), key);
        EXPECT_TRUE(IsReportedSkipReason(reason)) << key;
    }
}

TEST(MatchSkipReasonTest, UnreportedReasons) {
    EXPECT_EQ(SkipReasonKey(SkipReason::kNone), "");
    EXPECT_EQ(SkipReasonKey(SkipReason::kSecret), "secret");
    EXPECT_EQ(SkipReasonKey(SkipReason::kMaintenance), "maintenance");
    EXPECT_FALSE(IsReportedSkipReason(SkipReason::kNone));
    EXPECT_FALSE(IsReportedSkipReason(SkipReason::kSecret));
    EXPECT_FALSE(IsReportedSkipReason(SkipReason::kMaintenance));
}

// ---- ImageModelTraits
// -----------------------------------------------------------------------------

TEST(MatchModelTraitsTest, ReadsBaselines) {
    const RequestModelTraits none = ImageModelTraits({"stable_diffusion", "Deliberate"});
    EXPECT_FALSE(none.any_sdxl || none.any_flux || none.any_stable_cascade);
    const RequestModelTraits mixed =
        ImageModelTraits({"SDXL 1.0", "Flux.1-Schnell fp8 (Compact)", "Stable Cascade 1.0"});
    EXPECT_TRUE(mixed.any_sdxl);
    EXPECT_TRUE(mixed.any_flux);
    EXPECT_TRUE(mixed.any_stable_cascade);
}

// ---- SlowWorkerThreshold
// --------------------------------------------------------------------------

TEST(MatchSlowWorkerThresholdTest, Image) {
    EXPECT_EQ(SlowWorkerThreshold(GenKind::kImage, std::nullopt), 500'000.0);
    EXPECT_EQ(SlowWorkerThreshold(GenKind::kImage, 70.0), 500'000.0);
}

TEST(MatchSlowWorkerThresholdTest, TextBySize) {
    EXPECT_EQ(SlowWorkerThreshold(GenKind::kText, 70.0), 3.0);
    EXPECT_EQ(SlowWorkerThreshold(GenKind::kText, 20.0), 3.0);
    EXPECT_EQ(SlowWorkerThreshold(GenKind::kText, 19.9), 4.0);
    EXPECT_EQ(SlowWorkerThreshold(GenKind::kText, 13.0), 4.0);
    EXPECT_EQ(SlowWorkerThreshold(GenKind::kText, 7.0), 5.0);
    EXPECT_EQ(SlowWorkerThreshold(GenKind::kText, 0.0), 5.0);
    EXPECT_EQ(SlowWorkerThreshold(GenKind::kText, std::nullopt), 3.0);
}

// ---- SafeBatchAmount
// ------------------------------------------------------------------------------

class MatchBatchTest : public ::testing::Test {
protected:
    MatchBatchTest() {
        req.kind = GenKind::kImage;
        req.image.width = 512;
        req.image.height = 512;
        req.n = 10;
        profile.max_pixels = 1024 * 1024;
    }
    Request req;
    WorkerProfile profile;
};

TEST_F(MatchBatchTest, FitsWithinMaxPixels) {
    // (1048576 / 3.5 × 4) / 262144 = 4.57 → clamped to the 4 asked for.
    EXPECT_EQ(SafeBatchAmount(req, profile, 4), 4);
    // (1048576 / 3.5 × 8) / 262144 = 9.14 → 8.
    EXPECT_EQ(SafeBatchAmount(req, profile, 8), 8);
    profile.max_pixels = 512 * 512;
    // 1.14 → 1.
    EXPECT_EQ(SafeBatchAmount(req, profile, 4), 1);
}

TEST_F(MatchBatchTest, NeverBelowOne) {
    req.image.width = 2048;
    req.image.height = 2048;
    EXPECT_EQ(SafeBatchAmount(req, profile, 4), 1);
    EXPECT_EQ(SafeBatchAmount(req, profile, 0), 1);
}

TEST_F(MatchBatchTest, PostProcessorsShrinkTheBatch) {
    req.image.post_processing = {"GFPGAN"};  // light: 4.57 / 1.4 = 3.27 → 3
    EXPECT_EQ(SafeBatchAmount(req, profile, 4), 3);
    req.image.post_processing = {"RealESRGAN_x4plus"};  // heavy: 4.57 / 2.52 = 1.81 → 2
    EXPECT_EQ(SafeBatchAmount(req, profile, 4), 2);
    req.image.post_processing = {"GFPGAN", "CodeFormers"};  // heavy: 4.57 / (1.8 × 1.8) = 1.41
    EXPECT_EQ(SafeBatchAmount(req, profile, 4), 1);
}

TEST_F(MatchBatchTest, TransparentIsHeavy) {
    req.image.transparent = true;  // 4.57 / 1.8 = 2.54 → 3
    EXPECT_EQ(SafeBatchAmount(req, profile, 4), 3);
}

TEST_F(MatchBatchTest, CappedByRemainingJobs) {
    req.n = 2;
    EXPECT_EQ(SafeBatchAmount(req, profile, 4), 2);
    req.n = 0;
    EXPECT_EQ(SafeBatchAmount(req, profile, 4), 0);
}

TEST_F(MatchBatchTest, DisableBatchingGivesOne) {
    req.disable_batching = true;
    EXPECT_EQ(SafeBatchAmount(req, profile, 4), 1);
    req.disable_batching = false;
    req.image.workflow = "qr_code";
    EXPECT_EQ(SafeBatchAmount(req, profile, 4), 1);
}

TEST_F(MatchBatchTest, TextTakesTheAmountUpToN) {
    req.kind = GenKind::kText;
    req.n = 3;
    EXPECT_EQ(SafeBatchAmount(req, profile, 2), 2);
    EXPECT_EQ(SafeBatchAmount(req, profile, 5), 3);
    req.disable_batching = true;
    EXPECT_EQ(SafeBatchAmount(req, profile, 5), 1);
}

}  // namespace
}  // namespace horde::domain

#include "bridge/worker.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <thread>

#include "bridge/image_codec.hpp"

namespace horde::bridge {
namespace {

using std::chrono::milliseconds;

json::value Json(std::string_view text) { return boost::json::parse(text); }

ApiReply Reply(int status, std::string_view body) {
    ApiReply r;
    r.status = status;
    r.body = Json(body);
    if (r.body.is_object()) {
        r.rc = json::String(r.body.get_object(), "rc");
        r.message = json::String(r.body.get_object(), "message");
    }
    return r;
}

/// A scripted horde: pops hand out the queued jobs, then nothing; submits and uploads answer
/// from their scripts, then succeed.
class FakeHorde final : public HordeApi {
public:
    Result<ApiReply> Pop(JobKind /*kind*/, const json::object& body) override {
        std::lock_guard lock(mu_);
        pop_bodies_.push_back(body);
        if (jobs_.empty()) {
            return Reply(200, R"({"id":null,"ids":[],"skipped":{"models":2},"messages":[]})");
        }
        auto job = jobs_.front();
        jobs_.pop_front();
        return Reply(200, job);
    }
    Result<ApiReply> Submit(JobKind /*kind*/, const json::object& body) override {
        std::lock_guard lock(mu_);
        submitted_.push_back(body);
        if (submit_script_.empty()) {
            return Reply(200, R"({"reward":10.5})");
        }
        auto next = submit_script_.front();
        submit_script_.pop_front();
        return next;
    }
    Result<HttpReply> Upload(const std::string& url, const std::string& bytes) override {
        std::lock_guard lock(mu_);
        uploads_.emplace_back(url, bytes);
        if (upload_script_.empty()) {
            return HttpReply{200, ""};
        }
        auto next = upload_script_.front();
        upload_script_.pop_front();
        return next;
    }
    Result<std::string> Download(const std::string& /*url*/) override {
        return MakeError(ErrorCode::kNetwork, "no downloads here");
    }

    void AddJob(std::string job) {
        std::lock_guard lock(mu_);
        jobs_.push_back(std::move(job));
    }
    void ScriptSubmit(Result<ApiReply> r) {
        std::lock_guard lock(mu_);
        submit_script_.push_back(std::move(r));
    }
    void ScriptUpload(Result<HttpReply> r) {
        std::lock_guard lock(mu_);
        upload_script_.push_back(std::move(r));
    }
    std::vector<json::object> Submitted() {
        std::lock_guard lock(mu_);
        return submitted_;
    }
    std::vector<std::pair<std::string, std::string>> Uploads() {
        std::lock_guard lock(mu_);
        return uploads_;
    }
    std::vector<json::object> PopBodies() {
        std::lock_guard lock(mu_);
        return pop_bodies_;
    }

private:
    std::mutex mu_;
    std::deque<std::string> jobs_;
    std::deque<Result<ApiReply>> submit_script_;
    std::deque<Result<HttpReply>> upload_script_;
    std::vector<json::object> submitted_;
    std::vector<std::pair<std::string, std::string>> uploads_;
    std::vector<json::object> pop_bodies_;
};

class FakeModelServer final : public Backend {
public:
    explicit FakeModelServer(JobKind kind) : kind_(kind) {}
    JobKind kind() const override { return kind_; }
    std::string Name() const override { return "Fake"; }
    Result<BackendInfo> Probe() override {
        BackendInfo info;
        info.version = "Fake 1";
        info.models = {"model-a"};
        info.max_context_length = 1024;
        info.features.img2img = true;
        info.features.samplers = {"k_euler"};
        return info;
    }
    Result<TextOutput> GenerateText(const TextJob& job, const CancelToken& /*cancel*/) override {
        ++calls;
        last_text = job;
        if (fail) {
            return MakeError(ErrorCode::kInternal, "CUDA out of memory");
        }
        return TextOutput{"generated"};
    }
    Result<ImageOutput> GenerateImage(const ImageJob& job, const CancelToken& /*cancel*/) override {
        ++calls;
        return ImageOutput{EncodePng(SolidImage(job.width, job.height, 10, 20, 30)).value(),
                           job.seed};
    }
    std::atomic<int> calls{0};
    bool fail = false;
    TextJob last_text;

private:
    JobKind kind_;
};

WorkerSettings FastSettings() {
    WorkerSettings s;
    s.name = "test-worker";
    s.api_key = "key";
    s.backoff_initial_ms = 1;
    s.backoff_max_ms = 5;
    s.health_interval_ms = 50;
    s.status_interval_ms = 60'000;
    s.max_length = 256;
    s.censor_words = DefaultCensorWords();
    return s;
}

bool WaitUntil(const std::function<bool()>& done, milliseconds timeout = milliseconds(5000)) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
        if (done()) {
            return true;
        }
        std::this_thread::sleep_for(milliseconds(2));
    }
    return done();
}

constexpr const char* kTextJob =
    R"({"id":"job-1","ids":["job-1"],"model":"model-a","ttl":150,
        "payload":{"prompt":"Hello","n":1,"max_length":400,"max_context_length":4096}})";

struct Rig {
    explicit Rig(JobKind kind, WorkerSettings s = FastSettings(), const Clock* c = nullptr)
        : backend(std::make_shared<FakeModelServer>(kind)),
          horde(std::make_shared<FakeHorde>()),
          worker(std::move(s), backend, horde, c != nullptr ? *c : clock) {}
    ~Rig() {
        worker.StopPopping();
        EXPECT_TRUE(worker.WaitFinished(milliseconds(5000)));
    }
    SystemClock clock;
    std::shared_ptr<FakeModelServer> backend;
    std::shared_ptr<FakeHorde> horde;
    Worker worker;
};

TEST(WorkerLoop, TextJobRunsAndIsSubmitted) {
    Rig rig(JobKind::kText);
    rig.horde->AddJob(kTextJob);
    rig.worker.Start();
    ASSERT_TRUE(WaitUntil([&] { return rig.worker.Stats().jobs_ok == 1; }));
    const auto sent = rig.horde->Submitted();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].at("id").as_string(), "job-1");
    EXPECT_EQ(sent[0].at("generation").as_string(), "generated");
    EXPECT_EQ(sent[0].at("state").as_string(), "ok");
    EXPECT_TRUE(sent[0].at("seed").is_int64());
    // Clamped to the worker (256) and the backend's context (1024).
    EXPECT_EQ(rig.backend->last_text.max_length, 256);
    EXPECT_EQ(rig.backend->last_text.max_context_length, 1024);
    EXPECT_EQ(rig.backend->last_text.model, "model-a");
    EXPECT_DOUBLE_EQ(rig.worker.Stats().kudos, 10.5);
    ASSERT_TRUE(WaitUntil([&] { return !rig.worker.Stats().last_skipped.empty(); }));
    EXPECT_EQ(rig.worker.Stats().last_skipped, "models 2");
    // The pop declared what the backend serves.
    const auto pops = rig.horde->PopBodies();
    ASSERT_FALSE(pops.empty());
    EXPECT_EQ(pops[0].at("models").as_array().at(0).as_string(), "model-a");
    EXPECT_EQ(pops[0].at("max_context_length").as_int64(), 1024);
    EXPECT_EQ(pops[0].at("max_length").as_int64(), 256);
}

TEST(WorkerLoop, SubmitIsRetriedWhileTheHordeIsDown) {
    Rig rig(JobKind::kText);
    rig.horde->AddJob(kTextJob);
    rig.horde->ScriptSubmit(MakeError(ErrorCode::kNetwork, "Couldn't connect to server"));
    rig.horde->ScriptSubmit(Reply(503, R"({"message":"Service Unavailable"})"));
    rig.horde->ScriptSubmit(Reply(500, R"({"message":"Internal Server Error"})"));
    rig.worker.Start();
    ASSERT_TRUE(WaitUntil([&] { return rig.worker.Stats().jobs_ok == 1; }));
    EXPECT_EQ(rig.horde->Submitted().size(), 4u);
    EXPECT_EQ(rig.backend->calls.load(), 1);  // the job was kept, not run again
}

TEST(WorkerLoop, JobsTheHordeNoLongerWantsAreDropped) {
    for (
        const char* answer :
        {R"({"rc":"AbortedGen","message":"Processing Generation with ID job-1 took too long to process and has been aborted!"})",
         R"({"rc":"DuplicateGen","message":"Processing Generation with ID job-1 already submitted."})"}) {
        Rig rig(JobKind::kText);
        rig.horde->AddJob(kTextJob);
        rig.horde->ScriptSubmit(Reply(400, answer));
        rig.worker.Start();
        ASSERT_TRUE(WaitUntil([&] { return rig.worker.Stats().jobs_dropped == 1; })) << answer;
        EXPECT_EQ(rig.horde->Submitted().size(), 1u);
    }
    Rig rig(JobKind::kText);
    rig.horde->AddJob(kTextJob);
    rig.horde->ScriptSubmit(Reply(
        404, R"({"rc":"InvalidJobID","message":"Processing Job with ID job-1 does not exist."})"));
    rig.worker.Start();
    ASSERT_TRUE(WaitUntil([&] { return rig.worker.Stats().jobs_dropped == 1; }));
}

TEST(WorkerLoop, BackendFailureIsReportedFaulted) {
    Rig rig(JobKind::kText);
    rig.backend->fail = true;
    rig.horde->AddJob(kTextJob);
    rig.worker.Start();
    ASSERT_TRUE(WaitUntil([&] { return rig.worker.Stats().jobs_faulted == 1; }));
    const auto sent = rig.horde->Submitted();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].at("state").as_string(), "faulted");
    EXPECT_EQ(sent[0].at("generation").as_string(), "faulted");
    EXPECT_EQ(sent[0].at("seed").as_int64(), 0);
}

TEST(WorkerLoop, SubmitGivesUpAfterTtlPlusGrace) {
    auto clock = MakeFakeClock();
    WorkerSettings s = FastSettings();
    s.submit_grace_ms = 10'000;
    Rig rig(JobKind::kText, s, &clock);
    rig.horde->AddJob(kTextJob);
    for (int i = 0; i < 100'000; ++i) {
        rig.horde->ScriptSubmit(MakeError(ErrorCode::kNetwork, "down"));
    }
    rig.worker.Start();
    ASSERT_TRUE(WaitUntil([&] { return rig.horde->Submitted().size() >= 3; }));
    EXPECT_EQ(rig.worker.Stats().jobs_dropped, 0);
    clock.Advance(std::chrono::seconds(150 + 11));
    ASSERT_TRUE(WaitUntil([&] { return rig.worker.Stats().jobs_dropped == 1; }));
}

TEST(WorkerLoop, ImageIsUploadedThenSubmittedAsR2) {
    Rig rig(JobKind::kImage);
    rig.horde->AddJob(R"({"id":"img-1","ids":["img-1","img-2"],"model":"model-a","ttl":150,
        "payload":{"prompt":"a cat ### dogs","width":64,"height":64,"ddim_steps":5,"seed":"41"},
        "r2_upload":"http://up/1","r2_uploads":["http://up/1","http://up/2"],
        "source_image":null,"source_processing":"img2img","source_mask":null})");
    rig.horde->ScriptUpload(HttpReply{200, ""});
    rig.horde->ScriptUpload(HttpReply{403, "expired"});  // the second falls back to base64
    rig.worker.Start();
    ASSERT_TRUE(WaitUntil([&] { return rig.worker.Stats().jobs_ok == 2; }));
    const auto uploads = rig.horde->Uploads();
    ASSERT_EQ(uploads.size(), 2u);
    EXPECT_EQ(uploads[0].first, "http://up/1");
    EXPECT_EQ(uploads[0].second.substr(0, 4), "RIFF");
    const auto sent = rig.horde->Submitted();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0].at("generation").as_string(), "R2");
    EXPECT_EQ(sent[0].at("seed").as_int64(), 41);
    EXPECT_EQ(sent[1].at("seed").as_int64(), 42);
    const auto inline_image = Base64Decode(sent[1].at("generation").as_string());
    ASSERT_TRUE(inline_image.has_value());
    EXPECT_EQ(SniffImage(*inline_image), ImageFormat::kWebp);
}

TEST(WorkerLoop, AbortReportsHeldJobsFaulted) {
    Rig rig(JobKind::kText);
    rig.worker.Start();
    ASSERT_TRUE(WaitUntil([&] { return !rig.horde->PopBodies().empty(); }));
    EXPECT_TRUE(rig.worker.Abort(milliseconds(2000)));
    EXPECT_EQ(rig.worker.Stats().busy, 0);
}

TEST(PopBody, ImageDeclaresCapabilitiesWithinTheSettings) {
    WorkerSettings s = FastSettings();
    s.allow_painting = false;
    s.max_pixels = 1024 * 1024;
    s.max_batch = 4;
    BackendState state;
    state.healthy = true;
    state.models.served = {{"SDXL", "sdxl.safetensors"}};
    state.info.features = ImageFeatures{.img2img = true,
                                        .inpainting = true,
                                        .karras = true,
                                        .tiling = false,
                                        .hires_fix = true,
                                        .clip_skip = true,
                                        .samplers = {"k_euler", "k_dpmpp_2m"},
                                        .post_processors = {"RealESRGAN_x4plus"}};
    const auto body = BuildPopBody(s, state, JobKind::kImage);
    EXPECT_EQ(body.at("name").as_string(), "test-worker");
    EXPECT_EQ(body.at("bridge_agent").as_string(), BridgeAgent());
    EXPECT_EQ(body.at("max_pixels").as_int64(), 1024 * 1024);
    EXPECT_EQ(body.at("amount").as_int64(), 4);
    EXPECT_TRUE(body.at("allow_img2img").as_bool());
    EXPECT_FALSE(body.at("allow_painting").as_bool());
    EXPECT_TRUE(body.at("allow_post_processing").as_bool());
    EXPECT_FALSE(body.at("allow_lora").as_bool());
    EXPECT_FALSE(body.at("allow_controlnet").as_bool());
    std::vector<std::string> caps;
    for (const auto& c : body.at("capabilities").as_array()) {
        caps.emplace_back(c.as_string());
    }
    const std::vector<std::string> expected = {
        "r2",        "r2_source",       "img2img",           "karras",  "hires_fix",
        "clip_skip", "post-processing", "RealESRGAN_x4plus", "k_euler", "k_dpmpp_2m"};
    EXPECT_EQ(caps, expected);
    EXPECT_FALSE(body.contains("max_length"));
}

TEST(PopBody, TextAdvertisesTheSmallerContext) {
    WorkerSettings s = FastSettings();
    s.max_context_length = 8192;
    s.max_length = 512;
    s.priority_usernames = {"alice#1"};
    BackendState state;
    state.models.served = {{"koboldcpp/X", "koboldcpp/X"}};
    state.info.max_context_length = 2048;
    const auto body = BuildPopBody(s, state, JobKind::kText);
    EXPECT_EQ(body.at("max_context_length").as_int64(), 2048);
    EXPECT_EQ(body.at("max_length").as_int64(), 512);
    EXPECT_EQ(body.at("priority_usernames").as_array().at(0).as_string(), "alice#1");
    EXPECT_FALSE(body.contains("capabilities"));
    EXPECT_FALSE(body.contains("max_pixels"));
}

TEST(Censor, WholeWordsOnly) {
    const auto words = DefaultCensorWords();
    EXPECT_TRUE(PromptHasCensoredWord("a NUDE statue", words));
    EXPECT_TRUE(PromptHasCensoredWord("nsfw, portrait", words));
    EXPECT_FALSE(PromptHasCensoredWord("Essex countryside", words));
    EXPECT_FALSE(PromptHasCensoredWord("a lighthouse", words));
    EXPECT_FALSE(PromptHasCensoredWord("nude", {}));
}

}  // namespace
}  // namespace horde::bridge

#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "domain/ledger.hpp"
#include "store/sqlite/migrations.hpp"

namespace horde::store {
namespace {

using domain::GenKind;
using domain::JobState;
using domain::KudosStat;

TimePoint Ms(int64_t ms) { return FromUnixMillis(ms); }

/// The file's size in bytes, 0 if it does not exist (yet).
uintmax_t SizeOrZero(const std::string& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    return ec ? uintmax_t{0} : size;
}

std::unique_ptr<SqliteStore> OpenOrDie(const std::string& path) {
    auto store = SqliteStore::Open(path);
    if (!store) {
        ADD_FAILURE() << "open " << path << ": " << store.error().message;
        return nullptr;
    }
    return std::move(store).value();
}

void ApplyOk(Store& store, const Batch& batch) {
    const Status s = store.Apply(batch);
    ASSERT_TRUE(s.has_value()) << s.error().message;
}

Snapshot LoadOk(Store& store) {
    auto s = store.Load();
    if (!s) {
        ADD_FAILURE() << "load: " << s.error().message;
        return {};
    }
    return std::move(s).value();
}

LedgerCheck CheckOk(Store& store) {
    auto c = store.CheckLedger();
    if (!c) {
        ADD_FAILURE() << "check: " << c.error().message;
        return {};
    }
    return std::move(c).value();
}

/// A file in the temp directory, removed (with its -wal and -shm) at the end of the test.
class TempDb {
public:
    TempDb() {
        static std::atomic<int> counter{0};
        path_ = (std::filesystem::temp_directory_path() /
                 ("horde_sqlite_test_" + std::to_string(::getpid()) + "_" +
                  std::to_string(counter++) + ".db"))
                    .string();
        Remove();
    }
    ~TempDb() { Remove(); }
    TempDb(const TempDb&) = delete;
    TempDb& operator=(const TempDb&) = delete;

    const std::string& path() const { return path_; }
    std::string wal() const { return path_ + "-wal"; }

private:
    void Remove() {
        std::error_code ec;
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
            std::filesystem::remove(path_ + suffix, ec);
        }
    }
    std::string path_;
};

/// A second, raw connection, for what the store's API must not allow (corruption, inspection).
class RawDb {
public:
    explicit RawDb(const std::string& path) {
        EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
        sqlite3_busy_timeout(db_, 5000);
    }
    ~RawDb() { sqlite3_close(db_); }
    RawDb(const RawDb&) = delete;
    RawDb& operator=(const RawDb&) = delete;

    void Exec(const std::string& sql) {
        char* err = nullptr;
        EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
            << sql << ": " << (err != nullptr ? err : "");
        sqlite3_free(err);
    }
    std::string Scalar(const std::string& sql) {
        sqlite3_stmt* stmt = nullptr;
        EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
        std::string out;
        if (sqlite3_step(stmt) == SQLITE_ROW) {
            const unsigned char* text = sqlite3_column_text(stmt, 0);
            out = text != nullptr ? reinterpret_cast<const char*>(text) : "";
        }
        sqlite3_finalize(stmt);
        return out;
    }

private:
    sqlite3* db_ = nullptr;
};

std::string ReadBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// ---------------------------------------------------------------------------------------------
// Entities with every field away from its default.

domain::User FullUser() {
    domain::User u;
    u.id = UserId(42);
    u.username = "alice\"quote\\back\nnewline \xc3\xa9";
    u.api_key_hash = "0123456789abcdef";
    u.anonymous = true;
    u.moderator = true;
    u.admin = true;
    u.trusted = true;
    u.flagged = true;
    u.deleted = true;
    u.pseudonymous = true;
    u.public_workers = true;
    u.concurrency = 7;
    u.worker_invited = 3;
    u.contact = std::string("mail@example.org \xff invalid utf8 and a NUL:") + '\0' + "end";
    u.oauth_id = "google:1234567890";
    u.created = Ms(1'600'000'000'123);
    u.last_active = Ms(1'700'000'000'456);
    u.usage_multiplier = 0.30000000000000004;
    u.monthly_kudos = Kudos::FromMilli(123'450);
    u.monthly_kudos_last = Ms(1'650'000'000'789);
    u.admin_comment = "watch this one";
    u.customizer = true;
    u.vpn = true;
    u.service = true;
    u.education = true;
    u.special = true;
    return u;
}

domain::WorkerProfile FullProfile() {
    domain::WorkerProfile p;
    p.models = {"stable_diffusion", "AlbedoBase XL (SDXL)"};
    p.bridge_agent = "AI Horde Worker reGen:9.0.2:https://example.org";
    p.threads = 4;
    p.nsfw = false;
    p.require_upfront_kudos = true;
    p.extra_slow_worker = true;
    p.allow_unsafe_ipaddr = false;
    p.blacklist = {"bad", "words"};
    p.priority_usernames = {"bob#7", "carol#9"};
    p.max_pixels = 4'194'304;
    p.allow_img2img = false;
    p.allow_painting = false;
    p.allow_post_processing = false;
    p.allow_controlnet = true;
    p.allow_sdxl_controlnet = true;
    p.allow_lora = true;
    p.limit_max_steps = true;
    p.max_length = 1024;
    p.max_context_length = 8192;
    p.softprompts = {"sp1", "sp2"};
    p.capabilities = {"lora", "controlnet"};
    p.capabilities_declared = true;
    return p;
}

domain::Worker FullWorker() {
    domain::Worker w;
    w.id = WorkerId("11111111-2222-3333-4444-555555555555");
    w.kind = GenKind::kText;
    w.name = "worker one";
    w.owner = UserId(42);
    w.profile = FullProfile();
    w.info = "info text";
    w.maintenance = true;
    w.maintenance_msg = "down for repairs";
    w.paused = true;
    w.ipaddr = "10.0.0.1";
    w.created = Ms(1'650'000'000'001);
    w.last_check_in = Ms(1'700'000'000'002);
    w.uptime_s = 123'456;
    w.last_reward_uptime_s = 120'000;
    w.fulfilments = 99;
    w.aborted_jobs = 5;
    w.things_done = 0.1 + 0.2;  // 0.30000000000000004: needs all 17 digits
    w.kudos_generated = Kudos::FromMilli(123'456'789);
    w.kudos_uptime = Kudos::FromMilli(-42);
    w.speed_samples = {1.0 / 3.0, 2.0 / 3.0, 1e-300, -97570.19231092371, 1.7161392603081718e277};
    return w;
}

domain::Request FullRequest() {
    domain::Request r;
    r.id = RequestId("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
    r.kind = GenKind::kText;
    r.user = UserId(42);
    r.prompt = "a cat\n\t\"in\" a \\hat\\ \xe2\x9c\x93";
    r.params_json = R"({"n":3,"steps":40,"nested":{"x":[1,2]}})";
    r.models = {"m1", "m2"};
    r.workers = {WorkerId("w1"), WorkerId("w2")};
    r.worker_blacklist = true;
    r.nsfw = true;
    r.censor_nsfw = true;
    r.trusted_workers = true;
    r.validated_backends = true;
    r.slow_workers = false;
    r.extra_slow_workers = true;
    r.r2 = false;
    r.shared = true;
    r.disable_batching = true;
    r.safe_ip = false;
    r.image.width = 1024;
    r.image.height = 768;
    r.image.steps = 50;
    r.image.cfg_scale = 7.123456789012345;
    r.image.sampler_name = "k_dpmpp_2m";
    r.image.karras = false;
    r.image.hires_fix = true;
    r.image.tiling = true;
    r.image.transparent = true;
    r.image.image_is_control = true;
    r.image.return_control_map = true;
    r.image.denoising_strength = 0.123456789;
    r.image.clip_skip = 2;
    r.image.control_type = "canny";
    r.image.workflow = "qr_code";
    r.image.post_processing = {"RealESRGAN_x4plus", "strip_background"};
    r.image.lora_count = 2;
    r.image.lora_versions = true;
    r.image.ti_count = 1;
    r.image.has_source_image = true;
    r.image.has_source_mask = true;
    r.image.source_processing = "inpainting";
    r.image.extra_source_images = 3;
    r.text.max_length = 300;
    r.text.max_context_length = 4096;
    r.text.softprompt = "soft";
    r.text.prompt_chars = 1234;
    r.seed = "seed-string";
    r.source_image = "source.webp";
    r.source_mask = "https://example.org/mask.png";
    r.seed_variation = 7;
    r.client_agent = "client:1.0:me";
    r.ipaddr = "192.168.1.1";
    r.webhook = "https://example.org/hook";
    r.jobs = 5;
    r.n = 3;
    r.things = int64_t{1} << 40;
    r.kudos_per_job = Kudos::FromMilli(12'345);
    r.consumed = Kudos::FromMilli(67'890);
    r.hold = Kudos::FromMilli(12'340);
    r.priority_base_milli = -5'000'000'000'000;
    r.faulted = true;
    r.cancelled = true;
    r.created = Ms(1'700'000'000'000);
    r.expiry = Ms(1'700'001'200'000);
    r.seq = 77;
    return r;
}

domain::Job FullJob() {
    domain::Job j;
    j.id = JobId("jjjjjjjj-0000-0000-0000-000000000001");
    j.request = RequestId("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
    j.kind = GenKind::kText;
    j.worker = WorkerId("11111111-2222-3333-4444-555555555555");
    j.worker_name = "worker one";
    j.worker_owner = UserId(43);
    j.model = "m1";
    j.seed = -9'000'000'000'000'000'000;
    j.state = JobState::kFaulted;
    j.fake = true;
    j.censored = true;
    j.generation = "once upon a time";
    j.gen_metadata_json = R"([{"type":"censorship","value":"csam"}])";
    j.result_state = "csam";
    j.reward = Kudos::FromMilli(4'321);
    j.start = Ms(1'700'000'000'100);
    j.ttl_s = 999;
    j.finished = Ms(1'700'000'000'200);
    return j;
}

// ---------------------------------------------------------------------------------------------
// Field-by-field comparison. The structured bindings stop compiling when a field is added to an
// entity: then persist it in sqlite_store.cpp, set it in Full*() above and compare it here.

void ExpectSame(const domain::ImageShape& a, const domain::ImageShape& b) {
    [[maybe_unused]] const auto& [f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15,
                                  f16, f17, f18, f19, f20, f21, f22, f23] = a;
    EXPECT_EQ(a.width, b.width);
    EXPECT_EQ(a.height, b.height);
    EXPECT_EQ(a.steps, b.steps);
    EXPECT_EQ(a.cfg_scale, b.cfg_scale);
    EXPECT_EQ(a.sampler_name, b.sampler_name);
    EXPECT_EQ(a.karras, b.karras);
    EXPECT_EQ(a.hires_fix, b.hires_fix);
    EXPECT_EQ(a.tiling, b.tiling);
    EXPECT_EQ(a.transparent, b.transparent);
    EXPECT_EQ(a.image_is_control, b.image_is_control);
    EXPECT_EQ(a.return_control_map, b.return_control_map);
    EXPECT_EQ(a.denoising_strength, b.denoising_strength);
    EXPECT_EQ(a.clip_skip, b.clip_skip);
    EXPECT_EQ(a.control_type, b.control_type);
    EXPECT_EQ(a.workflow, b.workflow);
    EXPECT_EQ(a.post_processing, b.post_processing);
    EXPECT_EQ(a.lora_count, b.lora_count);
    EXPECT_EQ(a.lora_versions, b.lora_versions);
    EXPECT_EQ(a.ti_count, b.ti_count);
    EXPECT_EQ(a.has_source_image, b.has_source_image);
    EXPECT_EQ(a.has_source_mask, b.has_source_mask);
    EXPECT_EQ(a.source_processing, b.source_processing);
    EXPECT_EQ(a.extra_source_images, b.extra_source_images);
}

void ExpectSame(const domain::TextShape& a, const domain::TextShape& b) {
    [[maybe_unused]] const auto& [f1, f2, f3, f4] = a;
    EXPECT_EQ(a.max_length, b.max_length);
    EXPECT_EQ(a.max_context_length, b.max_context_length);
    EXPECT_EQ(a.softprompt, b.softprompt);
    EXPECT_EQ(a.prompt_chars, b.prompt_chars);
}

std::vector<std::string> Ids(const std::vector<WorkerId>& ids) {
    std::vector<std::string> out;
    for (const auto& id : ids) {
        out.push_back(id.value());
    }
    return out;
}

void ExpectSame(const domain::Request& a, const domain::Request& b) {
    [[maybe_unused]] const auto& [f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15,
                                  f16, f17, f18, f19, f20, f21, f22, f23, f24, f25, f26, f27, f28,
                                  f29, f30, f31, f32, f33, f34, f35, f36, f37, f38, f39,
                                  f40] = a;  // expiry_slot is memory's, not stored
    EXPECT_EQ(a.id.value(), b.id.value());
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.user.value(), b.user.value());
    EXPECT_EQ(a.prompt, b.prompt);
    EXPECT_EQ(a.params_json, b.params_json);
    EXPECT_EQ(a.models, b.models);
    EXPECT_EQ(Ids(a.workers), Ids(b.workers));
    EXPECT_EQ(a.worker_blacklist, b.worker_blacklist);
    EXPECT_EQ(a.nsfw, b.nsfw);
    EXPECT_EQ(a.censor_nsfw, b.censor_nsfw);
    EXPECT_EQ(a.trusted_workers, b.trusted_workers);
    EXPECT_EQ(a.validated_backends, b.validated_backends);
    EXPECT_EQ(a.slow_workers, b.slow_workers);
    EXPECT_EQ(a.extra_slow_workers, b.extra_slow_workers);
    EXPECT_EQ(a.r2, b.r2);
    EXPECT_EQ(a.shared, b.shared);
    EXPECT_EQ(a.disable_batching, b.disable_batching);
    EXPECT_EQ(a.safe_ip, b.safe_ip);
    // Only the shape of the request's own kind is stored.
    if (a.kind == GenKind::kImage) {
        ExpectSame(a.image, b.image);
    } else {
        ExpectSame(a.text, b.text);
    }
    EXPECT_EQ(a.seed, b.seed);
    EXPECT_EQ(a.source_image, b.source_image);
    EXPECT_EQ(a.source_mask, b.source_mask);
    EXPECT_EQ(a.seed_variation, b.seed_variation);
    EXPECT_EQ(a.client_agent, b.client_agent);
    EXPECT_EQ(a.ipaddr, b.ipaddr);
    EXPECT_EQ(a.webhook, b.webhook);
    EXPECT_EQ(a.jobs, b.jobs);
    EXPECT_EQ(a.n, b.n);
    EXPECT_EQ(a.things, b.things);
    EXPECT_EQ(a.kudos_per_job.milli(), b.kudos_per_job.milli());
    EXPECT_EQ(a.consumed.milli(), b.consumed.milli());
    EXPECT_EQ(a.hold.milli(), b.hold.milli());
    EXPECT_EQ(a.priority_base_milli, b.priority_base_milli);
    EXPECT_EQ(a.faulted, b.faulted);
    EXPECT_EQ(a.cancelled, b.cancelled);
    EXPECT_EQ(ToUnixMillis(a.created), ToUnixMillis(b.created));
    EXPECT_EQ(ToUnixMillis(a.expiry), ToUnixMillis(b.expiry));
    EXPECT_EQ(a.seq, b.seq);
}

void ExpectSame(const domain::Job& a, const domain::Job& b) {
    [[maybe_unused]] const auto& [f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15,
                                  f16, f17, f18] = a;
    EXPECT_EQ(a.id.value(), b.id.value());
    EXPECT_EQ(a.request.value(), b.request.value());
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.worker.value(), b.worker.value());
    EXPECT_EQ(a.worker_name, b.worker_name);
    EXPECT_EQ(a.worker_owner.value(), b.worker_owner.value());
    EXPECT_EQ(a.model, b.model);
    EXPECT_EQ(a.seed, b.seed);
    EXPECT_EQ(a.state, b.state);
    EXPECT_EQ(a.fake, b.fake);
    EXPECT_EQ(a.censored, b.censored);
    EXPECT_EQ(a.generation, b.generation);
    EXPECT_EQ(a.gen_metadata_json, b.gen_metadata_json);
    EXPECT_EQ(a.result_state, b.result_state);
    EXPECT_EQ(a.reward.milli(), b.reward.milli());
    EXPECT_EQ(ToUnixMillis(a.start), ToUnixMillis(b.start));
    EXPECT_EQ(a.ttl_s, b.ttl_s);
    EXPECT_EQ(ToUnixMillis(a.finished), ToUnixMillis(b.finished));
}

void ExpectSame(const domain::WorkerProfile& a, const domain::WorkerProfile& b) {
    [[maybe_unused]] const auto& [f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15,
                                  f16, f17, f18, f19, f20, f21, f22] = a;
    EXPECT_EQ(a.models, b.models);
    EXPECT_EQ(a.bridge_agent, b.bridge_agent);
    EXPECT_EQ(a.threads, b.threads);
    EXPECT_EQ(a.nsfw, b.nsfw);
    EXPECT_EQ(a.require_upfront_kudos, b.require_upfront_kudos);
    EXPECT_EQ(a.extra_slow_worker, b.extra_slow_worker);
    EXPECT_EQ(a.allow_unsafe_ipaddr, b.allow_unsafe_ipaddr);
    EXPECT_EQ(a.blacklist, b.blacklist);
    EXPECT_EQ(a.priority_usernames, b.priority_usernames);
    EXPECT_EQ(a.max_pixels, b.max_pixels);
    EXPECT_EQ(a.allow_img2img, b.allow_img2img);
    EXPECT_EQ(a.allow_painting, b.allow_painting);
    EXPECT_EQ(a.allow_post_processing, b.allow_post_processing);
    EXPECT_EQ(a.allow_controlnet, b.allow_controlnet);
    EXPECT_EQ(a.allow_sdxl_controlnet, b.allow_sdxl_controlnet);
    EXPECT_EQ(a.allow_lora, b.allow_lora);
    EXPECT_EQ(a.limit_max_steps, b.limit_max_steps);
    EXPECT_EQ(a.max_length, b.max_length);
    EXPECT_EQ(a.max_context_length, b.max_context_length);
    EXPECT_EQ(a.softprompts, b.softprompts);
    EXPECT_EQ(a.capabilities, b.capabilities);
    EXPECT_EQ(a.capabilities_declared, b.capabilities_declared);
}

void ExpectSame(const domain::Worker& a, const domain::Worker& b) {
    [[maybe_unused]] const auto& [f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15,
                                  f16, f17, f18, f19, f20] = a;
    EXPECT_EQ(a.id.value(), b.id.value());
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.owner.value(), b.owner.value());
    ExpectSame(a.profile, b.profile);
    EXPECT_EQ(a.info, b.info);
    EXPECT_EQ(a.maintenance, b.maintenance);
    EXPECT_EQ(a.maintenance_msg, b.maintenance_msg);
    EXPECT_EQ(a.paused, b.paused);
    EXPECT_EQ(a.ipaddr, b.ipaddr);
    EXPECT_EQ(ToUnixMillis(a.created), ToUnixMillis(b.created));
    EXPECT_EQ(ToUnixMillis(a.last_check_in), ToUnixMillis(b.last_check_in));
    EXPECT_EQ(a.uptime_s, b.uptime_s);
    EXPECT_EQ(a.last_reward_uptime_s, b.last_reward_uptime_s);
    EXPECT_EQ(a.fulfilments, b.fulfilments);
    EXPECT_EQ(a.aborted_jobs, b.aborted_jobs);
    EXPECT_EQ(a.things_done, b.things_done);  // exact, not NEAR
    EXPECT_EQ(a.kudos_generated.milli(), b.kudos_generated.milli());
    EXPECT_EQ(a.kudos_uptime.milli(), b.kudos_uptime.milli());
    EXPECT_EQ(a.speed_samples, b.speed_samples);
}

void ExpectSame(const domain::User& a, const domain::User& b) {
    [[maybe_unused]] const auto& [f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15,
                                  f16, f17, f18, f19, f20, f21, f22, f23, f24, f25, f26] = a;
    EXPECT_EQ(a.id.value(), b.id.value());
    EXPECT_EQ(a.username, b.username);
    EXPECT_EQ(a.api_key_hash, b.api_key_hash);
    EXPECT_EQ(a.anonymous, b.anonymous);
    EXPECT_EQ(a.moderator, b.moderator);
    EXPECT_EQ(a.admin, b.admin);
    EXPECT_EQ(a.trusted, b.trusted);
    EXPECT_EQ(a.flagged, b.flagged);
    EXPECT_EQ(a.deleted, b.deleted);
    EXPECT_EQ(a.pseudonymous, b.pseudonymous);
    EXPECT_EQ(a.public_workers, b.public_workers);
    EXPECT_EQ(a.concurrency, b.concurrency);
    EXPECT_EQ(a.worker_invited, b.worker_invited);
    EXPECT_EQ(a.contact, b.contact);
    EXPECT_EQ(a.oauth_id, b.oauth_id);
    EXPECT_EQ(ToUnixMillis(a.created), ToUnixMillis(b.created));
    EXPECT_EQ(ToUnixMillis(a.last_active), ToUnixMillis(b.last_active));
    EXPECT_EQ(a.usage_multiplier, b.usage_multiplier);
    EXPECT_EQ(a.monthly_kudos.milli(), b.monthly_kudos.milli());
    EXPECT_EQ(ToUnixMillis(a.monthly_kudos_last), ToUnixMillis(b.monthly_kudos_last));
    EXPECT_EQ(a.admin_comment, b.admin_comment);
    EXPECT_EQ(a.customizer, b.customizer);
    EXPECT_EQ(a.vpn, b.vpn);
    EXPECT_EQ(a.service, b.service);
    EXPECT_EQ(a.education, b.education);
    EXPECT_EQ(a.special, b.special);
}

// ---------------------------------------------------------------------------------------------
// Small builders.

domain::Request SimpleRequest(const std::string& id, int n, std::string prompt = "a prompt") {
    domain::Request r;
    r.id = RequestId(id);
    r.user = UserId(1);
    r.prompt = std::move(prompt);
    r.jobs = n;
    r.n = n;
    r.created = Ms(1'700'000'000'000);
    r.expiry = Ms(1'700'001'200'000);
    return r;
}

domain::Job SimpleJob(const std::string& id, const std::string& request) {
    domain::Job j;
    j.id = JobId(id);
    j.request = RequestId(request);
    j.worker = WorkerId("w");
    return j;
}

domain::User SimpleUser(int64_t id) {
    domain::User u;
    u.id = UserId(id);
    u.username = "user" + std::to_string(id);
    return u;
}

template <typename T>
Batch One(T&& mutation) {
    Batch b;
    b.Add(std::forward<T>(mutation));
    return b;
}

// ---------------------------------------------------------------------------------------------

TEST(SqliteStoreTest, EmptyStoreLoadsEmpty) {
    auto store = OpenOrDie(":memory:");
    ASSERT_NE(store, nullptr);
    const Snapshot s = LoadOk(*store);
    EXPECT_TRUE(s.users.empty());
    EXPECT_TRUE(s.workers.empty());
    EXPECT_TRUE(s.requests.empty());
    EXPECT_TRUE(s.jobs.empty());
    EXPECT_TRUE(s.balances_milli.empty());
    EXPECT_TRUE(s.user_stats.empty());
    EXPECT_TRUE(s.settings.empty());
    EXPECT_EQ(s.next_user_id, 1);
    ApplyOk(*store, Batch{});
    auto version = store->SchemaVersion();
    ASSERT_TRUE(version);
    EXPECT_EQ(*version, sqlite_schema::kLatestVersion);
}

TEST(SqliteStoreTest, RoundTripsEveryFieldOfEveryEntity) {
    auto store = OpenOrDie(":memory:");
    ASSERT_NE(store, nullptr);
    Batch b;
    b.Add(PutUser{FullUser()});
    b.Add(PutWorker{FullWorker()});
    b.Add(PutRequest{FullRequest()});
    b.Add(PutJob{FullJob()});
    b.Add(PutSetting{"motd", "hello\nworld"});
    ApplyOk(*store, b);

    const Snapshot s = LoadOk(*store);
    ASSERT_EQ(s.users.size(), 1u);
    ASSERT_EQ(s.workers.size(), 1u);
    ASSERT_EQ(s.requests.size(), 1u);
    ASSERT_EQ(s.jobs.size(), 1u);
    ExpectSame(s.users[0], FullUser());
    ExpectSame(s.workers[0], FullWorker());
    ExpectSame(s.requests[0], FullRequest());
    ExpectSame(s.jobs[0], FullJob());
    EXPECT_EQ(s.settings.at("motd"), "hello\nworld");
    EXPECT_EQ(s.next_user_id, 43);
}

TEST(SqliteStoreTest, RoundTripsAnImageRequestsShapeAndDropsTheTextOne) {
    auto store = OpenOrDie(":memory:");
    ASSERT_NE(store, nullptr);
    domain::Request image = FullRequest();
    image.kind = GenKind::kImage;
    Batch b;
    b.Add(PutRequest{image});
    ApplyOk(*store, b);
    const Snapshot s = LoadOk(*store);
    ASSERT_EQ(s.requests.size(), 1u);
    ExpectSame(s.requests[0], image);
    EXPECT_EQ(s.requests[0].text.max_length, domain::TextShape{}.max_length);
    EXPECT_TRUE(s.requests[0].text.softprompt.empty());
}

TEST(SqliteStoreTest, RoundTripsDefaultsAndEmptyOptionals) {
    auto store = OpenOrDie(":memory:");
    ASSERT_NE(store, nullptr);
    domain::Request r = SimpleRequest("r", 1);
    r.seed_variation.reset();
    r.image.denoising_strength.reset();
    domain::Worker w;
    w.id = WorkerId("w");
    w.name = "w";
    Batch b;
    b.Add(PutUser{SimpleUser(1)});  // no api key hash: stored as NULL
    b.Add(PutUser{SimpleUser(2)});  // a second user without one must not collide
    b.Add(PutWorker{w});
    b.Add(PutRequest{r});
    b.Add(PutJob{SimpleJob("j", "r")});
    ApplyOk(*store, b);

    const Snapshot s = LoadOk(*store);
    ASSERT_EQ(s.users.size(), 2u);
    ExpectSame(s.users[0], SimpleUser(1));
    ExpectSame(s.users[1], SimpleUser(2));
    ASSERT_EQ(s.workers.size(), 1u);
    ExpectSame(s.workers[0], w);
    ASSERT_EQ(s.requests.size(), 1u);
    ExpectSame(s.requests[0], r);
    ASSERT_EQ(s.jobs.size(), 1u);
    ExpectSame(s.jobs[0], SimpleJob("j", "r"));
}

TEST(SqliteStoreTest, PutIsAnUpsertAndKeepsTheRequestsJobs) {
    auto store = OpenOrDie(":memory:");
    ASSERT_NE(store, nullptr);
    Batch first;
    first.Add(PutRequest{SimpleRequest("r", 3)});
    first.Add(PutJob{SimpleJob("j1", "r")});
    first.Add(PutSetting{"k", "v1"});
    first.Add(PutUser{SimpleUser(5)});
    ApplyOk(*store, first);

    domain::Request r = SimpleRequest("r", 3);
    r.n = 2;
    r.prompt = "changed";
    domain::Job j = SimpleJob("j1", "r");
    j.state = JobState::kDone;
    domain::User u = SimpleUser(5);
    u.username = "renamed";
    Batch second;
    second.Add(PutRequest{r});  // an update must not delete-and-insert (that would cascade)
    second.Add(PutSetting{"k", "v2"});
    second.Add(PutUser{u});
    ApplyOk(*store, second);
    const Snapshot mid = LoadOk(*store);
    ASSERT_EQ(mid.jobs.size(), 1u);
    EXPECT_EQ(mid.jobs[0].state, JobState::kProcessing);
    ApplyOk(*store, One(PutJob{j}));

    const Snapshot s = LoadOk(*store);
    ASSERT_EQ(s.requests.size(), 1u);
    EXPECT_EQ(s.requests[0].n, 2);
    EXPECT_EQ(s.requests[0].prompt, "changed");
    ASSERT_EQ(s.jobs.size(), 1u);
    EXPECT_EQ(s.jobs[0].state, JobState::kDone);
    EXPECT_EQ(s.settings.at("k"), "v2");
    ASSERT_EQ(s.users.size(), 1u);
    EXPECT_EQ(s.users[0].username, "renamed");
}

TEST(SqliteStoreTest, RequestParamsAreKeptByUpsertsThatCarryNone) {
    auto store = OpenOrDie(":memory:");
    ASSERT_NE(store, nullptr);
    domain::Request r = SimpleRequest("r", 3);
    r.params_json = R"({"width":512,"height":768})";
    ApplyOk(*store, One(PutRequest{r}));
    r.n = 2;
    r.params_json.clear();  // what the service writes after intake: memory keeps no params
    ApplyOk(*store, One(PutRequest{r}));

    auto params = store->RequestParams(RequestId("r"));
    ASSERT_TRUE(params.has_value()) << params.error().message;
    EXPECT_EQ(*params, R"({"width":512,"height":768})");
    const Snapshot s = LoadOk(*store);
    ASSERT_EQ(s.requests.size(), 1u);
    EXPECT_EQ(s.requests[0].n, 2);
    EXPECT_EQ(s.requests[0].params_json, R"({"width":512,"height":768})");

    auto missing = store->RequestParams(RequestId("nope"));
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code, ErrorCode::kRequestNotFound);
}

TEST(SqliteStoreTest, RequestOriginIsKeptByUpsertsThatCarryNone) {
    auto store = OpenOrDie(":memory:");
    ASSERT_NE(store, nullptr);
    domain::Request r = SimpleRequest("r", 3);
    r.client_agent = "ArtBot:2.0:example";
    r.ipaddr = "203.0.113.7";
    ApplyOk(*store, One(PutRequest{r}));
    r.n = 2;
    r.client_agent.clear();  // what the service writes after intake: memory keeps neither
    r.ipaddr.clear();
    ApplyOk(*store, One(PutRequest{r}));
    const Snapshot s = LoadOk(*store);
    ASSERT_EQ(s.requests.size(), 1u);
    EXPECT_EQ(s.requests[0].n, 2);
    EXPECT_EQ(s.requests[0].client_agent, "ArtBot:2.0:example");
    EXPECT_EQ(s.requests[0].ipaddr, "203.0.113.7");
}

TEST(SqliteStoreTest, MigrationMovesOriginOutOfTheDataColumn) {
    TempDb db;
    {
        auto store = OpenOrDie(db.path());
        ASSERT_NE(store, nullptr);
        ApplyOk(*store, One(PutRequest{SimpleRequest("old", 1)}));
    }
    {
        // Back to schema 3: client agent and address inside `data`, no columns.
        RawDb raw(db.path());
        raw.Exec("ALTER TABLE requests DROP COLUMN write_seq");  // added by schema 5
        raw.Exec("ALTER TABLE requests DROP COLUMN client_agent");
        raw.Exec("ALTER TABLE requests DROP COLUMN ipaddr");
        raw.Exec(R"(UPDATE requests SET data = json_set(data, '$.client_agent', 'KoboldAI Lite:17',
                                                         '$.ipaddr', '198.51.100.2'))");
        raw.Exec("UPDATE meta SET value = '3' WHERE key = 'schema_version'");
    }
    {
        auto store = OpenOrDie(db.path());
        ASSERT_NE(store, nullptr);
        const Snapshot s = LoadOk(*store);
        ASSERT_EQ(s.requests.size(), 1u);
        EXPECT_EQ(s.requests[0].client_agent, "KoboldAI Lite:17");
        EXPECT_EQ(s.requests[0].ipaddr, "198.51.100.2");
        EXPECT_EQ(s.requests[0].prompt, "a prompt");
    }
    RawDb raw(db.path());
    EXPECT_EQ(raw.Scalar("SELECT json_type(data, '$.client_agent') IS NULL AND "
                         "json_type(data, '$.ipaddr') IS NULL FROM requests"),
              "1");
}

TEST(SqliteStoreTest, MigrationMovesParamsOutOfTheDataColumn) {
    TempDb db;
    {
        auto store = OpenOrDie(db.path());
        ASSERT_NE(store, nullptr);
        ApplyOk(*store, One(PutRequest{SimpleRequest("old", 1)}));
    }
    {
        // Back to schema 2: params inside `data`, no column.
        RawDb raw(db.path());
        raw.Exec("ALTER TABLE requests DROP COLUMN params");
        raw.Exec("ALTER TABLE requests DROP COLUMN write_seq");     // added by schema 5
        raw.Exec("ALTER TABLE requests DROP COLUMN client_agent");  // added by schema 4
        raw.Exec("ALTER TABLE requests DROP COLUMN ipaddr");
        raw.Exec(R"(UPDATE requests SET data = json_set(data, '$.params_json', '{"steps":30}'))");
        raw.Exec("UPDATE meta SET value = '2' WHERE key = 'schema_version'");
    }
    {
        auto store = OpenOrDie(db.path());
        ASSERT_NE(store, nullptr);
        const Snapshot s = LoadOk(*store);
        ASSERT_EQ(s.requests.size(), 1u);
        EXPECT_EQ(s.requests[0].params_json, R"({"steps":30})");
        EXPECT_EQ(s.requests[0].prompt, "a prompt");
        // Through the reader connection of a file store.
        auto params = store->RequestParams(RequestId("old"));
        ASSERT_TRUE(params.has_value()) << params.error().message;
        EXPECT_EQ(*params, R"({"steps":30})");
    }
    RawDb raw(db.path());
    EXPECT_EQ(raw.Scalar("SELECT json_type(data, '$.params_json') IS NULL FROM requests"), "1");
    EXPECT_EQ(raw.Scalar("SELECT value FROM meta WHERE key = 'schema_version'"),
              std::to_string(sqlite_schema::kLatestVersion));
}

TEST(SqliteStoreTest, DeleteWorker) {
    auto store = OpenOrDie(":memory:");
    ASSERT_NE(store, nullptr);
    domain::Worker w1 = FullWorker();
    domain::Worker w2;
    w2.id = WorkerId("w2");
    w2.name = "second";
    Batch b;
    b.Add(PutWorker{w1});
    b.Add(PutWorker{w2});
    ApplyOk(*store, b);
    ApplyOk(*store, One(DeleteWorker{w1.id}));
    const Snapshot s = LoadOk(*store);
    ASSERT_EQ(s.workers.size(), 1u);
    EXPECT_EQ(s.workers[0].id.value(), "w2");
}

TEST(SqliteStoreTest, DuplicateWorkerNameFailsTheBatch) {
    auto store = OpenOrDie(":memory:");
    ASSERT_NE(store, nullptr);
    domain::Worker w1;
    w1.id = WorkerId("w1");
    w1.name = "same";
    domain::Worker w2 = w1;
    w2.id = WorkerId("w2");
    Batch b;
    b.Add(PutWorker{w1});
    b.Add(PutWorker{w2});
    const Status s = store->Apply(b);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, ErrorCode::kStoreUnavailable);
    EXPECT_TRUE(LoadOk(*store).workers.empty());
}

TEST(SqliteStoreTest, DeleteRequestDeletesTheJobsItNames) {
    TempDb db;
    auto store = OpenOrDie(db.path());
    ASSERT_NE(store, nullptr);
    Batch b;
    b.Add(PutRequest{SimpleRequest("r1", 2)});
    b.Add(PutRequest{SimpleRequest("r2", 1)});
    b.Add(PutJob{SimpleJob("j1", "r1")});
    b.Add(PutJob{SimpleJob("j2", "r1")});
    b.Add(PutJob{SimpleJob("j3", "r2")});
    ApplyOk(*store, b);

    ApplyOk(*store, One(DeleteRequest{RequestId("r1"), {JobId("j1"), JobId("j2")}}));
    const Snapshot s = LoadOk(*store);
    ASSERT_EQ(s.requests.size(), 1u);
    EXPECT_EQ(s.requests[0].id.value(), "r2");
    ASSERT_EQ(s.jobs.size(), 1u);
    EXPECT_EQ(s.jobs[0].id.value(), "j3");
    RawDb raw(db.path());
    EXPECT_EQ(raw.Scalar("SELECT count(*) FROM jobs"), "1");
}

// Jobs carry no foreign key (a pop writes no page keyed by its request): a job whose request is
// gone, or never came, is left out of Load and removed when the file is next opened.
TEST(SqliteStoreTest, JobsWithoutTheirRequestAreLeftOutAndRemovedAtOpen) {
    TempDb db;
    auto store = OpenOrDie(db.path());
    ASSERT_NE(store, nullptr);
    Batch b;
    b.Add(PutJob{SimpleJob("j1", "r1")});  // may precede its request in a batch
    b.Add(PutRequest{SimpleRequest("r1", 1)});
    b.Add(PutRequest{SimpleRequest("r2", 1)});
    b.Add(PutJob{SimpleJob("j2", "r2")});
    b.Add(PutJob{SimpleJob("j3", "missing")});
    ApplyOk(*store, b);
    ApplyOk(*store, One(DeleteRequest{RequestId("r2"), {}}));  // names none of its jobs

    const Snapshot snap = LoadOk(*store);
    ASSERT_EQ(snap.jobs.size(), 1u);
    EXPECT_EQ(snap.jobs[0].id.value(), "j1");
    {
        RawDb raw(db.path());
        EXPECT_EQ(raw.Scalar("SELECT count(*) FROM jobs"), "3");
    }
    store.reset();
    store = OpenOrDie(db.path());
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(LoadOk(*store).jobs.size(), 1u);
    RawDb raw(db.path());
    EXPECT_EQ(raw.Scalar("SELECT group_concat(id) FROM jobs"), "j1");
}

TEST(SqliteStoreTest, PostEntryUpdatesBalancesAndStats) {
    auto store = OpenOrDie(":memory:");
    ASSERT_NE(store, nullptr);
    const TimePoint now = Ms(1'700'000'000'000);
    Batch b;
    b.Add(PostEntry{domain::JobSettlementEntry(JobId("j1"), UserId(2), Kudos::FromMilli(10'500),
                                               Kudos(), UserId(3), Kudos::FromMilli(12'250),
                                               Kudos(), now)});
    b.Add(PostEntry{domain::UptimeEntry("uptime:1", UserId(2), Kudos::FromWhole(5), true, now)});
    b.Add(AddUserStat{UserId(3), "usage.megapixelsteps", 1.5});
    b.Add(AddUserStat{UserId(3), "usage.megapixelsteps", 2.25});
    ApplyOk(*store, b);

    const Snapshot s = LoadOk(*store);
    EXPECT_EQ(s.balances_milli.at("user:2"), 10'500);
    EXPECT_EQ(s.balances_milli.at("user:3"), -12'250);
    EXPECT_EQ(s.balances_milli.at("escrow:2"), 5'000);
    EXPECT_EQ(s.balances_milli.at(domain::kSysGeneration), -10'500);
    EXPECT_EQ(s.balances_milli.at(domain::kSysSpent), 12'250);
    EXPECT_EQ(s.balances_milli.at(domain::kSysUptime), -5'000);
    EXPECT_EQ(s.user_stats.at(2).at("kudos.accumulated"), 10.5);
    EXPECT_EQ(s.user_stats.at(2).at("kudos.uptime"), 5.0);  // escrow counts toward its user
    EXPECT_EQ(s.user_stats.at(3).at("kudos.used"), -12.25);
    EXPECT_EQ(s.user_stats.at(3).at("usage.megapixelsteps"), 3.75);
    EXPECT_EQ(s.user_stats.size(), 2u);  // system accounts have no stats

    auto has = store->HasEntry("job:j1");
    ASSERT_TRUE(has);
    EXPECT_TRUE(*has);
    auto has_not = store->HasEntry("job:j2");
    ASSERT_TRUE(has_not);
    EXPECT_FALSE(*has_not);
}

TEST(SqliteStoreTest, DuplicateLedgerKeyFailsTheWholeBatch) {
    auto store = OpenOrDie(":memory:");
    ASSERT_NE(store, nullptr);
    const TimePoint now = Ms(1'700'000'000'000);
    ApplyOk(*store, One(PostEntry{domain::GrantEntry("award:1", domain::EntryKind::kAward,
                                                     UserId(1), Kudos::FromWhole(10), now, "")}));
    const Snapshot before = LoadOk(*store);

    Batch b;
    b.Add(PutUser{SimpleUser(9)});
    b.Add(PutRequest{SimpleRequest("r", 1)});
    b.Add(PostEntry{
        domain::TransferEntry("transfer:1", UserId(1), UserId(9), Kudos::FromWhole(3), now)});
    b.Add(AddUserStat{UserId(9), "x", 1});
    b.Add(PostEntry{domain::GrantEntry("award:1", domain::EntryKind::kAward, UserId(9),
                                       Kudos::FromWhole(1), now, "")});
    b.Add(PutSetting{"k", "v"});
    const Status s = store->Apply(b);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, ErrorCode::kBadRequest);
    EXPECT_EQ(s.error().message, "duplicate ledger key award:1");

    const Snapshot after = LoadOk(*store);
    EXPECT_TRUE(after.users.empty());
    EXPECT_TRUE(after.requests.empty());
    EXPECT_TRUE(after.settings.empty());
    EXPECT_EQ(after.balances_milli, before.balances_milli);
    EXPECT_EQ(after.user_stats, before.user_stats);
    auto has = store->HasEntry("transfer:1");
    ASSERT_TRUE(has);
    EXPECT_FALSE(*has);
    const LedgerCheck check = CheckOk(*store);
    EXPECT_EQ(check.entries, 1);
    EXPECT_EQ(check.postings, 2);
}

TEST(SqliteStoreTest, DuplicateKeyWithinOneBatchFailsIt) {
    auto store = OpenOrDie(":memory:");
    ASSERT_NE(store, nullptr);
    const TimePoint now = Ms(1'700'000'000'000);
    Batch b;
    b.Add(PostEntry{domain::TransferEntry("t", UserId(1), UserId(2), Kudos::FromWhole(1), now)});
    b.Add(PostEntry{domain::TransferEntry("t", UserId(1), UserId(2), Kudos::FromWhole(1), now)});
    const Status s = store->Apply(b);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, ErrorCode::kBadRequest);
    EXPECT_EQ(CheckOk(*store).entries, 0);
    EXPECT_TRUE(LoadOk(*store).balances_milli.empty());
}

TEST(SqliteStoreTest, UnbalancedEntryIsRejected) {
    auto store = OpenOrDie(":memory:");
    ASSERT_NE(store, nullptr);
    domain::LedgerEntry e;
    e.key = "bad";
    e.kind = domain::EntryKind::kAdmin;
    e.postings.push_back({"user:1", Kudos::FromMilli(1'000), KudosStat::kAdmin});
    e.postings.push_back({domain::kSysAdmin, Kudos::FromMilli(-999), KudosStat::kNone});
    Batch b;
    b.Add(PutSetting{"k", "v"});
    b.Add(PostEntry{e});
    const Status s = store->Apply(b);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, ErrorCode::kBadRequest);
    EXPECT_EQ(s.error().message, "unbalanced ledger entry bad");
    auto has = store->HasEntry("bad");
    ASSERT_TRUE(has);
    EXPECT_FALSE(*has);
    const Snapshot snap = LoadOk(*store);
    EXPECT_TRUE(snap.settings.empty());
    EXPECT_TRUE(snap.balances_milli.empty());
    EXPECT_TRUE(snap.user_stats.empty());
}

TEST(SqliteStoreTest, ClaimSlotsSetsNAndExpiryAndHandsOutTheParams) {
    auto store = OpenOrDie(":memory:");
    ASSERT_NE(store, nullptr);
    domain::Request r = SimpleRequest("r", 3);
    r.params_json = R"({"steps":30})";
    r.client_agent = "client:1:me";
    ApplyOk(*store, One(PutRequest{r}));

    auto params = std::make_shared<std::string>();
    ApplyOk(*store,
            One(ClaimSlots{
                RequestId("r"), 3, 2, Ms(1'700'002'000'000), params, {SimpleJob("j1", "r")}}));
    EXPECT_EQ(*params, R"({"steps":30})");

    const Snapshot s = LoadOk(*store);
    ASSERT_EQ(s.requests.size(), 1u);
    EXPECT_EQ(s.requests[0].n, 2);
    EXPECT_EQ(s.requests[0].expiry, Ms(1'700'002'000'000));
    // The rest of the request is as it was.
    EXPECT_EQ(s.requests[0].jobs, 3);
    EXPECT_EQ(s.requests[0].prompt, "a prompt");
    EXPECT_EQ(s.requests[0].params_json, R"({"steps":30})");
    EXPECT_EQ(s.requests[0].client_agent, "client:1:me");
    ASSERT_EQ(s.jobs.size(), 1u);
    EXPECT_EQ(s.jobs[0].id.value(), "j1");

    ApplyOk(*store, One(ClaimSlots{RequestId("r"),
                                   2,
                                   0,
                                   Ms(1'700'003'000'000),
                                   nullptr,
                                   {SimpleJob("j2", "r"), SimpleJob("j3", "r")}}));
    const Snapshot after = LoadOk(*store);
    EXPECT_EQ(after.requests.at(0).n, 0);
    EXPECT_EQ(after.requests.at(0).expiry, Ms(1'700'003'000'000));
    EXPECT_EQ(after.jobs.size(), 3u);
}

// A request's row is numbered with its seq, kept by later upserts; a claim carrying the seq reads
// the params from that row, and one whose seq names no row or another request's row still
// finds its own by id.
TEST(SqliteStoreTest, ClaimSlotsFindsTheRequestByItsSeqOrElseByItsId) {
    TempDb db;
    auto store = OpenOrDie(db.path());
    ASSERT_NE(store, nullptr);
    domain::Request a = SimpleRequest("a", 3);
    a.seq = 41;
    a.params_json = R"({"for":"a"})";
    domain::Request b = SimpleRequest("b", 3);
    b.seq = 42;
    b.params_json = R"({"for":"b"})";
    ApplyOk(*store, One(PutRequest{a}));
    ApplyOk(*store, One(PutRequest{b}));
    a.n = 2;
    a.params_json.clear();  // a later upsert carries no params and keeps the row number
    ApplyOk(*store, One(PutRequest{a}));
    {
        RawDb raw(db.path());
        EXPECT_EQ(raw.Scalar("SELECT rowid FROM requests WHERE id = 'a'"), "41");
        EXPECT_EQ(raw.Scalar("SELECT rowid FROM requests WHERE id = 'b'"), "42");
    }
    auto claim = [&](const std::string& id, int64_t seq, const std::string& job) {
        auto params = std::make_shared<std::string>();
        ClaimSlots c{RequestId(id), 3, 1, Ms(1'700'002'000'000), params, {SimpleJob(job, id)}};
        c.request_seq = seq;
        ApplyOk(*store, One(std::move(c)));
        return *params;
    };
    EXPECT_EQ(claim("a", 41, "j1"), R"({"for":"a"})");
    EXPECT_EQ(claim("b", 42, "j2"), R"({"for":"b"})");
    EXPECT_EQ(claim("a", 42, "j3"), R"({"for":"a"})");  // b's row: found by id
    EXPECT_EQ(claim("b", 7, "j4"), R"({"for":"b"})");   // no such row: found by id
    EXPECT_EQ(claim("b", 0, "j5"), R"({"for":"b"})");   // no seq: by id
    // Gone is gone, whichever way it is looked up.
    ApplyOk(*store, One(DeleteRequest{RequestId("a"), {JobId("j1"), JobId("j3")}}));
    ClaimSlots gone{RequestId("a"), 3, 1, Ms(1'700'002'000'000), nullptr, {SimpleJob("j6", "a")}};
    gone.request_seq = 41;
    EXPECT_FALSE(store->Apply(One(std::move(gone))));
    // A request without a seq (tools, tests) gets a row number of SQLite's choosing.
    ApplyOk(*store, One(PutRequest{SimpleRequest("c", 1)}));
    EXPECT_EQ(claim("c", 0, "j7"), "");
}

// A claim is appended (its jobs carry it) and the request's row is left alone; whichever of the
// request's full writes and its claims came last decides n and expiry, across reopens too.
TEST(SqliteStoreTest, TheLastOfFullWritesAndClaimsDecidesAcrossReopens) {
    TempDb db;
    domain::Request r = SimpleRequest("r", 4);
    auto n_of = [&](SqliteStore& store) { return LoadOk(store).requests.at(0).n; };
    {
        auto store = OpenOrDie(db.path());
        ASSERT_NE(store, nullptr);
        ApplyOk(*store, One(PutRequest{r}));
        ApplyOk(*store,
                One(ClaimSlots{
                    RequestId("r"), 4, 3, Ms(1'700'002'000'000), nullptr, {SimpleJob("j1", "r")}}));
        EXPECT_EQ(n_of(*store), 3);
        {
            RawDb raw(db.path());
            EXPECT_EQ(raw.Scalar("SELECT n FROM requests"), "4");  // the row was not rewritten
        }
        r.n = 4;  // the job timed out: its slot is back
        ApplyOk(*store, One(PutRequest{r}));
        EXPECT_EQ(n_of(*store), 4);
    }
    {
        auto store = OpenOrDie(db.path());
        ASSERT_NE(store, nullptr);
        EXPECT_EQ(n_of(*store), 4);
        // After a reopen, sequence numbers go on from the file's.
        ApplyOk(*store, One(ClaimSlots{RequestId("r"),
                                       4,
                                       2,
                                       Ms(1'700'004'000'000),
                                       nullptr,
                                       {SimpleJob("j2", "r"), SimpleJob("j3", "r")}}));
        EXPECT_EQ(n_of(*store), 2);
        EXPECT_EQ(LoadOk(*store).requests.at(0).expiry, Ms(1'700'004'000'000));
    }
    {
        auto store = OpenOrDie(db.path());
        ASSERT_NE(store, nullptr);
        EXPECT_EQ(n_of(*store), 2);
        r.n = 3;
        ApplyOk(*store, One(PutRequest{r}));
    }
    auto store = OpenOrDie(db.path());
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(n_of(*store), 3);
}

TEST(SqliteStoreTest, ClaimSlotsFailsWhenTheRequestIsGoneAndWritesNothing) {
    auto store = OpenOrDie(":memory:");
    ASSERT_NE(store, nullptr);
    const domain::Request r = SimpleRequest("r", 3);
    ApplyOk(*store, One(PutRequest{r}));
    ApplyOk(*store, One(DeleteRequest{RequestId("r"), {}}));

    Batch b;
    b.Add(PutSetting{"k", "v"});
    b.Add(ClaimSlots{RequestId("r"), 3, 2, r.expiry, nullptr, {SimpleJob("j1", "r")}});
    const Status s = store->Apply(b);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, ErrorCode::kBadRequest);
    EXPECT_TRUE(s.error().message.starts_with("precondition failed")) << s.error().message;
    const Snapshot snap = LoadOk(*store);
    EXPECT_TRUE(snap.jobs.empty());
    EXPECT_TRUE(snap.settings.empty());

    // A claim's jobs are of its request.
    ApplyOk(*store, One(PutRequest{r}));
    EXPECT_FALSE(store->Apply(
        One(ClaimSlots{RequestId("r"), 3, 2, r.expiry, nullptr, {SimpleJob("j1", "other")}})));
    EXPECT_TRUE(LoadOk(*store).jobs.empty());
}

TEST(SqliteStoreTest, ClaimSlotsSeesEarlierMutationsOfTheSameBatch) {
    auto store = OpenOrDie(":memory:");
    ASSERT_NE(store, nullptr);
    domain::Request r = SimpleRequest("r", 3);
    Batch b;
    b.Add(PutRequest{r});
    b.Add(ClaimSlots{RequestId("r"), 3, 2, r.expiry, nullptr, {SimpleJob("j1", "r")}});
    b.Add(ClaimSlots{RequestId("r"), 2, 1, r.expiry, nullptr, {SimpleJob("j2", "r")}});
    ApplyOk(*store, b);
    EXPECT_EQ(LoadOk(*store).requests.at(0).n, 1);
    // Without jobs to carry it, a claim updates the request's row.
    ApplyOk(*store, One(ClaimSlots{RequestId("r"), 1, 0, Ms(1'700'005'000'000), nullptr, {}}));
    EXPECT_EQ(LoadOk(*store).requests.at(0).n, 0);
    EXPECT_EQ(LoadOk(*store).requests.at(0).expiry, Ms(1'700'005'000'000));
}

TEST(SqliteStoreTest, MigrationDropsTheJobsForeignKeyAndKeepsTheJobs) {
    TempDb db;
    {
        auto store = OpenOrDie(db.path());
        ASSERT_NE(store, nullptr);
        Batch b;
        b.Add(PutRequest{SimpleRequest("r", 2)});
        b.Add(PutJob{SimpleJob("j1", "r")});
        b.Add(PutJob{SimpleJob("j2", "r")});
        ApplyOk(*store, b);
    }
    {
        // Back to schema 4: jobs with a foreign key and a request index, no write sequence.
        RawDb raw(db.path());
        raw.Exec("ALTER TABLE requests DROP COLUMN write_seq");
        raw.Exec(R"(CREATE TABLE jobs_v4 (
            id TEXT PRIMARY KEY,
            request_id TEXT NOT NULL
                REFERENCES requests (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
            worker_id TEXT NOT NULL, state TEXT NOT NULL, data TEXT NOT NULL))");
        raw.Exec("INSERT INTO jobs_v4 SELECT id, request_id, worker_id, state, data FROM jobs");
        raw.Exec("DROP TABLE jobs");
        raw.Exec("ALTER TABLE jobs_v4 RENAME TO jobs");
        raw.Exec("CREATE INDEX jobs_request ON jobs (request_id)");
        raw.Exec("UPDATE meta SET value = '4' WHERE key = 'schema_version'");
    }
    {
        auto store = OpenOrDie(db.path());
        ASSERT_NE(store, nullptr);
        const Snapshot s = LoadOk(*store);
        ASSERT_EQ(s.requests.size(), 1u);
        EXPECT_EQ(s.requests[0].n, 2);
        ASSERT_EQ(s.jobs.size(), 2u);
        EXPECT_EQ(s.jobs[0].id.value(), "j1");
        EXPECT_EQ(s.jobs[1].id.value(), "j2");
    }
    RawDb raw(db.path());
    EXPECT_EQ(raw.Scalar("SELECT count(*) FROM pragma_foreign_key_list('jobs')"), "0");
    EXPECT_EQ(raw.Scalar("SELECT count(*) FROM pragma_index_list('jobs') "
                         "WHERE name = 'jobs_request'"),
              "0");
}

TEST(SqliteStoreTest, MigrationNumbersRequestRowsWithTheirSeq) {
    TempDb db;
    {
        auto store = OpenOrDie(db.path());
        ASSERT_NE(store, nullptr);
        for (const auto& [id, seq] : std::vector<std::pair<std::string, int64_t>>{
                 {"r1", 0}, {"r2", 0}, {"r3", 0}, {"r4", 0}}) {
            domain::Request r = SimpleRequest(id, 1);
            r.seq = seq;
            r.params_json = "{\"id\":\"" + id + "\"}";
            ApplyOk(*store, One(PutRequest{r}));
        }
    }
    {
        // Back to schema 5: rows numbered by SQLite (1..4), seqs set as the service did, one
        // of them held twice (never written so, but the migration must not fail on it).
        RawDb raw(db.path());
        raw.Exec("UPDATE requests SET seq = 3 WHERE id = 'r1'");
        raw.Exec("UPDATE requests SET seq = 1 WHERE id = 'r2'");
        raw.Exec("UPDATE requests SET seq = 9 WHERE id IN ('r3', 'r4')");
        raw.Exec("UPDATE meta SET value = '5' WHERE key = 'schema_version'");
    }
    auto store = OpenOrDie(db.path());
    ASSERT_NE(store, nullptr);
    {
        RawDb raw(db.path());
        EXPECT_EQ(raw.Scalar("SELECT rowid FROM requests WHERE id = 'r1'"), "3");
        EXPECT_EQ(raw.Scalar("SELECT rowid FROM requests WHERE id = 'r2'"), "1");
        EXPECT_EQ(raw.Scalar("SELECT count(*) FROM requests WHERE rowid < 0"), "2");
        EXPECT_EQ(raw.Scalar("SELECT value FROM meta WHERE key = 'schema_version'"),
                  std::to_string(sqlite_schema::kLatestVersion));
    }
    EXPECT_EQ(LoadOk(*store).requests.size(), 4u);
    for (const auto& [id, seq] :
         std::vector<std::pair<std::string, int64_t>>{{"r1", 3}, {"r2", 1}, {"r3", 9}, {"r4", 9}}) {
        auto params = std::make_shared<std::string>();
        ClaimSlots c{RequestId(id), 1, 0, Ms(1'700'002'000'000), params, {SimpleJob("j" + id, id)}};
        c.request_seq = seq;
        ApplyOk(*store, One(std::move(c)));
        EXPECT_EQ(*params, "{\"id\":\"" + id + "\"}") << id;
    }
    // A new request takes its own seq as row number.
    domain::Request r5 = SimpleRequest("r5", 1);
    r5.seq = 10;
    ApplyOk(*store, One(PutRequest{r5}));
    RawDb raw(db.path());
    EXPECT_EQ(raw.Scalar("SELECT rowid FROM requests WHERE id = 'r5'"), "10");
}

TEST(SqliteStoreTest, NextUserIdFollowsTheLargestId) {
    auto store = OpenOrDie(":memory:");
    ASSERT_NE(store, nullptr);
    Batch b;
    b.Add(PutUser{SimpleUser(9)});
    b.Add(PutUser{SimpleUser(5)});
    ApplyOk(*store, b);
    const Snapshot s = LoadOk(*store);
    EXPECT_EQ(s.next_user_id, 10);
    ASSERT_EQ(s.users.size(), 2u);
    EXPECT_EQ(s.users[0].id.value(), 5);  // ordered by id
}

TEST(SqliteStoreTest, CheckLedgerIsCleanAfterManyEntries) {
    auto store = OpenOrDie(":memory:");
    ASSERT_NE(store, nullptr);
    const TimePoint now = Ms(1'700'000'000'000);
    int64_t postings = 0;
    constexpr int kRounds = 100;
    for (int i = 0; i < kRounds; ++i) {
        Batch b;
        const auto job = JobId("job" + std::to_string(i));
        b.Add(PostEntry{domain::JobSettlementEntry(
            job, UserId(i % 7 + 1), Kudos::FromMilli(1'000 + i), Kudos(), UserId(i % 5 + 1),
            Kudos::FromMilli(1'234 + 3 * i), Kudos(), now)});
        b.Add(PostEntry{domain::UptimeEntry("up" + std::to_string(i), UserId(i % 3 + 1),
                                            Kudos::FromMilli(777), i % 2 == 0, now)});
        b.Add(PostEntry{domain::TransferEntry("tr" + std::to_string(i), UserId(1), UserId(2),
                                              Kudos::FromMilli(i), now)});
        b.Add(PostEntry{domain::GrantEntry("adm" + std::to_string(i), domain::EntryKind::kAdmin,
                                           UserId(4), Kudos::FromMilli(-i), now, "memo")});
        b.Add(PostEntry{domain::ActivationEntry(RequestId("r" + std::to_string(i)), UserId(3),
                                                Kudos::FromMilli(10), Kudos(), now)});
        postings += 4 + 2 + 2 + 2 + 2;
        ApplyOk(*store, b);
    }
    const LedgerCheck check = CheckOk(*store);
    EXPECT_EQ(check.entries, 5 * kRounds);
    EXPECT_EQ(check.postings, postings);
    EXPECT_EQ(check.sum_milli, 0);
    EXPECT_EQ(check.unbalanced_entries, 0);
    EXPECT_TRUE(check.drift_milli.empty());

    int64_t total = 0;
    for (const auto& [account, balance] : LoadOk(*store).balances_milli) {
        total += balance;
    }
    EXPECT_EQ(total, 0);
}

TEST(SqliteStoreTest, CheckLedgerDetectsCorruption) {
    TempDb db;
    auto store = OpenOrDie(db.path());
    ASSERT_NE(store, nullptr);
    const TimePoint now = Ms(1'700'000'000'000);
    Batch b;
    b.Add(PostEntry{domain::TransferEntry("t1", UserId(1), UserId(2), Kudos::FromWhole(5), now)});
    b.Add(PostEntry{domain::GrantEntry("g1", domain::EntryKind::kAward, UserId(3),
                                       Kudos::FromWhole(7), now, "")});
    ApplyOk(*store, b);
    EXPECT_TRUE(CheckOk(*store).drift_milli.empty());

    RawDb raw(db.path());
    raw.Exec("UPDATE balances SET balance_milli = balance_milli + 7 WHERE account = 'user:1'");
    raw.Exec("DELETE FROM balances WHERE account = 'user:3'");
    raw.Exec("INSERT INTO balances (account, balance_milli) VALUES ('user:99', -11)");
    const LedgerCheck drifted = CheckOk(*store);
    EXPECT_EQ(drifted.sum_milli, 0);
    EXPECT_EQ(drifted.unbalanced_entries, 0);
    const std::map<std::string, int64_t> expected{
        {"user:1", 7}, {"user:3", -7'000}, {"user:99", -11}};
    EXPECT_EQ(drifted.drift_milli, expected);

    // A posting slipped into an entry behind the store's back unbalances it.
    raw.Exec(
        "INSERT INTO ledger_postings (entry_id, account, amount_milli, stat) "
        "SELECT id, 'user:2', 5, '' FROM ledger_entries WHERE key = 't1'");
    const LedgerCheck unbalanced = CheckOk(*store);
    EXPECT_EQ(unbalanced.entries, 2);
    EXPECT_EQ(unbalanced.postings, 5);
    EXPECT_EQ(unbalanced.sum_milli, 5);
    EXPECT_EQ(unbalanced.unbalanced_entries, 1);
    EXPECT_EQ(unbalanced.drift_milli.at("user:2"), -5);
}

TEST(SqliteStoreTest, DataSurvivesCloseAndReopen) {
    TempDb db;
    {
        auto store = OpenOrDie(db.path());
        ASSERT_NE(store, nullptr);
        Batch b;
        b.Add(PutUser{FullUser()});
        b.Add(PutWorker{FullWorker()});
        b.Add(PutRequest{FullRequest()});
        b.Add(PutJob{FullJob()});
        b.Add(PutSetting{"k", "v"});
        b.Add(PostEntry{
            domain::TransferEntry("t", UserId(42), UserId(1), Kudos::FromMilli(1'500), Ms(1))});
        ApplyOk(*store, b);
    }
    auto store = OpenOrDie(db.path());
    ASSERT_NE(store, nullptr);
    const Snapshot s = LoadOk(*store);
    ASSERT_EQ(s.users.size(), 1u);
    ExpectSame(s.users[0], FullUser());
    ASSERT_EQ(s.workers.size(), 1u);
    ExpectSame(s.workers[0], FullWorker());
    ASSERT_EQ(s.requests.size(), 1u);
    ExpectSame(s.requests[0], FullRequest());
    ASSERT_EQ(s.jobs.size(), 1u);
    ExpectSame(s.jobs[0], FullJob());
    EXPECT_EQ(s.settings.at("k"), "v");
    EXPECT_EQ(s.balances_milli.at("user:1"), 1'500);
    EXPECT_EQ(s.user_stats.at(42).at("kudos.gifted"), -1.5);
    auto has = store->HasEntry("t");
    ASSERT_TRUE(has);
    EXPECT_TRUE(*has);
    auto version = store->SchemaVersion();
    ASSERT_TRUE(version);
    EXPECT_EQ(*version, sqlite_schema::kLatestVersion);

    RawDb raw(db.path());
    EXPECT_EQ(raw.Scalar("PRAGMA journal_mode"), "wal");
    EXPECT_EQ(raw.Scalar("PRAGMA auto_vacuum"), "2");  // INCREMENTAL
}

TEST(SqliteStoreTest, RefusesADatabaseFromANewerBuild) {
    TempDb db;
    {
        auto store = OpenOrDie(db.path());
        ASSERT_NE(store, nullptr);
    }
    {
        RawDb raw(db.path());
        raw.Exec("UPDATE meta SET value = '999' WHERE key = 'schema_version'");
    }
    auto store = SqliteStore::Open(db.path());
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, ErrorCode::kStoreUnavailable);
    EXPECT_NE(store.error().message.find("999"), std::string::npos);
}

TEST(SqliteStoreTest, OpenFailureIsAnError) {
    auto store = SqliteStore::Open("/nonexistent-dir/sub/horde.db");
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, ErrorCode::kStoreUnavailable);
    EXPECT_FALSE(store.error().message.empty());
}

// Writers never checkpoint (their commits would pause every other writer for two fsyncs): the
// background checkpointer copies the WAL into the database file by itself, within a second.
TEST(SqliteStoreTest, BackgroundCheckpointerCopiesTheWalIntoTheDatabaseFile) {
    TempDb db;
    auto store = OpenOrDie(db.path());
    ASSERT_NE(store, nullptr);
    const uintmax_t before = SizeOrZero(db.path());
    // About 2 MiB of rows, in many commits (more than SQLite's own 1,000-page autocheckpoint).
    for (int i = 0; i < 400; ++i) {
        Batch b;
        for (int j = 0; j < 5; ++j) {
            const std::string id = "r" + std::to_string(i) + "_" + std::to_string(j);
            b.Add(PutRequest{SimpleRequest(id, 1, std::string(900, 'p'))});
        }
        ApplyOk(*store, b);
    }
    EXPECT_GT(SizeOrZero(db.wal()), uintmax_t{1} << 20);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (SizeOrZero(db.path()) < before + (uintmax_t{1} << 20) &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_GE(SizeOrZero(db.path()), before + (uintmax_t{1} << 20));
    EXPECT_EQ(LoadOk(*store).requests.size(), 2000u);
}

// Under writes that never pause (no gap for an unheld checkpoint to finish in) the WAL still
// rewinds: the checkpointer catches up, syncs, then holds the writer for the last few frames.
// Each commit writes at least one 4 KiB frame, so 15,000 of them write 60 MiB or more to the WAL
// (~180 MiB measured with the held round left out). With a rewind due every 200 frames the file
// peaks at 7-14 MiB: the writer goes on while the catch-up rounds fsync.
TEST(SqliteStoreTest, WalRewindsUnderWritesThatNeverPause) {
    TempDb db;
    SqliteStore::CheckpointSettings fast;
    fast.interval = std::chrono::milliseconds(5);
    fast.wal_rewind_frames = 200;
    auto opened = SqliteStore::Open(db.path(), fast);
    ASSERT_TRUE(opened) << opened.error().message;
    auto& store = *opened.value();
    constexpr int kCommits = 15'000;
    std::uintmax_t wal_max = 0;
    for (int i = 0; i < kCommits; ++i) {
        Batch b;
        b.Add(PutRequest{SimpleRequest("r" + std::to_string(i), 1, std::string(300, 'p'))});
        ApplyOk(store, b);
        if (i % 50 == 0) {
            wal_max = std::max(wal_max, SizeOrZero(db.wal()));
        }
    }
    EXPECT_LT(wal_max, std::uintmax_t{32} << 20);
    EXPECT_EQ(LoadOk(store).requests.size(), static_cast<size_t>(kCommits));
}

TEST(SqliteStoreTest, DeletedPromptIsGoneFromTheFilesAfterCompact) {
    TempDb db;
    auto store = OpenOrDie(db.path());
    ASSERT_NE(store, nullptr);
    const std::string short_marker = "UNIQUE-PROMPT-7f3a9c-short";
    const std::string long_marker = "UNIQUE-PROMPT-7f3a9c-long";
    const std::string gen_marker = "UNIQUE-GENERATION-51be02";
    // The long prompt spans overflow pages, which are freed rather than edited in place.
    std::string long_prompt = long_marker;
    for (int i = 0; i < 2'000; ++i) {
        long_prompt += " " + long_marker + std::to_string(i);
    }
    domain::Job job = SimpleJob("j1", "r1");
    job.generation = gen_marker;
    Batch b;
    b.Add(PutRequest{SimpleRequest("r1", 1, short_marker)});
    b.Add(PutRequest{SimpleRequest("r2", 1, long_prompt)});
    b.Add(PutRequest{SimpleRequest("keep", 1, "kept prompt")});
    b.Add(PutJob{job});
    ApplyOk(*store, b);
    ASSERT_TRUE(store->Compact());  // moves everything into the main file
    const std::string before = ReadBytes(db.path());
    ASSERT_NE(before.find(short_marker), std::string::npos);  // the scan can see it
    ASSERT_NE(before.find(long_marker), std::string::npos);
    ASSERT_NE(before.find(gen_marker), std::string::npos);

    Batch del;
    del.Add(DeleteRequest{RequestId("r1"), {JobId("j1")}});
    del.Add(DeleteRequest{RequestId("r2"), {}});
    ApplyOk(*store, del);
    ASSERT_TRUE(store->Compact());

    for (const std::string& path : {db.path(), db.wal()}) {
        const std::string bytes = ReadBytes(path);
        EXPECT_EQ(bytes.find(short_marker), std::string::npos) << path;
        EXPECT_EQ(bytes.find(long_marker), std::string::npos) << path;
        EXPECT_EQ(bytes.find(gen_marker), std::string::npos) << path;
    }
    EXPECT_EQ(std::filesystem::file_size(db.wal()), 0u);
    RawDb raw(db.path());
    EXPECT_EQ(raw.Scalar("PRAGMA freelist_count"), "0");
    EXPECT_EQ(LoadOk(*store).requests.size(), 1u);
}

TEST(SqliteStoreTest, ConcurrentAppliesAreSerialised) {
    TempDb db;
    auto store = OpenOrDie(db.path());
    ASSERT_NE(store, nullptr);
    constexpr int kThreads = 8;
    constexpr int kEntriesPerThread = 50;
    std::atomic<int> failures{0};
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < kEntriesPerThread; ++i) {
                    const std::string key = "t" + std::to_string(t) + ":" + std::to_string(i);
                    Batch b;
                    b.Add(PostEntry{domain::TransferEntry(key, UserId(t + 1), UserId(t + 2),
                                                          Kudos::FromMilli(i + 1), Ms(i))});
                    b.Add(AddUserStat{UserId(100), "count", 1});
                    if (!store->Apply(b)) {
                        ++failures;
                    }
                    if (!store->Load()) {
                        ++failures;
                    }
                }
            });
        }
    }
    EXPECT_EQ(failures.load(), 0);
    const LedgerCheck check = CheckOk(*store);
    EXPECT_EQ(check.entries, kThreads * kEntriesPerThread);
    EXPECT_EQ(check.sum_milli, 0);
    EXPECT_TRUE(check.drift_milli.empty());
    EXPECT_EQ(LoadOk(*store).user_stats.at(100).at("count"), kThreads * kEntriesPerThread);
}

}  // namespace
}  // namespace horde::store

#include "client/json_codec.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace horde::client {
namespace {

boost::json::object Parse(const std::string& s) { return boost::json::parse(s).as_object(); }

TEST(EncodeImageRequest, SendsOnlyWhatIsSet) {
    ImageRequest r;
    r.prompt = "a cat";
    auto body = EncodeImageRequest(r);
    ASSERT_TRUE(body) << body.error().ToString();
    EXPECT_EQ(*body, R"({"prompt":"a cat","params":{}})");
}

TEST(EncodeImageRequest, EveryField) {
    ImageRequest r;
    r.prompt = "a cat";
    r.negative_prompt = "dogs";
    r.params.sampler_name = "k_dpmpp_2m";
    r.params.cfg_scale = 7.5;
    r.params.denoising_strength = 0.75;
    r.params.hires_fix_denoising_strength = 0.5;
    r.params.width = 768;
    r.params.height = 512;
    r.params.steps = 25;
    r.params.n = 2;
    r.params.seed = "1234";
    r.params.seed_variation = 3;
    r.params.post_processing = std::vector<std::string>{"GFPGAN"};
    r.params.karras = false;
    r.params.tiling = true;
    r.params.hires_fix = true;
    r.params.transparent = false;
    r.params.clip_skip = 2;
    r.params.facefixer_strength = 0.4;
    r.params.control_type = "canny";
    r.params.image_is_control = true;
    r.params.return_control_map = false;
    r.params.loras = std::vector<Lora>{{"123", 1.0, 0.5, "any", true}};
    r.params.tis = std::vector<TextualInversion>{{"ti1", "negprompt", 0.8}};
    r.params.workflow = "qr_code";
    r.params.extra_texts = std::vector<ExtraText>{{"https://x", "qr_code"}};
    r.params.special_json = R"({"k":1})";
    r.params.extra_json = R"({"scheduler":"simple"})";
    r.models = std::vector<std::string>{"stable_diffusion"};
    r.nsfw = false;
    r.censor_nsfw = true;
    r.trusted_workers = true;
    r.validated_backends = false;
    r.slow_workers = false;
    r.extra_slow_workers = true;
    r.workers = std::vector<std::string>{"w1"};
    r.worker_blacklist = true;
    r.source_image = "aGk=";
    r.source_processing = "inpainting";
    r.source_mask = "bWFzaw==";
    r.extra_source_images = std::vector<ExtraSourceImage>{{"eA==", 0.5}};
    r.r2 = false;
    r.shared = true;
    r.replacement_filter = false;
    r.dry_run = true;
    r.proxied_account = "p";
    r.disable_batching = true;
    r.allow_downgrade = true;
    r.webhook = "https://example.com/hook";
    r.style = "s";
    r.extra_json = R"({"future_field":true})";
    auto body = EncodeImageRequest(r);
    ASSERT_TRUE(body) << body.error().ToString();
    auto o = Parse(*body);
    EXPECT_EQ(o["prompt"].as_string(), "a cat ### dogs");
    auto& p = o["params"].as_object();
    EXPECT_EQ(p["sampler_name"].as_string(), "k_dpmpp_2m");
    EXPECT_DOUBLE_EQ(p["cfg_scale"].as_double(), 7.5);
    EXPECT_EQ(p["width"].as_int64(), 768);
    EXPECT_EQ(p["seed"].as_string(), "1234");  // seeds are strings on the wire
    EXPECT_EQ(p["post_processing"].as_array().size(), 1u);
    EXPECT_EQ(p["karras"].as_bool(), false);
    EXPECT_EQ(p["loras"].as_array()[0].as_object()["inject_trigger"].as_string(), "any");
    EXPECT_EQ(p["loras"].as_array()[0].as_object()["is_version"].as_bool(), true);
    EXPECT_EQ(p["tis"].as_array()[0].as_object()["inject_ti"].as_string(), "negprompt");
    EXPECT_EQ(p["extra_texts"].as_array()[0].as_object()["reference"].as_string(), "qr_code");
    EXPECT_EQ(p["special"].as_object()["k"].as_int64(), 1);
    EXPECT_EQ(p["scheduler"].as_string(), "simple");
    EXPECT_EQ(p.size(), 26u);
    EXPECT_EQ(o["models"].as_array()[0].as_string(), "stable_diffusion");
    EXPECT_EQ(o["nsfw"].as_bool(), false);
    EXPECT_EQ(o["extra_source_images"].as_array()[0].as_object()["strength"].as_double(), 0.5);
    EXPECT_EQ(o["r2"].as_bool(), false);
    EXPECT_EQ(o["webhook"].as_string(), "https://example.com/hook");
    EXPECT_EQ(o["future_field"].as_bool(), true);
    EXPECT_EQ(o.size(), 25u);
    // Numbers keep their plain form: "7.5", never "7.5E0".
    EXPECT_NE(body->find("\"cfg_scale\":7.5"), std::string::npos) << *body;
}

TEST(EncodeImageRequest, RejectsEmptyPromptAndBadExtraJson) {
    ImageRequest r;
    auto empty = EncodeImageRequest(r);
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().kind, ErrorKind::kInvalidArgument);
    r.prompt = "x";
    r.extra_json = "[1]";
    auto bad = EncodeImageRequest(r);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().kind, ErrorKind::kInvalidArgument);
}

TEST(EncodeTextRequest, EveryParam) {
    TextRequest r;
    r.prompt = "Once";
    r.params.n = 1;
    r.params.max_context_length = 1024;
    r.params.max_length = 50;
    r.params.rep_pen = 1.1;
    r.params.rep_pen_range = 320;
    r.params.rep_pen_slope = 0.7;
    r.params.temperature = 0.8;
    r.params.tfs = 1.0;
    r.params.top_a = 0.0;
    r.params.top_k = 40;
    r.params.top_p = 0.9;
    r.params.typical = 1.0;
    r.params.min_p = 0.05;
    r.params.smoothing_factor = 0.0;
    r.params.dynatemp_range = 0.0;
    r.params.dynatemp_exponent = 1.0;
    r.params.frmtadsnsp = false;
    r.params.frmtrmblln = false;
    r.params.frmtrmspch = false;
    r.params.frmttriminc = false;
    r.params.singleline = true;
    r.params.use_default_badwordsids = false;
    r.params.sampler_order = std::vector<int>{6, 0, 1, 3, 4, 2, 5};
    r.params.stop_sequence = std::vector<std::string>{"\nUser:"};
    r.models = std::vector<std::string>{"koboldcpp/x"};
    r.softprompt = "sp";
    r.trusted_workers = true;
    auto body = EncodeTextRequest(r);
    ASSERT_TRUE(body) << body.error().ToString();
    auto o = Parse(*body);
    auto& p = o["params"].as_object();
    EXPECT_EQ(p.size(), 24u);
    EXPECT_EQ(p["max_length"].as_int64(), 50);
    EXPECT_EQ(p["top_k"].as_int64(), 40);
    EXPECT_EQ(p["sampler_order"].as_array().size(), 7u);
    EXPECT_EQ(p["stop_sequence"].as_array()[0].as_string(), "\nUser:");
    EXPECT_EQ(o["softprompt"].as_string(), "sp");
    EXPECT_EQ(o["trusted_workers"].as_bool(), true);
}

TEST(EncodeTransfer, WholeAmountsAreIntegers) {
    EXPECT_EQ(EncodeTransfer("bob#2", 10), R"({"username":"bob#2","amount":10})");
    EXPECT_EQ(EncodeTransfer("bob#2", 1.5), R"({"username":"bob#2","amount":1.5})");
}

TEST(DecodeAsync, IdKudosWarnings) {
    auto r = DecodeAsyncResponse(
        R"({"id":"abc","kudos":11.0,"message":"no worker","warnings":[{"code":"NoAvailableWorker","message":"m"}]})");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->id, "abc");
    EXPECT_DOUBLE_EQ(r->kudos, 11.0);
    EXPECT_EQ(r->message, "no worker");
    ASSERT_EQ(r->warnings.size(), 1u);
    EXPECT_EQ(r->warnings[0].code, "NoAvailableWorker");
    auto dry = DecodeAsyncResponse(R"({"kudos": 7})");
    ASSERT_TRUE(dry);
    EXPECT_TRUE(dry->id.empty());
    EXPECT_DOUBLE_EQ(dry->kudos, 7);
}

// The exact shape the reference marshals for /generate/check (contract §1.1, notes §3).
TEST(DecodeStatus, ReferenceCheckShape) {
    auto s = DecodeRequestStatus(
        R"({"finished":1,"processing":1,"restarted":0,"waiting":2,"done":false,"faulted":false,)"
        R"("wait_time":12,"queue_position":3,"kudos":10.0,"is_possible":true})");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->finished, 1);
    EXPECT_EQ(s->processing, 1);
    EXPECT_EQ(s->waiting, 2);
    EXPECT_FALSE(s->done);
    EXPECT_EQ(s->wait_time_s, 12);
    EXPECT_EQ(s->queue_position, 3);
    EXPECT_DOUBLE_EQ(s->kudos, 10.0);
    EXPECT_TRUE(s->is_possible);
}

TEST(DecodeStatus, ToleratesOddTypesAndMissingFields) {
    auto s = DecodeRequestStatus(R"({"finished":"2","done":1,"kudos":3,"wait_time":4.9,"x":[]})");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->finished, 2);
    EXPECT_TRUE(s->done);
    EXPECT_DOUBLE_EQ(s->kudos, 3);
    EXPECT_EQ(s->wait_time_s, 4);
    EXPECT_TRUE(s->is_possible);  // absent = assume possible
    EXPECT_FALSE(DecodeRequestStatus("[1]"));
    auto html = DecodeRequestStatus("<html>");
    ASSERT_FALSE(html);
    EXPECT_EQ(html.error().kind, ErrorKind::kInvalidResponse);
}

TEST(DecodeImageStatus, Generations) {
    auto s = DecodeImageStatus(
        R"({"finished":1,"processing":0,"restarted":0,"waiting":0,"done":true,"faulted":false,)"
        R"("wait_time":0,"queue_position":0,"kudos":12.0,"is_possible":true,"shared":false,)"
        R"("generations":[{"img":"https://r2.example/x.webp?sig=1","seed":"3456","id":"g1",)"
        R"("censored":false,"gen_metadata":[{"type":"lora","value":"download_failed","ref":"7"}],)"
        R"("worker_id":"w1","worker_name":"gpu box","model":"stable_diffusion","state":"ok"},)"
        R"({"img":"UklGRg==","seed":"7","id":"g2","censored":true,"gen_metadata":[],)"
        R"("worker_id":"w1","worker_name":"gpu box","model":"stable_diffusion","state":"ok"}]})");
    ASSERT_TRUE(s);
    ASSERT_EQ(s->generations.size(), 2u);
    const auto& g = s->generations[0];
    EXPECT_TRUE(g.IsUrl());
    EXPECT_EQ(g.seed, "3456");
    EXPECT_EQ(g.worker_name, "gpu box");
    ASSERT_EQ(g.gen_metadata.size(), 1u);
    EXPECT_EQ(g.gen_metadata[0].ref, "7");
    EXPECT_FALSE(s->generations[1].IsUrl());
    EXPECT_TRUE(s->generations[1].censored);
}

TEST(DecodeTextStatus, IntegerSeedNoId) {
    auto s = DecodeTextStatus(
        R"({"finished":1,"processing":0,"restarted":0,"waiting":0,"done":true,"faulted":false,)"
        R"("wait_time":0,"queue_position":0,"kudos":3.0,"is_possible":true,)"
        R"("generations":[{"text":"The end.","seed":0,"gen_metadata":[],"worker_id":"w",)"
        R"("worker_name":"n","model":"koboldcpp/m","state":"ok"}]})");
    ASSERT_TRUE(s);
    ASSERT_EQ(s->generations.size(), 1u);
    EXPECT_EQ(s->generations[0].text, "The end.");
    EXPECT_EQ(s->generations[0].seed, 0);
    EXPECT_TRUE(s->generations[0].id.empty());
    s->id = "req";
    auto again = DecodeTextStatus(ToJson(*s));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->generations[0].text, "The end.");
    EXPECT_NE(ToJson(*s).find(R"("id":"req")"), std::string::npos);
}

// The verified privilege-0 example of notes §3 plus the self-view fields.
TEST(DecodeUser, ReferenceShape) {
    auto u = DecodeUser(
        R"({"username":"test_user#1","id":1,"kudos":10000.0,"concurrency":30,"worker_invited":0,)"
        R"("moderator":true,"kudos_details":{"accumulated":0,"gifted":0,"donated":0,"admin":0,)"
        R"("received":5.0,"recurring":0,"awarded":0,"styled":0},"worker_count":0,"styles":[],)"
        R"("trusted":true,"flagged":false,"service":false,"education":false,"customizer":false,)"
        R"("deleted":false,"pseudonymous":false,"account_age":12,)"
        R"("usage":{"megapixelsteps":null,"requests":null},)"
        R"("contributions":{"megapixelsteps":null,"fulfillments":null},)"
        R"("records":{"usage":{"megapixelsteps":1.5,"tokens":20},"contribution":{"megapixelsteps":0,)"
        R"("tokens":0},"fulfillment":{"image":0,"text":0,"interrogation":0},"request":{"image":3,)"
        R"("text":2,"interrogation":0},"style":{"image":0,"text":0,"interrogation":0}},)"
        R"("worker_ids":["w1"],"sharedkey_ids":[],"active_generations":{"image":["r1"],"text":[]}})");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->username, "test_user#1");
    EXPECT_EQ(u->id, 1);
    EXPECT_DOUBLE_EQ(u->kudos, 10000);
    EXPECT_TRUE(u->moderator);
    EXPECT_DOUBLE_EQ(u->kudos_details.at("received"), 5.0);
    EXPECT_EQ(u->records.request_image, 3);
    EXPECT_EQ(u->records.usage_tokens, 20);
    EXPECT_EQ(u->account_age_s, 12);
    EXPECT_EQ(u->worker_ids, std::vector<std::string>{"w1"});
    EXPECT_EQ(u->active_image_requests, std::vector<std::string>{"r1"});
    EXPECT_FALSE(u->evaluating_kudos.has_value());
    EXPECT_NE(u->raw_json.find("\"kudos\":10000.0"), std::string::npos) << u->raw_json;
}

TEST(DecodeWorker, ImageAndTextFieldsAndTeamQuirk) {
    auto list = DecodeWorkerList(
        R"([{"type":"image","name":"a","id":"1","online":true,"requests_fulfilled":4,)"
        R"("uncompleted_jobs":0,"kudos_rewards":12.5,"kudos_details":{"generated":10.0,"uptime":2},)"
        R"("performance":"0.5 megapixelsteps per second","threads":2,"uptime":60,)"
        R"("maintenance_mode":false,"trusted":false,"flagged":false,"team":{"name":null,"id":null},)"
        R"("bridge_agent":"AI Horde Worker reGen:9.0.0:x","nsfw":true,"models":["m1","m2"],)"
        R"("max_pixels":262144,"megapixelsteps_generated":1.5,"img2img":true,"painting":false,)"
        R"("post-processing":true,"controlnet":false,"sdxl_controlnet":false,"lora":true},)"
        R"({"type":"text","name":"b","id":"2","max_length":512,"max_context_length":4096,)"
        R"("team":"None","models":["koboldcpp/x"]}])");
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 2u);
    const auto& a = (*list)[0];
    EXPECT_EQ(a.threads, 2);
    EXPECT_EQ(a.models.size(), 2u);
    EXPECT_TRUE(a.post_processing);
    EXPECT_TRUE(a.lora);
    EXPECT_EQ(a.max_pixels, 262144);
    EXPECT_TRUE(a.team_name.empty());
    const auto& b = (*list)[1];
    EXPECT_EQ(b.max_context_length, 4096);
    EXPECT_EQ(b.type, "text");
}

TEST(DecodeStatusEndpoints, ModelsPerformanceHeartbeatModesTransfer) {
    auto models = DecodeModels(
        R"([{"performance":1.2,"queued":3.0,"jobs":2.0,"eta":10,"type":"image","name":"sd","count":1}])");
    ASSERT_TRUE(models);
    ASSERT_EQ(models->size(), 1u);
    EXPECT_EQ((*models)[0].name, "sd");
    EXPECT_EQ((*models)[0].eta_s, 10);
    auto perf = DecodePerformance(
        R"({"queued_requests":1,"queued_text_requests":2,"worker_count":3,"text_worker_count":4,)"
        R"("thread_count":5,"text_thread_count":6,"queued_megapixelsteps":7.5,)"
        R"("past_minute_megapixelsteps":8.0,"queued_forms":0.0,"interrogator_count":0,)"
        R"("interrogator_thread_count":0,"queued_tokens":90.0,"past_minute_tokens":10.0})");
    ASSERT_TRUE(perf);
    EXPECT_EQ(perf->text_thread_count, 6);
    EXPECT_DOUBLE_EQ(perf->queued_megapixelsteps, 7.5);
    auto hb = DecodeHeartbeat(
        R"({"message":"OK","version":"5.1.5","queue":0,"threads":1,"active_count":1,"db_connection":true})");
    ASSERT_TRUE(hb);
    EXPECT_EQ(hb->message, "OK");
    EXPECT_TRUE(hb->db_connection);
    auto modes = DecodeModes(R"({"maintenance_mode":false,"invite_only_mode":true})");
    ASSERT_TRUE(modes);
    EXPECT_TRUE(modes->invite_only_mode);
    EXPECT_FALSE(modes->raid_mode.has_value());
    auto t = DecodeKudosTransfer(R"({"transferred":10})");
    ASSERT_TRUE(t);
    EXPECT_DOUBLE_EQ(t->transferred, 10);
    EXPECT_FALSE(DecodeKudosTransfer(R"({"x":1})"));
}

TEST(NormalizeJson, PlainNumbers) {
    EXPECT_EQ(NormalizeJson(R"({"a":7.61E0,"b":1,"c":[1.0E1,"x"]})"),
              R"({"a":7.61,"b":1,"c":[10.0,"x"]})");
    EXPECT_EQ(NormalizeJson("not json"), "not json");
}

}  // namespace
}  // namespace horde::client

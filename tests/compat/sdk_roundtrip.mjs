// Client-compatibility check: drives a running Horde server with the public npm SDK
// @zeldafan0225/ai_horde (MIT), playing both the client and a worker, the way apps built on
// that SDK do. Exits 0 when every step matched, 1 with a message on the first mismatch.
//
// Usage: node sdk_roundtrip.mjs <base-url> <requester-key> <worker-owner-key>
//    or: HORDE_URL=... HORDE_REQUESTER_KEY=... HORDE_WORKER_KEY=... node sdk_roundtrip.mjs
// <base-url> is the server root, e.g. http://127.0.0.1:7001 (the SDK gets <base-url>/api/v2).
// HORDE_IMAGE_MODEL picks the image model (default stable_diffusion).

import { AIHorde } from "@zeldafan0225/ai_horde";

const [argBase, argReq, argWorker] = process.argv.slice(2);
const base = (argBase || process.env.HORDE_URL || "").replace(/\/+$/, "");
const requesterKey = argReq || process.env.HORDE_REQUESTER_KEY;
const workerKey = argWorker || process.env.HORDE_WORKER_KEY;
if (!base || !requesterKey || !workerKey) {
    console.error("usage: node sdk_roundtrip.mjs <base-url> <requester-key> <worker-owner-key>");
    process.exit(2);
}

const horde = new AIHorde({
    api_route: `${base}/api/v2`,
    client_agent: "horde-compat-tests:1.0:tests/compat",
});

class Mismatch extends Error {}

function expect(cond, what, got) {
    if (!cond) {
        throw new Mismatch(`${what}${got === undefined ? "" : `: got ${JSON.stringify(got)}`}`);
    }
}

const uuidRe = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const suffix = Math.random().toString(36).slice(2, 8);
// Image workers may only serve reference models; run this against a server whose queue holds
// nothing else for this model (the pytest wrapper uses a fresh server).
const imageModel = process.env.HORDE_IMAGE_MODEL || "stable_diffusion";
const textModel = `koboldcpp/compat-text-${suffix}`;
const imageWorkerName = `sdk-image-worker-${suffix}`;
const textWorkerName = `sdk-text-worker-${suffix}`;
let step = "start";

async function pollUntilDone(check, what) {
    for (let i = 0; i < 100; i++) {
        const c = await check();
        if (c.done) return c;
        await new Promise((r) => setTimeout(r, 50));
    }
    throw new Mismatch(`${what} never reported done`);
}

async function imageRoundTrip() {
    step = "image: postAsyncImageGenerate";
    const accepted = await horde.postAsyncImageGenerate(
        {
            prompt: "a compatibility check ### blurry",
            params: { width: 512, height: 512, steps: 20, n: 1, sampler_name: "k_euler_a",
                      seed: "", karras: true, post_processing: [] },
            models: [imageModel],
            nsfw: false,
            censor_nsfw: false,
            r2: true,
            shared: false,
            replacement_filter: true,
        },
        { token: requesterKey },
    );
    expect(uuidRe.test(accepted.id), "async id is a UUID", accepted);
    expect(typeof accepted.kudos === "number" && accepted.kudos > 0, "async kudos > 0", accepted);

    step = "image: getImageGenerationCheck (queued)";
    const queued = await horde.getImageGenerationCheck(accepted.id, { force: true });
    expect(queued.waiting === 1 && queued.done === false, "queued check", queued);

    step = "image: postImageGenerationPop";
    const pop = await horde.postImageGenerationPop(
        {
            name: imageWorkerName,
            models: [imageModel],
            nsfw: true,
            max_pixels: 262144,
            bridge_agent: "AI Horde Worker reGen:9.0.0:https://example.invalid",
            threads: 1,
        },
        { token: workerKey },
    );
    expect(uuidRe.test(pop.id ?? ""), "pop id is a UUID", pop);
    expect(Array.isArray(pop.ids) && pop.ids.length === 1 && pop.ids[0] === pop.id, "pop ids", pop.ids);
    expect(pop.model === imageModel, "pop model", pop.model);
    expect(pop.payload && pop.payload.prompt === "a compatibility check ### blurry", "pop payload prompt", pop.payload);
    expect(pop.payload.ddim_steps === 20, "pop payload ddim_steps", pop.payload);
    expect(typeof pop.payload.seed === "string", "pop payload seed is a string", pop.payload.seed);
    expect(typeof pop.r2_upload === "string" && pop.r2_upload.startsWith("http"), "r2_upload URL", pop.r2_upload);

    step = "image: PUT to r2_upload";
    const bytes = Buffer.from("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==", "base64");
    const put = await fetch(pop.r2_upload, { method: "PUT", body: bytes, headers: { "Content-Type": "image/webp" } });
    expect(put.ok, "upload accepted", put.status);

    step = "image: postImageGenerationSubmit";
    const submitted = await horde.postImageGenerationSubmit(
        { id: pop.id, generation: "R2", seed: 123456 },
        { token: workerKey },
    );
    expect(typeof submitted.reward === "number" && submitted.reward > 0, "submit reward", submitted);

    step = "image: getImageGenerationCheck until done";
    const done = await pollUntilDone(() => horde.getImageGenerationCheck(accepted.id, { force: true }), "image check");
    expect(done.finished === 1 && done.faulted === false, "check after delivery", done);

    step = "image: getImageGenerationStatus";
    const status = await horde.getImageGenerationStatus(accepted.id, { force: true });
    expect(status.done === true && Array.isArray(status.generations), "status", status);
    expect(status.generations.length === 1, "one generation", status.generations);
    const g = status.generations[0];
    expect(g.id === pop.id, "generation id", g);
    expect(g.seed === "123456", "generation seed (string)", g.seed);
    expect(g.worker_name === imageWorkerName, "generation worker_name", g);
    expect(g.model === imageModel, "generation model", g);
    expect(typeof g.img === "string" && g.img.includes("http"), "img is a URL (r2: true)", g.img);
    expect(typeof status.kudos === "number" && status.kudos > 0, "status kudos", status.kudos);

    step = "image: download img";
    const dl = await fetch(g.img);
    expect(dl.ok, "download status", dl.status);
    const got = Buffer.from(await dl.arrayBuffer());
    expect(got.equals(bytes), "downloaded bytes equal the uploaded ones", got.length);

    step = "image: getWorkerDetails";
    const w = await horde.getWorkerDetails(g.worker_id, { force: true });
    expect(w.name === imageWorkerName && w.requests_fulfilled === 1, "worker details", w);
}

async function textRoundTrip() {
    step = "text: postAsyncTextGenerate";
    const accepted = await horde.postAsyncTextGenerate(
        {
            prompt: "The compatibility test began",
            params: { n: 1, max_length: 64, max_context_length: 1024, temperature: 0.8,
                      rep_pen: 1.1, top_p: 0.9, top_k: 40 },
            models: [textModel],
            trusted_workers: false,
        },
        { token: requesterKey },
    );
    expect(uuidRe.test(accepted.id), "text async id", accepted);

    step = "text: getTextGenerationStatus (queued)";
    const queued = await horde.getTextGenerationStatus(accepted.id, { force: true });
    expect(queued.waiting === 1 && queued.done === false, "text queued status", queued);

    step = "text: postTextGenerationPop";
    const pop = await horde.postTextGenerationPop(
        {
            name: textWorkerName,
            models: [textModel],
            max_length: 512,
            max_context_length: 2048,
            bridge_agent: "AI Horde Worker:24:https://example.invalid",
            threads: 1,
        },
        { token: workerKey },
    );
    expect(uuidRe.test(pop.id ?? ""), "text pop id", pop);
    expect(pop.payload.prompt === "The compatibility test began", "text pop prompt", pop.payload);
    expect(pop.payload.max_length === 64, "text pop max_length", pop.payload);
    expect(pop.model === textModel, "text pop model", pop.model);

    step = "text: postTextGenerationSubmit";
    const text = " and everything went fine.";
    const submitted = await horde.postTextGenerationSubmit(
        { id: pop.id, generation: text, state: "ok" },
        { token: workerKey },
    );
    expect(typeof submitted.reward === "number" && submitted.reward > 0, "text submit reward", submitted);

    step = "text: getTextGenerationStatus";
    const status = await pollUntilDone(() => horde.getTextGenerationStatus(accepted.id, { force: true }), "text status");
    expect(status.generations.length === 1, "one text generation", status.generations);
    const g = status.generations[0];
    expect(g.text === text, "generation text", g);
    expect(g.worker_name === textWorkerName && g.model === textModel, "text generation worker/model", g);
    expect(typeof g.seed === "number", "text seed is a number", g.seed);
}

async function accounts() {
    step = "findUser (requester)";
    const me = await horde.findUser({ token: requesterKey });
    expect(typeof me.id === "number" && /#\d+$/.test(me.username), "findUser", me);
    expect(typeof me.kudos === "number", "findUser kudos", me.kudos);
    step = "findUser (worker owner)";
    const owner = await horde.findUser({ token: workerKey });
    expect(Array.isArray(owner.worker_ids) && owner.worker_ids.length >= 2, "owner worker_ids", owner.worker_ids);
    expect(owner.kudos > 0, "owner earned kudos", owner.kudos);
    step = "getHeartbeat";
    expect((await horde.getHeartbeat()) === true, "heartbeat");
    step = "getPerformance";
    const perf = await horde.getPerformance({ force: true });
    expect(typeof perf.queued_requests === "number", "performance", perf);
    step = "getModels";
    const models = await horde.getModels({ force: true });
    expect(Array.isArray(models) && models.some((m) => m.name === imageModel), "models list", models);
    step = "getUsers";
    const users = await horde.getUsers();
    expect(Array.isArray(users) && users.some((u) => u.id === me.id), "users list");
    step = "getUserDetails";
    const details = await horde.getUserDetails(me.id, { force: true });
    expect(details.id === me.id, "user details", details);
}

async function errors() {
    step = "error: APIError for a bad key";
    try {
        await horde.findUser({ token: "certainly-not-a-key" });
        throw new Mismatch("findUser with a bad key did not throw");
    } catch (e) {
        if (e instanceof Mismatch) throw e;
        expect(e.constructor.name === "APIError" || "status" in e, "an APIError (JSON error body)", String(e));
        expect(e.status === 401 || e.status === 404, "bad key status", e.status);
        expect(typeof e.error_code === "string" && e.error_code.length > 0, "rc present", e.error_code);
    }
    step = "error: APIError for an unknown request";
    try {
        await horde.getImageGenerationCheck("00000000-0000-4000-8000-000000000000", { force: true });
        throw new Mismatch("check of an unknown id did not throw");
    } catch (e) {
        if (e instanceof Mismatch) throw e;
        expect(e.status === 404 && e.error_code === "RequestNotFound", "unknown id -> 404 RequestNotFound", { status: e.status, rc: e.error_code });
    }
}

try {
    await imageRoundTrip();
    await textRoundTrip();
    await accounts();
    await errors();
    console.log("sdk_roundtrip: OK (image, text, accounts, errors)");
    process.exit(0);
} catch (e) {
    console.error(`sdk_roundtrip: FAILED at step "${step}": ${e instanceof Mismatch ? e.message : e?.stack ?? e}`);
    process.exit(1);
}

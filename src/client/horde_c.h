/* horde_c.h: the C interface of the Horde client library (libhorde), for C programs and for
 * bindings from other languages (Godot GDExtension, Unity/C# P/Invoke, Python ctypes, ...).
 *
 * Conventions
 *  - All strings are UTF-8 and NUL-terminated. NULL for an optional argument means "default".
 *  - Functions that can fail return a horde_status (HORDE_OK = 0). After a failure,
 *    horde_last_error(), horde_last_http_status() and horde_last_rc() describe it: the server's
 *    message, HTTP status and `rc` code. They describe the most recent call made *on that
 *    client by the calling thread*, so threads sharing a client do not see each other's errors.
 *  - Out-parameters of type `char**` / `unsigned char**` receive memory the caller owns: release
 *    it with horde_free(). `const char*` results are owned by the object they come from and
 *    stay valid until that object is freed.
 *  - Opaque handles: horde_client (free with horde_client_free), horde_result
 *    (horde_result_free), horde_job (horde_job_finish or horde_job_free).
 *  - Thread-safety: a horde_client may be used from several threads at once. A horde_result is
 *    read-only and may be read from several threads. A horde_job is used by one thread.
 *  - Blocking calls (horde_wait, horde_job_finish) poll the horde at most once per second per
 *    request and honour HTTP 429 Retry-After, as the public horde requires.
 *
 * Typical use:
 *   horde_client* c = horde_client_new("https://aihorde.net", key, "mygame:1.0:me@example.com");
 *   char* id = NULL;
 *   if (horde_submit_image_simple(c, "a red fox", NULL, NULL, 512, 512, 20, 1, NULL, &id)) {
 *       fprintf(stderr, "%s\n", horde_last_error(c));
 *   }
 *   horde_result* r = NULL;
 *   horde_wait(c, id, HORDE_KIND_IMAGE, 600, NULL, NULL, &r);
 *   horde_result_save_image(c, r, 0, "fox.webp");
 *   horde_result_free(r); horde_free(id); horde_client_free(c);
 */
#ifndef HORDE_C_H
#define HORDE_C_H

#include <stddef.h>

#if defined(_WIN32)
#if defined(HORDE_C_BUILDING)
#define HORDE_C_API __declspec(dllexport)
#else
#define HORDE_C_API __declspec(dllimport)
#endif
#else
#define HORDE_C_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum horde_status {
    HORDE_OK = 0,
    HORDE_ERR_INVALID_ARGUMENT = 1, /* a NULL/empty required argument, bad JSON, bad index */
    HORDE_ERR_NETWORK = 2,          /* the horde could not be reached */
    HORDE_ERR_AUTH = 3,             /* 401, or 403 for a problem with the API key */
    HORDE_ERR_REJECTED = 4,         /* other 4xx: see horde_last_rc() and horde_last_error() */
    HORDE_ERR_NOT_FOUND = 5,        /* 404: unknown or expired request, user, worker */
    HORDE_ERR_RATE_LIMITED = 6,     /* 429 after the retries */
    HORDE_ERR_SERVER = 7,           /* 5xx */
    HORDE_ERR_INVALID_RESPONSE = 8, /* not the JSON the API documents */
    HORDE_ERR_FAULTED = 9,          /* the request faulted on the horde */
    HORDE_ERR_TIMEOUT = 10,         /* the wait ran out of time (request cancelled) */
    HORDE_ERR_CANCELLED = 11,       /* the wait was stopped (request cancelled) */
    HORDE_ERR_IO = 12,              /* a local file could not be written */
    HORDE_ERR_INTERNAL = 13         /* out of memory or a bug */
} horde_status;

typedef enum horde_kind { HORDE_KIND_IMAGE = 0, HORDE_KIND_TEXT = 1 } horde_kind;

typedef struct horde_client horde_client;
typedef struct horde_result horde_result;
typedef struct horde_job horde_job;

/* A request's progress, as the horde reports it. */
typedef struct horde_progress {
    int finished;       /* generations delivered */
    int processing;     /* being generated now */
    int restarted;      /* failed and queued again */
    int waiting;        /* not yet handed to a worker */
    int done;           /* 1: nothing more will happen */
    int faulted;        /* 1: the request failed */
    int is_possible;    /* 0: no worker can serve it right now */
    int queue_position; /* 1 = next */
    int wait_time_s;    /* the horde's ETA */
    double kudos;       /* consumed so far */
    double elapsed_s;   /* since the wait began (0 for horde_check) */
} horde_progress;

/* Called after each poll; return 0 to keep waiting, non-zero to stop (the request is then
 * cancelled on the horde and the wait returns HORDE_ERR_CANCELLED). */
typedef int (*horde_progress_fn)(const horde_progress* progress, void* user_data);

/* --- Library ---------------------------------------------------------------------------- */

HORDE_C_API const char* horde_version(void);
/* A static name for a status, e.g. "HORDE_ERR_AUTH". */
HORDE_C_API const char* horde_status_name(horde_status status);
/* Frees a string or buffer returned through an out-parameter. NULL is ignored. */
HORDE_C_API void horde_free(void* p);

/* --- Client ----------------------------------------------------------------------------- */

/* base_url: e.g. "http://127.0.0.1:7001" (NULL = that); api_key: NULL or "" = anonymous;
 * client_agent: "name:version:contact" of your app (NULL = the library's). NULL on OOM. */
HORDE_C_API horde_client* horde_client_new(const char* base_url, const char* api_key,
                                           const char* client_agent);
HORDE_C_API void horde_client_free(horde_client* client);
/* Timeout of one HTTP call (default 30000 ms). */
HORDE_C_API horde_status horde_client_set_timeout_ms(horde_client* client, int timeout_ms);
/* Smallest interval between two polls of one request (default and recommended 1000 ms;
 * lower only against your own horde). */
HORDE_C_API horde_status horde_client_set_poll_interval_ms(horde_client* client, int interval_ms);

/* The error of this thread's last call on `client` ("" / 0 / "" after a success). */
HORDE_C_API const char* horde_last_error(const horde_client* client);
HORDE_C_API int horde_last_http_status(const horde_client* client);
HORDE_C_API const char* horde_last_rc(const horde_client* client);

/* --- Generation ------------------------------------------------------------------------- */

/* Submits a request given as the API's JSON body (POST /generate/async or
 * /generate/text/async, e.g. {"prompt":"...","params":{"width":512},"models":["..."]}).
 * *out_id receives the request id (free with horde_free). */
HORDE_C_API horde_status horde_submit_json(horde_client* client, horde_kind kind,
                                           const char* request_json, char** out_id);

/* An image request from plain arguments: 0 / NULL = the horde's default. */
HORDE_C_API horde_status horde_submit_image_simple(horde_client* client, const char* prompt,
                                                   const char* negative_prompt, const char* model,
                                                   int width, int height, int steps, int n,
                                                   const char* seed, char** out_id);

/* A text request from plain arguments: 0 / NULL / negative temperature = the default. */
HORDE_C_API horde_status horde_submit_text_simple(horde_client* client, const char* prompt,
                                                  const char* model, int max_length,
                                                  int max_context_length, double temperature,
                                                  char** out_id);

/* One poll, without blocking longer than one HTTP call (for game loops: call it at most once
 * per second per request). */
HORDE_C_API horde_status horde_check(horde_client* client, const char* id, horde_kind kind,
                                     horde_progress* out);

/* Blocks until the request is done (or fails, times out, or `on_progress` asks to stop).
 * timeout_s <= 0 means the default (1170 s). *out_result receives the finished request. */
HORDE_C_API horde_status horde_wait(horde_client* client, const char* id, horde_kind kind,
                                    double timeout_s, horde_progress_fn on_progress,
                                    void* user_data, horde_result** out_result);

/* Cancels a request on the horde (generations already running still complete). */
HORDE_C_API horde_status horde_cancel(horde_client* client, const char* id, horde_kind kind);

/* --- Background waits (for event loops) --------------------------------------------------- */

/* Starts waiting for `id` on a library thread. NULL on a bad argument (see horde_last_error).
 * The job keeps the client alive. */
HORDE_C_API horde_job* horde_job_start(horde_client* client, const char* id, horde_kind kind,
                                       double timeout_s);
/* The latest progress (may be all zeros before the first poll); returns 1 once the job has
 * finished (call horde_job_finish), else 0. Never blocks. */
HORDE_C_API int horde_job_poll(horde_job* job, horde_progress* out);
/* Asks the job to stop; it cancels the request on the horde and then finishes. */
HORDE_C_API void horde_job_cancel(horde_job* job);
/* Waits for the job to end, returns its outcome (errors are reported on the job's client for
 * the calling thread) and frees the job. */
HORDE_C_API horde_status horde_job_finish(horde_job* job, horde_result** out_result);
/* Cancels (if still running), waits and frees, discarding the outcome. NULL is ignored. */
HORDE_C_API void horde_job_free(horde_job* job);

/* --- Results ---------------------------------------------------------------------------- */

HORDE_C_API horde_kind horde_result_kind(const horde_result* result);
HORDE_C_API const char* horde_result_request_id(const horde_result* result);
/* Kudos the request consumed. */
HORDE_C_API double horde_result_kudos(const horde_result* result);
/* The whole final status as JSON (the API's field names). */
HORDE_C_API const char* horde_result_json(const horde_result* result);
/* Number of generations. */
HORDE_C_API size_t horde_result_count(const horde_result* result);
/* Per generation (NULL / 0 when `index` is out of range): */
HORDE_C_API const char* horde_result_text(const horde_result* result, size_t index); /* text */
HORDE_C_API const char* horde_result_image(const horde_result* result,
                                           size_t index); /* URL or base64 */
HORDE_C_API const char* horde_result_seed(const horde_result* result, size_t index);
HORDE_C_API const char* horde_result_model(const horde_result* result, size_t index);
HORDE_C_API const char* horde_result_worker_name(const horde_result* result, size_t index);
HORDE_C_API const char* horde_result_worker_id(const horde_result* result, size_t index);
HORDE_C_API const char* horde_result_generation_id(const horde_result* result, size_t index);
HORDE_C_API int horde_result_censored(const horde_result* result, size_t index);
/* The image's bytes (WebP): downloaded from its URL or decoded from base64. Free *out_bytes
 * with horde_free. */
HORDE_C_API horde_status horde_result_fetch_image(horde_client* client, const horde_result* result,
                                                  size_t index, unsigned char** out_bytes,
                                                  size_t* out_size);
/* Fetches the image and writes it to `path`. */
HORDE_C_API horde_status horde_result_save_image(horde_client* client, const horde_result* result,
                                                 size_t index, const char* path);
HORDE_C_API void horde_result_free(horde_result* result);

/* --- Account and horde status -------------------------------------------------------------- */

/* The account of the API key: *out_username ("name#id", may be NULL) and *out_kudos (may be
 * NULL). Free *out_username with horde_free. */
HORDE_C_API horde_status horde_find_user(horde_client* client, char** out_username,
                                         double* out_kudos);
/* Sends `amount` kudos to `username` ("name#id"). *out_transferred may be NULL. */
HORDE_C_API horde_status horde_transfer_kudos(horde_client* client, const char* username,
                                              double amount, double* out_transferred);
/* GET any API path (relative to /api/v2, e.g. "/find_user", "/workers?type=text",
 * "/status/models?type=image", "/status/performance", "/status/heartbeat") with the API key;
 * *out_json receives the answer's body (free with horde_free). */
HORDE_C_API horde_status horde_get_json(horde_client* client, const char* path, char** out_json);

#ifdef __cplusplus
}
#endif

#endif /* HORDE_C_H */

/* generate_image: asks a horde for an image through the C interface (libhorde) and saves it.
 *
 *   HORDE_URL=http://127.0.0.1:7001 HORDE_API_KEY=... ./generate_image "a red fox" [out-dir]
 *
 * Prints the path of each saved image (<request-id>_<seed>.webp). Exit status 0 on success,
 * 1 on failure (the horde's message is printed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "horde_c.h"

static int on_progress(const horde_progress* p, void* user_data) {
    (void)user_data;
    fprintf(stderr, "queue %d, eta %ds, %d done, %d generating, %.2f kudos\n", p->queue_position,
            p->wait_time_s, p->finished, p->processing, p->kudos);
    return 0; /* keep waiting; non-zero would cancel the request */
}

int main(int argc, char** argv) {
    const char* prompt = argc > 1 ? argv[1] : "a lighthouse at dusk, oil painting";
    const char* out_dir = argc > 2 ? argv[2] : ".";
    const char* url = getenv("HORDE_URL");
    const char* key = getenv("HORDE_API_KEY"); /* NULL: anonymous */

    horde_client* client = horde_client_new(url, key, "horde-c-example:1.0:unknown");
    if (client == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    printf("libhorde %s\n", horde_version());

    char* id = NULL;
    horde_status st =
        horde_submit_image_simple(client, prompt, NULL, NULL, 512, 512, 20, 1, NULL, &id);
    if (st != HORDE_OK) {
        fprintf(stderr, "submit failed: %s: %s\n", horde_status_name(st), horde_last_error(client));
        horde_client_free(client);
        return 1;
    }
    fprintf(stderr, "request %s queued\n", id);

    horde_result* result = NULL;
    st = horde_wait(client, id, HORDE_KIND_IMAGE, 600, on_progress, NULL, &result);
    if (st != HORDE_OK) {
        fprintf(stderr, "wait failed: %s (HTTP %d, rc '%s'): %s\n", horde_status_name(st),
                horde_last_http_status(client), horde_last_rc(client), horde_last_error(client));
        horde_free(id);
        horde_client_free(client);
        return 1;
    }

    int rc = 0;
    for (size_t i = 0; i < horde_result_count(result); ++i) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s_%s.webp", out_dir, horde_result_request_id(result),
                 horde_result_seed(result, i));
        st = horde_result_save_image(client, result, i, path);
        if (st != HORDE_OK) {
            fprintf(stderr, "saving image %zu failed: %s\n", i, horde_last_error(client));
            rc = 1;
            continue;
        }
        printf("%s (model %s, worker %s)\n", path, horde_result_model(result, i),
               horde_result_worker_name(result, i));
    }
    printf("kudos spent: %.2f\n", horde_result_kudos(result));

    horde_result_free(result);
    horde_free(id);
    horde_client_free(client);
    return rc;
}

/* libFuzzer target: every decoder of cluster.c on one input (a list page, a connector document, a
 * sync-job page, GET /, an error body), then the input as a Retry-After value and as a Cloud id.
 * Seeded with tests/data/cluster's canned bodies. Crashes, leaks and sanitizer reports fail. */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "cluster-decode.h"
#include "cluster-request.h"
#include "plan.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *mfree(void *p) {
        free(p);
        return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *buf = NULL, *msg = NULL, *type = NULL;
        struct cluster_page page = {};
        struct plan_connector c = {};
        struct cluster_info info = {};
        struct cluster_sync_job_page jobs = {};
        usec_t d;

        /* The decoders take a length; give them a copy without a NUL after it, so that reading
         * past the end is caught. */
        buf = malloc(size + 1);
        if (!buf)
                return 0;
        memcpy(buf, data, size);

        if (cluster_decode_list_page(buf, size, &page, &msg) >= 0)
                cluster_page_done(&page);
        msg = mfree(msg);

        /* Only a document of the connector asked for may pass: with its id, what every connector
         * has, and no error object. */
        if (cluster_decode_connector(buf, size, "id", &c, &msg) >= 0) {
                if (!c.id || strcmp(c.id, "id") != 0)
                        abort();
                plan_connector_done(&c);
        } else if (!msg)
                abort(); /* a refusal says why */
        msg = mfree(msg);

        if (cluster_decode_sync_job_page(buf, size, &jobs, &msg) >= 0) {
                /* Each job's span is one object in the body. */
                for (size_t i = 0; i < jobs.n_jobs; i++)
                        if (!jobs.jobs[i].id || jobs.jobs[i].size < 2 ||
                            jobs.jobs[i].offset + jobs.jobs[i].size > size ||
                            buf[jobs.jobs[i].offset] != '{' ||
                            buf[jobs.jobs[i].offset + jobs.jobs[i].size - 1] != '}')
                                abort();
                cluster_sync_job_page_done(&jobs);
        }
        msg = mfree(msg);

        /* A DELETE is done only when acknowledged: accepted bodies hold "acknowledged": true. */
        if (cluster_decode_acknowledged(buf, size, &msg) >= 0 && !memmem(buf, size, "true", 4))
                abort();
        msg = mfree(msg);

        /* A PUT's answer is accepted only with its result. */
        {
                char *result = NULL;

                if (cluster_decode_put_result(buf, size, &result, &msg) >= 0 && !result)
                        abort();
                free(result);
                msg = mfree(msg);
        }

        if (cluster_decode_info(buf, size, &info, &msg) >= 0) {
                (void) cluster_check_version(&info, &msg);
                cluster_info_done(&info);
        }
        msg = mfree(msg);

        if (cluster_decode_error(size > 0 ? 400 + data[0] % 200 : 500, buf, size, &type, &msg) >= 0) {
                type = mfree(type);
                msg = mfree(msg);
        }

        /* As a string: Retry-After (against a fixed "now"). */
        buf[size] = '\0';
        if (strlen(buf) == size)
                (void) backoff_parse_retry_after(buf, 1700000000 * USEC_PER_SEC, &d);
        return 0;
}

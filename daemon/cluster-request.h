#pragma once

/* Requests as each Elasticsearch version takes them: ids as path segments, versions, the
 * parameters of DELETE, statuses as errnos. Pure: libc only. */

#include <stdbool.h>

#include "cluster-decode.h"

/* Percent-encodes 's' as one URL path segment or query value: every byte but the unreserved
 * characters (A-Z a-z 0-9 - . _ ~) becomes %XX; a segment made only of dots ("." or "..") is
 * encoded whole so that nothing on the way treats it as a dot segment. Returns a new string or
 * NULL on OOM. */
char *cluster_escape_segment(const char *s);

/* Refuses a server older than 8.12 ("Elasticsearch 8.11.1 is too old: the connector API needs
 * 8.12 or later"): -EOPNOTSUPP. A serverless project (build_flavor "serverless", which reports a
 * fixed 8.11.0) is accepted as the newest API generation. */
int cluster_check_version(const struct cluster_info *info, char **reterr_message);

/* The path and query of DELETE /_connector/<id> for that server: delete_sync_jobs=true only from
 * 8.14, hard=true only from 9.0. *ret_sync_jobs_by_client is true when delete_sync_jobs was asked
 * of a server that has no such parameter (8.12-8.13): the client must delete them itself. */
int cluster_delete_path(const struct cluster_info *info, const char *id, bool delete_sync_jobs, bool hard,
                        char **ret_path, bool *ret_sync_jobs_by_client);

/* Maps an HTTP status to a negative errno (0 for 2xx): 400 -EINVAL, 401 -EACCES, 403 -EPERM,
 * 404 -ENOENT, 405 -EOPNOTSUPP, 408 -ETIMEDOUT, 409 -EBUSY, 413 -E2BIG, 429 -EBUSY, 503 -EAGAIN,
 * 504 -ETIMEDOUT, 3xx -EREMCHG, other 4xx -EPROTO, other 5xx -EREMOTEIO. */
int cluster_status_to_errno(int status);

/* Whether the server's API is at least 'major'.'minor' (a serverless project always is). */
bool cluster_version_at_least(const struct cluster_info *info, unsigned major, unsigned minor);

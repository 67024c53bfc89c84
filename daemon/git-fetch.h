#pragma once

/* A fetch of the manifests' Git repository (git_source_fetch()), run in a child process so that
 * the loop goes on answering signals and the watchdog meanwhile, and so that a fetch that hangs
 * can be killed outright: libgit2 has no timeout of its own for every step of a fetch. */

#include <systemd/sd-event.h>

#include "git-source.h"
#include "util.h"

struct git_fetch;

/* Called once, from the loop, when the fetch ended: 'error' 0, or a negative errno with 'message'
 * (owned by 'f': valid until it is freed, which the callback may do) saying why: git_source_fetch()'s, or -ETIMEDOUT past the timeout. */
typedef void (*git_fetch_done_t)(struct git_fetch *f, int error, const char *message, void *userdata);

/* Forks a child that runs git_source_fetch(o) and reports through a pipe; kills it after
 * 'timeout_usec'. Returns 0 and sets *ret; a negative errno when no child could be started. */
int git_fetch_start(struct git_fetch **ret, sd_event *event, const struct git_source_options *o,
                    usec_t timeout_usec, git_fetch_done_t done, void *userdata);

/* Kills the child (when still running) and reaps it. Accepts NULL; returns NULL. */
struct git_fetch *git_fetch_free(struct git_fetch *f);

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "git-fetch.h"

/* The most of the child's message kept: "ERRNO MESSAGE". */
#define GIT_FETCH_MESSAGE_MAX 4096U

struct git_fetch {
        sd_event_source *io;
        sd_event_source *timer;
        pid_t pid;
        int fd;
        usec_t timeout_usec;
        char message[GIT_FETCH_MESSAGE_MAX + 1];
        size_t size;
        git_fetch_done_t done;
        void *userdata;
};

static int close_fd(int fd) {
        if (fd >= 0)
                (void) close(fd);
        return -1;
}

/* The child: fetches, writes "ERRNO MESSAGE" ("0 " on success), exits. The report, not the exit
 * status, says how it went: a tool the program runs under (valgrind) may change the status. */
__attribute__((noreturn)) static void child(int fd, const struct git_source_options *o) {
        _cleanup_free_ char *message = NULL;
        int r;

        char head[16];
        int n;

        r = git_source_fetch(o, &message);
        n = snprintf(head, sizeof head, "%d ", r < 0 ? -r : 0);
        (void) !write(fd, head, (size_t) n);
        if (r < 0)
                (void) !write(fd, message ? message : "out of memory",
                              strlen(message ? message : "out of memory"));
        _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

static void reap(struct git_fetch *f, bool kill_it) {
        if (f->pid <= 0)
                return;
        if (kill_it)
                (void) kill(f->pid, SIGKILL);
        while (waitpid(f->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        f->pid = 0;
}

static void end(struct git_fetch *f, int error, const char *message) {
        f->io = sd_event_source_disable_unref(f->io);
        f->timer = sd_event_source_disable_unref(f->timer);
        f->fd = close_fd(f->fd);
        f->done(f, error, message, f->userdata);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct git_fetch *f = userdata;
        int status = 0, error = 0;
        const char *text = NULL;
        char *after = NULL, died[64];
        ssize_t k;

        k = read(fd, f->message + f->size, GIT_FETCH_MESSAGE_MAX - f->size);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (k > 0) {
                f->size += (size_t) k;
                if (f->size < GIT_FETCH_MESSAGE_MAX)
                        return 0;
        }
        /* The end of the child's report: its exit says the rest. */
        f->message[f->size] = '\0';
        if (f->pid > 0) {
                while (waitpid(f->pid, &status, 0) < 0 && errno == EINTR)
                        ;
                f->pid = 0;
        }
        error = f->size > 0 ? -(int) strtol(f->message, &after, 10) : -EIO;
        if (f->size > 0 && (error > 0 || after == f->message || *after != ' '))
                error = -EIO; /* not a report of ours */
        else if (f->size > 0)
                text = after + 1;
        if (error < 0 && (!text || !*text)) {
                if (WIFSIGNALED(status))
                        (void) snprintf(died, sizeof died, "the fetching process died (signal %d)",
                                        WTERMSIG(status));
                else
                        (void) snprintf(died, sizeof died, "the fetching process died (exit status %d)",
                                        WEXITSTATUS(status));
                text = died;
        }
        end(f, error, error < 0 ? text : NULL);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        struct git_fetch *f = userdata;
        char m[128];

        reap(f, true);
        (void) snprintf(m, sizeof m, "the fetch took longer than %llu s (cluster.request_timeout): stopped",
                        (unsigned long long) (f->timeout_usec / USEC_PER_SEC));
        end(f, -ETIMEDOUT, m);
        return 0;
}

int git_fetch_start(struct git_fetch **ret, sd_event *event, const struct git_source_options *o,
                    usec_t timeout_usec, git_fetch_done_t done, void *userdata) {
        struct git_fetch *f;
        int fds[2], r;

        assert(ret);
        assert(event);
        assert(o);
        assert(done);

        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->fd = -1;
        f->done = done;
        f->userdata = userdata;
        f->timeout_usec = timeout_usec;
        if (pipe2(fds, O_CLOEXEC) < 0) {
                r = -errno;
                free(f);
                return r;
        }
        f->pid = fork();
        if (f->pid < 0) {
                r = -errno;
                (void) close_fd(fds[0]);
                (void) close_fd(fds[1]);
                free(f);
                return r;
        }
        if (f->pid == 0) {
                (void) close_fd(fds[0]);
                free(f);
                child(fds[1], o);
        }
        (void) close_fd(fds[1]);
        f->fd = fds[0];
        r = sd_event_add_io(event, &f->io, f->fd, EPOLLIN, on_io, f);
        if (r >= 0)
                r = sd_event_add_time_relative(event, &f->timer, CLOCK_MONOTONIC, timeout_usec, 0,
                                               on_timeout, f);
        if (r < 0) {
                (void) git_fetch_free(f);
                return r;
        }
        (void) sd_event_source_set_description(f->io, "git-fetch");
        *ret = f;
        return 0;
}

struct git_fetch *git_fetch_free(struct git_fetch *f) {
        if (!f)
                return NULL;
        reap(f, true);
        f->io = sd_event_source_disable_unref(f->io);
        f->timer = sd_event_source_disable_unref(f->timer);
        (void) close_fd(f->fd);
        free(f);
        return NULL;
}

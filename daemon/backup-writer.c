#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "backup-writer.h"
#include "util.h"

struct backup_writer {
        sd_event *event;
        sd_event_source *event_source; /* the thread wrote a batch */
        int event_fd;
        char *dir;

        void (*done)(struct backup_writer *w, struct backup_writer_item *items, size_t n, void *userdata);
        void *userdata;

        /* The batch. The loop fills it and hands it over under 'lock'; then only the thread
         * touches it until it says it is done, under 'lock' again. */
        struct backup_writer_item items[BACKUP_WRITER_BATCH_MAX];
        struct backup_item work[BACKUP_WRITER_BATCH_MAX];
        size_t n_items;
        usec_t realtime_usec;
        bool busy; /* the loop's view: a batch is with the thread */

        pthread_t thread;
        bool started;
        bool thread_failed; /* once is enough to know: the process cannot start threads */
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool job;      /* under 'lock': a batch waits or is being written */
        bool quit;     /* under 'lock': end once no batch waits */
        bool finished; /* under 'lock': the thread has ended (for the timed wait) */
        pthread_cond_t finished_cond;
};

static void batch_write(struct backup_writer *w) {
        for (size_t i = 0; i < w->n_items; i++)
                w->work[i] = (struct backup_item){
                        .id = w->items[i].id,
                        .body = w->items[i].body,
                        .size = w->items[i].size,
                };
        (void) backup_write_batch(w->dir, w->work, w->n_items, w->realtime_usec);
        for (size_t i = 0; i < w->n_items; i++) {
                w->items[i].error = w->work[i].error;
                w->items[i].path = TAKE_PTR(w->work[i].path);
                /* Written or not, the body is done with. */
                free(w->items[i].body);
                w->items[i].body = NULL;
        }
}

static void items_clear(struct backup_writer *w) {
        for (size_t i = 0; i < w->n_items; i++) {
                free(w->items[i].id);
                free(w->items[i].body);
                free(w->items[i].path);
        }
        w->n_items = 0;
}

/* Touches nothing but the batch and the fields under 'lock'; logs nothing. */
static void *writer_main(void *userdata) {
        struct backup_writer *w = userdata;
        const uint64_t one = 1;

        (void) pthread_mutex_lock(&w->lock);
        for (;;) {
                while (!w->job && !w->quit)
                        (void) pthread_cond_wait(&w->cond, &w->lock);
                if (!w->job)
                        break;

                /* A batch handed over is always written whole, also when asked to quit. */
                (void) pthread_mutex_unlock(&w->lock);
                batch_write(w);
                (void) pthread_mutex_lock(&w->lock);
                w->job = false;
                while (write(w->event_fd, &one, sizeof one) < 0 && errno == EINTR)
                        ;
        }
        w->finished = true;
        (void) pthread_cond_signal(&w->finished_cond);
        (void) pthread_mutex_unlock(&w->lock);
        return NULL;
}

/* Hands the written batch to 'done', which may submit the next one at once: the batch is moved
 * out of the writer first. */
static void report(struct backup_writer *w) {
        struct backup_writer_item items[BACKUP_WRITER_BATCH_MAX];
        size_t n = w->n_items;

        memcpy(items, w->items, n * sizeof(items[0]));
        w->n_items = 0;
        w->done(w, items, n, w->userdata);
        for (size_t i = 0; i < n; i++) {
                free(items[i].id);
                free(items[i].body);
                free(items[i].path);
        }
}

static int on_batch_written(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct backup_writer *w = userdata;
        uint64_t n;
        ssize_t k;
        bool job;

        k = read(w->event_fd, &n, sizeof n); /* resets the counter; EAGAIN when already read */
        (void) k;
        (void) pthread_mutex_lock(&w->lock);
        job = w->job;
        (void) pthread_mutex_unlock(&w->lock);
        if (job || !w->busy)
                return 0;

        w->busy = false;
        report(w);
        return 0;
}

int backup_writer_new(struct backup_writer **ret, sd_event *event, const char *dir,
                      void (*done)(struct backup_writer *w, struct backup_writer_item *items, size_t n,
                                   void *userdata),
                      void *userdata) {
        struct backup_writer *w;
        int r;

        assert(ret);
        assert(event);
        assert(dir);
        assert(done);

        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->event_fd = -1;
        w->done = done;
        w->userdata = userdata;
        r = -pthread_mutex_init(&w->lock, NULL);
        if (r < 0) {
                free(w);
                return r;
        }
        /* From here on backup_writer_free() can undo everything. */
        if (pthread_cond_init(&w->cond, NULL) != 0 || pthread_cond_init(&w->finished_cond, NULL) != 0) {
                (void) pthread_mutex_destroy(&w->lock);
                free(w);
                return -ENOMEM;
        }
        w->event = sd_event_ref(event);
        w->dir = strdup(dir);
        if (!w->dir) {
                (void) backup_writer_free(w, 0);
                return -ENOMEM;
        }
        *ret = w;
        return 0;
}

/* Starts the thread, with every signal blocked in it: they are the loop's. */
static int thread_start(struct backup_writer *w) {
        sigset_t all, saved;
        int r;

        w->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->event_fd < 0)
                return negative_errno();
        r = sd_event_add_io(w->event, &w->event_source, w->event_fd, EPOLLIN, on_batch_written, w);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(w->event_source, "backup-writer");

        (void) sigfillset(&all);
        r = -pthread_sigmask(SIG_SETMASK, &all, &saved);
        if (r < 0)
                return r;
        r = -pthread_create(&w->thread, NULL, writer_main, w);
        (void) pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (r < 0)
                return r;
        w->started = true;
        return 0;
}

int backup_writer_submit(struct backup_writer *w, struct backup_writer_item *items, size_t n,
                         usec_t realtime_usec, int *reterr_thread) {
        int r;

        assert(w);
        assert(items);
        assert(n > 0 && n <= BACKUP_WRITER_BATCH_MAX);

        if (w->busy)
                return -EBUSY;

        for (size_t i = 0; i < n; i++) {
                w->items[i] = (struct backup_writer_item){
                        .id = TAKE_PTR(items[i].id),
                        .body = TAKE_PTR(items[i].body),
                        .size = items[i].size,
                        .userdata = items[i].userdata,
                };
        }
        w->n_items = n;
        w->realtime_usec = realtime_usec;

        if (!w->started && !w->thread_failed) {
                r = thread_start(w);
                if (r < 0) {
                        w->thread_failed = true;
                        if (reterr_thread)
                                *reterr_thread = r;
                }
        }
        if (!w->started) {
                batch_write(w);
                report(w);
                return 0;
        }

        w->busy = true;
        (void) pthread_mutex_lock(&w->lock);
        w->job = true;
        (void) pthread_cond_signal(&w->cond);
        (void) pthread_mutex_unlock(&w->lock);
        return 1;
}

bool backup_writer_busy(const struct backup_writer *w) {
        return w && w->busy;
}

int backup_writer_free(struct backup_writer *w, usec_t timeout_usec) {
        if (!w)
                return 0;

        if (w->started) {
                struct timespec deadline;
                usec_t until = usec_add(now_usec(CLOCK_REALTIME), timeout_usec);
                bool finished;

                deadline = (struct timespec){
                        .tv_sec = (time_t) (until / USEC_PER_SEC),
                        .tv_nsec = (long) (until % USEC_PER_SEC * NSEC_PER_USEC),
                };
                (void) pthread_mutex_lock(&w->lock);
                w->quit = true;
                (void) pthread_cond_signal(&w->cond);
                while (!w->finished)
                        if (pthread_cond_timedwait(&w->finished_cond, &w->lock, &deadline) == ETIMEDOUT)
                                break;
                finished = w->finished;
                (void) pthread_mutex_unlock(&w->lock);
                if (!finished) {
                        /* Stuck in the file system: the thread keeps the writer. */
                        (void) pthread_detach(w->thread);
                        w->event_source = sd_event_source_disable_unref(w->event_source);
                        return -ETIMEDOUT;
                }
                (void) pthread_join(w->thread, NULL);
        }

        items_clear(w);
        (void) sd_event_source_disable_unref(w->event_source);
        if (w->event_fd >= 0)
                (void) close(w->event_fd);
        (void) pthread_cond_destroy(&w->cond);
        (void) pthread_cond_destroy(&w->finished_cond);
        (void) pthread_mutex_destroy(&w->lock);
        sd_event_unref(w->event);
        free(w->dir);
        free(w);
        return 0;
}

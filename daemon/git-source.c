#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "git-source.h"
#include "sha256.h"
#include "util.h"
#include "yaml-read.h"

static void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

/* libgit2, set up once for the life of the process (a fetch child inherits it): its start reads
 * and parses the system's whole CA bundle, which would otherwise be paid on every call. Set up to
 * read what the config names and nothing else: no system, global or XDG config file (a host's or
 * a user's settings, such as url.<base>.insteadOf, never redirect it; and a $HOME the service
 * cannot read is no error), and no check of who owns a local repository: the daemon runs as a
 * user of its own, reads what the operator named and runs nothing from it. Never shut down: its
 * few allocations stay reachable until the exit. Returns 0, or -EIO. */
static int git_start(void) {
        static const int levels[] = { GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL,
                                      GIT_CONFIG_LEVEL_PROGRAMDATA };
        static bool started = false;

        if (started)
                return 0;
        if (git_libgit2_init() < 0)
                return -EIO;
        for (size_t i = 0; i < ELEMENTSOF(levels); i++)
                if (git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "") < 0)
                        goto fail;
        if (git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0) < 0)
                goto fail;
        started = true;
        return 0;

fail:
        (void) git_libgit2_shutdown();
        return -EIO;
}

DEFINE_CLEANUP_FUNC(git_repository *, git_repository_free);
DEFINE_CLEANUP_FUNC(git_remote *, git_remote_free);
DEFINE_CLEANUP_FUNC(git_object *, git_object_free);
DEFINE_CLEANUP_FUNC(git_commit *, git_commit_free);
DEFINE_CLEANUP_FUNC(git_tree *, git_tree_free);
DEFINE_CLEANUP_FUNC(git_tree_entry *, git_tree_entry_free);
DEFINE_CLEANUP_FUNC(git_blob *, git_blob_free);

/* libgit2's last error as our message: "WHAT: its message". */
static char *git_message(const char *what) {
        const git_error *e = git_error_last();

        return strdup_printf("%s: %s", what, e && e->message ? e->message : "unknown error");
}

static int fail(char **reterr_message, int r, char *message) {
        if (!message)
                return -ENOMEM;
        *reterr_message = message;
        return r;
}

char *git_source_mirror_path(const char *state_dir, const char *url) {
        static const char hex[] = "0123456789abcdef";
        uint8_t d[SHA256_DIGEST_SIZE];
        char name[17];

        sha256(url, strlen(url), d);
        for (unsigned i = 0; i < 8; i++) {
                name[2 * i] = hex[d[i] >> 4];
                name[2 * i + 1] = hex[d[i] & 15];
        }
        name[16] = '\0';
        return strdup_printf("%s/git/%s.git", state_dir, name);
}

static int open_repository(const struct git_source_options *o, git_repository **ret, char **reterr_message) {
        const char *where = o->remote ? o->mirror : o->url;

        if (o->remote && access(o->mirror, F_OK) < 0)
                return fail(reterr_message, -ENOENT,
                            strdup_printf("'%s' was never fetched (into '%s'): `plan` or `once` fetch it",
                                          o->url, o->mirror));

        if (o->remote ? git_repository_open_bare(ret, where) < 0
                      : git_repository_open_ext(ret, where, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
                _cleanup_free_ char *what = strdup_printf(
                        o->remote ? "the mirror of '%s' at '%s' cannot be opened (not fetched yet?)"
                                  : "'%s%.0s' is not a Git repository that can be read",
                        o->url, where);

                return fail(reterr_message, -ENOENT, what ? git_message(what) : NULL);
        }
        return 0;
}

/* ---- Fetching into the mirror ---- */

struct fetch_context {
        const struct git_source_options *o;
        unsigned credential_calls;
        bool auth_refused;
        char *hostkey_problem;
};

static int on_credentials(git_credential **out, const char *url, const char *username_from_url,
                          unsigned int allowed_types, void *payload) {
        struct fetch_context *ctx = payload;
        const char *user = username_from_url && *username_from_url ? username_from_url : "git";

        /* Asked again: what was given was refused. Never loop on it. */
        if (++ctx->credential_calls > 1) {
                ctx->auth_refused = true;
                git_error_set_str(GIT_ERROR_NET, "the credentials were refused");
                return GIT_EUSER;
        }
        if ((allowed_types & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && ctx->o->token)
                return git_credential_userpass_plaintext_new(out, user, ctx->o->token);
        if ((allowed_types & GIT_CREDENTIAL_SSH_KEY) && ctx->o->ssh_key_file)
                return git_credential_ssh_key_new(out, user, NULL, ctx->o->ssh_key_file, NULL);
        if (allowed_types & GIT_CREDENTIAL_USERNAME)
                return git_credential_username_new(out, user);
        ctx->auth_refused = true;
        git_error_set_str(GIT_ERROR_NET,
                          ctx->o->token || ctx->o->ssh_key_file
                                  ? "the server asks for credentials of another kind"
                                  : "the server asks for credentials, and none are configured "
                                    "(manifests.token_file, manifests.ssh_key_file)");
        return GIT_EUSER;
}

/* The key types of known_hosts lines, by libgit2's raw type. */
static const char *const hostkey_types[] = {
        [GIT_CERT_SSH_RAW_TYPE_RSA] = "ssh-rsa",
        [GIT_CERT_SSH_RAW_TYPE_DSS] = "ssh-dss",
        [GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_256] = "ecdsa-sha2-nistp256",
        [GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_384] = "ecdsa-sha2-nistp384",
        [GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_521] = "ecdsa-sha2-nistp521",
        [GIT_CERT_SSH_RAW_TYPE_KEY_ED25519] = "ssh-ed25519",
};

/* Whether known_hosts_file lists 'key' for 'host' (or "[host]:port"): lines "NAMES TYPE BASE64",
 * NAMES separated by ','. Hashed names and markers are not understood, so never match. */
static bool known_host(const char *file, const char *host, const char *type, const char *key_b64) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;

        f = fopen(file, "re");
        if (!f)
                return false;
        while (getline(&line, &cap, f) > 0) {
                char *save = NULL, *names, *t, *k;

                names = strtok_r(line, " \t\r\n", &save);
                t = strtok_r(NULL, " \t\r\n", &save);
                k = strtok_r(NULL, " \t\r\n", &save);
                if (!names || !t || !k || names[0] == '#' || !streq(t, type) || !streq(k, key_b64))
                        continue;
                for (char *n = strtok_r(names, ",", &save); n; n = strtok_r(NULL, ",", &save))
                        if (streq(n, host))
                                return true;
        }
        return false;
}

/* The name a known_hosts file lists 'host' under, as OpenSSH writes it: HOST for port 22,
 * [HOST]:PORT for another port, the one in 'url' (ssh://[USER@]HOST[:PORT]/PATH). */
static char *known_hosts_name(const char *url, const char *host) {
        const char *a = strstr(url, "://"), *end, *colon;
        unsigned long port = 22;

        if (a) {
                a += 3;
                end = a + strcspn(a, "/");
                if (memchr(a, '@', (size_t) (end - a)))
                        a = (const char *) memchr(a, '@', (size_t) (end - a)) + 1;
                if (*a == '[') {
                        /* [IPv6]:PORT: the port's ':' is after the ']'. */
                        const char *close = memchr(a, ']', (size_t) (end - a));

                        if (close)
                                a = close;
                }
                colon = memchr(a, ':', (size_t) (end - a));
                if (colon)
                        port = strtoul(colon + 1, NULL, 10);
        }
        if (port == 22)
                return strdup(host);
        return strdup_printf("[%s]:%lu", host, port);
}

static char *base64_encode(const uint8_t *d, size_t n) {
        static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char *s = malloc((n + 2) / 3 * 4 + 1), *p = s;

        if (!s)
                return NULL;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t) d[i] << 16 | (i + 1 < n ? (uint32_t) d[i + 1] << 8 : 0) |
                             (i + 2 < n ? d[i + 2] : 0);

                *p++ = t[v >> 18];
                *p++ = t[(v >> 12) & 63];
                *p++ = i + 1 < n ? t[(v >> 6) & 63] : '=';
                *p++ = i + 2 < n ? t[v & 63] : '=';
        }
        *p = '\0';
        return s;
}

static int on_certificate(git_cert *cert, int valid, const char *host, void *payload) {
        struct fetch_context *ctx = payload;
        const git_cert_hostkey *hk;
        _cleanup_free_ char *key = NULL, *name = NULL;
        const char *type;

        if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2) {
                const git_error *e = git_error_last();
                char m[512];

                if (valid || !ctx->o->verify_tls)
                        return 0;
                /* The TLS library's reason, copied before it is replaced. */
                (void) snprintf(m, sizeof m,
                                "the server's certificate is not trusted (cluster.ca_file?): %s",
                                e && e->message ? e->message : "no reason given");
                git_error_set_str(GIT_ERROR_SSL, m);
                return GIT_ECERTIFICATE;
        }
        hk = (const git_cert_hostkey *) cert;
        type = (hk->type & GIT_CERT_SSH_RAW) && (size_t) hk->raw_type < ELEMENTSOF(hostkey_types)
                       ? hostkey_types[hk->raw_type]
                       : NULL;
        if (!type || !ctx->o->known_hosts_file) {
                git_error_set_str(GIT_ERROR_SSH, "the server's host key cannot be checked");
                return GIT_ECERTIFICATE;
        }
        key = base64_encode((const uint8_t *) hk->hostkey, hk->hostkey_len);
        if (!key)
                return -1;
        name = known_hosts_name(ctx->o->url, host);
        if (!name)
                return -1;
        if (known_host(ctx->o->known_hosts_file, name, type, key))
                return 0;
        free(ctx->hostkey_problem);
        ctx->hostkey_problem = strdup_printf("the host key of '%s' (%s) is not in '%s'", name, type,
                                             ctx->o->known_hosts_file);
        git_error_set_str(GIT_ERROR_SSH, "the server's host key is not known");
        return GIT_ECERTIFICATE;
}

/* Removes the *.lock files a killed fetch left in 'dir' and below; the caller holds the mirror's
 * lock, so no fetch of ours is running. */
static void remove_stale_locks(const char *dir, unsigned depth) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;

        if (depth > 16)
                return;
        d = opendir(dir);
        if (!d)
                return;
        while ((de = readdir(d))) {
                _cleanup_free_ char *p = NULL;
                size_t l = strlen(de->d_name);

                if (de->d_name[0] == '.')
                        continue;
                p = strdup_printf("%s/%s", dir, de->d_name);
                if (!p)
                        return;
                if (de->d_type == DT_DIR)
                        remove_stale_locks(p, depth + 1);
                else if (l > 5 && streq(de->d_name + l - 5, ".lock"))
                        (void) unlink(p);
        }
}

static void fetch_context_done(struct fetch_context *ctx) {
        free(ctx->hostkey_problem);
}

int git_source_fetch(const struct git_source_options *o, char **reterr_message) {
        _cleanup_(git_repository_freep) git_repository *repo = NULL;
        _cleanup_(git_remote_freep) git_remote *remote = NULL;
        _cleanup_(fetch_context_done) struct fetch_context ctx = { .o = o };
        _cleanup_free_ char *lock_path = NULL, *parent = NULL, *refs = NULL;
        _cleanup_close_ int lock_fd = -1;
        git_remote_create_options ro;
        git_remote_callbacks cb;
        git_fetch_options fo;
        char heads[] = "+refs/heads/*:refs/heads/*", tags[] = "+refs/tags/*:refs/tags/*";
        char *specs[3] = { heads, tags, NULL };
        _cleanup_free_ char *extra = NULL;
        git_strarray refspecs = { .strings = specs, .count = 2 };
        git_buf head = GIT_BUF_INIT_CONST(NULL, 0);
        char *slash;
        int r;

        assert(o && o->remote && o->mirror);

        if (git_start() < 0)
                return fail(reterr_message, -EIO, git_message("libgit2 cannot start"));

        /* One fetch at a time: a lock beside the mirror, which a killed fetch never leaves held. */
        parent = strdup(o->mirror);
        lock_path = strdup_printf("%s.lock", o->mirror);
        if (!parent || !lock_path)
                return -ENOMEM;
        /* STATE_DIR/git/HASH.git: the state folder and its git/ may not exist yet. */
        slash = strrchr(parent, '/');
        if (slash && slash != parent) {
                char *up;

                *slash = '\0';
                up = strrchr(parent, '/');
                if (up && up != parent) {
                        *up = '\0';
                        if (mkdir(parent, 0700) < 0 && errno != EEXIST)
                                return fail(reterr_message, -errno,
                                            strdup_printf("cannot make '%s': %s", parent, strerror(errno)));
                        *up = '/';
                }
                if (mkdir(parent, 0700) < 0 && errno != EEXIST)
                        return fail(reterr_message, -errno,
                                    strdup_printf("cannot make '%s': %s", parent, strerror(errno)));
        }
        lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
        if (lock_fd < 0)
                return fail(reterr_message, -errno,
                            strdup_printf("cannot open '%s': %s", lock_path, strerror(errno)));
        if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0)
                return fail(reterr_message, errno == EWOULDBLOCK ? -EBUSY : -errno,
                            strdup_printf("another fetch into '%s' is running", o->mirror));

        if (git_repository_open_bare(&repo, o->mirror) < 0 && git_repository_init(&repo, o->mirror, 1) < 0)
                return fail(reterr_message, -EIO, git_message("cannot make the mirror"));
        refs = strdup_printf("%s/refs", o->mirror);
        if (!refs)
                return -ENOMEM;
        remove_stale_locks(refs, 0);
        remove_stale_locks(o->mirror, 16); /* its top: packed-refs.lock, HEAD.lock, config.lock */

        if (o->ca_file && git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, o->ca_file, NULL) < 0)
                return fail(reterr_message, -EIO, git_message("cannot use ca_file"));

        (void) git_remote_init_callbacks(&cb, GIT_REMOTE_CALLBACKS_VERSION);
        (void) git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
        (void) git_remote_create_options_init(&ro, GIT_REMOTE_CREATE_OPTIONS_VERSION);
        ro.repository = repo;
        /* The URL as written: no url.<base>.insteadOf of any config rewrites it. */
        ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
        if (git_remote_create_with_opts(&remote, o->url, &ro) < 0)
                return fail(reterr_message, -EIO, git_message("invalid URL"));
        cb.credentials = on_credentials;
        cb.certificate_check = on_certificate;
        cb.payload = &ctx;
        fo.callbacks = cb;
        fo.prune = GIT_FETCH_PRUNE;
        fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
        fo.update_fetchhead = 0;
        fo.proxy_opts.type = o->proxy ? GIT_PROXY_SPECIFIED : GIT_PROXY_NONE;
        fo.proxy_opts.url = o->proxy;
        if (o->extra_ref) {
                extra = strdup_printf("+%s:%s", o->extra_ref, o->extra_ref);
                if (!extra)
                        return -ENOMEM;
                specs[refspecs.count++] = extra;
        }

        if (git_remote_connect(remote, GIT_DIRECTION_FETCH, &cb, &fo.proxy_opts, NULL) < 0 ||
            git_remote_download(remote, &refspecs, &fo) < 0 ||
            git_remote_update_tips(remote, &cb, 0, GIT_REMOTE_DOWNLOAD_TAGS_NONE, "fetch") < 0 ||
            git_remote_prune(remote, &cb) < 0) {
                if (ctx.hostkey_problem)
                        return fail(reterr_message, -EACCES, strdup(ctx.hostkey_problem));
                return fail(reterr_message, ctx.auth_refused ? -EACCES : -EIO,
                            strdup(git_error_last() && git_error_last()->message ? git_error_last()->message
                                                                                 : "unknown error"));
        }
        /* The remote's HEAD becomes the mirror's, so that no ref means the remote's default. */
        if (git_remote_default_branch(&head, remote) == 0) {
                r = git_repository_set_head(repo, head.ptr);
                git_buf_dispose(&head);
                if (r < 0)
                        return fail(reterr_message, -EIO, git_message("cannot record the remote's HEAD"));
        }
        (void) git_remote_disconnect(remote);
        return 0;
}

/* ---- Reading a commit ---- */

static int resolve_commit(git_repository *repo, const struct git_source_options *o, const char *ref,
                          git_commit **ret, char **reterr_message) {
        _cleanup_(git_object_freep) git_object *obj = NULL, *peeled = NULL;

        if (git_revparse_single(&obj, repo, ref ? ref : "HEAD") < 0 ||
            git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
                _cleanup_free_ char *what =
                        strdup_printf("no commit '%s' in '%s'", ref ? ref : "HEAD", o->url);

                return fail(reterr_message, -ENOENT, what ? git_message(what) : NULL);
        }
        *ret = (git_commit *) TAKE_PTR(peeled);
        return 0;
}

/* The repository of 'o' (libgit2 started first) and the commit 'ref' names in it. */
static int open_commit(const struct git_source_options *o, const char *ref, git_repository **ret_repo,
                       git_commit **ret_commit, char **reterr_message) {
        _cleanup_(git_repository_freep) git_repository *repo = NULL;
        int r;

        if (git_start() < 0)
                return fail(reterr_message, -EIO, git_message("libgit2 cannot start"));
        r = open_repository(o, &repo, reterr_message);
        if (r < 0)
                return r;
        r = resolve_commit(repo, o, ref, ret_commit, reterr_message);
        if (r < 0)
                return r;
        *ret_repo = TAKE_PTR(repo);
        return 0;
}

int git_source_resolve(const struct git_source_options *o, const char *ref,
                       char ret_id[static GIT_SOURCE_ID_SIZE], char **reterr_message) {
        _cleanup_(git_repository_freep) git_repository *repo = NULL;
        _cleanup_(git_commit_freep) git_commit *commit = NULL;
        int r;

        r = open_commit(o, ref, &repo, &commit, reterr_message);
        if (r < 0)
                return r;
        (void) git_oid_tostr(ret_id, GIT_SOURCE_ID_SIZE, git_commit_id(commit));
        return 0;
}

struct walk_file {
        char *path;
        git_oid oid;
};

struct walk {
        const char *base; /* the path asked for, "" for the root */
        struct walk_file *files;
        size_t n, allocated;
        char *problem;
        int error;
};

static bool is_manifest_name(const char *name) {
        size_t l = strlen(name);

        return (l > 5 && streq(name + l - 5, ".yaml")) || (l > 4 && streq(name + l - 4, ".yml"));
}

static int walk_add(struct walk *w, char *path, const git_oid *oid) {
        if (w->n == w->allocated) {
                size_t n = w->allocated ? 2 * w->allocated : 16;
                struct walk_file *f = reallocarray(w->files, n, sizeof(*f));

                if (!f) {
                        free(path);
                        return -ENOMEM;
                }
                w->files = f;
                w->allocated = n;
        }
        w->files[w->n].path = path;
        (void) git_oid_cpy(&w->files[w->n].oid, oid);
        w->n++;
        return 0;
}

static int on_tree_entry(const char *root, const git_tree_entry *e, void *payload) {
        struct walk *w = payload;
        const char *name = git_tree_entry_name(e);
        git_filemode_t mode = git_tree_entry_filemode(e);
        _cleanup_free_ char *path = NULL;
        unsigned depth = 0;

        if (name[0] == '.')
                return 1; /* skipped, and below it too */
        path = strdup_printf("%s%s%s%s", w->base, *w->base ? "/" : "", root, name);
        if (!path) {
                w->error = -ENOMEM;
                return -1;
        }
        for (const char *p = root; *p; p++)
                depth += *p == '/';
        switch (mode) {
        case GIT_FILEMODE_TREE:
                if (depth >= MANIFEST_MAX_DIR_DEPTH) {
                        w->problem = strdup_printf("'%s' is nested more than %u folders deep", path,
                                                   MANIFEST_MAX_DIR_DEPTH);
                        w->error = w->problem ? -EINVAL : -ENOMEM;
                        return -1;
                }
                return 0;
        case GIT_FILEMODE_BLOB:
        case GIT_FILEMODE_BLOB_EXECUTABLE:
                if (!is_manifest_name(name))
                        return 0;
                w->error = walk_add(w, TAKE_PTR(path), git_tree_entry_id(e));
                return w->error < 0 ? -1 : 0;
        case GIT_FILEMODE_LINK:
                w->problem = strdup_printf("'%s' is a symbolic link, which is not followed in a commit: "
                                           "commit the file or folder it points to in its place",
                                           path);
                break;
        case GIT_FILEMODE_COMMIT:
                w->problem = strdup_printf("'%s' is a submodule, whose commits are not read: commit its "
                                           "manifests in this repository",
                                           path);
                break;
        default:
                w->problem = strdup_printf("'%s' is of an unknown kind (mode %06o)", path, (unsigned) mode);
                break;
        }
        w->error = w->problem ? -EINVAL : -ENOMEM;
        return -1;
}

static int walk_file_cmp(const void *a, const void *b) {
        const struct walk_file *x = a, *y = b;

        return strcmp(x->path, y->path);
}

static void walk_done(struct walk *w) {
        for (size_t i = 0; i < w->n; i++)
                free(w->files[i].path);
        free(w->files);
        free(w->problem);
}

struct git_snapshot *git_snapshot_free(struct git_snapshot *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_owned; i++)
                free(s->owned[i]);
        free(s->owned);
        free(s->files);
        free(s->signature);
        free(s->signed_data);
        free(s);
        return NULL;
}

/* Adds the blob 'oid', named 'path' (taken), to the snapshot. */
static int snapshot_add_blob(git_repository *repo, struct git_snapshot *s, char *path, const git_oid *oid,
                             char **reterr_message) {
        _cleanup_free_ char *name = path;
        _cleanup_(git_blob_freep) git_blob *blob = NULL;
        git_object_size_t size;
        void *data;

        if (git_blob_lookup(&blob, repo, oid) < 0)
                return fail(reterr_message, -EIO, git_message(name));
        size = git_blob_rawsize(blob);
        if (size > YAML_READ_MAX_FILE_SIZE)
                return fail(reterr_message, -EINVAL,
                            strdup_printf("'%s' is larger than %u bytes", name, YAML_READ_MAX_FILE_SIZE));
        data = malloc(size + 1);
        if (!data)
                return -ENOMEM;
        memcpy(data, git_blob_rawcontent(blob), size);
        ((char *) data)[size] = '\0';
        s->owned[s->n_owned++] = data;
        s->files[s->n_files++] = (struct manifest_file){ .name = name, .data = data, .size = size };
        s->owned[s->n_owned++] = TAKE_PTR(name);
        return 0;
}

int git_source_read(const struct git_source_options *o, const char *ref, const char *path,
                    struct git_snapshot **ret, char **reterr_message) {
        _cleanup_(git_repository_freep) git_repository *repo = NULL;
        _cleanup_(git_commit_freep) git_commit *commit = NULL;
        _cleanup_(git_tree_freep) git_tree *root = NULL, *tree = NULL;
        _cleanup_(git_tree_entry_freep) git_tree_entry *entry = NULL;
        _cleanup_(git_snapshot_freep) struct git_snapshot *s = NULL;
        _cleanup_(walk_done) struct walk w = { .base = path };
        git_buf sig = GIT_BUF_INIT_CONST(NULL, 0), signed_data = GIT_BUF_INIT_CONST(NULL, 0);
        git_oid id;
        int r;

        assert(o);
        assert(path);
        assert(ret);

        r = open_commit(o, ref, &repo, &commit, reterr_message);
        if (r < 0)
                return r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        (void) git_oid_tostr(s->revision, sizeof(s->revision), git_commit_id(commit));
        s->commit_time = (int64_t) git_commit_time(commit);

        if (git_commit_tree(&root, commit) < 0)
                return fail(reterr_message, -EIO, git_message(s->revision));
        if (*path) {
                if (git_tree_entry_bypath(&entry, root, path) < 0)
                        return fail(reterr_message, -ENOENT,
                                    strdup_printf("no '%s' in commit %s", path, s->revision));
                if (git_tree_entry_type(entry) == GIT_OBJECT_BLOB &&
                    git_tree_entry_filemode(entry) != GIT_FILEMODE_LINK) {
                        /* A file named directly is read whatever its name, as a path is. */
                        char *p = strdup(path);

                        s->files = calloc(1, sizeof(*s->files));
                        s->owned = calloc(2, sizeof(*s->owned));
                        if (!p || !s->files || !s->owned) {
                                free(p);
                                return -ENOMEM;
                        }
                        r = snapshot_add_blob(repo, s, p, git_tree_entry_id(entry), reterr_message);
                        if (r < 0)
                                return r;
                        goto signature;
                }
                if (git_tree_entry_type(entry) != GIT_OBJECT_TREE)
                        return fail(reterr_message, -EINVAL,
                                    strdup_printf("'%s' in commit %s is neither a folder nor a file "
                                                  "(a symbolic link or a submodule?)",
                                                  path, s->revision));
                if (git_tree_lookup(&tree, repo, git_tree_entry_id(entry)) < 0)
                        return fail(reterr_message, -EIO, git_message(path));
        }

        if (git_tree_walk(tree ? tree : root, GIT_TREEWALK_PRE, on_tree_entry, &w) < 0) {
                if (w.error == -ENOMEM)
                        return -ENOMEM;
                if (w.problem)
                        return fail(reterr_message, w.error,
                                    strdup_printf("commit %s: %s", s->revision, w.problem));
                return fail(reterr_message, -EIO, git_message(s->revision));
        }
        if (w.n == 0)
                return fail(reterr_message, -EINVAL,
                            strdup_printf("'%s' in commit %s holds no manifest (*.yaml, *.yml)",
                                          *path ? path : "/", s->revision));
        /* Bytewise order of the paths, as a folder is read (a tree's own order differs). */
        qsort(w.files, w.n, sizeof(*w.files), walk_file_cmp);
        s->files = calloc(w.n, sizeof(*s->files));
        s->owned = calloc(2 * w.n, sizeof(*s->owned));
        if (!s->files || !s->owned)
                return -ENOMEM;
        for (size_t i = 0; i < w.n; i++) {
                r = snapshot_add_blob(repo, s, TAKE_PTR(w.files[i].path), &w.files[i].oid, reterr_message);
                if (r < 0)
                        return r;
        }

signature:
        git_oid_cpy(&id, git_commit_id(commit));
        r = git_commit_extract_signature(&sig, &signed_data, repo, &id, NULL);
        if (r == 0) {
                s->signature = strndup(sig.ptr, sig.size);
                s->signed_data = malloc(signed_data.size + 1);
                if (s->signed_data) {
                        memcpy(s->signed_data, signed_data.ptr, signed_data.size);
                        s->signed_data[signed_data.size] = '\0';
                        s->signed_size = signed_data.size;
                }
                git_buf_dispose(&sig);
                git_buf_dispose(&signed_data);
                if (!s->signature || !s->signed_data)
                        return -ENOMEM;
        } else if (r != GIT_ENOTFOUND)
                return fail(reterr_message, -EIO, git_message(s->revision));
        *ret = TAKE_PTR(s);
        return 0;
}

int git_source_descends(const struct git_source_options *o, const char *id, const char *ancestor) {
        _cleanup_(git_repository_freep) git_repository *repo = NULL;
        _cleanup_free_ char *message = NULL;
        git_oid a, b;
        int r;

        if (git_start() < 0)
                return -EIO;
        r = open_repository(o, &repo, &message);
        if (r < 0)
                return r;
        if (git_oid_fromstr(&a, id) < 0 || git_oid_fromstr(&b, ancestor) < 0)
                return -EINVAL;
        if (git_oid_equal(&a, &b))
                return 1;
        {
                _cleanup_(git_commit_freep) git_commit *x = NULL, *y = NULL;

                if (git_commit_lookup(&x, repo, &a) < 0 || git_commit_lookup(&y, repo, &b) < 0)
                        return -ENOENT;
        }
        r = git_graph_descendant_of(repo, &a, &b);
        return r < 0 ? -EIO : r;
}

const char *git_source_version(void) {
        static char v[32];
        int major = 0, minor = 0, rev = 0;

        (void) git_libgit2_version(&major, &minor, &rev);
        (void) snprintf(v, sizeof v, "%d.%d.%d", major, minor, rev);
        return v;
}

/* The config reader: the good and bad corpora under tests/data/config/, each bad file with its
 * exact expected errors; every key and its default; durations; relative paths; and secrets
 * (trailing newline, empty, modes, systemd credentials), written to a scratch folder since a
 * source tree cannot keep file modes. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "corpus.h"
#include "tap.h"
#include "util.h"
#include "yaml-read.h"

static const char *tmp_dir;

static void test_good_corpus(void) {
        size_t n;
        char **names = list_sorted(".", ".yaml", &n);

        ok(n >= 4, "good: %zu configs", n);
        for (size_t i = 0; i < n; i++) {
                _cleanup_(diags_donep) struct yaml_read_diags w = {}, e = {};
                _cleanup_(config_freep) struct config *c = NULL;
                _cleanup_free_ char *got = NULL;
                int r;

                r = config_load(names[i], NULL, &c, &w, &e);
                got = joined(&e);
                ok(r == 0 && c && e.n_items == 0, "good: %s loads without errors", names[i]);
                if (e.n_items > 0)
                        diag("%s", got);
        }
        strv_free(names);
}

static void test_bad_corpus(void) {
        size_t n;
        char **names = list_sorted(".", ".yaml", &n);

        for (size_t i = 0; i < n; i++) {
                _cleanup_(diags_donep) struct yaml_read_diags w = {}, e = {};
                _cleanup_free_ char *got = NULL, *want = NULL;
                struct config *c = NULL;
                int r;

                want = expected_errors(names[i]);
                ok(want && *want, "bad: %s names its expected errors", names[i]);
                r = config_load(names[i], NULL, &c, &w, &e);
                ok(r == -EINVAL && !c, "bad: %s is refused (%d) and nothing is returned", names[i], r);
                got = joined(&e);
                is_str(got, want, "bad: %s gives exactly the expected errors", names[i]);
                config_free(c);
        }
        strv_free(names);
}

static struct config *load_ok(const char *path, const char *override) {
        _cleanup_(diags_donep) struct yaml_read_diags w = {}, e = {};
        struct config *c = NULL;
        int r;

        r = config_load(path, override, &c, &w, &e);
        if (r < 0) {
                _cleanup_free_ char *got = joined(&e);

                diag("loading '%s' failed (%d): %s", path, r, got);
        }
        return c;
}

static void test_defaults(void) {
        _cleanup_(config_freep) struct config *c = load_ok("good/minimal.yaml", NULL);

        if (!ok(c, "minimal.yaml loads"))
                return;
        is_str(c->path, "good/minimal.yaml", "path: as given");
        is_str(c->url, "http://localhost:9200", "cluster.url");
        ok(!c->cloud_id, "cluster.cloud_id: none");
        is_int(c->auth, CONFIG_AUTH_NONE, "no authentication: an open cluster");
        ok(!c->username && !c->secret_file.path && !c->secret, "no username, no secret");
        ok(!c->ca_file.path && !c->client_cert_file.path && !c->client_key_file.path, "no TLS files");
        ok(c->verify_tls, "verify_tls defaults to true");
        is_int(c->connect_timeout_usec, 5 * USEC_PER_SEC, "connect_timeout defaults to 5s");
        is_int(c->request_timeout_usec, 30 * USEC_PER_SEC, "request_timeout defaults to 30s");
        is_int(c->max_result_window, 10000, "max_result_window defaults to 10000");
        is_str(c->manifests, "good/manifests", "manifests: relative to the config's folder");
        is_int(c->interval_usec, 5 * USEC_PER_MINUTE, "interval defaults to 5m");
        is_int(c->jitter_percent, 10, "jitter defaults to 10%%");
        is_int(c->concurrency, 2, "concurrency defaults to 2");
        is_int(c->retry_max_attempts, 5, "retry.max_attempts defaults to 5");
        is_int(c->retry_initial_delay_usec, 500 * USEC_PER_MSEC, "retry.initial_delay defaults to 500ms");
        is_int(c->retry_max_delay_usec, 30 * USEC_PER_SEC, "retry.max_delay defaults to 30s");
        ok(c->max_deletions == 10, "safety.max_deletions defaults to 10");
        ok(!c->dry_run, "dry_run defaults to false");
        is_str(c->backup_dir, "/var/lib/connector-reconciler/deleted", "backup_dir default");
}

static void test_full(void) {
        _cleanup_(config_freep) struct config *c = NULL;

        assert(unsetenv("CREDENTIALS_DIRECTORY") == 0);
        c = load_ok("good/full.yaml", NULL);
        if (!ok(c, "full.yaml loads"))
                return;
        is_str(c->url, "https://es.example.net:9200", "cluster.url: the trailing slash is dropped");
        is_int(c->auth, CONFIG_AUTH_API_KEY, "api_key_file: API key authentication");
        is_str(c->secret_file.path, "good/secrets/api-key", "api_key_file: relative to the config's folder");
        is_str(c->secret_file.key, "cluster.api_key_file", "the secret file's key");
        ok(c->secret_file.line == 4 && c->secret_file.column == 17, "the secret file's position (%u:%u)",
           c->secret_file.line, c->secret_file.column);
        ok(!c->secret, "loading reads no secret");
        is_str(c->ca_file.path, "/etc/ssl/certs/es-ca.pem", "ca_file: absolute as written");
        ok(!c->verify_tls, "verify_tls: false");
        is_str(c->client_cert_file.path, "good/tls/client.pem", "client_cert_file");
        is_str(c->client_key_file.path, "good/tls/client.key", "client_key_file");
        is_int(c->connect_timeout_usec, 2 * USEC_PER_SEC, "connect_timeout: 2s");
        is_int(c->request_timeout_usec, 90 * USEC_PER_SEC, "request_timeout: 1m30s");
        is_int(c->max_result_window, 50000, "max_result_window: 50000");
        is_str(c->manifests, "/srv/gitops/connectors", "manifests: absolute as written");
        is_int(c->interval_usec, USEC_PER_HOUR, "interval: 1h");
        is_int(c->jitter_percent, 25, "jitter: 25%%");
        is_int(c->concurrency, 8, "concurrency: 8");
        is_int(c->retry_max_attempts, 3, "retry.max_attempts: 3");
        is_int(c->retry_initial_delay_usec, 250 * USEC_PER_MSEC, "retry.initial_delay: 250ms");
        is_int(c->retry_max_delay_usec, USEC_PER_MINUTE, "retry.max_delay: 1m");
        ok(c->max_deletions == 0, "safety.max_deletions: 0");
        ok(c->dry_run, "dry_run: true");
        is_str(c->backup_dir, "good/backups", "backup_dir: relative to the config's folder");
}

static void test_other_good(void) {
        _cleanup_(config_freep) struct config *cloud = load_ok("good/cloud-id.yaml", NULL);
        _cleanup_(config_freep) struct config *bearer = load_ok("good/bearer.yaml", NULL);
        _cleanup_(config_freep) struct config *bare = NULL;
        _cleanup_(config_freep) struct config *abs = NULL;
        char cwd[PATH_MAX], path[PATH_MAX + 32];

        if (ok(cloud, "cloud-id.yaml loads")) {
                is_str(cloud->url,
                       "https://cec6f261a74bf41a565c43a217e4ea5b.us-east1.gcp.elastic-cloud.com:443",
                       "cloud_id: decoded to the Elasticsearch URL");
                ok(cloud->cloud_id && startswith(cloud->cloud_id, "my-deployment:"),
                   "cloud_id: kept as written");
                is_int(cloud->auth, CONFIG_AUTH_BASIC, "username + password_file: basic authentication");
                is_str(cloud->username, "connector-reconciler", "username");
                is_str(cloud->secret_file.path, "good/password", "password_file");
                ok(cloud->max_deletions == CONFIG_UNLIMITED, "max_deletions: unlimited");
        }
        if (ok(bearer, "bearer.yaml loads")) {
                is_str(bearer->url, "https://[::1]:9200", "url: an IPv6 literal");
                is_int(bearer->auth, CONFIG_AUTH_BEARER, "bearer_token_file: bearer authentication");
                is_str(bearer->secret_file.path, "/run/credentials/connector-reconciler.service/token",
                       "bearer_token_file: absolute");
                is_int(bearer->connect_timeout_usec, 1500 * USEC_PER_MSEC, "connect_timeout: 1500ms");
                is_int(bearer->request_timeout_usec, 2 * USEC_PER_MINUTE, "request_timeout: \"2m\" quoted");
                is_str(bearer->manifests, "good/../manifests",
                       "manifests: ../ relative to the config's folder");
                is_int(bearer->interval_usec, 90 * USEC_PER_MINUTE, "interval: 1h30m");
                is_int(bearer->jitter_percent, 0, "jitter: 0%%");
                is_int(bearer->concurrency, 64, "concurrency: 64, the maximum");
                ok(bearer->retry_max_attempts == 1 && bearer->retry_initial_delay_usec == USEC_PER_SEC &&
                           bearer->retry_max_delay_usec == USEC_PER_SEC,
                   "retry: initial_delay may equal max_delay");
                ok(bearer->max_deletions == CONFIG_UNLIMITED, "max_deletions: \"unlimited\" quoted");
                ok(!bearer->dry_run, "dry_run: FALSE");
        }

        /* A config path with no folder: relative paths stay relative to the working directory. */
        assert(chdir("good") == 0);
        bare = load_ok("minimal.yaml", NULL);
        ok(bare && streq(bare->manifests, "manifests"),
           "a config with no folder in its path: paths as written");
        assert(getcwd(cwd, sizeof(cwd)));
        (void) snprintf(path, sizeof(path), "%s/minimal.yaml", cwd);
        abs = load_ok(path, NULL);
        (void) snprintf(path, sizeof(path), "%s/manifests", cwd);
        ok(abs && streq(abs->manifests, path), "an absolute config path: paths below its folder");
        assert(chdir("..") == 0);
}

static void test_override(void) {
        _cleanup_(diags_donep) struct yaml_read_diags w = {}, e = {};
        _cleanup_(config_freep) struct config *c = NULL, *d = NULL;
        _cleanup_free_ char *got = NULL;
        static const char no_manifests[] = "cluster:\n  url: http://localhost:9200\n";
        int r;

        r = config_parse("/etc/cr/config.yaml", no_manifests, strlen(no_manifests), NULL, &c, &w, &e);
        got = joined(&e);
        ok(r == -EINVAL && !c, "no manifests key and no override: refused");
        is_str(got, "/etc/cr/config.yaml:1:1: missing required key 'manifests' (or give --manifests)\n",
               "no manifests key and no override: the error");
        yaml_read_diags_done(&e);

        r = config_parse("/etc/cr/config.yaml", no_manifests, strlen(no_manifests), "here/m", &c, &w, &e);
        ok(r == 0 && c && streq(c->manifests, "here/m"),
           "an override stands in for the manifests key, as given");

        d = load_ok("good/minimal.yaml", "/elsewhere");
        ok(d && streq(d->manifests, "/elsewhere"), "an override replaces the manifests key");
}

static void test_errors_misc(void) {
        _cleanup_(diags_donep) struct yaml_read_diags w = {}, e = {};
        _cleanup_(config_freep) struct config *c = NULL;
        _cleanup_free_ char *got = NULL;
        static const char http_auth[] =
                "cluster:\n  url: http://es:9200\n  bearer_token_file: t\nmanifests: m\n";
        int r;

        r = config_load("good/no-such-config.yaml", NULL, &c, &w, &e);
        got = joined(&e);
        ok(r == -ENOENT && !c, "a missing config file: -ENOENT");
        is_str(got, "good/no-such-config.yaml: cannot open: No such file or directory\n",
               "a missing config file: the error");
        yaml_read_diags_done(&e);
        free(got);

        r = config_load("good", NULL, &c, &w, &e);
        got = joined(&e);
        is_str(got, "good: is a directory, not a file\n", "a folder as the config file");
        yaml_read_diags_done(&e);
        free(got);

        r = config_parse("c.yaml", http_auth, strlen(http_auth), NULL, &c, &w, &e);
        got = joined(&w);
        ok(r == 0 && c, "credentials with plain http: allowed");
        is_str(got,
               "c.yaml:2:8: 'cluster.url' is plain http: credentials will cross the network unencrypted\n",
               "credentials with plain http: a warning");
}

static void test_durations(void) {
        static const struct {
                const char *s;
                int r;
                usec_t usec;
        } cases[] = {
                { "500ms", 0, 500 * USEC_PER_MSEC },
                { "30s", 0, 30 * USEC_PER_SEC },
                { "5m", 0, 5 * USEC_PER_MINUTE },
                { "1h", 0, USEC_PER_HOUR },
                { "1m30s", 0, 90 * USEC_PER_SEC },
                { "1h30m", 0, 90 * USEC_PER_MINUTE },
                { "2h1m3s4ms", 0,
                  2 * USEC_PER_HOUR + USEC_PER_MINUTE + 3 * USEC_PER_SEC + 4 * USEC_PER_MSEC },
                { "0s", 0, 0 },
                { "007s", 0, 7 * USEC_PER_SEC },
                { "1s500ms", 0, 1500 * USEC_PER_MSEC },
                { "5124095576h", 0, 5124095576ULL * USEC_PER_HOUR },
                { "5124095577h", -ERANGE, 0 },
                { "99999999999999999999s", -ERANGE, 0 },
                { "", -EINVAL, 0 },
                { "5", -EINVAL, 0 },
                { "5 m", -EINVAL, 0 },
                { " 5m", -EINVAL, 0 },
                { "5m ", -EINVAL, 0 },
                { "1.5s", -EINVAL, 0 },
                { "-5s", -EINVAL, 0 },
                { "+5s", -EINVAL, 0 },
                { "5d", -EINVAL, 0 },
                { "5min", -EINVAL, 0 },
                { "5S", -EINVAL, 0 },
                { "5us", -EINVAL, 0 },
                { "30s5m", -EINVAL, 0 },
                { "5m5m", -EINVAL, 0 },
                { "1ms1s", -EINVAL, 0 },
                { "m", -EINVAL, 0 },
                { "1h30", -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                usec_t v = 12345;
                int r = config_parse_duration(cases[i].s, &v);

                ok(r == cases[i].r && (r < 0 ? v == 12345 : v == cases[i].usec), "duration '%s': %d",
                   cases[i].s, r);
        }
}

static char *tmp_path(const char *rel) {
        char *p;

        assert(asprintf(&p, "%s/%s", tmp_dir, rel) >= 0);
        return p;
}

static void write_file(const char *rel, const char *content, size_t size, mode_t mode) {
        _cleanup_free_ char *p = tmp_path(rel);
        int fd;

        (void) unlink(p); /* a read-only file from a previous case */
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

        assert(fd >= 0);
        assert(write(fd, content, size) == (ssize_t) size);
        assert(fchmod(fd, mode) == 0);
        close(fd);
}

/* Loads a config from the scratch folder with the secret file key, then reads the secret. */
static int load_secret(const char *key_line, const char *content, size_t size, mode_t mode,
                       char **ret_secret, char **ret_warnings, char **ret_errors) {
        _cleanup_(diags_donep) struct yaml_read_diags w = {}, e = {};
        _cleanup_(config_freep) struct config *c = NULL;
        _cleanup_free_ char *yaml = NULL, *cfg = tmp_path("config.yaml");
        int r;

        if (content)
                write_file("secret", content, size, mode);
        assert(asprintf(&yaml, "cluster:\n  url: https://es:9200\n  %s\nmanifests: m\n", key_line) >= 0);
        write_file("config.yaml", yaml, strlen(yaml), 0644);
        r = config_load(cfg, NULL, &c, &w, &e);
        if (r >= 0) {
                ok(!c->secret, "loading alone reads no secret");
                r = config_load_secrets(c, &w, &e);
                *ret_secret = c->secret ? strdup(c->secret) : NULL;
        } else
                *ret_secret = NULL;
        *ret_warnings = joined(&w);
        *ret_errors = joined(&e);
        return r;
}

static void test_secrets(void) {
        _cleanup_free_ char *cfg = tmp_path("config.yaml"), *cred = tmp_path("creds"), *want = NULL;
        char *secret = NULL, *warnings = NULL, *errors = NULL;
        char big[CONFIG_MAX_SECRET_SIZE + 2];
        int r;

#define RESET() \
        do { \
                free(secret); \
                free(warnings); \
                free(errors); \
                secret = warnings = errors = NULL; \
        } while (0)

        assert(unsetenv("CREDENTIALS_DIRECTORY") == 0);

        r = load_secret("api_key_file: secret", "abc\n", 4, 0600, &secret, &warnings, &errors);
        ok(r == 0 && streq_ptr(secret, "abc"), "one trailing newline is not part of the secret");
        is_str(warnings, "", "mode 0600: no warning");
        RESET();

        r = load_secret("api_key_file: secret", "abc", 3, 0400, &secret, &warnings, &errors);
        ok(r == 0 && streq_ptr(secret, "abc"), "a secret with no trailing newline");
        RESET();

        r = load_secret("bearer_token_file: secret", "abc\n", 4, 0644, &secret, &warnings, &errors);
        ok(r == 0 && streq_ptr(secret, "abc"), "a secret readable by others is read");
        assert(asprintf(&want,
                        "%s:3:22: 'cluster.bearer_token_file': secret file '%s/secret' is readable by group "
                        "or "
                        "others (mode 0644); chmod go-rwx it\n",
                        cfg, tmp_dir) >= 0);
        is_str(warnings, want, "a secret readable by others: a warning at the key");
        free(want);
        want = NULL;
        RESET();

        r = load_secret("api_key_file: secret", "abc\n", 4, 0640, &secret, &warnings, &errors);
        ok(r == 0 && strstr(warnings, "(mode 0640)"), "a secret readable by the group: a warning");
        RESET();

        r = load_secret("api_key_file: secret", "abc\n\n", 5, 0600, &secret, &warnings, &errors);
        assert(asprintf(&want,
                        "%s:3:17: 'cluster.api_key_file': '%s/secret' holds a line break or a NUL byte "
                        "inside "
                        "the secret\n",
                        cfg, tmp_dir) >= 0);
        ok(r == -EINVAL && !secret, "two trailing newlines: refused");
        is_str(errors, want, "two trailing newlines: the error");
        free(want);
        want = NULL;
        RESET();

        r = load_secret("api_key_file: secret", "a\r\n", 3, 0600, &secret, &warnings, &errors);
        ok(r == -EINVAL && strstr(errors, "line break"), "a CR in a secret: refused");
        RESET();

        r = load_secret("api_key_file: secret", "a\0b\n", 4, 0600, &secret, &warnings, &errors);
        ok(r == -EINVAL && strstr(errors, "NUL byte"), "a NUL in a secret: refused");
        RESET();

        r = load_secret("api_key_file: secret", "", 0, 0600, &secret, &warnings, &errors);
        assert(asprintf(&want, "%s:3:17: 'cluster.api_key_file': '%s/secret' is empty\n", cfg, tmp_dir) >=
               0);
        is_str(errors, want, "an empty secret: refused");
        free(want);
        want = NULL;
        RESET();

        r = load_secret("api_key_file: secret", "\n", 1, 0600, &secret, &warnings, &errors);
        ok(r == -EINVAL && strstr(errors, "is empty"), "a secret of one newline is empty");
        RESET();

        memset(big, 'k', sizeof(big));
        r = load_secret("api_key_file: secret", big, CONFIG_MAX_SECRET_SIZE, 0600, &secret, &warnings,
                        &errors);
        ok(r == 0 && secret && strlen(secret) == CONFIG_MAX_SECRET_SIZE, "a secret of 64 KiB");
        RESET();
        r = load_secret("api_key_file: secret", big, CONFIG_MAX_SECRET_SIZE + 1, 0600, &secret, &warnings,
                        &errors);
        ok(r == -EINVAL && strstr(errors, "is larger than 65536 bytes"), "a secret past 64 KiB: refused");
        RESET();

        r = load_secret("api_key_file: nothing-here", NULL, 0, 0, &secret, &warnings, &errors);
        assert(asprintf(&want,
                        "%s:3:17: 'cluster.api_key_file': cannot open '%s/nothing-here': No such file or "
                        "directory\n",
                        cfg, tmp_dir) >= 0);
        ok(r == -EINVAL, "a missing secret file: refused when reading secrets");
        is_str(errors, want, "a missing secret file: the error names the key");
        free(want);
        want = NULL;
        RESET();

        r = load_secret("api_key_file: .", NULL, 0, 0, &secret, &warnings, &errors);
        ok(r == -EINVAL && strstr(errors, "is not a regular file"), "a folder as a secret file: refused");
        RESET();

        /* TLS files: checked when reading secrets; a client key readable by others warns. */
        write_file("ca.pem", "x", 1, 0644);
        write_file("client.pem", "x", 1, 0644);
        write_file("client.key", "x", 1, 0644);
        r = load_secret("ca_file: ca.pem\n  client_cert_file: client.pem\n  client_key_file: client.key",
                        NULL, 0, 0, &secret, &warnings, &errors);
        ok(r == 0 && !secret, "TLS files that exist; no secret");
        ok(strstr(warnings, "'cluster.client_key_file': secret file") && !strstr(warnings, "ca_file"),
           "a client key readable by others warns; a CA file does not");
        RESET();
        r = load_secret("ca_file: missing.pem", NULL, 0, 0, &secret, &warnings, &errors);
        ok(r == -EINVAL && strstr(errors, "'cluster.ca_file': cannot open"), "a missing CA file: refused");
        RESET();

        /* systemd credentials: a bare name is looked up in $CREDENTIALS_DIRECTORY. */
        assert(mkdir(cred, 0700) == 0);
        write_file("creds/api-key", "from-credentials\n", 17, 0400);
        write_file("api-key", "from-config-folder\n", 19, 0600);
        assert(setenv("CREDENTIALS_DIRECTORY", cred, 1) == 0);
        r = load_secret("api_key_file: api-key", NULL, 0, 0, &secret, &warnings, &errors);
        ok(r == 0 && streq_ptr(secret, "from-credentials"),
           "a bare name with $CREDENTIALS_DIRECTORY: the credential");
        RESET();
        r = load_secret("api_key_file: ./api-key", NULL, 0, 0, &secret, &warnings, &errors);
        ok(r == 0 && streq_ptr(secret, "from-config-folder"),
           "./NAME with $CREDENTIALS_DIRECTORY: beside the config");
        RESET();
        r = load_secret("api_key_file: other", NULL, 0, 0, &secret, &warnings, &errors);
        ok(r == -EINVAL && strstr(errors, "(a credential in $CREDENTIALS_DIRECTORY)"),
           "a missing credential says where it was looked for");
        RESET();
        assert(setenv("CREDENTIALS_DIRECTORY", "", 1) == 0);
        r = load_secret("api_key_file: api-key", NULL, 0, 0, &secret, &warnings, &errors);
        ok(r == 0 && streq_ptr(secret, "from-config-folder"), "an empty $CREDENTIALS_DIRECTORY is ignored");
        RESET();
        assert(unsetenv("CREDENTIALS_DIRECTORY") == 0);
        r = load_secret("api_key_file: api-key", NULL, 0, 0, &secret, &warnings, &errors);
        ok(r == 0 && streq_ptr(secret, "from-config-folder"),
           "a bare name without $CREDENTIALS_DIRECTORY: beside the config");
        RESET();
#undef RESET
}

static void test_secret_reload(void) {
        _cleanup_(diags_donep) struct yaml_read_diags w = {}, e = {};
        _cleanup_(config_freep) struct config *c = NULL;
        _cleanup_free_ char *cfg = tmp_path("config.yaml"), *yaml = NULL;

        write_file("secret", "first\n", 6, 0600);
        assert(asprintf(&yaml, "cluster:\n  url: https://es:9200\n  username: u\n  password_file: "
                               "secret\nmanifests: m\n") >= 0);
        write_file("config.yaml", yaml, strlen(yaml), 0600);
        assert(config_load(cfg, NULL, &c, &w, &e) == 0);
        ok(config_load_secrets(c, &w, &e) == 0 && streq_ptr(c->secret, "first"), "secrets: first read");
        write_file("secret", "second\n", 7, 0600);
        ok(config_load_secrets(c, &w, &e) == 0 && streq_ptr(c->secret, "second"), "secrets: read again");
        write_file("secret", "", 0, 0600);
        ok(config_load_secrets(c, &w, &e) == -EINVAL && !c->secret,
           "secrets: a failed read leaves no secret");
}

int main(void) {
        const char *top = getenv("top_srcdir") ?: ".";
        char tmpl[PATH_MAX], dir[PATH_MAX];

        (void) snprintf(tmpl, sizeof(tmpl), "%s/test-config.XXXXXX", getenv("TMPDIR") ?: "/tmp");
        tmp_dir = mkdtemp(tmpl);
        assert(tmp_dir);

        (void) snprintf(dir, sizeof(dir), "%s/tests/data/config/good", top);
        if (chdir(dir) < 0)
                skip_all("cannot find tests/data/config (set top_srcdir)");
        test_good_corpus();
        assert(chdir("..") == 0);
        test_defaults();
        test_full();
        test_other_good();
        test_override();
        test_errors_misc();
        assert(chdir("bad") == 0);
        test_bad_corpus();

        test_durations();
        test_secrets();
        test_secret_reload();

        {
                _cleanup_free_ char *cmd = NULL;

                assert(chdir("/") == 0);
                assert(asprintf(&cmd, "rm -rf '%s'", tmp_dir) >= 0);
                (void) system(cmd);
        }
        return done();
}

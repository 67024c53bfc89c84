/* The config reader: the good and bad corpora under tests/data/config/, each bad file with its
 * exact expected errors; every key and its default; each key's values, good and bad, as a table;
 * durations; relative paths; $STATE_DIRECTORY; URLs holding credentials, which no message may
 * show; and secrets (trailing newline, empty, modes, systemd credentials), written to a scratch
 * folder since a source tree cannot keep file modes. */

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
#include "duration.h"
#include "scratch.h"
#include "tap.h"
#include "util.h"
#include "yaml-read.h"

static char *tmp_dir;

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
        is_int(c->auth, CLUSTER_AUTH_NONE, "no authentication: an open cluster");
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
        ok(!c->cluster_uuid, "cluster.cluster_uuid: none, any cluster");
        ok(!c->proxy, "cluster.proxy: none");
        is_str(c->state_dir, "/var/lib/connector-reconciler", "state_dir default, without $STATE_DIRECTORY");
        is_str(c->state_dir, CONFIG_DEFAULT_STATE_DIR, "state_dir default: CONFIG_DEFAULT_STATE_DIR");
        is_int(c->cycle_timeout_usec, USEC_PER_HOUR, "cycle_timeout defaults to 1h");
        is_int(c->cycle_timeout_usec, CONFIG_DEFAULT_CYCLE_TIMEOUT_USEC,
               "CONFIG_DEFAULT_CYCLE_TIMEOUT_USEC");
        is_int(c->orphan_grace_usec, 0, "safety.orphan_grace defaults to off");
        is_int(c->backup_retention_usec, 30 * 24 * USEC_PER_HOUR, "backup_retention defaults to 30 days");
        ok(!c->confirm_removed_sets && c->n_confirm_removed_sets == 0,
           "safety.confirm_removed_sets defaults to none");
        ok(!c->metrics_textfile, "metrics.textfile defaults to none: no metrics");
}

static void test_full(void) {
        _cleanup_(config_freep) struct config *c = NULL;

        assert(unsetenv("CREDENTIALS_DIRECTORY") == 0);
        c = load_ok("good/full.yaml", NULL);
        if (!ok(c, "full.yaml loads"))
                return;
        is_str(c->url, "https://es.example.net:9200", "cluster.url: the trailing slash is dropped");
        is_int(c->auth, CLUSTER_AUTH_API_KEY, "api_key_file: API key authentication");
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
        is_str(c->cluster_uuid, "Rfj3kSBfQ1y2-XyzAbc_1w", "cluster.cluster_uuid");
        is_str(c->proxy, "http://proxy.example.net:3128", "cluster.proxy");
        is_str(c->state_dir, "good/state", "state_dir: relative to the config's folder");
        is_int(c->cycle_timeout_usec, 30 * USEC_PER_MINUTE, "cycle_timeout: 30m");
        is_int(c->orphan_grace_usec, 2 * USEC_PER_HOUR, "safety.orphan_grace: 2h");
        is_int(c->backup_retention_usec, 240 * USEC_PER_HOUR, "backup_retention: 240h");
        is_str(c->metrics_textfile, "/var/lib/prometheus/node-exporter/connector-reconciler.prom",
               "metrics.textfile");
        if (ok(c->n_confirm_removed_sets == 2 && c->confirm_removed_sets,
               "safety.confirm_removed_sets: two names")) {
                is_str(c->confirm_removed_sets[0], "billing", "safety.confirm_removed_sets[0]");
                is_str(c->confirm_removed_sets[1], "search-2", "safety.confirm_removed_sets[1]");
                ok(!c->confirm_removed_sets[2], "safety.confirm_removed_sets: NULL-terminated");
        }
}

static void test_other_good(void) {
        _cleanup_(config_freep) struct config *cloud = load_ok("good/cloud-id.yaml", NULL);
        _cleanup_(config_freep) struct config *bearer = load_ok("good/bearer.yaml", NULL);
        _cleanup_(config_freep) struct config *socks = load_ok("good/proxy-socks.yaml", NULL);
        _cleanup_(config_freep) struct config *grace = load_ok("good/grace.yaml", NULL);
        _cleanup_(config_freep) struct config *bare = NULL;
        _cleanup_(config_freep) struct config *abs = NULL;
        char cwd[PATH_MAX], path[PATH_MAX + 32];

        if (ok(cloud, "cloud-id.yaml loads")) {
                is_str(cloud->url,
                       "https://cec6f261a74bf41a565c43a217e4ea5b.us-east1.gcp.elastic-cloud.com:443",
                       "cloud_id: decoded to the Elasticsearch URL");
                ok(cloud->cloud_id && startswith(cloud->cloud_id, "my-deployment:"),
                   "cloud_id: kept as written");
                is_int(cloud->auth, CLUSTER_AUTH_BASIC, "username + password_file: basic authentication");
                is_str(cloud->username, "connector-reconciler", "username");
                is_str(cloud->secret_file.path, "good/password", "password_file");
                ok(cloud->max_deletions == CONFIG_UNLIMITED, "max_deletions: unlimited");
        }
        if (ok(bearer, "bearer.yaml loads")) {
                is_str(bearer->url, "https://[::1]:9200", "url: an IPv6 literal");
                is_int(bearer->auth, CLUSTER_AUTH_BEARER, "bearer_token_file: bearer authentication");
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
        if (ok(socks, "proxy-socks.yaml loads")) {
                is_str(socks->proxy, "socks5h://[fd00::1]:1080",
                       "proxy: the scheme in lower case, an IPv6 address, no trailing slash");
                ok(socks->cluster_uuid && strlen(socks->cluster_uuid) == CONFIG_MAX_CLUSTER_UUID_LENGTH,
                   "cluster_uuid: 64 characters, the most");
                is_str(socks->state_dir, "/var/lib/other-state", "state_dir: absolute as written");
                is_int(socks->cycle_timeout_usec, 168 * USEC_PER_HOUR, "cycle_timeout: 168h, the most");
                is_int(socks->cycle_timeout_usec, CONFIG_MAX_CYCLE_TIMEOUT_USEC,
                       "CONFIG_MAX_CYCLE_TIMEOUT_USEC");
                is_int(socks->orphan_grace_usec, 0, "orphan_grace: off");
                is_int(socks->backup_retention_usec, 0, "backup_retention: off");
                ok(!socks->confirm_removed_sets && socks->n_confirm_removed_sets == 0,
                   "confirm_removed_sets: [] is none");
        }
        if (ok(grace, "grace.yaml loads")) {
                is_str(grace->proxy, "https://proxy.example.net", "proxy: https, no port");
                is_str(grace->cluster_uuid, "_x-", "cluster_uuid: '_' and '-' anywhere");
                is_int(grace->orphan_grace_usec, 36 * USEC_PER_HOUR, "orphan_grace: 36h");
                ok(grace->n_confirm_removed_sets == 2 &&
                           streq(grace->confirm_removed_sets[0], "legacy-crm") &&
                           streq(grace->confirm_removed_sets[1], "0") && !grace->confirm_removed_sets[2],
                   "confirm_removed_sets: a block list, in order");
                is_str(grace->state_dir, CONFIG_DEFAULT_STATE_DIR, "state_dir: the default");
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

/* One config in memory: its errors and warnings, one a line, and the config when it loads. */
static int parse_text(const char *yaml, struct config **ret, char **ret_errors, char **ret_warnings) {
        _cleanup_(diags_donep) struct yaml_read_diags w = {}, e = {};
        int r;

        r = config_parse("/etc/cr/c.yaml", yaml, strlen(yaml), NULL, ret, &w, &e);
        *ret_errors = joined(&e);
        if (ret_warnings)
                *ret_warnings = joined(&w);
        return r;
}

/* A config in memory and what loading it must report: "" when it loads. */
struct yaml_case {
        const char *yaml;
        const char *errors;
};

/* Loads each case, which must load or be refused with exactly its errors. */
static void check_cases(const char *what, const struct yaml_case *cases, size_t n) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_(config_freep) struct config *c = NULL;
                _cleanup_free_ char *errors = NULL;
                int r;

                r = parse_text(cases[i].yaml, &c, &errors, NULL);
                ok(*cases[i].errors ? r == -EINVAL && !c : r == 0 && c, "%s, case %zu: %s (%d)", what, i,
                   *cases[i].errors ? "refused" : "loads", r);
                is_str(errors, cases[i].errors, "%s, case %zu: the errors", what, i);
        }
}

#define URL     "cluster:\n  url: https://es:9200\n"
#define MAN     "manifests: m\n"
#define UUID_64 "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-"
#define NAME_63 "a12345678901234567890123456789012345678901234567890123456789012"

/* manifests as a mapping: a Git repository's commit. Good ("" expected) and bad (exact errors). */
static void test_git(void) {
        static const struct yaml_case cases[] = {
                { URL "manifests:\n  git: https://git.example.net/ops/c.git\n  ref: main\n  path: /a/b/\n"
                      "  fetch_interval: 1m\n  token_file: t\n",
                  "" },
                { URL "manifests:\n  git: ssh://git@git.example.net/ops/c.git\n  ssh_key_file: k\n"
                      "  known_hosts_file: kh\n",
                  "" },
                { URL "manifests:\n  git: repo\n  verify:\n    allowed_signers_file: s\n", "" },
                { URL "manifests:\n  git: file:///srv/c.git\n", "" },
                { URL "manifests:\n  ref: main\n", "/etc/cr/c.yaml:4:3: 'manifests' as a mapping needs "
                                                   "'git': the repository's URL or path\n" },
                { URL "manifests:\n  git: git@github.com:ops/c.git\n",
                  "/etc/cr/c.yaml:4:8: 'manifests.git' looks like scp's form 'HOST:PATH'; write "
                  "ssh://HOST/PATH\n" },
                { URL "manifests:\n  git: https://user:hunter2@git.example.net/c.git\n",
                  "/etc/cr/c.yaml:4:8: 'manifests.git' holds a password in its URL; put it in "
                  "manifests.token_file instead\n" },
                { URL "manifests:\n  git: ftp://git.example.net/c.git\n",
                  "/etc/cr/c.yaml:4:8: 'manifests.git' must be an https://, http://, git://, ssh:// or "
                  "file:// URL, or a path, got 'ftp://git.example.net/c.git'\n" },
                { URL "manifests:\n  git: https:///c.git\n",
                  "/etc/cr/c.yaml:4:8: 'manifests.git' has no host: 'https:///c.git'\n" },
                { URL "manifests:\n  git: repo\n  fetch_interval: 1m\n",
                  "/etc/cr/c.yaml:5:19: 'manifests.fetch_interval' applies to a URL; a local repository is "
                  "read in place, not fetched\n" },
                { URL "manifests:\n  git: ssh://h/c.git\n  token_file: t\n  known_hosts_file: kh\n",
                  "/etc/cr/c.yaml:5:15: 'manifests.token_file' applies to an https:// URL only\n" },
                { URL "manifests:\n  git: https://h/c.git\n  ssh_key_file: k\n",
                  "/etc/cr/c.yaml:5:17: 'manifests.ssh_key_file' applies to an ssh:// URL only\n" },
                { URL "manifests:\n  git: ssh://h/c.git\n  ssh_key_file: k\n",
                  "/etc/cr/c.yaml:4:3: an ssh:// 'manifests.git' needs 'known_hosts_file': the server's "
                  "host key is never taken on trust\n" },
                { URL "manifests:\n  git: repo\n  path: a/../b\n",
                  "/etc/cr/c.yaml:5:9: 'manifests.path' must be a folder in the repository, without empty, "
                  "'.' or '..' parts, got 'a/../b'\n" },
                { URL "manifests:\n  git: repo\n  path: a//b\n",
                  "/etc/cr/c.yaml:5:9: 'manifests.path' must be a folder in the repository, without empty, "
                  "'.' or '..' parts, got 'a//b'\n" },
                { URL "manifests:\n  git: repo\n  ref: main..dev\n",
                  "/etc/cr/c.yaml:5:8: 'manifests.ref' must be a branch, a tag or a commit id, got "
                  "'main..dev'\n" },
                { URL "manifests:\n  git: repo\n  verify: {}\n",
                  "/etc/cr/c.yaml:5:11: 'manifests.verify' needs 'allowed_signers_file'\n" },
                { URL "manifests:\n  git: repo\n  reff: main\n",
                  "/etc/cr/c.yaml:5:3: unknown key 'manifests.reff' (did you mean 'ref'?)\n" },
        };

        check_cases("git", cases, ELEMENTSOF(cases));
        /* The password never shows, whatever else is wrong. */
        {
                _cleanup_(config_freep) struct config *c = NULL;
                _cleanup_free_ char *errors = NULL;

                (void) parse_text(URL "manifests:\n  git: https://u:s3cr3t@h/c.git\n", &c, &errors, NULL);
                ok(errors && !strstr(errors, "s3cr3t"), "git: a password in the URL is never repeated");
        }
        /* What the good ones hold. */
        {
                _cleanup_(config_freep) struct config *c = NULL;
                _cleanup_free_ char *errors = NULL, *warnings = NULL;

                assert_se(parse_text(URL
                                     "manifests:\n  git: https://git.example.net/ops/c.git\n  ref: main\n"
                                     "  path: /a/b/\n  fetch_interval: 1m\n  token_file: t\n",
                                     &c, &errors, &warnings) == 0);
                ok(c->git.enabled && c->git.remote, "git: an https URL is a remote");
                is_str(c->git.url, "https://git.example.net/ops/c.git", "git: the URL as written");
                is_str(c->manifests, c->git.url, "git: manifests names the repository");
                is_str(c->git.ref, "main", "git: ref");
                is_str(c->git.path, "a/b", "git: path without its slashes at either end");
                ok(c->git.fetch_interval_usec == USEC_PER_MINUTE, "git: fetch_interval");
                is_str(c->git.token_file.path, "/etc/cr/t", "git: token_file beside the config");
        }
        {
                _cleanup_(config_freep) struct config *c = NULL;
                _cleanup_free_ char *errors = NULL, *warnings = NULL;

                assert_se(parse_text(URL "manifests:\n  git: repo\n", &c, &errors, &warnings) == 0);
                ok(c->git.enabled && !c->git.remote, "git: a path is a local repository");
                is_str(c->git.url, "/etc/cr/repo", "git: its path, relative to the config's folder");
                is_str(c->git.path, "", "git: path defaults to the root");
                ok(!c->git.ref, "git: ref defaults to HEAD");
        }
        {
                _cleanup_(config_freep) struct config *c = NULL;
                _cleanup_free_ char *errors = NULL, *warnings = NULL;

                assert_se(parse_text(URL "manifests:\n  git: http://h/c.git\n  token_file: t\n", &c, &errors,
                                     &warnings) == 0);
                ok(warnings && strstr(warnings,
                                      "'manifests.git' is plain http: the token will cross the network "
                                      "unencrypted"),
                   "git: a token over plain http is a warning");
        }
        {
                _cleanup_(diags_donep) struct yaml_read_diags w = {}, e = {};
                _cleanup_(config_freep) struct config *c = NULL;
                const char *y = URL "manifests:\n  git: repo\n";

                assert_se(config_parse("/etc/cr/c.yaml", y, strlen(y), "/srv/m", &c, &w, &e) == 0);
                ok(!c->git.enabled, "git: --manifests replaces the Git source with a path");
                is_str(c->manifests, "/srv/m", "git: --manifests is read as given");
        }
}

/* The new keys' values, good ("" expected) and bad (the exact errors). */
static void test_new_keys(void) {
        static const struct yaml_case cases[] = {
                /* cluster.cluster_uuid */
                { URL "  cluster_uuid: x\n" MAN, "" },
                { URL "  cluster_uuid: " UUID_64 "\n" MAN, "" },
                { URL "  cluster_uuid: _NA_\n" MAN, "" },
                { URL "  cluster_uuid: " UUID_64 "x\n" MAN,
                  "/etc/cr/c.yaml:3:17: 'cluster.cluster_uuid' is not a valid cluster UUID: '" UUID_64 "x' "
                  "(use 1 to 64 letters, digits, '_' and '-', as GET / reports it in cluster_uuid)\n" },
                { URL "  cluster_uuid: \"_na_\"\n" MAN, "/etc/cr/c.yaml:3:17: 'cluster.cluster_uuid' must "
                                                        "not be '_na_', which Elasticsearch reports "
                                                        "before the cluster state is recovered: write the "
                                                        "cluster_uuid that GET / reports once the "
                                                        "cluster is up\n" },
                { URL "  cluster_uuid: a.b\n" MAN,
                  "/etc/cr/c.yaml:3:17: 'cluster.cluster_uuid' is not a valid cluster UUID: 'a.b' (use 1 to "
                  "64 "
                  "letters, digits, '_' and '-', as GET / reports it in cluster_uuid)\n" },
                { URL "  cluster_uuid: \"\xc3\xa9t\xc3\xa9\"\n" MAN,
                  "/etc/cr/c.yaml:3:17: 'cluster.cluster_uuid' is not a valid cluster UUID: "
                  "'\xc3\xa9t\xc3\xa9' "
                  "(use 1 to 64 letters, digits, '_' and '-', as GET / reports it in cluster_uuid)\n" },
                { URL "  cluster_uuid: 1234\n" MAN, "/etc/cr/c.yaml:3:17: 'cluster.cluster_uuid' must be a "
                                                    "string, got an integer; quote it to "
                                                    "make it a string\n" },
                { URL "  cluster_uuid: \"\"\n" MAN,
                  "/etc/cr/c.yaml:3:17: 'cluster.cluster_uuid' must not be empty\n" },

                /* cluster.proxy */
                { URL "  proxy: http://p\n" MAN, "" },
                { URL "  proxy: socks4://p:1080\n" MAN, "" },
                { URL "  proxy: socks4a://p:1080/\n" MAN, "" },
                { URL "  proxy: Socks5://10.0.0.1:1080\n" MAN, "" },
                { URL "  proxy: http://p:3128/x\n" MAN,
                  "/etc/cr/c.yaml:3:10: 'cluster.proxy' must be SCHEME://HOST[:PORT], with no path, got "
                  "'http://p:3128/x'\n" },
                { URL "  proxy: http://p//\n" MAN,
                  "/etc/cr/c.yaml:3:10: 'cluster.proxy' must be SCHEME://HOST[:PORT], with no path, got "
                  "'http://p//'\n" },
                { URL "  proxy: http://p/?x=1\n" MAN,
                  "/etc/cr/c.yaml:3:10: 'cluster.proxy' must not have a query or a fragment\n" },
                { URL "  proxy: p:3128\n" MAN, "/etc/cr/c.yaml:3:10: 'cluster.proxy' must start with "
                                               "http://, https://, socks4://, socks4a://, "
                                               "socks5:// or socks5h://, got 'p:3128'\n" },
                { URL "  proxy: socks6://p\n" MAN, "/etc/cr/c.yaml:3:10: 'cluster.proxy' must start with "
                                                   "http://, https://, socks4://, socks4a://, "
                                                   "socks5:// or socks5h://, got 'socks6://p'\n" },
                { URL "  proxy: http://p:65536\n" MAN,
                  "/etc/cr/c.yaml:3:10: 'cluster.proxy' has an invalid port: 'http://p:65536'\n" },
                { URL "  proxy: http://[::1:3128\n" MAN,
                  "/etc/cr/c.yaml:3:10: 'cluster.proxy' has an invalid host name: 'http://[::1:3128'\n" },
                { URL "  proxy: http://user@p\n" MAN, "/etc/cr/c.yaml:3:10: 'cluster.proxy' must not carry "
                                                      "credentials (http://***@p): a proxy that "
                                                      "needs them is not supported\n" },
                { URL "  proxy: 3128\n" MAN, "/etc/cr/c.yaml:3:10: 'cluster.proxy' must be a string, got an "
                                             "integer; quote it to make it a "
                                             "string\n" },
                { URL "  proxy: \"\"\n" MAN, "/etc/cr/c.yaml:3:10: 'cluster.proxy' must not be empty\n" },

                /* state_dir */
                { URL MAN "state_dir: /srv/state\n", "" },
                { URL MAN "state_dir: \"\"\n", "/etc/cr/c.yaml:4:12: 'state_dir' must not be empty\n" },
                { URL MAN "state_dir: {a: b}\n",
                  "/etc/cr/c.yaml:4:12: 'state_dir' must be a string, got a mapping\n" },

                /* metrics.textfile */
                { URL MAN "metrics:\n  textfile: /var/lib/node_exporter/textfile/cr.prom\n", "" },
                { URL MAN "metrics: {}\n", "" },
                { URL MAN "metrics:\n  textfile: cr.prom\n",
                  "/etc/cr/c.yaml:5:13: 'metrics.textfile' must be an absolute path, got 'cr.prom'\n" },
                { URL MAN "metrics:\n  textfile: /var/lib/cr.txt\n",
                  "/etc/cr/c.yaml:5:13: 'metrics.textfile' must name a file ending in '.prom' "
                  "(node_exporter's textfile collector reads no other), got '/var/lib/cr.txt'\n" },
                { URL MAN "metrics:\n  textfile: /var/lib/.prom\n",
                  "/etc/cr/c.yaml:5:13: 'metrics.textfile' must name a file ending in '.prom' "
                  "(node_exporter's textfile collector reads no other), got '/var/lib/.prom'\n" },
                { URL MAN "metrics:\n  textfile: /var/lib/cr.prom/\n",
                  "/etc/cr/c.yaml:5:13: 'metrics.textfile' must name a file ending in '.prom' "
                  "(node_exporter's textfile collector reads no other), got '/var/lib/cr.prom/'\n" },
                { URL MAN "metrics:\n  textfile: \"\"\n",
                  "/etc/cr/c.yaml:5:13: 'metrics.textfile' must not be empty\n" },
                { URL MAN "metrics:\n  textfile: [a]\n",
                  "/etc/cr/c.yaml:5:13: 'metrics.textfile' must be a string, got a list\n" },
                { URL MAN "metrics:\n  text_file: /x.prom\n",
                  "/etc/cr/c.yaml:5:3: unknown key 'metrics.text_file' (did you mean "
                  "'textfile'?)\n" },
                { URL MAN "metrics: /x.prom\n",
                  "/etc/cr/c.yaml:4:10: 'metrics' must be a mapping, got a string\n" },

                /* cycle_timeout */
                { URL MAN "cycle_timeout: 500ms\n", "" },
                { URL MAN "cycle_timeout: 167h60m\n", "" },
                { URL MAN "cycle_timeout: 168h1ms\n",
                  "/etc/cr/c.yaml:4:16: 'cycle_timeout' must be at most 168h (7 days), got '168h1ms'\n" },
                { URL MAN "cycle_timeout: 7d\n", "/etc/cr/c.yaml:4:16: 'cycle_timeout' is not a valid "
                                                 "duration: '7d' (write an integer and a "
                                                 "unit, ms, s, m or h, e.g. 500ms, 30s, 5m, 1h30m)\n" },
                { URL MAN "cycle_timeout: 0ms\n",
                  "/etc/cr/c.yaml:4:16: 'cycle_timeout' must be longer than 0\n" },
                { URL MAN "cycle_timeout: 60\n",
                  "/etc/cr/c.yaml:4:16: 'cycle_timeout' needs a unit (ms, s, m or h), e.g. '60s'\n" },
                { URL MAN "cycle_timeout: off\n", "/etc/cr/c.yaml:4:16: 'cycle_timeout' must be a duration "
                                                  "such as 30s, got 'off' (a boolean in "
                                                  "YAML 1.1)\n" },

                /* safety.orphan_grace */
                { URL MAN "safety:\n  orphan_grace: \"off\"\n", "" },
                { URL MAN "safety:\n  orphan_grace: 1m\n", "" },
                { URL MAN "safety:\n  orphan_grace: 0s\n",
                  "/etc/cr/c.yaml:5:17: 'safety.orphan_grace' must be longer than 0: write 'off' to turn it "
                  "off\n" },
                { URL MAN "safety:\n  orphan_grace: 0h0m\n",
                  "/etc/cr/c.yaml:5:17: 'safety.orphan_grace' must be longer than 0: write 'off' to turn it "
                  "off\n" },
                { URL MAN "safety:\n  orphan_grace: 00\n",
                  "/etc/cr/c.yaml:5:17: 'safety.orphan_grace' must be longer than 0: write 'off' to turn it "
                  "off\n" },
                { URL MAN "safety:\n  orphan_grace: 30\n",
                  "/etc/cr/c.yaml:5:17: 'safety.orphan_grace' needs a unit (ms, s, m or h), e.g. '30s'\n" },
                { URL MAN "safety:\n  orphan_grace: OFF\n",
                  "/etc/cr/c.yaml:5:17: 'safety.orphan_grace' must be a duration such as 1h, or off, got "
                  "'OFF' (a "
                  "boolean in YAML 1.1)\n" },
                { URL MAN "safety:\n  orphan_grace: false\n",
                  "/etc/cr/c.yaml:5:17: 'safety.orphan_grace' must be a duration such as 1h, or off, got a "
                  "boolean\n" },
                { URL MAN "safety:\n  orphan_grace: 2d\n",
                  "/etc/cr/c.yaml:5:17: 'safety.orphan_grace' is not a valid duration: '2d' (write an "
                  "integer and "
                  "a unit, ms, s, m or h, e.g. 500ms, 30s, 5m, 1h30m)\n" },

                /* safety.confirm_removed_sets */
                { URL MAN "safety:\n  confirm_removed_sets: [a, " NAME_63 ", 0-0]\n", "" },
                { URL MAN "safety:\n  confirm_removed_sets: [" NAME_63 "x]\n",
                  "/etc/cr/c.yaml:5:26: 'safety.confirm_removed_sets[0]' is not a valid set name: '" NAME_63
                  "x' "
                  "(use 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or "
                  "digit)\n" },
                { URL MAN "safety:\n  confirm_removed_sets: [a, b, a, b, a]\n",
                  "/etc/cr/c.yaml:5:32: 'safety.confirm_removed_sets[2]' repeats 'a' (first at line 5, "
                  "column 26)\n"
                  "/etc/cr/c.yaml:5:35: 'safety.confirm_removed_sets[3]' repeats 'b' (first at line 5, "
                  "column 29)\n"
                  "/etc/cr/c.yaml:5:38: 'safety.confirm_removed_sets[4]' repeats 'a' (first at line 5, "
                  "column 26)\n" },
                { URL MAN "safety:\n  confirm_removed_sets: [a-, a_b, \"\"]\n",
                  "/etc/cr/c.yaml:5:26: 'safety.confirm_removed_sets[0]' is not a valid set name: 'a-' (use "
                  "1 to 63 "
                  "lowercase letters, digits and '-', starting and ending with a letter or digit)\n"
                  "/etc/cr/c.yaml:5:30: 'safety.confirm_removed_sets[1]' is not a valid set name: 'a_b' "
                  "(use 1 to "
                  "63 lowercase letters, digits and '-', starting and ending with a letter or digit)\n"
                  "/etc/cr/c.yaml:5:35: 'safety.confirm_removed_sets[2]' is not a valid set name: '' (use 1 "
                  "to 63 "
                  "lowercase letters, digits and '-', starting and ending with a letter or digit)\n" },
                { URL MAN "safety:\n  confirm_removed_sets: [[a], ~, yes]\n",
                  "/etc/cr/c.yaml:5:26: 'safety.confirm_removed_sets[0]' must be a string, got a list\n"
                  "/etc/cr/c.yaml:5:31: 'safety.confirm_removed_sets[1]' must be a string, got null\n"
                  "/etc/cr/c.yaml:5:34: 'safety.confirm_removed_sets[2]' must be a string, got 'yes' (a "
                  "boolean in "
                  "YAML 1.1); quote it to make it a string\n" },
                { URL MAN "safety:\n  confirm_removed_sets: billing\n",
                  "/etc/cr/c.yaml:5:25: 'safety.confirm_removed_sets' must be a list of set names, got a "
                  "string\n" },
                { URL MAN "safety:\n  confirm_removed_sets:\n",
                  "/etc/cr/c.yaml:5:24: 'safety.confirm_removed_sets' must be a list of set names, got "
                  "null\n" },

                /* The new keys are known to the typo hints. */
                { URL "  proxi: http://p\n" MAN,
                  "/etc/cr/c.yaml:3:3: unknown key 'cluster.proxi' (did you mean 'proxy'?)\n" },
                { URL MAN "state_dri: s\n",
                  "/etc/cr/c.yaml:4:1: unknown key 'state_dri' (did you mean 'state_dir'?)\n" },
                { URL MAN "safety:\n  orphan_grase: 1h\n",
                  "/etc/cr/c.yaml:5:3: unknown key 'safety.orphan_grase' (did you mean 'orphan_grace'?)\n" },
        };

        check_cases("new keys", cases, ELEMENTSOF(cases));
}

/* The values the cases above only accept. */
static void test_new_key_values(void) {
        static const struct {
                const char *proxy;
                const char *want;
        } proxies[] = {
                { "http://p", "http://p" },
                { "HTTPS://Proxy.Example.NET:8443/", "https://Proxy.Example.NET:8443" },
                { "socks4a://p:1080/", "socks4a://p:1080" },
                { "socks5://[::1]:1080", "socks5://[::1]:1080" },
                { "SOCKS5H://p", "socks5h://p" },
        };
        _cleanup_free_ char *errors = NULL;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(proxies); i++) {
                _cleanup_(config_freep) struct config *c = NULL;
                _cleanup_free_ char *yaml = NULL;

                free(errors);
                assert(asprintf(&yaml, URL "  proxy: %s\n" MAN, proxies[i].proxy) >= 0);
                r = parse_text(yaml, &c, &errors, NULL);
                ok(r == 0 && c && streq_ptr(c->proxy, proxies[i].want), "proxy '%s' is kept as '%s'",
                   proxies[i].proxy, proxies[i].want);
        }

        {
                _cleanup_(config_freep) struct config *c = NULL;

                free(errors);
                r = parse_text(URL MAN "state_dir: st\ncycle_timeout: 1h30m\n"
                                       "safety: {orphan_grace: 500ms, confirm_removed_sets: [z, a]}\n",
                               &c, &errors, NULL);
                if (ok(r == 0 && c, "the new keys in flow style")) {
                        is_str(c->state_dir, "/etc/cr/st", "state_dir: relative to the config's folder");
                        is_int(c->cycle_timeout_usec, 90 * USEC_PER_MINUTE, "cycle_timeout: 1h30m");
                        is_int(c->orphan_grace_usec, 500 * USEC_PER_MSEC, "orphan_grace: 500ms");
                        ok(c->n_confirm_removed_sets == 2 && streq(c->confirm_removed_sets[0], "z") &&
                                   streq(c->confirm_removed_sets[1], "a"),
                           "confirm_removed_sets: in the order written, not sorted");
                }
        }
        {
                _cleanup_(config_freep) struct config *c = NULL;

                free(errors);
                r = parse_text(URL MAN "safety:\n  orphan_grace: off\n  max_deletions: unlimited\n", &c,
                               &errors, NULL);
                ok(r == 0 && c && c->orphan_grace_usec == 0 && c->max_deletions == CONFIG_UNLIMITED,
                   "orphan_grace: a plain off is off, not a YAML 1.1 boolean");
        }
}

/* state_dir's default: systemd's $STATE_DIRECTORY (its first path), else the constant. */
static void test_state_dir(void) {
        static const struct {
                const char *env; /* NULL: unset */
                const char *want;
                const char *want_backups;
        } cases[] = {
                { NULL, CONFIG_DEFAULT_STATE_DIR, CONFIG_DEFAULT_BACKUP_DIR },
                { "", CONFIG_DEFAULT_STATE_DIR, CONFIG_DEFAULT_BACKUP_DIR },
                { "/var/lib/connector-reconciler", "/var/lib/connector-reconciler",
                  CONFIG_DEFAULT_BACKUP_DIR },
                { "/var/lib/cr-one:/var/lib/cr-two", "/var/lib/cr-one", "/var/lib/cr-two" },
                { "/var/lib/private/cr", "/var/lib/private/cr", CONFIG_DEFAULT_BACKUP_DIR },
                /* connector-reconciler@prod.service */
                { "/var/lib/connector-reconciler/prod:/var/lib/connector-reconciler/prod/deleted",
                  "/var/lib/connector-reconciler/prod", "/var/lib/connector-reconciler/prod/deleted" },
                { "/var/lib/a::", "/var/lib/a", CONFIG_DEFAULT_BACKUP_DIR },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(config_freep) struct config *c = NULL, *keyed = NULL;

                if (cases[i].env)
                        assert(setenv("STATE_DIRECTORY", cases[i].env, 1) == 0);
                else
                        assert(unsetenv("STATE_DIRECTORY") == 0);
                c = load_ok("good/minimal.yaml", NULL);
                ok(c && streq(c->state_dir, cases[i].want), "$STATE_DIRECTORY %s%s%s: state_dir '%s'",
                   cases[i].env ? "'" : "unset", strempty(cases[i].env), cases[i].env ? "'" : "",
                   cases[i].want);
                ok(c && streq(c->backup_dir, cases[i].want_backups),
                   "$STATE_DIRECTORY %s%s%s: backup_dir '%s'", cases[i].env ? "'" : "unset",
                   strempty(cases[i].env), cases[i].env ? "'" : "", cases[i].want_backups);
                keyed = load_ok("good/full.yaml", NULL);
                ok(keyed && streq(keyed->state_dir, "good/state"), "$STATE_DIRECTORY %s: the key wins",
                   cases[i].env ? cases[i].env : "unset");
        }
        assert(unsetenv("STATE_DIRECTORY") == 0);
}

/* A URL holding a password: refused, and no message (error or warning) shows the password, however
 * the rest of the value is wrong too. */
static void test_credentials_never_shown(void) {
        static const char *const values[] = {
                "elastic:S3cretPassw0rd@es.example.net:9200",
                "htps://elastic:S3cretPassw0rd@es.example.net:9200",
                "https://elastic:S3cretPassw0rd@es.example.net:9200",
                "HTTP://elastic:S3cretPassw0rd@es.example.net:9200/path/",
                "ftp://elastic:S3cretPassw0rd@es.example.net",
                "socks5h://elastic:S3cretPassw0rd@[::1]:1080",
                "https://elastic:S3cretPassw0rd@es.example.net:99999",
                "https://elastic:S3cretPassw0rd@es example.net",
                "https://elastic:S3cretPassw0rd@es.example.net?pretty",
                "https://elastic:S3cret#Passw0rd@es.example.net",
                "https://elastic:S3cret?Passw0rd@es.example.net",
                "https://elastic:S3cret Passw0rd@es.example.net",
                "https://elastic:S3cret/Passw0rd@es.example.net",
                "https:/elastic:S3cretPassw0rd@es.example.net",
                "https:elastic:S3cretPassw0rd@es.example.net",
                "elastic:S3cret/Passw0rd@es.example.net",
                "//elastic:S3cretPassw0rd@es.example.net",
                "https://elastic:S3cretPassw0rd@",
                "https://S3cretPassw0rd@es.example.net",
                "https://elastic:S3cretPassw0rd@es.example.net@other",
                "https://elastic:S3cret\\nPassw0rd@es.example.net",
        };
        static const char *const keys[] = { "url", "proxy" };

        for (size_t i = 0; i < ELEMENTSOF(values); i++)
                for (size_t j = 0; j < ELEMENTSOF(keys); j++) {
                        _cleanup_(config_freep) struct config *c = NULL;
                        _cleanup_free_ char *yaml = NULL, *errors = NULL, *warnings = NULL;
                        int r;

                        if (j == 0)
                                assert(asprintf(&yaml,
                                                "cluster:\n  url: \"%s\"\n  username: u\n  password_file: "
                                                "p\n" MAN,
                                                values[i]) >= 0);
                        else
                                assert(asprintf(&yaml, URL "  proxy: \"%s\"\n" MAN, values[i]) >= 0);
                        r = parse_text(yaml, &c, &errors, &warnings);
                        ok(r == -EINVAL && !c && *errors, "cluster.%s '%s': refused", keys[j], values[i]);
                        ok(!strstr(errors, "S3cret") && !strstr(errors, "Passw0rd") &&
                                   !strstr(warnings, "S3cret") && !strstr(warnings, "Passw0rd"),
                           "cluster.%s: no message shows the password", keys[j]);
                        if (strstr(errors, "S3cret") || strstr(errors, "Passw0rd"))
                                diag("%s", errors);
                }

        /* The message for each kind of mistake. */
        {
                _cleanup_(config_freep) struct config *c = NULL;
                _cleanup_free_ char *errors = NULL;

                (void) parse_text("cluster:\n  url: \"elastic:S3cretPassw0rd@es.example.net:9200\"\n" MAN,
                                  &c, &errors, NULL);
                is_str(errors,
                       "/etc/cr/c.yaml:2:8: 'cluster.url' must not carry credentials "
                       "(***@es.example.net:9200): use "
                       "'cluster.username' and 'cluster.password_file', or another *_file key\n",
                       "no scheme: user info looked for first, the value shown without it");
                free(errors);
                (void) parse_text("cluster:\n  url: https://elastic:S3cret/Passw0rd@es.example.net\n" MAN,
                                  &c, &errors, NULL);
                is_str(errors,
                       "/etc/cr/c.yaml:2:8: 'cluster.url' has an invalid port: "
                       "'https://***@es.example.net'\n",
                       "a password holding a '/': what precedes the last '@' is not shown either");
        }
}

/* cluster.cloud_id: what url.c checks, with the message at the value. */
static void test_cloud_ids(void) {
        static const struct {
                const char *cloud_id;
                const char *url;    /* NULL: refused */
                const char *reason; /* after "is not a valid cloud id: " */
        } cases[] = {
                { "x:aCR1JGs=", "https://u.h:443", NULL },
                { ":aCR1JGs", "https://u.h:443", NULL },
                { "x:aCR1", "https://u.h:443", NULL },
                { "aCR1JGs=", NULL, "it has no ':' between its name and its base64 part" },
                { "x:aCR1JGs==", NULL, "the part after ':' is not base64" },
                { "x:aCR1JGs===", NULL, "the part after ':' is not base64" },
                { "x:aCR1JGskbQ==", NULL, "it has more parts than 'HOST$ELASTICSEARCH_ID$KIBANA_ID'" },
                { "x:aCQ=", NULL, "it must decode to 'HOST$ELASTICSEARCH_ID$KIBANA_ID'" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(config_freep) struct config *c = NULL;
                _cleanup_free_ char *yaml = NULL, *errors = NULL, *want = NULL;
                int r;

                assert(asprintf(&yaml, "cluster:\n  cloud_id: \"%s\"\n" MAN, cases[i].cloud_id) >= 0);
                r = parse_text(yaml, &c, &errors, NULL);
                if (cases[i].url) {
                        ok(r == 0 && c && streq(c->url, cases[i].url) &&
                                   streq(c->cloud_id, cases[i].cloud_id),
                           "cloud id '%s': '%s'", cases[i].cloud_id, cases[i].url);
                        continue;
                }
                assert(asprintf(&want,
                                "/etc/cr/c.yaml:2:13: 'cluster.cloud_id' is not a valid cloud id: %s\n",
                                cases[i].reason) >= 0);
                ok(r == -EINVAL && !c, "cloud id '%s': refused", cases[i].cloud_id);
                is_str(errors, want, "cloud id '%s': the error", cases[i].cloud_id);
        }
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
                int r = duration_parse(cases[i].s, &v);

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

#define RESET()                                    \
        do {                                       \
                free(secret);                      \
                free(warnings);                    \
                free(errors);                      \
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
        char dir[PATH_MAX];

        tmp_dir = scratch_new("test-config");

        (void) snprintf(dir, sizeof(dir), "%s/tests/data/config/good", top);
        if (chdir(dir) < 0)
                skip_all("cannot find tests/data/config (set top_srcdir)");
        assert(unsetenv("STATE_DIRECTORY") == 0);
        test_good_corpus();
        assert(chdir("..") == 0);
        test_defaults();
        test_full();
        test_other_good();
        test_override();
        test_errors_misc();
        test_new_keys();
        test_git();
        test_new_key_values();
        test_state_dir();
        test_credentials_never_shown();
        test_cloud_ids();
        assert(chdir("bad") == 0);
        test_bad_corpus();

        test_durations();
        test_secrets();
        test_secret_reload();

        assert_se(chdir("/") == 0);
        scratch_remove(tmp_dir);
        free(tmp_dir);
        return done();
}

#include <curl/curl.h>
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <yaml.h>

#include "cluster-decode.h"
#include "config.h"
#include "cycle.h"
#include "log.h"
#include "loop.h"
#include "manifest.h"
#include "manifest-source.h"
#include "plan-file.h"
#include "report.h"
#include "restore-run.h"
#include "util.h"

/* Fixed, whatever the prefix: the units' ConfigurationDirectory= and LoadCredential= name /etc. */
#define DEFAULT_CONFIG_PATH "/etc/connector-reconciler/config.yaml"

/* The exit statuses of connector-reconciler(8), EXIT STATUS. */
enum {
        EXIT_OK = 0,
        EXIT_FAILURE_RUNTIME = 1,
        EXIT_USAGE = 2,
        EXIT_SAFETY_STOP = 3,
        EXIT_PLAN_CHANGES = 4, /* plan --detailed-exitcode: the plan would change something */
};

/* The one place a status becomes an exit status. For `run`: how the daemon ended. */
static int exit_status(enum cycle_status s) {
        switch (s) {
        case CYCLE_OK:
                return EXIT_OK;
        case CYCLE_INVALID:
                return EXIT_USAGE;
        case CYCLE_BLOCKED:
                return EXIT_SAFETY_STOP;
        case CYCLE_FAILED:
        case CYCLE_BUSY:
        case CYCLE_RETRY:
        default:
                return EXIT_FAILURE_RUNTIME;
        }
}

enum format {
        FORMAT_TEXT,
        FORMAT_JSON,
};

static const char *arg_config = DEFAULT_CONFIG_PATH;
static bool arg_config_given = false;
static const char *arg_manifests = NULL;
static bool arg_dry_run = false;
static enum log_target arg_log_target = LOG_TARGET_AUTO;
static int arg_verbose = 0;
static enum format arg_format = FORMAT_TEXT;
static unsigned arg_page_size = 0;
static char **arg_confirm_removed_sets = NULL;
static size_t arg_n_confirm_removed_sets = 0;
static const char *arg_from = NULL;
static const char *arg_as = NULL;
static bool arg_force = false;
static bool arg_detailed_exitcode = false;
static const char *arg_out = NULL;
static const char *arg_plan = NULL;
static const char *arg_revision = NULL;
static const char *arg_instance = NULL;
static bool arg_max_deletions_set = false;
static uint64_t arg_max_deletions = 0;
static bool arg_max_updates_set = false;
static uint64_t arg_max_updates = 0;
static unsigned arg_only = 0;
static bool plan_changes = false; /* the plan printed deletes, creates or updates something */

/* --instance: what a systemd unit's instance name (%i) holds here, short enough for a label. */
#define INSTANCE_NAME_MAX 64U

static bool instance_name_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > INSTANCE_NAME_MAX)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      strchr("_.-:", *s)))
                        return false;
        return true;
}

static void help(FILE *f) {
        (void) fprintf(f,
                       "Usage: %s [OPTIONS] COMMAND\n"
                       "\n"
                       "Keeps an Elasticsearch cluster's connectors in line with YAML manifests.\n"
                       "\n"
                       "Commands:\n"
                       "  run                      The daemon: a cycle every interval until SIGTERM\n"
                       "  once                     One cycle, then exit (0 done, 1 failure, 2 invalid,\n"
                       "                           3 safety stop)\n"
                       "  plan                     Show what one cycle would do, change nothing\n"
                       "  validate                 Check the config and the manifests offline\n"
                       "  restore ID               Create a deleted connector again from its newest\n"
                       "                           backup (9.x: or its soft-deleted document), replay\n"
                       "                           its settings, and check it\n"
                       "  version                  Print the version and library versions\n"
                       "\n"
                       "Options:\n"
                       "  -c, --config FILE        Config file (default: %s)\n"
                       "      --manifests PATH     Manifest file or directory (overrides the config)\n"
                       "      --dry-run            once, run: plan and log, delete nothing;\n"
                       "                           restore: print the requests, send no write\n"
                       "      --from FILE          restore: this backup, not the newest\n"
                       "      --as ID              restore: under this id instead\n"
                       "      --force              restore: even if the manifests would delete it again\n"
                       "      --confirm-removed-set NAME\n"
                       "                           once, run: set NAME, gone from the manifests since the\n"
                       "                           last cycle, may have its connectors deleted\n"
                       "      --format FORMAT      plan: text (default) or json\n"
                       "      --detailed-exitcode  plan: exit 4 when the cycle would delete, create or\n"
                       "                           update something,\n"
                       "                           0 when it would change nothing\n"
                       "      --out FILE           plan: also save the plan to FILE, for once --plan\n"
                       "      --plan FILE          once: carry out exactly the plan saved in FILE, or\n"
                       "                           nothing (exit 3) when the cycle would do otherwise\n"
                       "      --revision REF       plan, validate: read the manifests' Git source at\n"
                       "                           this branch, tag, ref or commit\n"
                       "      --max-deletions N    once, plan: safety.max_deletions for this run\n"
                       "                           (a number, or unlimited)\n"
                       "      --max-updates N      once, plan: safety.max_updates for this run\n"
                       "                           (a number, or unlimited)\n"
                       "      --only KINDS         once: carry out only these kinds of change, a\n"
                       "                           comma-separated list of create, update, delete\n"
                       "      --instance NAME      The cluster this process serves, of several on a\n"
                       "                           host: INSTANCE= in the journal, in STATUS= and in\n"
                       "                           the metrics (the units connector-reconciler@NAME)\n"
                       "      --log-target TARGET  auto, journal or console (default: auto)\n"
                       "  -v, --verbose            Log debug messages too\n"
                       "  -h, --help               Show this help\n"
                       "      --version            Show the version (as the version command)\n"
                       "\n"
                       "See connector-reconciler(8).\n",
                       program_invocation_short_name, DEFAULT_CONFIG_PATH);
}

static int verb_version(int argc, char **argv) {
        const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

        (void) printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
        (void) printf("libcurl %s (%s)\n", cv->version, strna(cv->ssl_version));
        (void) printf("libyaml %s\n", yaml_get_version_string());
        (void) printf("cJSON %s\n", cJSON_Version());
        (void) printf("libgit2 %s\n", git_source_version());
        (void) printf("libsystemd %s (built against)\n", LIBSYSTEMD_VERSION);
        return EXIT_OK;
}

static struct loop_options loop_options(void) {
        return (struct loop_options){
                .max_deletions_set = arg_max_deletions_set,
                .max_deletions = arg_max_deletions,
                .max_updates_set = arg_max_updates_set,
                .max_updates = arg_max_updates,
                .only = arg_only,
                .config_path = arg_config,
                .manifests_override = arg_manifests,
                .dry_run = arg_dry_run,
                .page_size = arg_page_size,
                .confirm_removed_sets = arg_confirm_removed_sets,
                .n_confirm_removed_sets = arg_n_confirm_removed_sets,
                .revision = arg_revision,
                .instance = arg_instance,
        };
}

/* The commands that read secrets: a crash must not write them into a core file. (libcurl keeps
 * freed copies of request headers in the heap, which we cannot wipe.) */
static void no_core_dumps(void) {
        if (prctl(PR_SET_DUMPABLE, 0) < 0)
                log_debug("Failed to disable core dumps, ignoring: %m");
}

static int verb_run(int argc, char **argv) {
        const struct loop_options o = loop_options();

        no_core_dumps();
        return exit_status(loop_run(&o));
}

static void show_plan(const struct cycle_result *res);

static int verb_once(int argc, char **argv) {
        _cleanup_(plan_file_freep) struct plan_file *saved = NULL;
        struct loop_options o = loop_options();

        if (arg_plan) {
                _cleanup_free_ char *message = NULL;
                int r;

                r = plan_file_load(arg_plan, &saved, &message);
                if (r == -EBADMSG) {
                        log_error("The saved plan '%s' cannot be used: %s", arg_plan, strna(message));
                        return EXIT_USAGE;
                }
                if (r < 0) {
                        log_error_errno(r, "Failed to read the saved plan '%s': %m", arg_plan);
                        return EXIT_USAGE;
                }
                o.saved_plan = saved;
        }
        if (isatty(STDOUT_FILENO))
                o.show_plan = show_plan;
        no_core_dumps();
        return exit_status(loop_once(&o, false, NULL, NULL));
}

/* Colours for people at a terminal only, never in a file or a pipe, and never with NO_COLOR set
 * to anything but the empty string (https://no-color.org). */
static bool plan_color(void) {
        const char *e = getenv("NO_COLOR");

        return isatty(STDOUT_FILENO) && !(e && *e);
}

static int print_plan(const struct cycle_result *res, void *userdata) {
        const struct manifest *m = res->manifest;
        _cleanup_free_ struct report_set *sets = NULL;
        struct report_context ctx = {
                .cluster_url = res->cluster_url,
                .cluster_name = res->cluster ? res->cluster->cluster_name : NULL,
                .cluster_uuid = res->cluster ? res->cluster->cluster_uuid : NULL,
                .es_version = res->cluster ? res->cluster->version : NULL,
                .es_major = res->cluster ? res->cluster->major : 0,
                .changes = res->changes,
                .manifests_digest = res->manifests_digest,
                .revision = res->revision,
                .revision_stale = res->revision_stale,
                .color = arg_format == FORMAT_TEXT && plan_color(),
        };
        int r;

        if (!res->plan)
                return 0; /* the cycle failed before planning, and said why */
        plan_changes = res->plan->counts[PLAN_DELETE] > 0 ||
                       (res->changes && (res->changes->counts[CONVERGE_CREATE] > 0 ||
                                         res->changes->counts[CONVERGE_UPDATE] > 0));

        /* Each set with the file:line of its metadata.name, for the reviewer to open. */
        if (m && m->n_sets > 0) {
                sets = calloc(m->n_sets, sizeof(*sets));
                if (!sets)
                        return log_error_errno(-ENOMEM, "Failed to write the plan: %m");
                for (size_t i = 0; i < m->n_sets; i++)
                        sets[i] = (struct report_set){
                                .name = m->sets[i].name,
                                .file = m->sources[i].set.file,
                                .line = m->sources[i].set.line,
                                .prune_enabled = m->sets[i].prune_enabled,
                                .delete_sync_jobs = m->sets[i].delete_sync_jobs,
                                .hard = m->sets[i].hard,
                                .purge_after_usec = m->sets[i].purge_after_usec,
                        };
                ctx.sets = sets;
                ctx.n_sets = m->n_sets;
        }

        r = arg_format == FORMAT_JSON ? report_plan_json_ctx(stdout, res->plan, &ctx)
                                      : report_plan_text_ctx(stdout, res->plan, &ctx);
        if (r < 0)
                return log_error_errno(r, "Failed to write the plan: %m");
        if (arg_out) {
                const struct plan_file_context fc = {
                        .url = ctx.cluster_url,
                        .cluster_name = ctx.cluster_name,
                        .cluster_uuid = ctx.cluster_uuid,
                        .es_version = ctx.es_version,
                        .manifests_digest = ctx.manifests_digest,
                };

                r = plan_file_write(arg_out, res->plan, &fc);
                if (r < 0)
                        return log_error_errno(r, "Failed to save the plan to '%s': %m", arg_out);
                log_info("Saved the plan to '%s'%s: 'once --plan %s' carries out exactly this plan", arg_out,
                         res->plan->blocked ? " (blocked: it deletes nothing)" : "", arg_out);
        }
        return 0;
}

/* once on a terminal: the plan it is about to carry out, before the first deletion. */
static void show_plan(const struct cycle_result *res) {
        (void) print_plan(res, NULL);
        (void) fflush(stdout);
}

static int verb_plan(int argc, char **argv) {
        const struct loop_options o = loop_options();
        enum cycle_status s;

        no_core_dumps();
        s = loop_once(&o, true, print_plan, NULL);
        /* A blocked plan keeps its own status: it would change nothing, and says why. */
        if (s == CYCLE_OK && arg_detailed_exitcode && plan_changes)
                return EXIT_PLAN_CHANGES;
        return exit_status(s);
}

static int verb_validate(int argc, char **argv) {
        _cleanup_(config_freep) struct config *config = NULL;
        _cleanup_(manifest_freep) struct manifest *m = NULL;
        struct yaml_read_diags warnings = {}, errors = {};
        const char *manifests = arg_manifests;
        char revision[GIT_SOURCE_ID_SIZE] = "";
        bool config_checked = false;
        int r;

        /* A repository's CI checks its manifests without the host's config: with --manifests and
         * no -c, a missing default config file is no error. */
        if (arg_config_given || !arg_manifests || access(arg_config, F_OK) >= 0) {
                r = config_load(arg_config, arg_manifests, &config, &warnings, &errors);
                config_checked = true;
                if (r >= 0) {
                        manifests = config->manifests;
                        /* The folders `once` would use: reported as errors, never created. */
                        (void) config_check_folders(config, &errors);
                }
        }
        if (arg_revision && config && !config->git.enabled) {
                r = yaml_read_diags_add(
                        &errors, config->path, 0, 0,
                        "--revision needs the manifests in Git ('manifests.git'), not a path");
                (void) r;
        } else if (config) {
                r = manifest_source_load(config, arg_revision, &m, revision, &errors);
                (void) r;
        } else if (manifests) {
                r = manifest_load(manifests, &m, &errors);
                (void) r;
        }
        /* Allowed, but worth a second look in a review: such a set makes an orphan of every
         * connector in the cluster that no manifest declares, whoever made it. */
        for (size_t i = 0; m && i < m->n_sets; i++) {
                const struct plan_set *set = &m->sets[i];
                const struct manifest_location *at = &m->sources[i].set;

                if (set->n_id_prefixes > 0 || set->n_service_types > 0 || set->n_index_name_prefixes > 0 ||
                    !set->prune_enabled)
                        continue;
                r = yaml_read_diags_add(&warnings, at->file, at->line, at->column,
                                        "set '%s' has no selector: it owns every connector in the cluster, "
                                        "and deletes each one no manifest declares",
                                        set->name);
                if (r == -ENOMEM) {
                        yaml_read_diags_done(&warnings);
                        yaml_read_diags_done(&errors);
                        (void) log_error_errno(r, "Failed to validate: %m");
                        return EXIT_FAILURE_RUNTIME;
                }
        }

        for (size_t i = 0; i < warnings.n_items; i++)
                (void) printf("%s: warning\n", warnings.items[i].text);
        for (size_t i = 0; i < errors.n_items; i++)
                (void) printf("%s\n", errors.items[i].text);
        /* Another tool's files beside ours: said, so that a misplaced set is not silently ignored. */
        for (size_t i = 0; m && i < m->skipped.n_items; i++)
                (void) printf("%s\n", m->skipped.items[i].text);

        if (yaml_read_diags_count(&errors) > 0) {
                (void) printf("%zu error%s\n", yaml_read_diags_count(&errors),
                              yaml_read_diags_count(&errors) == 1 ? "" : "s");
                r = EXIT_USAGE;
        } else if (!m) {
                /* A load failed without a message: out of memory before one could be stored. */
                (void) log_error_errno(-ENOMEM, "Failed to validate: %m");
                r = EXIT_FAILURE_RUNTIME;
        } else {
                (void) printf("%s%s%s%s: %zu file%s, %zu set%s, %zu connector%s declared: valid\n",
                              config_checked ? "config and " : "",
                              m->n_files == 1 ? "manifest" : "manifests", revision[0] ? " of commit " : "",
                              revision, m->n_files, m->n_files == 1 ? "" : "s", m->n_sets,
                              m->n_sets == 1 ? "" : "s", m->n_declared, m->n_declared == 1 ? "" : "s");
                r = EXIT_OK;
        }
        yaml_read_diags_done(&warnings);
        yaml_read_diags_done(&errors);
        if (fflush(stdout) != 0)
                return EXIT_FAILURE_RUNTIME;
        return r;
}

static int verb_restore(int argc, char **argv) {
        const struct restore_options o = {
                .config_path = arg_config,
                .manifests_override = arg_manifests,
                .id = argv[1],
                .from = arg_from,
                .as_id = arg_as,
                .dry_run = arg_dry_run,
                .force = arg_force,
        };

        if (argc != 2) {
                log_error("restore takes one connector id; see '%s --help'", program_invocation_short_name);
                return EXIT_USAGE;
        }
        if (argv[1][0] == '\0') {
                log_error("The connector id is empty");
                return EXIT_USAGE;
        }
        /* A new id is held to what a manifest could declare: one that differs from the intended
         * one by a character nobody sees would be an orphan at once. */
        if (arg_as && (arg_as[0] == '\0' ||
                       manifest_check_id(arg_as, strlen(arg_as), &(struct manifest_id_error){}) < 0)) {
                log_error("Invalid --as '%s': empty, or with a character a manifest may not declare (white "
                          "space at "
                          "an end, a control or format character, invalid UTF-8)",
                          arg_as);
                return EXIT_USAGE;
        }
        no_core_dumps();
        return exit_status(restore_run(&o));
}

struct verb {
        const char *name;
        int (*func)(int argc, char **argv);
        unsigned n_args; /* the arguments after the command */
};

static const struct verb verbs[] = {
        { "run", verb_run, 0 },           { "once", verb_once, 0 },       { "plan", verb_plan, 0 },
        { "validate", verb_validate, 0 }, { "version", verb_version, 0 }, { "restore", verb_restore, 1 },
};

/* The Levenshtein distance between a and b, or SIZE_MAX when either is longer than 32 bytes. */
static size_t distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b), row[33];

        if (la > 32 || lb > 32)
                return SIZE_MAX;
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0];

                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j];

                        row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), diag + (a[i - 1] != b[j - 1]));
                        diag = up;
                }
        }
        return row[lb];
}

/* The command 'word' most likely meant: the nearest, at most 2 edits away, or NULL. */
static const char *nearest_verb(const char *word) {
        const char *best = NULL;
        size_t best_d = 3;

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                size_t d = distance(word, verbs[i].name);

                if (d < best_d) {
                        best_d = d;
                        best = verbs[i].name;
                }
        }
        return best;
}

static int parse_argv(int argc, char **argv) {
        enum {
                ARG_MANIFESTS = 0x100,
                ARG_DRY_RUN,
                ARG_LOG_TARGET,
                ARG_FORMAT,
                ARG_PAGE_SIZE,
                ARG_CONFIRM_REMOVED_SET,
                ARG_FROM,
                ARG_AS,
                ARG_FORCE,
                ARG_DETAILED_EXITCODE,
                ARG_VERSION,
                ARG_OUT,
                ARG_PLAN,
                ARG_MAX_DELETIONS,
                ARG_MAX_UPDATES,
                ARG_ONLY,
                ARG_REVISION,
                ARG_INSTANCE,
        };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "manifests", required_argument, NULL, ARG_MANIFESTS },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                { "log-target", required_argument, NULL, ARG_LOG_TARGET },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "confirm-removed-set", required_argument, NULL, ARG_CONFIRM_REMOVED_SET },
                { "from", required_argument, NULL, ARG_FROM },
                { "as", required_argument, NULL, ARG_AS },
                { "force", no_argument, NULL, ARG_FORCE },
                { "detailed-exitcode", no_argument, NULL, ARG_DETAILED_EXITCODE },
                { "version", no_argument, NULL, ARG_VERSION },
                { "out", required_argument, NULL, ARG_OUT },
                { "plan", required_argument, NULL, ARG_PLAN },
                { "max-deletions", required_argument, NULL, ARG_MAX_DELETIONS },
                { "max-updates", required_argument, NULL, ARG_MAX_UPDATES },
                { "only", required_argument, NULL, ARG_ONLY },
                { "revision", required_argument, NULL, ARG_REVISION },
                { "instance", required_argument, NULL, ARG_INSTANCE },
                /* Not in --help: the connectors asked for per list page, for tests. */
                { "page-size", required_argument, NULL, ARG_PAGE_SIZE },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c, r;

        /* Options may come before or after the command: getopt_long() moves the command and any
         * other argument to the end. */
        while ((c = getopt_long(argc, argv, "c:vh", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        arg_config = optarg;
                        arg_config_given = true;
                        break;
                case ARG_FORMAT:
                        if (streq(optarg, "text"))
                                arg_format = FORMAT_TEXT;
                        else if (streq(optarg, "json"))
                                arg_format = FORMAT_JSON;
                        else {
                                log_error("Invalid --format '%s': expected text or json", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_PAGE_SIZE: {
                        char *end;
                        unsigned long v;

                        errno = 0;
                        v = strtoul(optarg, &end, 10);
                        if (errno != 0 || *end || end == optarg || v == 0 || v > 10000) {
                                log_error("Invalid --page-size '%s': expected 1 to 10000", optarg);
                                return -EINVAL;
                        }
                        arg_page_size = (unsigned) v;
                        break;
                }
                case ARG_MANIFESTS:
                        arg_manifests = optarg;
                        break;
                case ARG_CONFIRM_REMOVED_SET: {
                        char **l;

                        if (!plan_set_name_is_valid(optarg)) {
                                log_error("Invalid --confirm-removed-set '%s': expected a set name (1 to 63 "
                                          "of "
                                          "a-z, 0-9 and '-')",
                                          optarg);
                                return -EINVAL;
                        }
                        l = reallocarray(arg_confirm_removed_sets, arg_n_confirm_removed_sets + 1,
                                         sizeof(char *));
                        if (!l)
                                return log_error_errno(-ENOMEM, "Failed to parse the options: %m");
                        arg_confirm_removed_sets = l;
                        arg_confirm_removed_sets[arg_n_confirm_removed_sets++] = optarg;
                        break;
                }
                case ARG_DRY_RUN:
                        arg_dry_run = true;
                        break;
                case ARG_FROM:
                        arg_from = optarg;
                        break;
                case ARG_AS:
                        arg_as = optarg;
                        break;
                case ARG_FORCE:
                        arg_force = true;
                        break;
                case ARG_DETAILED_EXITCODE:
                        arg_detailed_exitcode = true;
                        break;
                case ARG_OUT:
                        arg_out = optarg;
                        break;
                case ARG_PLAN:
                        arg_plan = optarg;
                        break;
                case ARG_INSTANCE:
                        if (!instance_name_is_valid(optarg)) {
                                log_error("Invalid --instance '%s': use 1 to %u letters, digits, '_', '.', "
                                          "'-' and ':' (a systemd unit's instance name, %%i)",
                                          optarg, INSTANCE_NAME_MAX);
                                return -EINVAL;
                        }
                        arg_instance = optarg;
                        break;
                case ARG_REVISION:
                        if (!*optarg) {
                                log_error("--revision needs a branch, tag, ref or commit id");
                                return -EINVAL;
                        }
                        arg_revision = optarg;
                        break;
                case ARG_MAX_DELETIONS:
                case ARG_MAX_UPDATES: {
                        bool deletions = c == ARG_MAX_DELETIONS;
                        uint64_t *value = deletions ? &arg_max_deletions : &arg_max_updates;
                        char *end;
                        unsigned long long v;

                        if (streq(optarg, "unlimited"))
                                v = PLAN_UNLIMITED;
                        else {
                                errno = 0;
                                v = strtoull(optarg, &end, 10);
                                if (errno != 0 || *end || end == optarg || optarg[0] == '-' ||
                                    optarg[0] == '+' || v >= PLAN_UNLIMITED) {
                                        log_error("Invalid --max-%s '%s': expected a number of connectors, "
                                                  "or unlimited",
                                                  deletions ? "deletions" : "updates", optarg);
                                        return -EINVAL;
                                }
                        }
                        *value = v;
                        if (deletions)
                                arg_max_deletions_set = true;
                        else
                                arg_max_updates_set = true;
                        break;
                }
                case ARG_ONLY: {
                        static const struct {
                                const char *name;
                                unsigned bit;
                        } kinds[] = {
                                { "create", CYCLE_ONLY_CREATE },
                                { "update", CYCLE_ONLY_UPDATE },
                                { "delete", CYCLE_ONLY_DELETE },
                        };
                        const char *p = optarg;

                        arg_only = 0;
                        for (;;) {
                                size_t n = strcspn(p, ","), k;

                                for (k = 0; k < ELEMENTSOF(kinds); k++)
                                        if (strlen(kinds[k].name) == n && strncmp(kinds[k].name, p, n) == 0)
                                                break;
                                if (k == ELEMENTSOF(kinds)) {
                                        log_error("Invalid --only '%s': expected a comma-separated list of "
                                                  "create, update and delete",
                                                  optarg);
                                        return -EINVAL;
                                }
                                arg_only |= kinds[k].bit;
                                if (p[n] == '\0')
                                        break;
                                p += n + 1;
                        }
                        break;
                }
                case ARG_VERSION:
                        (void) verb_version(0, NULL);
                        return 0;
                case ARG_LOG_TARGET:
                        r = log_target_from_string(optarg);
                        if (r < 0) {
                                log_error("Invalid --log-target '%s': expected auto, journal or console",
                                          optarg);
                                return -EINVAL;
                        }
                        arg_log_target = r;
                        break;
                case 'v':
                        arg_verbose++;
                        break;
                case 'h':
                        help(stdout);
                        return 0;
                case '?':
                        return -EINVAL;
                default:
                        assert(!"unhandled option");
                }
        return 1;
}

static int run(int argc, char **argv) {
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_OK;

        log_set_target(arg_log_target);
        log_set_instance(arg_instance);
        if (arg_verbose > 0)
                log_set_max_level(LOG_DEBUG);

        if (optind >= argc) {
                log_error("Missing command; see '%s --help'", program_invocation_short_name);
                return EXIT_USAGE;
        }

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                if (!streq(argv[optind], verbs[i].name))
                        continue;
                if (arg_detailed_exitcode && verbs[i].func != verb_plan) {
                        log_error("--detailed-exitcode is an option of plan, not of '%s'", argv[optind]);
                        return EXIT_USAGE;
                }
                if (arg_out && verbs[i].func != verb_plan) {
                        log_error("--out is an option of plan, not of '%s'", argv[optind]);
                        return EXIT_USAGE;
                }
                if (arg_plan && verbs[i].func != verb_once) {
                        log_error("--plan is an option of once, not of '%s'", argv[optind]);
                        return EXIT_USAGE;
                }
                if (arg_revision && verbs[i].func != verb_plan && verbs[i].func != verb_validate) {
                        log_error("--revision is an option of plan and validate, not of '%s': what is "
                                  "carried out is always manifests.ref",
                                  argv[optind]);
                        return EXIT_USAGE;
                }
                if (arg_max_deletions_set && verbs[i].func != verb_once && verbs[i].func != verb_plan) {
                        log_error("--max-deletions is an option of once and plan, not of '%s'",
                                  argv[optind]);
                        return EXIT_USAGE;
                }
                if (arg_max_updates_set && verbs[i].func != verb_once && verbs[i].func != verb_plan) {
                        log_error("--max-updates is an option of once and plan, not of '%s'", argv[optind]);
                        return EXIT_USAGE;
                }
                if (arg_only != 0 && verbs[i].func != verb_once) {
                        log_error("--only is an option of once, not of '%s'", argv[optind]);
                        return EXIT_USAGE;
                }
                if ((size_t) (argc - optind - 1) > verbs[i].n_args) {
                        log_error("Unexpected argument '%s' after the command '%s'",
                                  argv[optind + 1 + verbs[i].n_args], argv[optind]);
                        return EXIT_USAGE;
                }
                return verbs[i].func(argc - optind, argv + optind);
        }

        const char *near = nearest_verb(argv[optind]);

        if (near)
                log_error("Unknown command '%s' (did you mean '%s'?); see '%s --help'", argv[optind], near,
                          program_invocation_short_name);
        else
                log_error("Unknown command '%s'; see '%s --help'", argv[optind],
                          program_invocation_short_name);
        return EXIT_USAGE;
}

int main(int argc, char **argv) {
        int r = run(argc, argv);

        /* The strings are argv's; the array is ours. */
        free(arg_confirm_removed_sets);
        return r;
}

#include <curl/curl.h>
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "log.h"
#include "util.h"

#define DEFAULT_CONFIG_PATH SYSCONFDIR "/connector-reconciler/config.yaml"

/* Exit statuses of DESIGN.md's command table. */
enum {
        EXIT_OK = 0,
        EXIT_FAILURE_RUNTIME = 1,
        EXIT_USAGE = 2,
        EXIT_SAFETY_STOP = 3,
};

static const char *arg_config = DEFAULT_CONFIG_PATH;
static const char *arg_manifests = NULL;
static bool arg_dry_run = false;
static enum log_target arg_log_target = LOG_TARGET_AUTO;
static int arg_verbose = 0;

static void help(FILE *f) {
        (void) fprintf(f,
                       "Usage: %s [OPTIONS] COMMAND\n"
                       "\n"
                       "Keeps an Elasticsearch cluster's connectors in line with YAML manifests.\n"
                       "\n"
                       "Commands:\n"
                       "  version                  Print the version and library versions\n"
                       "\n"
                       "Options:\n"
                       "  -c, --config FILE        Config file (default: %s)\n"
                       "      --manifests PATH     Manifest file or directory (overrides the config)\n"
                       "      --dry-run            Plan and log, delete nothing\n"
                       "      --log-target TARGET  auto, journal or console (default: auto)\n"
                       "  -v, --verbose            Log debug messages too\n"
                       "  -h, --help               Show this help\n"
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
        (void) printf("libsystemd %s (built against)\n", LIBSYSTEMD_VERSION);
        return EXIT_OK;
}

struct verb {
        const char *name;
        int (*func)(int argc, char **argv);
};

static const struct verb verbs[] = {
        { "version", verb_version },
};

static int parse_argv(int argc, char **argv) {
        enum {
                ARG_MANIFESTS = 0x100,
                ARG_DRY_RUN,
                ARG_LOG_TARGET,
        };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "manifests", required_argument, NULL, ARG_MANIFESTS },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                { "log-target", required_argument, NULL, ARG_LOG_TARGET },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c, r;

        /* '+' stops at the command; options after it are parsed again by the command. */
        while ((c = getopt_long(argc, argv, "+c:vh", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        arg_config = optarg;
                        break;
                case ARG_MANIFESTS:
                        arg_manifests = optarg;
                        break;
                case ARG_DRY_RUN:
                        arg_dry_run = true;
                        break;
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

int main(int argc, char **argv) {
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_OK;

        log_set_target(arg_log_target);
        if (arg_verbose > 0)
                log_set_max_level(LOG_DEBUG);

        if (optind >= argc) {
                log_error("Missing command; see '%s --help'", program_invocation_short_name);
                return EXIT_USAGE;
        }

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[optind], verbs[i].name))
                        return verbs[i].func(argc - optind, argv + optind);

        log_error("Unknown command '%s'; see '%s --help'", argv[optind], program_invocation_short_name);
        return EXIT_USAGE;
}

/* model_cmd.c: `fraudctl model` (see model_cmd.h).
 *
 * Design.  The registry work is trainer/registry.c's and the announcement
 * trainer/announce.c's, the same code the trainer daemon runs; this file
 * parses the command line, prints, and maps errors to exit statuses.  The
 * registry is changed first and announced second: a change never waits
 * for Kafka, and a failed announcement never undoes it.
 */
#include "tools/model_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "common/cli.h"
#include "common/connect.h"
#include "lib/bounds.h"
#include "lib/time.h"
#include "trainer/announce.h"
#include "trainer/registry.h"

struct model_cmd {
        const struct fraud_settings *settings; /* borrowed */
        const char *registry, *action, *version, *reason;
        char err[FRAUD_TRAINER_ERR_MAX];
};

/* The exit status of a registry error r (its reason in c->err). */
static int status_of(int r) {
        return r == -ENOENT   ? EX_NOINPUT
               : r == -EINVAL ? EX_DATAERR
               : r == -ENOMEM ? EX_OSERR
                              : EX_CANTCREAT;
}

static double metric(const struct fraud_modelfile *m, const char *name) {
        for (size_t i = 0; i < m->n_metrics; i++)
                if (!strcmp(m->metrics[i].name, name))
                        return m->metrics[i].value;
        return 0;
}

static int cmd_list(struct model_cmd *c) {
        char(*names)[FRAUD_MODELFILE_VERSION_MAX] =
                calloc(FRAUD_TRAINER_REGISTRY_VERSIONS_MAX, sizeof(*names));
        char champion[FRAUD_MODELFILE_VERSION_MAX] = "", cut[FRAUD_TIME_ISO8601_MAX];
        struct fraud_modelfile *m = malloc(sizeof(*m));
        size_t n = 0;
        int r = names && m ? 0 : -ENOMEM;

        if (r == 0)
                r = registry_versions(c->registry, names, FRAUD_TRAINER_REGISTRY_VERSIONS_MAX, &n,
                                      c->err, sizeof(c->err));
        if (r == 0)
                registry_champion(c->registry, champion, sizeof(champion), c->err, sizeof(c->err));
        if (r == 0)
                printf("  %-24s %-9s %-10s %8s %8s  %-24s %s\n", "VERSION", "STATUS", "CUTOFF",
                       "AP", "AUC", "PARENT", "REASON");
        for (size_t i = 0; r == 0 && i < n; i++) {
                if (registry_read(c->registry, names[i], m, c->err, sizeof(c->err)) < 0) {
                        printf("  %-24s (unreadable: %s)\n", names[i], c->err);
                        continue;
                }
                fraud_time_format_iso8601(m->label_cutoff_us, cut);
                printf("%c %-24s %-9s %-10.10s %8.4f %8.4f  %-24s %s\n",
                       strcmp(names[i], champion) ? ' ' : '*', m->version,
                       m->status[0] ? m->status : "-", cut, metric(m, "cascade_average_precision"),
                       metric(m, "cascade_auc_roc"), m->parent_version[0] ? m->parent_version : "-",
                       m->status_reason);
        }
        if (r == -ENOMEM)
                snprintf(c->err, sizeof(c->err), "out of memory");
        free(names);
        free(m);
        return r < 0 ? status_of(r) : 0;
}

static int cmd_show(struct model_cmd *c) {
        char dir[PATH_MAX], abs[PATH_MAX], path[PATH_MAX + 16], champion[64] = "", line[1024];
        struct fraud_modelfile *m = malloc(sizeof(*m));
        FILE *f;
        int r = m ? registry_read(c->registry, c->version, m, c->err, sizeof(c->err)) : -ENOMEM;

        free(m);
        if (r < 0)
                return status_of(r);
        registry_path(c->registry, c->version, dir, sizeof(dir));
        registry_champion(c->registry, champion, sizeof(champion), c->err, sizeof(c->err));
        printf("# %s%s\n", realpath(dir, abs) ? abs : dir,
               strcmp(champion, c->version) ? "" : " (champion)");
        snprintf(path, sizeof(path), "%s/model.yaml", dir);
        if (!(f = fopen(path, "re"))) {
                snprintf(c->err, sizeof(c->err), "%s: %s", path, strerror(errno));
                return EX_NOINPUT;
        }
        while (fgets(line, sizeof(line), f))
                fputs(line, stdout);
        fclose(f);
        return 0;
}

/* Publishes version as champion; EX_UNAVAILABLE, with what to do, when
 * Kafka cannot be reached. */
static int announce(struct model_cmd *c, const char *version) {
        struct fraud_kafka_producer *p = NULL;
        struct fraud_modelfile *m = malloc(sizeof(*m));
        struct fraud_connect conn;
        char dir[PATH_MAX];
        int r = m ? registry_read(c->registry, version, m, c->err, sizeof(c->err)) : -ENOMEM;

        if (r == 0)
                r = registry_path(c->registry, version, dir, sizeof(dir));
        if (r == 0)
                r = fraud_connect_init(&conn, c->settings, NULL, false, c->err, sizeof(c->err));
        if (r == 0)
                r = fraud_kafka_producer_new(&conn.options, &p, c->err, sizeof(c->err));
        if (r == 0)
                r = announce_send(p, c->settings->topics.models, m, dir, NULL,
                                  FRAUD_TRAINER_ANNOUNCE_MS, c->err, sizeof(c->err));
        fraud_kafka_producer_free(p);
        free(m);
        if (r == 0) {
                printf("announced %s on %s\n", version, c->settings->topics.models);
                return 0;
        }
        fprintf(stderr,
                "%s is the champion in %s, but the scorer was not told: %s\n"
                "The scorer keeps its model until it reads an announcement: run 'fraudctl model "
                "promote %s' again once Kafka is reachable, or restart fraud-trainer (it "
                "announces the champion when it starts).\n",
                version, c->registry, c->err, version);
        c->err[0] = '\0';
        return EX_UNAVAILABLE;
}

static int cmd_promote(struct model_cmd *c) {
        char previous[FRAUD_MODELFILE_VERSION_MAX];
        int r = registry_promote(c->registry, c->version,
                                 c->reason ? c->reason : "promoted by fraudctl model promote",
                                 previous, sizeof(previous), c->err, sizeof(c->err));

        if (r < 0)
                return status_of(r);
        printf("champion: %s%s%s\n", c->version, previous[0] ? ", retired: " : "", previous);
        return announce(c, c->version);
}

static int cmd_rollback(struct model_cmd *c) {
        char chosen[FRAUD_MODELFILE_VERSION_MAX], was[FRAUD_MODELFILE_VERSION_MAX] = "";
        int r;

        registry_champion(c->registry, was, sizeof(was), c->err, sizeof(c->err));
        r = registry_rollback(c->registry, c->version,
                              c->reason ? c->reason : "rolled back by fraudctl model rollback",
                              chosen, sizeof(chosen), c->err, sizeof(c->err));
        if (r < 0)
                return status_of(r);
        printf("champion: %s, retired: %s\n", chosen, was);
        return announce(c, chosen);
}

static const char options_help[] =
        "\n"
        "Commands:\n"
        "  list                 every version: status, cutoff, AP and AUC, parent, reason\n"
        "  show VERSION         a version's directory and model.yaml\n"
        "  promote VERSION      make VERSION the champion and announce it\n"
        "  rollback [VERSION]   put back VERSION (default: the champion's parent) and\n"
        "                       announce it\n"
        "\n"
        "Options:\n"
        "  -r, --registry DIR   the registry (default trainer.registry_dir)\n"
        "  --reason TEXT        status reason recorded by promote and rollback\n"
        "\n"
        "Exit status: 0; 64 usage; 65 unreadable model.yaml; 66 no such registry\n"
        "or version; 69 registry changed but not announced (Kafka unreachable); 73\n"
        "registry not writable; 78 bad configuration.\n";

static int options_parse(struct model_cmd *c, int argc, char **argv) {
        static const struct option longopts[] = {
                {"registry", required_argument, NULL, 'r'},
                {"reason", required_argument, NULL, 'R'},
                {NULL, 0, NULL, 0},
        };
        int opt, rest;

        optind = 0; /* a fresh scan on every call (tests call this more than once) */
        while ((opt = getopt_long(argc, argv, "r:", longopts, NULL)) != -1) {
                if (opt == 'r') {
                        c->registry = optarg;
                } else if (opt == 'R') {
                        c->reason = optarg;
                } else {
                        snprintf(c->err, sizeof(c->err), "bad option");
                        return -EINVAL;
                }
        }
        rest = argc - optind;
        c->action = rest > 0 ? argv[optind] : "";
        c->version = rest > 1 ? argv[optind + 1] : NULL;
        if (!strcmp(c->action, "list")                                    ? rest == 1
            : !strcmp(c->action, "show") || !strcmp(c->action, "promote") ? rest == 2
            : !strcmp(c->action, "rollback")                              ? rest <= 2
                                                                          : false)
                return 0;
        snprintf(c->err, sizeof(c->err),
                 "expected list, show VERSION, promote VERSION or "
                 "rollback [VERSION]");
        return -EINVAL;
}

int model_cmd_main(int argc, char **argv) {
        const struct fraud_cli cli = {
                .summary = "Lists, shows, promotes and rolls back model versions in the "
                           "registry; a promotion\nor rollback is announced to the scorer on "
                           "the models topic.",
                .options_help = options_help,
                .args_extra = true,
        };
        struct fraud_settings settings;
        struct model_cmd c = {0};
        int status = fraud_cli_parse(&cli, &argc, argv, &settings);

        if (status != FRAUD_CLI_RUN)
                return status;
        c.settings = &settings;
        c.registry = settings.trainer.registry_dir;
        if (options_parse(&c, argc, argv) < 0) {
                fprintf(stderr, "%s: %s\nTry '%s --help'.\n", argv[0], c.err, argv[0]);
                fraud_settings_release(&settings);
                return EX_USAGE;
        }
        status = !strcmp(c.action, "list")      ? cmd_list(&c)
                 : !strcmp(c.action, "show")    ? cmd_show(&c)
                 : !strcmp(c.action, "promote") ? cmd_promote(&c)
                                                : cmd_rollback(&c);
        if (status != 0 && c.err[0])
                fprintf(stderr, "%s: %s\n", argv[0], c.err);
        fraud_settings_release(&settings);
        return status;
}

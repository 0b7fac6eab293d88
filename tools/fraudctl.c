/* fraudctl.c: the operator's command-line tool.
 *
 *   fraudctl COMMAND [OPTIONS]
 *
 * One binary, one subcommand per task; each subcommand lives in its own
 * file (generate.c for `generate`) and exposes NAME_main(argc, argv) taking
 * the arguments from the subcommand's name on and returning the exit
 * status (0, or a sysexits.h code).  Each takes the shared command line of
 * common/cli.h (--config FILE, --dump-config, --help) before its own, and
 * sees argv[0] = "fraudctl NAME", the name its messages and --help use.
 * This file only dispatches.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "tools/evaluate_cmd.h"
#include "tools/featurize.h"
#include "tools/generate.h"
#include "tools/model_cmd.h"
#include "tools/backtest_cmd.h"
#include "tools/replay.h"
#include "tools/train.h"
#include "tools/watch.h"

struct command {
        const char *name;
        const char *summary;
        int (*main)(int argc, char **argv);
};

static const struct command commands[] = {
        {"generate", "simulate payments, fraud and chargebacks into files or Kafka", generate_main},
        {"train", "train GBDT and neural model from labelled rows into a model dir", train_main},
        {"features", "features and chargeback labels of payment files, as training rows",
         featurize_main},
        {"evaluate", "decide payment files with a model and rules; AP, recall by scenario",
         evaluate_cmd_main},
        {"watch", "print a live summary of the decisions on the scores topic", watch_main},
        {"model", "list, show, promote or roll back model versions in the registry",
         model_cmd_main},
        {"backtest", "replay payment files through every stage in one process; report",
         backtest_cmd_main},
        {"replay", "publish payment files to the running daemons, day by day; report",
         replay_main},
};

static void usage(FILE *out) {
        fprintf(out, "Usage: fraudctl COMMAND [OPTIONS]\n"
                     "\n"
                     "Commands:\n");
        for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
                fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
        fprintf(out, "\n"
                     "fraudctl COMMAND --help describes a command and the options every\n"
                     "command takes (--config FILE, --dump-config).\n");
}

int main(int argc, char **argv) {
        if (argc < 2) {
                usage(stderr);
                return EX_USAGE;
        }
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
                usage(stdout);
                return 0;
        }
        for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++) {
                if (!strcmp(argv[1], commands[i].name)) {
                        char name[64];

                        snprintf(name, sizeof(name), "fraudctl %s", commands[i].name);
                        argv[1] = name;
                        return commands[i].main(argc - 1, argv + 1);
                }
        }
        fprintf(stderr, "fraudctl: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return EX_USAGE;
}

/* cli.h: the command line every daemon and tool takes.
 *
 *   PROGRAM [--config FILE] [--dump-config] [--help] [the program's own arguments]
 *
 *   -c, --config FILE   settings from FILE, over the defaults, under the environment
 *       --dump-config   print the documented defaults as YAML (deploy/config/fraud.yaml)
 *   -h, --help          print the usage
 *
 * fraud_cli_parse() handles these, loads the settings and tells main() what
 * to do next:
 *
 *   struct fraud_settings settings;
 *   int status = fraud_cli_parse(&cli, &argc, argv, &settings);
 *   if (status != FRAUD_CLI_RUN)
 *           return status;
 *
 * A program with arguments of its own sets args_extra: the shared options
 * (anywhere before "--") are removed from argv, and every other argument is
 * left in it, in order, after argv[0], with *argc updated, for the program to
 * parse (getopt_long works on the result).  Its options_help is printed by
 * --help.  Without args_extra, any other argument is a usage error.
 *
 * Errors are printed on cli->err as one line: "FILE:LINE: section.key:
 * reason" for a bad configuration, "PROGRAM: reason" for a bad command line.
 */
#ifndef FRAUD_CLI_H
#define FRAUD_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "common/settings.h"

#define FRAUD_CLI_RUN (-1) /* not an exit status: go on and run */

struct fraud_cli {
        const char *summary;      /* one line for --help: what the program does */
        const char *options_help; /* the program's own options for --help, or NULL */
        bool args_extra;          /* leave unknown arguments in argv for the caller */
        FILE *out;                /* --help and --dump-config; NULL: stdout */
        FILE *err;                /* errors; NULL: stderr */
};

/* Returns FRAUD_CLI_RUN with *settings loaded (the caller then releases them
 * with fraud_settings_release()), or the status main() should exit with, the
 * output already printed and nothing to release:
 *   0          after --help or --dump-config
 *   EX_USAGE   (64) a bad command line
 *   EX_IOERR   (74) --dump-config could not write
 *   EX_CONFIG  (78) a bad or unreadable configuration file or environment
 *   EX_OSERR   (71) out of memory */
int fraud_cli_parse(const struct fraud_cli *cli, int *argc, char **argv,
                    struct fraud_settings *settings);

#endif

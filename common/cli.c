/* cli.c: see cli.h.
 *
 * A hand-written loop rather than getopt_long(): getopt reports options it
 * does not know and permutes argv, and here unknown arguments must pass
 * through untouched to the program's own parser.  Parsing only records what
 * was asked; the actions (help, dump, load) run afterwards, --help first, so
 * their order on the command line does not matter.
 */
#include "common/cli.h"

#include <errno.h>
#include <string.h>
#include <sysexits.h>

#include "lib/bounds.h"

struct cli_request {
        const char *program; /* argv[0] without its directory */
        const char *config;  /* --config FILE, or NULL */
        bool help;
        bool dump;
};

static FILE *cli_out(const struct fraud_cli *cli) {
        return cli->out ? cli->out : stdout;
}

static FILE *cli_err(const struct fraud_cli *cli) {
        return cli->err ? cli->err : stderr;
}

static int cli_usage_fail(const struct fraud_cli *cli, const struct cli_request *req,
                          const char *what, const char *arg) {
        fprintf(cli_err(cli), "%s: %s '%s'\nTry '%s --help'.\n", req->program, what, arg,
                req->program);
        return EX_USAGE;
}

/* Removes the shared options from argv and records them in req; keeps the
 * rest (with args_extra) or rejects it.  Returns 0 or an exit status. */
static int cli_args_parse(const struct fraud_cli *cli, int *argc, char **argv,
                          struct cli_request *req) {
        int kept = 1, i;

        if (*argc < 1)
                return 0;
        for (i = 1; i < *argc; i++) {
                const char *a = argv[i];

                if (!strcmp(a, "--"))
                        break;
                if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
                        req->help = true;
                } else if (!strcmp(a, "--dump-config")) {
                        req->dump = true;
                } else if (!strncmp(a, "--config=", 9)) {
                        req->config = a + 9;
                } else if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
                        if (i + 1 >= *argc)
                                return cli_usage_fail(cli, req, "missing FILE after", a);
                        req->config = argv[++i];
                } else if (cli->args_extra) {
                        argv[kept++] = argv[i];
                } else if (a[0] == '-') {
                        return cli_usage_fail(cli, req, "unknown option", a);
                } else {
                        return cli_usage_fail(cli, req, "unexpected argument", a);
                }
        }
        if (i + 1 < *argc && !cli->args_extra) /* after "--" */
                return cli_usage_fail(cli, req, "unexpected argument", argv[i + 1]);
        while (cli->args_extra && i < *argc)
                argv[kept++] = argv[i++]; /* "--" and what follows it, for the caller */
        argv[kept] = NULL;
        *argc = kept;
        return 0;
}

static void cli_help_print(const struct fraud_cli *cli, const struct cli_request *req) {
        const struct fraud_config_table *t = &fraud_settings_table;
        FILE *out = cli_out(cli);

        fprintf(out, "Usage: %s [OPTIONS]\n", req->program);
        if (cli->summary)
                fprintf(out, "%s\n", cli->summary);
        fputs("\nOptions:\n"
              "  -c, --config FILE  read the settings from FILE (YAML) over the defaults\n"
              "      --dump-config  print the default settings, documented, as YAML and exit\n"
              "  -h, --help         print this help and exit\n",
              out);
        if (cli->options_help)
                fputs(cli->options_help, out);
        fputs("\nEnvironment (overrides the file):\n", out);
        for (size_t i = 0; i < t->n_keys; i++)
                if (t->keys[i].env)
                        fprintf(out, "  %-26s %s\n", t->keys[i].env, t->keys[i].name);
}

static int cli_dump_print(const struct fraud_cli *cli) {
        struct fraud_settings defaults;
        int r = fraud_settings_init(&defaults);

        if (r < 0) {
                fprintf(cli_err(cli), "out of memory\n");
                return EX_OSERR;
        }
        r = fraud_settings_dump(&defaults, cli_out(cli));
        fraud_settings_release(&defaults);
        if (r < 0) {
                fprintf(cli_err(cli), "--dump-config: %s\n", strerror(-r));
                return EX_IOERR;
        }
        return 0;
}

int fraud_cli_parse(const struct fraud_cli *cli, int *argc, char **argv,
                    struct fraud_settings *settings) {
        struct cli_request req = {.program = "fraud"};
        char err[FRAUD_CONFIG_ERR_MAX];
        int r;

        if (*argc > 0 && argv[0] && *argv[0]) {
                const char *slash = strrchr(argv[0], '/');
                req.program = slash ? slash + 1 : argv[0];
        }
        r = cli_args_parse(cli, argc, argv, &req);
        if (r != 0)
                return r;
        if (req.help) {
                cli_help_print(cli, &req);
                return 0;
        }
        if (req.dump)
                return cli_dump_print(cli);
        r = fraud_settings_load(settings, req.config, err, sizeof(err));
        if (r < 0) {
                fprintf(cli_err(cli), "%s\n", err);
                return r == -ENOMEM ? EX_OSERR : EX_CONFIG;
        }
        return FRAUD_CLI_RUN;
}

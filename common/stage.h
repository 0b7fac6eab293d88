/* stage.h: the start of every stage daemon's main(): the shared command
 * line, settings, logging.  A stage whose loop is not built yet stops here
 * with EX_UNAVAILABLE and says so, rather than pretending to run. */
#ifndef FRAUD_STAGE_H
#define FRAUD_STAGE_H

#include "common/settings.h"

struct fraud_stage_info {
        const char *name;  /* "fraud-ingest" */
        const char *place; /* "Stage 1 of 5: consumes ..., produces ..." */
};

/* Parses the command line into settings and opens the log at the configured
 * level.  Returns FRAUD_CLI_RUN (settings loaded, the caller releases them)
 * or main()'s exit status (see common/cli.h). */
int fraud_stage_start(const struct fraud_stage_info *info, int *argc, char **argv,
                      struct fraud_settings *settings);

/* For a stage folder whose loop is not built yet: the command line and the
 * configuration work (--help, --config, --dump-config), running does not. */
int fraud_stage_main_unbuilt(const struct fraud_stage_info *info, int argc, char **argv);

#endif

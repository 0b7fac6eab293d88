/* stage.c: see stage.h. */
#include "common/stage.h"

#include <sysexits.h>

#include "common/cli.h"
#include "lib/log.h"

int fraud_stage_start(const struct fraud_stage_info *info, int *argc, char **argv,
                      struct fraud_settings *settings) {
        const struct fraud_cli cli = {.summary = info->place};
        enum fraud_log_level level;
        int status;

        status = fraud_cli_parse(&cli, argc, argv, settings);
        if (status != FRAUD_CLI_RUN)
                return status;
        if (fraud_log_level_parse(settings->log.level, &level) < 0)
                level = FRAUD_LOG_INFO; /* the settings table admits only valid names */
        fraud_log_open(info->name, level);
        return FRAUD_CLI_RUN;
}

int fraud_stage_main_unbuilt(const struct fraud_stage_info *info, int argc, char **argv) {
        struct fraud_settings settings;
        int status = fraud_stage_start(info, &argc, argv, &settings);

        if (status != FRAUD_CLI_RUN)
                return status;
        fraud_log_err("this stage is not built yet in this version (see README, Status)");
        fraud_settings_release(&settings);
        return EX_UNAVAILABLE;
}

/* backtest_cmd.h: `fraudctl backtest` (see backtest_cmd.c). */
#ifndef FRAUD_BACKTEST_CMD_H
#define FRAUD_BACKTEST_CMD_H

/* The subcommand; returns the exit status (0, or a sysexits.h code). */
int backtest_cmd_main(int argc, char **argv);

#endif

/* replay.h: `fraudctl replay` (see replay.c). */
#ifndef FRAUD_REPLAY_H
#define FRAUD_REPLAY_H

/* The subcommand; returns the exit status (0, 1, or a sysexits.h code). */
int replay_main(int argc, char **argv);

#endif

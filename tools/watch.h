/* watch.h: `fraudctl watch`, a live summary of the decisions on `scores`.
 *
 * Consumes Score messages (its own consumer group, from the end of the
 * topic, or from the beginning with --from-beginning) and prints one line
 * per second: decisions per second, the share of allow / review / block,
 * the share decided by rules, GBDT and MLP, the share degraded, and the
 * latency from ingest to score (p50, p99; both wall clocks of this machine).
 * At the end (--seconds, --expect N scores, or SIGINT/SIGTERM) it prints the
 * totals, with duplicates (the same transaction id scored twice) counted
 * apart.  Read-only: it never produces.
 */
#ifndef FRAUD_WATCH_H
#define FRAUD_WATCH_H

int watch_main(int argc, char **argv);

#endif

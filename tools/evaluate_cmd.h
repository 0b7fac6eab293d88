/* evaluate_cmd.h: `fraudctl evaluate`, a model directory (and rules) on a
 * payments history, decided as the scorer would decide it.
 *
 *   fraudctl evaluate [--config FILE] --model DIR --transactions FILE
 *                     --chargebacks FILE [--rules FILE] [--from YYYY-MM-DD]
 *                     [--mapping FILE] [--card-hash-key HEX]
 *
 * The offline driver (tools/offline.h) computes every payment's features
 * from the start of the files, so the windows are warm; every payment on
 * or after --from (default: all) is then decided by the scorer's Kafka-free
 * core (scorer/decide.h: rules, GBDT, MLP on the band, the cascade under
 * the scorer settings' cost model), one payment at a time in file order.
 *
 * Printed, against the files' ground truth (is_fraud, scenario; used here
 * only): average precision and AUC-ROC of the cascade's probability,
 * recall at the operating point (share of frauds blocked, and of frauds
 * reviewed or blocked) and the false-positive rates, overall and per fraud
 * scenario (a scenario's frauds against every legitimate payment); the
 * share of payments decided by rules, GBDT and MLP; the allow, review and
 * block counts; degraded decisions.  Average precision against the
 * chargeback labels (every chargeback in the file) is printed as well, for
 * files without ground truth.
 */
#ifndef FRAUD_EVALUATE_CMD_H
#define FRAUD_EVALUATE_CMD_H

#define EVALUATE_CMD_SCENARIOS_MAX 16    /* distinct scenario names reported; more go to "other" */
#define EVALUATE_CMD_NAME_MAX      32    /* bytes of a scenario name, NUL included */
#define EVALUATE_CMD_ROWS_FIRST    65536 /* decisions allocated before the arrays first grow */
#define EVALUATE_CMD_ROWS_MAX      100000000 /* decisions held for the metrics */

/* The subcommand; returns the exit status (0, or a sysexits.h code). */
int evaluate_cmd_main(int argc, char **argv);

#endif

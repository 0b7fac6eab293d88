/* evaluate_cmd.c: `fraudctl evaluate` (see evaluate_cmd.h for what it
 * prints).
 *
 * Design.  The offline driver calls back once per feature vector; each
 * vector on or after --from is wrapped in a Fraud__FeatureVector (borrowing
 * the driver's transaction and values) and decided with decide_run(), the
 * same call path fraud-scorer takes through decide_batch() (its decisions
 * do not depend on batching).  Only what the metrics need is kept per
 * payment: the cascade's probability, the decision, the stage, the truth,
 * the scenario (an index into a small table of names) and the chargeback
 * label, in arrays grown by doubling up to EVALUATE_CMD_ROWS_MAX.  The
 * metrics come from trainer/evaluate.h, so they mean what `fraudctl train`
 * and the trainer's quality gate mean.
 *
 * Rules are loaded through scorer/rulebook.h and compiled against the
 * model's feature names, as the scorer compiles them when a model comes in.
 */
#include "tools/evaluate_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "common/cli.h"
#include "common/featureset.h"
#include "scorer/decide.h"
#include "scorer/rulebook.h"
#include "scorer/serving.h"
#include "tools/offline.h"
#include "trainer/evaluate.h"

#define SCENARIO_LEGIT "legit"

struct evaluate_args {
        const char *model, *transactions, *chargebacks, *rules, *from, *mapping, *key;
};

/* What one run keeps; arrays owned. */
struct eval {
        struct decide_config cfg;
        struct serving *model;
        struct rulebook *rules;
        uint64_t rules_hash;
        int64_t from_us;
        size_t n, cap;
        double *p;
        uint8_t *truth, *label, *decision, *stage, *scenario;
        char names[EVALUATE_CMD_SCENARIOS_MAX + 1][EVALUATE_CMD_NAME_MAX];
        size_t n_names;
        uint64_t degraded, schema_mismatch, model_errors, before_from;
        bool truth_known;
};

static void eval_release(struct eval *e) {
        serving_free(e->model);
        rulebook_free(e->rules);
        free(e->p);
        free(e->truth);
        free(e->label);
        free(e->decision);
        free(e->stage);
        free(e->scenario);
}

static int grow(void **p, size_t cap, size_t size) {
        void *q = realloc(*p, cap * size);

        if (!q)
                return -ENOMEM;
        *p = q;
        return 0;
}

static int eval_grow(struct eval *e) {
        size_t cap = e->cap ? 2 * e->cap : EVALUATE_CMD_ROWS_FIRST;

        if (e->n < e->cap)
                return 0;
        if (e->n >= EVALUATE_CMD_ROWS_MAX)
                return -E2BIG;
        if (grow((void **)&e->p, cap, sizeof(double)) < 0 || grow((void **)&e->truth, cap, 1) < 0 ||
            grow((void **)&e->label, cap, 1) < 0 || grow((void **)&e->decision, cap, 1) < 0 ||
            grow((void **)&e->stage, cap, 1) < 0 || grow((void **)&e->scenario, cap, 1) < 0)
                return -ENOMEM;
        e->cap = cap;
        return 0;
}

/* The index of a scenario name; the last slot is "other". */
static uint8_t scenario_index(struct eval *e, const char *name) {
        for (size_t i = 0; i < e->n_names; i++)
                if (!strcmp(e->names[i], name))
                        return (uint8_t)i;
        if (e->n_names == EVALUATE_CMD_SCENARIOS_MAX || strlen(name) >= EVALUATE_CMD_NAME_MAX) {
                snprintf(e->names[EVALUATE_CMD_SCENARIOS_MAX], EVALUATE_CMD_NAME_MAX, "other");
                return EVALUATE_CMD_SCENARIOS_MAX;
        }
        memcpy(e->names[e->n_names], name, strlen(name) + 1);
        return (uint8_t)e->n_names++;
}

static int on_row(void *opaque, const struct offline_row *row) {
        struct eval *e = opaque;
        Fraud__FeatureVector fv = FRAUD__FEATURE_VECTOR__INIT;
        struct decide_result res;
        struct decide_tx tx;
        int r;

        if (row->tx->event_time_us < e->from_us) {
                e->before_from++;
                return 0;
        }
        if ((r = eval_grow(e)) < 0)
                return r;
        fv.transaction_id = row->tx->transaction_id;
        fv.transaction = (Fraud__Transaction *)row->tx;
        fv.feature_schema_hash = row->schema_hash;
        fv.n_values = row->n_values;
        fv.values = (double *)row->values;
        decide_tx_from_vector(&fv, &tx);
        decide_run(&e->cfg, rulebook_rules(e->rules), e->rules_hash, e->model, &tx, &res);
        e->p[e->n] = res.cascade.probability;
        e->decision[e->n] = (uint8_t)res.cascade.decision;
        e->stage[e->n] = (uint8_t)res.cascade.stage;
        e->truth[e->n] = row->is_fraud == 1;
        e->label[e->n] = row->label;
        e->scenario[e->n] = scenario_index(e, row->scenario[0] ? row->scenario : SCENARIO_LEGIT);
        e->truth_known |= row->is_fraud >= 0;
        e->degraded += res.cascade.degraded || res.schema_mismatch || res.model_error < 0;
        e->schema_mismatch += res.schema_mismatch;
        e->model_errors += res.model_error < 0;
        e->n++;
        return 0;
}

/* ---- metrics ---- */

/* Payments of scenario s (or every fraud when s < 0) and every legitimate
 * one: their scores and truth into p, y (n of them).  Returns the count. */
static size_t subset(const struct eval *e, int s, double *p, uint8_t *y) {
        size_t k = 0;

        for (size_t i = 0; i < e->n; i++) {
                if (e->truth[i] && s >= 0 && e->scenario[i] != s)
                        continue;
                p[k] = e->p[i];
                y[k++] = e->truth[i];
        }
        return k;
}

/* One line: name, frauds, AP, AUC, recall blocked, recall reviewed or
 * blocked. */
static void line_print(const struct eval *e, int s, const char *name, double *p, uint8_t *y) {
        size_t k = subset(e, s, p, y);
        uint64_t frauds = 0, blocked = 0, flagged = 0;
        double ap = 0, auc = 0;
        bool ok;

        for (size_t i = 0; i < e->n; i++) {
                if (!e->truth[i] || (s >= 0 && e->scenario[i] != s))
                        continue;
                frauds++;
                blocked += e->decision[i] == CASCADE_BLOCK;
                flagged += e->decision[i] != CASCADE_ALLOW;
        }
        ok = evaluate_average_precision(p, y, k, &ap) == 0 && evaluate_auc_roc(p, y, k, &auc) == 0;
        if (ok)
                printf("%-22s %8llu %9.4f %9.4f", name, (unsigned long long)frauds, ap, auc);
        else
                printf("%-22s %8llu %9s %9s", name, (unsigned long long)frauds, "-", "-");
        printf(" %14.4f %16.4f\n", frauds ? (double)blocked / (double)frauds : 0.0,
               frauds ? (double)flagged / (double)frauds : 0.0);
}

static void traffic_print(const struct eval *e) {
        uint64_t by_stage[4] = {0}, by_decision[4] = {0}, legit = 0, fp_block = 0, fp_flag = 0;

        for (size_t i = 0; i < e->n; i++) {
                by_stage[e->stage[i] & 3]++;
                by_decision[e->decision[i] & 3]++;
                if (e->truth[i])
                        continue;
                legit++;
                fp_block += e->decision[i] == CASCADE_BLOCK;
                fp_flag += e->decision[i] != CASCADE_ALLOW;
        }
        printf("decided by: rules %.4f, gbdt %.4f, mlp %.4f (%llu, %llu, %llu)\n",
               (double)by_stage[CASCADE_STAGE_RULES] / (double)e->n,
               (double)by_stage[CASCADE_STAGE_GBDT] / (double)e->n,
               (double)by_stage[CASCADE_STAGE_NEURAL] / (double)e->n,
               (unsigned long long)by_stage[CASCADE_STAGE_RULES],
               (unsigned long long)by_stage[CASCADE_STAGE_GBDT],
               (unsigned long long)by_stage[CASCADE_STAGE_NEURAL]);
        printf("decisions: allow %llu, review %llu, block %llu; degraded %llu (schema mismatch "
               "%llu, model errors %llu)\n",
               (unsigned long long)by_decision[CASCADE_ALLOW],
               (unsigned long long)by_decision[CASCADE_REVIEW],
               (unsigned long long)by_decision[CASCADE_BLOCK], (unsigned long long)e->degraded,
               (unsigned long long)e->schema_mismatch, (unsigned long long)e->model_errors);
        if (e->truth_known)
                printf("false-positive rate: blocked %.6f, reviewed or blocked %.6f of %llu "
                       "legitimate payments\n",
                       legit ? (double)fp_block / (double)legit : 0.0,
                       legit ? (double)fp_flag / (double)legit : 0.0, (unsigned long long)legit);
}

static int report_print(const struct eval *e) {
        double *p = malloc((e->n ? e->n : 1) * sizeof(double)), ap;
        uint8_t *y = malloc(e->n ? e->n : 1);

        if (!p || !y) {
                free(p);
                free(y);
                return -ENOMEM;
        }
        printf("payments decided: %zu (%llu earlier ones only warmed the windows)\n", e->n,
               (unsigned long long)e->before_from);
        if (e->cfg.costs.fn_is_amount)
                printf("operating point: the scorer's cost model, block when p > C_FP / (C_FP + "
                       "amount), C_FP %g\n",
                       e->cfg.costs.false_positive);
        else
                printf("operating point: the scorer's cost model, block when p > %g\n",
                       cascade_block_threshold(&e->cfg.costs, 0));
        if (e->n > 0)
                traffic_print(e);
        if (e->n > 0 && evaluate_average_precision(e->p, e->label, e->n, &ap) == 0)
                printf("average precision against chargeback labels: %.4f\n", ap);
        if (e->truth_known && e->n > 0) {
                printf("%-22s %8s %9s %9s %14s %16s\n", "ground truth", "frauds", "avg_prec",
                       "auc_roc", "recall_block", "recall_flagged");
                line_print(e, -1, "all", p, y);
                for (size_t s = 0; s <= EVALUATE_CMD_SCENARIOS_MAX; s++)
                        if ((s < e->n_names && strcmp(e->names[s], SCENARIO_LEGIT) != 0) ||
                            (s == EVALUATE_CMD_SCENARIOS_MAX && e->names[s][0]))
                                line_print(e, (int)s, e->names[s], p, y);
        } else {
                printf("no ground truth (is_fraud) in the file: recall by scenario not known\n");
        }
        free(p);
        free(y);
        return 0;
}

/* ---- setup ---- */

/* The scorer settings' cost model, as fraud-scorer reads it. */
static void config_fill(struct decide_config *cfg, const struct fraud_settings_scorer *sc) {
        const char *d = sc->degraded_decision;

        cfg->costs = (struct cascade_costs){
                .false_positive = sc->cost_false_positive,
                .false_negative = sc->cost_false_negative,
                .fn_is_amount = sc->cost_fn_is_amount,
                .review_ratio = sc->review_ratio,
                .degraded_decision = !strcmp(d, "block")    ? CASCADE_BLOCK
                                     : !strcmp(d, "review") ? CASCADE_REVIEW
                                                            : CASCADE_ALLOW,
        };
        cfg->reasons_max = (size_t)sc->reasons_max;
}

/* Loads the model and compiles the rules against its feature names. */
static int eval_load(struct eval *e, const struct evaluate_args *a, const struct fraud_settings *s,
                     char *err, size_t n) {
        const char *names[FRAUD_MODELFILE_FEATURES_MAX];
        int r = serving_load(a->model, (int)s->scorer.gbdt_threads, &e->model, err, n);

        if (r < 0)
                return r;
        for (size_t i = 0; i < e->model->meta.n_features; i++)
                names[i] = e->model->meta.feature_names[i];
        e->rules_hash = fraud_featureset_hash(names, e->model->meta.n_features);
        if ((r = rulebook_new(a->rules ? a->rules : "", &e->rules)) < 0) {
                snprintf(err, n, "rules: %s", strerror(-r));
                return r;
        }
        if ((r = rulebook_schema_set(e->rules, names, e->model->meta.n_features, err, n)) < 0)
                return r;
        r = rulebook_refresh(e->rules, true, err, n);
        return r < 0 ? r : 0;
}

static const char options_help[] =
        "\n"
        "Input:\n"
        "  --model DIR          model directory (model.yaml, gbdt.json, mlp.bin)\n"
        "  --transactions FILE  payments (CSV, with the ground truth is_fraud and\n"
        "                       scenario for the per-scenario figures)\n"
        "  --chargebacks FILE   chargebacks (CSV), applied at their arrival\n"
        "  --rules FILE         scorer rules (default: none)\n"
        "  --from YYYY-MM-DD    decide payments from that day on; earlier ones only\n"
        "                       warm the windows (default: decide all)\n"
        "  --mapping FILE       column mapping of the payments\n"
        "  --card-hash-key HEX  32 hex digits (default ingest.card_hash_key or\n"
        "                       FRAUD_INGEST_CARD_HASH_KEY; required)\n"
        "\n"
        "Decisions use the scorer settings (costs, review_ratio, degraded_decision)\n"
        "and features the velocity settings.\n"
        "Exit status: 0; 64 usage; 65 bad input; 66 input unreadable; 71 out of\n"
        "memory; 78 bad configuration or model.\n";

static int args_parse(struct evaluate_args *a, int argc, char **argv, char *err, size_t n) {
        const struct offline_option opts[] = {
                {"model", &a->model, true},
                {"transactions", &a->transactions, true},
                {"chargebacks", &a->chargebacks, true},
                {"rules", &a->rules, false},
                {"from", &a->from, false},
                {"mapping", &a->mapping, false},
                {"card-hash-key", &a->key, false},
        };

        return offline_options_parse(opts, sizeof(opts) / sizeof(opts[0]), argc, argv, err, n);
}

static int eval_run(struct eval *e, const struct evaluate_args *a, const struct fraud_settings *s,
                    char *err, size_t n) {
        struct offline_options o = {
                .transactions = a->transactions,
                .chargebacks = a->chargebacks,
                .settings = s,
                .until_us = OFFLINE_TIME_ALL,
                .label_cutoff_us = OFFLINE_TIME_ALL,
                .diag = stderr,
        };
        struct offline_counts counts;
        struct normalize_key key;
        struct mapping *m = malloc(sizeof(*m));
        int r;

        if (!m)
                return EX_OSERR;
        e->from_us = INT64_MIN;
        if (a->from && offline_day_parse(a->from, &e->from_us) < 0) {
                snprintf(err, n, "--from: expected YYYY-MM-DD, got '%s'", a->from);
                r = EX_USAGE;
        } else if (offline_key_get(a->key, s, &key, err, n) < 0 ||
                   offline_mapping_get(a->mapping, s, m, err, n) < 0 ||
                   eval_load(e, a, s, err, n) < 0) {
                r = EX_CONFIG;
        } else {
                o.key = &key;
                o.mapping = m;
                r = offline_run(&o, on_row, e, &counts, err, n);
                offline_counts_print(&counts, stderr);
                r = r == -ENOMEM                   ? EX_OSERR
                    : r == -ENOENT || r == -EACCES ? EX_NOINPUT
                    : r < 0                        ? EX_DATAERR
                                                   : 0;
        }
        if (r == 0 && report_print(e) < 0)
                r = EX_OSERR;
        free(m);
        return r;
}

int evaluate_cmd_main(int argc, char **argv) {
        const struct fraud_cli cli = {
                .summary = "Decides a payments history with a model directory (and rules) as "
                           "the scorer would,\nand prints average precision, recall by fraud "
                           "scenario and the cascade's traffic shares.",
                .options_help = options_help,
                .args_extra = true,
        };
        char err[OFFLINE_ERR_MAX] = "";
        struct fraud_settings settings;
        struct evaluate_args a;
        struct eval *e;
        int status = fraud_cli_parse(&cli, &argc, argv, &settings);

        if (status != FRAUD_CLI_RUN)
                return status;
        if (!(e = calloc(1, sizeof(*e)))) {
                status = EX_OSERR;
        } else if (args_parse(&a, argc, argv, err, sizeof(err)) < 0) {
                fprintf(stderr, "%s: %s\nTry '%s --help'.\n", argv[0], err, argv[0]);
                status = EX_USAGE;
        } else {
                config_fill(&e->cfg, &settings.scorer);
                status = eval_run(e, &a, &settings, err, sizeof(err));
                if (status != 0)
                        fprintf(stderr, "%s: %s\n", argv[0], err[0] ? err : "failed");
        }
        if (e)
                eval_release(e);
        free(e);
        fraud_settings_release(&settings);
        return status;
}

/* Tests for common/modelfile.c: write/read round trip, and every read
 * error with the line it names. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/featureset.h"
#include "common/modelfile.h"
#include "tests/scorer/kit.h"
#include "tests/testing.h"

static char dir[64];

static void dir_make(void) {
        snprintf(dir, sizeof(dir), "/tmp/modelfile-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Writes text as dir/model.yaml. */
static void yaml_put(const char *text) {
        char path[128];
        FILE *f;

        snprintf(path, sizeof(path), "%s/model.yaml", dir);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        fclose(f);
}

START_TEST(test_modelfile_round_trip_keeps_every_field) {
        static struct fraud_modelfile in, out;
        char err[512] = "";

        dir_make();
        kit_meta(&in, "2026-01-01.1");
        snprintf(in.parent_version, sizeof(in.parent_version), "2025-12-31.1");
        in.review_threshold = 0.123456789012345678;
        in.n_metrics = 2;
        snprintf(in.metrics[0].name, sizeof(in.metrics[0].name), "auc_roc");
        in.metrics[0].value = 0.9312;
        snprintf(in.metrics[1].name, sizeof(in.metrics[1].name), "average_precision");
        in.metrics[1].value = 0.41;
        in.n_params = 1;
        snprintf(in.params[0].name, sizeof(in.params[0].name), "max_depth");
        in.params[0].value = 6;
        snprintf(in.status_reason, sizeof(in.status_reason), "beat \"champion\" by 0.01\\AUC");
        ck_assert_int_eq(fraud_modelfile_write(&in, dir), 0);
        ck_assert_msg(fraud_modelfile_read(&out, dir, err, sizeof(err)) == 0, "%s", err);
        ck_assert_int_eq(memcmp(&in, &out, sizeof(in)), 0);
        kit_rm_rf(dir);
}
END_TEST

START_TEST(test_modelfile_has_mlp_follows_mlp_bin) {
        static struct fraud_modelfile m;
        char err[512] = "";

        dir_make();
        kit_meta(&m, "v1");
        ck_assert_int_eq(fraud_modelfile_write(&m, dir), 0);
        ck_assert_int_eq(fraud_modelfile_read(&m, dir, err, sizeof(err)), 0);
        ck_assert(!m.has_mlp);
        kit_mlp_write(dir);
        ck_assert_int_eq(fraud_modelfile_read(&m, dir, err, sizeof(err)), 0);
        ck_assert(m.has_mlp);
        kit_rm_rf(dir);
}
END_TEST

START_TEST(test_modelfile_write_refuses_inconsistent_metadata) {
        static struct fraud_modelfile m;

        dir_make();
        kit_meta(&m, "v1");
        m.feature_schema_hash ^= 1;
        ck_assert_int_eq(fraud_modelfile_write(&m, dir), -EINVAL);
        kit_meta(&m, "v1");
        m.band_low = 0.9;
        ck_assert_int_eq(fraud_modelfile_write(&m, dir), -EINVAL);
        kit_meta(&m, "v1");
        snprintf(m.status, sizeof(m.status), "great");
        ck_assert_int_eq(fraud_modelfile_write(&m, dir), -EINVAL);
        kit_rm_rf(dir);
}
END_TEST

START_TEST(test_modelfile_empty_status_reads_back_empty) {
        static struct fraud_modelfile m;
        char err[512] = "";

        dir_make();
        kit_meta(&m, "v1");
        m.status[0] = '\0';
        ck_assert_int_eq(fraud_modelfile_write(&m, dir), 0);
        snprintf(m.status, sizeof(m.status), "x");
        ck_assert_msg(fraud_modelfile_read(&m, dir, err, sizeof(err)) == 0, "%s", err);
        ck_assert_str_eq(m.status, "");
        kit_rm_rf(dir);
}
END_TEST

/* A valid model.yaml whose line `line` (1-based) is replaced by repl
 * (NULL: removed). */
static void yaml_put_edited(int line, const char *repl) {
        char hash[64], text[4096] = "";
        const char *lines[] = {
                "version: \"v1\"",
                "created_at: \"2026-01-01T00:00:00Z\"",
                "feature_names: [card_tx_count_1h, card_amount_24h, merchant_fraud_rate, "
                "device_cards_24h, amount_zscore, new_country]",
                hash,
                "block_threshold: 0.5",
                "review_threshold: 0.2",
                "band_low: 0.3",
                "band_high: 0.7",
                "metrics: {auc_roc: 0.9}",
                "status: champion",
        };

        snprintf(hash, sizeof(hash), "feature_schema_hash: %llu", (unsigned long long)kit_hash());
        for (int i = 0; i < (int)(sizeof(lines) / sizeof(lines[0])); i++) {
                const char *l = i + 1 == line ? repl : lines[i];
                if (!l)
                        continue;
                strcat(text, l);
                strcat(text, "\n");
        }
        yaml_put(text);
}

START_TEST(test_modelfile_read_errors_name_their_line) {
        static const struct {
                int line;
                const char *repl, *want;
        } cases[] = {
                {0, NULL, NULL}, /* the valid file */
                {1, NULL, ":1: version: required"},
                {2, "created_at: yesterday", ":2: created_at: expected an ISO 8601 time"},
                {3, "feature_names: []", ":3: feature_names: expected 1 to"},
                {4, "feature_schema_hash: 12", ":4: feature_schema_hash: does not match"},
                {4, "feature_schema_hash: -3", ":4: feature_schema_hash: expected an unsigned"},
                {5, "block_threshold: 1.5", ":5: block_threshold: not within [0, 1]"},
                {6, "review_threshold: 0.6", ":6: review_threshold: above block_threshold"},
                {7, "band_low: 0.8", ":7: band_low: above band_high"},
                {8, "band_high: high", ":8: band_high: 'high' is not a finite number"},
                {9, "metrics: [1, 2]", ":9: metrics: expected a mapping"},
                {10, "status: great", ":10: status: expected candidate"},
                {10, "colour: blue", ":10: colour: unknown key"},
                {10, "version: v2", ":10: version: given twice"},
                {10, "status: [", ":11: file:"},
        };
        static struct fraud_modelfile m;
        char err[512];

        dir_make();
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int r;
                err[0] = '\0';
                yaml_put_edited(cases[i].line, cases[i].repl);
                r = fraud_modelfile_read(&m, dir, err, sizeof(err));
                if (!cases[i].want) {
                        ck_assert_msg(r == 0, "%s", err);
                        continue;
                }
                ck_assert_int_eq(r, -EINVAL);
                ck_assert_msg(strstr(err, cases[i].want) != NULL, "case %zu: got '%s', want '%s'",
                              i, err, cases[i].want);
        }
        kit_rm_rf(dir);
}
END_TEST

START_TEST(test_modelfile_missing_directory_is_enoent) {
        static struct fraud_modelfile m;
        char err[512];

        ck_assert_int_eq(fraud_modelfile_read(&m, "/nonexistent/model", err, sizeof(err)), -ENOENT);
        ck_assert_msg(strstr(err, "/nonexistent/model/model.yaml") != NULL, "%s", err);
}
END_TEST

TESTING_MAIN("modelfile", test_modelfile_round_trip_keeps_every_field,
             test_modelfile_has_mlp_follows_mlp_bin,
             test_modelfile_write_refuses_inconsistent_metadata,
             test_modelfile_empty_status_reads_back_empty,
             test_modelfile_read_errors_name_their_line, test_modelfile_missing_directory_is_enoent)

/* Tests of tools/faults.c: every defect makes a record that ingest's own
 * parser and normalizer reject with the reason code faults_reason_code()
 * names, under its own id; the draws follow the shares; and the same seed
 * draws the same faults. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/mapping.h"
#include "ingest/normalize.h"
#include "tools/faults.h"
#include "tools/generate.h"
#include "tools/sim.h"

#include "tests/testing.h"

#define KEY_HEX "000102030405060708090a0b0c0d0e0f"

static struct mapping map;
static struct mapping_scratch *scratch;
static struct normalize_rejection rej;
static struct normalize_tx tx;
static struct normalize_key key;

static void setup(void) {
        if (!scratch)
                scratch = malloc(sizeof(*scratch));
        ck_assert_ptr_nonnull(scratch);
        mapping_init_default(&map);
        ck_assert_int_eq(normalize_key_parse(KEY_HEX, &key), 0);
}

/* What ingest makes of a raw JSON record: NORMALIZE_OK or the reason. */
static enum normalize_reason ingest_verdict(const char *s, size_t len) {
        int rc = mapping_json_input(&map, s, len, scratch, &rej);

        if (rc == 0)
                rc = normalize_record(&scratch->input, &key, &tx, &rej);
        return rc == 0 ? NORMALIZE_OK : rej.reason;
}

/* The first transactions of a small simulation, as published JSON. */
static size_t sim_lines(char lines[][FRAUD_GENERATE_LINE_MAX], size_t max) {
        struct sim_config c;
        struct sim *s;
        struct sim_event ev;
        size_t n = 0;

        sim_config_default(&c);
        c.days = 2;
        c.customers = 200;
        c.merchants = 60;
        ck_assert_int_eq(sim_new(&c, &s), 0);
        while (n < max && sim_next(s, &ev) > 0) {
                if (ev.kind != SIM_EVENT_TRANSACTION)
                        continue;
                size_t len = generate_transaction_json(&ev.tx, false, lines[n]);
                lines[n++][len - 1] = '\0'; /* the newline */
        }
        sim_free(s);
        return n;
}

START_TEST(test_faults_each_defect_is_rejected_by_ingest_with_its_reason) {
        static char lines[64][FRAUD_GENERATE_LINE_MAX];
        char out[FRAUD_GENERATE_LINE_MAX];
        struct faults f;
        size_t n;

        setup();
        n = sim_lines(lines, 64);
        ck_assert_uint_eq(n, 64);
        faults_init(&f, 7, FAULTS_SHARE_MAX, 0);
        f.malformed_share = 1.0; /* every draw: one record of each kind in turn */
        for (size_t i = 0; i < 2 * FAULTS_KIND_COUNT; i++) {
                enum faults_kind k = (enum faults_kind)(i % FAULTS_KIND_COUNT);
                const char *line = lines[i];
                int len;

                ck_assert_int_eq(ingest_verdict(line, strlen(line)), NORMALIZE_OK);
                len = faults_malformed(&f, line, strlen(line), out, sizeof(out));
                ck_assert_int_gt(len, 0);
                ck_assert_uint_eq(strlen(out), (size_t)len);
                ck_assert_msg(strcmp(normalize_reason_code(ingest_verdict(out, (size_t)len)),
                                     faults_reason_code(k)) == 0,
                              "%s: got %s (%s) for %s", faults_reason_code(k),
                              normalize_reason_code(rej.reason), rej.detail, out);
                if (k != FAULTS_TRUNCATED)
                        ck_assert_ptr_nonnull(strstr(out, FAULTS_ID_SUFFIX "\""));
        }
        ck_assert_uint_eq(f.malformed, 2 * FAULTS_KIND_COUNT);
        for (int k = 0; k < FAULTS_KIND_COUNT; k++)
                ck_assert_uint_eq(f.by_kind[k], 2);
}
END_TEST

START_TEST(test_faults_draws_follow_the_shares_and_the_seed) {
        static char lines[1][FRAUD_GENERATE_LINE_MAX];
        char out[FRAUD_GENERATE_LINE_MAX];
        struct faults a, b;
        uint64_t same = 0;

        sim_lines(lines, 1);
        faults_init(&a, 3, 0.1, 0.2);
        faults_init(&b, 3, 0.1, 0.2);
        for (int i = 0; i < 20000; i++) {
                bool da = faults_duplicate(&a), db = faults_duplicate(&b);
                int ma = faults_malformed(&a, lines[0], strlen(lines[0]), out, sizeof(out));
                int mb = faults_malformed(&b, lines[0], strlen(lines[0]), out, sizeof(out));

                same += da == db && (ma > 0) == (mb > 0);
        }
        ck_assert_uint_eq(same, 20000);
        ck_assert_uint_ge(a.duplicates, 3700); /* 4000 expected */
        ck_assert_uint_le(a.duplicates, 4300);
        ck_assert_uint_ge(a.malformed, 1800); /* 2000 expected */
        ck_assert_uint_le(a.malformed, 2200);
}
END_TEST

START_TEST(test_faults_zero_shares_draw_nothing) {
        static char lines[1][FRAUD_GENERATE_LINE_MAX];
        char out[FRAUD_GENERATE_LINE_MAX];
        struct faults f;

        sim_lines(lines, 1);
        faults_init(&f, 1, 0, 0);
        for (int i = 0; i < 1000; i++) {
                ck_assert(!faults_duplicate(&f));
                ck_assert_int_eq(faults_malformed(&f, lines[0], strlen(lines[0]), out, sizeof(out)),
                                 0);
        }
}
END_TEST

START_TEST(test_faults_too_small_buffer_is_an_error_not_an_overflow) {
        static char lines[1][FRAUD_GENERATE_LINE_MAX];
        char out[16];
        struct faults f;

        sim_lines(lines, 1);
        faults_init(&f, 1, 0, 0);
        f.malformed_share = 1.0;
        ck_assert_int_eq(faults_malformed(&f, lines[0], strlen(lines[0]), out, sizeof(out)),
                         -ENOBUFS);
        ck_assert_int_eq(faults_malformed(&f, "{}", 2, out, sizeof(out)), -EINVAL);
}
END_TEST

TESTING_MAIN("faults", test_faults_each_defect_is_rejected_by_ingest_with_its_reason,
             test_faults_draws_follow_the_shares_and_the_seed, test_faults_zero_shares_draw_nothing,
             test_faults_too_small_buffer_is_an_error_not_an_overflow)

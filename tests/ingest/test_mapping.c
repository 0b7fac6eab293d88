/* Tests for ingest/mapping.c: the YAML mapping file, CSV rows, JSON records
 * through a mapping, and the parity of CSV and JSON on simulated records. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/mapping.h"
#include "tests/testing.h"
#include "tools/generate.h"
#include "tools/sim.h"

#define KEY_HEX "000102030405060708090a0b0c0d0e0f"
#define SIM_HEADER                                                                                 \
        "transaction_id,timestamp,amount,currency,pan,customer_id,merchant_id,terminal_id,mcc,"    \
        "country,channel,device_id,ip,is_fraud,scenario\n"
#define GOOD_JSON                                                                                  \
        "{\"transaction_id\":\"tx_1\",\"timestamp\":\"2026-01-01T08:15:02.123Z\",\"amount\":"      \
        "\"63.89\",\"currency\":\"EUR\",\"pan\":\"4147008301893185\",\"customer_id\":"             \
        "\"C00005906\",\"merchant_id\":\"M0000504\",\"terminal_id\":\"M0000504-01\",\"mcc\":"      \
        "\"5999\",\"country\":\"IT\",\"channel\":\"ecommerce\",\"device_id\":"                     \
        "\"9ec15c34d15e1264\","                                                                    \
        "\"ip\":\"73.117.5.56\"}"

static struct mapping map;
static struct mapping_scratch *scratch;
static struct normalize_rejection rej;
static struct normalize_tx tx;
static struct normalize_key key;
static char err[512];

static void setup(void) {
        if (!scratch)
                scratch = malloc(sizeof(*scratch));
        ck_assert_ptr_nonnull(scratch);
        mapping_init_default(&map);
        ck_assert_int_eq(normalize_key_parse(KEY_HEX, &key), 0);
}

static int parse_yaml(const char *text) {
        return mapping_parse(&map, "m.yaml", text, strlen(text), err, sizeof(err));
}

static int json(const char *s) {
        int rc = mapping_json_input(&map, s, strlen(s), scratch, &rej);
        return rc < 0 ? rc : normalize_record(&scratch->input, &key, &tx, &rej);
}

static int csv(const char *s) {
        int rc = mapping_csv_input(&map, s, strlen(s), scratch, &rej);
        return rc < 0 ? rc : normalize_record(&scratch->input, &key, &tx, &rej);
}

static void bind_header(const char *h) {
        ck_assert_msg(mapping_csv_header(&map, h, strlen(h), err, sizeof(err)) == 0, "%s", err);
}

START_TEST(test_mapping_default_reads_simulator_json) {
        setup();
        ck_assert_msg(json(GOOD_JSON) == 0, "%s", rej.detail);
        ck_assert_int_eq(tx.msg.amount_minor, 6389);
        ck_assert_str_eq(tx.msg.transaction_id, "tx_1");
}
END_TEST

START_TEST(test_mapping_deployed_file_is_the_default_mapping) {
        struct mapping def;
        char path[4096];

        setup();
        mapping_init_default(&def);
        snprintf(path, sizeof(path), "%s/deploy/config/mapping.yaml", testing_source_root());
        ck_assert_msg(mapping_load(&map, path, err, sizeof(err)) == 0, "%s", err);
        ck_assert_mem_eq(map.columns, def.columns, sizeof(def.columns));
        ck_assert_int_eq(map.time_format, def.time_format);
        ck_assert_str_eq(map.default_currency, "");
        ck_assert_int_eq(map.delimiter, ',');
}
END_TEST

START_TEST(test_mapping_renames_fields_for_json) {
        setup();
        ck_assert_msg(parse_yaml("columns:\n  transaction_id: id\n  amount: amt\n"
                                 "  currency: \"\"\ndefault_currency: JPY\n") == 0,
                      "%s", err);
        ck_assert_msg(
                json("{\"id\":\"x1\",\"timestamp\":\"2026-01-01\",\"amt\":1200,"
                     "\"currency\":\"EUR\",\"pan\":\"4147008301893185\",\"merchant_id\":\"M\","
                     "\"terminal_id\":\"T\",\"mcc\":\"5411\",\"country\":\"JP\","
                     "\"channel\":\"card_present\"}") == 0,
                "%s", rej.detail);
        ck_assert_str_eq(tx.msg.transaction_id, "x1");
        ck_assert_str_eq(tx.msg.currency, "JPY"); /* the currency key is not mapped */
        ck_assert_int_eq(tx.msg.amount_minor, 1200);
}
END_TEST

START_TEST(test_mapping_rejects_bad_files_with_line_and_key) {
        static const struct {
                const char *text, *want;
        } v[] = {
                {"columns:\n  amount: a\nfoo: 1\n", "m.yaml:3: foo: unknown key"},
                {"columns:\n  amount: a\n  price: p\n", "m.yaml:3: columns.price: unknown field"},
                {"columns:\n  amount: a\n  amount: b\n", "m.yaml:3: columns.amount: given twice"},
                {"timestamp_format: unix\n", "m.yaml:1: timestamp_format: expected"},
                {"default_currency: EURO\n", "m.yaml:1: default_currency: 'EURO' is not"},
                {"csv_delimiter: ab\n", "m.yaml:1: csv_delimiter: expected one character"},
                {"columns: [a, b]\n", "m.yaml:1: columns: expected a mapping"},
                {"columns:\n  amount: &x a\n  pan: *x\n", "m.yaml:3: yaml: aliases"},
                {"columns:\n  amount: [a]\n", "m.yaml:2: columns.amount: expected a single value"},
                {"a: 1\n---\nb: 2\n", "m.yaml:1: a: unknown key"},
                {"timestamp_format: iso8601\n---\ncsv_delimiter: \";\"\n",
                 "m.yaml:2: yaml: expected a single document"},
                {"columns:\n  amount: \"a\n", "m.yaml:"},
                {"- a\n", "m.yaml:1: mapping: expected a mapping"},
        };

        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                setup();
                ck_assert_msg(parse_yaml(v[i].text) == -EINVAL, "case %zu accepted", i);
                ck_assert_msg(strncmp(err, v[i].want, strlen(v[i].want)) == 0, "case %zu: %s", i,
                              err);
        }
}
END_TEST

START_TEST(test_mapping_empty_file_is_the_default) {
        struct mapping def;

        setup();
        mapping_init_default(&def);
        ck_assert_int_eq(parse_yaml(""), 0);
        ck_assert_mem_eq(map.columns, def.columns, sizeof(def.columns));
        ck_assert_int_eq(parse_yaml("# nothing but a comment\n"), 0);
}
END_TEST

START_TEST(test_mapping_header_needs_every_mapped_column_once) {
        setup();
        ck_assert_int_eq(mapping_csv_header(&map, "transaction_id,amount\n", 22, err, sizeof(err)),
                         -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "no column 'timestamp'"));
        ck_assert_int_eq(parse_yaml("columns:\n  ip: x\n  device_id: x\n"), 0);
        ck_assert_int_eq(mapping_csv_header(&map, SIM_HEADER, strlen(SIM_HEADER), err, sizeof(err)),
                         -EINVAL);
        ck_assert_int_eq(parse_yaml("columns:\n  ip: \"\"\n  device_id: \"\"\n"), 0);
        bind_header("transaction_id,timestamp,amount,currency,pan,customer_id,merchant_id,"
                    "terminal_id,mcc,country,channel\r\n");
        ck_assert_uint_eq(map.csv_columns, 11);
        ck_assert_int_eq(map.column_index[NORMALIZE_FIELD_IP], -1);
        ck_assert_int_eq(mapping_csv_header(&map, "transaction_id,timestamp,amount,amount", 38, err,
                                            sizeof(err)),
                         -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "'amount' appears twice"));
        ck_assert_uint_eq(map.csv_columns, 0);
}
END_TEST

START_TEST(test_mapping_csv_quoted_cells_and_delimiter) {
        setup();
        ck_assert_int_eq(parse_yaml("csv_delimiter: \";\"\n"), 0);
        bind_header("transaction_id;timestamp;amount;currency;pan;customer_id;merchant_id;"
                    "terminal_id;mcc;country;channel;device_id;ip;is_fraud;scenario\n");
        ck_assert_msg(csv("\"tx;1\";2026-01-01T00:00:00Z;\"10.00\";EUR;4147008301893185;C;M;T;"
                          "5411;FR;moto;;;0;legit\n") == 0,
                      "%s", rej.detail);
        ck_assert_str_eq(tx.msg.transaction_id, "tx;1");
        ck_assert_int_eq(csv("tx;1;2026-01-01T00:00:00Z;10.00;EUR;4147008301893185;C;M;T;"
                             "5411;FR;moto;;;0;legit\n"),
                         -EBADMSG);
        ck_assert_int_eq(rej.reason, NORMALIZE_BAD_CSV);
        ck_assert_msg(csv("tx1;2026-01-01T00:00:00Z;\"10.00\";EUR;4147008301893185;C;M;T;5411;"
                          "FR;moto;\"\";\"\";0;\"a \"\"b\"\"\"") == 0,
                      "%s", rej.detail);
        ck_assert_int_eq(tx.msg.amount_minor, 1000);
        ck_assert_str_eq(scratch->u.csv.cell[14], "a \"b\"");
}
END_TEST

START_TEST(test_mapping_csv_rejects_bad_rows) {
        setup();
        bind_header(SIM_HEADER);
        ck_assert_int_eq(csv("a,b,c\n"), -EBADMSG);
        ck_assert_int_eq(rej.reason, NORMALIZE_BAD_CSV);
        ck_assert_int_eq(csv("\"tx1,2026\n"), -EBADMSG);
        ck_assert_int_eq(rej.reason, NORMALIZE_BAD_CSV);
        ck_assert_int_eq(csv("\"tx1\"x,b\n"), -EBADMSG);
        ck_assert_int_eq(rej.reason, NORMALIZE_BAD_CSV);
        ck_assert_int_eq(csv("tx\xff,b\n"), -EBADMSG);
        ck_assert_int_eq(rej.reason, NORMALIZE_BAD_UTF8);
}
END_TEST

START_TEST(test_mapping_json_errors_have_their_reasons) {
        static const struct {
                const char *text;
                enum normalize_reason reason;
        } v[] = {
                {"{\"transaction_id\":\"tx_1\"", NORMALIZE_BAD_JSON},
                {"not json", NORMALIZE_BAD_JSON},
                {"{\"transaction_id\":\"\\q\"}", NORMALIZE_BAD_JSON},
                {"{\"transaction_id\":\"\xc3\x28\"}", NORMALIZE_BAD_UTF8},
                {"{\"transaction_id\":{\"a\":1}}", NORMALIZE_NESTED_JSON},
                {"{\"amount\":\"1\",\"amount\":\"2\"}", NORMALIZE_DUPLICATE_FIELD},
                {"{\"channel\":true}", NORMALIZE_MISSING_FIELD},
        };

        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                setup();
                ck_assert_msg(json(v[i].text) == -EBADMSG, "case %zu accepted", i);
                ck_assert_msg(rej.reason == v[i].reason, "case %zu: %s", i,
                              normalize_reason_code(rej.reason));
        }
}
END_TEST

START_TEST(test_mapping_json_null_is_absent_and_unmapped_keys_are_ignored) {
        const char *s = "{\"transaction_id\":\"tx_1\",\"timestamp\":\"2026-01-01T08:15:02Z\","
                        "\"amount\":\"1\",\"currency\":\"EUR\",\"pan\":\"4147008301893185\","
                        "\"merchant_id\":\"M\",\"terminal_id\":\"T\",\"mcc\":\"5999\","
                        "\"country\":\"IT\",\"channel\":\"atm\",\"ip\":null,\"is_fraud\":1,"
                        "\"scenario\":\"legit\",\"extra\":[1]}";

        setup();
        ck_assert_int_eq(json(s), -EBADMSG); /* nesting is refused even in an ignored key */
        ck_assert_int_eq(rej.reason, NORMALIZE_NESTED_JSON);
        ck_assert_msg(json("{\"transaction_id\":\"tx_1\",\"timestamp\":\"2026-01-01T08:15:02Z\","
                           "\"amount\":\"1\",\"currency\":\"EUR\",\"pan\":\"4147008301893185\","
                           "\"merchant_id\":\"M\",\"terminal_id\":\"T\",\"mcc\":\"5999\","
                           "\"country\":\"IT\",\"channel\":\"atm\",\"ip\":null,\"is_fraud\":1,"
                           "\"scenario\":\"legit\"}") == 0,
                      "%s", rej.detail);
        ck_assert_str_eq(tx.msg.ip, "");
}
END_TEST

START_TEST(test_mapping_csv_equals_json_for_simulated_records) {
        struct sim_config c;
        struct sim *sim = NULL;
        struct sim_event *ev = malloc(sizeof(*ev));
        static char line[FRAUD_GENERATE_LINE_MAX];
        uint8_t a[1024], b[1024];
        int n = 0;

        setup();
        bind_header(SIM_HEADER);
        sim_config_default(&c);
        c.days = 3;
        c.customers = 500;
        c.merchants = 60;
        c.fraud_rate = 0.05;
        ck_assert_int_eq(sim_new(&c, &sim), 0);
        while (n < 2000 && sim_next(sim, ev) == 1) {
                size_t la, lb;
                if (ev->kind != SIM_EVENT_TRANSACTION)
                        continue;
                line[generate_transaction_json(&ev->tx, true, line)] = '\0';
                ck_assert_msg(json(line) == 0, "%s: %s", line, rej.detail);
                la = fraud__transaction__pack(&tx.msg, a);
                ck_assert_int_eq(tx.msg.amount_minor, ev->tx.amount_minor);
                ck_assert_int_eq(tx.msg.event_time_us, ev->tx.time_ms * 1000);
                ck_assert_str_eq(tx.msg.currency, ev->tx.currency);
                ck_assert_str_eq(tx.msg.country, ev->tx.country);
                ck_assert_uint_eq(tx.msg.mcc, ev->tx.mcc);
                ck_assert_str_eq(tx.msg.ip, ev->tx.ip);
                line[generate_transaction_csv(&ev->tx, line)] = '\0';
                ck_assert_msg(csv(line) == 0, "%s: %s", line, rej.detail);
                lb = fraud__transaction__pack(&tx.msg, b);
                ck_assert_uint_eq(la, lb);
                ck_assert_mem_eq(a, b, la);
                n++;
        }
        ck_assert_int_eq(n, 2000);
        sim_free(sim);
        free(ev);
}
END_TEST

START_TEST(test_mapping_mutated_records_get_a_verdict_never_a_crash) {
        char buf[sizeof(GOOD_JSON) + 8];
        uint64_t x = 88172645463325252u; /* xorshift64: deterministic mutations */
        int accepted = 0;

        setup();
        bind_header(SIM_HEADER);
        for (int round = 0; round < 50000; round++) {
                size_t len = sizeof(GOOD_JSON) - 1;
                int rc;
                memcpy(buf, GOOD_JSON, len);
                for (int k = 0; k < 1 + round % 3; k++) {
                        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                        buf[x % len] = (char)(x >> 32);
                }
                if (round % 5 == 0)
                        len = (size_t)(x >> 40) % len; /* truncated as well */
                rc = round % 2 ? mapping_json_input(&map, buf, len, scratch, &rej)
                               : mapping_csv_input(&map, buf, len, scratch, &rej);
                if (rc == 0)
                        rc = normalize_record(&scratch->input, &key, &tx, &rej);
                ck_assert(rc == 0 || rc == -EBADMSG);
                if (rc == 0)
                        accepted++;
                else
                        ck_assert(rej.reason > NORMALIZE_OK && rej.reason < NORMALIZE_REASON_COUNT);
        }
        ck_assert_int_gt(accepted, 0); /* a mutation inside a free-text id keeps it valid */
}
END_TEST

START_TEST(test_mapping_minimal_log_reads_with_card_id_and_defaults) {
        char path[4096];
        char card_a[40];

        setup();
        snprintf(path, sizeof(path), "%s/deploy/config/mapping-minimal.yaml",
                 testing_source_root());
        ck_assert_msg(mapping_load(&map, path, err, sizeof(err)) == 0, "%s", err);
        ck_assert(map.pan_is_id);
        bind_header("card,terminal,amount,ts,fraud");
        /* no transaction id column: the caller names the payment */
        ck_assert_int_eq(mapping_csv_input(&map, "C1,T9,12.50,2026-01-01T00:00:00Z,0", 34, scratch,
                                           &rej),
                         0);
        scratch->input.fields[NORMALIZE_FIELD_TRANSACTION_ID] =
                (struct normalize_value){NORMALIZE_TEXT, "L2", 2};
        ck_assert_msg(normalize_record(&scratch->input, &key, &tx, &rej) == 0, "%s", rej.detail);
        ck_assert_int_eq(tx.msg.amount_minor, 1250);
        ck_assert_str_eq(tx.msg.currency, "EUR");
        ck_assert_int_eq(tx.msg.mcc, 5999);
        ck_assert_str_eq(tx.msg.country, "FR");
        ck_assert_str_eq(tx.msg.merchant_id, "unknown");
        ck_assert_str_eq(tx.msg.terminal_id, "T9");
        ck_assert_str_eq(tx.msg.card_bin, "");
        ck_assert_int_eq(strlen(tx.msg.card_hash), 32);
        snprintf(card_a, sizeof(card_a), "%s", tx.msg.card_hash);
        /* the same id hashes the same; another id differently */
        ck_assert_int_eq(csv("C2,T9,1.00,2026-01-01T00:00:01Z,1"), -EBADMSG); /* no id: missing */
        ck_assert_int_eq(mapping_csv_input(&map, "C2,T9,1.00,2026-01-01T00:00:01Z,1", 33, scratch,
                                           &rej),
                         0);
        scratch->input.fields[NORMALIZE_FIELD_TRANSACTION_ID] =
                (struct normalize_value){NORMALIZE_TEXT, "L3", 2};
        ck_assert_int_eq(normalize_record(&scratch->input, &key, &tx, &rej), 0);
        ck_assert_str_ne(tx.msg.card_hash, card_a);
}
END_TEST

START_TEST(test_mapping_defaults_fill_only_absent_or_empty_fields) {
        setup();
        ck_assert_msg(parse_yaml("defaults:\n  mcc: \"5411\"\n  country: \"DE\"\n") == 0, "%s",
                      err);
        bind_header(SIM_HEADER);
        /* country present: kept; mcc empty: the default */
        ck_assert_msg(csv("t1,2026-01-01T00:00:00Z,5.00,EUR,4147008301893185,,M1,M1-1,,IT,"
                          "ecommerce,,,0,legit") == 0,
                      "%s", rej.detail);
        ck_assert_int_eq(tx.msg.mcc, 5411);
        ck_assert_str_eq(tx.msg.country, "IT");
        ck_assert_int_eq(parse_yaml("defaults:\n  nonsense: \"1\"\n"), -EINVAL);
        ck_assert_int_eq(parse_yaml("card_number: maybe\n"), -EINVAL);
}
END_TEST

TESTING_MAIN("mapping", test_mapping_default_reads_simulator_json,
             test_mapping_deployed_file_is_the_default_mapping,
             test_mapping_renames_fields_for_json, test_mapping_rejects_bad_files_with_line_and_key,
             test_mapping_empty_file_is_the_default,
             test_mapping_header_needs_every_mapped_column_once,
             test_mapping_csv_quoted_cells_and_delimiter, test_mapping_csv_rejects_bad_rows,
             test_mapping_json_errors_have_their_reasons,
             test_mapping_json_null_is_absent_and_unmapped_keys_are_ignored,
             test_mapping_csv_equals_json_for_simulated_records,
             test_mapping_mutated_records_get_a_verdict_never_a_crash,
             test_mapping_minimal_log_reads_with_card_id_and_defaults,
             test_mapping_defaults_fill_only_absent_or_empty_fields)

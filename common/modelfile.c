/* modelfile.c: see modelfile.h.
 *
 * Writing: every string is double-quoted with escapes, numbers as %.17g
 * (they read back to the same double), times as ISO 8601; the file is
 * replaced through lib/atomicfile.h, so a reader sees the old file or the
 * new one, never half of one.
 *
 * Reading: libyaml's node tree (which keeps line numbers), walked with a
 * table of keys; unknown and repeated keys are refused; so are missing
 * required keys (version, created_at, feature_names, feature_schema_hash,
 * the thresholds and the band).  has_mlp is whether dir/mlp.bin exists.
 */
#include "common/modelfile.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "common/featureset.h"
#include "lib/atomicfile.h"
#include "lib/bounds.h"
#include "lib/time.h"

#define MODELFILE_NAME      "model.yaml"
#define MODELFILE_BYTES_MAX (1 << 20) /* bytes of a model.yaml: 512 names fit many times */

static const char *const statuses[] = {"candidate", "champion", "rejected", "retired"};

static bool status_valid(const char *status, bool empty_ok) {
        for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
                if (strcmp(status, statuses[i]) == 0)
                        return true;
        return empty_ok && status[0] == '\0';
}

/* ---- writing ---- */

static void put_string(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p < 0x20)
                        fprintf(f, "\\x%02x", *p);
                else
                        fputc(*p, f);
        }
        fputc('"', f);
}

static void put_key_string(FILE *f, const char *key, const char *value) {
        fprintf(f, "%s: ", key);
        put_string(f, value);
        fputc('\n', f);
}

static void put_key_time(FILE *f, const char *key, int64_t t_us) {
        char buf[FRAUD_TIME_ISO8601_MAX];

        fraud_time_format_iso8601(t_us, buf);
        put_key_string(f, key, buf);
}

static void put_entries(FILE *f, const char *key, const struct fraud_modelfile_entry *e, size_t n) {
        fprintf(f, "%s:%s\n", key, n ? "" : " {}");
        for (size_t i = 0; i < n; i++) {
                fputs("  ", f);
                put_string(f, e[i].name);
                fprintf(f, ": %.17g\n", e[i].value);
        }
}

static int modelfile_problem(const struct fraud_modelfile *m, const char **reason);

static void modelfile_print(const struct fraud_modelfile *m, FILE *f) {
        fputs("# model.yaml: metadata of one model version (common/modelfile.h).\n", f);
        put_key_string(f, "version", m->version);
        put_key_string(f, "parent_version", m->parent_version);
        put_key_time(f, "created_at", m->created_at_us);
        fputs("feature_names:\n", f);
        for (size_t i = 0; i < m->n_features; i++) {
                fputs("  - ", f);
                put_string(f, m->feature_names[i]);
                fputc('\n', f);
        }
        fprintf(f, "feature_schema_hash: %llu\n", (unsigned long long)m->feature_schema_hash);
        fprintf(f, "block_threshold: %.17g\nreview_threshold: %.17g\n", m->block_threshold,
                m->review_threshold);
        fprintf(f, "band_low: %.17g\nband_high: %.17g\n", m->band_low, m->band_high);
        put_key_time(f, "data_start", m->data_start_us);
        put_key_time(f, "data_end", m->data_end_us);
        put_key_time(f, "label_cutoff", m->label_cutoff_us);
        put_entries(f, "metrics", m->metrics, m->n_metrics);
        put_entries(f, "params", m->params, m->n_params);
        if (m->status[0]) /* absent reads back as "" */
                put_key_string(f, "status", m->status);
        put_key_string(f, "status_reason", m->status_reason);
}

int fraud_modelfile_write(const struct fraud_modelfile *m, const char *dir) {
        struct fraud_atomicfile a;
        char path[PATH_MAX];
        const char *reason;
        int r;

        if (modelfile_problem(m, &reason) >= 0 || !status_valid(m->status, true))
                return -EINVAL;
        if (snprintf(path, sizeof(path), "%s/%s", dir, MODELFILE_NAME) >= (int)sizeof(path))
                return -ENAMETOOLONG;
        r = fraud_atomicfile_open(&a, path);
        if (r < 0)
                return r;
        modelfile_print(m, a.f);
        return fraud_atomicfile_commit(&a);
}

/* ---- reading ---- */

struct reader {
        const char *path;
        yaml_document_t *doc;
        struct fraud_modelfile *m;
        char *err;
        size_t err_size;
        const yaml_node_t **nodes; /* per field of fields[], once read */
};

__attribute__((format(printf, 4, 5))) static int fail(struct reader *rd, const yaml_node_t *at,
                                                      const char *key, const char *fmt, ...) {
        va_list ap;
        int n = snprintf(rd->err, rd->err_size, "%s:%zu: %s: ", rd->path,
                         at ? at->start_mark.line + 1 : (size_t)1, key);

        if (n >= 0 && (size_t)n < rd->err_size) {
                va_start(ap, fmt);
                vsnprintf(rd->err + n, rd->err_size - (size_t)n, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

static int read_string(struct reader *rd, const yaml_node_t *n, const char *key, char *buf,
                       size_t cap, bool empty_ok) {
        if (n->type != YAML_SCALAR_NODE)
                return fail(rd, n, key, "expected a string");
        if ((!empty_ok && n->data.scalar.length == 0) || n->data.scalar.length >= cap ||
            strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
                return fail(rd, n, key, "expected %d to %zu bytes", empty_ok ? 0 : 1, cap - 1);
        memcpy(buf, n->data.scalar.value, n->data.scalar.length + 1);
        return 0;
}

static int read_double(struct reader *rd, const yaml_node_t *n, const char *key, double *out) {
        char *end;

        if (n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0)
                return fail(rd, n, key, "expected a number");
        errno = 0;
        *out = strtod((const char *)n->data.scalar.value, &end);
        if (*end != '\0' || !isfinite(*out))
                return fail(rd, n, key, "'%s' is not a finite number", n->data.scalar.value);
        return 0;
}

static int read_time(struct reader *rd, const yaml_node_t *n, const char *key, int64_t *out) {
        if (n->type != YAML_SCALAR_NODE ||
            fraud_time_parse_iso8601((const char *)n->data.scalar.value, out) < 0)
                return fail(rd, n, key, "expected an ISO 8601 time");
        return 0;
}

static int read_names(struct reader *rd, const yaml_node_t *n, const char *key) {
        struct fraud_modelfile *m = rd->m;
        size_t count;

        if (n->type != YAML_SEQUENCE_NODE)
                return fail(rd, n, key, "expected a list of names");
        count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        if (count == 0 || count > FRAUD_MODELFILE_FEATURES_MAX)
                return fail(rd, n, key, "expected 1 to %d names", FRAUD_MODELFILE_FEATURES_MAX);
        for (size_t i = 0; i < count; i++) {
                yaml_node_t *it = yaml_document_get_node(rd->doc, n->data.sequence.items.start[i]);
                int r = read_string(rd, it, key, m->feature_names[i], FRAUD_MODELFILE_NAME_MAX,
                                    false);
                if (r < 0)
                        return r;
        }
        m->n_features = count;
        return 0;
}

static int read_entries(struct reader *rd, const yaml_node_t *n, const char *key,
                        struct fraud_modelfile_entry *e, size_t *count) {
        size_t k = 0;

        if (n->type != YAML_MAPPING_NODE)
                return fail(rd, n, key, "expected a mapping of name: number");
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++, k++) {
                int r;
                if (k == FRAUD_MODELFILE_ENTRIES_MAX)
                        return fail(rd, n, key, "more than %d entries",
                                    FRAUD_MODELFILE_ENTRIES_MAX);
                r = read_string(rd, yaml_document_get_node(rd->doc, p->key), key, e[k].name,
                                FRAUD_MODELFILE_NAME_MAX, false);
                if (r >= 0)
                        r = read_double(rd, yaml_document_get_node(rd->doc, p->value), key,
                                        &e[k].value);
                if (r < 0)
                        return r;
        }
        *count = k;
        return 0;
}

static int read_hash(struct reader *rd, const yaml_node_t *n, const char *key) {
        const char *s = (const char *)n->data.scalar.value;
        unsigned long long v;
        char *end;

        if (n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0 || s[0] < '0' || s[0] > '9')
                return fail(rd, n, key, "expected an unsigned 64-bit integer");
        errno = 0;
        v = strtoull(s, &end, 10);
        if (*end != '\0' || errno == ERANGE)
                return fail(rd, n, key, "expected an unsigned 64-bit integer");
        rd->m->feature_schema_hash = (uint64_t)v;
        return 0;
}

static int read_status(struct reader *rd, const yaml_node_t *n, const char *key) {
        int r = read_string(rd, n, key, rd->m->status, sizeof(rd->m->status), false);

        if (r == 0 && !status_valid(rd->m->status, false))
                r = fail(rd, n, key, "expected candidate, champion, rejected or retired");
        return r;
}

enum field_kind {
        F_STRING,
        F_STRING_EMPTY,
        F_TIME,
        F_DOUBLE,
        F_NAMES,
        F_HASH,
        F_METRICS,
        F_PARAMS,
        F_STATUS
};

struct field {
        const char *key;
        enum field_kind kind;
        size_t offset; /* in struct fraud_modelfile */
        size_t size;   /* of a string field */
        bool required;
};

#define FIELD(k, kind, member, req)                                                                \
        {                                                                                          \
                k, kind, offsetof(struct fraud_modelfile, member),                                 \
                        sizeof(((struct fraud_modelfile *)0)->member), req                         \
        }

static const struct field fields[] = {
        FIELD("version", F_STRING, version, true),
        FIELD("parent_version", F_STRING_EMPTY, parent_version, false),
        FIELD("created_at", F_TIME, created_at_us, true),
        FIELD("feature_names", F_NAMES, feature_names, true),
        FIELD("feature_schema_hash", F_HASH, feature_schema_hash, true),
        FIELD("block_threshold", F_DOUBLE, block_threshold, true),
        FIELD("review_threshold", F_DOUBLE, review_threshold, true),
        FIELD("band_low", F_DOUBLE, band_low, true),
        FIELD("band_high", F_DOUBLE, band_high, true),
        FIELD("data_start", F_TIME, data_start_us, false),
        FIELD("data_end", F_TIME, data_end_us, false),
        FIELD("label_cutoff", F_TIME, label_cutoff_us, false),
        FIELD("metrics", F_METRICS, metrics, false),
        FIELD("params", F_PARAMS, params, false),
        FIELD("status", F_STATUS, status, false),
        FIELD("status_reason", F_STRING_EMPTY, status_reason, false),
};

#define FIELDS_COUNT (sizeof(fields) / sizeof(fields[0]))

/* Indices in fields[] that modelfile_problem() names. */
enum { FIELD_NAMES = 3, FIELD_HASH = 4, FIELD_BLOCK = 5, FIELD_REVIEW = 6, FIELD_BAND_LOW = 7 };

static int read_field(struct reader *rd, const struct field *f, const yaml_node_t *v) {
        char *at = (char *)rd->m + f->offset;

        switch (f->kind) {
        case F_STRING:
                return read_string(rd, v, f->key, at, f->size, false);
        case F_STRING_EMPTY:
                return read_string(rd, v, f->key, at, f->size, true);
        case F_TIME:
                return read_time(rd, v, f->key, (int64_t *)(void *)at);
        case F_DOUBLE:
                return read_double(rd, v, f->key, (double *)(void *)at);
        case F_NAMES:
                return read_names(rd, v, f->key);
        case F_HASH:
                return read_hash(rd, v, f->key);
        case F_METRICS:
                return read_entries(rd, v, f->key, rd->m->metrics, &rd->m->n_metrics);
        case F_PARAMS:
                return read_entries(rd, v, f->key, rd->m->params, &rd->m->n_params);
        default:
                return read_status(rd, v, f->key);
        }
}

static int read_root(struct reader *rd, const yaml_node_t *root) {
        bool seen[FIELDS_COUNT] = {false};

        if (!root || root->type != YAML_MAPPING_NODE)
                return fail(rd, root, "file", "expected a mapping");
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = yaml_document_get_node(rd->doc, p->key);
                const char *name =
                        k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "?";
                size_t i = 0;
                int r;

                while (i < FIELDS_COUNT && strcmp(fields[i].key, name) != 0)
                        i++;
                if (i == FIELDS_COUNT)
                        return fail(rd, k, name, "unknown key");
                if (seen[i])
                        return fail(rd, k, name, "given twice");
                seen[i] = true;
                rd->nodes[i] = yaml_document_get_node(rd->doc, p->value);
                r = read_field(rd, &fields[i], yaml_document_get_node(rd->doc, p->value));
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < FIELDS_COUNT; i++)
                if (fields[i].required && !seen[i])
                        return fail(rd, root, fields[i].key, "required");
        return 0;
}

/* The first inconsistency of m: its field's index in fields[] with the
 * reason in *reason, or -1 when there is none.  Thresholds lie in [0, 1],
 * review_threshold <= block_threshold, band_low <= band_high, and the
 * names hash to feature_schema_hash. */
static int modelfile_problem(const struct fraud_modelfile *m, const char **reason) {
        const char *names[FRAUD_MODELFILE_FEATURES_MAX];
        const double probs[] = {m->block_threshold, m->review_threshold, m->band_low, m->band_high};

        for (int i = 0; i < 4; i++) {
                *reason = "not within [0, 1]";
                if (!(probs[i] >= 0.0 && probs[i] <= 1.0))
                        return FIELD_BLOCK + i;
        }
        *reason = "above block_threshold";
        if (m->review_threshold > m->block_threshold)
                return FIELD_REVIEW;
        *reason = "above band_high";
        if (m->band_low > m->band_high)
                return FIELD_BAND_LOW;
        *reason = "expected 1 to 512 names";
        if (m->n_features == 0 || m->n_features > FRAUD_MODELFILE_FEATURES_MAX)
                return FIELD_NAMES;
        for (size_t i = 0; i < m->n_features; i++)
                names[i] = m->feature_names[i];
        *reason = "does not match feature_names";
        if (fraud_featureset_hash(names, m->n_features) != m->feature_schema_hash)
                return FIELD_HASH;
        return -1;
}

static int file_load(struct reader *rd) {
        const yaml_node_t *nodes[FIELDS_COUNT] = {NULL};
        yaml_parser_t parser;
        const char *reason;
        struct stat st;
        FILE *f = fopen(rd->path, "re");
        int r, bad;

        if (!f) {
                r = -errno;
                snprintf(rd->err, rd->err_size, "%s: %s", rd->path, strerror(errno));
                return r;
        }
        if (fstat(fileno(f), &st) < 0 || st.st_size > MODELFILE_BYTES_MAX) {
                snprintf(rd->err, rd->err_size, "%s: larger than %d bytes", rd->path,
                         MODELFILE_BYTES_MAX);
                fclose(f);
                return -EFBIG;
        }
        if (!yaml_parser_initialize(&parser)) {
                fclose(f);
                return -ENOMEM;
        }
        yaml_parser_set_input_file(&parser, f);
        if (!yaml_parser_load(&parser, rd->doc)) {
                r = -EINVAL;
                snprintf(rd->err, rd->err_size, "%s:%zu: file: %s", rd->path,
                         parser.problem_mark.line + 1,
                         parser.problem ? parser.problem : "bad YAML");
        } else {
                rd->nodes = nodes;
                r = read_root(rd, yaml_document_get_root_node(rd->doc));
                bad = r < 0 ? -1 : modelfile_problem(rd->m, &reason);
                if (bad >= 0)
                        r = fail(rd, nodes[bad], fields[bad].key, "%s", reason);
                yaml_document_delete(rd->doc);
        }
        yaml_parser_delete(&parser);
        fclose(f);
        return r;
}

int fraud_modelfile_read(struct fraud_modelfile *m, const char *dir, char *err, size_t err_size) {
        char path[PATH_MAX], mlp[PATH_MAX];
        yaml_document_t doc;
        struct reader rd = {.path = path, .doc = &doc, .m = m, .err = err, .err_size = err_size};
        int r;

        memset(m, 0, sizeof(*m));
        if (snprintf(path, sizeof(path), "%s/%s", dir, MODELFILE_NAME) >= (int)sizeof(path) ||
            snprintf(mlp, sizeof(mlp), "%s/mlp.bin", dir) >= (int)sizeof(mlp)) {
                snprintf(err, err_size, "%s: path too long", dir);
                return -ENAMETOOLONG;
        }
        r = file_load(&rd);
        if (r < 0)
                return r;
        m->has_mlp = access(mlp, R_OK) == 0;
        return 0;
}

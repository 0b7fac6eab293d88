/* mapping.c: column mappings (libyaml events) and records read through them
 * (see mapping.h).
 *
 * The YAML reader walks libyaml's event stream with one event of look-ahead
 * and a fixed shape (a mapping of keys, "columns" a mapping of scalars), so
 * every error can name the line it is on.  Libyaml's event memory is freed
 * after each event; nothing else is allocated.
 */
#include "ingest/mapping.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

static const char *const mapping_time_formats[] = {
        [NORMALIZE_TIME_ISO8601] = "iso8601",
        [NORMALIZE_TIME_EPOCH_S] = "epoch_s",
        [NORMALIZE_TIME_EPOCH_MS] = "epoch_ms",
        [NORMALIZE_TIME_EPOCH_US] = "epoch_us",
};

void mapping_init_default(struct mapping *m) {
        memset(m, 0, sizeof(*m));
        for (int f = 0; f < NORMALIZE_FIELD_COUNT; f++) {
                snprintf(m->columns[f], sizeof(m->columns[f]), "%s", normalize_field_name(f));
                m->column_len[f] = strlen(m->columns[f]);
                m->column_index[f] = -1;
        }
        m->time_format = NORMALIZE_TIME_ISO8601;
        m->delimiter = ',';
}

/* ---- the YAML file ---- */

struct mapping_reader {
        yaml_parser_t parser;
        yaml_event_t event;
        bool has_event;
        const char *name;
        char *err;
        size_t err_size;
};

static int mapping_error(struct mapping_reader *r, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int mapping_error(struct mapping_reader *r, const char *key, const char *fmt, ...) {
        char reason[FRAUD_CONFIG_ERR_MAX];
        size_t line = r->has_event ? r->event.start_mark.line + 1 : r->parser.problem_mark.line + 1;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        snprintf(r->err, r->err_size, "%s:%zu: %s: %s", r->name, line, key, reason);
        return -EINVAL;
}

/* Replaces the current event with the next one. */
static int mapping_next(struct mapping_reader *r) {
        if (r->has_event)
                yaml_event_delete(&r->event);
        r->has_event = false;
        if (!yaml_parser_parse(&r->parser, &r->event))
                return mapping_error(r, "yaml", "%s",
                                     r->parser.problem ? r->parser.problem : "syntax error");
        r->has_event = true;
        if (r->event.type == YAML_ALIAS_EVENT)
                return mapping_error(r, "yaml", "aliases are not supported");
        return 0;
}

static int mapping_expect(struct mapping_reader *r, yaml_event_type_t type, const char *key,
                          const char *what) {
        int rc = mapping_next(r);

        if (rc == 0 && r->event.type != type)
                rc = mapping_error(r, key, "expected %s", what);
        return rc;
}

static const char *mapping_scalar(const struct mapping_reader *r) {
        return (const char *)r->event.data.scalar.value;
}

/* The value of key (a scalar) into buf; -EINVAL when not a scalar or too long. */
static int mapping_value(struct mapping_reader *r, const char *key, char *buf, size_t size) {
        int rc = mapping_expect(r, YAML_SCALAR_EVENT, key, "a single value");

        if (rc < 0)
                return rc;
        if (r->event.data.scalar.length >= size)
                return mapping_error(r, key, "longer than %zu bytes", size - 1);
        memcpy(buf, mapping_scalar(r), r->event.data.scalar.length + 1);
        return 0;
}

/* "columns" or "defaults": a mapping of our field names to text, into
 * value[f] and len[f]. */
static int mapping_fields(struct mapping_reader *r, const char *what,
                          char (*value)[FRAUD_INGEST_NAME_BYTES_MAX + 1], size_t *len) {
        bool seen[NORMALIZE_FIELD_COUNT] = {false};
        char key[FRAUD_CONFIG_NAME_MAX + 16];
        int rc = mapping_expect(r, YAML_MAPPING_START_EVENT, what, "a mapping");

        while (rc == 0 && (rc = mapping_next(r)) == 0 && r->event.type != YAML_MAPPING_END_EVENT) {
                int f = 0;
                if (r->event.type != YAML_SCALAR_EVENT)
                        return mapping_error(r, what, "expected a field name");
                snprintf(key, sizeof(key), "%s.%.*s", what, FRAUD_CONFIG_NAME_MAX,
                         mapping_scalar(r));
                while (f < NORMALIZE_FIELD_COUNT &&
                       strcmp(normalize_field_name(f), mapping_scalar(r)))
                        f++;
                if (f == NORMALIZE_FIELD_COUNT)
                        return mapping_error(r, key, "unknown field");
                if (seen[f])
                        return mapping_error(r, key, "given twice");
                seen[f] = true;
                rc = mapping_value(r, key, value[f], sizeof(value[f]));
                len[f] = strlen(value[f]);
        }
        return rc;
}

static int mapping_option(struct mapping_reader *r, struct mapping *m, const char *key) {
        char v[FRAUD_INGEST_NAME_BYTES_MAX + 1];
        int rc = mapping_value(r, key, v, sizeof(v));
        size_t i;

        if (rc < 0)
                return rc;
        if (strcmp(key, "timestamp_format") == 0) {
                for (i = 0; i < sizeof(mapping_time_formats) / sizeof(mapping_time_formats[0]); i++)
                        if (strcmp(v, mapping_time_formats[i]) == 0) {
                                m->time_format = (enum normalize_time_format)i;
                                return 0;
                        }
                return mapping_error(r, key, "expected iso8601, epoch_s, epoch_ms or epoch_us");
        }
        if (strcmp(key, "card_number") == 0) {
                if (strcmp(v, "pan") != 0 && strcmp(v, "id") != 0)
                        return mapping_error(r, key, "expected pan or id");
                m->pan_is_id = v[0] == 'i';
                return 0;
        }
        if (strcmp(key, "default_currency") == 0) {
                if (v[0] && normalize_currency_decimals(v) < 0)
                        return mapping_error(r, key, "'%s' is not in the ISO 4217 table", v);
                memcpy(m->default_currency, v, v[0] ? sizeof(m->default_currency) : 1);
                return 0;
        }
        if (strlen(v) != 1 || v[0] == '"' || v[0] == '\n' || v[0] == '\r')
                return mapping_error(r, key, "expected one character other than a quote");
        m->delimiter = v[0];
        return 0;
}

/* The top-level mapping, after its MAPPING_START. */
static int mapping_document(struct mapping_reader *r, struct mapping *m) {
        static const char *const keys[] = {"columns",       "defaults",    "timestamp_format",
                                           "default_currency", "csv_delimiter", "card_number"};
        bool seen[sizeof(keys) / sizeof(keys[0])] = {false};
        int rc;

        while ((rc = mapping_next(r)) == 0 && r->event.type != YAML_MAPPING_END_EVENT) {
                size_t k = 0;
                char key[FRAUD_CONFIG_NAME_MAX + 1];
                if (r->event.type != YAML_SCALAR_EVENT)
                        return mapping_error(r, "mapping", "expected a key");
                snprintf(key, sizeof(key), "%s", mapping_scalar(r));
                while (k < sizeof(keys) / sizeof(keys[0]) && strcmp(keys[k], key) != 0)
                        k++;
                if (k == sizeof(keys) / sizeof(keys[0]))
                        return mapping_error(r, key, "unknown key");
                if (seen[k])
                        return mapping_error(r, key, "given twice");
                seen[k] = true;
                rc = k == 0   ? mapping_fields(r, "columns", m->columns, m->column_len)
                     : k == 1 ? mapping_fields(r, "defaults", m->defaults, m->default_len)
                              : mapping_option(r, m, key);
                if (rc < 0)
                        return rc;
        }
        return rc;
}

static int mapping_stream(struct mapping_reader *r, struct mapping *m) {
        int rc = mapping_expect(r, YAML_STREAM_START_EVENT, "yaml", "a YAML stream");

        if (rc == 0)
                rc = mapping_next(r);
        if (rc < 0 || r->event.type == YAML_STREAM_END_EVENT)
                return rc; /* an empty file: the default mapping */
        if (r->event.type != YAML_DOCUMENT_START_EVENT)
                return mapping_error(r, "yaml", "expected a document");
        if ((rc = mapping_expect(r, YAML_MAPPING_START_EVENT, "mapping", "a mapping")) < 0 ||
            (rc = mapping_document(r, m)) < 0 ||
            (rc = mapping_expect(r, YAML_DOCUMENT_END_EVENT, "yaml", "the end of the document")) <
                    0)
                return rc;
        return mapping_expect(r, YAML_STREAM_END_EVENT, "yaml", "a single document");
}

int mapping_parse(struct mapping *m, const char *name, const char *text, size_t len, char *err,
                  size_t err_size) {
        struct mapping_reader r = {.name = name, .err = err, .err_size = err_size};
        int rc;

        mapping_init_default(m);
        err[0] = '\0';
        if (!yaml_parser_initialize(&r.parser)) {
                snprintf(err, err_size, "%s: out of memory", name);
                return -ENOMEM;
        }
        yaml_parser_set_input_string(&r.parser, (const unsigned char *)text, len);
        rc = mapping_stream(&r, m);
        if (r.has_event)
                yaml_event_delete(&r.event);
        yaml_parser_delete(&r.parser);
        return rc;
}

int mapping_load(struct mapping *m, const char *path, char *err, size_t err_size) {
        char *text = malloc(FRAUD_INGEST_MAPPING_BYTES_MAX + 1);
        int fd, rc = 0;
        ssize_t n;
        size_t len = 0;

        if (!text)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                rc = -errno;
        while (rc == 0 &&
               (n = read(fd, text + len, FRAUD_INGEST_MAPPING_BYTES_MAX + 1 - len)) != 0) {
                if (n < 0 && errno != EINTR)
                        rc = -errno;
                else if (n > 0 && (len += (size_t)n) > FRAUD_INGEST_MAPPING_BYTES_MAX)
                        rc = -EFBIG;
        }
        if (fd >= 0)
                close(fd);
        if (rc < 0)
                snprintf(err, err_size, "%s: %s", path, strerror(-rc));
        else
                rc = mapping_parse(m, path, text, len, err, err_size);
        free(text);
        return rc;
}

/* ---- records ---- */

/* Splits one CSV line into cells (RFC 4180: a quoted cell may hold the
 * delimiter and "" for a quote).  0, or -EBADMSG with *rej filled. */
static int mapping_csv_split(char delim, const char *line, size_t len, struct mapping_cells *c,
                             struct normalize_rejection *rej) {
        const char *p = line, *end;
        char *w = c->pool;

        if (len > FRAUD_INGEST_RECORD_BYTES_MAX)
                return normalize_reject(rej, NORMALIZE_TOO_LARGE, "line of %zu bytes, over %d", len,
                                        FRAUD_INGEST_RECORD_BYTES_MAX);
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                len--;
        end = line + len;
        c->count = 0;
        for (;;) {
                if (c->count == FRAUD_INGEST_FIELDS_MAX)
                        return normalize_reject(rej, NORMALIZE_TOO_LARGE, "more than %d columns",
                                                FRAUD_INGEST_FIELDS_MAX);
                c->cell[c->count] = w;
                if (p < end && *p == '"') {
                        for (p++;; p++) {
                                if (p >= end)
                                        return normalize_reject(rej, NORMALIZE_BAD_CSV,
                                                                "column %zu: unterminated quote",
                                                                c->count + 1);
                                if (*p == '"' && (p + 1 >= end || p[1] != '"'))
                                        break;
                                p += *p == '"';
                                *w++ = *p;
                        }
                        p++;
                        if (p < end && *p != delim)
                                return normalize_reject(rej, NORMALIZE_BAD_CSV,
                                                        "column %zu: text after a closing quote",
                                                        c->count + 1);
                } else {
                        const char *stop = memchr(p, delim, (size_t)(end - p));
                        size_t n = (size_t)((stop ? stop : end) - p);

                        memcpy(w, p, n);
                        w += n;
                        p += n;
                }
                c->len[c->count] = (size_t)(w - c->cell[c->count]);
                *w++ = '\0';
                if (!rawjson_utf8_valid(c->cell[c->count], c->len[c->count]))
                        return normalize_reject(rej, NORMALIZE_BAD_UTF8,
                                                "column %zu: invalid UTF-8", c->count + 1);
                c->count++;
                if (p >= end)
                        return 0;
                p++; /* the delimiter */
        }
}

int mapping_csv_header(struct mapping *m, const char *line, size_t len, char *err,
                       size_t err_size) {
        struct mapping_cells *c = malloc(sizeof(*c));
        struct normalize_rejection rej;
        int rc = c ? mapping_csv_split(m->delimiter, line, len, c, &rej) : -ENOMEM;

        if (rc == -EBADMSG)
                snprintf(err, err_size, "header: %s", rej.detail);
        for (int f = 0; rc == 0 && f < NORMALIZE_FIELD_COUNT; f++) {
                m->column_index[f] = -1;
                for (size_t i = 0; m->columns[f][0] && i < c->count; i++) {
                        if (strcmp(c->cell[i], m->columns[f]) != 0)
                                continue;
                        if (m->column_index[f] >= 0) {
                                snprintf(err, err_size, "header: column '%s' appears twice",
                                         m->columns[f]);
                                rc = -EINVAL;
                        }
                        m->column_index[f] = (int)i;
                }
                if (rc == 0 && m->columns[f][0] && m->column_index[f] < 0) {
                        snprintf(err, err_size, "header: no column '%s' (field %s)", m->columns[f],
                                 normalize_field_name(f));
                        rc = -EINVAL;
                }
        }
        m->csv_columns = rc == 0 ? c->count : 0;
        free(c);
        return rc < 0 ? (rc == -EBADMSG ? -EINVAL : rc) : 0;
}

static void mapping_input_reset(const struct mapping *m, struct normalize_input *in) {
        memset(in->fields, 0, sizeof(in->fields));
        in->time_format = m->time_format;
        in->default_currency = m->default_currency;
        in->pan_is_id = m->pan_is_id;
}

/* The defaults of the fields the record left absent or empty. */
static void mapping_defaults_apply(const struct mapping *m, struct normalize_input *in) {
        for (int f = 0; f < NORMALIZE_FIELD_COUNT; f++)
                if (m->default_len[f] &&
                    (in->fields[f].kind == NORMALIZE_ABSENT ||
                     (in->fields[f].kind == NORMALIZE_TEXT && in->fields[f].len == 0)))
                        in->fields[f] = (struct normalize_value){NORMALIZE_TEXT, m->defaults[f],
                                                                 m->default_len[f]};
}

int mapping_csv_input(const struct mapping *m, const char *line, size_t len,
                      struct mapping_scratch *s, struct normalize_rejection *rej) {
        struct mapping_cells *c = &s->u.csv;
        int rc;

        if (m->csv_columns == 0)
                return normalize_reject(rej, NORMALIZE_BAD_CSV, "no header bound");
        if ((rc = mapping_csv_split(m->delimiter, line, len, c, rej)) < 0)
                return rc;
        if (c->count != m->csv_columns)
                return normalize_reject(rej, NORMALIZE_BAD_CSV, "%zu columns, the header has %zu",
                                        c->count, m->csv_columns);
        mapping_input_reset(m, &s->input);
        for (int f = 0; f < NORMALIZE_FIELD_COUNT; f++) {
                int i = m->column_index[f];
                if (i >= 0)
                        s->input.fields[f] =
                                (struct normalize_value){NORMALIZE_TEXT, c->cell[i], c->len[i]};
        }
        mapping_defaults_apply(m, &s->input);
        return 0;
}

static const enum normalize_reason mapping_json_reasons[] = {
        [RAWJSON_OK] = NORMALIZE_OK,
        [RAWJSON_ERR_SYNTAX] = NORMALIZE_BAD_JSON,
        [RAWJSON_ERR_TRUNCATED] = NORMALIZE_BAD_JSON,
        [RAWJSON_ERR_ESCAPE] = NORMALIZE_BAD_JSON,
        [RAWJSON_ERR_UTF8] = NORMALIZE_BAD_UTF8,
        [RAWJSON_ERR_NESTED] = NORMALIZE_NESTED_JSON,
        [RAWJSON_ERR_DUPLICATE] = NORMALIZE_DUPLICATE_FIELD,
        [RAWJSON_ERR_TOO_LARGE] = NORMALIZE_TOO_LARGE,
};

int mapping_json_input(const struct mapping *m, const char *buf, size_t len,
                       struct mapping_scratch *s, struct normalize_rejection *rej) {
        static const enum normalize_kind kinds[] = {
                [RAWJSON_STRING] = NORMALIZE_TEXT, [RAWJSON_NUMBER] = NORMALIZE_NUMBER,
                [RAWJSON_TRUE] = NORMALIZE_BOOL,   [RAWJSON_FALSE] = NORMALIZE_BOOL,
                [RAWJSON_NULL] = NORMALIZE_ABSENT,
        };
        enum rawjson_error e;
        int rc = rawjson_parse(&s->u.json, buf, len, &e, rej->detail, sizeof(rej->detail));

        if (rc < 0) {
                rej->reason = mapping_json_reasons[e];
                return -EBADMSG;
        }
        mapping_input_reset(m, &s->input);
        for (size_t i = 0; i < s->u.json.count; i++) {
                const struct rawjson_member *mb = &s->u.json.members[i];
                for (int f = 0; f < NORMALIZE_FIELD_COUNT; f++) {
                        if (mb->key_len != m->column_len[f] || mb->key_len == 0 ||
                            memcmp(mb->key, m->columns[f], mb->key_len) != 0)
                                continue;
                        if (kinds[mb->kind] != NORMALIZE_ABSENT) /* one key may feed two fields */
                                s->input.fields[f] = (struct normalize_value){
                                        kinds[mb->kind], mb->value, mb->value_len};
                }
        }
        mapping_defaults_apply(m, &s->input);
        return 0;
}

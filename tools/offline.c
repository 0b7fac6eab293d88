/* offline.c: see offline.h for what is read, in which order, and how the
 * label is set.
 *
 * Design.  One struct driver holds everything of a run: the features
 * configuration, the entity cache (no store), the chargebacks (an array
 * sorted by arrival, and an index sorted by transaction-id hash for the
 * label look-up), the mapping scratch and the normalized transaction,
 * reused record by record.  The chargebacks file is small next to the
 * transactions (about one in two hundred), so holding it whole is what
 * lets the label be known when the row is written; the transactions are
 * streamed.  Every transaction goes through the same calls as in the
 * daemons: mapping_csv_input -> normalize_record -> features_tx_from_proto
 * -> entities_get -> features_compute; every chargeback through
 * features_chargeback_from_proto -> window_chargeback_add.
 *
 * Ownership: the driver owns its arrays and the cache, released by
 * driver_release() on every path.
 */
#include "tools/offline.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/schema.h"
#include "lib/time.h"
#include "proto/chargeback.pb-c.h"
#include "velocity/entities.h"

#define OFFLINE_ID_BYTES (FRAUD_INGEST_ID_BYTES_MAX + 1)
#define OFFLINE_CB_FIRST 1024 /* chargebacks allocated before the array first grows */


struct driver {
        const struct offline_options *o;
        struct offline_counts *k;
        struct features_config cfg;
        struct entities *entities;
        struct window_scratch scratch;
        struct offline_chargeback *cb; /* by arrival (ARRIVAL) or delivery (DAY) */
        size_t n_cb, cap_cb, next_cb;
        int64_t day;   /* DAY: the latest day barrier passed; INT64_MIN before */
        int (*on_row)(void *opaque, const struct offline_row *row);
        void *opaque;
        uint64_t *seen; /* hashes of the transaction ids taken; 0: a free slot */
        size_t seen_n, seen_cap;
        bool json;     /* the transactions file is JSON lines */
        char *header;  /* its CSV header line */
        char line_id[24]; /* a synthesized transaction id (tx_id_synthesize) */
        size_t *by_tx; /* indices into cb, by tx_hash then id */
        struct mapping mapping;
        struct mapping_scratch *ms;
        struct normalize_tx *tx;
        char *line; /* OFFLINE_LINE_BYTES_MAX + 2 */
        double values[FRAUD_FEATURESET_FEATURES_MAX];
        char *err;
        size_t err_size;
};

static int fail(struct driver *d, int r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* The first reason stays: a callback's own message is not overwritten. */
static int fail(struct driver *d, int r, const char *fmt, ...) {
        va_list ap;

        if (d->err[0])
                return r;
        va_start(ap, fmt);
        vsnprintf(d->err, d->err_size, fmt, ap);
        va_end(ap);
        return r;
}

/* ---- settings and flags ---- */

int offline_features_config(const struct fraud_settings *s, struct features_config *c, char *err,
                            size_t err_size) {
        const struct fraud_settings_velocity *v = &s->velocity;
        int64_t spans[FRAUD_FEATURESET_SPANS_MAX];
        char why[256];
        size_t n;

        if (fraud_featureset_spans_parse(v->window_spans_sec, spans, FRAUD_FEATURESET_SPANS_MAX, &n,
                                         why, sizeof(why)) < 0) {
                snprintf(err, err_size, "velocity.window_spans_sec: %s", why);
                return -EINVAL;
        }
        if (features_config_init(c, spans, n, v->label_delay_sec, v->label_window_sec,
                                 v->allowed_lateness_sec, (uint32_t)v->history_events_max) < 0) {
                snprintf(err, err_size, "velocity: invalid window configuration");
                return -EINVAL;
        }
        return 0;
}

int offline_key_get(const char *hex, const struct fraud_settings *s, struct normalize_key *key,
                    char *err, size_t err_size) {
        const char *k = hex ? hex : s->ingest.card_hash_key;

        if (normalize_key_parse(k, key) < 0) {
                snprintf(err, err_size,
                         "%s: expected 32 hex digits (--card-hash-key, ingest.card_hash_key or "
                         "FRAUD_INGEST_CARD_HASH_KEY)",
                         hex ? "--card-hash-key" : "ingest.card_hash_key");
                return -EINVAL;
        }
        return 0;
}

int offline_mapping_get(const char *path, const struct fraud_settings *s, struct mapping *m,
                        char *err, size_t err_size) {
        const char *p = path ? path : s->ingest.mapping_file;

        if (!p[0]) {
                mapping_init_default(m);
                return 0;
        }
        return mapping_load(m, p, err, err_size);
}

int offline_day_parse(const char *s, int64_t *out_us) {
        if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
                return -EINVAL;
        return fraud_time_parse_iso8601(s, out_us) < 0 ? -EINVAL : 0;
}

/* ---- lines ---- */

/* Reads one line into d->line without its line end.  1, 0 at the end,
 * -EMSGSIZE for a line too long (skipped), -EIO. */
static int line_read(struct driver *d, FILE *in, size_t *len) {
        int c;

        if (!fgets(d->line, OFFLINE_LINE_BYTES_MAX + 2, in))
                return ferror(in) ? -EIO : 0;
        *len = strlen(d->line);
        if (*len > 0 && d->line[*len - 1] == '\n') {
                d->line[--*len] = '\0';
        } else if (!feof(in)) {
                while ((c = getc(in)) != EOF && c != '\n')
                        ;
                return -EMSGSIZE;
        }
        if (*len > 0 && d->line[*len - 1] == '\r')
                d->line[--*len] = '\0';
        return *len > OFFLINE_LINE_BYTES_MAX ? -EMSGSIZE : 1;
}

/* The column of name in a header line (cells split at delim, unquoted
 * names), or -1. */
static long header_find(const char *line, char delim, const char *name) {
        size_t want = strlen(name);
        long col = 0;

        for (const char *p = line;; col++) {
                const char *end = strchr(p, delim);
                size_t len = end ? (size_t)(end - p) : strlen(p);

                if (len == want && memcmp(p, name, len) == 0)
                        return col;
                if (!end)
                        return -1;
                p = end + 1;
        }
}

static void reject_show(struct driver *d, uint64_t shown, const char *file, size_t line,
                        const char *why, const char *detail) {
        if (d->o->diag && shown < OFFLINE_REJECTS_SHOWN)
                fprintf(d->o->diag, "%s:%zu: rejected: %s%s%s\n", file, line, why,
                        detail[0] ? ": " : "", detail);
}

/* ---- chargebacks ---- */

/* The chargebacks file's columns, by our field names. */
struct cb_layout {
        long arrival, tx_time, cb_id;
};

/* A chargeback mapping: ingest's reader for the cells, with the
 * transaction-only fields unbound. */
static int cb_mapping(struct driver *d, struct mapping *m, const char *header, size_t len,
                      struct cb_layout *lay) {
        static const enum normalize_field unused[] = {
                NORMALIZE_FIELD_AMOUNT,      NORMALIZE_FIELD_CURRENCY,  NORMALIZE_FIELD_PAN,
                NORMALIZE_FIELD_CUSTOMER_ID, NORMALIZE_FIELD_MCC,       NORMALIZE_FIELD_COUNTRY,
                NORMALIZE_FIELD_CHANNEL,     NORMALIZE_FIELD_DEVICE_ID, NORMALIZE_FIELD_IP,
                NORMALIZE_FIELD_TIMESTAMP,
        };
        char why[256];

        mapping_init_default(m);
        for (size_t i = 0; i < sizeof(unused) / sizeof(unused[0]); i++) {
                m->columns[unused[i]][0] = '\0';
                m->column_len[unused[i]] = 0;
        }
        if (header_find(header, m->delimiter, "merchant_id") < 0) {
                m->columns[NORMALIZE_FIELD_MERCHANT_ID][0] = '\0';
                m->column_len[NORMALIZE_FIELD_MERCHANT_ID] = 0;
        }
        if (header_find(header, m->delimiter, "terminal_id") < 0) {
                m->columns[NORMALIZE_FIELD_TERMINAL_ID][0] = '\0';
                m->column_len[NORMALIZE_FIELD_TERMINAL_ID] = 0;
        }
        lay->arrival = header_find(header, m->delimiter, "timestamp");
        lay->tx_time = header_find(header, m->delimiter, "transaction_timestamp");
        lay->cb_id = header_find(header, m->delimiter, "chargeback_id");
        if (mapping_csv_header(m, header, len, why, sizeof(why)) < 0)
                return fail(d, -EINVAL, "%s: %s", d->o->chargebacks, why);
        if (lay->arrival < 0 || (m->column_index[NORMALIZE_FIELD_MERCHANT_ID] < 0 &&
                                 m->column_index[NORMALIZE_FIELD_TERMINAL_ID] < 0))
                return fail(d, -EINVAL,
                            "%s: header: needs transaction_id, timestamp, and merchant_id or "
                            "terminal_id",
                            d->o->chargebacks);
        return 0;
}

/* The text of cell col of the line just read, or "". */
static const char *cell(const struct driver *d, long col) {
        const struct mapping_cells *c = &d->ms->u.csv;

        return col >= 0 && (size_t)col < c->count ? c->cell[col] : "";
}

/* Copies the field f of the record just read into buf; false when too
 * long. */
static bool field_copy(const struct driver *d, enum normalize_field f, char *buf) {
        const struct normalize_value *v = &d->ms->input.fields[f];
        size_t len = v->kind == NORMALIZE_TEXT ? v->len : 0;

        if (len >= OFFLINE_ID_BYTES)
                return false;
        memcpy(buf, len ? v->text : "", len);
        buf[len] = '\0';
        return true;
}

/* Checks the record just read and fills *c; NULL, or the reason. */
static const char *cb_fill(struct driver *d, const struct cb_layout *lay, struct offline_chargeback *c) {
        const char *when = cell(d, lay->arrival), *tx_when = cell(d, lay->tx_time);

        memset(c, 0, sizeof(*c));
        if (!field_copy(d, NORMALIZE_FIELD_TRANSACTION_ID, c->tx_id) || !c->tx_id[0])
                return "bad_transaction_id";
        if (!field_copy(d, NORMALIZE_FIELD_MERCHANT_ID, c->merchant) ||
            !field_copy(d, NORMALIZE_FIELD_TERMINAL_ID, c->terminal) ||
            (!c->merchant[0] && !c->terminal[0]))
                return "bad_terminal";
        if (fraud_time_parse_iso8601(when, &c->arrival_us) < 0)
                return "bad_timestamp";
        if (tx_when[0] && fraud_time_parse_iso8601(tx_when, &c->tx_time_us) < 0)
                return "bad_transaction_timestamp";
        if (strlen(cell(d, lay->cb_id)) >= OFFLINE_ID_BYTES)
                return "bad_chargeback_id";
        memcpy(c->cb_id, cell(d, lay->cb_id), strlen(cell(d, lay->cb_id)) + 1);
        c->tx_hash = features_hash(c->tx_id, strlen(c->tx_id));
        return NULL;
}

static int cb_push(struct driver *d, const struct offline_chargeback *c) {
        if (d->n_cb == d->cap_cb) {
                size_t cap = d->cap_cb ? 2 * d->cap_cb : OFFLINE_CB_FIRST;
                void *p;

                if (d->n_cb >= OFFLINE_CHARGEBACKS_MAX)
                        return fail(d, -E2BIG, "%s: more than %d chargebacks", d->o->chargebacks,
                                    OFFLINE_CHARGEBACKS_MAX);
                if (!(p = realloc(d->cb, cap * sizeof(*d->cb))))
                        return fail(d, -ENOMEM, "out of memory");
                d->cb = p;
                d->cap_cb = cap;
        }
        d->cb[d->n_cb++] = *c;
        return 0;
}

static int cb_lines(struct driver *d, FILE *in, const struct mapping *m,
                    const struct cb_layout *lay) {
        struct normalize_rejection rej;
        struct offline_chargeback c;
        size_t len, line_no = 1;
        int r;

        while ((r = line_read(d, in, &len)) != 0) {
                const char *why = NULL;

                line_no++;
                if (r == -EIO)
                        return fail(d, r, "%s: read error", d->o->chargebacks);
                if (r > 0 && len == 0)
                        continue;
                d->k->cb_lines++;
                rej.detail[0] = '\0';
                if (r < 0)
                        why = "too_large";
                else if (mapping_csv_input(m, d->line, len, d->ms, &rej) < 0)
                        why = normalize_reason_code(rej.reason);
                else
                        why = cb_fill(d, lay, &c);
                if (why) {
                        reject_show(d, d->k->cb_rejected, d->o->chargebacks, line_no, why,
                                    rej.detail);
                        d->k->cb_rejected++;
                        continue;
                }
                c.line = line_no;
                if ((r = cb_push(d, &c)) < 0)
                        return r;
        }
        return 0;
}

int64_t offline_chargeback_day(const struct offline_chargeback *c) {
        int64_t day = fraud_time_day_index(c->arrival_us);

        if (c->tx_time_us == 0)
                return day + 1;
        return fraud_time_day_index(c->tx_time_us) >= day ? fraud_time_day_index(c->tx_time_us) + 1
                                                          : day;
}

void offline_chargeback_proto(const struct offline_chargeback *c, Fraud__Chargeback *m) {
        fraud__chargeback__init(m);
        m->schema_version = CHARGEBACK_SCHEMA_VERSION;
        m->transaction_id = (char *)c->tx_id;
        m->chargeback_id = (char *)c->cb_id;
        m->event_time_us = c->arrival_us;
        m->transaction_time_us = c->tx_time_us;
        m->kind = FRAUD__CHARGEBACK_KIND__CHARGEBACK_KIND_CHARGEBACK;
        m->merchant_id = (char *)c->merchant;
        m->terminal_id = (char *)c->terminal;
}

/* Delivery day first (DAY order), then arrival, then file order. */
static int cb_by_day(const void *a, const void *b) {
        const struct offline_chargeback *x = a, *y = b;
        int64_t dx = offline_chargeback_day(x), dy = offline_chargeback_day(y);

        if (dx != dy)
                return dx < dy ? -1 : 1;
        if (x->arrival_us != y->arrival_us)
                return x->arrival_us < y->arrival_us ? -1 : 1;
        return x->line < y->line ? -1 : x->line > y->line;
}

static int cb_by_arrival(const void *a, const void *b) {
        const struct offline_chargeback *x = a, *y = b;

        if (x->arrival_us != y->arrival_us)
                return x->arrival_us < y->arrival_us ? -1 : 1;
        return x->line < y->line ? -1 : x->line > y->line; /* stable: file order */
}

/* Indices by (transaction hash, id); arg is the array indexed. */
static int cb_by_tx(const void *a, const void *b, void *arg) {
        const struct offline_chargeback *cb = arg;
        const struct offline_chargeback *x = &cb[*(const size_t *)a], *y = &cb[*(const size_t *)b];

        if (x->tx_hash != y->tx_hash)
                return x->tx_hash < y->tx_hash ? -1 : 1;
        return strcmp(x->tx_id, y->tx_id);
}

static int cb_read(struct driver *d) {
        struct mapping *m = malloc(sizeof(*m));
        struct cb_layout lay = {0};
        FILE *in;
        size_t len;
        int r;

        if (!m)
                return fail(d, -ENOMEM, "out of memory");
        if (!(in = fopen(d->o->chargebacks, "r"))) {
                r = fail(d, -errno, "%s: %s", d->o->chargebacks, strerror(errno));
                goto free_m;
        }
        r = line_read(d, in, &len);
        if (r <= 0)
                r = fail(d, r == -EIO ? r : -EINVAL, "%s: no header line", d->o->chargebacks);
        else if ((r = cb_mapping(d, m, d->line, len, &lay)) == 0)
                r = cb_lines(d, in, m, &lay);
        fclose(in);
        if (r == 0 && d->n_cb > 0) {
                qsort(d->cb, d->n_cb, sizeof(*d->cb),
                      d->o->cb_order == OFFLINE_CB_DAY ? cb_by_day : cb_by_arrival);
                if (!(d->by_tx = malloc(d->n_cb * sizeof(size_t))))
                        r = fail(d, -ENOMEM, "out of memory");
        }
        if (r == 0 && d->n_cb > 0) {
                for (size_t i = 0; i < d->n_cb; i++)
                        d->by_tx[i] = i;
                qsort_r(d->by_tx, d->n_cb, sizeof(size_t), cb_by_tx, d->cb);
        }
free_m:
        free(m);
        return r;
}

/* Whether a chargeback of id arrived before the label cutoff. */
static bool label_of(const struct driver *d, const char *id) {
        uint64_t h = features_hash(id, strlen(id));
        size_t lo = 0, hi = d->n_cb;

        while (lo < hi) { /* first index with (hash, id) >= (h, id) */
                size_t mid = lo + (hi - lo) / 2;
                const struct offline_chargeback *c = &d->cb[d->by_tx[mid]];

                if (c->tx_hash < h || (c->tx_hash == h && strcmp(c->tx_id, id) < 0))
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (; lo < d->n_cb; lo++) {
                const struct offline_chargeback *c = &d->cb[d->by_tx[lo]];

                if (c->tx_hash != h || strcmp(c->tx_id, id) != 0)
                        return false;
                if (c->arrival_us < d->o->label_cutoff_us)
                        return true;
        }
        return false;
}

/* Gives one chargeback to its terminal's window, as fraud-velocity does. */
static int cb_apply(struct driver *d, const struct offline_chargeback *c) {
        Fraud__Chargeback m;
        struct window_chargeback wc;
        struct window *w;
        const char *id = NULL, *why = "";
        size_t id_len = 0;
        int r;

        offline_chargeback_proto(c, &m);
        if (features_chargeback_from_proto(&m, &wc, &id, &id_len, &why) != 0) {
                reject_show(d, d->k->cb_rejected, d->o->chargebacks, c->line, why, "");
                d->k->cb_rejected++;
                return 0;
        }
        if ((r = entities_get(d->entities, FRAUD_FEATURESET_TERMINAL, id, id_len, &w)) < 0)
                return fail(d, r, "state of %s: %s", id, strerror(-r));
        r = window_chargeback_add(w, &wc);
        if (r == -ENOMEM)
                return fail(d, r, "out of memory");
        d->k->cb_recorded += r == 0;
        d->k->cb_repeated += r == 1;
        d->k->cb_unmatched += r == -ENOENT;
        return 0;
}

/* ---- transactions ---- */

/* The ground truth's columns in the transactions file, or -1. */
struct tx_layout {
        long is_fraud, scenario;
};

/* The first line: a CSV header, or (JSON lines) the first record. */
static int tx_header(struct driver *d, size_t len, struct tx_layout *lay) {
        char why[256];

        d->json = len > 0 && d->line[0] == '{';
        if (d->json)
                return 0;
        lay->is_fraud = header_find(d->line, d->mapping.delimiter,
                                    d->o->fraud_column ? d->o->fraud_column : "is_fraud");
        lay->scenario = header_find(d->line, d->mapping.delimiter, "scenario");
        if (mapping_csv_header(&d->mapping, d->line, len, why, sizeof(why)) < 0)
                return fail(d, -EINVAL, "%s: %s", d->o->transactions, why);
        if (!(d->header = strdup(d->line)))
                return fail(d, -ENOMEM, "out of memory");
        return 0;
}

static int tx_windows(struct driver *d, const struct features_ids *ids,
                      struct window *w[FRAUD_FEATURESET_ENTITIES]) {
        for (int k = 0; k < FRAUD_FEATURESET_ENTITIES; k++) {
                int r;

                w[k] = NULL;
                if (!ids->len[k])
                        continue;
                r = entities_get(d->entities, k, ids->id[k], ids->len[k], &w[k]);
                if (r < 0)
                        return fail(d, r, "state of %.*s: %s", (int)ids->len[k], ids->id[k],
                                    strerror(-r));
        }
        return 0;
}

/* Features of the normalized transaction in d->tx; 1 when it yields no
 * vector (a duplicate, or refused by velocity). */
static int tx_features(struct driver *d, size_t line_no) {
        struct window *w[FRAUD_FEATURESET_ENTITIES];
        struct features_ids ids;
        struct features_tx ft;
        const char *why = "";
        int r;

        if (features_tx_from_proto(&d->tx->msg, &ft, &ids, &why) < 0) {
                reject_show(d, d->k->tx_rejected, d->o->transactions, line_no, why, "");
                d->k->tx_rejected++;
                return 1;
        }
        while (d->o->cb_order == OFFLINE_CB_ARRIVAL && d->next_cb < d->n_cb &&
               d->cb[d->next_cb].arrival_us <= ft.t_us)
                if ((r = cb_apply(d, &d->cb[d->next_cb++])) < 0)
                        return r;
        if ((r = tx_windows(d, &ids, w)) < 0)
                return r;
        r = features_compute(&d->cfg, &ft, w, &d->scratch, d->values, &d->k->history_truncated);
        if (r < 0)
                return fail(d, r, "features of %s: out of memory", d->tx->transaction_id);
        d->k->tx_duplicates += r == 1;
        d->k->tx_currency_unknown += r == 0 && !ft.currency_known;
        return r;
}

static int entities_check(struct driver *d) {
        struct entities_stats st;

        entities_stats(d->entities, &st);
        d->k->entities = st.cached;
        if (st.cached > FRAUD_VELOCITY_CACHE_ENTITIES_MAX)
                return fail(d, -E2BIG, "more than %d entities in memory",
                            FRAUD_VELOCITY_CACHE_ENTITIES_MAX);
        return 0;
}

/* Whether the transaction id was taken before (ingest's de-duplication:
 * a repeated id is not scored twice); remembers it.  0 new, 1 seen,
 * -ENOMEM. */
static int seen_check_add(struct driver *d, const char *id) {
        uint64_t h = features_hash(id, strlen(id));
        size_t mask, i;

        if (2 * (d->seen_n + 1) > d->seen_cap) {
                size_t cap = d->seen_cap ? 2 * d->seen_cap : 1 << 16;
                uint64_t *t = calloc(cap, sizeof(*t));

                if (!t)
                        return -ENOMEM;
                for (size_t k = 0; k < d->seen_cap; k++)
                        for (i = d->seen[k] & (cap - 1); d->seen[k]; i = (i + 1) & (cap - 1))
                                if (!t[i]) {
                                        t[i] = d->seen[k];
                                        break;
                                }
                free(d->seen);
                d->seen = t;
                d->seen_cap = cap;
        }
        mask = d->seen_cap - 1;
        for (i = h & mask; d->seen[i]; i = (i + 1) & mask)
                if (d->seen[i] == h)
                        return 1;
        d->seen[i] = h;
        d->seen_n++;
        return 0;
}

/* DAY order: passes every day barrier up to day (the first transaction's
 * day for the first one): the day's chargebacks to the windows, then
 * on_day. */
static int day_advance(struct driver *d, int64_t day) {
        int r;

        if (d->day == INT64_MIN)
                d->day = day - 1;
        while (d->day < day) {
                size_t first = d->next_cb;

                d->day++;
                while (d->next_cb < d->n_cb && offline_chargeback_day(&d->cb[d->next_cb]) <= d->day)
                        if (!d->o->no_features && (r = cb_apply(d, &d->cb[d->next_cb])) < 0)
                                return r;
                        else
                                d->next_cb++;
                if (d->o->on_day &&
                    (r = d->o->on_day(d->opaque, d->day * FRAUD_USEC_PER_DAY, &d->cb[first],
                                      d->next_cb - first)) < 0)
                        return fail(d, r, "day barrier: %s", strerror(-r));
        }
        return 0;
}

/* A fraud flag's text: 1, true, yes (any case) are fraud. */
static int flag_true(const char *v) {
        return v[0] == '1' || v[0] == 't' || v[0] == 'T' || v[0] == 'y' || v[0] == 'Y';
}

/* The row of the line just read, before its vector is known. */
static void row_init(const struct driver *d, struct offline_row *row, size_t len, size_t line_no,
                     const struct tx_layout *lay) {
        const struct rawjson_member *f =
                d->json ? rawjson_find(&d->ms->u.json,
                                       d->o->fraud_column ? d->o->fraud_column : "is_fraud")
                        : NULL;
        const struct rawjson_member *sc = d->json ? rawjson_find(&d->ms->u.json, "scenario") : NULL;

        *row = (struct offline_row){.line = line_no, .raw = d->line, .raw_len = len,
                                    .json = d->json, .header = d->header, .is_fraud = -1,
                                    .scenario = ""};
        if (!d->json && d->ms->u.csv.count > 0)
                row->cells = &d->ms->u.csv;
        if (d->json) {
                row->is_fraud = f ? flag_true(f->value) : -1;
                row->scenario = sc ? sc->value : "";
        } else {
                row->is_fraud = lay->is_fraud < 0 ? -1 : flag_true(cell(d, lay->is_fraud));
                row->scenario = cell(d, lay->scenario);
        }
}

/* A line that yields no vector, to on_row when all_lines asks for it. */
static int row_skipped(struct driver *d, struct offline_row *row, const char *why) {
        int r;

        if (!d->o->all_lines)
                return 0;
        row->tx = NULL;
        row->reject = why;
        r = d->on_row(d->opaque, row);
        return r < 0 ? fail(d, r, "%s:%zu: output: %s", d->o->transactions, row->line,
                            strerror(-r))
                     : 0;
}

/* A log without transaction ids (the mapping maps transaction_id to ""):
 * each payment is named by its line, "L" + the line number, the same on
 * every run over the file. */
static void tx_id_synthesize(struct driver *d, size_t line_no) {
        struct normalize_value *v = &d->ms->input.fields[NORMALIZE_FIELD_TRANSACTION_ID];

        if (d->mapping.column_len[NORMALIZE_FIELD_TRANSACTION_ID] != 0 ||
            v->kind != NORMALIZE_ABSENT)
                return;
        snprintf(d->line_id, sizeof(d->line_id), "L%zu", line_no);
        *v = (struct normalize_value){NORMALIZE_TEXT, d->line_id, strlen(d->line_id)};
}

static int tx_parse(struct driver *d, size_t len, size_t line_no, struct normalize_rejection *rej) {
        int r;

        d->ms->u.csv.count = 0;
        r = d->json ? mapping_json_input(&d->mapping, d->line, len, d->ms, rej)
                    : mapping_csv_input(&d->mapping, d->line, len, d->ms, rej);
        if (r == 0)
                tx_id_synthesize(d, line_no);
        return r < 0 ? r : normalize_record(&d->ms->input, d->o->key, d->tx, rej);
}

/* One data line of the transactions file: 0, 1 past until_us, -errno. */
static int tx_line(struct driver *d, size_t len, size_t line_no, const struct tx_layout *lay,
                   int64_t *newest) {
        struct normalize_rejection rej = {.detail = ""};
        struct offline_row row;
        int64_t t;
        int r;

        d->k->tx_lines++;
        if (tx_parse(d, len, line_no, &rej) < 0) {
                reject_show(d, d->k->tx_rejected, d->o->transactions, line_no,
                            normalize_reason_code(rej.reason), rej.detail);
                d->k->tx_rejected++;
                d->k->tx_by_reason[rej.reason]++;
                row_init(d, &row, len, line_no, lay);
                return row_skipped(d, &row, normalize_reason_code(rej.reason));
        }
        t = d->tx->msg.event_time_us;
        if (t >= d->o->until_us) {
                d->k->tx_lines--; /* not part of the run */
                return 1;
        }
        d->k->tx_late += t < *newest;
        if (t > *newest)
                *newest = t;
        if (d->o->cb_order == OFFLINE_CB_DAY && (r = day_advance(d, fraud_time_day_index(t))) < 0)
                return r;
        row_init(d, &row, len, line_no, lay);
        if ((r = seen_check_add(d, d->tx->transaction_id)) != 0) {
                if (r < 0)
                        return fail(d, r, "out of memory");
                d->k->tx_duplicates++;
                return row_skipped(d, &row, "duplicate");
        }
        if (!d->o->no_features && (r = tx_features(d, line_no)) != 0)
                return r < 0 ? r : row_skipped(d, &row, "refused");
        row.tx = &d->tx->msg;
        row.values = d->values;
        row.n_values = d->o->no_features ? 0 : d->cfg.fs.n;
        row.schema_hash = d->cfg.fs.hash;
        row.label = label_of(d, d->tx->transaction_id);
        d->k->rows++;
        d->k->rows_labelled += row.label;
        if ((r = d->on_row(d->opaque, &row)) < 0)
                return fail(d, r, "%s:%zu: output: %s", d->o->transactions, line_no, strerror(-r));
        if (d->k->rows % OFFLINE_CHECK_EVERY_ROWS == 0 && !d->o->no_features)
                return entities_check(d);
        return 0;
}

/* One line as read by line_read (r): 0 or -errno. */
static int tx_read_one(struct driver *d, int r, size_t len, size_t line_no,
                       const struct tx_layout *lay, int64_t *newest) {
        struct offline_row row;

        if (r == -EIO)
                return fail(d, r, "%s: read error", d->o->transactions);
        if (r < 0) {
                reject_show(d, d->k->tx_rejected, d->o->transactions, line_no, "too_large", "");
                d->k->tx_lines++;
                d->k->tx_rejected++;
                d->k->tx_by_reason[NORMALIZE_TOO_LARGE]++;
                row_init(d, &row, 0, line_no, lay);
                return row_skipped(d, &row, normalize_reason_code(NORMALIZE_TOO_LARGE));
        }
        return len > 0 ? tx_line(d, len, line_no, lay, newest) : 0;
}

static int tx_read(struct driver *d) {
        FILE *in = fopen(d->o->transactions, "r");
        struct tx_layout lay = {-1, -1};
        int64_t newest = INT64_MIN;
        size_t len = 0, line_no = 1;
        int r;

        if (!in)
                return fail(d, -errno, "%s: %s", d->o->transactions, strerror(errno));
        r = line_read(d, in, &len);
        if (r <= 0)
                r = fail(d, r == -EIO ? r : -EINVAL, "%s: no header line or record",
                         d->o->transactions);
        else if ((r = tx_header(d, len, &lay)) == 0 && d->json)
                r = tx_read_one(d, 1, len, line_no, &lay, &newest);
        while (r == 0 && (r = line_read(d, in, &len)) != 0) {
                line_no++;
                r = tx_read_one(d, r, len, line_no, &lay, &newest);
        }
        fclose(in);
        return r < 0 ? r : 0;
}

/* ---- the run ---- */

static void driver_release(struct driver *d) {
        entities_free(d->entities);
        window_scratch_release(&d->scratch);
        free(d->cb);
        free(d->by_tx);
        free(d->ms);
        free(d->tx);
        free(d->line);
        free(d->seen);
        free(d->header);
}

static int driver_init(struct driver *d) {
        const struct fraud_settings_velocity *v = &d->o->settings->velocity;
        int r = offline_features_config(d->o->settings, &d->cfg, d->err, d->err_size);

        if (r < 0)
                return r;
        if (d->o->mapping)
                d->mapping = *d->o->mapping;
        else
                mapping_init_default(&d->mapping);
        d->ms = malloc(sizeof(*d->ms));
        d->tx = malloc(sizeof(*d->tx));
        d->line = malloc(OFFLINE_LINE_BYTES_MAX + 2);
        if (!d->ms || !d->tx || !d->line ||
            window_scratch_init(&d->scratch, (uint32_t)v->history_events_max) < 0)
                return fail(d, -ENOMEM, "out of memory");
        r = entities_new(NULL, (size_t)v->cache_entities_max, (size_t)v->cache_events_max,
                         &d->entities);
        return r < 0 ? fail(d, r, "entity cache: %s", strerror(-r)) : 0;
}

int offline_run(const struct offline_options *o,
                int (*on_row)(void *opaque, const struct offline_row *row), void *opaque,
                struct offline_counts *counts, char *err, size_t err_size) {
        struct driver *d = calloc(1, sizeof(*d));
        int r;

        memset(counts, 0, sizeof(*counts));
        if (!d) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        err[0] = '\0';
        *d = (struct driver){.o = o, .k = counts, .err = err, .err_size = err_size,
                             .day = INT64_MIN, .on_row = on_row, .opaque = opaque};
        r = driver_init(d);
        if (r == 0 && o->chargebacks)
                r = cb_read(d);
        if (r == 0)
                r = tx_read(d);
        if (d->entities)
                entities_check(d);
        driver_release(d);
        free(d);
        return r;
}

int offline_chargebacks_load(const struct offline_options *o, struct offline_chargeback **out,
                             size_t *n, struct offline_counts *counts, char *err,
                             size_t err_size) {
        struct driver *d = calloc(1, sizeof(*d));
        int r = -ENOMEM;

        memset(counts, 0, sizeof(*counts));
        *out = NULL;
        *n = 0;
        err[0] = '\0';
        if (d) {
                *d = (struct driver){.o = o, .k = counts, .err = err, .err_size = err_size};
                d->ms = malloc(sizeof(*d->ms));
                d->line = malloc(OFFLINE_LINE_BYTES_MAX + 2);
                r = d->ms && d->line ? cb_read(d) : -ENOMEM;
                if (r == 0) {
                        *out = d->cb;
                        *n = d->n_cb;
                        d->cb = NULL;
                }
                driver_release(d);
                free(d);
        }
        if (r == -ENOMEM && !err[0])
                snprintf(err, err_size, "out of memory");
        return r;
}

void offline_counts_print(const struct offline_counts *c, FILE *out) {
        fprintf(out,
                "transactions: %llu read, %llu rejected, %llu duplicates, %llu out of order; "
                "%llu vectors (%llu labelled 1), %llu in an unknown currency\n",
                (unsigned long long)c->tx_lines, (unsigned long long)c->tx_rejected,
                (unsigned long long)c->tx_duplicates, (unsigned long long)c->tx_late,
                (unsigned long long)c->rows, (unsigned long long)c->rows_labelled,
                (unsigned long long)c->tx_currency_unknown);
        for (int r = 1; r < NORMALIZE_REASON_COUNT; r++)
                if (c->tx_by_reason[r])
                        fprintf(out, "  rejected %s: %llu\n", normalize_reason_code(r),
                                (unsigned long long)c->tx_by_reason[r]);
        fprintf(out,
                "chargebacks: %llu read, %llu rejected; %llu recorded on their terminal before "
                "the last vector, %llu repeated, %llu unmatched (terminal does not hold the "
                "payment)\n",
                (unsigned long long)c->cb_lines, (unsigned long long)c->cb_rejected,
                (unsigned long long)c->cb_recorded, (unsigned long long)c->cb_repeated,
                (unsigned long long)c->cb_unmatched);
        fprintf(out, "entities: %llu windows; %llu events dropped for history_events_max\n",
                (unsigned long long)c->entities, (unsigned long long)c->history_truncated);
}

/* Unknown and incomplete options both come back as '?': say which. */
static int offline_option_unknown(int argc, char **argv, char *err, size_t err_size) {
        const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";

        snprintf(err, err_size, "unknown or incomplete option '%s'", arg);
        return -EINVAL;
}

int offline_options_parse(const struct offline_option *opts, size_t n, int argc, char **argv,
                          char *err, size_t err_size) {
        struct option longopts[OFFLINE_OPTIONS_MAX + 1];
        int c;

        if (n > OFFLINE_OPTIONS_MAX)
                return -E2BIG;
        memset(longopts, 0, sizeof(longopts));
        for (size_t i = 0; i < n; i++) {
                longopts[i] = (struct option){opts[i].name, required_argument, NULL, (int)i + 1};
                *opts[i].slot = NULL;
        }
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
                if (c < 1 || (size_t)c > n)
                        return offline_option_unknown(argc, argv, err, err_size);
                *opts[c - 1].slot = optarg;
        }
        if (optind < argc) {
                snprintf(err, err_size, "unexpected argument '%s'", argv[optind]);
                return -EINVAL;
        }
        for (size_t i = 0; i < n; i++)
                if (opts[i].required && !*opts[i].slot) {
                        snprintf(err, err_size, "--%s is required", opts[i].name);
                        return -EINVAL;
                }
        return 0;
}

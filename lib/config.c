/* config.c: see config.h.
 *
 * A file is read whole (at most FRAUD_CONFIG_FILE_BYTES_MAX) and walked with
 * libyaml's event API, which hands over every scalar with its line: a stream
 * holds at most one document, the document is a mapping of sections, each
 * section a mapping of keys, each value a scalar (or, for a list key, a
 * sequence of scalars).  The walk stops at the first error.  The parser keeps
 * the current event and deletes it when it fetches the next one or finishes,
 * so no early return can leak an event.  Duplicates are found by recording,
 * for each table row, the line where the file set it.
 *
 * Every value, from a file, the environment or a default, is parsed and
 * checked by the same functions (config_text_set and its helpers), so the
 * three layers accept exactly the same texts.  Error texts echo user input
 * only through config_echo(), which bounds it, hides control bytes and never
 * shows a secret.
 */
#include "lib/config.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define CONFIG_ECHO_MAX      48 /* bytes of a value echoed in an error, quotes included */
#define CONFIG_COMMENT_WIDTH 78 /* columns of a dumped comment line */
#define CONFIG_NOT_FOUND     SIZE_MAX

/* How a text reached us: YAML knows quoted from plain; the environment does not. */
enum config_text {
        CONFIG_TEXT_RAW,    /* environment or default: the bytes as they are */
        CONFIG_TEXT_PLAIN,  /* YAML plain scalar: may be null */
        CONFIG_TEXT_QUOTED, /* YAML quoted or block scalar: always a string */
};

/* A list being built: items[0..n) owned, room for k->max items and the NULL. */
struct config_list {
        char **items;
        size_t n;
};

/* ---------- fields and echoes ---------- */

static void *config_field(void *target, const struct fraud_config_key *k) {
        return (char *)target + k->offset;
}

static const void *config_field_const(const void *target, const struct fraud_config_key *k) {
        return (const char *)target + k->offset;
}

/* s bounded and printable, in quotes; a secret is never shown. */
static const char *config_echo(const struct fraud_config_key *k, char *buf, size_t size,
                               const char *s) {
        size_t n = 0, i;

        assert(size >= 16);
        if (k && (k->flags & FRAUD_CONFIG_SECRET)) {
                snprintf(buf, size, "a secret value");
                return buf;
        }
        buf[n++] = '"';
        for (i = 0; s[i] && n + 5 < size; i++)
                buf[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
        if (s[i]) {
                memcpy(buf + n, "...", 3);
                n += 3;
        }
        buf[n++] = '"';
        buf[n] = '\0';
        return buf;
}

/* "a|b|c" as "a, b, c". */
static void config_choices_format(char *buf, size_t size, const char *choices) {
        size_t n = 0;

        for (const char *c = choices; *c && n + 3 < size; c++) {
                if (*c == '|') {
                        buf[n++] = ',';
                        buf[n++] = ' ';
                } else {
                        buf[n++] = *c;
                }
        }
        buf[n] = '\0';
}

static bool config_choices_contain(const char *choices, const char *s) {
        size_t len = strlen(s);

        for (const char *c = choices; c; c = strchr(c, '|'), c = c ? c + 1 : NULL) {
                size_t clen = strcspn(c, "|");
                if (clen == len && memcmp(c, s, len) == 0)
                        return true;
        }
        return false;
}

/* ---------- parsing one value ---------- */

static bool config_is_null(const char *s) {
        return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
               !strcmp(s, "NULL");
}

/* YAML 1.2 core schema booleans only: yes, no, on, off, 1 and 0 are errors. */
static int config_bool_parse(const char *s, bool *out) {
        if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
                *out = true;
        else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
                *out = false;
        else
                return -EINVAL;
        return 0;
}

/* [-+]?[0-9]+ and nothing else; -ERANGE past int64. */
static int config_int_parse(const char *s, int64_t *out) {
        const char *digits = s + (*s == '-' || *s == '+');
        long long v;

        if (!*digits || strspn(digits, "0123456789") != strlen(digits))
                return -EINVAL;
        errno = 0;
        v = strtoll(s, NULL, 10);
        if (errno == ERANGE)
                return -ERANGE;
        *out = v;
        return 0;
}

/* A finite decimal number: no inf, nan, hex or surrounding blanks. */
static int config_double_parse(const char *s, double *out) {
        char *end;
        double v;

        if (!*s || strspn(s, "0123456789+-.eE") != strlen(s) || !strpbrk(s, "0123456789"))
                return -EINVAL;
        errno = 0;
        v = strtod(s, &end);
        if (*end)
                return -EINVAL;
        if (errno == ERANGE && fabs(v) > 1.0)
                return -ERANGE; /* overflow; underflow to about 0 is fine */
        if (!isfinite(v))
                return -EINVAL;
        *out = v;
        return 0;
}

static const char *config_type_expected(enum fraud_config_type type) {
        switch (type) {
        case FRAUD_CONFIG_TYPE_BOOL:
                return "expected true or false";
        case FRAUD_CONFIG_TYPE_INT64:
                return "expected an integer";
        case FRAUD_CONFIG_TYPE_DOUBLE:
                return "expected a number";
        case FRAUD_CONFIG_TYPE_LIST:
                return "expected a list of strings";
        default:
                return "expected a string";
        }
}

/* A bool or number key given a null or quoted YAML scalar: say what was wrong. */
static int config_scalar_kind_check(const struct fraud_config_key *k, const char *text,
                                    enum config_text how, char *reason, size_t size) {
        char echo[CONFIG_ECHO_MAX];

        if (how == CONFIG_TEXT_PLAIN && config_is_null(text)) {
                snprintf(reason, size, "%s, got no value", config_type_expected(k->type));
                return -EINVAL;
        }
        if (how == CONFIG_TEXT_QUOTED) {
                snprintf(reason, size, "%s, got the quoted string %s",
                         config_type_expected(k->type), config_echo(k, echo, sizeof(echo), text));
                return -EINVAL;
        }
        return 0;
}

static int config_number_set(const struct fraud_config_key *k, void *target, const char *text,
                             char *reason, size_t size) {
        char echo[CONFIG_ECHO_MAX];
        int64_t i = 0;
        double d = 0;
        int r;

        if (k->type == FRAUD_CONFIG_TYPE_INT64)
                r = config_int_parse(text, &i);
        else
                r = config_double_parse(text, &d);
        config_echo(k, echo, sizeof(echo), text);
        if (r == -EINVAL) {
                snprintf(reason, size, "%s, got %s", config_type_expected(k->type), echo);
                return -EINVAL;
        }
        if (k->type == FRAUD_CONFIG_TYPE_INT64) {
                if (r == -ERANGE || i < k->min || i > k->max) {
                        snprintf(reason, size, "%s is out of range %" PRId64 "..%" PRId64, echo,
                                 k->min, k->max);
                        return -EINVAL;
                }
                *(int64_t *)config_field(target, k) = i;
        } else {
                if (r == -ERANGE || d < k->min_double || d > k->max_double) {
                        snprintf(reason, size, "%s is out of range %g..%g", echo, k->min_double,
                                 k->max_double);
                        return -EINVAL;
                }
                *(double *)config_field(target, k) = d;
        }
        return 0;
}

/* Length and choices of a string value; 0 when s is acceptable for k. */
static int config_string_check(const struct fraud_config_key *k, const char *s, char *reason,
                               size_t size) {
        char echo[CONFIG_ECHO_MAX], choices[FRAUD_CONFIG_ERR_MAX / 2];
        size_t len = strlen(s);

        if (len < (size_t)k->min) {
                if (k->min == 1)
                        snprintf(reason, size, "must not be empty");
                else
                        snprintf(reason, size, "too short: %zu bytes, at least %" PRId64, len,
                                 k->min);
                return -EINVAL;
        }
        if (len > (size_t)k->max) {
                snprintf(reason, size, "too long: %zu bytes, at most %" PRId64, len, k->max);
                return -EINVAL;
        }
        if (k->choices && !config_choices_contain(k->choices, s)) {
                config_choices_format(choices, sizeof(choices), k->choices);
                snprintf(reason, size, "%s is not one of %s", config_echo(k, echo, sizeof(echo), s),
                         choices);
                return -EINVAL;
        }
        return k->check ? k->check(s, reason, size) : 0;
}

static int config_string_store(char **slot, const char *s) {
        char *copy = strdup(s);

        if (!copy)
                return -ENOMEM;
        free(*slot);
        *slot = copy;
        return 0;
}

/* ---------- lists ---------- */

static void config_list_free(char **items) {
        if (!items)
                return;
        for (char **i = items; *i; i++)
                free(*i);
        free(items);
}

static int config_list_begin(const struct fraud_config_key *k, struct config_list *l) {
        l->n = 0;
        l->items = calloc((size_t)k->max + 1, sizeof(*l->items));
        return l->items ? 0 : -ENOMEM;
}

static int config_list_push(const struct fraud_config_key *k, struct config_list *l,
                            const char *item, size_t len, char *reason, size_t size) {
        if (len == 0) {
                snprintf(reason, size, "item %zu is empty", l->n + 1);
                return -EINVAL;
        }
        if (l->n >= (size_t)k->max) {
                snprintf(reason, size, "more than %" PRId64 " items", k->max);
                return -EINVAL;
        }
        if (len > FRAUD_CONFIG_STRING_BYTES_MAX) {
                snprintf(reason, size, "item %zu too long: %zu bytes, at most %d", l->n + 1, len,
                         FRAUD_CONFIG_STRING_BYTES_MAX);
                return -EINVAL;
        }
        l->items[l->n] = strndup(item, len);
        if (!l->items[l->n]) {
                snprintf(reason, size, "out of memory");
                return -ENOMEM;
        }
        l->n++;
        return 0;
}

/* Moves the built list into target, freeing the list it replaces. */
static void config_list_store(const struct fraud_config_key *k, void *target,
                              struct config_list *l) {
        char ***slot = config_field(target, k);

        config_list_free(*slot);
        *slot = l->items;
        l->items = NULL;
}

/* Items separated by commas, blanks around each trimmed; "" is the empty list. */
static int config_list_split_set(const struct fraud_config_key *k, void *target, const char *s,
                                 char *reason, size_t size) {
        struct config_list l;
        int r = config_list_begin(k, &l);

        if (r < 0) {
                snprintf(reason, size, "out of memory");
                return r;
        }
        while (*s) {
                size_t len = strcspn(s, ",");
                const char *item = s;
                size_t n = len;

                while (n && (*item == ' ' || *item == '\t'))
                        item++, n--;
                while (n && (item[n - 1] == ' ' || item[n - 1] == '\t'))
                        n--;
                r = config_list_push(k, &l, item, n, reason, size);
                if (r < 0)
                        goto free_list;
                s += len + (s[len] == ',');
        }
        config_list_store(k, target, &l);
free_list:
        config_list_free(l.items);
        return r;
}

/* ---------- one value, any layer ---------- */

/* Parses text as k's value, checks it and stores it in target.  -EINVAL with
 * the reason, or -ENOMEM. */
static int config_text_set(const struct fraud_config_key *k, void *target, const char *text,
                           enum config_text how, char *reason, size_t size) {
        char echo[CONFIG_ECHO_MAX];
        bool b;
        int r;

        if (k->type == FRAUD_CONFIG_TYPE_STRING) {
                if (how == CONFIG_TEXT_PLAIN && config_is_null(text))
                        text = "";
                r = config_string_check(k, text, reason, size);
                if (r < 0)
                        return r;
                r = config_string_store(config_field(target, k), text);
                if (r < 0)
                        snprintf(reason, size, "out of memory");
                return r;
        }
        if (k->type == FRAUD_CONFIG_TYPE_LIST) {
                if (how == CONFIG_TEXT_PLAIN && config_is_null(text))
                        text = ""; /* "key:" alone: the empty list */
                else if (how != CONFIG_TEXT_RAW) {
                        snprintf(reason, size, "expected a list of strings, like [a, b]");
                        return -EINVAL;
                }
                return config_list_split_set(k, target, text, reason, size);
        }
        r = config_scalar_kind_check(k, text, how, reason, size);
        if (r < 0)
                return r;
        if (k->type != FRAUD_CONFIG_TYPE_BOOL)
                return config_number_set(k, target, text, reason, size);
        if (config_bool_parse(text, &b) < 0) {
                snprintf(reason, size, "expected true or false, got %s",
                         config_echo(k, echo, sizeof(echo), text));
                return -EINVAL;
        }
        *(bool *)config_field(target, k) = b;
        return 0;
}

/* ---------- the table ---------- */

static size_t config_section_len(const struct fraud_config_key *k) {
        return strcspn(k->name, ".");
}

static void config_key_check(const struct fraud_config_key *k) {
        char reason[FRAUD_CONFIG_ERR_MAX];

        switch (k->type) {
        case FRAUD_CONFIG_TYPE_BOOL:
                break;
        case FRAUD_CONFIG_TYPE_INT64:
                assert(k->min <= k->def_int && k->def_int <= k->max);
                break;
        case FRAUD_CONFIG_TYPE_DOUBLE:
                assert(isfinite(k->min_double) && isfinite(k->max_double));
                assert(k->min_double <= k->def_double && k->def_double <= k->max_double);
                break;
        case FRAUD_CONFIG_TYPE_STRING:
                assert(k->def_string && k->min >= 0 && k->min <= k->max);
                assert(k->max <= FRAUD_CONFIG_STRING_BYTES_MAX);
                assert(!k->choices || strlen(k->choices) < FRAUD_CONFIG_ERR_MAX / 4);
                assert(config_string_check(k, k->def_string, reason, sizeof(reason)) == 0);
                break;
        case FRAUD_CONFIG_TYPE_LIST:
                assert(k->def_string && k->max > 0 && k->max <= FRAUD_CONFIG_LIST_ITEMS_MAX);
                break;
        default:
                assert(!"unknown key type");
        }
        (void)reason;
}

/* Programmer errors in the table: every key inside a section and named
 * "section.key", names unique and bounded, defaults within their ranges. */
static void config_table_check(const struct fraud_config_table *t) {
        size_t section = 0;

        assert(t && t->keys && t->help);
        assert(t->n_keys > 0 && t->n_keys <= FRAUD_CONFIG_KEYS_MAX);
        assert(t->keys[0].type == FRAUD_CONFIG_TYPE_SECTION);
        for (size_t i = 0; i < t->n_keys; i++) {
                const struct fraud_config_key *k = &t->keys[i];
                size_t len = config_section_len(k);

                assert(k->name && k->help && !strchr(k->name, ' '));
                if (k->type == FRAUD_CONFIG_TYPE_SECTION) {
                        assert(len > 0 && len <= FRAUD_CONFIG_NAME_MAX && !k->name[len]);
                        section = i;
                } else {
                        assert(len == strlen(t->keys[section].name));
                        assert(!strncmp(k->name, t->keys[section].name, len));
                        assert(k->name[len] == '.' && !strchr(k->name + len + 1, '.'));
                        assert(k->name[len + 1]);
                        assert(strlen(k->name + len + 1) <= FRAUD_CONFIG_NAME_MAX);
                        config_key_check(k);
                }
                (void)len;
                for (size_t j = 0; j < i; j++)
                        assert(strcmp(t->keys[j].name, k->name) != 0);
        }
        (void)section;
}

static size_t config_section_find(const struct fraud_config_table *t, const char *name) {
        for (size_t i = 0; i < t->n_keys; i++)
                if (t->keys[i].type == FRAUD_CONFIG_TYPE_SECTION && !strcmp(t->keys[i].name, name))
                        return i;
        return CONFIG_NOT_FOUND;
}

static size_t config_key_find(const struct fraud_config_table *t, size_t section,
                              const char *name) {
        size_t len = strlen(t->keys[section].name);

        for (size_t i = section + 1; i < t->n_keys; i++) {
                if (t->keys[i].type == FRAUD_CONFIG_TYPE_SECTION)
                        break;
                if (!strcmp(t->keys[i].name + len + 1, name))
                        return i;
        }
        return CONFIG_NOT_FOUND;
}

/* ---------- defaults, release, comparison ---------- */

static bool config_list_equal(char *const *x, char *const *y) {
        for (; *x && *y; x++, y++)
                if (strcmp(*x, *y) != 0)
                        return false;
        return *x == NULL && *y == NULL;
}

static bool config_key_equal(const struct fraud_config_key *k, const char *x, const char *y) {
        switch (k->type) {
        case FRAUD_CONFIG_TYPE_SECTION:
                return true;
        case FRAUD_CONFIG_TYPE_BOOL:
                return *(const bool *)x == *(const bool *)y;
        case FRAUD_CONFIG_TYPE_INT64:
                return *(const int64_t *)x == *(const int64_t *)y;
        case FRAUD_CONFIG_TYPE_DOUBLE:
                return *(const double *)x == *(const double *)y;
        case FRAUD_CONFIG_TYPE_STRING:
                return strcmp(*(char *const *)x, *(char *const *)y) == 0;
        case FRAUD_CONFIG_TYPE_LIST:
                return config_list_equal(*(char **const *)x, *(char **const *)y);
        }
        return false;
}

const char *fraud_config_diff(const struct fraud_config_table *t, const void *a, const void *b) {
        for (size_t i = 0; i < t->n_keys; i++) {
                const struct fraud_config_key *k = &t->keys[i];

                if (!config_key_equal(k, (const char *)a + k->offset, (const char *)b + k->offset))
                        return k->name;
        }
        return NULL;
}

void fraud_config_release(const struct fraud_config_table *t, void *target) {
        for (size_t i = 0; i < t->n_keys; i++) {
                const struct fraud_config_key *k = &t->keys[i];

                if (k->type == FRAUD_CONFIG_TYPE_STRING) {
                        char **slot = config_field(target, k);
                        free(*slot);
                        *slot = NULL;
                } else if (k->type == FRAUD_CONFIG_TYPE_LIST) {
                        char ***slot = config_field(target, k);
                        config_list_free(*slot);
                        *slot = NULL;
                }
        }
}

int fraud_config_init(const struct fraud_config_table *t, void *target) {
        char reason[FRAUD_CONFIG_ERR_MAX];
        int r = 0;

        config_table_check(t);
        for (size_t i = 0; i < t->n_keys; i++) {
                const struct fraud_config_key *k = &t->keys[i];

                if (k->type == FRAUD_CONFIG_TYPE_STRING)
                        *(char **)config_field(target, k) = NULL;
                else if (k->type == FRAUD_CONFIG_TYPE_LIST)
                        *(char ***)config_field(target, k) = NULL;
        }
        for (size_t i = 0; i < t->n_keys && r >= 0; i++) {
                const struct fraud_config_key *k = &t->keys[i];

                switch (k->type) {
                case FRAUD_CONFIG_TYPE_BOOL:
                        *(bool *)config_field(target, k) = k->def_bool;
                        break;
                case FRAUD_CONFIG_TYPE_INT64:
                        *(int64_t *)config_field(target, k) = k->def_int;
                        break;
                case FRAUD_CONFIG_TYPE_DOUBLE:
                        *(double *)config_field(target, k) = k->def_double;
                        break;
                case FRAUD_CONFIG_TYPE_STRING:
                case FRAUD_CONFIG_TYPE_LIST:
                        r = config_text_set(k, target, k->def_string, CONFIG_TEXT_RAW, reason,
                                            sizeof(reason));
                        assert(r == 0 || r == -ENOMEM);
                        break;
                default:
                        break;
                }
        }
        if (r < 0)
                fraud_config_release(t, target);
        return r;
}

/* ---------- environment ---------- */

int fraud_config_env_apply(const struct fraud_config_table *t, void *target, char *err,
                           size_t err_size) {
        char reason[FRAUD_CONFIG_ERR_MAX];

        for (size_t i = 0; i < t->n_keys; i++) {
                const struct fraud_config_key *k = &t->keys[i];
                const char *value = k->env ? getenv(k->env) : NULL;
                int r;

                if (!value)
                        continue;
                r = config_text_set(k, target, value, CONFIG_TEXT_RAW, reason, sizeof(reason));
                if (r < 0) {
                        if (err && err_size)
                                snprintf(err, err_size, "env %s: %s", k->env, reason);
                        return r;
                }
        }
        return 0;
}

/* ---------- the YAML walk ---------- */

struct config_parser {
        const struct fraud_config_table *t;
        void *target;
        const char *name; /* file name for messages */
        const char *text;
        size_t len;
        char *err;
        size_t err_size;
        yaml_parser_t yaml;
        yaml_event_t ev; /* the current event, valid when have_ev */
        bool have_ev;
        size_t seen_line[FRAUD_CONFIG_KEYS_MAX]; /* per row: line that set it, 0 if none */
};

static size_t config_line(const struct config_parser *p) {
        return p->ev.start_mark.line + 1;
}

/* Writes "NAME:LINE: what: reason" (without "what: " when what is NULL). */
__attribute__((format(printf, 5, 6))) static int config_fail(struct config_parser *p, size_t line,
                                                             const char *what, int code,
                                                             const char *fmt, ...) {
        char reason[FRAUD_CONFIG_ERR_MAX];
        va_list ap;

        if (!p->err || !p->err_size)
                return code;
        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        if (what)
                snprintf(p->err, p->err_size, "%s:%zu: %s: %s", p->name, line, what, reason);
        else
                snprintf(p->err, p->err_size, "%s:%zu: %s", p->name, line, reason);
        return code;
}

/* The line (1-based) of byte offset in the text. */
static size_t config_line_at(const struct config_parser *p, size_t offset) {
        size_t line = 1;

        for (size_t i = 0; i < offset && i < p->len; i++)
                line += p->text[i] == '\n';
        return line;
}

static int config_syntax_fail(struct config_parser *p) {
        const yaml_parser_t *y = &p->yaml;
        size_t line;

        if (y->error == YAML_MEMORY_ERROR)
                return config_fail(p, 1, NULL, -ENOMEM, "out of memory");
        if (y->error == YAML_READER_ERROR)
                line = config_line_at(p, y->problem_offset);
        else
                line = y->problem_mark.line + 1;
        if (y->context)
                return config_fail(p, line, NULL, -EINVAL, "syntax error: %s (%s on line %zu)",
                                   y->problem ? y->problem : "invalid YAML", y->context,
                                   y->context_mark.line + 1);
        return config_fail(p, line, NULL, -EINVAL, "syntax error: %s",
                           y->problem ? y->problem : "invalid YAML");
}

static bool config_event_decorated(const yaml_event_t *ev) {
        switch (ev->type) {
        case YAML_ALIAS_EVENT:
                return true;
        case YAML_SCALAR_EVENT:
                return ev->data.scalar.anchor || ev->data.scalar.tag;
        case YAML_SEQUENCE_START_EVENT:
                return ev->data.sequence_start.anchor || ev->data.sequence_start.tag;
        case YAML_MAPPING_START_EVENT:
                return ev->data.mapping_start.anchor || ev->data.mapping_start.tag;
        default:
                return false;
        }
}

/* Replaces the current event with the next one. */
static int config_next(struct config_parser *p) {
        if (p->have_ev)
                yaml_event_delete(&p->ev);
        p->have_ev = false;
        if (!yaml_parser_parse(&p->yaml, &p->ev))
                return config_syntax_fail(p);
        p->have_ev = true;
        if (config_event_decorated(&p->ev))
                return config_fail(p, config_line(p), NULL, -EINVAL,
                                   "anchors, aliases and tags are not supported");
        return 0;
}

static const char *config_scalar(const struct config_parser *p) {
        return (const char *)p->ev.data.scalar.value;
}

static bool config_scalar_is_plain(const struct config_parser *p) {
        return p->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* A scalar with a NUL inside cannot be a C string. */
static bool config_scalar_has_nul(const struct config_parser *p) {
        return strlen(config_scalar(p)) != p->ev.data.scalar.length;
}

static int config_list_parse(struct config_parser *p, const struct fraud_config_key *k) {
        char reason[FRAUD_CONFIG_ERR_MAX];
        struct config_list l;
        int r = config_list_begin(k, &l);

        if (r < 0)
                return config_fail(p, config_line(p), k->name, r, "out of memory");
        for (;;) {
                r = config_next(p);
                if (r < 0)
                        goto free_list;
                if (p->ev.type == YAML_SEQUENCE_END_EVENT)
                        break;
                if (p->ev.type != YAML_SCALAR_EVENT || config_scalar_has_nul(p)) {
                        r = config_fail(p, config_line(p), k->name, -EINVAL,
                                        "expected a list of strings");
                        goto free_list;
                }
                r = config_list_push(k, &l, config_scalar(p), p->ev.data.scalar.length, reason,
                                     sizeof(reason));
                if (r < 0) {
                        r = config_fail(p, config_line(p), k->name, r, "%s", reason);
                        goto free_list;
                }
        }
        config_list_store(k, p->target, &l);
free_list:
        config_list_free(l.items);
        return r;
}

/* The value of key row i; the current event is its key. */
static int config_value_parse(struct config_parser *p, size_t i) {
        const struct fraud_config_key *k = &p->t->keys[i];
        char reason[FRAUD_CONFIG_ERR_MAX];
        int r = config_next(p);

        if (r < 0)
                return r;
        if (p->ev.type == YAML_SEQUENCE_START_EVENT && k->type == FRAUD_CONFIG_TYPE_LIST)
                return config_list_parse(p, k);
        if (p->ev.type != YAML_SCALAR_EVENT)
                return config_fail(p, config_line(p), k->name, -EINVAL, "%s, got a %s",
                                   config_type_expected(k->type),
                                   p->ev.type == YAML_MAPPING_START_EVENT ? "mapping" : "list");
        if (config_scalar_has_nul(p))
                return config_fail(p, config_line(p), k->name, -EINVAL, "contains a NUL byte");
        r = config_text_set(k, p->target, config_scalar(p),
                            config_scalar_is_plain(p) ? CONFIG_TEXT_PLAIN : CONFIG_TEXT_QUOTED,
                            reason, sizeof(reason));
        if (r < 0)
                return config_fail(p, config_line(p), k->name, r, "%s", reason);
        return 0;
}

/* The keys of section row s; the current event is the section's MAPPING_START. */
static int config_keys_parse(struct config_parser *p, size_t s) {
        const char *section = p->t->keys[s].name;
        char echo[CONFIG_ECHO_MAX], what[FRAUD_CONFIG_NAME_MAX + CONFIG_ECHO_MAX];
        size_t i;
        int r;

        for (;;) {
                r = config_next(p);
                if (r < 0 || p->ev.type == YAML_MAPPING_END_EVENT)
                        return r;
                if (p->ev.type != YAML_SCALAR_EVENT)
                        return config_fail(p, config_line(p), section, -EINVAL,
                                           "expected a key name");
                i = config_key_find(p->t, s, config_scalar(p));
                if (i == CONFIG_NOT_FOUND) {
                        config_echo(NULL, echo, sizeof(echo), config_scalar(p));
                        /* the name without its quotes */
                        echo[strlen(echo) - 1] = '\0';
                        snprintf(what, sizeof(what), "%s.%s", section, echo + 1);
                        return config_fail(p, config_line(p), what, -EINVAL, "unknown key");
                }
                if (p->seen_line[i])
                        return config_fail(p, config_line(p), p->t->keys[i].name, -EINVAL,
                                           "duplicate key (first set on line %zu)",
                                           p->seen_line[i]);
                p->seen_line[i] = config_line(p);
                r = config_value_parse(p, i);
                if (r < 0)
                        return r;
        }
}

/* The sections; the current event is the document's MAPPING_START. */
static int config_sections_parse(struct config_parser *p) {
        char echo[CONFIG_ECHO_MAX];
        size_t s;
        int r;

        for (;;) {
                r = config_next(p);
                if (r < 0 || p->ev.type == YAML_MAPPING_END_EVENT)
                        return r;
                if (p->ev.type != YAML_SCALAR_EVENT)
                        return config_fail(p, config_line(p), NULL, -EINVAL,
                                           "expected a section name");
                s = config_section_find(p->t, config_scalar(p));
                if (s == CONFIG_NOT_FOUND) {
                        config_echo(NULL, echo, sizeof(echo), config_scalar(p));
                        echo[strlen(echo) - 1] = '\0';
                        return config_fail(p, config_line(p), echo + 1, -EINVAL, "unknown section");
                }
                if (p->seen_line[s])
                        return config_fail(p, config_line(p), p->t->keys[s].name, -EINVAL,
                                           "duplicate section (first on line %zu)",
                                           p->seen_line[s]);
                p->seen_line[s] = config_line(p);
                r = config_next(p);
                if (r < 0)
                        return r;
                if (p->ev.type == YAML_SCALAR_EVENT && config_scalar_is_plain(p) &&
                    config_is_null(config_scalar(p)))
                        continue; /* "section:" alone: nothing to set */
                if (p->ev.type != YAML_MAPPING_START_EVENT)
                        return config_fail(p, config_line(p), p->t->keys[s].name, -EINVAL,
                                           "expected a mapping of keys");
                r = config_keys_parse(p, s);
                if (r < 0)
                        return r;
        }
}

/* stream → at most one document → a mapping of sections (or nothing). */
static int config_stream_parse(struct config_parser *p) {
        int r = config_next(p); /* STREAM_START */

        if (r < 0 || (r = config_next(p)) < 0 || p->ev.type == YAML_STREAM_END_EVENT)
                return r;
        r = config_next(p); /* DOCUMENT_START was current: now its content */
        if (r < 0)
                return r;
        if (p->ev.type == YAML_MAPPING_START_EVENT)
                r = config_sections_parse(p);
        else if (p->ev.type != YAML_SCALAR_EVENT || !config_scalar_is_plain(p) ||
                 !config_is_null(config_scalar(p)))
                r = config_fail(p, config_line(p), NULL, -EINVAL, "expected a mapping of sections");
        if (r < 0 || (r = config_next(p)) < 0) /* DOCUMENT_END */
                return r;
        r = config_next(p);
        if (r < 0 || p->ev.type == YAML_STREAM_END_EVENT)
                return r;
        return config_fail(p, config_line(p), NULL, -EINVAL, "only one document is allowed");
}

int fraud_config_buffer_apply(const struct fraud_config_table *t, void *target, const char *name,
                              const char *text, size_t len, char *err, size_t err_size) {
        struct config_parser *p;
        int r;

        assert(t->n_keys <= FRAUD_CONFIG_KEYS_MAX);
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        *p = (struct config_parser){.t = t,
                                    .target = target,
                                    .name = name,
                                    .text = text,
                                    .len = len,
                                    .err = err,
                                    .err_size = err_size};
        if (!yaml_parser_initialize(&p->yaml)) {
                free(p);
                return -ENOMEM;
        }
        yaml_parser_set_input_string(&p->yaml, (const unsigned char *)text, len);
        r = config_stream_parse(p);
        if (p->have_ev)
                yaml_event_delete(&p->ev);
        yaml_parser_delete(&p->yaml);
        free(p);
        return r;
}

/* ---------- files ---------- */

static int config_file_read(const char *path, char **text, size_t *len, char *err,
                            size_t err_size) {
        char *buf = NULL;
        size_t n;
        FILE *f;
        int r;

        f = fopen(path, "re");
        if (!f) {
                r = errno ? -errno : -EIO;
                goto fail;
        }
        buf = malloc((size_t)FRAUD_CONFIG_FILE_BYTES_MAX + 1);
        if (!buf) {
                r = -ENOMEM;
                goto close_file;
        }
        errno = 0;
        n = fread(buf, 1, (size_t)FRAUD_CONFIG_FILE_BYTES_MAX + 1, f);
        if (ferror(f)) {
                r = errno ? -errno : -EIO;
                goto free_buf;
        }
        if (n > FRAUD_CONFIG_FILE_BYTES_MAX) {
                r = -EFBIG;
                goto free_buf;
        }
        fclose(f);
        *text = buf;
        *len = n;
        return 0;
free_buf:
        free(buf);
close_file:
        fclose(f);
fail:
        if (err && err_size) {
                if (r == -EFBIG)
                        snprintf(err, err_size, "%s: larger than %d bytes", path,
                                 FRAUD_CONFIG_FILE_BYTES_MAX);
                else
                        snprintf(err, err_size, "%s: %s", path, strerror(-r));
        }
        return r;
}

int fraud_config_file_apply(const struct fraud_config_table *t, void *target, const char *path,
                            char *err, size_t err_size) {
        char *text = NULL;
        size_t len = 0;
        int r = config_file_read(path, &text, &len, err, err_size);

        if (r < 0)
                return r;
        r = fraud_config_buffer_apply(t, target, path, text, len, err, err_size);
        free(text);
        return r;
}

int fraud_config_load(const struct fraud_config_table *t, void *target, const char *path, char *err,
                      size_t err_size) {
        int r = fraud_config_init(t, target);

        if (r < 0) {
                if (err && err_size)
                        snprintf(err, err_size, "out of memory");
                return r;
        }
        if (path)
                r = fraud_config_file_apply(t, target, path, err, err_size);
        if (r >= 0)
                r = fraud_config_env_apply(t, target, err, err_size);
        if (r < 0)
                fraud_config_release(t, target);
        return r;
}

/* ---------- dump ---------- */

/* One paragraph per '\n'-separated line of text, wrapped, each line "indent# ". */
static void config_comment_write(FILE *out, const char *indent, const char *text) {
        while (*text) {
                size_t para = strcspn(text, "\n");
                size_t col = 0;

                fprintf(out, "%s#", indent);
                for (size_t i = 0; i < para;) {
                        size_t word;

                        while (i < para && text[i] == ' ')
                                i++;
                        word = strcspn(text + i, " \n");
                        if (word > para - i)
                                word = para - i;
                        if (!word)
                                break;
                        if (col && strlen(indent) + 2 + col + 1 + word > CONFIG_COMMENT_WIDTH) {
                                fprintf(out, "\n%s#", indent);
                                col = 0;
                        }
                        fprintf(out, " %.*s", (int)word, text + i);
                        col += word + 1;
                        i += word;
                }
                fputc('\n', out);
                text += para + (text[para] == '\n');
        }
}

/* Range, choices, environment variable and secrecy, as one comment sentence. */
static void config_notes_format(const struct fraud_config_key *k, char *buf, size_t size) {
        char choices[FRAUD_CONFIG_ERR_MAX / 2];
        size_t n = 0;

        buf[0] = '\0';
        if (k->type == FRAUD_CONFIG_TYPE_INT64)
                n += (size_t)snprintf(buf + n, size - n, "Range: %" PRId64 "..%" PRId64 ".", k->min,
                                      k->max);
        else if (k->type == FRAUD_CONFIG_TYPE_DOUBLE)
                n += (size_t)snprintf(buf + n, size - n, "Range: %g..%g.", k->min_double,
                                      k->max_double);
        else if (k->type == FRAUD_CONFIG_TYPE_LIST)
                n += (size_t)snprintf(buf + n, size - n, "At most %" PRId64 " items.", k->max);
        else if (k->type == FRAUD_CONFIG_TYPE_STRING && k->choices) {
                config_choices_format(choices, sizeof(choices), k->choices);
                n += (size_t)snprintf(buf + n, size - n, "One of: %s.", choices);
        }
        if (k->env && n < size)
                n += (size_t)snprintf(buf + n, size - n, "%sEnvironment: %s overrides it.",
                                      n ? " " : "", k->env);
        if ((k->flags & FRAUD_CONFIG_SECRET) && n < size)
                snprintf(buf + n, size - n, "%sSecret: never printed.", n ? " " : "");
}

/* s as a YAML double-quoted scalar. */
static void config_string_write(FILE *out, const char *s) {
        fputc('"', out);
        for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
                if (*c == '"' || *c == '\\')
                        fprintf(out, "\\%c", *c);
                else if (*c < 0x20 || *c == 0x7f)
                        fprintf(out, "\\x%02x", *c);
                else
                        fputc(*c, out);
        }
        fputc('"', out);
}

/* The shortest %g text that reads back to v. */
static void config_double_write(FILE *out, double v) {
        char buf[32];

        for (int precision = 1; precision <= 17; precision++) {
                snprintf(buf, sizeof(buf), "%.*g", precision, v);
                if (strtod(buf, NULL) == v)
                        break;
        }
        fputs(buf, out);
}

static void config_value_write(FILE *out, const struct fraud_config_key *k, const void *target) {
        const void *field = config_field_const(target, k);
        bool secret = k->flags & FRAUD_CONFIG_SECRET;

        switch (k->type) {
        case FRAUD_CONFIG_TYPE_BOOL:
                fputs(*(const bool *)field ? "true" : "false", out);
                break;
        case FRAUD_CONFIG_TYPE_INT64:
                fprintf(out, "%" PRId64, *(const int64_t *)field);
                break;
        case FRAUD_CONFIG_TYPE_DOUBLE:
                config_double_write(out, *(const double *)field);
                break;
        case FRAUD_CONFIG_TYPE_STRING: {
                const char *s = *(char *const *)field;
                config_string_write(out, secret || !s ? "" : s);
                break;
        }
        case FRAUD_CONFIG_TYPE_LIST: {
                char *const *items = *(char **const *)field;
                fputc('[', out);
                for (size_t i = 0; !secret && items && items[i]; i++) {
                        fputs(i ? ", " : "", out);
                        config_string_write(out, items[i]);
                }
                fputc(']', out);
                break;
        }
        default:
                break;
        }
}

int fraud_config_dump(const struct fraud_config_table *t, const void *target, FILE *out) {
        char notes[FRAUD_CONFIG_ERR_MAX];
        bool first = true;

        config_comment_write(out, "", t->help);
        for (size_t i = 0; i < t->n_keys; i++) {
                const struct fraud_config_key *k = &t->keys[i];

                if (k->type == FRAUD_CONFIG_TYPE_SECTION) {
                        fputc('\n', out);
                        config_comment_write(out, "", k->help);
                        fprintf(out, "%s:\n", k->name);
                        first = true;
                        continue;
                }
                if (!first)
                        fputc('\n', out);
                first = false;
                config_comment_write(out, "  ", k->help);
                config_notes_format(k, notes, sizeof(notes));
                config_comment_write(out, "  ", notes);
                fprintf(out, "  %s: ", k->name + config_section_len(k) + 1);
                config_value_write(out, k, target);
                fputc('\n', out);
        }
        if (fflush(out) != 0 || ferror(out))
                return -EIO;
        return 0;
}

/* rules.c: see rules.h.
 *
 * The file is loaded into a libyaml document (node tree with line marks),
 * then walked once.  Lists become sorted arrays of owned strings searched
 * by bisection; rules keep their compiled expression.  Every failure frees
 * what was built and leaves the caller's previous rules untouched.
 */
#include "scorer/rules.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define LIMIT_TEXT_MAX (FRAUD_SCORER_RULE_NAME_MAX * 4 + 128) /* "F > max or F < min" */

struct rules_list {
        char **items; /* sorted, owned */
        size_t n;
};

struct rules_rule {
        char name[FRAUD_SCORER_RULE_NAME_MAX];
        enum rules_action action;
        struct expr expr;
};

struct rules {
        char version[FRAUD_SCORER_RULES_VERSION_MAX];
        struct rules_list deny[RULES_KEY_COUNT], allow[RULES_KEY_COUNT];
        struct rules_rule *rules;
        size_t n_rules;
        size_t n_items;
};

static const char *const key_names[RULES_KEY_COUNT] = {"card_hash", "device", "ip", "bin",
                                                       "merchant"};
static const char *const deny_codes[RULES_KEY_COUNT] = {"deny.card_hash", "deny.device", "deny.ip",
                                                        "deny.bin", "deny.merchant"};
static const char *const allow_codes[RULES_KEY_COUNT] = {"allow.card_hash", "allow.device",
                                                         "allow.ip", "allow.bin", "allow.merchant"};
static const char *const action_names[] = {"continue", "allow", "review", "block"};

/* The walk over one document. */
struct loader {
        const char *name;
        yaml_document_t *doc;
        const struct expr_schema *schema;
        struct rules *r;
        char *err;
        size_t err_size;
};

const char *rules_action_name(enum rules_action a) {
        return (unsigned)a < 4 ? action_names[a] : "?";
}

__attribute__((format(printf, 5, 6))) static int
fail(struct loader *l, const yaml_node_t *at, int error, const char *where, const char *fmt, ...) {
        va_list ap;
        int n = snprintf(l->err, l->err_size, "%s:%zu: %s: ", l->name,
                         at ? at->start_mark.line + 1 : (size_t)1, where);

        if (n >= 0 && (size_t)n < l->err_size) {
                va_start(ap, fmt);
                vsnprintf(l->err + n, l->err_size - (size_t)n, fmt, ap);
                va_end(ap);
        }
        return error;
}

static bool is_scalar(const yaml_node_t *n, const char *s) {
        return n->type == YAML_SCALAR_NODE && n->data.scalar.length == strlen(s) &&
               memcmp(n->data.scalar.value, s, n->data.scalar.length) == 0;
}

static const char *scalar(const yaml_node_t *n) {
        return (const char *)n->data.scalar.value;
}

/* Copies a scalar of 1..cap-1 bytes without NULs into buf. */
static int scalar_copy(struct loader *l, const yaml_node_t *n, const char *where, char *buf,
                       size_t cap) {
        if (n->type != YAML_SCALAR_NODE)
                return fail(l, n, -EINVAL, where, "expected a string");
        if (n->data.scalar.length == 0 || n->data.scalar.length >= cap ||
            strlen(scalar(n)) != n->data.scalar.length)
                return fail(l, n, -EINVAL, where, "expected 1 to %zu bytes", cap - 1);
        memcpy(buf, n->data.scalar.value, n->data.scalar.length + 1);
        return 0;
}

static int number_parse(struct loader *l, const yaml_node_t *n, const char *where, double *out) {
        char *end;

        if (n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0)
                return fail(l, n, -EINVAL, where, "expected a number");
        *out = strtod(scalar(n), &end);
        if (*end != '\0' || !isfinite(*out))
                return fail(l, n, -EINVAL, where, "'%s' is not a finite number", scalar(n));
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_load(struct loader *l, const yaml_node_t *seq, const char *where,
                     struct rules_list *list) {
        char item[FRAUD_SCORER_LIST_ITEM_MAX];
        size_t n;

        if (seq->type != YAML_SEQUENCE_NODE)
                return fail(l, seq, -EINVAL, where, "expected a list");
        n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
        if (list->n > 0)
                return fail(l, seq, -EINVAL, where, "given twice");
        if (l->r->n_items + n > FRAUD_SCORER_LIST_ITEMS_MAX)
                return fail(l, seq, -E2BIG, where, "more than %d list items in the file",
                            FRAUD_SCORER_LIST_ITEMS_MAX);
        list->items = calloc(n ? n : 1, sizeof(list->items[0]));
        if (!list->items)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                yaml_node_t *it = yaml_document_get_node(l->doc, seq->data.sequence.items.start[i]);
                int r = scalar_copy(l, it, where, item, sizeof(item));
                if (r < 0)
                        return r;
                list->items[list->n] = strdup(item);
                if (!list->items[list->n])
                        return -ENOMEM;
                list->n++;
        }
        l->r->n_items += n;
        qsort(list->items, list->n, sizeof(list->items[0]), cmp_str);
        return 0;
}

static int lists_load(struct loader *l, const yaml_node_t *map, const char *section,
                      struct rules_list *lists) {
        char where[64];

        if (map->type != YAML_MAPPING_NODE)
                return fail(l, map, -EINVAL, section, "expected a mapping of lists");
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
                yaml_node_t *v = yaml_document_get_node(l->doc, p->value);
                int key = -1, r;

                for (int i = 0; i < RULES_KEY_COUNT; i++)
                        if (is_scalar(k, key_names[i]))
                                key = i;
                if (key < 0)
                        return fail(l, k, -EINVAL, section,
                                    "unknown list (card_hash, device, ip, bin, merchant)");
                snprintf(where, sizeof(where), "%s.%s", section, key_names[key]);
                r = list_load(l, v, where, &lists[key]);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The parts of one rule mapping, before compilation. */
struct rule_parts {
        const yaml_node_t *name, *action, *when, *feature, *min, *max;
};

static int rule_parts_read(struct loader *l, const yaml_node_t *map, const char *where,
                           struct rule_parts *parts) {
        static const char *const keys[] = {"name", "action", "when", "feature", "min", "max"};
        const yaml_node_t **slots[] = {&parts->name,    &parts->action, &parts->when,
                                       &parts->feature, &parts->min,    &parts->max};

        if (map->type != YAML_MAPPING_NODE)
                return fail(l, map, -EINVAL, where, "expected a mapping");
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
                size_t i = 0;

                while (i < 6 && !is_scalar(k, keys[i]))
                        i++;
                if (i == 6)
                        return fail(l, k, -EINVAL, where, "unknown key '%s'",
                                    k->type == YAML_SCALAR_NODE ? scalar(k) : "?");
                if (*slots[i])
                        return fail(l, k, -EINVAL, where, "%s given twice", keys[i]);
                *slots[i] = yaml_document_get_node(l->doc, p->value);
        }
        if (!parts->name || !parts->action)
                return fail(l, map, -EINVAL, where, "name and action are required");
        if (!parts->when == !parts->feature)
                return fail(l, map, -EINVAL, where, "exactly one of when and feature is required");
        if (parts->when && (parts->min || parts->max))
                return fail(l, map, -EINVAL, where, "min and max go with feature, not when");
        if (parts->feature && !parts->min && !parts->max)
                return fail(l, map, -EINVAL, where, "a feature limit needs min or max");
        return 0;
}

/* The expression text of a limit: "F > max or F < min". */
static int limit_text(struct loader *l, const struct rule_parts *parts, const char *where,
                      char *buf, size_t cap) {
        char feature[FRAUD_SCORER_RULE_NAME_MAX * 2];
        double lo = 0, hi = 0;
        int r = scalar_copy(l, parts->feature, where, feature, sizeof(feature));

        if (r >= 0 && parts->min)
                r = number_parse(l, parts->min, where, &lo);
        if (r >= 0 && parts->max)
                r = number_parse(l, parts->max, where, &hi);
        if (r < 0)
                return r;
        if (parts->min && parts->max && lo > hi)
                return fail(l, parts->min, -EINVAL, where, "min above max");
        if (parts->min && parts->max)
                snprintf(buf, cap, "%s > %.17g or %s < %.17g", feature, hi, feature, lo);
        else if (parts->max)
                snprintf(buf, cap, "%s > %.17g", feature, hi);
        else
                snprintf(buf, cap, "%s < %.17g", feature, lo);
        return 0;
}

static int rule_load(struct loader *l, const yaml_node_t *map, size_t index) {
        struct rules_rule *rule = &l->r->rules[index];
        struct rule_parts parts = {0};
        char where[48], text[LIMIT_TEXT_MAX], reason[256];
        const yaml_node_t *expr_node;
        int r, action = -1;

        snprintf(where, sizeof(where), "rules[%zu]", index);
        r = rule_parts_read(l, map, where, &parts);
        if (r >= 0)
                r = scalar_copy(l, parts.name, where, rule->name, sizeof(rule->name));
        if (r < 0)
                return r;
        for (size_t i = 0; i < l->r->n_rules; i++)
                if (strcmp(l->r->rules[i].name, rule->name) == 0)
                        return fail(l, parts.name, -EINVAL, where, "rule name '%s' used twice",
                                    rule->name);
        for (int i = 0; i < 4; i++)
                if (is_scalar(parts.action, action_names[i]))
                        action = i;
        if (action < 0)
                return fail(l, parts.action, -EINVAL, where,
                            "action must be allow, review, block or continue");
        rule->action = (enum rules_action)action;
        expr_node = parts.when ? parts.when : parts.feature;
        if (parts.when) {
                if (parts.when->type != YAML_SCALAR_NODE)
                        return fail(l, parts.when, -EINVAL, where, "when: expected a string");
                r = expr_compile(&rule->expr, scalar(parts.when), l->schema, reason,
                                 sizeof(reason));
        } else {
                r = limit_text(l, &parts, where, text, sizeof(text));
                if (r < 0)
                        return r;
                r = expr_compile(&rule->expr, text, l->schema, reason, sizeof(reason));
        }
        if (r < 0)
                return fail(l, expr_node, r, where, "%s: %s", parts.when ? "when" : "feature",
                            reason);
        l->r->n_rules++;
        return 0;
}

static int rules_section_load(struct loader *l, const yaml_node_t *seq) {
        size_t n;

        if (seq->type != YAML_SEQUENCE_NODE)
                return fail(l, seq, -EINVAL, "rules", "expected a list of rules");
        n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
        if (n > FRAUD_SCORER_RULES_MAX)
                return fail(l, seq, -E2BIG, "rules", "more than %d rules", FRAUD_SCORER_RULES_MAX);
        if (l->r->rules)
                return fail(l, seq, -EINVAL, "rules", "given twice");
        l->r->rules = calloc(n ? n : 1, sizeof(l->r->rules[0]));
        if (!l->r->rules)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int r = rule_load(
                        l, yaml_document_get_node(l->doc, seq->data.sequence.items.start[i]), i);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int top_load(struct loader *l, const yaml_node_t *root) {
        bool have_version = false;

        if (!root || root->type != YAML_MAPPING_NODE)
                return fail(l, root, -EINVAL, "file", "expected a mapping with version and rules");
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
                yaml_node_t *v = yaml_document_get_node(l->doc, p->value);
                int r;

                if (is_scalar(k, "version")) {
                        r = scalar_copy(l, v, "version", l->r->version, sizeof(l->r->version));
                        have_version = true;
                } else if (is_scalar(k, "deny")) {
                        r = lists_load(l, v, "deny", l->r->deny);
                } else if (is_scalar(k, "allow")) {
                        r = lists_load(l, v, "allow", l->r->allow);
                } else if (is_scalar(k, "rules")) {
                        r = rules_section_load(l, v);
                } else {
                        r = fail(l, k, -EINVAL, "file", "unknown key '%s'",
                                 k->type == YAML_SCALAR_NODE ? scalar(k) : "?");
                }
                if (r < 0)
                        return r;
        }
        if (!have_version)
                return fail(l, root, -EINVAL, "version", "required");
        return 0;
}

static int document_load(struct loader *l, const char *text, size_t len) {
        yaml_parser_t parser;
        int r;

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        if (!yaml_parser_load(&parser, l->doc)) {
                snprintf(l->err, l->err_size, "%s:%zu: file: %s", l->name,
                         parser.problem_mark.line + 1,
                         parser.problem ? parser.problem : "YAML syntax error");
                yaml_parser_delete(&parser);
                return -EINVAL;
        }
        r = top_load(l, yaml_document_get_root_node(l->doc));
        yaml_document_delete(l->doc);
        yaml_parser_delete(&parser);
        return r;
}

int rules_parse(const char *name, const char *text, size_t len, const struct expr_schema *schema,
                struct rules **out, char *err, size_t err_size) {
        yaml_document_t doc;
        struct loader l = {
                .name = name, .doc = &doc, .schema = schema, .err = err, .err_size = err_size};
        int r;

        *out = NULL;
        if (len > FRAUD_SCORER_RULES_FILE_BYTES_MAX) {
                snprintf(err, err_size, "%s: larger than %d bytes", name,
                         FRAUD_SCORER_RULES_FILE_BYTES_MAX);
                return -E2BIG;
        }
        l.r = calloc(1, sizeof(*l.r));
        if (!l.r)
                return -ENOMEM;
        r = document_load(&l, text, len);
        if (r < 0) {
                if (r == -ENOMEM)
                        snprintf(err, err_size, "%s: out of memory", name);
                rules_free(l.r);
                return r;
        }
        *out = l.r;
        return 0;
}

static void list_release(struct rules_list *list) {
        for (size_t i = 0; i < list->n; i++)
                free(list->items[i]);
        free(list->items);
}

void rules_free(struct rules *r) {
        if (!r)
                return;
        for (int i = 0; i < RULES_KEY_COUNT; i++) {
                list_release(&r->deny[i]);
                list_release(&r->allow[i]);
        }
        for (size_t i = 0; i < r->n_rules; i++)
                expr_release(&r->rules[i].expr);
        free(r->rules);
        free(r);
}

const char *rules_version(const struct rules *r) {
        return r->version;
}

size_t rules_count(const struct rules *r) {
        return r->n_rules;
}

size_t rules_list_items(const struct rules *r) {
        return r->n_items;
}

static bool list_has(const struct rules_list *list, const char *key) {
        if (!key || !*key || list->n == 0)
                return false;
        return bsearch(&key, list->items, list->n, sizeof(list->items[0]), cmp_str) != NULL;
}

void rules_evaluate(const struct rules *r, const struct rules_tx *tx, struct rules_result *out) {
        *out = (struct rules_result){.action = RULES_CONTINUE};
        for (int k = 0; k < RULES_KEY_COUNT; k++) {
                if (list_has(&r->deny[k], tx->keys[k])) {
                        *out = (struct rules_result){RULES_BLOCK, deny_codes[k], false};
                        return;
                }
        }
        for (int k = 0; k < RULES_KEY_COUNT; k++) {
                if (list_has(&r->allow[k], tx->keys[k])) {
                        *out = (struct rules_result){RULES_ALLOW, allow_codes[k], false};
                        return;
                }
        }
        for (size_t i = 0; i < r->n_rules; i++) {
                const struct rules_rule *rule = &r->rules[i];
                if (rule->expr.uses_features && tx->env.n_features == 0)
                        out->features_missing = true;
                if (expr_true(&rule->expr, &tx->env)) {
                        out->action = rule->action;
                        out->reason = rule->name;
                        return;
                }
        }
}

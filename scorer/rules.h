/* rules.h: the scorer's first stage, rules from a YAML file.
 *
 *   version: "2026-11-23.1"      # required; copied into every Score
 *   deny:                         # lists checked first: a match blocks
 *     card_hash: [...]            # card_hash, device, ip, bin, merchant
 *   allow:                        # lists checked second: a match allows
 *     merchant: [...]
 *   rules:                        # then in file order; the first that fires decides
 *     - name: card_burst          # the reason code; unique in the file
 *       when: "card_tx_count_1h > 10 and tx.amount > 20000"
 *       action: block             # allow, review, block or continue
 *     - name: card_amount_24h
 *       feature: card_amount_24h  # a limit: fires when the value is
 *       max: 500000               #   above max or below min
 *       action: review
 *
 * Order: deny lists before allow lists, so a known-bad device or IP
 * blocks even an allow-listed card (the account-takeover case); a deny
 * list hit has reason code "deny.<list>", an allow list hit "allow.<list>".
 * Then the rules in file order: the first rule that fires decides, and an
 * action of continue decides to send the transaction on to the models,
 * with the rule's name kept as a reason.  Nothing firing means continue
 * without a reason.  Expressions and limits are compiled once, at load,
 * against a feature schema (scorer/expr.h); a name outside it is a load
 * error.  A limit is the expression "F > max or F < min".
 *
 * Errors name the place: "FILE:LINE: rules[2].when: column 7: unknown
 * feature 'x'".  Parsing is pure (the text comes from the caller) and
 * evaluation allocates nothing.
 */
#ifndef FRAUD_SCORER_RULES_H
#define FRAUD_SCORER_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/bounds.h"
#include "scorer/expr.h"

enum rules_action {
        RULES_CONTINUE = 0, /* on to the models */
        RULES_ALLOW,
        RULES_REVIEW,
        RULES_BLOCK,
};

/* The transaction keys the lists match against. */
enum rules_key {
        RULES_KEY_CARD_HASH,
        RULES_KEY_DEVICE,
        RULES_KEY_IP,
        RULES_KEY_BIN,
        RULES_KEY_MERCHANT,
        RULES_KEY_COUNT,
};

/* One transaction as the rules see it.  Borrowed for the call. */
struct rules_tx {
        const char *keys[RULES_KEY_COUNT]; /* "" or NULL when absent: never matches */
        struct expr_env env;               /* features (maybe none) and tx fields */
};

struct rules_result {
        enum rules_action action;
        const char *reason; /* rule name or list code, borrowed from the rules; NULL: none */
        /* A rule over features met a vector without them (unknown values). */
        bool features_missing;
};

struct rules;

/* Parses text (len bytes) named name in messages into *out (owned by the
 * caller, rules_free()).  -EINVAL with "NAME:LINE: where: reason" in err,
 * -E2BIG past a limit, -ENOMEM. */
int rules_parse(const char *name, const char *text, size_t len, const struct expr_schema *schema,
                struct rules **out, char *err, size_t err_size);

/* rules_free(NULL) is a no-op. */
void rules_free(struct rules *r);

const char *rules_version(const struct rules *r);
size_t rules_count(const struct rules *r); /* rules, lists not counted */
size_t rules_list_items(const struct rules *r);

void rules_evaluate(const struct rules *r, const struct rules_tx *tx, struct rules_result *out);

const char *rules_action_name(enum rules_action a);

#endif

/* expr.h: the boolean expressions of scorer rules, compiled once to a
 * small stack bytecode over feature indices.
 *
 * Grammar (lowest precedence first; keywords are lower case):
 *
 *   expr    := and ("or" and)*
 *   and     := not ("and" not)*
 *   not     := "not" not | cmp
 *   cmp     := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
 *   sum     := product (("+" | "-") product)*
 *   product := unary (("*" | "/") unary)*
 *   unary   := "-" unary | primary
 *   primary := NUMBER | NAME | "true" | "false" | "(" expr ")"
 *
 * A NAME is a feature of the schema given at compile time, or a field of
 * the transaction: tx.amount (minor units), tx.mcc, tx.channel (the
 * Channel enum's number), tx.hour (0-23 UTC, event time), tx.weekday
 * (1 = Monday .. 7).  An unknown name is a compile error, with the column.
 * Comparisons do not chain (a < b < c is an error).
 *
 * Values are doubles; true is 1 and false 0, and any non-zero value is
 * true.  Unknown values follow SQL's three-valued logic: a division by
 * zero, a missing feature (NaN in the vector, or an index the vector does
 * not have) is unknown (NaN); arithmetic and comparisons with an unknown
 * are unknown; "not unknown" is unknown; "false and unknown" is false,
 * "true or unknown" is true, otherwise and/or with an unknown is unknown.
 * A rule fires only when its expression is true (expr_true()), so a rule
 * that divides by zero does not fire unless the rest of it decides alone.
 *
 * Limits: FRAUD_SCORER_EXPR_BYTES_MAX bytes of text, EXPR_OPS_MAX
 * operations, EXPR_DEPTH_MAX nesting, EXPR_STACK_MAX evaluation stack.
 * Evaluation is pure and allocation-free.
 */
#ifndef FRAUD_SCORER_EXPR_H
#define FRAUD_SCORER_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/bounds.h"

/* The transaction fields an expression may read, as tx.NAME. */
enum expr_tx_field {
        EXPR_TX_AMOUNT,
        EXPR_TX_MCC,
        EXPR_TX_CHANNEL,
        EXPR_TX_HOUR,
        EXPR_TX_WEEKDAY,
        EXPR_TX_COUNT,
};

enum expr_opcode {
        EXPR_OP_CONST,   /* push value */
        EXPR_OP_FEATURE, /* push features[index] */
        EXPR_OP_TX,      /* push tx[index] */
        EXPR_OP_NEG,
        EXPR_OP_NOT,
        EXPR_OP_ADD,
        EXPR_OP_SUB,
        EXPR_OP_MUL,
        EXPR_OP_DIV,
        EXPR_OP_LT,
        EXPR_OP_LE,
        EXPR_OP_GT,
        EXPR_OP_GE,
        EXPR_OP_EQ,
        EXPR_OP_NE,
        EXPR_OP_AND,
        EXPR_OP_OR,
};

struct expr_op {
        uint32_t code; /* enum expr_opcode */
        uint32_t index;
        double value;
};

/* A compiled expression; owns ops. */
struct expr {
        struct expr_op *ops;
        size_t n_ops;
        bool uses_features; /* reads at least one feature */
};

/* What names mean at compile time.  Borrowed for the call. */
struct expr_schema {
        const char *const *features;
        size_t n_features;
};

/* What an evaluation reads.  Borrowed for the call; features may be
 * shorter than the schema (missing indices are unknown). */
struct expr_env {
        const double *features;
        size_t n_features;
        double tx[EXPR_TX_COUNT];
};

/* Maps "amount" (the part after "tx.") to its field; -1 if none. */
int expr_tx_field_parse(const char *name, size_t len);

/* Compiles text (NUL-terminated) into *e, taken as uninitialised.  On
 * failure returns -EINVAL (-E2BIG past a limit, -ENOMEM) with
 * "column N: reason" in err, and *e holds nothing to release. */
int expr_compile(struct expr *e, const char *text, const struct expr_schema *schema, char *err,
                 size_t err_size);

void expr_release(struct expr *e);

/* The value of e; NaN when unknown. */
double expr_eval(const struct expr *e, const struct expr_env *env);

/* Whether e evaluates to true (known and non-zero). */
bool expr_true(const struct expr *e, const struct expr_env *env);

#endif

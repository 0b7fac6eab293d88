/* expr.c: see expr.h.
 *
 * Compilation is a recursive-descent parser that emits postfix operations
 * into a bounded array while it tracks the stack depth the code will need,
 * so evaluation is a plain loop over a fixed stack with no checks left to
 * make.  The lexer reads one token ahead; every error names the column
 * (1-based) where the offending token starts.
 */
#include "scorer/expr.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUMBER_CHARS_MAX 64 /* characters of one numeric literal */

enum tok {
        TOK_END,
        TOK_NUMBER,
        TOK_NAME,
        TOK_LPAREN,
        TOK_RPAREN,
        TOK_PLUS,
        TOK_MINUS,
        TOK_STAR,
        TOK_SLASH,
        TOK_LT,
        TOK_LE,
        TOK_GT,
        TOK_GE,
        TOK_EQ,
        TOK_NE,
        TOK_BAD,
};

struct parser {
        const char *text;
        size_t pos;       /* next unread character */
        enum tok tok;     /* current token */
        size_t tok_start; /* its offset */
        size_t tok_len;
        double number;
        const struct expr_schema *schema;
        struct expr_op ops[FRAUD_SCORER_EXPR_OPS_MAX];
        size_t n_ops;
        int depth, depth_max; /* stack the emitted code needs */
        int nesting;
        bool uses_features;
        int error; /* first error, 0 if none */
        char *err;
        size_t err_size;
};

static const char *const tx_fields[EXPR_TX_COUNT] = {"amount", "mcc", "channel", "hour", "weekday"};

int expr_tx_field_parse(const char *name, size_t len) {
        for (int i = 0; i < EXPR_TX_COUNT; i++)
                if (strlen(tx_fields[i]) == len && memcmp(tx_fields[i], name, len) == 0)
                        return i;
        return -1;
}

__attribute__((format(printf, 3, 4))) static void fail(struct parser *p, int error, const char *fmt,
                                                       ...) {
        va_list ap;
        int n;

        if (p->error)
                return;
        p->error = error;
        n = snprintf(p->err, p->err_size, "column %zu: ", p->tok_start + 1);
        if (n < 0 || (size_t)n >= p->err_size)
                return;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->err_size - (size_t)n, fmt, ap);
        va_end(ap);
}

static bool is_name_char(int c) {
        return isalnum(c) || c == '_' || c == '.';
}

static void lex_number(struct parser *p) {
        const char *s = p->text + p->pos;
        char buf[NUMBER_CHARS_MAX + 1];
        size_t n = 0;
        char *end;

        while (isdigit((unsigned char)s[n]))
                n++;
        if (s[n] == '.')
                for (n++; isdigit((unsigned char)s[n]);)
                        n++;
        if ((s[n] == 'e' || s[n] == 'E') &&
            (isdigit((unsigned char)s[n + 1]) ||
             ((s[n + 1] == '+' || s[n + 1] == '-') && isdigit((unsigned char)s[n + 2]))))
                for (n += 2; isdigit((unsigned char)s[n]);)
                        n++;
        p->tok_len = n;
        p->pos += n;
        if (n > NUMBER_CHARS_MAX || is_name_char((unsigned char)s[n])) {
                p->tok = TOK_BAD;
                return;
        }
        memcpy(buf, s, n);
        buf[n] = '\0';
        p->number = strtod(buf, &end);
        p->tok = (*end == '\0' && isfinite(p->number)) ? TOK_NUMBER : TOK_BAD;
}

static enum tok lex_operator(struct parser *p) {
        const char *s = p->text + p->pos;
        static const struct {
                const char *text;
                enum tok tok;
        } ops[] = {{"<=", TOK_LE},  {">=", TOK_GE},   {"==", TOK_EQ},    {"!=", TOK_NE},
                   {"<", TOK_LT},   {">", TOK_GT},    {"+", TOK_PLUS},   {"-", TOK_MINUS},
                   {"*", TOK_STAR}, {"/", TOK_SLASH}, {"(", TOK_LPAREN}, {")", TOK_RPAREN}};

        for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
                size_t n = strlen(ops[i].text);
                if (strncmp(s, ops[i].text, n) == 0) {
                        p->tok_len = n;
                        p->pos += n;
                        return ops[i].tok;
                }
        }
        p->tok_len = 1;
        p->pos++;
        return TOK_BAD;
}

static void next(struct parser *p) {
        const char *s = p->text;

        while (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' || s[p->pos] == '\r')
                p->pos++;
        p->tok_start = p->pos;
        p->tok_len = 0;
        if (s[p->pos] == '\0') {
                p->tok = TOK_END;
        } else if (isdigit((unsigned char)s[p->pos]) ||
                   (s[p->pos] == '.' && isdigit((unsigned char)s[p->pos + 1]))) {
                lex_number(p);
        } else if (isalpha((unsigned char)s[p->pos]) || s[p->pos] == '_') {
                while (is_name_char((unsigned char)s[p->pos]))
                        p->pos++;
                p->tok = TOK_NAME;
                p->tok_len = p->pos - p->tok_start;
        } else {
                p->tok = lex_operator(p);
        }
}

static bool tok_is_word(const struct parser *p, const char *word) {
        return p->tok == TOK_NAME && strlen(word) == p->tok_len &&
               memcmp(p->text + p->tok_start, word, p->tok_len) == 0;
}

/* Emits one operation that pops pops values and pushes one. */
static void emit(struct parser *p, enum expr_opcode code, uint32_t index, double value, int pops) {
        if (p->error)
                return;
        if (p->n_ops == FRAUD_SCORER_EXPR_OPS_MAX) {
                fail(p, -E2BIG, "more than %d operations", FRAUD_SCORER_EXPR_OPS_MAX);
                return;
        }
        p->ops[p->n_ops++] = (struct expr_op){.code = code, .index = index, .value = value};
        p->depth += 1 - pops;
        if (p->depth > p->depth_max)
                p->depth_max = p->depth;
        if (p->depth_max > FRAUD_SCORER_EXPR_STACK_MAX)
                fail(p, -E2BIG, "needs more than %d stack entries", FRAUD_SCORER_EXPR_STACK_MAX);
}

static void parse_or(struct parser *p);

static void parse_name(struct parser *p) {
        const char *name = p->text + p->tok_start;
        size_t len = p->tok_len;

        if (tok_is_word(p, "true") || tok_is_word(p, "false")) {
                emit(p, EXPR_OP_CONST, 0, tok_is_word(p, "true") ? 1.0 : 0.0, 0);
                return;
        }
        if (len > 3 && memcmp(name, "tx.", 3) == 0) {
                int field = expr_tx_field_parse(name + 3, len - 3);
                if (field < 0)
                        fail(p, -EINVAL, "unknown transaction field '%.*s'", (int)len, name);
                else
                        emit(p, EXPR_OP_TX, (uint32_t)field, 0, 0);
                return;
        }
        for (size_t i = 0; i < p->schema->n_features; i++) {
                const char *f = p->schema->features[i];
                if (strlen(f) == len && memcmp(f, name, len) == 0) {
                        p->uses_features = true;
                        emit(p, EXPR_OP_FEATURE, (uint32_t)i, 0, 0);
                        return;
                }
        }
        fail(p, -EINVAL, "unknown feature '%.*s'", (int)len, name);
}

static void parse_primary(struct parser *p) {
        switch (p->tok) {
        case TOK_NUMBER:
                emit(p, EXPR_OP_CONST, 0, p->number, 0);
                next(p);
                return;
        case TOK_NAME:
                if (tok_is_word(p, "and") || tok_is_word(p, "or") || tok_is_word(p, "not")) {
                        fail(p, -EINVAL, "expected a value, found '%.*s'", (int)p->tok_len,
                             p->text + p->tok_start);
                        return;
                }
                parse_name(p);
                next(p);
                return;
        case TOK_LPAREN:
                next(p);
                parse_or(p);
                if (!p->error && p->tok != TOK_RPAREN)
                        fail(p, -EINVAL, "expected ')'");
                next(p);
                return;
        case TOK_END:
                fail(p, -EINVAL, "unexpected end of expression");
                return;
        default:
                fail(p, -EINVAL, "unexpected '%.*s'", (int)p->tok_len, p->text + p->tok_start);
                return;
        }
}

/* Nesting guard around the recursive productions. */
static bool enter(struct parser *p) {
        if (++p->nesting > FRAUD_SCORER_EXPR_DEPTH_MAX)
                fail(p, -E2BIG, "nested deeper than %d", FRAUD_SCORER_EXPR_DEPTH_MAX);
        return !p->error;
}

static void parse_unary(struct parser *p) {
        if (!enter(p))
                return;
        if (p->tok == TOK_MINUS) {
                next(p);
                parse_unary(p);
                emit(p, EXPR_OP_NEG, 0, 0, 1);
        } else {
                parse_primary(p);
        }
        p->nesting--;
}

static void parse_product(struct parser *p) {
        parse_unary(p);
        while (!p->error && (p->tok == TOK_STAR || p->tok == TOK_SLASH)) {
                enum expr_opcode op = p->tok == TOK_STAR ? EXPR_OP_MUL : EXPR_OP_DIV;
                next(p);
                parse_unary(p);
                emit(p, op, 0, 0, 2);
        }
}

static void parse_sum(struct parser *p) {
        parse_product(p);
        while (!p->error && (p->tok == TOK_PLUS || p->tok == TOK_MINUS)) {
                enum expr_opcode op = p->tok == TOK_PLUS ? EXPR_OP_ADD : EXPR_OP_SUB;
                next(p);
                parse_product(p);
                emit(p, op, 0, 0, 2);
        }
}

static void parse_cmp(struct parser *p) {
        static const enum expr_opcode by_tok[] = {
                [TOK_LT] = EXPR_OP_LT, [TOK_LE] = EXPR_OP_LE, [TOK_GT] = EXPR_OP_GT,
                [TOK_GE] = EXPR_OP_GE, [TOK_EQ] = EXPR_OP_EQ, [TOK_NE] = EXPR_OP_NE,
        };
        enum tok t;

        parse_sum(p);
        t = p->tok;
        if (p->error || t < TOK_LT || t > TOK_NE)
                return;
        next(p);
        parse_sum(p);
        emit(p, by_tok[t], 0, 0, 2);
        if (!p->error && p->tok >= TOK_LT && p->tok <= TOK_NE)
                fail(p, -EINVAL, "comparisons do not chain; use 'and'");
}

static void parse_not(struct parser *p) {
        if (!enter(p))
                return;
        if (tok_is_word(p, "not")) {
                next(p);
                parse_not(p);
                emit(p, EXPR_OP_NOT, 0, 0, 1);
        } else {
                parse_cmp(p);
        }
        p->nesting--;
}

static void parse_and(struct parser *p) {
        parse_not(p);
        while (!p->error && tok_is_word(p, "and")) {
                next(p);
                parse_not(p);
                emit(p, EXPR_OP_AND, 0, 0, 2);
        }
}

static void parse_or(struct parser *p) {
        if (!enter(p))
                return;
        parse_and(p);
        while (!p->error && tok_is_word(p, "or")) {
                next(p);
                parse_and(p);
                emit(p, EXPR_OP_OR, 0, 0, 2);
        }
        p->nesting--;
}

int expr_compile(struct expr *e, const char *text, const struct expr_schema *schema, char *err,
                 size_t err_size) {
        struct parser *p;
        int r;

        memset(e, 0, sizeof(*e));
        if (strlen(text) > FRAUD_SCORER_EXPR_BYTES_MAX) {
                snprintf(err, err_size, "longer than %d bytes", FRAUD_SCORER_EXPR_BYTES_MAX);
                return -E2BIG;
        }
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        *p = (struct parser){.text = text, .schema = schema, .err = err, .err_size = err_size};
        next(p);
        parse_or(p);
        if (!p->error && p->tok != TOK_END)
                fail(p, -EINVAL, "unexpected '%.*s' after the expression", (int)p->tok_len,
                     p->text + p->tok_start);
        r = p->error;
        if (r == 0) {
                assert(p->depth == 1);
                e->ops = malloc(p->n_ops * sizeof(e->ops[0]));
                if (!e->ops) {
                        r = -ENOMEM;
                } else {
                        memcpy(e->ops, p->ops, p->n_ops * sizeof(e->ops[0]));
                        e->n_ops = p->n_ops;
                        e->uses_features = p->uses_features;
                }
        }
        free(p);
        return r;
}

void expr_release(struct expr *e) {
        free(e->ops);
        e->ops = NULL;
        e->n_ops = 0;
}

static bool is_true(double v) {
        return !isnan(v) && v != 0.0;
}

static bool is_false(double v) {
        return v == 0.0;
}

static double compare(enum expr_opcode op, double a, double b) {
        if (isnan(a) || isnan(b))
                return NAN;
        switch (op) {
        case EXPR_OP_LT:
                return a < b;
        case EXPR_OP_LE:
                return a <= b;
        case EXPR_OP_GT:
                return a > b;
        case EXPR_OP_GE:
                return a >= b;
        case EXPR_OP_EQ:
                return a == b;
        default:
                return a != b;
        }
}

static double binary(enum expr_opcode op, double a, double b) {
        switch (op) {
        case EXPR_OP_ADD:
                return a + b;
        case EXPR_OP_SUB:
                return a - b;
        case EXPR_OP_MUL:
                return a * b;
        case EXPR_OP_DIV:
                return b == 0.0 ? NAN : a / b;
        case EXPR_OP_AND:
                if (is_false(a) || is_false(b))
                        return 0.0;
                return isnan(a) || isnan(b) ? NAN : 1.0;
        case EXPR_OP_OR:
                if (is_true(a) || is_true(b))
                        return 1.0;
                return isnan(a) || isnan(b) ? NAN : 0.0;
        default:
                return compare(op, a, b);
        }
}

double expr_eval(const struct expr *e, const struct expr_env *env) {
        double stack[FRAUD_SCORER_EXPR_STACK_MAX];
        int sp = 0;

        for (size_t i = 0; i < e->n_ops; i++) {
                const struct expr_op *op = &e->ops[i];
                switch ((enum expr_opcode)op->code) {
                case EXPR_OP_CONST:
                        stack[sp++] = op->value;
                        break;
                case EXPR_OP_FEATURE:
                        stack[sp++] = op->index < env->n_features ? env->features[op->index] : NAN;
                        break;
                case EXPR_OP_TX:
                        stack[sp++] = env->tx[op->index];
                        break;
                case EXPR_OP_NEG:
                        stack[sp - 1] = -stack[sp - 1];
                        break;
                case EXPR_OP_NOT:
                        stack[sp - 1] =
                                isnan(stack[sp - 1]) ? NAN : (double)is_false(stack[sp - 1]);
                        break;
                default:
                        sp--;
                        stack[sp - 1] =
                                binary((enum expr_opcode)op->code, stack[sp - 1], stack[sp]);
                        break;
                }
        }
        return sp == 1 ? stack[0] : NAN;
}

bool expr_true(const struct expr *e, const struct expr_env *env) {
        return is_true(expr_eval(e, env));
}

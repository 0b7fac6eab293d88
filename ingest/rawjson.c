/* rawjson.c: a strict one-level JSON object parser (see rawjson.h).
 *
 * Recursive descent over a cursor that never reads past the end: every
 * read checks the remaining length first, so a record cut anywhere yields
 * RAWJSON_ERR_TRUNCATED, never an overread.  Strings are decoded straight
 * into the pool; the pool is sized so that it cannot overflow for an input
 * within FRAUD_INGEST_RECORD_BYTES_MAX (checked first).  Keys are compared
 * after decoding, so "a" and "\u0061" are the same key (a duplicate).
 */
#include "ingest/rawjson.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct rawjson_cursor {
        const unsigned char *start, *p, *end;
        struct rawjson_object *o;
        enum rawjson_error err;
        char *detail;
        size_t detail_size;
};

static int rawjson_fail(struct rawjson_cursor *c, enum rawjson_error e, const char *what) {
        c->err = e;
        snprintf(c->detail, c->detail_size, "%s at byte %zu", what, (size_t)(c->p - c->start));
        return -EBADMSG;
}

static int rawjson_truncated(struct rawjson_cursor *c) {
        return rawjson_fail(c, RAWJSON_ERR_TRUNCATED, "input ends inside the object");
}

static void rawjson_skip_space(struct rawjson_cursor *c) {
        while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
                c->p++;
}

size_t rawjson_utf8_length(const unsigned char *s, size_t avail) {
        unsigned char b = s[0];
        unsigned char lo = 0x80, hi = 0xbf;
        size_t n;

        if (b < 0x80)
                return 1;
        if (b >= 0xc2 && b <= 0xdf)
                n = 2;
        else if (b >= 0xe0 && b <= 0xef)
                n = 3;
        else if (b >= 0xf0 && b <= 0xf4)
                n = 4;
        else
                return 0; /* continuation byte, overlong lead C0/C1, or past U+10FFFF */
        if (b == 0xe0)
                lo = 0xa0; /* overlong */
        else if (b == 0xed)
                hi = 0x9f; /* UTF-16 surrogates */
        else if (b == 0xf0)
                lo = 0x90; /* overlong */
        else if (b == 0xf4)
                hi = 0x8f; /* past U+10FFFF */
        if (avail < n || s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < n; i++)
                if (s[i] < 0x80 || s[i] > 0xbf)
                        return 0;
        return n;
}

bool rawjson_utf8_valid(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *)s;

        for (size_t i = 0; i < len;) {
                size_t n;

                if (p[i] - 1u < 0x7fu) { /* ASCII but NUL: most text, decided here */
                        i++;
                        continue;
                }
                n = p[i] ? rawjson_utf8_length(p + i, len - i) : 0;
                if (n == 0)
                        return false;
                i += n;
        }
        return true;
}

static size_t rawjson_utf8_encode(uint32_t cp, char *out) {
        if (cp < 0x80) {
                out[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char)(0xc0 | (cp >> 6));
                out[1] = (char)(0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char)(0xe0 | (cp >> 12));
                out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                out[2] = (char)(0x80 | (cp & 0x3f));
                return 3;
        }
        out[0] = (char)(0xf0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
}

/* Reads 4 hex digits after "\u" (c->p at the first). */
static int rawjson_hex4(struct rawjson_cursor *c, uint32_t *out) {
        uint32_t v = 0;

        if (c->end - c->p < 4)
                return rawjson_truncated(c);
        for (int i = 0; i < 4; i++) {
                unsigned char h = *c->p++;
                unsigned d = h >= '0' && h <= '9'   ? (unsigned)(h - '0')
                             : h >= 'a' && h <= 'f' ? (unsigned)(h - 'a' + 10)
                             : h >= 'A' && h <= 'F' ? (unsigned)(h - 'A' + 10)
                                                    : 16u;
                if (d == 16)
                        return rawjson_fail(c, RAWJSON_ERR_ESCAPE, "bad hex digit in \\u escape");
                v = v << 4 | d;
        }
        *out = v;
        return 0;
}

/* A \uXXXX escape (c->p after the 'u'), a surrogate pair when it takes two. */
static int rawjson_unicode(struct rawjson_cursor *c, char *out, size_t *n) {
        uint32_t cp, lo;
        int r = rawjson_hex4(c, &cp);

        if (r < 0)
                return r;
        if (cp >= 0xdc00 && cp <= 0xdfff)
                return rawjson_fail(c, RAWJSON_ERR_ESCAPE, "lone low surrogate in \\u escape");
        if (cp >= 0xd800 && cp <= 0xdbff) {
                if (c->end - c->p < 2)
                        return rawjson_truncated(c);
                if (c->p[0] != '\\' || c->p[1] != 'u')
                        return rawjson_fail(c, RAWJSON_ERR_ESCAPE, "lone high surrogate");
                c->p += 2;
                if ((r = rawjson_hex4(c, &lo)) < 0)
                        return r;
                if (lo < 0xdc00 || lo > 0xdfff)
                        return rawjson_fail(c, RAWJSON_ERR_ESCAPE, "lone high surrogate");
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        if (cp == 0)
                return rawjson_fail(c, RAWJSON_ERR_ESCAPE, "\\u0000 is not allowed");
        *n = rawjson_utf8_encode(cp, out);
        return 0;
}

/* One escape (c->p after the backslash); appends its bytes at out. */
static int rawjson_escape(struct rawjson_cursor *c, char *out, size_t *n) {
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *hit;

        if (c->p >= c->end)
                return rawjson_truncated(c);
        if (*c->p == 'u') {
                c->p++;
                return rawjson_unicode(c, out, n);
        }
        hit = *c->p ? strchr(from, *c->p) : NULL;
        if (!hit)
                return rawjson_fail(c, RAWJSON_ERR_ESCAPE, "bad escape");
        c->p++;
        out[0] = to[hit - from];
        *n = 1;
        return 0;
}

/* A string (c->p at the opening quote), decoded into the pool. */
static int rawjson_string(struct rawjson_cursor *c, const char **out, size_t *out_len) {
        char *dst = c->o->pool + c->o->pool_used, *w = dst;
        size_t n = 0;
        int r;

        c->p++;
        for (;;) {
                const unsigned char *run = c->p;
                while (c->p < c->end && *c->p >= 0x20 && *c->p < 0x80 && *c->p != '"' &&
                       *c->p != '\\')
                        c->p++; /* plain ASCII, the common case, copied at once */
                memcpy(w, run, (size_t)(c->p - run));
                w += c->p - run;
                if (c->p >= c->end)
                        return rawjson_truncated(c);
                if (*c->p == '"')
                        break;
                if (*c->p == '\\') {
                        c->p++;
                        if ((r = rawjson_escape(c, w, &n)) < 0)
                                return r;
                } else if (*c->p < 0x20) {
                        return rawjson_fail(c, RAWJSON_ERR_SYNTAX, "control character in string");
                } else {
                        n = rawjson_utf8_length(c->p, (size_t)(c->end - c->p));
                        if (n == 0)
                                return rawjson_fail(c, RAWJSON_ERR_UTF8, "invalid UTF-8");
                        memcpy(w, c->p, n);
                        c->p += n;
                }
                w += n;
        }
        c->p++;
        *w = '\0';
        *out = dst;
        *out_len = (size_t)(w - dst);
        c->o->pool_used += *out_len + 1;
        return 0;
}

static bool rawjson_digit(const struct rawjson_cursor *c) {
        return c->p < c->end && *c->p >= '0' && *c->p <= '9';
}

/* A number that stops where a digit is due: cut short, or malformed. */
static int rawjson_number_fail(struct rawjson_cursor *c, const char *what) {
        return c->p >= c->end ? rawjson_truncated(c) : rawjson_fail(c, RAWJSON_ERR_SYNTAX, what);
}

/* A number, kept as its text: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int rawjson_number(struct rawjson_cursor *c, const char **out, size_t *out_len) {
        const unsigned char *s = c->p;
        char *dst = c->o->pool + c->o->pool_used;

        if (*c->p == '-')
                c->p++;
        if (!rawjson_digit(c))
                return rawjson_number_fail(c, "bad number");
        if (*c->p++ != '0')
                while (rawjson_digit(c))
                        c->p++;
        if (c->p < c->end && *c->p == '.') {
                c->p++;
                if (!rawjson_digit(c))
                        return rawjson_number_fail(c, "bad number fraction");
                while (rawjson_digit(c))
                        c->p++;
        }
        if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
                c->p++;
                if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
                        c->p++;
                if (!rawjson_digit(c))
                        return rawjson_number_fail(c, "bad number exponent");
                while (rawjson_digit(c))
                        c->p++;
        }
        *out_len = (size_t)(c->p - s);
        memcpy(dst, s, *out_len);
        dst[*out_len] = '\0';
        c->o->pool_used += *out_len + 1;
        *out = dst;
        return 0;
}

static int rawjson_literal(struct rawjson_cursor *c, struct rawjson_member *m) {
        static const struct {
                const char *text;
                enum rawjson_kind kind;
        } lits[] = {{"true", RAWJSON_TRUE}, {"false", RAWJSON_FALSE}, {"null", RAWJSON_NULL}};
        size_t avail = (size_t)(c->end - c->p);

        for (size_t i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
                size_t n = strlen(lits[i].text);
                if (lits[i].text[0] != *c->p)
                        continue;
                if (avail < n && memcmp(c->p, lits[i].text, avail) == 0)
                        return rawjson_truncated(c);
                if (avail < n || memcmp(c->p, lits[i].text, n) != 0)
                        break;
                c->p += n;
                m->kind = lits[i].kind;
                m->value = lits[i].text;
                m->value_len = n;
                return 0;
        }
        return rawjson_fail(c, RAWJSON_ERR_SYNTAX, "unexpected character");
}

static int rawjson_value(struct rawjson_cursor *c, struct rawjson_member *m) {
        if (c->p >= c->end)
                return rawjson_truncated(c);
        switch (*c->p) {
        case '"':
                m->kind = RAWJSON_STRING;
                return rawjson_string(c, &m->value, &m->value_len);
        case '{':
        case '[':
                return rawjson_fail(c, RAWJSON_ERR_NESTED, "nested object or array");
        default:
                if (*c->p != '-' && !rawjson_digit(c))
                        return rawjson_literal(c, m);
                m->kind = RAWJSON_NUMBER;
                return rawjson_number(c, &m->value, &m->value_len);
        }
}

/* One "key": value member (c->p at the key's quote). */
static int rawjson_member(struct rawjson_cursor *c) {
        struct rawjson_object *o = c->o;
        struct rawjson_member *m;
        int r;

        if (o->count == FRAUD_INGEST_FIELDS_MAX)
                return rawjson_fail(c, RAWJSON_ERR_TOO_LARGE, "too many members");
        m = &o->members[o->count];
        if ((r = rawjson_string(c, &m->key, &m->key_len)) < 0)
                return r;
        if (m->key_len > FRAUD_INGEST_NAME_BYTES_MAX)
                return rawjson_fail(c, RAWJSON_ERR_TOO_LARGE, "key too long");
        for (size_t i = 0; i < o->count; i++)
                if (o->members[i].key_len == m->key_len &&
                    !memcmp(o->members[i].key, m->key, m->key_len))
                        return rawjson_fail(c, RAWJSON_ERR_DUPLICATE, "duplicate key");
        rawjson_skip_space(c);
        if (c->p >= c->end)
                return rawjson_truncated(c);
        if (*c->p != ':')
                return rawjson_fail(c, RAWJSON_ERR_SYNTAX, "expected ':'");
        c->p++;
        rawjson_skip_space(c);
        if ((r = rawjson_value(c, m)) < 0)
                return r;
        o->count++;
        return 0;
}

/* The members after '{', up to and including '}'. */
static int rawjson_members(struct rawjson_cursor *c) {
        int r;

        rawjson_skip_space(c);
        if (c->p < c->end && *c->p == '}') {
                c->p++;
                return 0;
        }
        for (;;) {
                if (c->p >= c->end)
                        return rawjson_truncated(c);
                if (*c->p != '"')
                        return rawjson_fail(c, RAWJSON_ERR_SYNTAX, "expected a key");
                if ((r = rawjson_member(c)) < 0)
                        return r;
                rawjson_skip_space(c);
                if (c->p >= c->end)
                        return rawjson_truncated(c);
                if (*c->p == '}') {
                        c->p++;
                        return 0;
                }
                if (*c->p != ',')
                        return rawjson_fail(c, RAWJSON_ERR_SYNTAX, "expected ',' or '}'");
                c->p++;
                rawjson_skip_space(c);
        }
}

int rawjson_parse(struct rawjson_object *o, const char *buf, size_t len, enum rawjson_error *err,
                  char *detail, size_t detail_size) {
        struct rawjson_cursor c = {
                .start = (const unsigned char *)buf,
                .p = (const unsigned char *)buf,
                .end = (const unsigned char *)buf + len,
                .o = o,
                .detail = detail,
                .detail_size = detail_size,
        };
        int r;

        o->count = 0;
        o->pool_used = 0;
        detail[0] = '\0';
        *err = RAWJSON_OK;
        if (len > FRAUD_INGEST_RECORD_BYTES_MAX) {
                r = rawjson_fail(&c, RAWJSON_ERR_TOO_LARGE, "record too large");
                snprintf(detail, detail_size, "record of %zu bytes, over %d", len,
                         FRAUD_INGEST_RECORD_BYTES_MAX);
                *err = c.err;
                return r;
        }
        rawjson_skip_space(&c);
        if (c.p >= c.end)
                r = rawjson_fail(&c, RAWJSON_ERR_SYNTAX, "empty input");
        else if (*c.p != '{')
                r = rawjson_fail(&c, RAWJSON_ERR_SYNTAX, "not a JSON object");
        else {
                c.p++;
                r = rawjson_members(&c);
        }
        if (r == 0) {
                rawjson_skip_space(&c);
                if (c.p != c.end)
                        r = rawjson_fail(&c, RAWJSON_ERR_SYNTAX, "bytes after the object");
        }
        *err = c.err;
        return r;
}

const struct rawjson_member *rawjson_find(const struct rawjson_object *o, const char *key) {
        for (size_t i = 0; i < o->count; i++)
                if (strcmp(o->members[i].key, key) == 0)
                        return &o->members[i];
        return NULL;
}

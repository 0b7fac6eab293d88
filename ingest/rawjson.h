/* rawjson.h: a strict parser for one flat JSON object (a raw transaction).
 *
 * Accepts exactly one object of up to FRAUD_INGEST_FIELDS_MAX members whose
 * values are strings, numbers, true, false or null (RFC 8259 grammar), with
 * optional white space around it.  Rejected, each with its own error: a
 * nested object or array; a key given twice; invalid UTF-8 (overlong forms,
 * surrogates, code points past U+10FFFF) in the raw bytes or produced by a
 * \u escape (a lone surrogate, \u0000); raw control characters in strings;
 * input that ends early (truncated); anything after the closing brace; more
 * than FRAUD_INGEST_RECORD_BYTES_MAX bytes, more members or a key longer
 * than FRAUD_INGEST_NAME_BYTES_MAX bytes.
 *
 * Output: the members in input order, each key and value decoded
 * (escapes resolved) and NUL-terminated in the object's own pool; a number
 * is kept as its text (no floating point ever touches an amount), true,
 * false and null as their names.  Everything lives inside struct
 * rawjson_object (no allocation), which is large: keep it in a stage
 * object or on the heap, not on a small stack.  Pure and deterministic.
 */
#ifndef FRAUD_RAWJSON_H
#define FRAUD_RAWJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/bounds.h"

enum rawjson_kind {
        RAWJSON_STRING,
        RAWJSON_NUMBER,
        RAWJSON_TRUE,
        RAWJSON_FALSE,
        RAWJSON_NULL,
};

enum rawjson_error {
        RAWJSON_OK = 0,
        RAWJSON_ERR_SYNTAX,    /* not JSON, or not an object, or trailing bytes */
        RAWJSON_ERR_TRUNCATED, /* the input ends inside the object */
        RAWJSON_ERR_ESCAPE,    /* a bad backslash escape, lone surrogate, \u0000 */
        RAWJSON_ERR_UTF8,      /* invalid UTF-8 */
        RAWJSON_ERR_NESTED,    /* an object or array as a value */
        RAWJSON_ERR_DUPLICATE, /* a key given twice */
        RAWJSON_ERR_TOO_LARGE, /* record, member count or key length over its limit */
};

struct rawjson_member {
        const char *key; /* NUL-terminated, in the object's pool */
        size_t key_len;
        enum rawjson_kind kind;
        const char *value; /* NUL-terminated: decoded string, number text, "true", ... */
        size_t value_len;
};

struct rawjson_object {
        size_t count;
        struct rawjson_member members[FRAUD_INGEST_FIELDS_MAX];
        size_t pool_used;
        /* Decoded text is never longer than its source, plus one NUL per key
         * and per value. */
        char pool[FRAUD_INGEST_RECORD_BYTES_MAX + 2 * FRAUD_INGEST_FIELDS_MAX];
};

/* Parses buf (len bytes, no NUL needed) into *o.  Returns 0, or -EBADMSG
 * with *err set and a one-line reason with the byte offset in detail
 * (detail_size bytes, always NUL-terminated).  *o is overwritten. */
int rawjson_parse(struct rawjson_object *o, const char *buf, size_t len, enum rawjson_error *err,
                  char *detail, size_t detail_size);

/* The member named key, or NULL. */
const struct rawjson_member *rawjson_find(const struct rawjson_object *o, const char *key);

/* Length of the valid UTF-8 sequence at s (1..4, at most avail bytes), or
 * 0 when the bytes there are not valid UTF-8. */
size_t rawjson_utf8_length(const unsigned char *s, size_t avail);

/* Whether s (len bytes) is entirely valid UTF-8 without NUL bytes. */
bool rawjson_utf8_valid(const char *s, size_t len);

#endif

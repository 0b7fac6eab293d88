/* jsonout.h: a JSON writer into a caller's fixed buffer.
 *
 * The dashboard's page reads everything as JSON (the state, the decision
 * rows of the event stream, the answers to a verdict), and much of what
 * goes into it comes from outside (transaction, merchant and terminal ids,
 * reason codes, versions): every string is escaped here, once.  Quotes,
 * backslashes and control characters are escaped as JSON requires; '<',
 * '>' and '&' as \u003c, \u003e, \u0026, so the text is also safe inside
 * an HTML page; a byte that is not part of well-formed UTF-8 becomes
 * \ufffd, so the output is always valid UTF-8 JSON whatever the input.
 * No raw newline is ever written, so a text fits one line of an event
 * stream ("data: ...").
 *
 * Commas between members and elements are placed by the writer, which
 * tracks nesting (up to JSONOUT_DEPTH_MAX levels).  Numbers: integers
 * exactly; doubles with %.6g (%.17g for jsonout_double_exact), NaN and
 * infinities as null.  When the buffer is full, or the nesting too deep
 * or unbalanced, the writer stops writing and jsonout_ok() says false;
 * the text is then cut and must not be used.  The text is always
 * NUL-terminated.  Pure.
 */
#ifndef FRAUD_DASHBOARD_JSONOUT_H
#define FRAUD_DASHBOARD_JSONOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONOUT_DEPTH_MAX 16

struct jsonout {
        char *buf; /* borrowed */
        size_t size, len;
        bool failed;
        bool after_key;
        int depth;
        bool first[JSONOUT_DEPTH_MAX]; /* no member or element yet at that depth */
};

/* buf of size >= 1 bytes, borrowed for the writer's life. */
void jsonout_init(struct jsonout *j, char *buf, size_t size);

void jsonout_object_begin(struct jsonout *j);
void jsonout_object_end(struct jsonout *j);
void jsonout_array_begin(struct jsonout *j);
void jsonout_array_end(struct jsonout *j);

/* A member's name (escaped like a string); its value follows. */
void jsonout_key(struct jsonout *j, const char *key);

void jsonout_string(struct jsonout *j, const char *s);
/* At most n bytes of s (stops at a NUL). */
void jsonout_string_n(struct jsonout *j, const char *s, size_t n);
void jsonout_int(struct jsonout *j, int64_t v);
void jsonout_uint(struct jsonout *j, uint64_t v);
void jsonout_double(struct jsonout *j, double v);
void jsonout_double_exact(struct jsonout *j, double v);
void jsonout_bool(struct jsonout *j, bool v);
void jsonout_null(struct jsonout *j);

/* key and value in one call. */
void jsonout_kv_string(struct jsonout *j, const char *key, const char *s);
void jsonout_kv_int(struct jsonout *j, const char *key, int64_t v);
void jsonout_kv_uint(struct jsonout *j, const char *key, uint64_t v);
void jsonout_kv_double(struct jsonout *j, const char *key, double v);
void jsonout_kv_bool(struct jsonout *j, const char *key, bool v);

/* True when everything fitted and every container was closed (at depth
 * 0); the text is buf[0 .. jsonout_len()). */
bool jsonout_ok(const struct jsonout *j);
size_t jsonout_len(const struct jsonout *j);

#endif

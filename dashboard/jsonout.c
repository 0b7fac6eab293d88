/* jsonout.c: see jsonout.h. */
#include "dashboard/jsonout.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void jsonout_init(struct jsonout *j, char *buf, size_t size) {
        *j = (struct jsonout){.buf = buf, .size = size};
        j->first[0] = true;
        if (size == 0)
                j->failed = true;
        else
                buf[0] = '\0';
}

static void jsonout_put(struct jsonout *j, const char *s, size_t n) {
        if (j->failed)
                return;
        if (n >= j->size - j->len) {
                j->failed = true;
                return;
        }
        memcpy(j->buf + j->len, s, n);
        j->len += n;
        j->buf[j->len] = '\0';
}

/* Before a value or a key: the comma, unless first at its depth. */
static void jsonout_separate(struct jsonout *j) {
        if (j->after_key) {
                j->after_key = false;
                return;
        }
        if (!j->first[j->depth])
                jsonout_put(j, ",", 1);
        j->first[j->depth] = false;
}

static void jsonout_open(struct jsonout *j, char c) {
        jsonout_separate(j);
        if (j->depth + 1 >= JSONOUT_DEPTH_MAX) {
                j->failed = true;
                return;
        }
        jsonout_put(j, &c, 1);
        j->first[++j->depth] = true;
}

static void jsonout_close(struct jsonout *j, char c) {
        if (j->depth == 0 || j->after_key) {
                j->failed = true;
                return;
        }
        j->depth--;
        jsonout_put(j, &c, 1);
}

void jsonout_object_begin(struct jsonout *j) {
        jsonout_open(j, '{');
}

void jsonout_object_end(struct jsonout *j) {
        jsonout_close(j, '}');
}

void jsonout_array_begin(struct jsonout *j) {
        jsonout_open(j, '[');
}

void jsonout_array_end(struct jsonout *j) {
        jsonout_close(j, ']');
}

/* The length of the well-formed UTF-8 sequence at s (n bytes left), or 0. */
static size_t jsonout_utf8_len(const unsigned char *s, size_t n) {
        size_t len;
        uint32_t cp;

        if (s[0] < 0xc2 || s[0] > 0xf4)
                return 0;
        len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
        if (len > n)
                return 0;
        cp = s[0] & (0xff >> (len + 1));
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (s[i] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0; /* overlong, out of range or a surrogate */
        return len;
}

static void jsonout_escaped(struct jsonout *j, const char *s, size_t n) {
        const unsigned char *p = (const unsigned char *)s;
        char esc[8];
        size_t i = 0;

        jsonout_put(j, "\"", 1);
        while (i < n && p[i]) {
                unsigned char c = p[i];
                size_t len;
                if (c >= 0x80) {
                        len = jsonout_utf8_len(p + i, n - i);
                        if (len == 0) {
                                jsonout_put(j, "\\ufffd", 6);
                                len = 1;
                        } else {
                                jsonout_put(j, s + i, len);
                        }
                        i += len;
                        continue;
                }
                if (c == '"' || c == '\\') {
                        esc[0] = '\\';
                        esc[1] = (char)c;
                        jsonout_put(j, esc, 2);
                } else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f) {
                        snprintf(esc, sizeof(esc), "\\u%04x", c);
                        jsonout_put(j, esc, 6);
                } else {
                        jsonout_put(j, s + i, 1);
                }
                i++;
        }
        jsonout_put(j, "\"", 1);
}

void jsonout_key(struct jsonout *j, const char *key) {
        if (j->after_key || j->depth == 0) {
                j->failed = true;
                return;
        }
        jsonout_separate(j);
        jsonout_escaped(j, key, strlen(key));
        jsonout_put(j, ":", 1);
        j->after_key = true;
}

void jsonout_string(struct jsonout *j, const char *s) {
        jsonout_separate(j);
        jsonout_escaped(j, s, strlen(s));
}

void jsonout_string_n(struct jsonout *j, const char *s, size_t n) {
        jsonout_separate(j);
        jsonout_escaped(j, s, strnlen(s, n));
}

static void jsonout_number(struct jsonout *j, const char *text, int n) {
        jsonout_separate(j);
        if (n < 0) {
                j->failed = true;
                return;
        }
        jsonout_put(j, text, (size_t)n);
}

void jsonout_int(struct jsonout *j, int64_t v) {
        char t[24];

        jsonout_number(j, t, snprintf(t, sizeof(t), "%" PRId64, v));
}

void jsonout_uint(struct jsonout *j, uint64_t v) {
        char t[24];

        jsonout_number(j, t, snprintf(t, sizeof(t), "%" PRIu64, v));
}

static void jsonout_real(struct jsonout *j, double v, int precision) {
        char t[32];

        if (!isfinite(v)) {
                jsonout_null(j);
                return;
        }
        jsonout_number(j, t, snprintf(t, sizeof(t), "%.*g", precision, v));
}

void jsonout_double(struct jsonout *j, double v) {
        jsonout_real(j, v, 6);
}

void jsonout_double_exact(struct jsonout *j, double v) {
        jsonout_real(j, v, 17);
}

void jsonout_bool(struct jsonout *j, bool v) {
        jsonout_separate(j);
        jsonout_put(j, v ? "true" : "false", v ? 4 : 5);
}

void jsonout_null(struct jsonout *j) {
        jsonout_separate(j);
        jsonout_put(j, "null", 4);
}

void jsonout_kv_string(struct jsonout *j, const char *key, const char *s) {
        jsonout_key(j, key);
        jsonout_string(j, s);
}

void jsonout_kv_int(struct jsonout *j, const char *key, int64_t v) {
        jsonout_key(j, key);
        jsonout_int(j, v);
}

void jsonout_kv_uint(struct jsonout *j, const char *key, uint64_t v) {
        jsonout_key(j, key);
        jsonout_uint(j, v);
}

void jsonout_kv_double(struct jsonout *j, const char *key, double v) {
        jsonout_key(j, key);
        jsonout_double(j, v);
}

void jsonout_kv_bool(struct jsonout *j, const char *key, bool v) {
        jsonout_key(j, key);
        jsonout_bool(j, v);
}

bool jsonout_ok(const struct jsonout *j) {
        return !j->failed && j->depth == 0 && !j->after_key;
}

size_t jsonout_len(const struct jsonout *j) {
        return j->len;
}

/* faults.c: malformed and duplicate payments on purpose (tools/faults.h).
 *
 * Every value of the JSON that `fraudctl generate` writes is a string
 * without quotes or backslashes inside, so a field is found as "key":"
 * followed by the value up to the next quote, and a defect is a splice:
 * the text before the value, a new value (or none), the text after.
 */
#include "tools/faults.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const faults_reasons[FAULTS_KIND_COUNT] = {
        [FAULTS_TRUNCATED] = "bad_json",
        [FAULTS_NO_AMOUNT] = "missing_field",
        [FAULTS_CURRENCY] = "unknown_currency",
        [FAULTS_NEGATIVE_AMOUNT] = "amount_not_positive",
        [FAULTS_PAN_CHECKSUM] = "pan_checksum",
        [FAULTS_TIMESTAMP] = "bad_timestamp",
};

static uint64_t faults_next(struct faults *f) {
        uint64_t z = (f->state += UINT64_C(0x9E3779B97F4A7C15));

        z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
        return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double faults_uniform(struct faults *f) {
        return (double)(faults_next(f) >> 11) * 0x1.0p-53;
}

void faults_init(struct faults *f, uint64_t seed, double malformed_share, double duplicate_share) {
        assert(malformed_share >= 0 && malformed_share <= FAULTS_SHARE_MAX);
        assert(duplicate_share >= 0 && duplicate_share <= FAULTS_SHARE_MAX);
        memset(f, 0, sizeof(*f));
        f->state = seed ^ UINT64_C(0x6661756C74730000); /* "faults" */
        f->malformed_share = malformed_share;
        f->duplicate_share = duplicate_share;
}

bool faults_duplicate(struct faults *f) {
        if (f->duplicate_share <= 0 || faults_uniform(f) >= f->duplicate_share)
                return false;
        f->duplicates++;
        return true;
}

const char *faults_reason_code(enum faults_kind k) {
        return (unsigned)k < FAULTS_KIND_COUNT ? faults_reasons[k] : "?";
}

/* The value of "key":"..." in s: [*start, *end).  -EINVAL when absent. */
static int faults_field(const char *s, size_t len, const char *key, size_t *start, size_t *end) {
        char pat[64];
        int n = snprintf(pat, sizeof(pat), "\"%s\":\"", key);
        const char *p, *q;

        assert(n > 0 && (size_t)n < sizeof(pat));
        p = memmem(s, len, pat, (size_t)n);
        if (!p)
                return -EINVAL;
        p += n;
        q = memchr(p, '"', len - (size_t)(p - s));
        if (!q)
                return -EINVAL;
        *start = (size_t)(p - s);
        *end = (size_t)(q - s);
        return 0;
}

/* out = s[0, a) + mid + s[b, len); the length, or -ENOBUFS. */
static int faults_splice(const char *s, size_t len, size_t a, size_t b, const char *mid,
                         char *out, size_t size) {
        size_t m = strlen(mid), total = a + m + (len - b);

        if (total >= size)
                return -ENOBUFS;
        memmove(out, s, a);
        memcpy(out + a, mid, m);
        memmove(out + a + m, s + b, len - b);
        out[total] = '\0';
        return (int)total;
}

/* Replaces the value of key with value. */
static int faults_set(char *buf, int len, size_t size, const char *key, const char *value) {
        char tmp[FRAUD_GENERATE_LINE_MAX];
        size_t a, b;

        if (len < 0)
                return len;
        if (faults_field(buf, (size_t)len, key, &a, &b) < 0)
                return -EINVAL;
        if ((size_t)len >= sizeof(tmp))
                return -ENOBUFS;
        memcpy(tmp, buf, (size_t)len);
        return faults_splice(tmp, (size_t)len, a, b, value, buf, size);
}

/* The defect k applied to buf (len bytes, the record with its new id). */
static int faults_apply(enum faults_kind k, char *buf, int len, size_t size) {
        size_t a, b;
        char pan[32];

        switch (k) {
        case FAULTS_TRUNCATED:
                buf[len / 2] = '\0';
                return len / 2;
        case FAULTS_NO_AMOUNT:
                /* "amount":"12.34", out, key and trailing comma included */
                if (faults_field(buf, (size_t)len, "amount", &a, &b) < 0)
                        return -EINVAL;
                a -= strlen("\"amount\":\"");
                b += strlen("\",");
                memmove(buf + a, buf + b, (size_t)len - b + 1);
                return len - (int)(b - a);
        case FAULTS_CURRENCY:
                return faults_set(buf, len, size, "currency", "XXX");
        case FAULTS_NEGATIVE_AMOUNT:
                return faults_set(buf, len, size, "amount", "-5.00");
        case FAULTS_PAN_CHECKSUM:
                if (faults_field(buf, (size_t)len, "pan", &a, &b) < 0 || b - a >= sizeof(pan))
                        return -EINVAL;
                memcpy(pan, buf + a, b - a);
                pan[b - a] = '\0';
                pan[b - a - 1] = (char)('0' + (pan[b - a - 1] - '0' + 5) % 10);
                return faults_set(buf, len, size, "pan", pan);
        case FAULTS_TIMESTAMP:
                return faults_set(buf, len, size, "timestamp", "yesterday");
        default:
                assert(!"unknown fault kind");
                return -EINVAL;
        }
}

int faults_malformed(struct faults *f, const char *json, size_t len, char *out, size_t size) {
        enum faults_kind k;
        char id[128];
        size_t a, b;
        int n;

        if (f->malformed_share <= 0 || faults_uniform(f) >= f->malformed_share)
                return 0;
        k = (enum faults_kind)(f->malformed % FAULTS_KIND_COUNT);
        if (faults_field(json, len, "transaction_id", &a, &b) < 0 ||
            b - a + sizeof(FAULTS_ID_SUFFIX) > sizeof(id))
                return -EINVAL;
        snprintf(id, sizeof(id), "%.*s%s", (int)(b - a), json + a, FAULTS_ID_SUFFIX);
        n = faults_splice(json, len, a, b, id, out, size);
        if (n >= 0)
                n = faults_apply(k, out, n, size);
        if (n > 0) {
                f->malformed++;
                f->by_kind[k]++;
        }
        return n;
}

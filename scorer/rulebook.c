/* rulebook.c: see rulebook.h. */
#include "scorer/rulebook.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct rulebook {
        char path[PATH_MAX];
        struct rules *rules; /* owned; NULL when none */
        char *text;          /* owned text of rules */
        size_t text_len;
        char **names; /* owned schema */
        size_t n_names;
        struct stat seen; /* of the last attempt */
        bool seen_valid;
        bool stat_failed; /* the last stat failed: said once, not every batch */
};

int rulebook_new(const char *path, struct rulebook **out) {
        struct rulebook *b;

        *out = NULL;
        if (strlen(path) >= PATH_MAX)
                return -ENAMETOOLONG;
        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        memcpy(b->path, path, strlen(path) + 1);
        *out = b;
        return 0;
}

static void names_free(char **names, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

void rulebook_free(struct rulebook *b) {
        if (!b)
                return;
        rules_free(b->rules);
        free(b->text);
        names_free(b->names, b->n_names);
        free(b);
}

/* Reads the whole file, at most FRAUD_SCORER_RULES_FILE_BYTES_MAX. */
static int file_read(const char *path, char **out, size_t *len, char *err, size_t err_size) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        size_t cap = FRAUD_SCORER_RULES_FILE_BYTES_MAX + 1, n = 0;
        char *buf;
        int r = 0;

        if (fd < 0) {
                r = -errno;
                snprintf(err, err_size, "%s: %s", path, strerror(errno));
                return r;
        }
        buf = malloc(cap);
        while (buf && n < cap) {
                ssize_t got = read(fd, buf + n, cap - n);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0)
                        r = -errno;
                if (got <= 0)
                        break;
                n += (size_t)got;
        }
        close(fd);
        if (!buf)
                r = -ENOMEM;
        else if (n == cap)
                r = -EFBIG;
        if (r < 0) {
                snprintf(err, err_size, "%s: %s", path, strerror(-r));
                free(buf);
                return r;
        }
        *out = buf;
        *len = n;
        return 0;
}

static int compile(const struct rulebook *b, const char *text, size_t len, char **names, size_t n,
                   struct rules **out, char *err, size_t err_size) {
        const struct expr_schema schema = {.features = (const char *const *)names, .n_features = n};

        return rules_parse(b->path, text, len, &schema, out, err, err_size);
}

static bool same_file(const struct stat *a, const struct stat *b) {
        return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
               a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int rulebook_refresh(struct rulebook *b, bool force, char *err, size_t err_size) {
        struct rules *fresh = NULL;
        struct stat st;
        char *text = NULL;
        size_t len = 0;
        int r;

        if (b->path[0] == '\0')
                return 0;
        if (stat(b->path, &st) < 0) {
                r = -errno;
                snprintf(err, err_size, "%s: %s", b->path, strerror(errno));
                if (b->stat_failed && !force)
                        return 0;
                b->stat_failed = true;
                return r;
        }
        b->stat_failed = false;
        if (!force && b->seen_valid && same_file(&st, &b->seen))
                return 0;
        b->seen = st;
        b->seen_valid = true;
        r = file_read(b->path, &text, &len, err, err_size);
        if (r < 0)
                return r;
        r = compile(b, text, len, b->names, b->n_names, &fresh, err, err_size);
        if (r < 0) {
                free(text);
                return r;
        }
        rules_free(b->rules);
        free(b->text);
        b->rules = fresh;
        b->text = text;
        b->text_len = len;
        return 1;
}

int rulebook_schema_set(struct rulebook *b, const char *const *names, size_t n, char *err,
                        size_t err_size) {
        struct rules *fresh = NULL;
        char **copy = calloc(n ? n : 1, sizeof(copy[0]));
        int r = 0;

        if (!copy)
                return -ENOMEM;
        for (size_t i = 0; i < n && r == 0; i++)
                if (!(copy[i] = strdup(names[i])))
                        r = -ENOMEM;
        if (r == 0 && b->text)
                r = compile(b, b->text, b->text_len, copy, n, &fresh, err, err_size);
        if (r < 0) {
                names_free(copy, n);
                return r;
        }
        names_free(b->names, b->n_names);
        b->names = copy;
        b->n_names = n;
        if (b->text) {
                rules_free(b->rules);
                b->rules = fresh;
        }
        return 0;
}

const struct rules *rulebook_rules(const struct rulebook *b) {
        return b->rules;
}

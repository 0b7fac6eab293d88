/* registry.c: see registry.h.
 *
 * Every function works on the file system directly and keeps nothing
 * between calls, so the daemon and the command line see the same state.
 * A model.yaml of up to FRAUD_MODELFILE_FEATURES_MAX names is too large for
 * the stack; functions that read one allocate it.
 */
#include "trainer/registry.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/atomicfile.h"
#include "lib/bounds.h"

#define REGISTRY_POINTER "CHAMPION"

static int fail(char *err, size_t err_size, int r, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t err_size, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
        return r;
}

int registry_version_check(const char *name) {
        size_t n = strlen(name);

        if (n == 0 || n >= FRAUD_MODELFILE_VERSION_MAX || name[0] == '.' ||
            !strcmp(name, REGISTRY_POINTER))
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]))
                        return -EINVAL;
        return 0;
}

int registry_init(const char *dir, char *err, size_t err_size) {
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return fail(err, err_size, -errno, "%s: %s", dir, strerror(errno));
        return 0;
}

static int path_of(const char *dir, const char *pre, const char *version, const char *post,
                   char *out, size_t size) {
        int n;

        if (registry_version_check(version) < 0)
                return -EINVAL;
        n = snprintf(out, size, "%s/%s%s%s", dir, pre, version, post);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int registry_path(const char *dir, const char *version, char *out, size_t size) {
        return path_of(dir, "", version, "", out, size);
}

int registry_staging_path(const char *dir, const char *version, char *out, size_t size) {
        return path_of(dir, ".", version, ".staging", out, size);
}

int registry_champion(const char *dir, char *out, size_t size, char *err, size_t err_size) {
        char path[PATH_MAX], line[FRAUD_MODELFILE_VERSION_MAX + 2] = "";
        FILE *f;

        if (snprintf(path, sizeof(path), "%s/%s", dir, REGISTRY_POINTER) >= (int)sizeof(path))
                return fail(err, err_size, -ENAMETOOLONG, "%s: path too long", dir);
        if (!(f = fopen(path, "re"))) {
                int r = -errno;
                return r == -ENOENT ? fail(err, err_size, r, "%s: no champion", dir)
                                    : fail(err, err_size, r, "%s: %s", path, strerror(-r));
        }
        if (!fgets(line, sizeof(line), f))
                line[0] = '\0';
        fclose(f);
        line[strcspn(line, "\n")] = '\0';
        if (registry_version_check(line) < 0 || strlen(line) >= size)
                return fail(err, err_size, -EINVAL, "%s: not a version name", path);
        memcpy(out, line, strlen(line) + 1);
        return 0;
}

static int pointer_write(const char *dir, const char *version, char *err, size_t err_size) {
        char path[PATH_MAX], line[FRAUD_MODELFILE_VERSION_MAX + 1];
        int n = snprintf(line, sizeof(line), "%s\n", version), r;

        if (snprintf(path, sizeof(path), "%s/%s", dir, REGISTRY_POINTER) >= (int)sizeof(path))
                return fail(err, err_size, -ENAMETOOLONG, "%s: path too long", dir);
        r = fraud_atomicfile_write(path, line, (size_t)n);
        return r < 0 ? fail(err, err_size, r, "%s: %s", path, strerror(-r)) : 0;
}

int registry_read(const char *dir, const char *version, struct fraud_modelfile *m, char *err,
                  size_t err_size) {
        char path[PATH_MAX], yaml[PATH_MAX + 16];
        struct stat st;
        int r = registry_path(dir, version, path, sizeof(path));

        if (r < 0)
                return fail(err, err_size, r, "%s: not a version name", version);
        snprintf(yaml, sizeof(yaml), "%s/model.yaml", path);
        if (stat(yaml, &st) < 0)
                return fail(err, err_size, -errno, "%s: %s", yaml, strerror(errno));
        return fraud_modelfile_read(m, path, err, err_size);
}

int registry_staging_clear(const char *dir, const char *version, char *err, size_t err_size) {
        char path[PATH_MAX], file[PATH_MAX + NAME_MAX + 2];
        struct dirent *e;
        DIR *d;
        int r = registry_staging_path(dir, version, path, sizeof(path));

        if (r < 0)
                return fail(err, err_size, r, "%s: not a version name", version);
        if (!(d = opendir(path)))
                return errno == ENOENT
                               ? 0
                               : fail(err, err_size, -errno, "%s: %s", path, strerror(errno));
        while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                        snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
                        unlink(file);
                }
        closedir(d);
        if (rmdir(path) < 0)
                return fail(err, err_size, -errno, "%s: %s", path, strerror(errno));
        return 0;
}

int registry_install(const char *dir, const char *version, char *err, size_t err_size) {
        char from[PATH_MAX], to[PATH_MAX];
        struct stat st;
        int r = registry_staging_path(dir, version, from, sizeof(from));

        if (r == 0)
                r = registry_path(dir, version, to, sizeof(to));
        if (r < 0)
                return fail(err, err_size, r, "%s: bad version name or path too long", version);
        if (stat(to, &st) == 0)
                return fail(err, err_size, -EEXIST, "%s: version exists already", to);
        if (rename(from, to) < 0)
                return fail(err, err_size, -errno, "%s: %s", to, strerror(errno));
        return 0;
}

int registry_status_set(const char *dir, const char *version, const char *status,
                        const char *reason, char *err, size_t err_size) {
        struct fraud_modelfile *m = malloc(sizeof(*m));
        char path[PATH_MAX];
        int r = m ? registry_read(dir, version, m, err, err_size) : -ENOMEM;

        if (r == 0) {
                snprintf(m->status, sizeof(m->status), "%s", status);
                snprintf(m->status_reason, sizeof(m->status_reason), "%s", reason);
                registry_path(dir, version, path, sizeof(path));
                if ((r = fraud_modelfile_write(m, path)) < 0)
                        fail(err, err_size, r, "%s/model.yaml: %s", path, strerror(-r));
        } else if (r == -ENOMEM) {
                fail(err, err_size, r, "out of memory");
        }
        free(m);
        return r;
}

int registry_promote(const char *dir, const char *version, const char *reason, char *previous,
                     size_t previous_size, char *err, size_t err_size) {
        char old[FRAUD_MODELFILE_VERSION_MAX] = "", why[FRAUD_TRAINER_REASON_MAX];
        struct fraud_modelfile *m = malloc(sizeof(*m));
        int r = m ? registry_read(dir, version, m, err, err_size) : -ENOMEM;

        free(m); /* read only to prove the version is a complete model */
        if (r < 0)
                return r == -ENOMEM ? fail(err, err_size, r, "out of memory") : r;
        r = registry_champion(dir, old, sizeof(old), err, err_size);
        if (r < 0 && r != -ENOENT)
                return r;
        if (strcmp(old, version) != 0 && (r = pointer_write(dir, version, err, err_size)) < 0)
                return r;
        r = registry_status_set(dir, version, "champion", reason, err, err_size);
        if (r == 0 && old[0] && strcmp(old, version) != 0) {
                snprintf(why, sizeof(why), "replaced by %s", version);
                r = registry_status_set(dir, old, "retired", why, err, err_size);
        }
        snprintf(previous, previous_size, "%s", strcmp(old, version) != 0 ? old : "");
        return r;
}

int registry_rollback(const char *dir, const char *target, const char *reason, char *chosen,
                      size_t chosen_size, char *err, size_t err_size) {
        char current[FRAUD_MODELFILE_VERSION_MAX], to[FRAUD_MODELFILE_VERSION_MAX],
                previous[FRAUD_MODELFILE_VERSION_MAX];
        struct fraud_modelfile *m = malloc(sizeof(*m));
        int r = m ? registry_champion(dir, current, sizeof(current), err, err_size) : -ENOMEM;

        if (r == 0 && !target)
                r = registry_read(dir, current, m, err, err_size);
        if (r == 0) {
                snprintf(to, sizeof(to), "%s", target ? target : m->parent_version);
                if (!to[0])
                        r = fail(err, err_size, -ENOENT,
                                 "champion %s has no parent version to roll back to", current);
                else if (!strcmp(to, current))
                        r = fail(err, err_size, -EINVAL, "%s is the champion already", to);
        }
        free(m);
        if (r == -ENOMEM)
                return fail(err, err_size, r, "out of memory");
        if (r == 0)
                r = registry_promote(dir, to, reason, previous, sizeof(previous), err, err_size);
        if (r == 0)
                snprintf(chosen, chosen_size, "%s", to);
        return r;
}

static int name_cmp(const void *a, const void *b) {
        return strcmp(a, b);
}

int registry_versions(const char *dir, char (*names)[FRAUD_MODELFILE_VERSION_MAX], size_t max,
                      size_t *n, char *err, size_t err_size) {
        char path[PATH_MAX + NAME_MAX + 16];
        struct dirent *e;
        struct stat st;
        DIR *d = opendir(dir);

        *n = 0;
        if (!d)
                return fail(err, err_size, -errno, "%s: %s", dir, strerror(errno));
        while ((e = readdir(d))) {
                if (registry_version_check(e->d_name) < 0)
                        continue;
                snprintf(path, sizeof(path), "%s/%s/model.yaml", dir, e->d_name);
                if (stat(path, &st) < 0)
                        continue;
                if (*n == max) {
                        closedir(d);
                        return fail(err, err_size, -E2BIG, "%s: more than %zu versions", dir, max);
                }
                memcpy(names[(*n)++], e->d_name, strlen(e->d_name) + 1);
        }
        closedir(d);
        qsort(names, *n, sizeof(names[0]), name_cmp);
        return 0;
}

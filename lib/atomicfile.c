/* atomicfile.c: see atomicfile.h. */
#include "lib/atomicfile.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int fraud_atomicfile_open(struct fraud_atomicfile *a, const char *path) {
        int n;

        a->f = NULL;
        n = snprintf(a->path, sizeof(a->path), "%s", path);
        if (n < 0 || (size_t)n >= sizeof(a->path))
                return -ENAMETOOLONG;
        n = snprintf(a->tmp, sizeof(a->tmp), "%s.tmp.%ld", path, (long)getpid());
        if (n < 0 || (size_t)n >= sizeof(a->tmp))
                return -ENAMETOOLONG;
        a->f = fopen(a->tmp, "we");
        return a->f ? 0 : -errno;
}

int fraud_atomicfile_commit(struct fraud_atomicfile *a) {
        int r = 0;

        if (!a->f)
                return -EBADF;
        if (fflush(a->f) != 0 || ferror(a->f))
                r = -EIO;
        if (r == 0 && fsync(fileno(a->f)) < 0)
                r = -errno;
        if (fclose(a->f) != 0 && r == 0)
                r = -errno;
        a->f = NULL;
        if (r == 0 && rename(a->tmp, a->path) < 0)
                r = -errno;
        if (r < 0)
                unlink(a->tmp);
        return r;
}

void fraud_atomicfile_abort(struct fraud_atomicfile *a) {
        if (!a->f)
                return;
        fclose(a->f);
        a->f = NULL;
        unlink(a->tmp);
}

int fraud_atomicfile_write(const char *path, const void *data, size_t size) {
        struct fraud_atomicfile a;
        int r = fraud_atomicfile_open(&a, path);

        if (r < 0)
                return r;
        if (size > 0 && fwrite(data, 1, size, a.f) != size) {
                fraud_atomicfile_abort(&a);
                return -EIO;
        }
        return fraud_atomicfile_commit(&a);
}

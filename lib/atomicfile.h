/* atomicfile.h: write a file so that readers see the old one or the whole
 * new one, never half of it.
 *
 * The content goes to "PATH.tmp.PID" beside the target; commit flushes it,
 * fsyncs it, closes it and renames it over PATH (atomic on POSIX file
 * systems); any failure removes the temporary file and leaves PATH as it
 * was.  Used for the embedded broker's bootstrap file and model artifacts.
 */
#ifndef FRAUD_ATOMICFILE_H
#define FRAUD_ATOMICFILE_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

struct fraud_atomicfile {
        FILE *f; /* write through this between open and commit */
        char path[PATH_MAX];
        char tmp[PATH_MAX];
};

/* -ENAMETOOLONG, or -errno from creating the temporary file. */
int fraud_atomicfile_open(struct fraud_atomicfile *a, const char *path);
/* Renames the content into place; -errno (temporary file removed). */
int fraud_atomicfile_commit(struct fraud_atomicfile *a);
/* Drops the content; PATH is untouched.  Harmless after commit. */
void fraud_atomicfile_abort(struct fraud_atomicfile *a);

/* open + one write + commit. */
int fraud_atomicfile_write(const char *path, const void *data, size_t size);

#endif

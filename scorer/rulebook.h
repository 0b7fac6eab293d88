/* rulebook.h: the scorer's current rules and how they are reloaded.
 *
 * Holds the rules file's path, the last rules that loaded, their text, and
 * the feature schema they are compiled against.  rulebook_refresh() is
 * called between batches (and with force after SIGHUP): it stats the file
 * and reloads when its modification time, size or inode changed since the
 * last attempt, so a file is read once per change, not once per batch, and
 * there is no watcher thread.  A file that cannot be stat'ed is reported
 * once, until it is back (or force).  A file that fails to load (YAML, a rule, an
 * unknown feature) changes nothing: the previous rules stay in force and
 * the error (FILE:LINE: ...) is returned for the caller to log and count.
 * A new schema (a model with other feature names) recompiles the kept
 * text; if it does not compile, the previous rules and schema stay.
 *
 * The only I/O is stat() and reading the file.  One thread.
 */
#ifndef FRAUD_SCORER_RULEBOOK_H
#define FRAUD_SCORER_RULEBOOK_H

#include <stdbool.h>
#include <stddef.h>

#include "scorer/rules.h"

struct rulebook;

/* path "" means no rules file: rulebook_rules() stays NULL.  path is
 * copied.  -ENOMEM, -ENAMETOOLONG. */
int rulebook_new(const char *path, struct rulebook **out);
/* rulebook_free(NULL) is a no-op. */
void rulebook_free(struct rulebook *b);

/* Reloads if the file changed (or force).  Returns 0 when nothing changed,
 * 1 when new rules are in force, or -errno with the reason in err (the
 * previous rules kept). */
int rulebook_refresh(struct rulebook *b, bool force, char *err, size_t err_size);

/* Recompiles the current rules against names (copied).  0, or -errno with
 * the reason in err (previous rules and schema kept). */
int rulebook_schema_set(struct rulebook *b, const char *const *names, size_t n, char *err,
                        size_t err_size);

/* The rules in force, or NULL when none loaded.  Borrowed until the next
 * refresh or schema_set. */
const struct rules *rulebook_rules(const struct rulebook *b);

#endif

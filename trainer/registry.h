/* registry.h: the model registry on disk, shared by the trainer daemon and
 * `fraudctl model`.
 *
 *   DIR/VERSION/     one model version (common/modelfile.h): model.yaml with
 *                    its lineage (feature schema, thresholds, data range,
 *                    label cutoff, parameters, metrics, parent version) and
 *                    its status (candidate, champion, rejected, retired)
 *                    with status_reason; gbdt.json; mlp.bin
 *   DIR/CHAMPION     the champion's version and a newline
 *   DIR/.VERSION.staging   a version being written (never read as a model)
 *
 * The CHAMPION file is the truth about which model serves; it is replaced
 * atomically (lib/atomicfile.h, write then rename).  Statuses in model.yaml
 * follow it: promote writes the pointer first, then marks the new champion
 * and retires the old one; a crash between leaves a stale status, and the
 * pointer still decides (`fraudctl model list` marks the version it names).
 * A version directory appears at once,
 * complete: it is written under its staging name and renamed into place.
 *
 * Version names: 1 to FRAUD_MODELFILE_VERSION_MAX - 1 bytes of letters,
 * digits, '.', '_' and '-', not starting with '.' and not CHAMPION;
 * anything else is refused (-EINVAL), so a name never escapes DIR.
 *
 * Writers: the daemon and an operator's `fraudctl model` may both write;
 * each change is atomic and the last one wins.  Errors: -errno with the
 * reason ("path: why") in err.
 */
#ifndef FRAUD_REGISTRY_H
#define FRAUD_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "common/modelfile.h"

/* 0 when name is a valid version name, else -EINVAL. */
int registry_version_check(const char *name);

/* Creates dir when missing (one level). */
int registry_init(const char *dir, char *err, size_t err_size);

/* The directory of version (out: size bytes).  -EINVAL, -ENAMETOOLONG. */
int registry_path(const char *dir, const char *version, char *out, size_t size);
/* Where a version is written before registry_install() moves it in. */
int registry_staging_path(const char *dir, const char *version, char *out, size_t size);

/* The champion's version into out, or -ENOENT when there is none. */
int registry_champion(const char *dir, char *out, size_t size, char *err, size_t err_size);

/* Reads version's model.yaml into *m.  -ENOENT when the version does not
 * exist (no model.yaml). */
int registry_read(const char *dir, const char *version, struct fraud_modelfile *m, char *err,
                  size_t err_size);

/* Removes a staging directory left by a crash (its files, then it). */
int registry_staging_clear(const char *dir, const char *version, char *err, size_t err_size);

/* Moves the staging directory of version into place.  -EEXIST when the
 * version exists already (a version is never overwritten). */
int registry_install(const char *dir, const char *version, char *err, size_t err_size);

/* Sets version's status and status_reason (model.yaml rewritten
 * atomically). */
int registry_status_set(const char *dir, const char *version, const char *status,
                        const char *reason, char *err, size_t err_size);

/* Makes version the champion: the pointer, then its status (reason), then
 * the previous champion's status, retired.  Promoting the champion again
 * rewrites its status only.  The previous champion's version goes to
 * previous ("" when none). */
int registry_promote(const char *dir, const char *version, const char *reason, char *previous,
                     size_t previous_size, char *err, size_t err_size);

/* Puts back target (NULL: the champion's parent_version, the champion it
 * replaced) as champion and retires the current one, with reason.  The
 * version chosen goes to chosen.  -ENOENT when there is no champion or no
 * target. */
int registry_rollback(const char *dir, const char *target, const char *reason, char *chosen,
                      size_t chosen_size, char *err, size_t err_size);

/* The versions in dir (directories holding a model.yaml), sorted by
 * name, at most max into names; *n gets the count.  -E2BIG beyond max. */
int registry_versions(const char *dir, char (*names)[FRAUD_MODELFILE_VERSION_MAX], size_t max,
                      size_t *n, char *err, size_t err_size);

#endif

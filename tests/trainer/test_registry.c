/* test_registry.c: tests of trainer/registry.c on a temporary directory:
 * version names that could escape the registry are refused, a version
 * appears whole (staging, then rename) and is never overwritten, promote
 * and rollback move the CHAMPION pointer and the statuses, and the
 * listing holds complete versions only, sorted. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/featureset.h"
#include "tests/testing.h"
#include "trainer/registry.h"

static char root[PATH_MAX];
static char err[1024];

static void root_make(void) {
        snprintf(root, sizeof(root), "/tmp/fraud-registry-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
}

/* Writes version (parent as given) through staging and install. */
static void version_add(const char *version, const char *parent) {
        const char *names[] = {"amount", "hour_of_day"};
        struct fraud_modelfile *m = calloc(1, sizeof(*m));
        char staging[PATH_MAX];

        snprintf(m->version, sizeof(m->version), "%s", version);
        snprintf(m->parent_version, sizeof(m->parent_version), "%s", parent);
        m->n_features = 2;
        snprintf(m->feature_names[0], sizeof(m->feature_names[0]), "%s", names[0]);
        snprintf(m->feature_names[1], sizeof(m->feature_names[1]), "%s", names[1]);
        m->feature_schema_hash = fraud_featureset_hash(names, 2);
        m->block_threshold = 0.5;
        m->review_threshold = m->band_low = 0.3;
        m->band_high = 0.7;
        snprintf(m->status, sizeof(m->status), "candidate");
        ck_assert_int_eq(registry_staging_path(root, version, staging, sizeof(staging)), 0);
        ck_assert_int_eq(mkdir(staging, 0755), 0);
        ck_assert_int_eq(fraud_modelfile_write(m, staging), 0);
        ck_assert_msg(registry_install(root, version, err, sizeof(err)) == 0, "%s", err);
        free(m);
}

static void status_is(const char *version, const char *status, const char *reason_part) {
        struct fraud_modelfile *m = malloc(sizeof(*m));

        ck_assert_msg(registry_read(root, version, m, err, sizeof(err)) == 0, "%s", err);
        ck_assert_str_eq(m->status, status);
        ck_assert_msg(strstr(m->status_reason, reason_part), "%s: %s", version, m->status_reason);
        free(m);
}

static void champion_is(const char *version) {
        char v[FRAUD_MODELFILE_VERSION_MAX];

        ck_assert_msg(registry_champion(root, v, sizeof(v), err, sizeof(err)) == 0, "%s", err);
        ck_assert_str_eq(v, version);
}

START_TEST(test_registry_refuses_names_that_escape_or_collide) {
        const char *bad[] = {
                "",         ".hidden",
                "..",       "a/b",
                "../x",     "a b",
                "CHAMPION", "0123456789012345678901234567890123456789012345678901234567890123"};
        char path[PATH_MAX];

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ck_assert_msg(registry_version_check(bad[i]) == -EINVAL, "%s", bad[i]);
        ck_assert_int_eq(registry_version_check("train-20260110"), 0);
        ck_assert_int_eq(registry_version_check("v1.2_rc-3"), 0);
        ck_assert_int_eq(registry_path("/r", "../x", path, sizeof(path)), -EINVAL);
        ck_assert_int_eq(registry_path("/r", "v1", path, sizeof(path)), 0);
        ck_assert_str_eq(path, "/r/v1");
        ck_assert_int_eq(registry_path("/r", "v1", path, 5), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_registry_version_appears_whole_and_is_never_overwritten) {
        char staging[PATH_MAX], file[PATH_MAX + 16];
        struct stat st;
        FILE *f;

        root_make();
        ck_assert_int_eq(registry_init(root, err, sizeof(err)), 0);
        ck_assert_int_eq(registry_init(root, err, sizeof(err)), 0); /* exists: fine */
        version_add("v1", "");
        status_is("v1", "candidate", "");
        ck_assert_int_eq(registry_staging_path(root, "v1", staging, sizeof(staging)), 0);
        ck_assert_int_eq(stat(staging, &st), -1); /* moved, not copied */
        ck_assert_int_eq(mkdir(staging, 0755), 0);
        ck_assert_int_eq(registry_install(root, "v1", err, sizeof(err)), -EEXIST);
        /* a staging directory left by a crash, with files in it */
        snprintf(file, sizeof(file), "%s/gbdt.json", staging);
        f = fopen(file, "w");
        ck_assert_ptr_nonnull(f);
        fclose(f);
        ck_assert_int_eq(registry_staging_clear(root, "v1", err, sizeof(err)), 0);
        ck_assert_int_eq(stat(staging, &st), -1);
        ck_assert_int_eq(registry_staging_clear(root, "v1", err, sizeof(err)), 0); /* none */
        ck_assert_int_eq(registry_read(root, "v9", NULL, err, sizeof(err)), -ENOENT);
        ck_assert_int_eq(testing_tree_remove(root), 0);
}
END_TEST

START_TEST(test_registry_promote_moves_pointer_and_retires_previous) {
        char prev[FRAUD_MODELFILE_VERSION_MAX];

        root_make();
        ck_assert_int_eq(registry_champion(root, prev, sizeof(prev), err, sizeof(err)), -ENOENT);
        version_add("v1", "");
        version_add("v2", "v1");
        ck_assert_int_eq(
                registry_promote(root, "v1", "first", prev, sizeof(prev), err, sizeof(err)), 0);
        ck_assert_str_eq(prev, "");
        champion_is("v1");
        status_is("v1", "champion", "first");
        ck_assert_int_eq(
                registry_promote(root, "v2", "better", prev, sizeof(prev), err, sizeof(err)), 0);
        ck_assert_str_eq(prev, "v1");
        champion_is("v2");
        status_is("v2", "champion", "better");
        status_is("v1", "retired", "replaced by v2");
        ck_assert_int_eq(
                registry_promote(root, "v2", "again", prev, sizeof(prev), err, sizeof(err)), 0);
        ck_assert_str_eq(prev, ""); /* no change of champion */
        status_is("v2", "champion", "again");
        ck_assert_int_eq(
                registry_promote(root, "v3", "missing", prev, sizeof(prev), err, sizeof(err)),
                -ENOENT);
        champion_is("v2");
        ck_assert_int_eq(testing_tree_remove(root), 0);
}
END_TEST

START_TEST(test_registry_rollback_restores_parent_or_named_version) {
        char chosen[FRAUD_MODELFILE_VERSION_MAX], prev[FRAUD_MODELFILE_VERSION_MAX];

        root_make();
        ck_assert_int_eq(
                registry_rollback(root, NULL, "r", chosen, sizeof(chosen), err, sizeof(err)),
                -ENOENT); /* no champion */
        version_add("v1", "");
        version_add("v2", "v1");
        version_add("v3", "v2");
        registry_promote(root, "v1", "p", prev, sizeof(prev), err, sizeof(err));
        ck_assert_int_eq(
                registry_rollback(root, NULL, "r", chosen, sizeof(chosen), err, sizeof(err)),
                -ENOENT); /* v1 has no parent */
        ck_assert_ptr_nonnull(strstr(err, "no parent"));
        registry_promote(root, "v3", "p", prev, sizeof(prev), err, sizeof(err));
        ck_assert_int_eq(registry_rollback(root, NULL, "bad model", chosen, sizeof(chosen), err,
                                           sizeof(err)),
                         0);
        ck_assert_str_eq(chosen, "v2"); /* v3's parent */
        champion_is("v2");
        status_is("v2", "champion", "bad model");
        status_is("v3", "retired", "replaced by v2");
        ck_assert_int_eq(
                registry_rollback(root, "v2", "r", chosen, sizeof(chosen), err, sizeof(err)),
                -EINVAL);
        ck_assert_int_eq(
                registry_rollback(root, "v3", "back", chosen, sizeof(chosen), err, sizeof(err)), 0);
        champion_is("v3");
        ck_assert_int_eq(testing_tree_remove(root), 0);
}
END_TEST

START_TEST(test_registry_versions_lists_complete_versions_sorted) {
        char names[8][FRAUD_MODELFILE_VERSION_MAX], staging[PATH_MAX], path[PATH_MAX + 8];
        char prev[FRAUD_MODELFILE_VERSION_MAX];
        size_t n;

        root_make();
        version_add("train-20260112", "");
        version_add("train-20260110", "");
        version_add("train-20260111", "");
        registry_promote(root, "train-20260111", "p", prev, sizeof(prev), err, sizeof(err));
        registry_staging_path(root, "train-20260113", staging, sizeof(staging));
        ck_assert_int_eq(mkdir(staging, 0755), 0); /* being written */
        snprintf(path, sizeof(path), "%s/empty", root);
        ck_assert_int_eq(mkdir(path, 0755), 0); /* no model.yaml */
        ck_assert_int_eq(registry_versions(root, names, 8, &n, err, sizeof(err)), 0);
        ck_assert_uint_eq(n, 3);
        ck_assert_str_eq(names[0], "train-20260110");
        ck_assert_str_eq(names[2], "train-20260112");
        ck_assert_int_eq(registry_versions(root, names, 2, &n, err, sizeof(err)), -E2BIG);
        ck_assert_int_eq(testing_tree_remove(root), 0);
        ck_assert_int_eq(registry_versions(root, names, 8, &n, err, sizeof(err)), -ENOENT);
}
END_TEST

TESTING_MAIN("registry", test_registry_refuses_names_that_escape_or_collide,
             test_registry_version_appears_whole_and_is_never_overwritten,
             test_registry_promote_moves_pointer_and_retires_previous,
             test_registry_rollback_restores_parent_or_named_version,
             test_registry_versions_lists_complete_versions_sorted)

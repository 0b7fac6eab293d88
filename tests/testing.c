/* testing.c: see testing.h. */
#include "tests/testing.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

int testing_run(Suite *s) {
        SRunner *sr = srunner_create(s);
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

Suite *testing_suite(const char *name, const TTest *const *fns, int n) {
        Suite *s = suite_create(name);
        TCase *tc = tcase_create("core");

        /* Per-test timeouts come from meson; Check's own would fire first. */
        tcase_set_timeout(tc, 0);
        for (int i = 0; i < n; i++)
                tcase_add_test(tc, fns[i]);
        suite_add_tcase(s, tc);
        return s;
}

const char *testing_source_root(void) {
        const char *root = getenv("FRAUD_SOURCE_ROOT");

        return root && *root ? root : ".";
}

static int testing_entry_remove(const char *path, const struct stat *sb, int flag,
                                struct FTW *ftw) {
        (void)sb, (void)flag, (void)ftw;
        return remove(path);
}

int testing_tree_remove(const char *dir) {
        return nftw(dir, testing_entry_remove, 16, FTW_DEPTH | FTW_PHYS);
}

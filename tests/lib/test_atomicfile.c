/* Tests for lib/atomicfile.c: the target holds the old or the whole new
 * content, and no temporary file is left behind. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/atomicfile.h"

#include "tests/testing.h"

static char dir[64];
static char path[128];

static void setup_dir(void) {
        snprintf(dir, sizeof(dir), "/tmp/fraud-atomicfile-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/target", dir);
}

static int entries(void) {
        DIR *d = opendir(dir);
        struct dirent *e;
        int n = 0;

        ck_assert_ptr_nonnull(d);
        while ((e = readdir(d)))
                n += e->d_name[0] != '.';
        closedir(d);
        return n;
}

static char *slurp(void) {
        static char buf[256];
        FILE *f = fopen(path, "r");
        size_t n;

        ck_assert_ptr_nonnull(f);
        n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

static void cleanup(void) {
        unlink(path);
        rmdir(dir);
}

START_TEST(test_atomicfile_write_replaces_content_and_leaves_no_temporary) {
        setup_dir();
        ck_assert_int_eq(fraud_atomicfile_write(path, "old\n", 4), 0);
        ck_assert_int_eq(fraud_atomicfile_write(path, "new content\n", 12), 0);
        ck_assert_str_eq(slurp(), "new content\n");
        ck_assert_int_eq(entries(), 1);
        cleanup();
}
END_TEST

START_TEST(test_atomicfile_abort_keeps_the_old_content) {
        struct fraud_atomicfile a;

        setup_dir();
        ck_assert_int_eq(fraud_atomicfile_write(path, "old\n", 4), 0);
        ck_assert_int_eq(fraud_atomicfile_open(&a, path), 0);
        fputs("half of the new", a.f);
        fflush(a.f);
        ck_assert_str_eq(slurp(), "old\n"); /* not visible before commit */
        fraud_atomicfile_abort(&a);
        fraud_atomicfile_abort(&a);
        ck_assert_str_eq(slurp(), "old\n");
        ck_assert_int_eq(entries(), 1);
        cleanup();
}
END_TEST

START_TEST(test_atomicfile_open_in_missing_directory_fails_with_errno) {
        struct fraud_atomicfile a;

        ck_assert_int_eq(fraud_atomicfile_open(&a, "/nonexistent-dir/x"), -ENOENT);
        ck_assert_int_eq(fraud_atomicfile_commit(&a), -EBADF);
}
END_TEST

TESTING_MAIN("atomicfile", test_atomicfile_write_replaces_content_and_leaves_no_temporary,
             test_atomicfile_abort_keeps_the_old_content,
             test_atomicfile_open_in_missing_directory_fails_with_errno)

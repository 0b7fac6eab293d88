/* testing.h: what every test program shares: run a Check suite and turn
 * its result into an exit status, and find the source tree. */
#ifndef FRAUD_TESTING_H
#define FRAUD_TESTING_H

#include <check.h>

/* Runs every test of s (forked, CK_NORMAL output), frees the runner and
 * returns EXIT_SUCCESS or EXIT_FAILURE for main() to return. */
int testing_run(Suite *s);

/* A suite with one test case "core" holding the n tests of fns. */
Suite *testing_suite(const char *name, const TTest *const *fns, int n);

/* Removes dir and everything below it (no symlinks followed).  0, or the
 * failure of the walk. */
int testing_tree_remove(const char *dir);

/* The source root: $FRAUD_SOURCE_ROOT (set by tests/meson.build). */
const char *testing_source_root(void);

#define TESTING_MAIN(suite_name, ...)                                                              \
        int main(void) {                                                                           \
                const TTest *const fns[] = {__VA_ARGS__};                                          \
                return testing_run(                                                                \
                        testing_suite(suite_name, fns, (int)(sizeof(fns) / sizeof(fns[0]))));      \
        }

#endif

#!/bin/sh
# run-tests.sh: install what is missing, build with warnings as errors, run
# the whole test suite, then build again with AddressSanitizer and
# UndefinedBehaviorSanitizer and run the suite a second time.
#
#   ./run-tests.sh            everything
#   ./run-tests.sh --quick    the plain build only (no sanitizers)
#   ./run-tests.sh NAME...    only the named tests, in both builds
set -eu
cd "$(dirname "$0")"
. tools/deps.sh

quick=0
if [ "${1:-}" = "--quick" ]; then
        quick=1
        shift
fi
case "${1:-}" in
-h|--help)
        sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
        exit 0 ;;
esac

fraud_deps_install $FRAUD_TEST_PACKAGES

setup() { # dir, extra meson options...
        dir=$1
        shift
        if [ -f "$dir/build.ninja" ]; then
                meson setup --reconfigure "$dir" "$@" >/dev/null
        else
                meson setup "$dir" "$@" >/dev/null
        fi
}

jobs=$(nproc 2>/dev/null || echo 2)

setup build -Dwerror=true
ninja -C build -j "$jobs"
meson test -C build --print-errorlogs --num-processes "$jobs" "$@"

[ "$quick" -eq 1 ] && exit 0

# Leak checking stays on; known leaks inside third-party libraries are
# listed, with the reason, in tests/lsan.supp.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1"
export LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debug
ninja -C build-asan -j "$jobs"
meson test -C build-asan --print-errorlogs --num-processes "$jobs" \
        --timeout-multiplier 3 "$@"
echo "all tests passed (plain and sanitized builds)"

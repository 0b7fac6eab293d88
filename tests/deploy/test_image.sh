#!/bin/sh
# test_image.sh: the Dockerfile's runtime stage installs every shared
# library the copied binaries load.
#
# The image is not built here (that needs a container engine and the
# network).  Instead, for each binary the runtime stage copies out of the
# builder, the binary of this build is read: each DT_NEEDED library is
# resolved (ldd) to the Debian package that ships it (dpkg-query -S), and
# that package must be named on the runtime stage's apt-get install line,
# or be part of every Debian base image (libc6, libgcc-s1, libstdc++6).
# Both builds are Debian bookworm, so the package names are the image's.
#
# Exit 77 (meson's skip) when this is not a Debian system (no dpkg-query).
set -u

src=${FRAUD_SOURCE_ROOT:?FRAUD_SOURCE_ROOT is not set (run through meson test)}
build=${FRAUD_BUILD_ROOT:?FRAUD_BUILD_ROOT is not set (run through meson test)}
dockerfile=${FRAUD_DOCKERFILE:-$src/Dockerfile}
base="libc6 libgcc-s1 libstdc++6"

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v objdump >/dev/null 2>&1; then
        echo "SKIP: dpkg-query or objdump missing: not a Debian build machine"
        exit 77
fi

# The runtime stage: from the last FROM to the end, continuation lines joined.
runtime=$(awk '/^FROM /{s=""} {s=s $0 "\n"} END{printf "%s", s}' "$dockerfile" |
        sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta')
packages=$(printf '%s\n' "$runtime" | grep 'apt-get install' |
        sed -e 's/.*apt-get install//' -e 's/&&.*//' | tr ' ' '\n' | grep -v '^-' |
        sed -n '/^[a-z0-9][a-z0-9.+-]*$/p' | sort -u)
binaries=$(printf '%s\n' "$runtime" | grep '^COPY --from=build' |
        tr ' ' '\n' | grep '^/src/build/' | sed 's|^/src/build/||')

failed=0
[ -n "$packages" ] || { echo "FAIL: no apt-get install in the runtime stage"; failed=1; }
[ -n "$binaries" ] || { echo "FAIL: no binary copied from the build stage"; failed=1; }

# "binary library path real-path" for every DT_NEEDED entry of every copied
# binary (dpkg knows a file by either path: /lib is /usr/lib on merged-/usr
# systems, and versioned names are symlinks).
needs=""
for b in $binaries; do
        if [ ! -x "$build/$b" ]; then
                echo "FAIL: $b: copied by the Dockerfile, not built here"
                failed=1
                continue
        fi
        resolved=$(ldd "$build/$b")
        # A sanitized build's runtimes (libasan, libubsan, ...) are the test
        # build's instrumentation: the image is built without them.
        for lib in $(objdump -p "$build/$b" | awk '/NEEDED/ && $2 !~ /^lib[a-z]*san\./ { print $2 }'); do
                path=$(printf '%s\n' "$resolved" | awk -v l="$lib" '$1 == l { print $3 }')
                needs="$needs$b $lib $path $(readlink -f "$path")
"
        done
done
# One dpkg-query for every library: "package:arch: /path" lines.
owners=$(printf '%s' "$needs" | awk '{ print $3; print $4 }' | sort -u |
        xargs dpkg-query -S 2>/dev/null)

while read -r b lib path real; do
        [ -n "$b" ] || continue
        pkg=$(printf '%s\n' "$owners" |
                awk -v p="$path" -v r="$real" '$2 == p || $2 == r { sub(/:.*/, "", $1); print $1; exit }')
        if [ -z "$pkg" ]; then
                echo "FAIL: $b: $lib ($path) belongs to no Debian package"
                failed=1
        elif ! printf '%s\n' $packages $base | grep -qx "$pkg"; then
                echo "FAIL: $b needs $lib from $pkg, not installed by the runtime stage"
                failed=1
        fi
done <<EOF
$needs
EOF
[ "$failed" -eq 0 ] || exit 1
echo "runtime stage covers $(printf '%s\n' $binaries | wc -l) binaries:" $packages

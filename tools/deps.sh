# deps.sh: the Debian packages the project needs, and a function that
# installs the missing ones.  Sourced by run-demo.sh, run-tests.sh and
# .ci/run; nothing is ever installed from anywhere but Debian's archive.

FRAUD_BUILD_PACKAGES="gcc libc6-dev pkg-config meson ninja-build python3
  librdkafka-dev librocksdb-dev libxgboost-dev libprotobuf-c-dev
  protobuf-c-compiler libyaml-dev check"
# kcat: an independent Kafka client, used by the demo and the tests to read
# topics without our own code.
FRAUD_TOOL_PACKAGES="kcat"

fraud_deps_install() {
        missing=""
        for p in $FRAUD_BUILD_PACKAGES $FRAUD_TOOL_PACKAGES "$@"; do
                if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
                        grep -q "install ok installed"; then
                        missing="$missing $p"
                fi
        done
        [ -z "$missing" ] && return 0
        echo "installing Debian packages:$missing" >&2
        if [ "$(id -u)" -eq 0 ]; then
                sudo=""
        elif command -v sudo >/dev/null 2>&1; then
                sudo="sudo"
        else
                echo "error: packages missing ($missing) and no root or sudo to install them" >&2
                return 1
        fi
        $sudo apt-get update -qq &&
                DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
                        --no-install-recommends $missing >/dev/null
}

# deps.sh: the Debian packages the project needs, and a function that
# installs the missing ones.  Sourced by run-demo.sh, run-tests.sh and
# .ci/run; nothing is ever installed from anywhere but Debian's archive.

FRAUD_BUILD_PACKAGES="gcc libc6-dev pkg-config meson ninja-build python3
  librdkafka-dev librocksdb-dev libxgboost-dev libprotobuf-c-dev
  protobuf-c-compiler libyaml-dev libmicrohttpd-dev check"
# kcat: an independent Kafka client, used by the demo and the tests to read
# topics without our own code.
FRAUD_TOOL_PACKAGES="kcat"
# Packages only the test suite needs (run-tests.sh installs them):
# systemd: systemd-analyze and systemd-sysusers check deploy/systemd/.
# chromium, nodejs, npm: the dashboard's page in a headless browser
# (tests/browser/run.sh; Playwright itself comes from npm, pinned).
# prometheus: a real Prometheus scrapes the daemons with the shipped
# deploy/prometheus/prometheus.yml (tests/deploy/prometheus.sh).
FRAUD_TEST_PACKAGES="systemd chromium nodejs npm prometheus"
# Packages only bench/compare.sh needs: the Python baseline it measures
# against (bench/baseline/), redis-py with its usual hiredis parser.
FRAUD_BENCH_PACKAGES="python3-confluent-kafka python3-redis python3-hiredis
  python3-xgboost redis-server"

fraud_deps_install() {
        missing=""
        for p in $FRAUD_BUILD_PACKAGES $FRAUD_TOOL_PACKAGES "$@"; do
                # Node.js installed from elsewhere provides node and npm
                # itself (and conflicts with Debian's npm): that will do.
                case "$p" in
                nodejs) command -v node >/dev/null 2>&1 && continue ;;
                npm) command -v npm >/dev/null 2>&1 && continue ;;
                esac
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

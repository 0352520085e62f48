#!/usr/bin/env bash
# s3-tests.sh runs Ceph's s3-tests (https://github.com/ceph/s3-tests) against a strict-mode Kiri
# and checks the result against the failures Kiri expects.
#
#   bench/s3-tests.sh /path/to/s3-tests [extra pytest args...]
#
# The suite is pinned: the checkout must be at revision $S3TESTS_REV (below), e.g.
#   git clone https://github.com/ceph/s3-tests /tmp/s3-tests && git -C /tmp/s3-tests checkout <rev>
# It builds Kiri, starts it on 127.0.0.1:$PORT with a fresh data directory and the three
# s3-tests identities (bench/s3tests/keys.csv), writes S3TEST_CONF from
# bench/s3tests/s3tests.conf.in, and runs s3tests/functional/test_s3.py -m 'not fails_on_aws'.
# The raw output goes to $LOG (default /tmp/s3tests-<time>.log), failures are grouped by cause,
# and bench/s3tests/compare.py holds the results against bench/s3tests/expected-failures.txt
# (each expected failure with its reason).
#
# Exit status: 0 when every failure is an expected one, 1 when any other test failed (they are
# named), 2 on a usage or setup error. Expected failures that passed are named, so the list can
# be trimmed.
#
# Needs: Go, curl, git, Python 3 with boto3, and pytest, isodate, munch, pytz, dateutil. On Debian:
#   apt-get install -y golang curl git python3-boto3 python3-pytest python3-isodate python3-munch \
#     python3-tz python3-dateutil
# Debian's packages are appended to sys.path after the interpreter's own, so a newer boto3 from
# the default python3 (pip/pyenv) wins over Debian's python3-boto3. BOTO_DISABLE_CRT=true keeps
# botocore from signing some requests with the AWS CRT (python3-awscrt) when it is installed,
# which would change what is tested.
#
# Environment: PORT (8000), API_NAME (us-west-2), PYTHON (python3), LOG, MARK ('not fails_on_aws'),
# MAIN_ID/ALT_ID/TENANT_ID and *_DISPLAY (the owner ids and display names Kiri returns; by
# default derived from the account ids in keys.csv), KIRI_BIN (a prebuilt kiri instead of go build),
# S3TESTS_ANY_REV=1 (run a checkout at another revision; the expectations may not hold).
set -euo pipefail

if [[ $# -lt 1 || ! -f "$1/s3tests/functional/test_s3.py" ]]; then
	echo "usage: $0 /path/to/s3-tests [pytest args...]" >&2
	exit 2
fi
checkout=$(cd "$1" && pwd)
shift
# The revision of ceph/s3-tests that expected-failures.txt describes.
S3TESTS_REV=8f0ae7b404a3a2fcf7038bf1e6bf29544fe9b6a3
rev=$(git -C "$checkout" rev-parse HEAD 2>/dev/null || echo unknown)
if [[ $rev != "$S3TESTS_REV" && ${S3TESTS_ANY_REV:-} != 1 ]]; then
	echo "$checkout is at revision $rev; the expected failures describe $S3TESTS_REV:" >&2
	echo "  git -C $checkout fetch && git -C $checkout checkout $S3TESTS_REV   (or set S3TESTS_ANY_REV=1)" >&2
	exit 2
fi
export BOTO_DISABLE_CRT=true
root=$(cd "$(dirname "$0")/.." && pwd)
port=${PORT:-8000}
# Clients sign for us-east-1; test_bucket_get_location creates a bucket in API_NAME, which
# must be another region, as us-east-1 is no valid LocationConstraint on S3.
export AWS_DEFAULT_REGION=us-east-1
api_name=${API_NAME:-us-west-2}
python=${PYTHON:-python3}
mark=${MARK:-not fails_on_aws}
log=${LOG:-/tmp/s3tests-$(date +%Y%m%d-%H%M%S).log}
# Kiri shows an account's owner as a canonical user id derived from the account id, and the
# account id as its display name.
canonical() { printf 'kiri-canonical-user:%s' "$1" | sha256sum | cut -d' ' -f1; }
main_id=${MAIN_ID:-$(canonical 111111111111)}
alt_id=${ALT_ID:-$(canonical 222222222222)}
tenant_id=${TENANT_ID:-$(canonical 333333333333)}

work=$(mktemp -d /tmp/kiri-s3tests.XXXXXX)
kiri_pid=
cleanup() {
	if [[ -n $kiri_pid ]] && kill -0 "$kiri_pid" 2>/dev/null; then
		kill "$kiri_pid"
		wait "$kiri_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

bin=${KIRI_BIN:-}
if [[ -z $bin ]]; then
	bin=$work/kiri
	(cd "$root" && go build -o "$bin" ./cmd/kiri)
fi

sed -e "s/@PORT@/$port/" -e "s/@API_NAME@/$api_name/" \
	-e "s/@MAIN_ID@/$main_id/" -e "s/@MAIN_DISPLAY@/${MAIN_DISPLAY:-111111111111}/" \
	-e "s/@ALT_ID@/$alt_id/" -e "s/@ALT_DISPLAY@/${ALT_DISPLAY:-222222222222}/" \
	-e "s/@TENANT_ID@/$tenant_id/" -e "s/@TENANT_DISPLAY@/${TENANT_DISPLAY:-333333333333}/" \
	"$root/bench/s3tests/s3tests.conf.in" >"$work/s3tests.conf"

"$bin" serve --addr "127.0.0.1:$port" --data-dir "$work/data" --auth strict \
	--keys-file "$root/bench/s3tests/keys.csv" --log-level warn 2>"$work/kiri.log" &
kiri_pid=$!
for _ in $(seq 100); do
	curl -fsS "http://127.0.0.1:$port/_kiri/health" >/dev/null 2>&1 && break
	kill -0 "$kiri_pid" 2>/dev/null || { cat "$work/kiri.log" >&2; exit 1; }
	sleep 0.1
done

run_pytest() {
	(cd "$checkout" && S3TEST_CONF="$work/s3tests.conf" "$python" -c '
import sys
sys.path.append("/usr/lib/python3/dist-packages")
import pytest
sys.exit(pytest.main(sys.argv[1:]))' "$@")
}

collected=$(run_pytest --collect-only -q -m "$mark" s3tests/functional/test_s3.py 2>&1 | tail -1)
echo "selection (-m '$mark'): $collected"

set +e
COLUMNS=300 run_pytest -m "$mark" -rfE -p no:cacheprovider --junitxml="${log%.log}.xml" \
	s3tests/functional/test_s3.py "$@" >"$log" 2>&1
status=$?
set -e
cp "$work/kiri.log" "${log%.log}-kiri.log"
echo "s3-tests revision $rev; raw output: $log (Kiri's log: ${log%.log}-kiri.log)"
if [[ ! -s ${log%.log}.xml ]]; then
	echo "pytest wrote no results (exit $status); see $log" >&2
	exit 2
fi
echo "failures by cause:"
"$python" "$root/bench/s3tests/summarize.py" "$log"
"$python" "$root/bench/s3tests/compare.py" "${log%.log}.xml" "$root/bench/s3tests/expected-failures.txt"

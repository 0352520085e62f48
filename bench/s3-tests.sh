#!/usr/bin/env bash
# s3-tests.sh runs Ceph's s3-tests (https://github.com/ceph/s3-tests) against a strict-mode Kiri.
#
#   bench/s3-tests.sh /path/to/s3-tests [extra pytest args...]
#
# It builds Kiri, starts it on 127.0.0.1:$PORT with a fresh data directory and the three
# s3-tests identities (bench/s3tests/keys.csv), writes S3TEST_CONF from
# bench/s3tests/s3tests.conf.in, and runs s3tests/functional/test_s3.py -m 'not fails_on_aws'.
# The raw output goes to $LOG (default /tmp/s3tests-<time>.log); a summary is printed at the end.
#
# Needs: Go, Python 3 with boto3, and pytest, isodate, munch, pytz, dateutil. On Debian:
#   apt-get install -y python3-pytest python3-isodate python3-munch python3-tz python3-dateutil
# Debian's packages are appended to sys.path after the interpreter's own, so a newer boto3 from
# the default python3 (pip/pyenv) wins over Debian's python3-boto3.
#
# Environment: PORT (8000), API_NAME (us-west-2), PYTHON (python3), LOG, MARK ('not fails_on_aws'),
# MAIN_ID/ALT_ID/TENANT_ID and *_DISPLAY (the owner ids and display names Kiri returns; by
# default derived from the account ids in keys.csv), KIRI_BIN (a prebuilt kiri instead of go build).
set -euo pipefail

if [[ $# -lt 1 || ! -f "$1/s3tests/functional/test_s3.py" ]]; then
	echo "usage: $0 /path/to/s3-tests [pytest args...]" >&2
	exit 2
fi
checkout=$(cd "$1" && pwd)
shift
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
COLUMNS=300 run_pytest -m "$mark" -rfE -p no:cacheprovider s3tests/functional/test_s3.py "$@" >"$log" 2>&1
status=$?
set -e
cp "$work/kiri.log" "${log%.log}-kiri.log"
echo "raw output: $log (Kiri's log: ${log%.log}-kiri.log)"
echo "failures by cause:"
"$python" "$root/bench/s3tests/summarize.py" "$log"
exit $status

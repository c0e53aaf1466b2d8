#!/usr/bin/env bash
# The whole test suite: installs build dependencies if missing, builds and
# installs custfocus, then runs the pg_regress suite (make installcheck) and
# the scripts in test/t/ against a throw-away cluster made by pg_virtualenv.
# Prints "N passed, N failed" last; exits non-zero when anything failed.

if [ "${1:-}" != --in-cluster ]; then
	source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
	# pg_virtualenv makes a new cluster, exports PGHOST/PGPORT/PGUSER for it
	# and drops it when the command exits, whatever the outcome.  -t keeps the
	# cluster in a temporary directory, so runs side by side do not collide.
	exec pg_virtualenv -t -v "$CUSTFOCUS_PG_MAJOR" "$CUSTFOCUS_ROOT/test/check.sh" --in-cluster
fi
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

passed=0
failed=0

rm -f regression.diffs
make -s installcheck 2>&1 | tee /tmp/custfocus-regress.$$ || true
# pg_regress reports one line per test: "ok N - name" (v16+) or "test name ... ok"
read -r p f < <(awk '
	/^ok [0-9]+/ || /\.\.\. ok/ {p++}
	/^not ok [0-9]+/ || /\.\.\. FAILED/ {f++}
	END {print p+0, f+0}' /tmp/custfocus-regress.$$)
rm -f /tmp/custfocus-regress.$$
passed=$((passed + p))
failed=$((failed + f))
if [ -s regression.diffs ]; then
	echo "---- regression.diffs ----"
	cat regression.diffs
	echo "--------------------------"
fi
expected=$(grep -cv -e '^#' -e '^$' test/schedule)
if [ $((p + f)) -ne "$expected" ]; then
	echo "pg_regress ran $((p + f)) of $expected tests" >&2
	failed=$((failed + expected - p - f))
fi

for t in test/t/*.sh; do
	[ -e "$t" ] || continue
	start=$SECONDS
	if bash "$t"; then
		echo "ok - $t ($((SECONDS - start)) s)"
		passed=$((passed + 1))
	else
		echo "not ok - $t ($((SECONDS - start)) s)"
		failed=$((failed + 1))
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

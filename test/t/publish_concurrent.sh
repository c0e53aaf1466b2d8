#!/usr/bin/env bash
# Publication after commit (src/publish.c, src/sql/published.sql), where
# timing decides and sql/rollup.sql cannot make it happen:
#
#   1. A commit that finds a publisher at work starts none, and that
#      publisher takes its listing: the publisher is made to queue for the
#      publication lock behind the commit (a third session holds the lock
#      until both wait).  The database's defaults are hostile to the worker
#      (lock_timeout 1 s, which the wait exceeds, and REPEATABLE READ, under
#      which its lock would fail to serialize): it must override them.
#      Proven by the listing being gone without report_wait (which would
#      start a publisher itself) and report_publish_pending having been
#      called exactly once (track_functions), so no second worker ran.
#   2. A rolled-back change lists nothing and starts no worker.
#   3. An extension owned by a role without LOGIN: on PostgreSQL 15 and 16
#      no worker could connect, so the commit publishes itself; from 17
#      the worker does.  Either way nothing is left listed.
# Runs in test/check.sh's throw-away cluster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source test/lib.sh
test_scratch publish_concurrent
db_nologin=${db}_nologin
test_cleanup_hook() {
	dropdb --if-exists "$db_nologin" 2>/dev/null || true
	psql -X -q -d postgres -c "DROP ROLE IF EXISTS cf_publish_owner" 2>/dev/null || true
}
# this script's own sessions: READ COMMITTED, no lock timeout (the
# database's defaults below are for the worker)
export PGOPTIONS="$PGOPTIONS -c default_transaction_isolation=read\\ committed -c lock_timeout=0"
psql_q() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }

createdb "$db"
psql_q -c "CREATE EXTENSION custfocus"
psql_q -v responses=200 -f test/data/sample_agency.sql >/dev/null
psql_q -At -c "SELECT custfocus.report_wait()" | grep -qx t || fail "the sample agency's figures were not published"
psql_q -c "ALTER DATABASE $db SET track_functions = 'all'" \
	-c "ALTER DATABASE $db SET lock_timeout = '1s'" \
	-c "ALTER DATABASE $db SET default_transaction_isolation = 'repeatable read'"

# calls of report_publish_pending so far, once no publisher is left
publish_calls() {
	local i
	sleep 1   # a worker registered by a commit just now has started by then
	for i in $(seq 300); do
		[ "$(psql_q -At -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'custfocus publisher'")" = 0 ] && break
		sleep 0.1
	done
	psql_q -At -c "SELECT pg_stat_clear_snapshot()" \
		-c "SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions WHERE funcname = 'report_publish_pending'" | tail -n 1
}
listed() { psql_q -At -c "SELECT count(*) FROM custfocus.report_stale"; }
# waits until the given condition on pg_stat_activity holds (30 s at most)
wait_for() {
	local i
	for i in $(seq 300); do
		[ "$(psql_q -At -c "SELECT count(*) > 0 FROM pg_stat_activity WHERE $1")" = t ] && return 0
		sleep 0.1
	done
	fail "timed out waiting for: $1"
}
change_weight() {
	echo "UPDATE custfocus.response SET weight = weight + 1
	       WHERE response_id = (SELECT min(response_id) FROM custfocus.response);"
}

# 1. the commit queued first, the publisher behind it
before=$(publish_calls)
PGAPPNAME=cf_holder psql_q >/dev/null <<'SQL' &
BEGIN;
SELECT 1 FROM custfocus.report_state WHERE id FOR UPDATE;
-- until a publisher waits for the lock too (a minute at most), then past
-- the database's lock_timeout
DO $$
BEGIN
	FOR i IN 1 .. 600 LOOP
		PERFORM pg_stat_clear_snapshot();
		EXIT WHEN EXISTS (SELECT FROM pg_stat_activity
						   WHERE backend_type = 'custfocus publisher' AND wait_event_type = 'Lock');
		PERFORM pg_sleep(0.1);
	END LOOP;
END
$$;
SELECT pg_sleep(1.5);
COMMIT;
SQL
holder=$!
wait_for "application_name = 'cf_holder' AND query LIKE 'DO%'"
PGAPPNAME=cf_commit psql_q -c "$(change_weight)" &
committer=$!
wait_for "application_name = 'cf_commit' AND wait_event_type = 'Lock'"
psql_q -At -c "SELECT custfocus.report_publish_request(true)" | grep -qx t || fail "could not start a publisher"
wait "$holder" || fail "the session holding the publication lock failed"
wait "$committer" || fail "the commit failed"
for i in $(seq 300); do [ "$(listed)" = 0 ] && break; sleep 0.1; done
[ "$(listed)" = 0 ] || fail "the commit's listing was left: the publisher at work did not take it"
after=$(publish_calls)
[ $((after - before)) = 1 ] || fail "report_publish_pending ran $((after - before)) times: the commit started a publisher of its own"
[ "$(psql_q -At -c "SELECT count(*) FROM custfocus.report_verify()")" = 0 ] || fail "the published figures differ from a computation"
echo "publish_concurrent: a commit behind a publisher at work started none, and it published the commit's changes (past the database's lock_timeout and REPEATABLE READ)"

# 2. rolled back: nothing listed, no worker
before=$(publish_calls)
psql_q -c "BEGIN" -c "$(change_weight)" -c "SET CONSTRAINTS ALL IMMEDIATE" -c "ROLLBACK"
after=$(publish_calls)
[ "$(listed)" = 0 ] || fail "a rolled-back change left a listing"
[ "$after" = "$before" ] || fail "a rolled-back change started a publisher"
echo "publish_concurrent: a rolled-back change listed nothing and started no publisher"

# 3. an owner without LOGIN
psql -X -q -d postgres -c "CREATE ROLE cf_publish_owner SUPERUSER NOLOGIN"
createdb "$db_nologin"
psql -X -q -v ON_ERROR_STOP=1 -d "$db_nologin" -c "SET ROLE cf_publish_owner" -c "CREATE EXTENSION custfocus"
psql -X -q -v ON_ERROR_STOP=1 -d "$db_nologin" -v responses=50 -f test/data/sample_agency.sql >/dev/null
major=$(psql -X -At -d postgres -c "SELECT current_setting('server_version_num')::int / 10000")
after_commit=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db_nologin" -c "$(change_weight)" \
	-c "SELECT custfocus.publish_after_commit(), (SELECT count(*) FROM custfocus.report_stale) = 0")
if [ "$major" -lt 17 ]; then
	[ "$after_commit" = "f|t" ] || fail "PostgreSQL $major, owner without LOGIN: expected the commit to publish itself, got $after_commit"
else
	[ "${after_commit%%|*}" = t ] || fail "PostgreSQL $major, owner without LOGIN: expected publication after commit, got $after_commit"
fi
[ "$(psql -X -At -d "$db_nologin" -c "SELECT custfocus.report_wait()")" = t ] || fail "owner without LOGIN: the figures were not published"
[ "$(psql -X -At -d "$db_nologin" -c "SELECT count(*) FROM custfocus.report_verify()")" = 0 ] || fail "owner without LOGIN: the published figures differ"
echo "publish_concurrent: an owner without LOGIN on PostgreSQL $major: $([ "$major" -lt 17 ] && echo "the commit published" || echo "the worker published")"

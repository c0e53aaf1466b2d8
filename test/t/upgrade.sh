#!/usr/bin/env bash
# Upgrades: install the released 1.0, load data, ALTER EXTENSION ... UPDATE,
# and check that (1) the data and what the views show are unchanged, (2) the
# new version's features work, and (3) the updated extension is object for
# object the same as a fresh install of the new version.
# Run by test/check.sh inside a pg_virtualenv cluster (PGHOST etc. set).
set -euo pipefail
cd "$(dirname "$0")/../.."

old=cf_upgrade_old
new=cf_upgrade_new
roles=cf_upgrade_roles
trap 'dropdb --if-exists $old; dropdb --if-exists $new; dropdb --if-exists $roles; psql -X -q -d postgres -c "DROP ROLE IF EXISTS cf_upgrade_analyst, cf_upgrade_admin"' EXIT
psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" custfocus.control)

dropdb --if-exists $old; dropdb --if-exists $new; dropdb --if-exists $roles
createdb $old
createdb $new
createdb $roles
# Roles granted a level before the update (see README, Upgrading).
psql_q -d postgres -c "DROP ROLE IF EXISTS cf_upgrade_analyst, cf_upgrade_admin" \
	-c "CREATE ROLE cf_upgrade_analyst" -c "CREATE ROLE cf_upgrade_admin"

# What 1.2 changes for the roles granted before it: an analyst describes its
# program but neither moves, recodes, adds nor deletes one, nor changes
# agency-wide rows; an admin sets the suppression floor.
roles_after_update() {
	psql_q -d "$1" -At <<'SQL'
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
	EXECUTE stmt;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN 'ok ' || n;
EXCEPTION WHEN insufficient_privilege THEN
	RETURN 'denied';
WHEN OTHERS THEN
	RETURN 'error ' || SQLSTATE;
END $$;
SET ROLE cf_upgrade_analyst;
SELECT 'rename ' || pg_temp.try($$UPDATE custfocus.program SET name = 'WIC program' WHERE code = 'WIC'$$);
SELECT 'reparent ' || pg_temp.try($$UPDATE custfocus.program SET parent_id = NULL WHERE code = 'WIC'$$);
SELECT 'insert ' || pg_temp.try($$INSERT INTO custfocus.program (code, name) VALUES ('X', 'X')$$);
SELECT 'delete ' || pg_temp.try($$DELETE FROM custfocus.program WHERE code = 'WIC'$$);
SELECT 'timeliness ' || pg_temp.try($$UPDATE custfocus.requirement SET importance = 1 WHERE code = 'timeliness'$$);
SELECT 'floor ' || pg_temp.try($$UPDATE custfocus.setting SET min_responses = 1$$);
-- the views the update created again (issue 13's column types) and the new
-- ones, with the functions behind them
SELECT 'views ' || pg_temp.try($$SELECT (SELECT count(*) FROM custfocus.data_coverage)
	+ (SELECT count(*) FROM custfocus.feedback_queue) + (SELECT count(*) FROM custfocus.voc_themes)
	+ (SELECT count(*) FROM custfocus.program_tree) + (SELECT count(*) FROM custfocus.services)
	+ (SELECT count(*) FROM custfocus.surveys) + (SELECT count(*) FROM custfocus.survey_items)
	+ (SELECT count(*) FROM custfocus.requirements) + (SELECT count(*) FROM custfocus.data_dictionary)
	+ (SELECT count(*) FROM custfocus.key_drivers) + (SELECT count(*) FROM custfocus.improvement_opportunities)
	+ (SELECT count(*) FROM custfocus_reports.scorecard) + (SELECT count(*) FROM custfocus_reports.data_dictionary)$$);
RESET ROLE;
SET ROLE cf_upgrade_admin;
SELECT 'admin floor ' || pg_temp.try($$UPDATE custfocus.setting SET min_responses = 10$$);
SELECT 'admin timeliness ' || pg_temp.try($$UPDATE custfocus.requirement SET importance = 90 WHERE code = 'timeliness'$$);
RESET ROLE;
SQL
}
roles_expected="rename ok 1
reparent denied
insert denied
delete denied
timeliness ok 0
floor denied
views ok 1
admin floor ok 1
admin timeliness ok 1"

# Every object of the extension, described with what matters to its users:
# definitions, privileges, comments, policies.
catalog() {
	psql_q -d "$1" -At <<'SQL'
WITH members AS (
	SELECT d.classid, d.objid FROM pg_depend d
	 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
	   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'custfocus')
)
SELECT pg_describe_object(m.classid, m.objid, 0) || ' | ' ||
	   coalesce(obj_description(m.objid, (SELECT relname FROM pg_class WHERE oid = m.classid)), '-') || ' | ' ||
	   CASE m.classid
		 WHEN 'pg_proc'::regclass THEN
		   (SELECT md5(CASE WHEN p.prokind = 'a' THEN p.oid::regprocedure::text ELSE pg_get_functiondef(p.oid) END)
				   || ' ' || coalesce(p.proacl::text, 'default') || ' ' || p.proparallel::text || p.provolatile::text
			  FROM pg_proc p WHERE p.oid = m.objid)
		 WHEN 'pg_class'::regclass THEN
		   (SELECT coalesce(c.relacl::text, 'default') || ' ' || coalesce(c.reloptions::text, '') || ' '
				   || c.relrowsecurity || ' '
				   || coalesce((SELECT string_agg(a.attname || ':' || format_type(a.atttypid, a.atttypmod)
												  || ':' || a.attnotnull || ':' || coalesce(col_description(c.oid, a.attnum), '-'),
												  ',' ORDER BY a.attnum)
								  FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')
				   || ' ' || CASE WHEN c.relkind = 'v' THEN md5(pg_get_viewdef(c.oid)) ELSE '' END
				   || ' ' || CASE WHEN c.relkind = 'i' THEN pg_get_indexdef(c.oid) ELSE '' END
			  FROM pg_class c WHERE c.oid = m.objid)
		 ELSE '' END
  FROM members m
UNION ALL
SELECT 'constraint ' || conrelid::regclass || '.' || conname || ' ' || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = 'custfocus'::regnamespace
UNION ALL
SELECT 'policy ' || schemaname || '.' || tablename || '.' || policyname || ' ' || cmd || ' '
	   || coalesce(qual, '') || ' ' || coalesce(with_check, '')
  FROM pg_policies WHERE schemaname = 'custfocus'
UNION ALL
SELECT 'trigger ' || tgrelid::regclass || ' ' || pg_get_triggerdef(oid)
  FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'custfocus'::regnamespace)
ORDER BY 1;
SQL
}

views() {
	# unhidden: as they would show without complementary suppression
	# (computed at read time: the published figures have the cells)
	if [ "${2:-}" = unhidden ]; then
		{ echo "BEGIN; DELETE FROM custfocus.rollup_hidden; SET LOCAL custfocus.live_reports = on;"; views_sql; echo "ROLLBACK;"; } |
			psql_q -d "$1" -At
	else
		views_sql | psql_q -d "$1" -At
	fi
}
views_sql() {
	cat <<'SQL'
SELECT md5(string_agg(row(level, program_code, service_code, grain, period_start, responses, csat_n,
						  round(csat::numeric, 6), nps_n, round(nps::numeric, 6), round(linear_mean::numeric, 6),
						  suppressed)::text, '|' ORDER BY level, program_code, service_code, grain, period_start))
  FROM custfocus.scorecard;
SELECT md5(string_agg(row(rank, service_code, requirement_code, round(priority::numeric, 6))::text, '|' ORDER BY rank, service_code, requirement_code))
  FROM custfocus.improvement_opportunities;
SELECT count(*) FROM custfocus.answer;
-- the views 1.3 made security_barrier views: the same rows in the same
-- order (the columns that do not move with the clock, in the types every
-- version has)
SELECT md5(string_agg(v::text, '|')) FROM custfocus.customer_inventory v;
SELECT md5(string_agg(row(program_code, service_code, active, responses, first_response, last_response)::text, '|'))
  FROM custfocus.data_coverage;
SELECT md5(string_agg(row(feedback_id, kind, status, program_code, service_code, service_open,
						  round(service_median_days_to_close, 1))::text, '|'))
  FROM custfocus.feedback_queue;
SELECT md5(string_agg(row(program_code, service_code, term, documents, feedback_documents, answer_documents,
						  round(share_of_documents, 1), rank, example)::text, '|'))
  FROM custfocus.voc_themes;
SQL
}

for from in $(ls sql/custfocus--*--*.sql | sed -n 's/.*custfocus--\([^-]*\)--.*/\1/p' | sort -u); do
	psql_q -d $old -c "DROP EXTENSION IF EXISTS custfocus CASCADE" -c "CREATE EXTENSION custfocus VERSION '$from'"
	psql_q -d $old -v responses=300 -f test/data/sample_agency.sql
	before=$(views $old)
	psql_q -d $old -c "ALTER EXTENSION custfocus UPDATE"
	got=$(psql_q -d $old -At -c "SELECT extversion FROM pg_extension WHERE extname = 'custfocus'")
	[ "$got" = "$current" ] || { echo "update from $from ended at $got, not $current" >&2; exit 1; }

	# the update built the roll-ups of the data already there
	problems=$(psql_q -d $old -At -c "SELECT count(*) FROM custfocus.rollup_verify()")
	[ "$problems" = 0 ] || { echo "after the update from $from the roll-ups differ from the data in $problems keys" >&2; exit 1; }
	rows=$(psql_q -d $old -At -c "SELECT count(*) FROM custfocus.rollup_service_month")
	[ "$rows" -gt 0 ] || { echo "the update from $from built no roll-up" >&2; exit 1; }
	rows=$(psql_q -d $old -At -c "SELECT count(*) FROM custfocus.rollup_item_month")
	[ "$rows" -gt 0 ] || { echo "the update from $from built no item roll-up" >&2; exit 1; }
	# and published the scorecard's and the trend's figures
	problems=$(psql_q -d $old -At -c "SELECT count(*) FROM custfocus.report_verify()")
	[ "$problems" = 0 ] || { echo "after the update from $from the published figures differ in $problems rows" >&2; exit 1; }
	rows=$(psql_q -d $old -At -c "SELECT count(*) FROM custfocus.report_scorecard")
	[ "$rows" -gt 0 ] || { echo "the update from $from published no scorecard" >&2; exit 1; }

	after=$(views $old)
	# 1.4 hides complementary cells (rollup_hidden) in the scorecard and the
	# trend, so that a small group cannot be subtracted out: from an older
	# version, what the views show is the same once those are taken away
	# (the cells themselves verified by rollup_verify, above).
	if [ "$(printf '%s\n' "$from" 1.4 | sort -V | head -1)" != 1.4 ]; then
		hidden=$(psql_q -d $old -At -c "SELECT count(*) FROM custfocus.rollup_hidden")
		[ "$hidden" -gt 0 ] || { echo "the update from $from hid no complementary cell in the sample agency" >&2; exit 1; }
		after=$(views $old unhidden)
	fi
	# 1.3 counts the key drivers' window in months of the reporting time
	# zone (README, Upgrading): from an older version the ranked
	# opportunities may change.  What they show then is what a fresh 1.3
	# shows on the same data: the roll-ups verified equal to the data (above),
	# the views' definitions identical to a fresh install's (below).
	# 1.4 hides a key driver's performance where a measure of the
	# requirement would let its window give a hidden month back, which
	# can move the opportunities too.
	if [ "$(printf '%s\n' "$from" 1.4 | sort -V | head -1)" != 1.4 ]; then
		before=$(echo "$before" | sed 2d)
		after_cmp=$(echo "$after" | sed 2d)
	else
		after_cmp=$after
	fi
	if [ "$before" != "$after_cmp" ]; then
		echo "the update from $from changed what the views show:" >&2
		diff <(echo "$before") <(echo "$after_cmp") >&2 || true
		exit 1
	fi

	psql_q -d $new -c "DROP EXTENSION IF EXISTS custfocus CASCADE" -c "CREATE EXTENSION custfocus"
	fresh=$(catalog $new)
	updated=$(catalog $old)
	[ "$(echo "$fresh" | wc -l)" -gt 200 ] || { echo "the catalog description is too short to mean anything" >&2; exit 1; }
	if ! diff <(echo "$fresh") <(echo "$updated") >/tmp/custfocus-upgrade.diff; then
		echo "updated from $from, the extension differs from a fresh install of $current (< fresh, > updated):" >&2
		cat /tmp/custfocus-upgrade.diff >&2
		exit 1
	fi
	# roles granted a level by the old version, in a database of their own
	# (their grants would differ from the fresh install's catalog above)
	psql_q -d $roles -c "DROP EXTENSION IF EXISTS custfocus CASCADE" -c "CREATE EXTENSION custfocus VERSION '$from'"
	psql_q -d $roles -v responses=20 -f test/data/sample_agency.sql
	psql_q -d $roles -c "SELECT custfocus.grant_access('cf_upgrade_analyst', 'analyst')" \
		-c "SELECT custfocus.grant_program_access('cf_upgrade_analyst', 'WIC')" \
		-c "SELECT custfocus.grant_access('cf_upgrade_admin', 'admin')" \
		-c "ALTER EXTENSION custfocus UPDATE" >/dev/null
	got=$(roles_after_update $roles)
	if [ "$got" != "$roles_expected" ]; then
		echo "updated from $from, the roles granted before the update may do other things than 1.2 says:" >&2
		diff <(echo "$roles_expected") <(echo "$got") >&2 || true
		exit 1
	fi
	echo "update $from -> $current: data and views unchanged, objects identical to a fresh install, roles granted before it follow 1.2"
done

# What 1.1 added works on the updated database: an export loads.
csv=$(cat test/data/plain_codes.csv)
n=$(echo "SELECT responses_inserted FROM custfocus.import_responses('cs2026', :'csv')" | psql_q -d $old -At -v csv="$csv")
[ "$n" = 40 ] || { echo "import after the update loaded $n responses, not 40" >&2; exit 1; }
echo "import after the update: $n responses"

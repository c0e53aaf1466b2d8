#!/usr/bin/env bash
# Smoke test of custfocus on Citus: every scoring aggregate gives the same
# answer on a distributed table as on a local one, and Citus aggregates it in
# two stages (a partial state per shard on the workers, combined on the
# coordinator).
#
#   bash test/citus/smoke.sh        (as root; Citus installed by test/citus/build.sh)
#
# Builds and installs custfocus for the major Citus is installed for
# (test/setup.sh; CITUS_PG_MAJOR chooses one), starts a coordinator and two
# workers (test/citus/cluster.sh), loads the sample agency with 300 responses
# into the coordinator's (local) custfocus tables, copies the answer values
# into a distributed table cf_scores (distributed by response_id) and a local
# table cf_scores_local, with the items' scales in a reference table
# cf_items, and runs each aggregate grouped by item (cronbach_alpha and
# relative_weights: by survey, over one row per response) on both.  Unweighted
# count-based results must be equal, moment-based and weighted ones equal to
# 1e-12 relative (the partial states are combined in another order).  Each
# check also requires EXPLAIN to show the aggregate as worker_partial_agg (or
# worker_binary_partial_agg, Citus 14) in tasks over every shard.  Ends with "N passed, N failed" (one check per
# aggregate), non-zero exit on failure.

if [ "${1:-}" != --in-cluster ]; then
	set -euo pipefail
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	major=${CITUS_PG_MAJOR:-$(ls -v /usr/lib/postgresql/*/lib/citus.so 2>/dev/null | tail -n 1 |
		sed -n 's,^/usr/lib/postgresql/\([0-9]*\)/lib/citus.so$,\1,p')}
	[ -n "$major" ] || { echo "smoke: no Citus installed; run test/citus/build.sh MAJOR first" >&2; exit 1; }
	export CITUS_PG_MAJOR=$major
	PG_CONFIG=/usr/lib/postgresql/$major/bin/pg_config
	# shellcheck source=../setup.sh
	source "$here/../setup.sh"
	exec bash "$here/cluster.sh" bash "$here/smoke.sh" --in-cluster
fi

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
export PGOPTIONS="-c client_min_messages=warning"

echo "citus: PostgreSQL $(psql -At -c 'SHOW server_version'), $(psql -At -c 'SELECT citus_version()' | sed 's/^\(Citus [^ ,]*\).*/\1/')," \
	"1 coordinator + $(psql -At -c 'SELECT count(*) FROM citus_get_active_worker_nodes()') workers"

start=$SECONDS
psql -v responses=300 -f test/data/sample_agency.sql >/dev/null
psql -o /dev/null <<'SQL'
-- the items' scales: a reference table (a copy on every node), so that the
-- joins below run on the workers
CREATE TABLE cf_items AS
SELECT i.item_id, i.survey_id, i.metric, i.is_overall, sc.min_value AS scale_min, sc.max_value AS scale_max,
	   count(*) FILTER (WHERE i.metric = 'rating') OVER (PARTITION BY i.survey_id) AS n_rating
  FROM custfocus.item i LEFT JOIN custfocus.scale sc USING (scale_id);
SELECT create_reference_table('cf_items');

CREATE TABLE cf_scores (response_id bigint, item_id int, value real, weight float8);
SELECT create_distributed_table('cf_scores', 'response_id');
CREATE TABLE cf_scores_local (LIKE cf_scores);
INSERT INTO cf_scores
SELECT a.response_id, a.item_id, a.value, r.weight
  FROM custfocus.answer a JOIN custfocus.response r USING (response_id)
 WHERE a.value IS NOT NULL;
INSERT INTO cf_scores_local
SELECT a.response_id, a.item_id, a.value, r.weight
  FROM custfocus.answer a JOIN custfocus.response r USING (response_id)
 WHERE a.value IS NOT NULL;
SQL
rows=$(psql -At -c 'SELECT count(*) FROM cf_scores_local')
dist_rows=$(psql -At -c 'SELECT count(*) FROM cf_scores')
shards=$(psql -At -c "SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'cf_scores'::regclass")
echo "citus: sample agency loaded; $rows answer values in cf_scores_local, $dist_rows in cf_scores over $shards shards ($((SECONDS - start)) s)"
[ "$rows" -gt 0 ] && [ "$rows" = "$dist_rows" ] || { echo "smoke: the two tables differ in size" >&2; exit 1; }

# One query per aggregate, @T@ standing for the table.  The first column is
# the group; the others are compared field by field (composites and arrays
# flattened): columns named x_* exactly, m_* to 1e-12 relative.
declare -A query
order=(nps nps_stats top_box csat csat_stats linear_mean linear_mean_stats mean_ci ces_stats effective_n
	cronbach_alpha relative_weights)
by_item="FROM @T@ s JOIN cf_items i USING (item_id)"
query[nps]="SELECT s.item_id AS grp, custfocus.nps(s.value) AS x_u, custfocus.nps(s.value, s.weight) AS m_w
	$by_item WHERE i.metric = 'nps' GROUP BY s.item_id"
query[nps_stats]="SELECT s.item_id AS grp, custfocus.nps_stats(s.value) AS x_u, custfocus.nps_stats(s.value, s.weight) AS m_w
	$by_item WHERE i.metric = 'nps' GROUP BY s.item_id"
query[top_box]="SELECT s.item_id AS grp, custfocus.top_box(s.value, i.scale_max) AS x_u,
	custfocus.top_box(s.value, i.scale_max, s.weight) AS m_w
	$by_item WHERE i.metric IN ('rating', 'ces') GROUP BY s.item_id"
query[csat]="SELECT s.item_id AS grp, custfocus.csat(s.value, i.scale_max::int) AS x_u,
	custfocus.csat(s.value, i.scale_max::int, s.weight) AS m_w
	$by_item WHERE i.metric IN ('rating', 'ces') AND i.scale_min = 1 GROUP BY s.item_id"
query[csat_stats]="SELECT s.item_id AS grp, custfocus.csat_stats(s.value, i.scale_max::int) AS x_u,
	custfocus.csat_stats(s.value, i.scale_max::int, s.weight) AS m_w
	$by_item WHERE i.metric IN ('rating', 'ces') AND i.scale_min = 1 GROUP BY s.item_id"
query[linear_mean]="SELECT s.item_id AS grp, custfocus.linear_mean(s.value, i.scale_min, i.scale_max) AS m_u,
	custfocus.linear_mean(s.value, i.scale_min, i.scale_max, s.weight) AS m_w
	$by_item WHERE i.metric IN ('rating', 'ces') GROUP BY s.item_id"
query[linear_mean_stats]="SELECT s.item_id AS grp, custfocus.linear_mean_stats(s.value, i.scale_min, i.scale_max) AS m_u,
	custfocus.linear_mean_stats(s.value, i.scale_min, i.scale_max, s.weight) AS m_w
	$by_item WHERE i.metric IN ('rating', 'ces') GROUP BY s.item_id"
query[mean_ci]="SELECT s.item_id AS grp, custfocus.mean_ci(s.value) AS m_u, custfocus.mean_ci(s.value, 0.9) AS m_90
	FROM @T@ s GROUP BY s.item_id"
query[ces_stats]="SELECT s.item_id AS grp, custfocus.ces_stats(s.value) AS m_u, custfocus.ces_stats(s.value, s.weight) AS m_w
	$by_item WHERE i.metric = 'ces' GROUP BY s.item_id"
query[effective_n]="SELECT s.item_id AS grp, custfocus.effective_n(s.weight) AS m_n, custfocus.design_effect(s.weight) AS m_d
	FROM @T@ s GROUP BY s.item_id"
# one row per complete response: its rating items in item order
query[cronbach_alpha]="SELECT r.survey_id AS grp, custfocus.cronbach_alpha(r.v) AS m_a
	FROM (SELECT s.response_id, i.survey_id, array_agg(s.value::float8 ORDER BY s.item_id) AS v
			$by_item WHERE i.metric = 'rating' GROUP BY s.response_id, i.survey_id
		   HAVING count(*) = max(i.n_rating)) r
	GROUP BY r.survey_id"
# the overall item on the other rating items, one row per complete response
query[relative_weights]="SELECT r.survey_id AS grp, custfocus.relative_weights(r.o, r.d) AS m_rw
	FROM (SELECT s.response_id, i.survey_id, max(s.value) FILTER (WHERE i.is_overall) AS o,
				 array_agg(s.value::float8 ORDER BY s.item_id) FILTER (WHERE NOT i.is_overall) AS d
			$by_item WHERE i.metric = 'rating' GROUP BY s.response_id, i.survey_id
		   HAVING count(*) = max(i.n_rating) AND count(*) FILTER (WHERE i.is_overall) = 1) r
	GROUP BY r.survey_id"

# leaves of a result table: (grp, path, value) with composites and arrays flattened
flatten() {
	cat <<-SQL
		WITH RECURSIVE f (grp, path, j) AS (
			SELECT t.grp::text, c.key, c.value FROM $1 t, jsonb_each(to_jsonb(t) - 'grp') c
			UNION ALL
			SELECT f.grp, f.path || '.' || e.k, e.v
			  FROM f, LATERAL (SELECT key AS k, value AS v
								 FROM jsonb_each(CASE WHEN jsonb_typeof(f.j) = 'object' THEN f.j END)
							   UNION ALL
							   SELECT (n - 1)::text, value
								 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(f.j) = 'array' THEN f.j END)
									  WITH ORDINALITY AS a (value, n)) e
		)
		SELECT grp, path, j FROM f WHERE jsonb_typeof(j) NOT IN ('object', 'array')
	SQL
}

passed=0 failed=0
for agg in "${order[@]}"; do
	q=${query[$agg]}
	why=()
	# the plan: two-stage aggregation over every shard
	plan=$(psql -At -c "EXPLAIN (VERBOSE, COSTS OFF) ${q//@T@/cf_scores}" 2>&1) || why+=("EXPLAIN failed: $plan")
	# (Citus 13: worker_partial_agg and coord_combine_agg; Citus 14 sends the
	# states in binary: worker_binary_partial_agg, coord_binary_combine_agg)
	grep -q "Task Count: $shards\$" <<<"$plan" || why+=("plan has no 'Task Count: $shards'")
	grep -Eq "worker_(binary_)?partial_agg\('custfocus\.$agg\(" <<<"$plan" ||
		why+=("plan has no worker_partial_agg('custfocus.$agg(...)')")
	grep -Eq "coord_(binary_)?combine_agg\(" <<<"$plan" || why+=("plan has no coord_combine_agg")
	# the results, distributed and local, compared leaf by leaf
	cmp=$(psql -At -F ' ' 2>&1 <<-SQL
		CREATE TEMP TABLE r_dist AS ${q//@T@/cf_scores};
		CREATE TEMP TABLE r_local AS ${q//@T@/cf_scores_local};
		CREATE TEMP TABLE l_dist AS $(flatten r_dist);
		CREATE TEMP TABLE l_local AS $(flatten r_local);
		SELECT count(*),
			   count(*) FILTER (WHERE NOT ok),
			   (SELECT count(*) FROM r_local),
			   coalesce(max(rel) FILTER (WHERE ok), 0),
			   coalesce(string_agg(format('%s %s: %s / %s', grp, path, dj, lj), '; ') FILTER (WHERE NOT ok), '')
		  FROM (SELECT coalesce(d.grp, l.grp) AS grp, coalesce(d.path, l.path) AS path, d.j AS dj, l.j AS lj,
					   CASE WHEN jsonb_typeof(d.j) = 'number' AND jsonb_typeof(l.j) = 'number'
							THEN abs((d.j #>> '{}')::float8 - (l.j #>> '{}')::float8)
								 / nullif(greatest(abs((d.j #>> '{}')::float8), abs((l.j #>> '{}')::float8)), 0) END AS rel,
					   CASE WHEN d.j IS NULL OR l.j IS NULL THEN false
							WHEN jsonb_typeof(d.j) = 'number' AND jsonb_typeof(l.j) = 'number' AND coalesce(d.path, l.path) LIKE 'm\_%'
							THEN abs((d.j #>> '{}')::float8 - (l.j #>> '{}')::float8)
								 <= 1e-12 * greatest(abs((d.j #>> '{}')::float8), abs((l.j #>> '{}')::float8))
							ELSE d.j = l.j END AS ok
				  FROM l_dist d FULL JOIN l_local l ON l.grp = d.grp AND l.path = d.path) c;
	SQL
	) || { why+=("query failed: $cmp"); cmp="0 0 0 0"; }
	read -r leaves bad groups maxrel detail <<<"$cmp"
	[ "$bad" = 0 ] || why+=("$bad of $leaves values differ: $detail")
	[ "$leaves" -gt 0 ] 2>/dev/null || why+=("no values compared")
	if [ ${#why[@]} -eq 0 ]; then
		passed=$((passed + 1))
		printf 'ok     %-18s %2s groups, %3s values equal (largest relative difference %s); partial aggregation on %s tasks\n' \
			"$agg" "$groups" "$leaves" "$maxrel" "$shards"
	else
		failed=$((failed + 1))
		printf 'FAILED %-18s %s\n' "$agg" "${why[*]}"
		[ -z "${CITUS_SMOKE_VERBOSE:-}" ] || echo "$plan"
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

-- Partial aggregation: every aggregate runs in parallel plans, partial
-- states are merged by its combine function, and the answer is the serial
-- answer.  Only deterministic output is shown: plans without costs, and
-- comparisons with a tolerance for floating sums added in another order.

SELECT setseed(0.125);
-- a regular table: parallel workers cannot read temporary ones
CREATE TABLE par_answers AS
SELECT i AS id, i % 10 AS grp,
	   CASE WHEN i % 17 = 0 THEN NULL ELSE floor(random() * 11) END AS nps_score,
	   1 + floor(random() * 5) AS rating,
	   1 + floor(random() * 4) AS cahps,
	   1 + floor(random() * 7) AS ces,
	   0.5 + random() AS w,
	   t + random() AS outcome,
	   ARRAY[t + 2 * random(), 0.5 * t + random(), random()] AS drivers
  FROM (SELECT i, 3 * random() AS t FROM generate_series(1, 60000) AS i) AS s;
ANALYZE par_answers;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;

EXPLAIN (COSTS OFF)
SELECT custfocus.nps(nps_score), custfocus.cronbach_alpha(drivers) FROM par_answers;

-- each aggregate on its own gets a Partial Aggregate below a Gather
CREATE FUNCTION pg_temp.partial_plan(query text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	line text;
	partial boolean := false;
	gather boolean := false;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
		partial := partial OR line LIKE '%Partial %Aggregate%';
		gather := gather OR line LIKE '%Gather%';
	END LOOP;
	RETURN CASE WHEN partial AND gather THEN 'parallel partial' ELSE 'NOT PARALLEL' END;
END
$$;
SELECT agg, pg_temp.partial_plan('SELECT ' || agg || ' FROM par_answers') AS plan
  FROM (VALUES ('custfocus.nps(nps_score)'), ('custfocus.nps(nps_score, w)'),
			   ('custfocus.nps_stats(nps_score)'), ('custfocus.nps_stats(nps_score, w)'),
			   ('custfocus.top_box(rating, 5)'), ('custfocus.top_box(rating, 5, w)'),
			   ('custfocus.top_box_stats(rating, 5)'), ('custfocus.top_box_stats(rating, 5, w)'),
			   ('custfocus.bottom_box(rating, 2)'), ('custfocus.bottom_box(rating, 2, w)'),
			   ('custfocus.bottom_box_stats(rating, 2)'), ('custfocus.bottom_box_stats(rating, 2, w)'),
			   ('custfocus.csat(rating)'), ('custfocus.csat(rating, 5)'), ('custfocus.csat(rating, 5, w)'),
			   ('custfocus.csat_stats(rating)'), ('custfocus.csat_stats(rating, 5)'),
			   ('custfocus.csat_stats(rating, 5, w)'),
			   ('custfocus.linear_mean(cahps, 1, 4)'), ('custfocus.linear_mean(cahps, 1, 4, w)'),
			   ('custfocus.mean_ci(outcome)'), ('custfocus.mean_ci(outcome, 0.9)'),
			   ('custfocus.ces_stats(ces)'), ('custfocus.ces_stats(ces, w)'),
			   ('custfocus.effective_n(w)'), ('custfocus.design_effect(w)'),
			   ('custfocus.cronbach_alpha(drivers)'), ('custfocus.relative_weights(outcome, drivers)')
	   ) AS v (agg);
-- ... and no aggregate of the extension is left out of that list
SELECT count(*) AS aggregates FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
 WHERE p.pronamespace = 'custfocus'::regnamespace;
SELECT p.oid::regprocedure AS not_parallel_capable
  FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
 WHERE p.pronamespace = 'custfocus'::regnamespace
   AND (a.aggcombinefn = 0 OR p.proparallel <> 's');

-- The same query, parallel and serial, per group.  A view, so that the
-- query is planned in place (a temporary view may read a regular table).
CREATE TEMP VIEW par_scores AS
SELECT grp, ARRAY[
	custfocus.nps(nps_score), custfocus.nps(nps_score, w),
	(custfocus.nps_stats(nps_score)).se, (custfocus.nps_stats(nps_score, w)).se,
	(custfocus.nps_stats(nps_score, w)).n_eff,
	custfocus.top_box(rating, 5), custfocus.top_box(rating, 5, w),
	(custfocus.top_box_stats(rating, 5, w)).ci_low,
	custfocus.bottom_box(rating, 2), (custfocus.bottom_box_stats(rating, 2)).ci_high,
	custfocus.csat(rating), custfocus.csat(rating, 5, w), (custfocus.csat_stats(rating)).ci_low,
	custfocus.linear_mean(cahps, 1, 4), custfocus.linear_mean(cahps, 1, 4, w),
	(custfocus.mean_ci(outcome)).sd, (custfocus.mean_ci(outcome, 0.9)).ci_high,
	(custfocus.ces_stats(ces)).mean, (custfocus.ces_stats(ces, w)).percent_agree,
	custfocus.effective_n(w), custfocus.design_effect(w),
	(custfocus.cronbach_alpha(drivers)).alpha, (custfocus.cronbach_alpha(drivers)).std_alpha,
	(custfocus.relative_weights(outcome, drivers)).r2,
	(custfocus.relative_weights(outcome, drivers)).weights[2],
	count(*)] AS x
  FROM par_answers GROUP BY grp;
SELECT pg_temp.partial_plan('CREATE TEMP TABLE par_parallel AS SELECT * FROM par_scores') AS parallel_plan;
CREATE TEMP TABLE par_parallel AS SELECT * FROM par_scores;
SET max_parallel_workers_per_gather = 0;
SELECT pg_temp.partial_plan('CREATE TEMP TABLE par_serial AS SELECT * FROM par_scores') AS serial_plan;
CREATE TEMP TABLE par_serial AS SELECT * FROM par_scores;
-- equal up to the order of floating additions
SELECT count(*) AS groups,
	   count(*) FILTER (WHERE array_length(p.x, 1) = 26 AND array_length(s.x, 1) = 26) AS complete,
	   count(*) FILTER (WHERE NOT (SELECT bool_and(abs(a - b) <= 1e-9 * greatest(1, abs(b)))
									FROM unnest(p.x, s.x) AS u (a, b))) AS differ
  FROM par_parallel AS p JOIN par_serial AS s USING (grp);
-- counts are exact whatever the order
SELECT count(*) FILTER (WHERE p.x[1] <> s.x[1] OR p.x[6] <> s.x[6] OR p.x[9] <> s.x[9]
						OR p.x[11] <> s.x[11]) AS count_scores_differ
  FROM par_parallel AS p JOIN par_serial AS s USING (grp);

-- Partitionwise aggregation runs the combine functions in a serial,
-- deterministic plan: a partial aggregate per partition, then a finalize.
CREATE TABLE par_parts (LIKE par_answers) PARTITION BY LIST (grp);
CREATE TABLE par_parts_a PARTITION OF par_parts FOR VALUES IN (0, 1, 2);
CREATE TABLE par_parts_b PARTITION OF par_parts FOR VALUES IN (3, 4, 5, 6);
CREATE TABLE par_parts_c PARTITION OF par_parts FOR VALUES IN (7, 8, 9);
INSERT INTO par_parts SELECT * FROM par_answers;
ANALYZE par_parts;
SET enable_partitionwise_aggregate = on;
-- (node types only: how EXPLAIN names partitions differs between versions)
CREATE FUNCTION pg_temp.plan_nodes(query text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
		RETURN NEXT regexp_replace(line, ' on .*$', '');
	END LOOP;
END
$$;
SELECT pg_temp.plan_nodes('SELECT custfocus.nps(nps_score), custfocus.relative_weights(outcome, drivers) FROM par_parts') AS plan;
SELECT abs(c.nps - a.nps) < 1e-9 AS nps,
	   abs((c.nps_w).se - (a.nps_w).se) < 1e-9 AS nps_stats_w,
	   c.top = a.top AS top_box_stats,
	   abs((c.mean).sd - (a.mean).sd) < 1e-9 AS mean_ci,
	   abs((c.alpha).alpha - (a.alpha).alpha) < 1e-9 AS cronbach_alpha,
	   abs((c.rw).r2 - (a.rw).r2) < 1e-9 AND abs((c.rw).weights[3] - (a.rw).weights[3]) < 1e-9 AS relative_weights
  FROM (SELECT custfocus.nps(nps_score) AS nps, custfocus.nps_stats(nps_score, w) AS nps_w,
			   custfocus.top_box_stats(rating, 4) AS top, custfocus.mean_ci(outcome) AS mean,
			   custfocus.cronbach_alpha(drivers) AS alpha, custfocus.relative_weights(outcome, drivers) AS rw
		  FROM par_parts) AS c,
	   (SELECT custfocus.nps(nps_score) AS nps, custfocus.nps_stats(nps_score, w) AS nps_w,
			   custfocus.top_box_stats(rating, 4) AS top, custfocus.mean_ci(outcome) AS mean,
			   custfocus.cronbach_alpha(drivers) AS alpha, custfocus.relative_weights(outcome, drivers) AS rw
		  FROM par_answers) AS a;
RESET enable_partitionwise_aggregate;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;

-- The states are ordinary arrays: a partial state can be inspected, shipped
-- and merged by hand (what Citus or postgres_fdw do with partial results).
CREATE AGGREGATE pg_temp.nps_state(double precision) (
	SFUNC = custfocus.nps_accum, STYPE = bigint[], INITCOND = '{0,0,0}');
CREATE AGGREGATE pg_temp.alpha_state(double precision[]) (
	SFUNC = custfocus.cronbach_alpha_accum, STYPE = double precision[], INITCOND = '{}');
CREATE AGGREGATE pg_temp.mean_state(double precision) (
	SFUNC = custfocus.mean_ci_accum, STYPE = double precision[], INITCOND = '{0,0,0,0}');
SELECT pg_temp.nps_state(s) FROM (VALUES (10), (9), (8), (0), (NULL)) AS v (s);
SELECT custfocus.nps_final(custfocus.counts_combine(a, b))
	   = (SELECT custfocus.nps(nps_score) FROM par_answers) AS nps_combined
  FROM (SELECT pg_temp.nps_state(nps_score) AS a FROM par_answers WHERE id <= 25000) AS x,
	   (SELECT pg_temp.nps_state(nps_score) AS b FROM par_answers WHERE id > 25000) AS y;
SELECT abs((custfocus.cronbach_alpha_final(custfocus.comoment_combine(a, b))).alpha
		   - (SELECT (custfocus.cronbach_alpha(drivers)).alpha FROM par_answers)) < 1e-12 AS alpha_combined,
	   custfocus.cronbach_alpha_final(custfocus.comoment_combine(a, '{}')) = custfocus.cronbach_alpha_final(a) AS empty_right,
	   custfocus.cronbach_alpha_final(custfocus.comoment_combine('{}', b)) = custfocus.cronbach_alpha_final(b) AS empty_left
  FROM (SELECT pg_temp.alpha_state(drivers) AS a FROM par_answers WHERE id % 3 = 0) AS x,
	   (SELECT pg_temp.alpha_state(drivers) AS b FROM par_answers WHERE id % 3 <> 0) AS y;
SELECT abs((custfocus.mean_ci_final(custfocus.mean_ci_combine(a, b))).sd
		   - (SELECT stddev_samp(outcome) FROM par_answers)) < 1e-12 AS mean_combined
  FROM (SELECT pg_temp.mean_state(outcome) AS a FROM par_answers WHERE id <= 10) AS x,
	   (SELECT pg_temp.mean_state(outcome) AS b FROM par_answers WHERE id > 10) AS y;
-- a support function called directly leaves its argument alone
SELECT custfocus.nps_accum(a, 10) AS new_state, a AS old_state
  FROM (SELECT '{1,2,3}'::bigint[] AS a) AS s;
SELECT custfocus.counts_combine(a, '{4,5,6}') AS combined, a AS first
  FROM (SELECT '{1,2,3}'::bigint[] AS a) AS s;

-- Malformed states are rejected, never read out of bounds.
SELECT custfocus.nps_final('{1,2}');
SELECT custfocus.nps_final('{{1,2,3}}');
SELECT custfocus.nps_final('{1,NULL,3}');
SELECT custfocus.nps_stats_final('{1,-2,3}');
SELECT custfocus.counts_combine('{1,2,3}', '{1,2}');
SELECT custfocus.counts_combine('{}', '{}');
SELECT custfocus.counts_combine('{9223372036854775807,0,0}', '{1,0,0}');
SELECT custfocus.nps_accum_inv('{0,0,0}', 10);
SELECT custfocus.sums_combine('{1,NaN}', '{1,2}');
SELECT custfocus.nps_weighted_final('{1,0,0,1,0,0}');
SELECT custfocus.box_stats_final('{2,3}');
SELECT custfocus.mean_ci_final('{2,3,-1,0}');
SELECT custfocus.mean_ci_combine('{2,3,1,0.95}', '{2,3,1,0.9}');
SELECT custfocus.cronbach_alpha_final('{3,5,1,2}');
SELECT custfocus.cronbach_alpha_final('{1e9,5,1,2}');
SELECT custfocus.relative_weights_final('{2.5,5,1,2,3,4,5,6}');
SELECT custfocus.comoment_combine('{1,2,0.5,1}', '{2,2,0.5,0.5,1,0,1}');

DROP VIEW par_scores;
DROP TABLE par_answers, par_parts;

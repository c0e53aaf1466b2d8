-- linear_mean_stats: the CAHPS linear mean with n, sd and a 95 % interval.
-- SPEC vector: counts 2/3/10/35 on Never..Always (1..4) -> 85.3333.
SELECT (s).n, round((s).mean::numeric, 4) AS mean, round((s).sd::numeric, 4) AS sd,
	   round((s).ci_low::numeric, 4) AS ci_low, round((s).ci_high::numeric, 4) AS ci_high
  FROM (SELECT custfocus.linear_mean_stats(x, 1, 4) AS s
		  FROM (SELECT 1 FROM generate_series(1, 2) UNION ALL SELECT 2 FROM generate_series(1, 3)
				UNION ALL SELECT 3 FROM generate_series(1, 10) UNION ALL SELECT 4 FROM generate_series(1, 35)) v (x)) q;
-- With unit weights it is mean_ci over the 0..100 scores, to the last digit
-- that matters, and linear_mean gives the same mean.
CREATE TABLE lms (g int, x float8, w float8);
SELECT setseed(0.42);
INSERT INTO lms SELECT g % 7, 1 + floor(random() * 5), 0.5 + random() * 2 FROM generate_series(1, 20000) g;
SELECT g,
	   abs((custfocus.linear_mean_stats(x, 1, 5)).mean - (custfocus.mean_ci(100 * (x - 1) / 4)).mean) < 1e-9 AS mean_ok,
	   abs((custfocus.linear_mean_stats(x, 1, 5)).ci_low - (custfocus.mean_ci(100 * (x - 1) / 4)).ci_low) < 1e-9 AS ci_ok,
	   abs((custfocus.linear_mean_stats(x, 1, 5)).sd - stddev_samp(100 * (x - 1) / 4)) < 1e-9 AS sd_ok,
	   abs((custfocus.linear_mean_stats(x, 1, 5, w)).mean - custfocus.linear_mean(x, 1, 5, w)) < 1e-9 AS weighted_mean_ok
  FROM lms GROUP BY g ORDER BY g;
-- Weighted: against the plain-SQL formulas (weighted variance with Kish's
-- effective n, Student t on n_eff - 1 degrees of freedom).
WITH s AS (
	SELECT sum(w) AS sw, sum(w * w) AS sw2, sum(w * 100 * (x - 1) / 4) / sum(w) AS m FROM lms
), v AS (
	SELECT s.*, sum(l.w * (100 * (l.x - 1) / 4 - s.m) ^ 2) / s.sw AS var, s.sw * s.sw / s.sw2 AS n_eff
	  FROM lms l, s GROUP BY s.sw, s.sw2, s.m
)
SELECT abs((q.r).sd - sqrt(v.var * v.n_eff / (v.n_eff - 1))) < 1e-9 AS sd_ok,
	   abs(((q.r).ci_high - (q.r).ci_low) / 2 / ((q.r).sd / sqrt(v.n_eff)) - 1.96) < 0.001 AS t_about_1_96
  FROM v, (SELECT custfocus.linear_mean_stats(x, 1, 5, w) AS r FROM lms) q;
-- Parallel (combine) gives the serial answer.
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
CREATE TABLE lms_big AS SELECT x, w FROM lms, generate_series(1, 10);
ANALYZE lms_big;
EXPLAIN (COSTS OFF) SELECT custfocus.linear_mean_stats(x, 1, 5, w) FROM lms_big;
CREATE TEMP TABLE par AS SELECT custfocus.linear_mean_stats(x, 1, 5, w) AS r FROM lms_big;
SET max_parallel_workers_per_gather = 0;
SELECT (p.r).n = (s.r).n AS n_ok, abs((p.r).mean - (s.r).mean) < 1e-9 AS mean_ok,
	   abs((p.r).sd - (s.r).sd) < 1e-9 AS sd_ok
  FROM par p, (SELECT custfocus.linear_mean_stats(x, 1, 5, w) AS r FROM lms_big) s;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
-- Edge cases: empty, all NULL, one row (no interval), all equal (sd 0).
SELECT custfocus.linear_mean_stats(x, 1, 5) FROM lms WHERE false;
SELECT custfocus.linear_mean_stats(NULL::float8, 1, 5) FROM generate_series(1, 3);
SELECT custfocus.linear_mean_stats(4, 1, 5);
SELECT custfocus.linear_mean_stats(3, 1, 5) FROM generate_series(1, 4);
-- Errors name the value.
SELECT custfocus.linear_mean_stats(6, 1, 5);
SELECT custfocus.linear_mean_stats(3, 5, 1);
SELECT custfocus.linear_mean_stats(3, 1, 5, 0);
SELECT custfocus.linear_mean_stats(3, 1, 5, 'NaN');
DROP TABLE lms, lms_big;
-- Two-stage aggregation: states computed per small group and merged give
-- the one-stage result (exactly for counts, to rounding for the means).
CREATE TABLE two_stage AS
SELECT g % 5 AS big, g % 37 AS small, floor(random() * 11) AS nps, 1 + floor(random() * 5) AS sat,
	   0.5 + random() AS w
  FROM generate_series(1, 30000) g;
WITH parts AS (
	SELECT big, small,
		   custfocus.top_box_state(sat, 4) AS tb, custfocus.top_box_state(sat, 4, w) AS tbw,
		   custfocus.nps_state(nps, w) AS np, custfocus.linear_mean_state(sat, 1, 5, w) AS lm
	  FROM two_stage GROUP BY big, small
), merged AS (
	SELECT big, custfocus.box_stats_merge(tb) AS tb, custfocus.box_stats_merge(tbw) AS tbw,
		   custfocus.nps_stats_merge(np) AS np, custfocus.linear_mean_stats_merge(lm) AS lm
	  FROM parts GROUP BY big
), direct AS (
	SELECT big, custfocus.top_box_stats(sat, 4) AS tb, custfocus.top_box_stats(sat, 4, w) AS tbw,
		   custfocus.nps_stats(nps, w) AS np, custfocus.linear_mean_stats(sat, 1, 5, w) AS lm
	  FROM two_stage GROUP BY big
)
SELECT m.big,
	   m.tb = d.tb AS counts_exact,
	   abs((m.tbw).percent - (d.tbw).percent) < 1e-9 AND abs((m.tbw).ci_low - (d.tbw).ci_low) < 1e-9 AS weighted_box_ok,
	   abs((m.np).nps - (d.np).nps) < 1e-9 AND abs((m.np).se - (d.np).se) < 1e-9 AS nps_ok,
	   abs((m.lm).mean - (d.lm).mean) < 1e-9 AND abs((m.lm).sd - (d.lm).sd) < 1e-9 AS linear_mean_ok
  FROM merged m JOIN direct d USING (big) ORDER BY m.big;
-- A merge of nothing is NULL, like the aggregates over no rows; a state of
-- the wrong shape is refused.
SELECT custfocus.box_stats_merge(x) FROM (SELECT '{0,0}'::bigint[] WHERE false) s (x);
SELECT custfocus.nps_stats_merge(x) FROM (VALUES ('{0,0,0,0,0,0}'::float8[])) s (x);
SELECT custfocus.nps_stats_merge(x) FROM (VALUES ('{1,2,3}'::float8[])) s (x);
DROP TABLE two_stage;

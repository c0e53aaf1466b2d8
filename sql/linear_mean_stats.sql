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

-- Weighted intervals with Kish's n_eff below 2 (issue 12, item 14).  The
-- degrees of freedom n_eff - 1 are then fractional and below 1, where the t
-- quantile used to be NaN, and the bounds with it.  Reference t values are
-- qt(0.975, df) for df = n_eff - 1 of the double weights (computed exactly),
-- from P(|T| > t) = I_x(df/2, 1/2) with x = df / (df + t^2) (regularized
-- incomplete beta), inverted by bisection on log x in python3-mpmath at 50
-- digits; the bounds are mean -+ t * sd / sqrt(n_eff) from the same exact
-- sums.  R gives qt(0.975, 0.18703167) = 2091945.35 for case B, the ten
-- rows of issue 12 (the 0.187 quoted there is this df rounded; qt(0.975,
-- 0.187) itself is 2097429.22).
--   case  df                       t                        ci_low / ci_high
--   A     0.99995049750012375616   12.707691272745119954    -585.14367084539376717 / 685.64118328320471288
--   B     0.18703167149565391148   2091945.3510301302253    -86934062.91677567573 / 86934253.742463749124
--   E1    0.8                      23.327935796004318749    -897.11762781933395864 / 947.11762781933395864
--   E2    0.47058823529411764706   230.60480514404400026    -10044.841441363209924 / 10124.841441363209924
--   F1    0.0049999687501953113834 5.7143757792103347711e258 -4.0306099658991357157e260 / 4.0306099658991357157e260
--   F2    0.0019999980000020000396 7.336514890189280492e648 (beyond the doubles: no bounds)
--   df1   1                        12.706204736174704646    -585.3102368087352323 / 685.3102368087352323
--   df2   2                        4.3026527297494638523    -74.206885587516553552 / 174.20688558751655355
-- G has n_eff exactly 1 in doubles (1e-20 squared is lost next to 1): no
-- degrees of freedom, so sd and bounds are NULL, not NaN.  H and I are all
-- equal answers (sd 0): a zero-width interval, also where t overflows (I),
-- since Infinity * 0 would be NaN.  Rows with a NULL score or weight are
-- left out (A2 is A with two of those).  Zero weights are errors (above).
CREATE TABLE lms_small (c text, x float8, w float8);
INSERT INTO lms_small VALUES
	('A', 1, 1), ('A', 5, 1.01),
	('A2', 1, 1), ('A2', NULL, 3), ('A2', 5, 1.01), ('A2', 4, NULL),
	('B', 5, 100), ('B', 1, 1), ('B', 2, 1), ('B', 3, 1), ('B', 4, 1), ('B', 5, 1),
	('B', 1, 1), ('B', 2, 1), ('B', 3, 1), ('B', 4, 1),
	('E1', 1, 1), ('E1', 4, 0.5),
	('E2', 2, 1), ('E2', 5, 0.25),
	('F1', 1, 1), ('F1', 5, 0.0025),
	('F2', 1, 1), ('F2', 5, 0.001),
	('G', 1, 1), ('G', 5, 1e-20),
	('H', 3, 100), ('H', 3, 1), ('H', 3, 1), ('H', 3, 1), ('H', 3, 1), ('H', 3, 1),
	('H', 3, 1), ('H', 3, 1), ('H', 3, 1), ('H', 3, 1),
	('I', 3, 1), ('I', 3, 0.001),
	('df1', 1, 1), ('df1', 5, 1),
	('df2', 1, 1), ('df2', 3, 1), ('df2', 5, 1);
CREATE TEMP TABLE lms_small_ref (c text, t float8, ci_low float8, ci_high float8);
INSERT INTO lms_small_ref VALUES
	('A', 12.707691272745119954, -585.14367084539376717, 685.64118328320471288),
	('A2', 12.707691272745119954, -585.14367084539376717, 685.64118328320471288),
	('B', 2091945.3510301302253, -86934062.91677567573, 86934253.742463749124),
	('E1', 23.327935796004318749, -897.11762781933395864, 947.11762781933395864),
	('E2', 230.60480514404400026, -10044.841441363209924, 10124.841441363209924),
	('F1', 5.7143757792103347711e258, -4.0306099658991357157e260, 4.0306099658991357157e260),
	('df1', 12.706204736174704646, -585.3102368087352323, 685.3102368087352323),
	('df2', 4.3026527297494638523, -74.206885587516553552, 174.20688558751655355);
SET extra_float_digits = -5;	-- 10 significant digits
SELECT c, (r).n, n_eff - 1 AS df, (r).mean, (r).sd, (r).ci_low, (r).ci_high,
	   ((r).ci_high - (r).ci_low) / 2 / nullif((r).sd / sqrt(n_eff), 0) AS t,
	   abs(((r).ci_high - (r).ci_low) / 2 / nullif((r).sd / sqrt(n_eff), 0) / ref.t - 1) < 1e-9 AS t_ok,
	   abs((r).ci_low / ref.ci_low - 1) < 1e-9 AND abs((r).ci_high / ref.ci_high - 1) < 1e-9 AS bounds_ok
  FROM (SELECT c, custfocus.linear_mean_stats(x, 1, 5, w) AS r,
			   custfocus.effective_n(w) FILTER (WHERE x IS NOT NULL) AS n_eff
		  FROM lms_small GROUP BY c) AS q
  LEFT JOIN lms_small_ref ref USING (c)
 ORDER BY c;
RESET extra_float_digits;
-- The same through the two-stage states (the scorecard's path) and in
-- records: no NaN anywhere, NULL only where documented.
SELECT c, custfocus.linear_mean_stats_merge(s)::text LIKE '%NaN%' AS has_nan,
	   (custfocus.linear_mean_stats_merge(s)).ci_low IS NULL AS no_bounds
  FROM (SELECT c, custfocus.linear_mean_state(x, 1, 5, w) AS s FROM lms_small GROUP BY c, x) AS p
 GROUP BY c ORDER BY c;
DROP TABLE lms_small;
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

-- A first row whose weight does not divide exactly: the Welford update put
-- the mean one unit in the last place past the score, and the sum of
-- squares a rounding error below zero, which the final function rejected
-- as an invalid state.
SELECT (s).n, round((s).mean::numeric, 10) AS mean, (s).sd, (s).ci_low, (s).ci_high
  FROM (SELECT custfocus.linear_mean_stats(3, 1, 5, 0.8877722855547656) AS s) q;
SELECT (custfocus.linear_mean_stats(v, 1, 5, w)).n, round((custfocus.linear_mean_stats(v, 1, 5, w)).mean::numeric, 10)
  FROM (VALUES (3::double precision, 0.8877722855547656::double precision), (2, 2.7879596236926827),
			   (4, 0.8561635013301021), (5, 3.042051519729129)) AS t (v, w);

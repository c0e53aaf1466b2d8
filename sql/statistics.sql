-- Intervals, tests, means and weights: wilson_ci, prop_ztest, nps_ztest,
-- linear_mean, mean_ci, ces_stats, satisfaction_index, effective_n and
-- design_effect.

-- Spec test vectors (95 % Wilson): 7/50 -> (0.069508, 0.261862);
-- 0/20 -> (0, 0.161125); 45/60 -> (0.627679, 0.842235).
SELECT x, n, round(p::numeric, 6) AS p,
	   round(ci_low::numeric, 6) AS ci_low, round(ci_high::numeric, 6) AS ci_high
  FROM (VALUES (7, 50), (0, 20), (45, 60)) AS v (x, n),
	   LATERAL custfocus.wilson_ci(x, n);
-- all successes mirrors no successes
SELECT round(ci_low::numeric, 6) AS ci_low, ci_high FROM custfocus.wilson_ci(20, 20);
-- other levels; Agresti-Coull on request (clipped to 0..1); fractional
-- (effective) counts are accepted
SELECT round(ci_low::numeric, 6) AS ci_low, round(ci_high::numeric, 6) AS ci_high
  FROM custfocus.wilson_ci(7, 50, 0.90);
SELECT round(ci_low::numeric, 6) AS ci_low, round(ci_high::numeric, 6) AS ci_high
  FROM custfocus.wilson_ci(7, 50, method => 'agresti-coull');
SELECT round(ci_low::numeric, 6) AS ci_low, round(ci_high::numeric, 6) AS ci_high
  FROM custfocus.wilson_ci(0, 20, 0.95, 'Agresti-Coull');
SELECT round(p::numeric, 6) AS p, round(ci_low::numeric, 6) AS ci_low, round(ci_high::numeric, 6) AS ci_high
  FROM custfocus.wilson_ci(3.5, 10.25);
-- no trials: no interval
SELECT custfocus.wilson_ci(0, 0) IS NULL AS is_null;
SELECT custfocus.wilson_ci(NULL, 10) IS NULL AS is_null;
-- errors
SELECT custfocus.wilson_ci(51, 50);
SELECT custfocus.wilson_ci(-1, 50);
SELECT custfocus.wilson_ci(1, -5);
SELECT custfocus.wilson_ci('NaN', 50);
SELECT custfocus.wilson_ci(7, 50, 95);
SELECT custfocus.wilson_ci(7, 50, 0);
SELECT custfocus.wilson_ci(7, 50, 0.95, 'wald');

-- Spec test vector: 60/100 vs 84/120 -> z = -1.553152, p = 0.120387
-- (group 1 minus group 2).
SELECT round(z::numeric, 6) AS z, round(p_value::numeric, 6) AS p_value
  FROM custfocus.prop_ztest(60, 100, 84, 120);
SELECT round(z::numeric, 6) AS z, round(p_value::numeric, 6) AS p_value
  FROM custfocus.prop_ztest(84, 120, 60, 100);
-- equal proportions: z = 0, p = 1
SELECT z, p_value FROM custfocus.prop_ztest(30, 60, 50, 100);
-- undefined: an empty group, or no variation at all
SELECT custfocus.prop_ztest(0, 0, 5, 10) IS NULL AS empty_group,
	   custfocus.prop_ztest(10, 10, 20, 20) IS NULL AS all_successes;
SELECT custfocus.prop_ztest(11, 10, 5, 10);

-- NPS difference: z = (nps1 - nps2) / sqrt(se1^2 + se2^2).  Group 1 is the
-- spec vector (NPS 20, SE 8.1240); group 2 has 30/40/30 of 100 (NPS 0,
-- SE 100 sqrt(0.6 / 100) = 7.745967): z = 20 / 11.224972 = 1.781742.
SELECT round(z::numeric, 6) AS z, round(p_value::numeric, 6) AS p_value
  FROM custfocus.nps_ztest(45, 30, 25, 30, 40, 30);
SELECT round(z::numeric, 6) AS z, round(p_value::numeric, 6) AS p_value
  FROM custfocus.nps_ztest(20, 8.124038404635961, 0, 7.745966692414834);
-- ... and from two nps_stats results
SELECT round(t.z::numeric, 6) AS z, round(t.p_value::numeric, 6) AS p_value
  FROM (SELECT custfocus.nps_stats(s) FILTER (WHERE g = 1) AS a,
			   custfocus.nps_stats(s) FILTER (WHERE g = 2) AS b
		  FROM (SELECT 1 AS g, s FROM (VALUES (10, 45), (8, 30), (2, 25)) AS c (s, k), generate_series(1, c.k)
				UNION ALL
				SELECT 2, s FROM (VALUES (9, 30), (7, 40), (0, 30)) AS c (s, k), generate_series(1, c.k)) AS d) AS x,
	   LATERAL custfocus.nps_ztest((x.a).nps, (x.a).se, (x.b).nps, (x.b).se) AS t;
SELECT custfocus.nps_ztest(0, 0, 0, 0, 1, 1) IS NULL AS empty_group,
	   custfocus.nps_ztest(100, 0, 100, 0) IS NULL AS zero_se;
SELECT custfocus.nps_ztest(120, 5, 10, 5);
SELECT custfocus.nps_ztest(20, -1, 10, 5);
SELECT custfocus.nps_ztest(1, -1, 0, 5, 5, 5);

-- Spec test vector: weights {1,1,2,2,3,0.5} -> n_eff 4.688312,
-- design effect 1.279778; as a scalar over an array and as an aggregate.
SELECT round(custfocus.effective_n(ARRAY[1, 1, 2, 2, 3, 0.5])::numeric, 6) AS n_eff,
	   round(custfocus.design_effect(ARRAY[1, 1, 2, 2, 3, 0.5])::numeric, 6) AS deff;
SELECT round(custfocus.effective_n(w)::numeric, 6) AS n_eff,
	   round(custfocus.design_effect(w)::numeric, 6) AS deff
  FROM unnest('{1,1,2,2,3,0.5}'::float8[]) AS w;
-- NULL weights are skipped; equal weights give n_eff = n, deff = 1
SELECT custfocus.effective_n('{2,NULL,2,2}'::float8[]) AS n_eff,
	   custfocus.design_effect('{2,NULL,2,2}'::float8[]) AS deff;
SELECT custfocus.effective_n(w) AS n_eff, custfocus.design_effect(w) AS deff
  FROM (VALUES (2), (NULL), (2), (2)) AS v (w);
-- no weights
SELECT custfocus.effective_n('{}'::float8[]) AS empty, custfocus.effective_n('{NULL}'::float8[]) AS all_null,
	   custfocus.effective_n(w) AS agg_empty FROM (SELECT 1.0 AS w WHERE false) AS v;
-- bad weights: zero, negative, NaN, Infinity; two dimensions
SELECT custfocus.effective_n('{1,0}'::float8[]);
SELECT custfocus.design_effect('{1,-2}'::float8[]);
SELECT custfocus.effective_n(w) FROM (VALUES ('NaN'::float8)) AS v (w);
SELECT custfocus.design_effect(w) FROM (VALUES (1), ('Infinity'::float8)) AS v (w);
SELECT custfocus.effective_n('{{1,2},{3,4}}'::float8[]);

-- CAHPS linear mean: Never..Always (1..4) -> 0, 33.3, 66.7, 100.
SELECT s, round(custfocus.linear_mean(s, 1, 4)::numeric, 4) AS linear_mean
  FROM generate_series(1, 4) AS s GROUP BY s ORDER BY s;
-- weighted, by hand: 4 (w 3), 1 (w 1) on 1..4 -> (3 * 100 + 0) / 4 = 75
SELECT custfocus.linear_mean(s, 1, 4, w) AS weighted,
	   round(custfocus.linear_mean(s, 1, 4)::numeric, 4) AS unweighted
  FROM (VALUES (4, 3), (1, 1), (NULL, 5), (2, NULL)) AS v (s, w);
-- items on different scales in one call: 5 on 1..5 (100), 0 on 0..10 (0)
SELECT custfocus.linear_mean(s, lo, hi) FROM (VALUES (5, 1, 5), (0, 0, 10)) AS v (s, lo, hi);
SELECT custfocus.linear_mean(s, 1, 4) FROM (VALUES (1.0)) AS v (s) WHERE false;
SELECT custfocus.linear_mean(s, 1, 4) FROM (VALUES (5)) AS v (s);
SELECT custfocus.linear_mean(s, 1, 4) FROM (VALUES (0.5)) AS v (s);
SELECT custfocus.linear_mean(s, 4, 4) FROM (VALUES (4)) AS v (s);
SELECT custfocus.linear_mean(s, 1, 4, 0) FROM (VALUES (4)) AS v (s);

-- mean_ci: mean +- t(0.975, n - 1) * sd / sqrt(n).  1..30: mean 15.5,
-- sd 8.803408, t(0.975, 29) = 2.045230 -> 15.5 +- 3.287247.
SELECT n, mean, round(sd::numeric, 6) AS sd,
	   round(ci_low::numeric, 6) AS ci_low, round(ci_high::numeric, 6) AS ci_high
  FROM (SELECT (custfocus.mean_ci(x)).* FROM generate_series(1, 30) AS x) AS m;
-- other level: t(0.95, 29) = 1.699127 -> 15.5 +- 2.730965
SELECT round(ci_low::numeric, 6) AS ci_low, round(ci_high::numeric, 6) AS ci_high
  FROM (SELECT (custfocus.mean_ci(x, 0.90)).* FROM generate_series(1, 30) AS x) AS m;
-- The t quantile to 9 digits, recovered from the interval half-width:
-- t(0.975, df) = (ci_high - mean) * sqrt(n) / sd.  Reference values:
-- df 1: 12.706204736, 2: 4.302652730, 4: 2.776445105, 9: 2.262157163,
-- 29: 2.045229642, 99: 1.984216952, 999: 1.962341461, 9999: 1.960201264,
-- 99999: 1.959987708 (computed with mpmath at 30 digits).
SELECT n - 1 AS df, round(((ci_high - mean) * sqrt(n) / sd)::numeric, 9) AS t
  FROM (SELECT k, (custfocus.mean_ci(x)).*
		  FROM (VALUES (2), (3), (5), (10), (30), (100), (1000), (10000), (100000)) AS v (k),
			   LATERAL generate_series(1, k) AS x
		 GROUP BY k) AS m
 ORDER BY df;
-- one value: no spread, no interval; all equal: zero-width interval
SELECT (custfocus.mean_ci(x)).* FROM (VALUES (4.5)) AS v (x);
SELECT (custfocus.mean_ci(x)).* FROM (VALUES (3), (3), (3)) AS v (x);
SELECT custfocus.mean_ci(x) FROM (VALUES (NULL::float8)) AS v (x);
-- numerically stable: a large offset does not swamp a small spread
SELECT round((custfocus.mean_ci(1e9 + x)).sd::numeric, 9) AS sd_offset,
	   round(stddev_samp(x)::numeric, 9) AS sd
  FROM generate_series(1, 5) AS x;
SELECT custfocus.mean_ci(x, 1.5) FROM (VALUES (1), (2)) AS v (x);
SELECT custfocus.mean_ci(x, lvl) FROM (VALUES (1, 0.95), (2, 0.90)) AS v (x, lvl);
SELECT custfocus.mean_ci(x) FROM (VALUES (1), ('Infinity'::float8)) AS v (x);

-- CES on its 1..7 scale: mean and percentage answering 5 or more.
SELECT (custfocus.ces_stats(s)).* FROM (VALUES (7), (6), (5), (4), (1), (NULL)) AS v (s);
-- weighted, by hand: 7 (w 3), 2 (w 1) -> mean 23 / 4 = 5.75, 75 % agree,
-- n_eff 16 / 10 = 1.6
SELECT (custfocus.ces_stats(s, w)).* FROM (VALUES (7, 3), (2, 1)) AS v (s, w);
SELECT custfocus.ces_stats(s) FROM (VALUES (1.0)) AS v (s) WHERE false;
SELECT custfocus.ces_stats(s) FROM (VALUES (8)) AS v (s);
SELECT custfocus.ces_stats(s, w) FROM (VALUES (5, -1)) AS v (s, w);

-- Satisfaction index: 100 * sum(w_i (mean_i - min)) / (max - min), weights
-- rescaled to sum to 1.  Means 5, 1, 3 on 1..5: equal weights -> 50;
-- weights 1, 2, 1 -> 100 * (4 + 0 + 2) / 4 / 4 = 37.5.
SELECT custfocus.satisfaction_index(ARRAY[5, 1, 3], 1, 5) AS equal,
	   custfocus.satisfaction_index(ARRAY[5, 1, 3], 1, 5, ARRAY[1, 2, 1]) AS weighted,
	   custfocus.satisfaction_index(ARRAY[5, 1, 3], 1, 5, ARRAY[0.25, 0.5, 0.25]) AS same_weights_summing_to_1;
-- from item means computed by an aggregate
SELECT round(custfocus.satisfaction_index(array_agg(m ORDER BY item), 1, 10)::numeric, 4) AS csi
  FROM (SELECT item, avg(s) AS m
		  FROM (VALUES (1, 8), (1, 9), (2, 7), (2, 6), (3, 10), (3, 9)) AS v (item, s)
		 GROUP BY item) AS x;
SELECT custfocus.satisfaction_index(ARRAY[4, NULL], 1, 5) IS NULL AS null_mean,
	   custfocus.satisfaction_index('{}'::float8[], 1, 5) IS NULL AS no_items;
SELECT custfocus.satisfaction_index(ARRAY[4, 3], 1, 5, ARRAY[1]);
SELECT custfocus.satisfaction_index(ARRAY[4, 6], 1, 5);
SELECT custfocus.satisfaction_index(ARRAY[4, 3], 1, 5, ARRAY[1, 0]);
SELECT custfocus.satisfaction_index(ARRAY[4, 3], 5, 1);

-- Generated data: each aggregate equals its plain-SQL formulation.
SELECT setseed(0.5);
CREATE TEMP TABLE gen AS
SELECT i AS id, i % 5 AS grp,
	   CASE WHEN random() < 0.05 THEN NULL ELSE 1 + floor(random() * 4) END AS cahps,
	   CASE WHEN random() < 0.05 THEN NULL ELSE 1 + floor(random() * 7) END AS ces,
	   CASE WHEN random() < 0.05 THEN NULL ELSE 50 + 20 * random() END AS x,
	   0.5 + random() AS w
  FROM generate_series(1, 4000) AS i;
SELECT grp,
	   abs(custfocus.linear_mean(cahps, 1, 4) - avg(100 * (cahps - 1) / 3)) < 1e-9 AS linear_ok,
	   abs(custfocus.linear_mean(cahps, 1, 4, w)
		   - sum(w * 100 * (cahps - 1) / 3) / sum(w) FILTER (WHERE cahps IS NOT NULL)) < 1e-9 AS linear_w_ok,
	   (custfocus.mean_ci(x)).n = count(x) AS n_ok,
	   abs((custfocus.mean_ci(x)).mean - avg(x)) < 1e-9 AS mean_ok,
	   abs((custfocus.mean_ci(x)).sd - stddev_samp(x)) < 1e-9 AS sd_ok,
	   abs((custfocus.ces_stats(ces)).mean - avg(ces)) < 1e-9 AS ces_mean_ok,
	   abs((custfocus.ces_stats(ces)).percent_agree - 100.0 * count(*) FILTER (WHERE ces >= 5) / count(ces)) < 1e-9 AS ces_agree_ok,
	   abs((custfocus.ces_stats(ces, w)).mean - sum(w * ces) / sum(w) FILTER (WHERE ces IS NOT NULL)) < 1e-9 AS ces_w_ok,
	   abs(custfocus.effective_n(w) - sum(w) ^ 2 / sum(w * w)) < 1e-9 AS n_eff_ok,
	   abs(custfocus.effective_n(w) - custfocus.effective_n(array_agg(w))) < 1e-9 AS n_eff_array_ok,
	   abs(custfocus.design_effect(w) - count(w) * sum(w * w) / sum(w) ^ 2) < 1e-9 AS deff_ok
  FROM gen GROUP BY grp ORDER BY grp;
DROP TABLE gen;

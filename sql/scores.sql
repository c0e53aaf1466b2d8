-- Count-based scoring aggregates: nps, top_box, bottom_box, csat, their
-- weighted and _stats forms.  Floating output is rounded so that results
-- are the same on every platform.

-- Spec test vector (CAHPS): counts 2/3/10/35 for Never..Always (1..4) ->
-- linear mean 85.3333, top box ("Always") 70 %, bottom box
-- ("Never/Sometimes") 10 %.
CREATE TEMP TABLE cahps AS
SELECT v::real AS v
  FROM (VALUES (1, 2), (2, 3), (3, 10), (4, 35)) AS c (v, k),
	   generate_series(1, c.k);
SELECT count(*) AS n,
	   round(custfocus.linear_mean(v, 1, 4)::numeric, 4) AS linear_mean,
	   custfocus.top_box(v, 4) AS top_box,
	   custfocus.bottom_box(v, 2) AS bottom_box
  FROM cahps;

-- Spec test vector (NPS): 45 promoters, 30 passives, 25 detractors ->
-- NPS 20, SE 8.1240, 95 % margin 15.92.
CREATE TEMP TABLE nps_vector AS
SELECT s::double precision AS s
  FROM (VALUES (10, 20), (9, 25), (8, 10), (7, 20), (6, 5), (0, 20)) AS c (s, k),
	   generate_series(1, c.k);
SELECT custfocus.nps(s) FROM nps_vector;
SELECT n, n_eff, promoters, passives, detractors, nps,
	   round(se::numeric, 4) AS se,
	   round((nps - ci_low)::numeric, 2) AS margin_low,
	   round((ci_high - nps)::numeric, 2) AS margin_high
  FROM (SELECT (custfocus.nps_stats(s)).* FROM nps_vector) AS x;

-- Every point of the scale once: promoters 9, 10; detractors 0..6; of 11
-- -> 100 * (2 - 7) / 11 = -45.454545...
SELECT round(custfocus.nps(s)::numeric, 6) AS nps FROM generate_series(0, 10) AS s;

-- integer, numeric and real scores are accepted through implicit casts
SELECT round(custfocus.nps(s::integer)::numeric, 6) AS int4,
	   round(custfocus.nps(s::numeric)::numeric, 6) AS numeric,
	   round(custfocus.nps(s::real)::numeric, 6) AS real
  FROM (VALUES (10), (9), (3)) AS v (s);

-- No valid input: empty set, all NULL.  Every aggregate returns NULL.
SELECT custfocus.nps(s) AS nps, custfocus.nps(s, 1) AS nps_w,
	   custfocus.nps_stats(s) AS nps_stats, custfocus.nps_stats(s, 1) AS nps_stats_w,
	   custfocus.top_box(s, 9) AS top_box, custfocus.top_box(s, 9, 1) AS top_box_w,
	   custfocus.bottom_box(s, 6) AS bottom_box, custfocus.csat(s) AS csat,
	   custfocus.csat(s, 7) AS csat7, custfocus.csat(s, 5, 1) AS csat_w,
	   custfocus.csat_stats(s) AS csat_stats, custfocus.top_box_stats(s, 1, 1) AS tb_stats_w
  FROM generate_series(1, 5) AS s WHERE false;
SELECT custfocus.nps(s) AS nps, custfocus.nps(s, 1) AS nps_w,
	   custfocus.nps_stats(s) AS nps_stats, custfocus.top_box_stats(s, 9) AS tb_stats,
	   custfocus.bottom_box_stats(s, 6, 2) AS bb_stats_w, custfocus.csat_stats(s, 5, 1) AS csat_stats_w
  FROM (VALUES (NULL::double precision), (NULL)) AS v (s);

-- One row; all equal values; all promoters (zero standard error).
SELECT (custfocus.nps_stats(s)).* FROM (VALUES (8.0)) AS v (s);
SELECT (custfocus.nps_stats(s)).* FROM (VALUES (9), (10), (10), (9)) AS v (s);
SELECT (custfocus.nps_stats(s)).* FROM (VALUES (3), (3), (3)) AS v (s);
-- Wilson limits at the edges: 5 of 5 -> (5 / (5 + z^2), 1); 0 of 5 -> (0, z^2 / (5 + z^2))
SELECT n, n_eff, in_box, percent, round(ci_low::numeric, 4) AS ci_low, round(ci_high::numeric, 4) AS ci_high
  FROM (SELECT (custfocus.top_box_stats(s, 4)).* FROM (VALUES (4), (4), (4), (4), (4)) AS v (s)) AS x;
SELECT n, n_eff, in_box, percent, round(ci_low::numeric, 4) AS ci_low, round(ci_high::numeric, 4) AS ci_high
  FROM (SELECT (custfocus.bottom_box_stats(s, 1)).* FROM (VALUES (4), (4), (4), (4), (4)) AS v (s)) AS x;

-- NULL scores drop out of the denominator; a NULL weight drops its row.
SELECT round(custfocus.nps(s)::numeric, 6) AS nps, custfocus.nps(s, w) AS nps_w,
	   round(custfocus.top_box(s, 9)::numeric, 6) AS tb, custfocus.top_box(s, 9, w) AS tb_w
  FROM (VALUES (10, 1.0), (NULL, 1.0), (0, NULL), (9, 3.0)) AS v (s, w);

-- CSAT: top two categories of 1..scale_max; the default scale is 1..5.
SELECT custfocus.csat(s) AS csat5, custfocus.csat(s, 5) AS csat5_explicit,
	   custfocus.csat(s, 7) AS csat7, custfocus.csat(s, 3) AS csat3
  FROM (VALUES (1), (2), (3), (3), (3)) AS v (s);
SELECT custfocus.csat(s) AS csat, custfocus.top_box(s, 4) AS top2
  FROM (VALUES (5), (4), (4), (3), (2), (1), (5), (5)) AS v (s);
-- the threshold of top_box and bottom_box is inclusive
SELECT custfocus.top_box(s, 3) AS top, custfocus.bottom_box(s, 3) AS bottom
  FROM (VALUES (1), (2), (3), (4), (5)) AS v (s);

-- Weighted NPS, worked by hand: 10 (w 2), 8 (w 1), 0 (w 1): total 4,
-- p = 2/4, d = 1/4, NPS = 25; n_eff = 4^2 / 6 = 2.666667;
-- SE = 100 sqrt((0.75 - 0.0625) / 2.666667) = 50.775.
SELECT custfocus.nps(s, w) FROM (VALUES (10, 2), (8, 1), (0, 1)) AS v (s, w);
SELECT n, round(n_eff::numeric, 6) AS n_eff, promoters, passives, detractors, nps,
	   round(se::numeric, 4) AS se, round(ci_low::numeric, 4) AS ci_low,
	   round(ci_high::numeric, 4) AS ci_high
  FROM (SELECT (custfocus.nps_stats(s, w)).*
		  FROM (VALUES (10, 2), (8, 1), (0, 1)) AS v (s, w)) AS x;
-- weights that are all equal give the unweighted answer; the category
-- figures become sums of weights
SELECT w.n, w.n_eff, w.promoters, w.passives, w.detractors,
	   abs(w.nps - u.nps) < 1e-9 AS same_nps, abs(w.se - u.se) < 1e-9 AS same_se,
	   abs(w.ci_low - u.ci_low) < 1e-9 AND abs(w.ci_high - u.ci_high) < 1e-9 AS same_ci
  FROM (SELECT (custfocus.nps_stats(s, 2.5)).* FROM nps_vector) AS w,
	   (SELECT (custfocus.nps_stats(s)).* FROM nps_vector) AS u;
-- weighted box, by hand: 5 (w 3), 4 (w 1), 2 (w 1) -> top two 4/5 = 80 %,
-- n_eff = 25 / 11 = 2.272727
SELECT custfocus.csat(s, 5, w) AS csat_w, custfocus.top_box(s, 5, w) AS top_w,
	   custfocus.bottom_box(s, 2, w) AS bottom_w
  FROM (VALUES (5, 3), (4, 1), (2, 1)) AS v (s, w);
SELECT n, round(n_eff::numeric, 6) AS n_eff, in_box, percent,
	   round(ci_low::numeric, 4) AS ci_low, round(ci_high::numeric, 4) AS ci_high
  FROM (SELECT (custfocus.csat_stats(s, 5, w)).* FROM (VALUES (5, 3), (4, 1), (2, 1)) AS v (s, w)) AS x;
-- ... which is the Wilson interval of 0.8 * n_eff successes in n_eff trials
SELECT round((100 * ci_low)::numeric, 4) AS ci_low, round((100 * ci_high)::numeric, 4) AS ci_high
  FROM custfocus.wilson_ci(0.8 * 25 / 11.0, 25 / 11.0);

-- Wilson interval of the _stats forms: 35 of 50 in the box (cahps above)
SELECT n, n_eff, in_box, percent,
	   round(ci_low::numeric, 4) AS ci_low, round(ci_high::numeric, 4) AS ci_high
  FROM (SELECT (custfocus.top_box_stats(v, 4)).* FROM cahps) AS x;
SELECT round(100 * ci_low::numeric, 4) AS ci_low, round(100 * ci_high::numeric, 4) AS ci_high
  FROM custfocus.wilson_ci(35, 50);

-- Errors name the function and the value.
SELECT custfocus.nps(s) FROM (VALUES (11)) AS v (s);
SELECT custfocus.nps(s) FROM (VALUES (-1)) AS v (s);
SELECT custfocus.nps(s) FROM (VALUES (7.5)) AS v (s);
SELECT custfocus.nps(s) FROM (VALUES ('NaN'::float8)) AS v (s);
SELECT custfocus.nps_stats(s, 1) FROM (VALUES ('Infinity'::float8)) AS v (s);
SELECT custfocus.csat(s) FROM (VALUES (0)) AS v (s);
SELECT custfocus.csat(s) FROM (VALUES (6)) AS v (s);
SELECT custfocus.csat(s, 7) FROM (VALUES (7.5)) AS v (s);
SELECT custfocus.csat(s, 2) FROM (VALUES (1)) AS v (s);
SELECT custfocus.top_box(s, 4) FROM (VALUES ('NaN'::float8)) AS v (s);
SELECT custfocus.bottom_box(s, 'Infinity') FROM (VALUES (1)) AS v (s);
-- bad weights: zero, negative, NaN, Infinity
SELECT custfocus.nps(s, w) FROM (VALUES (10, 0)) AS v (s, w);
SELECT custfocus.top_box(s, 4, w) FROM (VALUES (5, -1)) AS v (s, w);
SELECT custfocus.csat(s, 5, w) FROM (VALUES (5, 'NaN'::float8)) AS v (s, w);
SELECT custfocus.bottom_box_stats(s, 2, w) FROM (VALUES (5, 'Infinity'::float8)) AS v (s, w);
-- the SQLSTATE of a score off its scale, and of a bad parameter
\set VERBOSITY sqlstate
SELECT custfocus.nps(s) FROM (VALUES (10), (12)) AS v (s);
SELECT custfocus.nps(s, w) FROM (VALUES (10, -2)) AS v (s, w);
\set VERBOSITY default

-- Generated data: each aggregate equals its plain-SQL formulation.
SELECT setseed(0.25);
CREATE TEMP TABLE gen AS
SELECT i AS id,
	   i % 7 AS grp,
	   CASE WHEN random() < 0.05 THEN NULL ELSE floor(random() * 11) END AS nps_score,
	   CASE WHEN random() < 0.05 THEN NULL ELSE 1 + floor(random() * 5) END AS rating,
	   CASE WHEN random() < 0.02 THEN NULL ELSE 0.2 + 3 * random() END AS w
  FROM generate_series(1, 5000) AS i;

-- unweighted: counts
SELECT grp,
	   abs(custfocus.nps(nps_score)
		   - 100.0 * (count(*) FILTER (WHERE nps_score >= 9) - count(*) FILTER (WHERE nps_score <= 6))
		   / count(nps_score)) < 1e-9 AS nps_ok,
	   abs(custfocus.top_box(rating, 5) - 100.0 * count(*) FILTER (WHERE rating = 5) / count(rating)) < 1e-9 AS top_ok,
	   abs(custfocus.bottom_box(rating, 2) - 100.0 * count(*) FILTER (WHERE rating <= 2) / count(rating)) < 1e-9 AS bottom_ok,
	   abs(custfocus.csat(rating) - 100.0 * count(*) FILTER (WHERE rating >= 4) / count(rating)) < 1e-9 AS csat_ok
  FROM gen GROUP BY grp ORDER BY grp;

-- nps_stats against its formula
SELECT bool_and(s.n = x.n AND s.promoters = x.p AND s.detractors = x.d AND s.passives = x.n - x.p - x.d
				AND abs(s.se - 100 * sqrt((x.p + x.d - (x.p - x.d) ^ 2 / x.n) / x.n ^ 2)) < 1e-9
				AND abs(s.ci_high - s.nps - 1.959963984540054 * s.se) < 1e-9) AS nps_stats_ok
  FROM (SELECT grp, (custfocus.nps_stats(nps_score)).* FROM gen GROUP BY grp) AS s
  JOIN (SELECT grp, count(nps_score)::float8 AS n,
			   count(*) FILTER (WHERE nps_score >= 9)::float8 AS p,
			   count(*) FILTER (WHERE nps_score <= 6)::float8 AS d
		  FROM gen GROUP BY grp) AS x USING (grp);

-- weighted: sums of weights, Kish's effective n over the rows used
SELECT grp,
	   abs(custfocus.nps(nps_score, w)
		   - 100 * (coalesce(sum(w) FILTER (WHERE nps_score >= 9), 0) - coalesce(sum(w) FILTER (WHERE nps_score <= 6), 0))
		   / sum(w) FILTER (WHERE nps_score IS NOT NULL)) < 1e-9 AS nps_w_ok,
	   abs(custfocus.csat(rating, 5, w)
		   - 100 * sum(w) FILTER (WHERE rating >= 4) / sum(w) FILTER (WHERE rating IS NOT NULL)) < 1e-9 AS csat_w_ok,
	   abs((custfocus.csat_stats(rating, 5, w)).n_eff
		   - sum(w) FILTER (WHERE rating IS NOT NULL) ^ 2 / sum(w * w) FILTER (WHERE rating IS NOT NULL)) < 1e-9 AS n_eff_ok,
	   (custfocus.csat_stats(rating, 5, w)).n = count(*) FILTER (WHERE rating IS NOT NULL AND w IS NOT NULL) AS n_ok
  FROM gen GROUP BY grp ORDER BY grp;

-- Window frames: the moving-aggregate form (inverse transitions) gives the
-- same answers as computing each frame afresh.
SELECT count(*) AS rows,
	   count(*) FILTER (WHERE m.nps IS DISTINCT FROM f.nps) AS nps_differ,
	   count(*) FILTER (WHERE m.top IS DISTINCT FROM f.top) AS top_differ,
	   count(*) FILTER (WHERE m.csat IS DISTINCT FROM f.csat) AS csat_differ,
	   count(*) FILTER (WHERE m.stats IS DISTINCT FROM f.stats) AS stats_differ
  FROM (SELECT id,
			   custfocus.nps(nps_score) OVER w AS nps,
			   custfocus.top_box(rating, 5) OVER w AS top,
			   custfocus.csat(rating) OVER w AS csat,
			   custfocus.bottom_box_stats(rating, 2) OVER w AS stats
		  FROM gen WHERE id <= 600
		WINDOW w AS (ORDER BY id ROWS 2 PRECEDING)) AS m
  JOIN LATERAL (SELECT custfocus.nps(nps_score) AS nps,
					   custfocus.top_box(rating, 5) AS top,
					   custfocus.csat(rating) AS csat,
					   custfocus.bottom_box_stats(rating, 2) AS stats
				  FROM gen AS g WHERE g.id BETWEEN m.id - 2 AND m.id) AS f ON true;
SELECT count(*) AS rows,
	   count(*) FILTER (WHERE m.nps IS DISTINCT FROM f.nps) AS nps_differ,
	   count(*) FILTER (WHERE m.nps_stats IS DISTINCT FROM f.nps_stats) AS nps_stats_differ,
	   count(*) FILTER (WHERE m.csat7 IS DISTINCT FROM f.csat7) AS csat7_differ
  FROM (SELECT id,
			   custfocus.nps(nps_score) OVER w AS nps,
			   custfocus.nps_stats(nps_score) OVER w AS nps_stats,
			   custfocus.csat_stats(rating, 7) OVER w AS csat7
		  FROM gen WHERE grp = 3
		WINDOW w AS (ORDER BY id ROWS BETWEEN 5 PRECEDING AND 3 FOLLOWING)) AS m
  JOIN LATERAL (SELECT custfocus.nps(nps_score) AS nps,
					   custfocus.nps_stats(nps_score) AS nps_stats,
					   custfocus.csat_stats(rating, 7) AS csat7
				  FROM (SELECT * FROM gen WHERE grp = 3 ORDER BY id) AS g
				 WHERE g.id IN (SELECT id FROM gen WHERE grp = 3 AND id <= m.id ORDER BY id DESC LIMIT 6)
					OR g.id IN (SELECT id FROM gen WHERE grp = 3 AND id > m.id ORDER BY id LIMIT 3)) AS f ON true;
-- a frame holding only NULL scores is NULL, not zero
SELECT id, custfocus.nps(s) OVER (ORDER BY id ROWS 1 PRECEDING) AS nps
  FROM (VALUES (1, 10), (2, NULL), (3, NULL), (4, 0)) AS v (id, s) ORDER BY id;
-- the weighted forms (float sums) have no inverse, but work in frames too
SELECT id, round((custfocus.nps(s, w) OVER (ORDER BY id ROWS 1 PRECEDING))::numeric, 4) AS nps_w
  FROM (VALUES (1, 10, 1), (2, 0, 3), (3, 9, 1), (4, 7, 2)) AS v (id, s, w) ORDER BY id;

-- Which aggregates have moving-aggregate support: the unweighted counts.
SELECT p.oid::regprocedure AS aggregate, a.aggmtransfn <> 0 AS moving
  FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
 WHERE p.pronamespace = 'custfocus'::regnamespace
   AND p.proname IN ('nps', 'nps_stats', 'top_box', 'top_box_stats', 'bottom_box',
					 'bottom_box_stats', 'csat', 'csat_stats')
 ORDER BY 1::text;

DROP TABLE cahps, nps_vector, gen;

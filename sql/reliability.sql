-- Reliability and key drivers: cronbach_alpha and relative_weights.

-- R's datasets::attitude (Chatterjee and Price): 30 departments, the share
-- of favourable answers on seven questions.
CREATE TEMP TABLE attitude (id int, rating float8, complaints float8, privileges float8,
							learning float8, raises float8, critical float8, advance float8);
INSERT INTO attitude VALUES
	(1, 43, 51, 30, 39, 61, 92, 45),
	(2, 63, 64, 51, 54, 63, 73, 47),
	(3, 71, 70, 68, 69, 76, 86, 48),
	(4, 61, 63, 45, 47, 54, 84, 35),
	(5, 81, 78, 56, 66, 71, 83, 47),
	(6, 43, 55, 49, 44, 54, 49, 34),
	(7, 58, 67, 42, 56, 66, 68, 35),
	(8, 71, 75, 50, 55, 70, 66, 41),
	(9, 72, 82, 72, 67, 71, 83, 31),
	(10, 67, 61, 45, 47, 62, 80, 41),
	(11, 64, 53, 53, 58, 58, 67, 34),
	(12, 67, 60, 47, 39, 59, 74, 41),
	(13, 69, 62, 57, 42, 55, 63, 25),
	(14, 68, 83, 83, 45, 59, 77, 35),
	(15, 77, 77, 54, 72, 79, 77, 46),
	(16, 81, 90, 50, 72, 60, 54, 36),
	(17, 74, 85, 64, 69, 79, 79, 63),
	(18, 65, 60, 65, 75, 55, 80, 60),
	(19, 65, 70, 46, 57, 75, 85, 46),
	(20, 50, 58, 68, 54, 64, 78, 52),
	(21, 50, 40, 33, 34, 43, 64, 33),
	(22, 64, 61, 52, 62, 66, 80, 41),
	(23, 53, 66, 52, 50, 63, 80, 37),
	(24, 40, 37, 42, 58, 50, 57, 49),
	(25, 63, 54, 42, 48, 66, 75, 33),
	(26, 66, 77, 66, 63, 88, 76, 72),
	(27, 78, 75, 58, 74, 80, 78, 49),
	(28, 48, 57, 44, 45, 51, 83, 38),
	(29, 85, 85, 71, 71, 77, 74, 55),
	(30, 82, 82, 39, 59, 64, 78, 39);

-- the data are typed in right: the column means of R's summary(attitude)
SELECT count(*), round(avg(rating)::numeric, 2) AS rating, round(avg(complaints)::numeric, 2) AS complaints,
	   round(avg(privileges)::numeric, 2) AS privileges, round(avg(learning)::numeric, 2) AS learning,
	   round(avg(raises)::numeric, 2) AS raises, round(avg(critical)::numeric, 2) AS critical,
	   round(avg(advance)::numeric, 2) AS advance
  FROM attitude;

-- Spec test vector: all 7 columns -> raw alpha 0.8431428, standardized
-- 0.8390838.
SELECT k, n, round(alpha::numeric, 7) AS alpha, round(std_alpha::numeric, 7) AS std_alpha
  FROM (SELECT (custfocus.cronbach_alpha(ARRAY[rating, complaints, privileges, learning,
												 raises, critical, advance])).*
		  FROM attitude) AS a;

-- Spec test vector: rating ~ the other six -> R^2 0.7326020; weights
-- complaints 0.362760, privileges 0.056002, learning 0.163611,
-- raises 0.121780, critical 0.008255, advance 0.020193.
CREATE TEMP TABLE rw AS
SELECT (custfocus.relative_weights(rating, ARRAY[complaints, privileges, learning,
												 raises, critical, advance])).*
  FROM attitude;
SELECT n, k, round(r2::numeric, 7) AS r2 FROM rw;
SELECT d.driver, round(u.w::numeric, 6) AS weight, round(u.s::numeric, 6) AS share
  FROM rw, unnest(rw.weights, rw.shares) WITH ORDINALITY AS u (w, s, i)
  JOIN (VALUES (1, 'complaints'), (2, 'privileges'), (3, 'learning'), (4, 'raises'),
			   (5, 'critical'), (6, 'advance')) AS d (i, driver) ON d.i = u.i
 ORDER BY u.i;
-- the weights add up to R^2 and the shares to 1
SELECT abs((SELECT sum(w) FROM unnest(weights) AS w) - r2) < 1e-12 AS weights_sum_to_r2,
	   abs((SELECT sum(s) FROM unnest(shares) AS s) - 1) < 1e-12 AS shares_sum_to_1
  FROM rw;
-- one driver: R^2 is corr()^2, and the driver has all of it
SELECT abs((custfocus.relative_weights(rating, ARRAY[complaints])).r2 - corr(rating, complaints) ^ 2) < 1e-12 AS r2_ok,
	   (custfocus.relative_weights(rating, ARRAY[complaints])).shares AS shares
  FROM attitude;
-- two drivers: R^2 = (r1^2 + r2^2 - 2 r1 r2 r12) / (1 - r12^2)
SELECT round((custfocus.relative_weights(rating, ARRAY[complaints, learning])).r2::numeric, 10) AS r2,
	   round(((corr(rating, complaints) ^ 2 + corr(rating, learning) ^ 2
			   - 2 * corr(rating, complaints) * corr(rating, learning) * corr(complaints, learning))
			  / (1 - corr(complaints, learning) ^ 2))::numeric, 10) AS r2_formula
  FROM attitude;
-- rescaling or shifting the outcome or a driver changes nothing
SELECT round(r2::numeric, 10) AS r2, round(weights[1]::numeric, 10) AS w1,
	   round(weights[2]::numeric, 10) AS w2, round(weights[6]::numeric, 10) AS w6
  FROM (SELECT (custfocus.relative_weights(1000 + rating / 10,
										   ARRAY[complaints * 1e6, privileges - 1e6, learning,
												 raises, critical, advance])).*
		  FROM attitude) AS x;
SELECT round(r2::numeric, 10) AS r2, round(weights[1]::numeric, 10) AS w1,
	   round(weights[2]::numeric, 10) AS w2, round(weights[6]::numeric, 10) AS w6
  FROM rw;

-- Listwise deletion: a row with a NULL item, outcome or driver is left out.
CREATE TEMP TABLE attitude_gaps AS
SELECT * FROM attitude
UNION ALL SELECT 31, NULL, 50, 50, 50, 50, 50, 50
UNION ALL SELECT 32, 50, NULL, 50, 50, 50, 50, 50
UNION ALL SELECT 33, 50, 50, 50, 50, 50, 50, NULL;
SELECT k, n, round(alpha::numeric, 7) AS alpha, round(std_alpha::numeric, 7) AS std_alpha
  FROM (SELECT (custfocus.cronbach_alpha(ARRAY[rating, complaints, privileges, learning,
												 raises, critical, advance])).*
		  FROM attitude_gaps) AS a;
SELECT n, k, round(r2::numeric, 7) AS r2
  FROM (SELECT (custfocus.relative_weights(rating, ARRAY[complaints, privileges, learning,
														 raises, critical, advance])).*
		  FROM attitude_gaps) AS x;
SELECT custfocus.cronbach_alpha(NULL::float8[]) AS all_null_rows,
	   custfocus.relative_weights(NULL, ARRAY[1.0]) AS null_outcome
  FROM generate_series(1, 3);

-- Empty input: NULL.  One item, or one row: alpha NULL, k and n shown.
SELECT custfocus.cronbach_alpha(ARRAY[rating]) AS alpha,
	   custfocus.relative_weights(rating, ARRAY[rating]) AS rw
  FROM attitude WHERE false;
SELECT (custfocus.cronbach_alpha(ARRAY[rating])).* FROM attitude;
SELECT (custfocus.cronbach_alpha(ARRAY[rating, complaints])).* FROM attitude WHERE id = 1;

-- Constant items: the total does not vary (both alphas NULL); one constant
-- item leaves raw alpha defined but has no correlation (std_alpha NULL).
SELECT (custfocus.cronbach_alpha(ARRAY[3, 3, 3.0])).* FROM generate_series(1, 5);
SELECT k, n, round(alpha::numeric, 7) AS alpha, std_alpha
  FROM (SELECT (custfocus.cronbach_alpha(ARRAY[rating, complaints, 3])).* FROM attitude) AS a;
-- opposite items cancel: the total has no variance
SELECT (custfocus.cronbach_alpha(ARRAY[x, -x])).* FROM generate_series(1, 5) AS x;

-- Negative alpha, by hand: x = 1..5, y = 3, 5, 4, 1, 2: var x = var y =
-- 2.5, cov = -1.5 (r = -0.6), total variance 2.5 + 2.5 - 3 = 2; alpha =
-- 2 (1 - 5 / 2) = -3; std alpha = 2 (-0.6) / (1 - 0.6) = -3.
SELECT k, n, round(alpha::numeric, 10) AS alpha, round(std_alpha::numeric, 10) AS std_alpha
  FROM (SELECT (custfocus.cronbach_alpha(ARRAY[x, y])).*
		  FROM (VALUES (1, 3), (2, 5), (3, 4), (4, 1), (5, 2)) AS v (x, y)) AS a;

-- Degenerate driver sets give NULL r2, weights and shares, never an error,
-- so one bad group does not stop a GROUP BY.
-- collinear drivers (the correlation matrix is singular)
SELECT n, k, r2, weights, shares
  FROM (SELECT (custfocus.relative_weights(rating, ARRAY[complaints, 2 * complaints + 1, learning])).*
		  FROM attitude) AS x;
SELECT n, k, r2, weights, shares
  FROM (SELECT (custfocus.relative_weights(rating, ARRAY[complaints, learning, complaints + learning])).*
		  FROM attitude) AS x;
-- a driver or the outcome without variance
SELECT n, k, r2, weights, shares
  FROM (SELECT (custfocus.relative_weights(rating, ARRAY[complaints, 42])).* FROM attitude) AS x;
SELECT n, k, r2, weights, shares
  FROM (SELECT (custfocus.relative_weights(42, ARRAY[complaints, learning])).* FROM attitude) AS x;
-- no residual degrees of freedom: n <= k + 1
SELECT n, k, r2, weights, shares
  FROM (SELECT (custfocus.relative_weights(rating, ARRAY[complaints, learning])).*
		  FROM attitude WHERE id <= 3) AS x;
SELECT n, k, round(r2::numeric, 6) AS r2
  FROM (SELECT (custfocus.relative_weights(rating, ARRAY[complaints, learning])).*
		  FROM attitude WHERE id <= 4) AS x;
-- one bad group (a constant driver) among good ones
SELECT grp, n, k, round(r2::numeric, 6) AS r2, weights IS NULL AS no_weights
  FROM (SELECT id % 3 AS grp,
			   (custfocus.relative_weights(rating, ARRAY[complaints,
							CASE WHEN id % 3 = 0 THEN 7 ELSE learning END])).*
		  FROM attitude GROUP BY id % 3) AS x
 ORDER BY grp;

-- Errors: rows of different lengths, two-dimensional or empty arrays,
-- values that are not finite.
SELECT custfocus.cronbach_alpha(a) FROM (VALUES (ARRAY[1.0, 2]), (ARRAY[1.0, 2, 3])) AS v (a);
SELECT custfocus.relative_weights(y, a) FROM (VALUES (1.0, ARRAY[1.0, 2]), (2, ARRAY[3.0])) AS v (y, a);
SELECT custfocus.cronbach_alpha(ARRAY[[1.0, 2], [3, 4]]);
SELECT custfocus.cronbach_alpha('{}'::float8[]);
SELECT custfocus.relative_weights(1, '{}'::float8[]);
SELECT custfocus.cronbach_alpha(ARRAY[1, 'NaN'::float8]);
SELECT custfocus.relative_weights('Infinity', ARRAY[1.0]);

-- Generated data: alpha equals its formula in plain SQL (var_samp, corr).
SELECT setseed(0.75);
CREATE TEMP TABLE items AS
SELECT i AS id, i % 4 AS grp, t + random() AS a, t + 2 * random() AS b, 0.5 * t + random() AS c
  FROM (SELECT i, 3 * random() AS t FROM generate_series(1, 3000) AS i) AS s;
SELECT grp, count(*) AS n,
	   abs((custfocus.cronbach_alpha(ARRAY[a, b, c])).alpha
		   - 1.5 * (1 - (var_samp(a) + var_samp(b) + var_samp(c)) / var_samp(a + b + c))) < 1e-9 AS alpha_ok,
	   abs((custfocus.cronbach_alpha(ARRAY[a, b, c])).std_alpha
		   - 3 * ((corr(a, b) + corr(a, c) + corr(b, c)) / 3)
			 / (1 + 2 * ((corr(a, b) + corr(a, c) + corr(b, c)) / 3))) < 1e-9 AS std_alpha_ok,
	   abs((custfocus.relative_weights(a, ARRAY[b])).r2 - corr(a, b) ^ 2) < 1e-9 AS r2_ok
  FROM items GROUP BY grp ORDER BY grp;

-- Drivers uncorrelated with the outcome (issue 12, item 15): a balanced
-- 3 x 3 x 2 design repeated 100 times, so every correlation of the outcome
-- with a driver is 0 in exact arithmetic.  r2 is 0 exactly, the weights 0
-- and the shares NULL, as documented, whatever the row order and in a
-- parallel plan.  (R^2 used to be a rounding residue of about 1e-32 and
-- the shares ratios of residues, which changed with the plan.)
CREATE TABLE uncorr AS
SELECT g, (g % 3) * 0.1::float8 AS y, ((g / 3) % 3) * 0.7::float8 AS x1,
	   0.2 + ((g / 9) % 2) * 1.3::float8 AS x2
  FROM generate_series(0, 1799) AS g;
SELECT n, k, r2, weights, shares
  FROM (SELECT (custfocus.relative_weights(y, ARRAY[x1, x2])).* FROM uncorr) AS x;
SELECT n, k, r2, weights, shares
  FROM (SELECT (custfocus.relative_weights(y, ARRAY[x1, x2] ORDER BY g DESC)).* FROM uncorr) AS x;
SELECT n, k, r2, weights, shares
  FROM (SELECT (custfocus.relative_weights(y, ARRAY[x2, x1] ORDER BY x1, g)).* FROM uncorr) AS x;
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2; SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT custfocus.relative_weights(y, ARRAY[x1, x2]) FROM uncorr;
SELECT n, k, r2, weights, shares
  FROM (SELECT (custfocus.relative_weights(y, ARRAY[x1, x2])).* FROM uncorr) AS x;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather; RESET parallel_leader_participation;
-- A weak but real correlation (r about 1e-5, R^2 about 1e-10) is above the
-- 1e-12 tolerance and kept: r2 is corr^2.
SELECT (custfocus.relative_weights(y + 1e-6 * (x1 - 0.7), ARRAY[x1])).r2 > 0 AS kept,
	   abs((custfocus.relative_weights(y + 1e-6 * (x1 - 0.7), ARRAY[x1])).r2
		   / corr(y + 1e-6 * (x1 - 0.7), x1) ^ 2 - 1) < 1e-6 AS r2_ok,
	   (custfocus.relative_weights(y + 1e-6 * (x1 - 0.7), ARRAY[x1])).shares AS shares
  FROM uncorr;
DROP TABLE uncorr;

DROP TABLE attitude, attitude_gaps, rw, items;

-- Pairwise states (pairwise_state, pairwise_sum, pairwise_relative_weights,
-- pairwise_alpha): the key drivers' relative weights and alpha from merged
-- statistics, with pairwise deletion.
SELECT setseed(0.42);
CREATE TABLE pw AS
SELECT g, y, x1, x2, x3,
	   -- the same, with values missing at random (about 15 % of each)
	   CASE WHEN random() < 0.15 THEN NULL ELSE y END AS my,
	   CASE WHEN random() < 0.15 THEN NULL ELSE x1 END AS mx1,
	   CASE WHEN random() < 0.15 THEN NULL ELSE x2 END AS mx2,
	   CASE WHEN random() < 0.15 THEN NULL ELSE x3 END AS mx3
  FROM (SELECT g, 1 + floor(random() * 5) AS x1, 1 + floor(random() * 7) AS x2, floor(random() * 11) AS x3,
			   random() AS e
		  FROM generate_series(1, 400) g) s
 CROSS JOIN LATERAL (SELECT 0.5 * s.x1 + 0.2 * s.x2 - 0.1 * s.x3 + 2 * s.e AS y) t;
-- Without missing values, pairwise deletion is listwise deletion: the same
-- weights and alpha as relative_weights and cronbach_alpha (to 1e-12).
WITH a AS (SELECT custfocus.relative_weights(y, ARRAY[x1, x2, x3]) AS rw,
				  custfocus.cronbach_alpha(ARRAY[x1, x2, x3]) AS al,
				  custfocus.pairwise_state(ARRAY[y, x1, x2, x3]) AS st
			 FROM pw),
b AS (SELECT a.*, custfocus.pairwise_relative_weights(a.st, 1, ARRAY[2, 3, 4]) AS prw,
			 custfocus.pairwise_alpha(a.st, ARRAY[2, 3, 4]) AS pal FROM a)
SELECT (b.prw).n = (b.rw).n AS n_same, (b.prw).k AS k,
	   abs((b.prw).r2 - (b.rw).r2) < 1e-12 AS r2_same,
	   (SELECT bool_and(abs(p - q) < 1e-12) FROM unnest((b.prw).weights, (b.rw).weights) AS u (p, q)) AS weights_same,
	   (SELECT bool_and(abs(p - q) < 1e-12) FROM unnest((b.prw).shares, (b.rw).shares) AS u (p, q)) AS shares_same,
	   (b.pal).n = (b.al).n AS alpha_n_same, abs((b.pal).alpha - (b.al).alpha) < 1e-12 AS alpha_same,
	   abs((b.pal).std_alpha - (b.al).std_alpha) < 1e-12 AS std_alpha_same
  FROM b;
-- With missing values: one driver, R^2 is the square of corr() over the
-- rows that have both (R: cor(use = "pairwise.complete.obs")); two
-- drivers, R^2 = (r1^2 + r2^2 - 2 r1 r2 r12) / (1 - r12^2) from the three
-- pairwise correlations; n is the fewest rows of a pair.
WITH s AS (SELECT custfocus.pairwise_state(ARRAY[my, mx1, mx2, mx3]) AS st,
				  corr(my, mx1) AS r1, corr(my, mx2) AS r2, corr(mx1, mx2) AS r12,
				  least(count(my * mx1), count(my * mx2), count(mx1 * mx2)) AS n12
			 FROM pw)
SELECT abs((custfocus.pairwise_relative_weights(st, 1, ARRAY[2])).r2 - r1 ^ 2) < 1e-12 AS one_driver_r2,
	   abs((custfocus.pairwise_relative_weights(st, 1, ARRAY[2, 3])).r2
		   - (r1 ^ 2 + r2 ^ 2 - 2 * r1 * r2 * r12) / (1 - r12 ^ 2)) < 1e-12 AS two_drivers_r2,
	   (custfocus.pairwise_relative_weights(st, 1, ARRAY[2, 3])).n = n12 AS n_fewest_pair,
	   abs((SELECT sum(w) FROM unnest((custfocus.pairwise_relative_weights(st, 1, ARRAY[2, 3, 4])).weights) w)
		   - (custfocus.pairwise_relative_weights(st, 1, ARRAY[2, 3, 4])).r2) < 1e-12 AS weights_sum_to_r2
  FROM s;
-- Pairwise correlations no one set of rows could have: y equals x1 among
-- the rows with both, y equals x2 among others, and x1, x2 are
-- uncorrelated among a third set: r' Rxx^-1 r = 2.  Undetermined (R squared
-- above 1 is impossible), not an R squared of 2 and weights summing to it;
-- rows of the same shape whose correlations are consistent (r1 = r2 = 0.8,
-- r12 = 0.6: R squared (0.64 + 0.64 - 2 * 0.64 * 0.6) / (1 - 0.36) = 0.8)
-- are shown.
SELECT (w).n, (w).k, (w).r2, (w).weights, (w).shares
  FROM (SELECT custfocus.pairwise_relative_weights(custfocus.pairwise_state(ARRAY[1, 2, 3], ARRAY[y, x1, x2]), 1, ARRAY[2, 3]) AS w
		  FROM (VALUES (1, 1, NULL), (2, 2, NULL), (3, 3, NULL), (4, 4, NULL),
					   (1, NULL, 1), (2, NULL, 2), (3, NULL, 3), (4, NULL, 4),
					   (NULL, 1, 1), (NULL, 2, 1), (NULL, 1, 2), (NULL, 2, 2)) v(y, x1, x2)) s;
SELECT (w).n, (w).k, abs((w).r2 - 0.8) < 1e-12 AS r2_08, abs((w).shares[1] - 0.5) < 1e-12 AS equal_shares
  FROM (SELECT custfocus.pairwise_relative_weights(custfocus.pairwise_state(ARRAY[1, 2, 3], ARRAY[y, x1, x2]), 1, ARRAY[2, 3]) AS w
		  FROM (VALUES (1, 1, NULL), (2, 3, NULL), (3, 2, NULL), (4, 4, NULL),
					   (1, NULL, 1), (2, NULL, 3), (3, NULL, 2), (4, NULL, 4),
					   (NULL, 1, 2), (NULL, 2, 1), (NULL, 3, 4), (NULL, 4, 3)) v(y, x1, x2)) s;
-- States merge: by parts (and in another order) equal to one pass, to
-- 1e-12; rows given as variable ids in any order, and with variables the
-- others lack, merge over the union (a variable only some rows have).
WITH one AS (SELECT custfocus.pairwise_state(ARRAY[my, mx1, mx2, mx3]) AS st FROM pw),
parts AS (SELECT custfocus.pairwise_sum(p.st ORDER BY p.part DESC) AS st
			FROM (SELECT g % 7 AS part, custfocus.pairwise_state(ARRAY[my, mx1, mx2, mx3]) AS st
					FROM pw GROUP BY 1) p),
ids AS (SELECT custfocus.pairwise_state(ARRAY[4, 2, 1, 3], ARRAY[mx3, mx1, my, mx2] ORDER BY g DESC) AS st FROM pw),
grown AS (SELECT custfocus.pairwise_sum(p.st) AS st
			FROM (SELECT custfocus.pairwise_state(ARRAY[1, 2], ARRAY[my, mx1]) AS st FROM pw WHERE g <= 200
				  UNION ALL
				  SELECT custfocus.pairwise_state(ARRAY[1, 2, 3, 4], ARRAY[my, mx1, mx2, mx3]) FROM pw WHERE g > 200) p),
grown_ref AS (SELECT custfocus.pairwise_state(ARRAY[my, mx1, CASE WHEN g > 200 THEN mx2 END,
												   CASE WHEN g > 200 THEN mx3 END]) AS st FROM pw)
SELECT (SELECT bool_and(abs(a - b) <= 1e-12 * greatest(abs(a), abs(b), 1)) FROM unnest(one.st, parts.st) AS u (a, b)) AS parts_equal,
	   (SELECT bool_and(abs(a - b) <= 1e-12 * greatest(abs(a), abs(b), 1)) FROM unnest(one.st, ids.st) AS u (a, b)) AS ids_equal,
	   (SELECT bool_and(abs(a - b) <= 1e-12 * greatest(abs(a), abs(b), 1)) FROM unnest(grown_ref.st, grown.st) AS u (a, b)) AS grown_equal
  FROM one, parts, ids, grown, grown_ref;
-- Fresh values: a row's pairs counted before (its old values) plus the
-- pairs its new values make (pairwise_state(ids, x, fresh)) equal the
-- pairs of the whole row, as the roll-up's insert trigger counts answers
-- added to a stored response.
WITH whole AS (SELECT custfocus.pairwise_state(ARRAY[1, 2, 3, 4], ARRAY[my, mx1, mx2, mx3]) AS st FROM pw),
split AS (SELECT custfocus.pairwise_sum(p.st) AS st
			FROM (SELECT custfocus.pairwise_state(ARRAY[1, 2], ARRAY[my, mx1]) AS st FROM pw
				  UNION ALL
				  SELECT custfocus.pairwise_state(ARRAY[1, 2, 3, 4], ARRAY[my, mx1, mx2, mx3],
												  ARRAY[false, false, true, true]) FROM pw) p)
SELECT (SELECT bool_and(abs(a - b) <= 1e-12 * greatest(abs(a), abs(b), 1)) FROM unnest(whole.st, split.st) AS u (a, b)) AS fresh_equal
  FROM whole, split;
-- Edge cases: no rows; one row; all equal; a variable no row has; an
-- alpha of one item; NULL rows skipped.
SELECT custfocus.pairwise_state(ARRAY[y, x1]) AS no_rows FROM pw WHERE false;
SELECT (custfocus.pairwise_relative_weights(custfocus.pairwise_state(ARRAY[y, x1]), 1, ARRAY[2])).* FROM pw WHERE g = 1;
SELECT (custfocus.pairwise_relative_weights(custfocus.pairwise_state(ARRAY[3.0, x1]), 1, ARRAY[2])).* FROM pw;
SELECT custfocus.pairwise_relative_weights(custfocus.pairwise_state(ARRAY[y, x1]), 1, ARRAY[7]) AS unknown_driver FROM pw;
SELECT (custfocus.pairwise_alpha(custfocus.pairwise_state(ARRAY[x1, x2]), ARRAY[1])).* FROM pw;
SELECT (custfocus.pairwise_relative_weights(custfocus.pairwise_state(CASE WHEN g % 2 = 0 THEN ARRAY[y, x1] END), 1, ARRAY[2])).n AS half_the_rows
  FROM pw;
-- Bad input
SELECT custfocus.pairwise_relative_weights(custfocus.pairwise_state(ARRAY[y, x1]), 1, ARRAY[]::integer[]) FROM pw;
SELECT custfocus.pairwise_relative_weights(custfocus.pairwise_state(ARRAY[y, x1]), 2, ARRAY[2]) FROM pw;
SELECT custfocus.pairwise_state(ARRAY[1, 1], ARRAY[y, x1]) FROM pw;
SELECT custfocus.pairwise_state(ARRAY[1, 2], ARRAY[y]) FROM pw;
SELECT custfocus.pairwise_state(ARRAY['NaN'::float8, x1]) FROM pw;
SELECT custfocus.pairwise_sum(s) FROM (VALUES ('{2,1,1}'::float8[])) v (s);
-- In a parallel plan, the same result as serial
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2; SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT custfocus.pairwise_state(ARRAY[my, mx1, mx2, mx3]) FROM pw;
SELECT (custfocus.pairwise_relative_weights(custfocus.pairwise_state(ARRAY[my, mx1, mx2, mx3]), 1, ARRAY[2, 3, 4])).n
  FROM pw;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather; RESET parallel_leader_participation;
DROP TABLE pw;

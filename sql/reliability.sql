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

-------------------------------------------------------------------------------
-- Scoring aggregates and statistics
-------------------------------------------------------------------------------

-- Every aggregate is PARALLEL SAFE with a combine function, and its state is
-- an ordinary bigint[] or double precision[]: partial states cross process
-- and server boundaries (parallel workers, Citus, postgres_fdw) by plain
-- array I/O, so no serialize/deserialize functions exist.  The transition
-- functions update the array in place when called as an aggregate.
-- Conventions: NULL scores are skipped and a NULL weight skips its row; no
-- valid row gives NULL; scores off their scale and weights that are not
-- positive and finite are errors.  Percentages are on 0..100 (NPS on
-- -100..100); the intervals of the _stats forms are 95 % intervals.

CREATE TYPE custfocus.nps_result AS (
	n			bigint,
	n_eff		double precision,
	promoters	double precision,
	passives	double precision,
	detractors	double precision,
	nps			double precision,
	se			double precision,
	ci_low		double precision,
	ci_high		double precision
);
COMMENT ON TYPE custfocus.nps_result IS
'Result of custfocus.nps_stats: Net Promoter Score with its counts, standard error and 95 % interval';
COMMENT ON COLUMN custfocus.nps_result.n IS 'Number of valid answers (rows)';
COMMENT ON COLUMN custfocus.nps_result.n_eff IS 'Effective number of answers: n unweighted, Kish''s (sum w)^2 / sum w^2 weighted';
COMMENT ON COLUMN custfocus.nps_result.promoters IS 'Answers 9 or 10: a count, or the sum of their weights when weighted';
COMMENT ON COLUMN custfocus.nps_result.passives IS 'Answers 7 or 8: a count, or the sum of their weights when weighted';
COMMENT ON COLUMN custfocus.nps_result.detractors IS 'Answers 0 to 6: a count, or the sum of their weights when weighted';
COMMENT ON COLUMN custfocus.nps_result.nps IS 'Net Promoter Score, 100 * (share of promoters - share of detractors), on -100..100';
COMMENT ON COLUMN custfocus.nps_result.se IS 'Standard error of the NPS, 100 * sqrt((p + d - (p - d)^2) / n_eff)';
COMMENT ON COLUMN custfocus.nps_result.ci_low IS 'Lower limit of the 95 % normal interval of the NPS, at least -100';
COMMENT ON COLUMN custfocus.nps_result.ci_high IS 'Upper limit of the 95 % normal interval of the NPS, at most 100';

CREATE TYPE custfocus.box_result AS (
	n			bigint,
	n_eff		double precision,
	in_box		double precision,
	percent		double precision,
	ci_low		double precision,
	ci_high		double precision
);
COMMENT ON TYPE custfocus.box_result IS
'Result of custfocus.top_box_stats, bottom_box_stats and csat_stats: percentage in the box with n and its 95 % Wilson interval';
COMMENT ON COLUMN custfocus.box_result.n IS 'Number of valid answers (rows)';
COMMENT ON COLUMN custfocus.box_result.n_eff IS 'Effective number of answers: n unweighted, Kish''s (sum w)^2 / sum w^2 weighted; the interval uses it';
COMMENT ON COLUMN custfocus.box_result.in_box IS 'Answers in the box: a count, or the sum of their weights when weighted';
COMMENT ON COLUMN custfocus.box_result.percent IS 'Percentage of answers in the box, on 0..100';
COMMENT ON COLUMN custfocus.box_result.ci_low IS 'Lower limit of the 95 % Wilson score interval, on 0..100';
COMMENT ON COLUMN custfocus.box_result.ci_high IS 'Upper limit of the 95 % Wilson score interval, on 0..100';

CREATE TYPE custfocus.mean_ci_result AS (
	n			bigint,
	mean		double precision,
	sd			double precision,
	ci_low		double precision,
	ci_high		double precision
);
COMMENT ON TYPE custfocus.mean_ci_result IS
'Result of custfocus.mean_ci: mean with its Student t interval';
COMMENT ON COLUMN custfocus.mean_ci_result.n IS 'Number of values';
COMMENT ON COLUMN custfocus.mean_ci_result.mean IS 'Arithmetic mean';
COMMENT ON COLUMN custfocus.mean_ci_result.sd IS 'Sample standard deviation (n - 1 divisor); NULL for one value';
COMMENT ON COLUMN custfocus.mean_ci_result.ci_low IS 'mean - t(1 - (1 - level) / 2, n - 1) * sd / sqrt(n); NULL for one value';
COMMENT ON COLUMN custfocus.mean_ci_result.ci_high IS 'mean + t(1 - (1 - level) / 2, n - 1) * sd / sqrt(n); NULL for one value';

CREATE TYPE custfocus.ces_result AS (
	n			bigint,
	n_eff		double precision,
	mean		double precision,
	percent_agree double precision
);
COMMENT ON TYPE custfocus.ces_result IS
'Result of custfocus.ces_stats: Customer Effort Score as its mean on the 1..7 scale and the percentage answering 5 or more';
COMMENT ON COLUMN custfocus.ces_result.n IS 'Number of valid answers (rows)';
COMMENT ON COLUMN custfocus.ces_result.n_eff IS 'Effective number of answers: n unweighted, Kish''s (sum w)^2 / sum w^2 weighted';
COMMENT ON COLUMN custfocus.ces_result.mean IS 'Mean (weighted mean) on the 1..7 scale';
COMMENT ON COLUMN custfocus.ces_result.percent_agree IS 'Percentage answering 5 (somewhat agree) or more, on 0..100';

CREATE TYPE custfocus.alpha_result AS (
	k			integer,
	n			bigint,
	alpha		double precision,
	std_alpha	double precision
);
COMMENT ON TYPE custfocus.alpha_result IS
'Result of custfocus.cronbach_alpha: internal consistency of a multi-item scale';
COMMENT ON COLUMN custfocus.alpha_result.k IS 'Number of items';
COMMENT ON COLUMN custfocus.alpha_result.n IS 'Number of complete rows (rows with a NULL item are left out)';
COMMENT ON COLUMN custfocus.alpha_result.alpha IS 'Raw alpha, k / (k - 1) * (1 - sum of item variances / variance of the total); NULL when k < 2, n < 2 or the total does not vary';
COMMENT ON COLUMN custfocus.alpha_result.std_alpha IS 'Standardized alpha, k r / (1 + (k - 1) r) with r the mean inter-item correlation; NULL when an item does not vary';

CREATE TYPE custfocus.relative_weights_result AS (
	n			bigint,
	k			integer,
	r2			double precision,
	weights		double precision[],
	shares		double precision[]
);
COMMENT ON TYPE custfocus.relative_weights_result IS
'Result of custfocus.relative_weights: Johnson''s relative weights of the drivers, in the order of the drivers array';
COMMENT ON COLUMN custfocus.relative_weights_result.n IS 'Number of complete rows (rows with a NULL outcome or driver are left out)';
COMMENT ON COLUMN custfocus.relative_weights_result.k IS 'Number of drivers';
COMMENT ON COLUMN custfocus.relative_weights_result.r2 IS 'R squared of the linear regression of the outcome on all drivers; NULL when undetermined (n <= k + 1, a variable that does not vary, collinear drivers)';
COMMENT ON COLUMN custfocus.relative_weights_result.weights IS 'Raw relative weight of each driver; they sum to r2';
COMMENT ON COLUMN custfocus.relative_weights_result.shares IS 'Each driver''s share of r2 (weight / r2); they sum to 1';

CREATE TYPE custfocus.proportion_ci AS (
	p			double precision,
	ci_low		double precision,
	ci_high		double precision
);
COMMENT ON TYPE custfocus.proportion_ci IS
'Result of custfocus.wilson_ci: a proportion and its interval, on 0..1';
COMMENT ON COLUMN custfocus.proportion_ci.p IS 'Observed proportion, successes / n';
COMMENT ON COLUMN custfocus.proportion_ci.ci_low IS 'Lower limit of the interval, on 0..1';
COMMENT ON COLUMN custfocus.proportion_ci.ci_high IS 'Upper limit of the interval, on 0..1';

CREATE TYPE custfocus.ztest_result AS (
	z			double precision,
	p_value		double precision
);
COMMENT ON TYPE custfocus.ztest_result IS
'Result of custfocus.prop_ztest and nps_ztest: z statistic of group 1 minus group 2 and its two-sided p-value';
COMMENT ON COLUMN custfocus.ztest_result.z IS 'z statistic, positive when group 1 scores higher';
COMMENT ON COLUMN custfocus.ztest_result.p_value IS 'Two-sided p-value from the standard normal distribution';

-- Combine functions shared by the additive states

CREATE FUNCTION custfocus.counts_combine(bigint[], bigint[]) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'counts_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.counts_combine(bigint[], bigint[]) IS
'Aggregate support: combines two count states by adding them element by element';

CREATE FUNCTION custfocus.sums_combine(double precision[], double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'sums_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.sums_combine(double precision[], double precision[]) IS
'Aggregate support: combines two weighted-sum states by adding them element by element';

-- NPS

CREATE FUNCTION custfocus.nps_accum(bigint[], double precision) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'nps_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.nps_accum(bigint[], double precision) IS
'Aggregate support for custfocus.nps: counts one 0..10 answer as promoter, passive or detractor';

CREATE FUNCTION custfocus.nps_accum_inv(bigint[], double precision) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'nps_accum_inv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.nps_accum_inv(bigint[], double precision) IS
'Aggregate support for custfocus.nps: removes one answer from the counts (window frames)';

CREATE FUNCTION custfocus.nps_final(bigint[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'nps_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.nps_final(bigint[]) IS
'Aggregate support for custfocus.nps: NPS from the counts';

CREATE FUNCTION custfocus.nps_stats_final(bigint[]) RETURNS custfocus.nps_result
AS 'MODULE_PATHNAME', 'nps_stats_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.nps_stats_final(bigint[]) IS
'Aggregate support for custfocus.nps_stats: NPS, standard error and interval from the counts';

CREATE FUNCTION custfocus.nps_weighted_accum(double precision[], double precision, double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'nps_weighted_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.nps_weighted_accum(double precision[], double precision, double precision) IS
'Aggregate support for weighted custfocus.nps: adds one weighted 0..10 answer';

CREATE FUNCTION custfocus.nps_weighted_final(double precision[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'nps_weighted_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.nps_weighted_final(double precision[]) IS
'Aggregate support for weighted custfocus.nps: NPS from the weighted sums';

CREATE FUNCTION custfocus.nps_weighted_stats_final(double precision[]) RETURNS custfocus.nps_result
AS 'MODULE_PATHNAME', 'nps_weighted_stats_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.nps_weighted_stats_final(double precision[]) IS
'Aggregate support for weighted custfocus.nps_stats: NPS, standard error with Kish''s effective n, and interval';

CREATE AGGREGATE custfocus.nps(score double precision) (
	SFUNC = custfocus.nps_accum,
	STYPE = bigint[],
	INITCOND = '{0,0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.nps_final,
	MSFUNC = custfocus.nps_accum,
	MINVFUNC = custfocus.nps_accum_inv,
	MSTYPE = bigint[],
	MINITCOND = '{0,0,0}',
	MFINALFUNC = custfocus.nps_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.nps(double precision) IS
'Net Promoter Score of 0..10 answers: 100 * (share of 9-10 - share of 0-6), on -100..100';

CREATE AGGREGATE custfocus.nps(score double precision, weight double precision) (
	SFUNC = custfocus.nps_weighted_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.nps_weighted_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.nps(double precision, double precision) IS
'Weighted Net Promoter Score: shares of promoters and detractors are shares of the total weight';

CREATE AGGREGATE custfocus.nps_stats(score double precision) (
	SFUNC = custfocus.nps_accum,
	STYPE = bigint[],
	INITCOND = '{0,0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.nps_stats_final,
	MSFUNC = custfocus.nps_accum,
	MINVFUNC = custfocus.nps_accum_inv,
	MSTYPE = bigint[],
	MINITCOND = '{0,0,0}',
	MFINALFUNC = custfocus.nps_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.nps_stats(double precision) IS
'Net Promoter Score with n, category counts, standard error and 95 % interval';

CREATE AGGREGATE custfocus.nps_stats(score double precision, weight double precision) (
	SFUNC = custfocus.nps_weighted_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.nps_weighted_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.nps_stats(double precision, double precision) IS
'Weighted Net Promoter Score with n, Kish''s effective n, weighted category sums, standard error and 95 % interval';

-- Top box, bottom box, CSAT

CREATE FUNCTION custfocus.box_final(bigint[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'box_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.box_final(bigint[]) IS
'Aggregate support for top_box, bottom_box and csat: percentage in the box';

CREATE FUNCTION custfocus.box_stats_final(bigint[]) RETURNS custfocus.box_result
AS 'MODULE_PATHNAME', 'box_stats_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.box_stats_final(bigint[]) IS
'Aggregate support for top_box_stats, bottom_box_stats and csat_stats: percentage with n and Wilson interval';

CREATE FUNCTION custfocus.box_weighted_final(double precision[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'box_weighted_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.box_weighted_final(double precision[]) IS
'Aggregate support for weighted top_box, bottom_box and csat: weighted percentage in the box';

CREATE FUNCTION custfocus.box_weighted_stats_final(double precision[]) RETURNS custfocus.box_result
AS 'MODULE_PATHNAME', 'box_weighted_stats_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.box_weighted_stats_final(double precision[]) IS
'Aggregate support for weighted top_box_stats, bottom_box_stats and csat_stats: Wilson interval with Kish''s effective n';

CREATE FUNCTION custfocus.top_box_accum(bigint[], double precision, double precision) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'top_box_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.top_box_accum(bigint[], double precision, double precision) IS
'Aggregate support for custfocus.top_box: counts one answer, in the box when score >= threshold';

CREATE FUNCTION custfocus.top_box_accum_inv(bigint[], double precision, double precision) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'top_box_accum_inv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.top_box_accum_inv(bigint[], double precision, double precision) IS
'Aggregate support for custfocus.top_box: removes one answer from the counts (window frames)';

CREATE FUNCTION custfocus.top_box_weighted_accum(double precision[], double precision, double precision, double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'top_box_weighted_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.top_box_weighted_accum(double precision[], double precision, double precision, double precision) IS
'Aggregate support for weighted custfocus.top_box: adds one weighted answer';

CREATE FUNCTION custfocus.bottom_box_accum(bigint[], double precision, double precision) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'bottom_box_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.bottom_box_accum(bigint[], double precision, double precision) IS
'Aggregate support for custfocus.bottom_box: counts one answer, in the box when score <= threshold';

CREATE FUNCTION custfocus.bottom_box_accum_inv(bigint[], double precision, double precision) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'bottom_box_accum_inv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.bottom_box_accum_inv(bigint[], double precision, double precision) IS
'Aggregate support for custfocus.bottom_box: removes one answer from the counts (window frames)';

CREATE FUNCTION custfocus.bottom_box_weighted_accum(double precision[], double precision, double precision, double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'bottom_box_weighted_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.bottom_box_weighted_accum(double precision[], double precision, double precision, double precision) IS
'Aggregate support for weighted custfocus.bottom_box: adds one weighted answer';

CREATE FUNCTION custfocus.csat_accum(bigint[], double precision) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'csat_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.csat_accum(bigint[], double precision) IS
'Aggregate support for custfocus.csat: counts one 1..5 answer, in the box when 4 or 5';

CREATE FUNCTION custfocus.csat_accum(bigint[], double precision, integer) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'csat_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.csat_accum(bigint[], double precision, integer) IS
'Aggregate support for custfocus.csat: counts one 1..scale_max answer, in the box when >= scale_max - 1';

CREATE FUNCTION custfocus.csat_accum_inv(bigint[], double precision) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'csat_accum_inv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.csat_accum_inv(bigint[], double precision) IS
'Aggregate support for custfocus.csat: removes one answer from the counts (window frames)';

CREATE FUNCTION custfocus.csat_accum_inv(bigint[], double precision, integer) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'csat_accum_inv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.csat_accum_inv(bigint[], double precision, integer) IS
'Aggregate support for custfocus.csat: removes one answer from the counts (window frames)';

CREATE FUNCTION custfocus.csat_weighted_accum(double precision[], double precision, integer, double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'csat_weighted_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.csat_weighted_accum(double precision[], double precision, integer, double precision) IS
'Aggregate support for weighted custfocus.csat: adds one weighted answer';

CREATE AGGREGATE custfocus.top_box(score double precision, threshold double precision) (
	SFUNC = custfocus.top_box_accum,
	STYPE = bigint[],
	INITCOND = '{0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.box_final,
	MSFUNC = custfocus.top_box_accum,
	MINVFUNC = custfocus.top_box_accum_inv,
	MSTYPE = bigint[],
	MINITCOND = '{0,0}',
	MFINALFUNC = custfocus.box_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.top_box(double precision, double precision) IS
'Top box: percentage of answers with score >= threshold, on 0..100';

CREATE AGGREGATE custfocus.top_box(score double precision, threshold double precision, weight double precision) (
	SFUNC = custfocus.top_box_weighted_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.box_weighted_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.top_box(double precision, double precision, double precision) IS
'Weighted top box: percentage of the total weight with score >= threshold, on 0..100';

CREATE AGGREGATE custfocus.top_box_stats(score double precision, threshold double precision) (
	SFUNC = custfocus.top_box_accum,
	STYPE = bigint[],
	INITCOND = '{0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.box_stats_final,
	MSFUNC = custfocus.top_box_accum,
	MINVFUNC = custfocus.top_box_accum_inv,
	MSTYPE = bigint[],
	MINITCOND = '{0,0}',
	MFINALFUNC = custfocus.box_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.top_box_stats(double precision, double precision) IS
'Top box (score >= threshold) with n and 95 % Wilson interval';

CREATE AGGREGATE custfocus.top_box_stats(score double precision, threshold double precision, weight double precision) (
	SFUNC = custfocus.top_box_weighted_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.box_weighted_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.top_box_stats(double precision, double precision, double precision) IS
'Weighted top box with n, Kish''s effective n and 95 % Wilson interval';

CREATE AGGREGATE custfocus.bottom_box(score double precision, threshold double precision) (
	SFUNC = custfocus.bottom_box_accum,
	STYPE = bigint[],
	INITCOND = '{0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.box_final,
	MSFUNC = custfocus.bottom_box_accum,
	MINVFUNC = custfocus.bottom_box_accum_inv,
	MSTYPE = bigint[],
	MINITCOND = '{0,0}',
	MFINALFUNC = custfocus.box_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.bottom_box(double precision, double precision) IS
'Bottom box: percentage of answers with score <= threshold, on 0..100';

CREATE AGGREGATE custfocus.bottom_box(score double precision, threshold double precision, weight double precision) (
	SFUNC = custfocus.bottom_box_weighted_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.box_weighted_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.bottom_box(double precision, double precision, double precision) IS
'Weighted bottom box: percentage of the total weight with score <= threshold, on 0..100';

CREATE AGGREGATE custfocus.bottom_box_stats(score double precision, threshold double precision) (
	SFUNC = custfocus.bottom_box_accum,
	STYPE = bigint[],
	INITCOND = '{0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.box_stats_final,
	MSFUNC = custfocus.bottom_box_accum,
	MINVFUNC = custfocus.bottom_box_accum_inv,
	MSTYPE = bigint[],
	MINITCOND = '{0,0}',
	MFINALFUNC = custfocus.box_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.bottom_box_stats(double precision, double precision) IS
'Bottom box (score <= threshold) with n and 95 % Wilson interval';

CREATE AGGREGATE custfocus.bottom_box_stats(score double precision, threshold double precision, weight double precision) (
	SFUNC = custfocus.bottom_box_weighted_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.box_weighted_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.bottom_box_stats(double precision, double precision, double precision) IS
'Weighted bottom box with n, Kish''s effective n and 95 % Wilson interval';

CREATE AGGREGATE custfocus.csat(score double precision) (
	SFUNC = custfocus.csat_accum,
	STYPE = bigint[],
	INITCOND = '{0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.box_final,
	MSFUNC = custfocus.csat_accum,
	MINVFUNC = custfocus.csat_accum_inv,
	MSTYPE = bigint[],
	MINITCOND = '{0,0}',
	MFINALFUNC = custfocus.box_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.csat(double precision) IS
'CSAT: percentage of 1..5 answers that are 4 or 5, on 0..100';

CREATE AGGREGATE custfocus.csat(score double precision, scale_max integer) (
	SFUNC = custfocus.csat_accum,
	STYPE = bigint[],
	INITCOND = '{0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.box_final,
	MSFUNC = custfocus.csat_accum,
	MINVFUNC = custfocus.csat_accum_inv,
	MSTYPE = bigint[],
	MINITCOND = '{0,0}',
	MFINALFUNC = custfocus.box_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.csat(double precision, integer) IS
'CSAT on a 1..scale_max scale: percentage of answers in the top two categories (>= scale_max - 1), on 0..100';

CREATE AGGREGATE custfocus.csat(score double precision, scale_max integer, weight double precision) (
	SFUNC = custfocus.csat_weighted_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.box_weighted_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.csat(double precision, integer, double precision) IS
'Weighted CSAT on a 1..scale_max scale: percentage of the total weight in the top two categories, on 0..100';

CREATE AGGREGATE custfocus.csat_stats(score double precision) (
	SFUNC = custfocus.csat_accum,
	STYPE = bigint[],
	INITCOND = '{0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.box_stats_final,
	MSFUNC = custfocus.csat_accum,
	MINVFUNC = custfocus.csat_accum_inv,
	MSTYPE = bigint[],
	MINITCOND = '{0,0}',
	MFINALFUNC = custfocus.box_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.csat_stats(double precision) IS
'CSAT on a 1..5 scale with n and 95 % Wilson interval';

CREATE AGGREGATE custfocus.csat_stats(score double precision, scale_max integer) (
	SFUNC = custfocus.csat_accum,
	STYPE = bigint[],
	INITCOND = '{0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.box_stats_final,
	MSFUNC = custfocus.csat_accum,
	MINVFUNC = custfocus.csat_accum_inv,
	MSTYPE = bigint[],
	MINITCOND = '{0,0}',
	MFINALFUNC = custfocus.box_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.csat_stats(double precision, integer) IS
'CSAT on a 1..scale_max scale with n and 95 % Wilson interval';

CREATE AGGREGATE custfocus.csat_stats(score double precision, scale_max integer, weight double precision) (
	SFUNC = custfocus.csat_weighted_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.box_weighted_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.csat_stats(double precision, integer, double precision) IS
'Weighted CSAT on a 1..scale_max scale with n, Kish''s effective n and 95 % Wilson interval';

-- Means

CREATE FUNCTION custfocus.linear_mean_accum(double precision[], double precision, double precision, double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'linear_mean_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.linear_mean_accum(double precision[], double precision, double precision, double precision) IS
'Aggregate support for custfocus.linear_mean: adds one answer mapped to 0..100';

CREATE FUNCTION custfocus.linear_mean_accum(double precision[], double precision, double precision, double precision, double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'linear_mean_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.linear_mean_accum(double precision[], double precision, double precision, double precision, double precision) IS
'Aggregate support for weighted custfocus.linear_mean: adds one weighted answer mapped to 0..100';

CREATE FUNCTION custfocus.linear_mean_final(double precision[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'linear_mean_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.linear_mean_final(double precision[]) IS
'Aggregate support for custfocus.linear_mean: the (weighted) mean of the 0..100 scores';

CREATE AGGREGATE custfocus.linear_mean(score double precision, scale_min double precision, scale_max double precision) (
	SFUNC = custfocus.linear_mean_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.linear_mean_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.linear_mean(double precision, double precision, double precision) IS
'CAHPS linear mean score: mean of 100 * (score - scale_min) / (scale_max - scale_min), on 0..100';

CREATE AGGREGATE custfocus.linear_mean(score double precision, scale_min double precision, scale_max double precision, weight double precision) (
	SFUNC = custfocus.linear_mean_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.linear_mean_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.linear_mean(double precision, double precision, double precision, double precision) IS
'Weighted CAHPS linear mean score, on 0..100';

CREATE FUNCTION custfocus.linear_mean_stats_accum(double precision[], double precision, double precision, double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'linear_mean_stats_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.linear_mean_stats_accum(double precision[], double precision, double precision, double precision) IS
'Aggregate support for custfocus.linear_mean_stats: adds one answer mapped to 0..100 (West''s update)';

CREATE FUNCTION custfocus.linear_mean_stats_accum(double precision[], double precision, double precision, double precision, double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'linear_mean_stats_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.linear_mean_stats_accum(double precision[], double precision, double precision, double precision, double precision) IS
'Aggregate support for weighted custfocus.linear_mean_stats: adds one weighted answer mapped to 0..100';

CREATE FUNCTION custfocus.linear_mean_stats_combine(double precision[], double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'linear_mean_stats_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.linear_mean_stats_combine(double precision[], double precision[]) IS
'Aggregate support for custfocus.linear_mean_stats: merges two states (weighted Chan formula)';

CREATE FUNCTION custfocus.linear_mean_stats_final(double precision[]) RETURNS custfocus.mean_ci_result
AS 'MODULE_PATHNAME', 'linear_mean_stats_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.linear_mean_stats_final(double precision[]) IS
'Aggregate support for custfocus.linear_mean_stats: mean, standard deviation and 95 % interval on 0..100';

CREATE AGGREGATE custfocus.linear_mean_stats(score double precision, scale_min double precision, scale_max double precision) (
	SFUNC = custfocus.linear_mean_stats_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0}',
	COMBINEFUNC = custfocus.linear_mean_stats_combine,
	FINALFUNC = custfocus.linear_mean_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.linear_mean_stats(double precision, double precision, double precision) IS
'CAHPS linear mean score on 0..100 with n, standard deviation and 95 % Student t interval';

CREATE AGGREGATE custfocus.linear_mean_stats(score double precision, scale_min double precision, scale_max double precision, weight double precision) (
	SFUNC = custfocus.linear_mean_stats_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0}',
	COMBINEFUNC = custfocus.linear_mean_stats_combine,
	FINALFUNC = custfocus.linear_mean_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.linear_mean_stats(double precision, double precision, double precision, double precision) IS
'Weighted CAHPS linear mean score on 0..100 with n, standard deviation and a 95 % interval on Kish''s effective n';

CREATE FUNCTION custfocus.mean_ci_accum(double precision[], double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'mean_ci_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.mean_ci_accum(double precision[], double precision) IS
'Aggregate support for custfocus.mean_ci: adds one value (Youngs-Cramer update)';

CREATE FUNCTION custfocus.mean_ci_accum(double precision[], double precision, double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'mean_ci_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.mean_ci_accum(double precision[], double precision, double precision) IS
'Aggregate support for custfocus.mean_ci with a level: adds one value and checks the level is the same on every row';

CREATE FUNCTION custfocus.mean_ci_combine(double precision[], double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'mean_ci_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.mean_ci_combine(double precision[], double precision[]) IS
'Aggregate support for custfocus.mean_ci: merges two states (Chan''s formula)';

CREATE FUNCTION custfocus.mean_ci_final(double precision[]) RETURNS custfocus.mean_ci_result
AS 'MODULE_PATHNAME', 'mean_ci_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.mean_ci_final(double precision[]) IS
'Aggregate support for custfocus.mean_ci: mean, standard deviation and Student t interval';

CREATE AGGREGATE custfocus.mean_ci(value double precision) (
	SFUNC = custfocus.mean_ci_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0}',
	COMBINEFUNC = custfocus.mean_ci_combine,
	FINALFUNC = custfocus.mean_ci_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.mean_ci(double precision) IS
'Mean with n, standard deviation and 95 % Student t interval';

CREATE AGGREGATE custfocus.mean_ci(value double precision, level double precision) (
	SFUNC = custfocus.mean_ci_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0}',
	COMBINEFUNC = custfocus.mean_ci_combine,
	FINALFUNC = custfocus.mean_ci_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.mean_ci(double precision, double precision) IS
'Mean with n, standard deviation and Student t interval at the given confidence level (e.g. 0.9), the same on every row';

CREATE FUNCTION custfocus.ces_accum(double precision[], double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'ces_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.ces_accum(double precision[], double precision) IS
'Aggregate support for custfocus.ces_stats: adds one 1..7 answer';

CREATE FUNCTION custfocus.ces_accum(double precision[], double precision, double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'ces_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.ces_accum(double precision[], double precision, double precision) IS
'Aggregate support for weighted custfocus.ces_stats: adds one weighted 1..7 answer';

CREATE FUNCTION custfocus.ces_final(double precision[]) RETURNS custfocus.ces_result
AS 'MODULE_PATHNAME', 'ces_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.ces_final(double precision[]) IS
'Aggregate support for custfocus.ces_stats: mean and percentage answering 5 or more';

CREATE AGGREGATE custfocus.ces_stats(score double precision) (
	SFUNC = custfocus.ces_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.ces_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.ces_stats(double precision) IS
'Customer Effort Score on its 1..7 scale: n, mean and percentage answering 5 or more';

CREATE AGGREGATE custfocus.ces_stats(score double precision, weight double precision) (
	SFUNC = custfocus.ces_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.ces_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.ces_stats(double precision, double precision) IS
'Weighted Customer Effort Score: n, Kish''s effective n, weighted mean and weighted percentage answering 5 or more';

CREATE FUNCTION custfocus.satisfaction_index(item_means double precision[], scale_min double precision, scale_max double precision) RETURNS double precision
AS 'MODULE_PATHNAME', 'satisfaction_index'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.satisfaction_index(double precision[], double precision, double precision) IS
'ACSI-style satisfaction index on 0..100 from item means on one scale, items weighted equally';

CREATE FUNCTION custfocus.satisfaction_index(item_means double precision[], scale_min double precision, scale_max double precision, weights double precision[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'satisfaction_index'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.satisfaction_index(double precision[], double precision, double precision, double precision[]) IS
'ACSI-style satisfaction index on 0..100: 100 * sum(w_i * (mean_i - min)) / (max - min), weights rescaled to sum to 1';

-- Weights

CREATE FUNCTION custfocus.weights_accum(double precision[], double precision) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'weights_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.weights_accum(double precision[], double precision) IS
'Aggregate support for custfocus.effective_n and design_effect: adds one weight';

CREATE FUNCTION custfocus.effective_n_final(double precision[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'effective_n_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.effective_n_final(double precision[]) IS
'Aggregate support for custfocus.effective_n: Kish''s effective n';

CREATE FUNCTION custfocus.design_effect_final(double precision[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'design_effect_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.design_effect_final(double precision[]) IS
'Aggregate support for custfocus.design_effect: n / Kish''s effective n';

CREATE AGGREGATE custfocus.effective_n(weight double precision) (
	SFUNC = custfocus.weights_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.effective_n_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.effective_n(double precision) IS
'Kish''s effective sample size of a weight column, (sum w)^2 / sum w^2';

CREATE AGGREGATE custfocus.design_effect(weight double precision) (
	SFUNC = custfocus.weights_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.design_effect_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.design_effect(double precision) IS
'Kish''s design effect of a weight column, n * sum w^2 / (sum w)^2';

CREATE FUNCTION custfocus.effective_n(weights double precision[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'effective_n_array'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.effective_n(double precision[]) IS
'Kish''s effective sample size of an array of weights, (sum w)^2 / sum w^2; NULL elements are skipped';

CREATE FUNCTION custfocus.design_effect(weights double precision[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'design_effect_array'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.design_effect(double precision[]) IS
'Kish''s design effect of an array of weights, n * sum w^2 / (sum w)^2; NULL elements are skipped';

-- Intervals and tests

CREATE FUNCTION custfocus.wilson_ci(successes double precision, n double precision,
									level double precision DEFAULT 0.95,
									method text DEFAULT 'wilson')
RETURNS custfocus.proportion_ci
AS 'MODULE_PATHNAME', 'wilson_ci'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.wilson_ci(double precision, double precision, double precision, text) IS
'Interval for the proportion successes / n on 0..1: Wilson score interval, or Agresti-Coull with method => ''agresti-coull''; NULL when n = 0';

CREATE FUNCTION custfocus.prop_ztest(x1 double precision, n1 double precision,
									 x2 double precision, n2 double precision)
RETURNS custfocus.ztest_result
AS 'MODULE_PATHNAME', 'prop_ztest'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.prop_ztest(double precision, double precision, double precision, double precision) IS
'Pooled two-proportion z-test of x1/n1 against x2/n2: z of p1 - p2 and two-sided p; NULL when undefined';

CREATE FUNCTION custfocus.nps_ztest(nps1 double precision, se1 double precision,
									nps2 double precision, se2 double precision)
RETURNS custfocus.ztest_result
AS 'MODULE_PATHNAME', 'nps_ztest'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.nps_ztest(double precision, double precision, double precision, double precision) IS
'z-test of two independent NPS from their standard errors: z = (nps1 - nps2) / sqrt(se1^2 + se2^2), two-sided p';

CREATE FUNCTION custfocus.nps_ztest(promoters1 bigint, passives1 bigint, detractors1 bigint,
									promoters2 bigint, passives2 bigint, detractors2 bigint)
RETURNS custfocus.ztest_result
AS 'MODULE_PATHNAME', 'nps_ztest_counts'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.nps_ztest(bigint, bigint, bigint, bigint, bigint, bigint) IS
'z-test of two independent NPS from their category counts: z = (nps1 - nps2) / sqrt(se1^2 + se2^2), two-sided p';

-- Reliability and key drivers

CREATE FUNCTION custfocus.cronbach_alpha_accum(double precision[], double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'cronbach_alpha_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.cronbach_alpha_accum(double precision[], double precision[]) IS
'Aggregate support for custfocus.cronbach_alpha: adds one complete row of item scores to the co-moments';

CREATE FUNCTION custfocus.relative_weights_accum(double precision[], double precision, double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'relative_weights_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.relative_weights_accum(double precision[], double precision, double precision[]) IS
'Aggregate support for custfocus.relative_weights: adds one complete row of outcome and drivers to the co-moments';

CREATE FUNCTION custfocus.comoment_combine(double precision[], double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'comoment_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.comoment_combine(double precision[], double precision[]) IS
'Aggregate support for cronbach_alpha and relative_weights: merges two co-moment states (Chan''s formula)';

CREATE FUNCTION custfocus.cronbach_alpha_final(double precision[]) RETURNS custfocus.alpha_result
AS 'MODULE_PATHNAME', 'cronbach_alpha_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.cronbach_alpha_final(double precision[]) IS
'Aggregate support for custfocus.cronbach_alpha: raw and standardized alpha from the co-moments';

CREATE FUNCTION custfocus.relative_weights_final(double precision[]) RETURNS custfocus.relative_weights_result
AS 'MODULE_PATHNAME', 'relative_weights_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.relative_weights_final(double precision[]) IS
'Aggregate support for custfocus.relative_weights: R squared and relative weights from the co-moments';

CREATE AGGREGATE custfocus.cronbach_alpha(items double precision[]) (
	SFUNC = custfocus.cronbach_alpha_accum,
	STYPE = double precision[],
	INITCOND = '{}',
	COMBINEFUNC = custfocus.comoment_combine,
	FINALFUNC = custfocus.cronbach_alpha_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.cronbach_alpha(double precision[]) IS
'Cronbach''s alpha, raw and standardized, of the item scores in each row''s array; rows with a NULL item are left out';

CREATE AGGREGATE custfocus.relative_weights(outcome double precision, drivers double precision[]) (
	SFUNC = custfocus.relative_weights_accum,
	STYPE = double precision[],
	INITCOND = '{}',
	COMBINEFUNC = custfocus.comoment_combine,
	FINALFUNC = custfocus.relative_weights_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.relative_weights(double precision, double precision[]) IS
'Johnson''s relative weights of the drivers for the outcome: R squared, raw weights summing to it and shares of it; NULL fields when undetermined';

-- Pairwise states (src/matrix.c): the statistics of every pair of a row's
-- variables over the rows that have both, so that correlations, relative
-- weights and alpha of any subset of the variables come from merged states
-- (the key drivers' roll-up of them per service, month and survey, whose
-- variables are items: rollup_pairs_month).
CREATE FUNCTION custfocus.pairwise_accum(double precision[], double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pairwise_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.pairwise_accum(double precision[], double precision[]) IS
'Aggregate support for custfocus.pairwise_state(x): adds one row (variables 1 to n, NULL elements missing) to every pair of values it has';
CREATE FUNCTION custfocus.pairwise_ids_accum(double precision[], integer[], double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pairwise_ids_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.pairwise_ids_accum(double precision[], integer[], double precision[]) IS
'Aggregate support for custfocus.pairwise_state(ids, x): adds one row of values of the given variables';
CREATE FUNCTION custfocus.pairwise_ids_accum(double precision[], integer[], double precision[], boolean[])
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pairwise_ids_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.pairwise_ids_accum(double precision[], integer[], double precision[], boolean[]) IS
'Aggregate support for custfocus.pairwise_state(ids, x, fresh): adds one row to the pairs of values it has of which at least one is fresh';
CREATE FUNCTION custfocus.pairwise_combine(double precision[], double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pairwise_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.pairwise_combine(double precision[], double precision[]) IS
'Merges two pairwise states (Chan''s formula, pair by pair, over the union of their variables)';
CREATE AGGREGATE custfocus.pairwise_state(x double precision[]) (
	SFUNC = custfocus.pairwise_accum,
	STYPE = double precision[],
	INITCOND = '{}',
	COMBINEFUNC = custfocus.pairwise_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.pairwise_state(double precision[]) IS
'Pairwise state of the rows'' arrays (variable i is element i, NULL where missing): for each pair of variables, its rows, means and co-moments over the rows that have both; merge with pairwise_sum, finish with pairwise_relative_weights or pairwise_alpha';
CREATE AGGREGATE custfocus.pairwise_state(ids integer[], x double precision[]) (
	SFUNC = custfocus.pairwise_ids_accum,
	STYPE = double precision[],
	INITCOND = '{}',
	COMBINEFUNC = custfocus.pairwise_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.pairwise_state(integer[], double precision[]) IS
'Pairwise state of rows given as the ids of their variables and the values (e.g. one respondent''s item ids and scores): rows need not have the same variables';
CREATE AGGREGATE custfocus.pairwise_state(ids integer[], x double precision[], fresh boolean[]) (
	SFUNC = custfocus.pairwise_ids_accum,
	STYPE = double precision[],
	INITCOND = '{}',
	COMBINEFUNC = custfocus.pairwise_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.pairwise_state(integer[], double precision[], boolean[]) IS
'Pairwise state of the pairs each row makes with at least one fresh value (what values added to a row already counted add)';
CREATE AGGREGATE custfocus.pairwise_sum(double precision[]) (
	SFUNC = custfocus.pairwise_combine,
	STYPE = double precision[],
	INITCOND = '{}',
	COMBINEFUNC = custfocus.pairwise_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.pairwise_sum(double precision[]) IS
'Merges pairwise states into one state, over the union of their variables';
CREATE FUNCTION custfocus.pairwise_relative_weights(state double precision[], outcome integer, drivers integer[])
RETURNS custfocus.relative_weights_result
AS 'MODULE_PATHNAME', 'pairwise_relative_weights'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.pairwise_relative_weights(double precision[], integer, integer[]) IS
'Johnson''s relative weights of the drivers for the outcome (variable ids of the state) from pairwise correlations (R: cor(use = "pairwise.complete.obs")); n is the fewest rows of any pair (NULL result when 0); NULL fields when undetermined (n <= k + 1, a variable that does not vary, a correlation matrix that is not positive definite, pairwise correlations no one set of rows could have: R squared above 1)';
CREATE FUNCTION custfocus.pairwise_alpha(state double precision[], items integer[])
RETURNS custfocus.alpha_result
AS 'MODULE_PATHNAME', 'pairwise_alpha'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.pairwise_alpha(double precision[], integer[]) IS
'Cronbach''s alpha of the items (variable ids of the state) from their variances and pairwise covariances (n - 1 divisors), standardized alpha from the mean pairwise correlation; n is the fewest rows of any pair; on rows without missing values, the same as cronbach_alpha';

-- Two-stage aggregation: an aggregate's transition state computed over small
-- groups (a service in a month) and merged into bigger ones (a program in a
-- year) gives exactly the one-stage result, because the states are additive
-- (or merged by the same combine function parallel query uses).  The views
-- roll up this way, reading each answer once; the same states are what
-- Citus or postgres_fdw would ship from the workers.
CREATE AGGREGATE custfocus.top_box_state(score double precision, threshold double precision) (
	SFUNC = custfocus.top_box_accum,
	STYPE = bigint[],
	INITCOND = '{0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.top_box_state(double precision, double precision) IS
'Transition state of custfocus.top_box_stats (answers, answers in the box), to be merged with custfocus.box_stats_merge';

CREATE AGGREGATE custfocus.top_box_state(score double precision, threshold double precision, weight double precision) (
	SFUNC = custfocus.top_box_weighted_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.top_box_state(double precision, double precision, double precision) IS
'Transition state of weighted custfocus.top_box_stats, to be merged with custfocus.box_stats_merge';

CREATE AGGREGATE custfocus.box_stats_merge(state bigint[]) (
	SFUNC = custfocus.counts_combine,
	STYPE = bigint[],
	INITCOND = '{0,0}',
	COMBINEFUNC = custfocus.counts_combine,
	FINALFUNC = custfocus.box_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.box_stats_merge(bigint[]) IS
'Merges top_box_state results into the top_box_stats result of all their answers';

CREATE AGGREGATE custfocus.box_stats_merge(state double precision[]) (
	SFUNC = custfocus.sums_combine,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.box_weighted_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.box_stats_merge(double precision[]) IS
'Merges weighted top_box_state results into the weighted top_box_stats result of all their answers';

CREATE AGGREGATE custfocus.nps_state(score double precision, weight double precision) (
	SFUNC = custfocus.nps_weighted_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.nps_state(double precision, double precision) IS
'Transition state of weighted custfocus.nps_stats, to be merged with custfocus.nps_stats_merge';

CREATE AGGREGATE custfocus.nps_stats_merge(state double precision[]) (
	SFUNC = custfocus.sums_combine,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0,0}',
	COMBINEFUNC = custfocus.sums_combine,
	FINALFUNC = custfocus.nps_weighted_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.nps_stats_merge(double precision[]) IS
'Merges nps_state results into the weighted nps_stats result of all their answers';

CREATE AGGREGATE custfocus.linear_mean_state(score double precision, scale_min double precision,
											 scale_max double precision, weight double precision) (
	SFUNC = custfocus.linear_mean_stats_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0}',
	COMBINEFUNC = custfocus.linear_mean_stats_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.linear_mean_state(double precision, double precision, double precision, double precision) IS
'Transition state of weighted custfocus.linear_mean_stats, to be merged with custfocus.linear_mean_stats_merge';

CREATE AGGREGATE custfocus.linear_mean_stats_merge(state double precision[]) (
	SFUNC = custfocus.linear_mean_stats_combine,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0}',
	COMBINEFUNC = custfocus.linear_mean_stats_combine,
	FINALFUNC = custfocus.linear_mean_stats_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.linear_mean_stats_merge(double precision[]) IS
'Merges linear_mean_state results into the weighted linear_mean_stats result of all their answers';


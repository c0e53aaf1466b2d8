/*
 * moments.c
 *		Means: the CAHPS linear mean, the mean with its t interval, the CES
 *		summary, the satisfaction index, and Kish's effective n of weights.
 *
 * All states are float8[]; the sums are additive (combined by
 * sums_combine) except mean_ci's, which keeps a sum of squared deviations
 * and is combined with Chan's formula.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"

#include "aggutils.h"
#include "stats.h"

/* linear_mean state: rows, sum of weights, weighted sum of 0..100 scores */
#define LM_N				0
#define LM_SUM_W			1
#define LM_SUM_WY			2
#define LM_STATE_LEN		3

/*
 * mean_ci state: N, sum of x, sum of squared deviations from the mean (as
 * float8_accum keeps them), and the confidence level (0 = not given).
 */
#define MC_N				0
#define MC_SX				1
#define MC_SXX				2
#define MC_LEVEL			3
#define MC_STATE_LEN		4
#define MC_DEFAULT_LEVEL	0.95

/* CES state: rows, sum w, sum w^2, sum w x, sum of w with x >= 5 */
#define CES_N				0
#define CES_SUM_W			1
#define CES_SUM_W2			2
#define CES_SUM_WX			3
#define CES_SUM_W_AGREE		4
#define CES_STATE_LEN		5
#define CES_MIN				1.0
#define CES_MAX				7.0
#define CES_AGREE			5.0

/* weights state: rows, sum w, sum w^2 */
#define WT_N				0
#define WT_SUM				1
#define WT_SUM2				2
#define WT_STATE_LEN		3

/*
 * CAHPS linear mean score
 */

static void
CheckScaleBounds(double scale_min, double scale_max, const char *fname)
{
	CfCheckFinite(scale_min, "scale_min", fname);
	CfCheckFinite(scale_max, "scale_max", fname);
	if (!(scale_max > scale_min))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s scale_max %s is not greater than scale_min %s", fname,
						CfFormatFloat(scale_max), CfFormatFloat(scale_min)),
				 errdetail("A scale runs from scale_min up to a greater scale_max."),
				 errhint("Pass the scale's lowest and highest codes, e.g. 1 and 4 for Never..Always.")));
}

/* out of line: reached only when LinearScore's one combined test fails */
pg_noreturn static void LinearScoreInvalid(double x, double lo, double hi,
										   const char *fname);

static pg_noinline void
LinearScoreInvalid(double x, double lo, double hi, const char *fname)
{
	CheckScaleBounds(lo, hi, fname);
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("%s score %s is outside %s to %s", fname, CfFormatFloat(x),
					CfFormatFloat(lo), CfFormatFloat(hi)),
			 errdetail("The linear mean maps scale_min to 0 and scale_max to 100; a score outside the scale has no place on it."),
			 errhint("Check the scale bounds passed for this item.")));
}

/*
 * The CAHPS linear score of one answer: scale_min maps to 0 and scale_max to
 * 100.  Both linear_mean and linear_mean_stats score through here.  With
 * finite lo < hi, lo <= x <= hi also makes x finite, so one test covers the
 * bounds and the answer; NaN and infinities fail one of the comparisons.
 */
static inline double
LinearScore(double x, double lo, double hi, const char *fname)
{
	if (unlikely(!(isfinite(lo) && isfinite(hi) && hi > lo &&
				   x >= lo && x <= hi)))
		LinearScoreInvalid(x, lo, hi, fname);
	return 100.0 * (x - lo) / (hi - lo);
}

/*
 * linear_mean(score, scale_min, scale_max [, weight]).  The bounds are read
 * per row, so one call can score items on different scales.
 */
PG_FUNCTION_INFO_V1(linear_mean_accum);
Datum
linear_mean_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	float8	   *s = CfRowState(state, FLOAT8OID, LM_STATE_LEN, "linear_mean");
	double		y = LinearScore(PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2),
								PG_GETARG_FLOAT8(3), "linear_mean");
	double		w = 1.0;

	if (PG_NARGS() > 4)
	{
		w = PG_GETARG_FLOAT8(4);
		CfCheckWeight(w, "linear_mean");
	}

	s[LM_N] += 1.0;
	s[LM_SUM_W] += w;
	s[LM_SUM_WY] += w * y;
	PG_RETURN_ARRAYTYPE_P(state);
}

/*
 * linear_mean_stats(score, scale_min, scale_max [, weight]): the linear mean
 * with n, standard deviation and a 95 % interval, for the scorecard.
 *
 * The state keeps the weighted mean and the weighted sum of squared
 * deviations, updated by West's incremental formula and merged by the
 * weighted form of Chan's, so that neither loses precision to a difference
 * of large sums.  The interval uses Kish's effective n: with unit weights it
 * is exactly mean_ci's Student t interval.
 */
#define LMS_N				0
#define LMS_SUM_W			1
#define LMS_SUM_W2			2
#define LMS_MEAN			3
#define LMS_SSD				4
#define LMS_STATE_LEN		CF_LINEAR_MEAN_STATE_LEN

static float8 *
LinearMeanStatsState(ArrayType *state)
{
	float8	   *s = CfSumState(state, LMS_STATE_LEN, "linear_mean_stats");

	if (s[LMS_N] < 0.0 || s[LMS_N] != floor(s[LMS_N]) || s[LMS_SUM_W] < 0.0 ||
		s[LMS_SUM_W2] < 0.0 || s[LMS_SSD] < 0.0 ||
		(s[LMS_N] == 0.0) != (s[LMS_SUM_W] == 0.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid transition state for linear_mean_stats"),
				 errdetail("The state holds a count, two non-negative weight sums, a mean and a non-negative sum of squares.")));
	return s;
}

PG_FUNCTION_INFO_V1(linear_mean_stats_accum);
Datum
linear_mean_stats_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	float8	   *s = CfRowState(state, FLOAT8OID, LMS_STATE_LEN, "linear_mean_stats");
	double		y = LinearScore(PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2),
								PG_GETARG_FLOAT8(3), "linear_mean_stats");
	double		w = 1.0;

	if (PG_NARGS() > 4)
	{
		w = PG_GETARG_FLOAT8(4);
		CfCheckWeight(w, "linear_mean_stats");
	}

	CfLinearMeanAdd(s, y, w);
	PG_RETURN_ARRAYTYPE_P(state);
}

/*
 * One answer's linear score y of weight w into a linear_mean_stats state
 * (also the item roll-up's, see rollup.c).
 */
void
CfLinearMeanAdd(float8 *s, double y, double w)
{
	double		delta;

	s[LMS_N] += 1.0;
	s[LMS_SUM_W] += w;
	s[LMS_SUM_W2] += w * w;
	delta = y - s[LMS_MEAN];
	s[LMS_MEAN] += delta * w / s[LMS_SUM_W];

	/*
	 * The increment is w * delta^2 * (1 - w / sum_w) >= 0, but computed as
	 * w * delta * (y - new mean) it can come out a rounding error below
	 * zero when the new mean lands a unit in the last place beyond y (the
	 * first row of a weight that does not divide exactly, say): a negative
	 * sum of squares that every later merge would reject.
	 */
	s[LMS_SSD] += Max(0.0, w * delta * (y - s[LMS_MEAN]));
}

/* Merges linear_mean_stats state b into a (Chan's weighted formula). */
void
CfLinearMeanMerge(float8 *a, const float8 *b)
{
	if (a[LMS_N] == 0.0)
		memcpy(a, b, sizeof(float8) * LMS_STATE_LEN);
	else if (b[LMS_N] > 0.0)
	{
		double		sum_w = a[LMS_SUM_W] + b[LMS_SUM_W];
		double		delta = b[LMS_MEAN] - a[LMS_MEAN];

		a[LMS_SSD] += b[LMS_SSD] + delta * delta * a[LMS_SUM_W] * b[LMS_SUM_W] / sum_w;
		a[LMS_MEAN] += delta * b[LMS_SUM_W] / sum_w;
		a[LMS_N] += b[LMS_N];
		a[LMS_SUM_W] = sum_w;
		a[LMS_SUM_W2] += b[LMS_SUM_W2];
	}
}

/* The linear score (0..100) of x on lo..hi, for the item roll-up. */
double
CfLinearScore(double x, double lo, double hi, const char *fname)
{
	return LinearScore(x, lo, hi, fname);
}

PG_FUNCTION_INFO_V1(linear_mean_stats_combine);
Datum
linear_mean_stats_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	float8	   *a = LinearMeanStatsState(state);
	float8	   *b = LinearMeanStatsState(PG_GETARG_ARRAYTYPE_P(1));

	CfLinearMeanMerge(a, b);
	PG_RETURN_ARRAYTYPE_P(state);
}

/*
 * The interval mean +- t * sd / sqrt(n) into values[3] and values[4], t the
 * Student t critical value on df degrees of freedom, for mean_ci and
 * linear_mean_stats.  df may be fractional and below 1 (weighted data with
 * n_eff between 1 and 2), where t is finite but huge; where it is beyond
 * the largest double (df below about 0.0042 at 95 %) the interval has no
 * finite bounds, and they are NULL rather than infinite.  All values equal
 * (sd = 0) is an interval of zero width for any finite or infinite t; it is
 * set apart because Infinity * 0 would be NaN.
 */
static void
SetMeanInterval(double mean, double sd, double n, double df, double level,
				Datum *values, bool *nulls)
{
	double		t = CfStudentTCritical(level, df);
	double		half;

	if (isnan(t))
		half = NAN;				/* df <= 0: callers do not get here */
	else if (sd == 0.0)
		half = 0.0;
	else
		half = t * sd / sqrt(n);

	if (isfinite(mean - half) && isfinite(mean + half))
	{
		values[3] = Float8GetDatum(mean - half);
		values[4] = Float8GetDatum(mean + half);
	}
	else
		nulls[3] = nulls[4] = true;
}

/*
 * (n, mean, sd, ci_low, ci_high) on 0..100: sd = sqrt(SSD / sum_w * n_eff /
 * (n_eff - 1)), interval mean +- t(0.975, n_eff - 1) * sd / sqrt(n_eff).
 * sd and the interval are NULL unless n_eff > 1: at n_eff <= 1 there are no
 * degrees of freedom (t on df <= 0 does not exist), so there is no interval
 * rather than a NaN one.  Between 1 and 2 the degrees of freedom are
 * fractional and below 1 and the interval is very wide, as it should be for
 * data that carry little more than one answer's information.
 */
PG_FUNCTION_INFO_V1(linear_mean_stats_final);
Datum
linear_mean_stats_final(PG_FUNCTION_ARGS)
{
	float8	   *s = LinearMeanStatsState(PG_GETARG_ARRAYTYPE_P(0));
	double		n_eff;
	Datum		values[5];
	bool		nulls[5] = {0};

	if (s[LMS_N] == 0.0)
		PG_RETURN_NULL();

	n_eff = s[LMS_SUM_W] * s[LMS_SUM_W] / s[LMS_SUM_W2];
	values[0] = Int64GetDatum((int64) s[LMS_N]);
	values[1] = Float8GetDatum(s[LMS_MEAN]);
	/* n_eff of n equal weights can round to a hair above or below n */
	if (s[LMS_N] < 2.0 || !(n_eff > 1.0))
		nulls[2] = nulls[3] = nulls[4] = true;
	else
	{
		double		sd = sqrt(s[LMS_SSD] / s[LMS_SUM_W] * n_eff / (n_eff - 1.0));

		values[2] = Float8GetDatum(sd);
		SetMeanInterval(s[LMS_MEAN], sd, n_eff, n_eff - 1.0, 0.95, values, nulls);
	}
	PG_RETURN_DATUM(CfMakeRecord(fcinfo, values, nulls));
}

PG_FUNCTION_INFO_V1(linear_mean_final);
Datum
linear_mean_final(PG_FUNCTION_ARGS)
{
	float8	   *s = CfSumState(PG_GETARG_ARRAYTYPE_P(0), LM_STATE_LEN, "linear_mean");

	if (!(s[LM_N] > 0.0 && s[LM_SUM_W] > 0.0))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(s[LM_SUM_WY] / s[LM_SUM_W]);
}

/*
 * mean_ci(value [, level])
 */

/*
 * One transition function for both forms: the level is an argument of every
 * row but one value for the group, so the state remembers it and refuses a
 * second, different one.
 */
PG_FUNCTION_INFO_V1(mean_ci_accum);
Datum
mean_ci_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	float8	   *s = CfRowState(state, FLOAT8OID, MC_STATE_LEN, "mean_ci");
	double		x = PG_GETARG_FLOAT8(1);
	double		n;

	CfCheckFinite(x, "value", "mean_ci");
	if (PG_NARGS() > 2)
	{
		double		level = PG_GETARG_FLOAT8(2);

		CfCheckLevel(level, "mean_ci");
		if (s[MC_LEVEL] == 0.0)
			s[MC_LEVEL] = level;
		else if (s[MC_LEVEL] != level)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("mean_ci confidence level %s differs from %s given before",
							CfFormatFloat(level), CfFormatFloat(s[MC_LEVEL])),
					 errdetail("One interval has one confidence level.")));
	}

	/* Youngs-Cramer: update the squared deviations before the sum */
	n = s[MC_N] + 1.0;
	s[MC_SX] += x;
	if (s[MC_N] > 0.0)
	{
		double		tmp = x * n - s[MC_SX];

		s[MC_SXX] += tmp * tmp / (n * s[MC_N]);
	}
	s[MC_N] = n;
	PG_RETURN_ARRAYTYPE_P(state);
}

static float8 *
MeanCiState(ArrayType *state, const char *fname)
{
	float8	   *s = CfSumState(state, MC_STATE_LEN, fname);

	if (s[MC_N] < 0.0 || s[MC_N] != floor(s[MC_N]) || s[MC_SXX] < 0.0 ||
		!(s[MC_LEVEL] == 0.0 || (s[MC_LEVEL] > 0.0 && s[MC_LEVEL] < 1.0)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid transition state for %s", fname),
				 errdetail("The state holds a count, a sum, a non-negative sum of squares and a level.")));
	return s;
}

/* Chan, Golub and LeVeque's pairwise update, as float8_combine does */
PG_FUNCTION_INFO_V1(mean_ci_combine);
Datum
mean_ci_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	float8	   *a = MeanCiState(state, "mean_ci");
	float8	   *b = MeanCiState(PG_GETARG_ARRAYTYPE_P(1), "mean_ci");
	double		level;

	if (a[MC_LEVEL] != 0.0 && b[MC_LEVEL] != 0.0 && a[MC_LEVEL] != b[MC_LEVEL])
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("mean_ci confidence level %s differs from %s given before",
						CfFormatFloat(b[MC_LEVEL]), CfFormatFloat(a[MC_LEVEL])),
				 errdetail("One interval has one confidence level.")));
	level = (a[MC_LEVEL] != 0.0) ? a[MC_LEVEL] : b[MC_LEVEL];

	if (a[MC_N] == 0.0)
	{
		a[MC_N] = b[MC_N];
		a[MC_SX] = b[MC_SX];
		a[MC_SXX] = b[MC_SXX];
	}
	else if (b[MC_N] > 0.0)
	{
		double		n = a[MC_N] + b[MC_N];
		double		tmp = a[MC_SX] / a[MC_N] - b[MC_SX] / b[MC_N];

		a[MC_SXX] += b[MC_SXX] + a[MC_N] * b[MC_N] * tmp * tmp / n;
		a[MC_SX] += b[MC_SX];
		a[MC_N] = n;
	}
	a[MC_LEVEL] = level;
	PG_RETURN_ARRAYTYPE_P(state);
}

/*
 * (n, mean, sd, ci_low, ci_high): mean +- t(1 - (1 - level) / 2, n - 1) *
 * sd / sqrt(n); sd and the interval are NULL for a single value.
 */
PG_FUNCTION_INFO_V1(mean_ci_final);
Datum
mean_ci_final(PG_FUNCTION_ARGS)
{
	float8	   *s = MeanCiState(PG_GETARG_ARRAYTYPE_P(0), "mean_ci");
	double		n = s[MC_N];
	double		level = (s[MC_LEVEL] != 0.0) ? s[MC_LEVEL] : MC_DEFAULT_LEVEL;
	double		mean;
	Datum		values[5];
	bool		nulls[5] = {0};

	if (n == 0.0)
		PG_RETURN_NULL();

	mean = s[MC_SX] / n;
	values[0] = Int64GetDatum((int64) n);
	values[1] = Float8GetDatum(mean);
	if (n < 2.0)
		nulls[2] = nulls[3] = nulls[4] = true;
	else
	{
		double		sd = sqrt(s[MC_SXX] / (n - 1.0));

		values[2] = Float8GetDatum(sd);
		SetMeanInterval(mean, sd, n, n - 1.0, level, values, nulls);
	}
	PG_RETURN_DATUM(CfMakeRecord(fcinfo, values, nulls));
}

/*
 * Customer Effort Score on its 1..7 agreement scale
 */

pg_noreturn static void CesInvalid(double x);

static pg_noinline void
CesInvalid(double x)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("ces_stats score %s is outside 1 to 7", CfFormatFloat(x)),
			 errdetail("The Customer Effort Score is answered on a 1 to 7 agreement scale."),
			 errhint("Score only items on the ces7 scale, or recode the answers first.")));
}

PG_FUNCTION_INFO_V1(ces_accum);
Datum
ces_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	float8	   *s = CfRowState(state, FLOAT8OID, CES_STATE_LEN, "ces_stats");
	double		x = PG_GETARG_FLOAT8(1);
	double		w = 1.0;

	if (unlikely(!(x >= CES_MIN && x <= CES_MAX)))
		CesInvalid(x);
	if (PG_NARGS() > 2)
	{
		w = PG_GETARG_FLOAT8(2);
		CfCheckWeight(w, "ces_stats");
	}

	s[CES_N] += 1.0;
	s[CES_SUM_W] += w;
	s[CES_SUM_W2] += w * w;
	s[CES_SUM_WX] += w * x;
	if (x >= CES_AGREE)
		s[CES_SUM_W_AGREE] += w;
	PG_RETURN_ARRAYTYPE_P(state);
}

/* (n, n_eff, mean on 1..7, percent answering 5 or more on 0..100) */
PG_FUNCTION_INFO_V1(ces_final);
Datum
ces_final(PG_FUNCTION_ARGS)
{
	float8	   *s = CfSumState(PG_GETARG_ARRAYTYPE_P(0), CES_STATE_LEN, "ces_stats");
	Datum		values[4];
	bool		nulls[4] = {0};

	if (s[CES_N] == 0.0)
		PG_RETURN_NULL();
	if (!(s[CES_N] > 0.0 && s[CES_SUM_W] > 0.0 && s[CES_SUM_W2] > 0.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid transition state for %s", "ces_stats"),
				 errdetail("A state with rows must have a positive sum of weights.")));

	values[0] = Int64GetDatum((int64) s[CES_N]);
	values[1] = Float8GetDatum(CfKishEffectiveN(s[CES_SUM_W], s[CES_SUM_W2]));
	values[2] = Float8GetDatum(s[CES_SUM_WX] / s[CES_SUM_W]);
	values[3] = Float8GetDatum(100.0 * s[CES_SUM_W_AGREE] / s[CES_SUM_W]);
	PG_RETURN_DATUM(CfMakeRecord(fcinfo, values, nulls));
}

/*
 * Effective n and design effect of weights
 */

PG_FUNCTION_INFO_V1(weights_accum);
Datum
weights_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	float8	   *s = CfRowState(state, FLOAT8OID, WT_STATE_LEN, "effective_n");
	double		w = PG_GETARG_FLOAT8(1);

	/* effective_n and design_effect share this function */
	if (!(w > 0.0 && isfinite(w)))
		CfInvalidWeight(w, CfAggName(fcinfo, "effective_n or design_effect"));
	s[WT_N] += 1.0;
	s[WT_SUM] += w;
	s[WT_SUM2] += w * w;
	PG_RETURN_ARRAYTYPE_P(state);
}

static float8 *
WeightsState(ArrayType *state)
{
	float8	   *s = CfSumState(state, WT_STATE_LEN, "effective_n");

	if (s[WT_N] < 0.0 || (s[WT_N] > 0.0 && !(s[WT_SUM] > 0.0 && s[WT_SUM2] > 0.0)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid transition state for %s", "effective_n"),
				 errdetail("A state with rows must have a positive sum of weights.")));
	return s;
}

PG_FUNCTION_INFO_V1(effective_n_final);
Datum
effective_n_final(PG_FUNCTION_ARGS)
{
	float8	   *s = WeightsState(PG_GETARG_ARRAYTYPE_P(0));

	if (s[WT_N] == 0.0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(CfKishEffectiveN(s[WT_SUM], s[WT_SUM2]));
}

PG_FUNCTION_INFO_V1(design_effect_final);
Datum
design_effect_final(PG_FUNCTION_ARGS)
{
	float8	   *s = WeightsState(PG_GETARG_ARRAYTYPE_P(0));

	if (s[WT_N] == 0.0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(s[WT_N] / CfKishEffectiveN(s[WT_SUM], s[WT_SUM2]));
}

/*
 * The weights of an array, NULL elements skipped like NULL weights in the
 * aggregate form; false when there are none.
 */
static bool
SumWeights(ArrayType *weights, const char *fname, double *n, double *sum_w,
		   double *sum_w2)
{
	int			nitems;
	Datum	   *elems;
	bool	   *nulls;

	if (ARR_NDIM(weights) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s weights must be a one-dimensional array", fname)));
	deconstruct_array(weights, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &elems, &nulls, &nitems);
	*n = *sum_w = *sum_w2 = 0.0;
	for (int i = 0; i < nitems; i++)
	{
		double		w;

		if (nulls[i])
			continue;
		w = DatumGetFloat8(elems[i]);
		CfCheckWeight(w, fname);
		*n += 1.0;
		*sum_w += w;
		*sum_w2 += w * w;
	}
	return *n > 0.0;
}

PG_FUNCTION_INFO_V1(effective_n_array);
Datum
effective_n_array(PG_FUNCTION_ARGS)
{
	double		n;
	double		sum_w;
	double		sum_w2;

	if (!SumWeights(PG_GETARG_ARRAYTYPE_P(0), "effective_n", &n, &sum_w, &sum_w2))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(CfKishEffectiveN(sum_w, sum_w2));
}

PG_FUNCTION_INFO_V1(design_effect_array);
Datum
design_effect_array(PG_FUNCTION_ARGS)
{
	double		n;
	double		sum_w;
	double		sum_w2;

	if (!SumWeights(PG_GETARG_ARRAYTYPE_P(0), "design_effect", &n, &sum_w, &sum_w2))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(n / CfKishEffectiveN(sum_w, sum_w2));
}

/*
 * ACSI-style satisfaction index: 100 * sum(w_i (mean_i - min)) / (max -
 * min) with the weights rescaled to sum to 1, so stated importances can be
 * passed as they are.  Without weights the items count equally.  A NULL
 * item mean makes the index NULL: leaving the item out would quietly
 * change what the index measures.
 */
PG_FUNCTION_INFO_V1(satisfaction_index);
Datum
satisfaction_index(PG_FUNCTION_ARGS)
{
	ArrayType  *means = PG_GETARG_ARRAYTYPE_P(0);
	double		lo = PG_GETARG_FLOAT8(1);
	double		hi = PG_GETARG_FLOAT8(2);
	Datum	   *m;
	bool	   *mnull;
	int			k;
	Datum	   *w = NULL;
	bool	   *wnull = NULL;
	int			kw = 0;
	double		sum = 0.0;
	double		sum_w = 0.0;

	CheckScaleBounds(lo, hi, "satisfaction_index");
	if (ARR_NDIM(means) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("satisfaction_index item_means must be a one-dimensional array")));
	deconstruct_array(means, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &m, &mnull, &k);
	if (PG_NARGS() > 3)
	{
		ArrayType  *weights = PG_GETARG_ARRAYTYPE_P(3);

		if (ARR_NDIM(weights) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("satisfaction_index weights must be a one-dimensional array")));
		deconstruct_array(weights, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
						  TYPALIGN_DOUBLE, &w, &wnull, &kw);
		if (kw != k)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("satisfaction_index has %d item means but %d weights", k, kw),
					 errdetail("Each item mean needs its weight, in the same order.")));
	}
	if (k == 0)
		PG_RETURN_NULL();

	for (int i = 0; i < k; i++)
	{
		double		x;
		double		wi = 1.0;

		if (mnull[i])
			PG_RETURN_NULL();
		x = DatumGetFloat8(m[i]);
		if (!(x >= lo && x <= hi))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("satisfaction_index item mean %s is outside %s to %s",
							CfFormatFloat(x), CfFormatFloat(lo), CfFormatFloat(hi)),
					 errdetail("Item means must lie on the scale given by scale_min and scale_max.")));
		if (w != NULL)
		{
			if (wnull[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("satisfaction_index weight %d is NULL", i + 1),
						 errhint("Omit the weights to weight the items equally.")));
			wi = DatumGetFloat8(w[i]);
			CfCheckWeight(wi, "satisfaction_index");
		}
		sum += wi * (x - lo);
		sum_w += wi;
	}
	PG_RETURN_FLOAT8(100.0 * (sum / sum_w) / (hi - lo));
}

/*
 * scores.c
 *		Count-based scoring aggregates: NPS, top box, bottom box, CSAT, each
 *		plain, weighted and as a _stats form with n and an interval.
 *
 * Unweighted states are int8[] counts: adding and removing a row are exact,
 * so these aggregates also serve as moving aggregates in window frames.
 * Weighted states are float8[] sums (rows, sum of weights, sum of squared
 * weights for Kish's effective n, weighted sums per category); float sums
 * are not exactly invertible, so the weighted forms have no inverse.
 *
 * Every state layout is fixed below and checked by the final functions.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"

#include "aggutils.h"
#include "stats.h"

/* unweighted NPS state: counts per category */
#define NPS_PROMOTERS		0
#define NPS_PASSIVES		1
#define NPS_DETRACTORS		2
#define NPS_STATE_LEN		3

/* unweighted box state: answers, answers in the box */
#define BOX_N				0
#define BOX_IN				1
#define BOX_STATE_LEN		CF_BOX_STATE_LEN

/* weighted states start with rows, sum of weights, sum of squared weights */
#define W_N					0
#define W_SUM				1
#define W_SUM2				2
#define WNPS_FIRST			3	/* then promoters, passives, detractors */
#define WNPS_STATE_LEN		CF_WNPS_STATE_LEN
#define WBOX_IN				3
#define WBOX_STATE_LEN		CF_WBOX_STATE_LEN

/* the intervals of the _stats forms are 95 % intervals */
#define STATS_LEVEL			0.95

/* CSAT counts the top two categories of a 1..scale_max scale */
#define CSAT_DEFAULT_MAX	5

/*
 * The per-row checks below are inline and branch to these out-of-line
 * reporters only on bad input, so the transition functions stay small: an
 * ereport in the hot path costs registers and code size on every row.
 */
pg_noreturn static void NpsInvalid(double score);
pg_noreturn static void CsatInvalid(double score, int32 scale_max);
pg_noreturn static void InvalidInverse(const char *aggname);

static pg_noinline void
NpsInvalid(double score)
{
	bool		in_range = (score >= 0.0 && score <= 10.0);

	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 in_range ?
			 errmsg("nps score %s is not a whole number", CfFormatFloat(score)) :
			 errmsg("nps score %s is outside 0 to 10", CfFormatFloat(score)),
			 errdetail("Net Promoter Score answers are whole numbers on the 0 to 10 likelihood-to-recommend scale."),
			 errhint("Score only items on the nps11 scale, or recode the answers first.")));
}

static pg_noinline void
CsatInvalid(double score, int32 scale_max)
{
	if (scale_max < 3)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("csat scale_max %d is less than 3", scale_max),
				 errdetail("CSAT counts the top two categories of a 1 to scale_max scale, which needs at least three categories."),
				 errhint("For a two-point scale use top_box(score, 2).")));
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("csat score %s is outside 1 to %d", CfFormatFloat(score), scale_max),
			 errdetail("CSAT is computed on a scale coded from 1 to scale_max."),
			 errhint("Pass the scale's maximum as the second argument, or recode the answers first.")));
}

/* the NPS category of each whole answer 0..10, as an index into the states */
static const int8 NpsCategories[11] = {
	NPS_DETRACTORS, NPS_DETRACTORS, NPS_DETRACTORS, NPS_DETRACTORS,
	NPS_DETRACTORS, NPS_DETRACTORS, NPS_DETRACTORS,
	NPS_PASSIVES, NPS_PASSIVES,
	NPS_PROMOTERS, NPS_PROMOTERS
};

/*
 * NPS category of a 0..10 answer.  Anything else is an error rather than a
 * skipped row: a 1..5 item scored as NPS by mistake would otherwise give a
 * plausible-looking number.
 */
static inline int
NpsCategory(double score)
{
	int			code;

	if (unlikely(!(score >= 0.0 && score <= 10.0)))
		NpsInvalid(score);
	/* in range, so the conversion is defined; it is exact for whole numbers */
	code = (int) score;
	if (unlikely((double) code != score))
		NpsInvalid(score);
	return NpsCategories[code];
}

static inline bool
InTopBox(double score, double threshold)
{
	CfCheckFinite(score, "score", "top_box");
	CfCheckFinite(threshold, "threshold", "top_box");
	return score >= threshold;
}

static inline bool
InBottomBox(double score, double threshold)
{
	CfCheckFinite(score, "score", "bottom_box");
	CfCheckFinite(threshold, "threshold", "bottom_box");
	return score <= threshold;
}

static inline bool
InCsatBox(double score, int32 scale_max)
{
	if (unlikely(scale_max < 3 || !(score >= 1.0 && score <= (double) scale_max)))
		CsatInvalid(score, scale_max);
	return score >= (double) (scale_max - 1);
}

static pg_noinline void
InvalidInverse(const char *aggname)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid transition state for %s", aggname),
			 errdetail("The inverse transition removed a row that the state does not contain.")));
}

/* add (delta = 1) or remove (delta = -1) one answer of a box state */
static inline Datum
BoxCount(FunctionCallInfo fcinfo, bool hit, int64 delta, const char *aggname)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	int64	   *c = CfRowState(state, INT8OID, BOX_STATE_LEN, aggname);

	if (delta < 0 && (c[BOX_N] < 1 || (hit && c[BOX_IN] < 1) ||
					  (!hit && c[BOX_N] - c[BOX_IN] < 1)))
		InvalidInverse(aggname);
	c[BOX_N] += delta;
	if (hit)
		c[BOX_IN] += delta;
	PG_RETURN_ARRAYTYPE_P(state);
}

/* one weighted answer into the data of a weighted box state */
static inline void
BoxWeightedAdd(float8 *s, bool hit, double weight)
{
	s[W_N] += 1.0;
	s[W_SUM] += weight;
	s[W_SUM2] += weight * weight;
	if (hit)
		s[WBOX_IN] += weight;
}

/* add one weighted answer to a weighted box state */
static inline Datum
BoxWeighted(FunctionCallInfo fcinfo, bool hit, double weight, const char *aggname)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	float8	   *s = CfRowState(state, FLOAT8OID, WBOX_STATE_LEN, aggname);

	BoxWeightedAdd(s, hit, weight);
	PG_RETURN_ARRAYTYPE_P(state);
}

/*
 * Weighted states must be consistent before they are divided by: rows and
 * weights both positive or both zero.
 */
static float8 *
WeightedState(ArrayType *state, int len, const char *aggname)
{
	float8	   *s = CfSumState(state, len, aggname);

	if (s[W_N] < 0.0 || (s[W_N] > 0.0 && !(s[W_SUM] > 0.0 && s[W_SUM2] > 0.0)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid transition state for %s", aggname),
				 errdetail("A state with rows must have a positive sum of weights.")));
	return s;
}

/*
 * NPS and its standard error from the shares of promoters and detractors
 * and the (effective) number of answers: SE = 100 sqrt((p + d - (p - d)^2)
 * / n), n in the denominator as in the spec.  The interval is the normal
 * one, clipped to the scale.
 */
static Datum
NpsResult(FunctionCallInfo fcinfo, int64 n, double n_eff, double promoters,
		  double passives, double detractors, double total)
{
	double		p = promoters / total;
	double		d = detractors / total;
	double		nps = 100.0 * (p - d);
	double		var = fmax(0.0, p + d - (p - d) * (p - d));
	double		se = 100.0 * sqrt(var / n_eff);
	double		z = CfNormalCritical(STATS_LEVEL);
	Datum		values[9];
	bool		nulls[9] = {0};

	values[0] = Int64GetDatum(n);
	values[1] = Float8GetDatum(n_eff);
	values[2] = Float8GetDatum(promoters);
	values[3] = Float8GetDatum(passives);
	values[4] = Float8GetDatum(detractors);
	values[5] = Float8GetDatum(nps);
	values[6] = Float8GetDatum(se);
	values[7] = Float8GetDatum(fmax(-100.0, nps - z * se));
	values[8] = Float8GetDatum(fmin(100.0, nps + z * se));
	return CfMakeRecord(fcinfo, values, nulls);
}

/* percent in the box with its 95 % Wilson interval, all on 0..100 */
static Datum
BoxResult(FunctionCallInfo fcinfo, int64 n, double n_eff, double in_box,
		  double total)
{
	double		share = in_box / total;
	double		low;
	double		high;
	Datum		values[6];
	bool		nulls[6] = {0};

	CfWilsonInterval(share * n_eff, n_eff, CfNormalCritical(STATS_LEVEL),
					 &low, &high);
	values[0] = Int64GetDatum(n);
	values[1] = Float8GetDatum(n_eff);
	values[2] = Float8GetDatum(in_box);
	values[3] = Float8GetDatum(100.0 * share);
	values[4] = Float8GetDatum(100.0 * low);
	values[5] = Float8GetDatum(100.0 * high);
	return CfMakeRecord(fcinfo, values, nulls);
}

/*
 * NPS
 */

PG_FUNCTION_INFO_V1(nps_accum);
Datum
nps_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	int64	   *c = CfRowState(state, INT8OID, NPS_STATE_LEN, "nps");

	c[NpsCategory(PG_GETARG_FLOAT8(1))]++;
	PG_RETURN_ARRAYTYPE_P(state);
}

PG_FUNCTION_INFO_V1(nps_accum_inv);
Datum
nps_accum_inv(PG_FUNCTION_ARGS)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	int64	   *c = CfRowState(state, INT8OID, NPS_STATE_LEN, "nps");
	int			cat = NpsCategory(PG_GETARG_FLOAT8(1));

	if (c[cat] < 1)
		InvalidInverse("nps");
	c[cat]--;
	PG_RETURN_ARRAYTYPE_P(state);
}

PG_FUNCTION_INFO_V1(nps_final);
Datum
nps_final(PG_FUNCTION_ARGS)
{
	int64	   *c = CfCountState(PG_GETARG_ARRAYTYPE_P(0), NPS_STATE_LEN, "nps");
	double		n = (double) c[NPS_PROMOTERS] + c[NPS_PASSIVES] + c[NPS_DETRACTORS];

	if (n == 0.0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(100.0 * (c[NPS_PROMOTERS] - c[NPS_DETRACTORS]) / n);
}

PG_FUNCTION_INFO_V1(nps_stats_final);
Datum
nps_stats_final(PG_FUNCTION_ARGS)
{
	int64	   *c = CfCountState(PG_GETARG_ARRAYTYPE_P(0), NPS_STATE_LEN, "nps_stats");
	int64		n = c[NPS_PROMOTERS] + c[NPS_PASSIVES] + c[NPS_DETRACTORS];

	if (n == 0)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(NpsResult(fcinfo, n, (double) n,
							  (double) c[NPS_PROMOTERS], (double) c[NPS_PASSIVES],
							  (double) c[NPS_DETRACTORS], (double) n));
}

/*
 * The states of nps_state(score, weight), top_box_state(score, threshold,
 * weight) and top_box_state(score, threshold), one answer at a time, on
 * their data: the transition functions and the import's roll-up deltas
 * (rollup.c) both add through these, so they cannot count differently.
 */
void
CfNpsWeightedAdd(float8 *s, double score, double w)
{
	int			cat = NpsCategory(score);

	CfCheckWeight(w, "nps");
	s[W_N] += 1.0;
	s[W_SUM] += w;
	s[W_SUM2] += w * w;
	s[WNPS_FIRST + cat] += w;
}

void
CfTopBoxWeightedAdd(float8 *s, double score, double threshold, double w)
{
	bool		hit = InTopBox(score, threshold);

	CfCheckWeight(w, "top_box");
	BoxWeightedAdd(s, hit, w);
}

void
CfTopBoxCountAdd(int64 *c, double score, double threshold)
{
	c[BOX_N]++;
	if (InTopBox(score, threshold))
		c[BOX_IN]++;
}

PG_FUNCTION_INFO_V1(nps_weighted_accum);
Datum
nps_weighted_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	float8	   *s = CfRowState(state, FLOAT8OID, WNPS_STATE_LEN, "nps");

	CfNpsWeightedAdd(s, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2));
	PG_RETURN_ARRAYTYPE_P(state);
}

PG_FUNCTION_INFO_V1(nps_weighted_final);
Datum
nps_weighted_final(PG_FUNCTION_ARGS)
{
	float8	   *s = WeightedState(PG_GETARG_ARRAYTYPE_P(0), WNPS_STATE_LEN, "nps");

	if (s[W_N] == 0.0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(100.0 * (s[WNPS_FIRST + NPS_PROMOTERS] -
							  s[WNPS_FIRST + NPS_DETRACTORS]) / s[W_SUM]);
}

PG_FUNCTION_INFO_V1(nps_weighted_stats_final);
Datum
nps_weighted_stats_final(PG_FUNCTION_ARGS)
{
	float8	   *s = WeightedState(PG_GETARG_ARRAYTYPE_P(0), WNPS_STATE_LEN, "nps_stats");

	if (s[W_N] == 0.0)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(NpsResult(fcinfo, (int64) s[W_N],
							  CfKishEffectiveN(s[W_SUM], s[W_SUM2]),
							  s[WNPS_FIRST + NPS_PROMOTERS],
							  s[WNPS_FIRST + NPS_PASSIVES],
							  s[WNPS_FIRST + NPS_DETRACTORS], s[W_SUM]));
}

/*
 * Top box, bottom box and CSAT share their states and final functions; only
 * the test for "in the box" differs.  The threshold is read per row, like
 * any aggregate argument (normally it is a constant or the item's scale).
 */

PG_FUNCTION_INFO_V1(top_box_accum);
Datum
top_box_accum(PG_FUNCTION_ARGS)
{
	return BoxCount(fcinfo, InTopBox(PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2)),
					1, "top_box");
}

PG_FUNCTION_INFO_V1(top_box_accum_inv);
Datum
top_box_accum_inv(PG_FUNCTION_ARGS)
{
	return BoxCount(fcinfo, InTopBox(PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2)),
					-1, "top_box");
}

PG_FUNCTION_INFO_V1(top_box_weighted_accum);
Datum
top_box_weighted_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	float8	   *s = CfRowState(state, FLOAT8OID, WBOX_STATE_LEN, "top_box");

	CfTopBoxWeightedAdd(s, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), PG_GETARG_FLOAT8(3));
	PG_RETURN_ARRAYTYPE_P(state);
}

PG_FUNCTION_INFO_V1(bottom_box_accum);
Datum
bottom_box_accum(PG_FUNCTION_ARGS)
{
	return BoxCount(fcinfo, InBottomBox(PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2)),
					1, "bottom_box");
}

PG_FUNCTION_INFO_V1(bottom_box_accum_inv);
Datum
bottom_box_accum_inv(PG_FUNCTION_ARGS)
{
	return BoxCount(fcinfo, InBottomBox(PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2)),
					-1, "bottom_box");
}

PG_FUNCTION_INFO_V1(bottom_box_weighted_accum);
Datum
bottom_box_weighted_accum(PG_FUNCTION_ARGS)
{
	bool		hit = InBottomBox(PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2));
	double		w = PG_GETARG_FLOAT8(3);

	CfCheckWeight(w, "bottom_box");
	return BoxWeighted(fcinfo, hit, w, "bottom_box");
}

/* csat(score) and csat(score, scale_max) share one transition function */
PG_FUNCTION_INFO_V1(csat_accum);
Datum
csat_accum(PG_FUNCTION_ARGS)
{
	int32		scale_max = (PG_NARGS() > 2) ? PG_GETARG_INT32(2) : CSAT_DEFAULT_MAX;

	return BoxCount(fcinfo, InCsatBox(PG_GETARG_FLOAT8(1), scale_max), 1, "csat");
}

PG_FUNCTION_INFO_V1(csat_accum_inv);
Datum
csat_accum_inv(PG_FUNCTION_ARGS)
{
	int32		scale_max = (PG_NARGS() > 2) ? PG_GETARG_INT32(2) : CSAT_DEFAULT_MAX;

	return BoxCount(fcinfo, InCsatBox(PG_GETARG_FLOAT8(1), scale_max), -1, "csat");
}

PG_FUNCTION_INFO_V1(csat_weighted_accum);
Datum
csat_weighted_accum(PG_FUNCTION_ARGS)
{
	bool		hit = InCsatBox(PG_GETARG_FLOAT8(1), PG_GETARG_INT32(2));
	double		w = PG_GETARG_FLOAT8(3);

	CfCheckWeight(w, "csat");
	return BoxWeighted(fcinfo, hit, w, "csat");
}

PG_FUNCTION_INFO_V1(box_final);
Datum
box_final(PG_FUNCTION_ARGS)
{
	int64	   *c = CfCountState(PG_GETARG_ARRAYTYPE_P(0), BOX_STATE_LEN, "box_final");

	if (c[BOX_N] == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(100.0 * (double) c[BOX_IN] / (double) c[BOX_N]);
}

PG_FUNCTION_INFO_V1(box_stats_final);
Datum
box_stats_final(PG_FUNCTION_ARGS)
{
	int64	   *c = CfCountState(PG_GETARG_ARRAYTYPE_P(0), BOX_STATE_LEN, "box_stats_final");

	if (c[BOX_N] == 0)
		PG_RETURN_NULL();
	if (c[BOX_IN] > c[BOX_N])
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid transition state for %s", "box_stats_final"),
				 errdetail("More answers are in the box than there are answers.")));
	PG_RETURN_DATUM(BoxResult(fcinfo, c[BOX_N], (double) c[BOX_N],
							  (double) c[BOX_IN], (double) c[BOX_N]));
}

PG_FUNCTION_INFO_V1(box_weighted_final);
Datum
box_weighted_final(PG_FUNCTION_ARGS)
{
	float8	   *s = WeightedState(PG_GETARG_ARRAYTYPE_P(0), WBOX_STATE_LEN, "box_weighted_final");

	if (s[W_N] == 0.0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(100.0 * s[WBOX_IN] / s[W_SUM]);
}

PG_FUNCTION_INFO_V1(box_weighted_stats_final);
Datum
box_weighted_stats_final(PG_FUNCTION_ARGS)
{
	float8	   *s = WeightedState(PG_GETARG_ARRAYTYPE_P(0), WBOX_STATE_LEN, "box_weighted_stats_final");

	if (s[W_N] == 0.0)
		PG_RETURN_NULL();
	if (!(s[WBOX_IN] >= 0.0 && s[WBOX_IN] <= s[W_SUM]))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid transition state for %s", "box_weighted_stats_final"),
				 errdetail("The weight in the box must lie between zero and the sum of weights.")));
	PG_RETURN_DATUM(BoxResult(fcinfo, (int64) s[W_N],
							  CfKishEffectiveN(s[W_SUM], s[W_SUM2]),
							  s[WBOX_IN], s[W_SUM]));
}

/*
 * oriented_score(value, reverse_coded, scale_min, scale_max): an answer
 * turned so that a higher code is the better answer, min + max - x for a
 * reverse-coded item.  Every view scores answers through this one function;
 * it is C so that calling it per answer costs next to nothing, where an SQL
 * function with a pinned search_path could not be inlined.
 */
PG_FUNCTION_INFO_V1(oriented_score);
Datum
oriented_score(PG_FUNCTION_ARGS)
{
	double		x = PG_GETARG_FLOAT8(0);

	if (PG_GETARG_BOOL(1))
		x = PG_GETARG_FLOAT8(2) + PG_GETARG_FLOAT8(3) - x;
	PG_RETURN_FLOAT8(x);
}

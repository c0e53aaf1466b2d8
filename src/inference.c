/*
 * inference.c
 *		Scalar functions for intervals and tests on summary figures:
 *		wilson_ci, prop_ztest, nps_ztest.
 *
 * They take double precision counts so that weighted (effective) counts
 * can be passed as well as whole ones.  A result that is undefined for the
 * data (no trials, zero standard error) is NULL rather than an error, so
 * one empty group does not stop a report; arguments that can never be
 * right (negative counts, successes above n) are errors.
 *
 * Both tests subtract the second group from the first, as the spec's
 * test vector for prop_ztest does; pass the later period first to read a
 * positive z as an improvement.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "utils/builtins.h"

#include "aggutils.h"
#include "stats.h"

static void
CheckCounts(double x, double n, const char *xname, const char *nname,
			const char *fname)
{
	CfCheckFinite(x, xname, fname);
	CfCheckFinite(n, nname, fname);
	if (n < 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s %s %s is negative", fname, nname, CfFormatFloat(n))));
	if (!(x >= 0.0 && x <= n))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s %s %s is outside 0 to %s %s", fname, xname,
						CfFormatFloat(x), nname, CfFormatFloat(n)),
				 errdetail("The successes are a part of the trials.")));
}

/*
 * wilson_ci(successes, n, level, method) -> (p, ci_low, ci_high) on 0..1
 */
PG_FUNCTION_INFO_V1(wilson_ci);
Datum
wilson_ci(PG_FUNCTION_ARGS)
{
	double		x = PG_GETARG_FLOAT8(0);
	double		n = PG_GETARG_FLOAT8(1);
	double		level = PG_GETARG_FLOAT8(2);
	char	   *method = text_to_cstring(PG_GETARG_TEXT_PP(3));
	double		z;
	double		low;
	double		high;
	Datum		values[3];
	bool		nulls[3] = {0};

	CheckCounts(x, n, "successes", "n", "wilson_ci");
	CfCheckLevel(level, "wilson_ci");
	if (pg_strcasecmp(method, "wilson") != 0 &&
		pg_strcasecmp(method, "agresti-coull") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("wilson_ci method \"%s\" is not known", method),
				 errhint("Use 'wilson' (the default) or 'agresti-coull'.")));
	if (n == 0.0)
		PG_RETURN_NULL();

	z = CfNormalCritical(level);
	if (pg_strcasecmp(method, "wilson") == 0)
		CfWilsonInterval(x, n, z, &low, &high);
	else
		CfAgrestiCoullInterval(x, n, z, &low, &high);

	values[0] = Float8GetDatum(x / n);
	values[1] = Float8GetDatum(low);
	values[2] = Float8GetDatum(high);
	PG_RETURN_DATUM(CfMakeRecord(fcinfo, values, nulls));
}

static Datum
ZTestResult(FunctionCallInfo fcinfo, double z)
{
	Datum		values[2];
	bool		nulls[2] = {0};

	values[0] = Float8GetDatum(z);
	values[1] = Float8GetDatum(CfNormalTwoSidedP(z));
	return CfMakeRecord(fcinfo, values, nulls);
}

/*
 * prop_ztest(x1, n1, x2, n2) -> (z, p_value): pooled two-proportion z-test,
 * z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2)), two-sided p.
 */
PG_FUNCTION_INFO_V1(prop_ztest);
Datum
prop_ztest(PG_FUNCTION_ARGS)
{
	double		x1 = PG_GETARG_FLOAT8(0);
	double		n1 = PG_GETARG_FLOAT8(1);
	double		x2 = PG_GETARG_FLOAT8(2);
	double		n2 = PG_GETARG_FLOAT8(3);
	double		pooled;
	double		se;

	CheckCounts(x1, n1, "x1", "n1", "prop_ztest");
	CheckCounts(x2, n2, "x2", "n2", "prop_ztest");
	if (n1 == 0.0 || n2 == 0.0)
		PG_RETURN_NULL();

	pooled = (x1 + x2) / (n1 + n2);
	se = sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2));
	/* all successes or all failures in both groups: no test */
	if (!(se > 0.0))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(ZTestResult(fcinfo, (x1 / n1 - x2 / n2) / se));
}

static void
CheckNps(double nps, double se, const char *npsname, const char *sename)
{
	if (!(nps >= -100.0 && nps <= 100.0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("nps_ztest %s %s is outside -100 to 100", npsname,
						CfFormatFloat(nps))));
	if (!(se >= 0.0 && isfinite(se)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("nps_ztest %s %s is not a non-negative finite number",
						sename, CfFormatFloat(se))));
}

static Datum
NpsZTest(FunctionCallInfo fcinfo, double nps1, double se1, double nps2,
		 double se2)
{
	double		se = sqrt(se1 * se1 + se2 * se2);

	if (!(se > 0.0))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(ZTestResult(fcinfo, (nps1 - nps2) / se));
}

/*
 * nps_ztest(nps1, se1, nps2, se2) -> (z, p_value), z = (nps1 - nps2) /
 * sqrt(se1^2 + se2^2): independent samples, normal approximation.
 */
PG_FUNCTION_INFO_V1(nps_ztest);
Datum
nps_ztest(PG_FUNCTION_ARGS)
{
	double		nps1 = PG_GETARG_FLOAT8(0);
	double		se1 = PG_GETARG_FLOAT8(1);
	double		nps2 = PG_GETARG_FLOAT8(2);
	double		se2 = PG_GETARG_FLOAT8(3);

	CheckNps(nps1, se1, "nps1", "se1");
	CheckNps(nps2, se2, "nps2", "se2");
	return NpsZTest(fcinfo, nps1, se1, nps2, se2);
}

/* NPS and its standard error from category counts; false if n = 0 */
static bool
NpsFromCounts(int64 promoters, int64 passives, int64 detractors, int group,
			  double *nps, double *se)
{
	double		n;
	double		p;
	double		d;

	if (promoters < 0 || passives < 0 || detractors < 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("nps_ztest counts of group %d are negative", group)));
	n = (double) promoters + (double) passives + (double) detractors;
	if (n == 0.0)
		return false;
	p = promoters / n;
	d = detractors / n;
	*nps = 100.0 * (p - d);
	*se = 100.0 * sqrt(fmax(0.0, p + d - (p - d) * (p - d)) / n);
	return true;
}

/* nps_ztest(promoters1, passives1, detractors1, promoters2, ...) */
PG_FUNCTION_INFO_V1(nps_ztest_counts);
Datum
nps_ztest_counts(PG_FUNCTION_ARGS)
{
	double		nps1;
	double		se1;
	double		nps2;
	double		se2;
	bool		ok1;
	bool		ok2;

	ok1 = NpsFromCounts(PG_GETARG_INT64(0), PG_GETARG_INT64(1), PG_GETARG_INT64(2),
						1, &nps1, &se1);
	ok2 = NpsFromCounts(PG_GETARG_INT64(3), PG_GETARG_INT64(4), PG_GETARG_INT64(5),
						2, &nps2, &se2);
	if (!ok1 || !ok2)
		PG_RETURN_NULL();
	return NpsZTest(fcinfo, nps1, se1, nps2, se2);
}

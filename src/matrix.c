/*
 * matrix.c
 *		Multivariate aggregates over arrays: Cronbach's alpha and Johnson's
 *		relative weights, both built on one co-moment state.
 *
 * The state is a float8[]: {p, n, mean[p], C[p (p + 1) / 2]} where C is the
 * upper triangle (row by row) of the matrix of co-moments
 * sum((x_i - mean_i) (x_j - mean_j)).  Rows are added with Welford's
 * update and states merged with Chan's pairwise formula, which stay
 * accurate where sums of squares and cross products would cancel (ratings
 * with large means and small spreads).  The initial state is the empty
 * array; the first row fixes p.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"

#include "aggutils.h"

#define CM_P				0
#define CM_N				1
#define CM_MEANS			2
#define CM_LEN(p)			(2 + (p) + (p) * ((p) + 1) / 2)

/*
 * Smallest eigenvalue of the driver correlation matrix, relative to the
 * largest, below which the drivers are treated as collinear: their
 * orthogonal counterparts, and with them the weights, are then not
 * determined by the data.
 */
#define RW_SINGULAR_RATIO	1e-10

/*
 * R^2 at or below which no driver is taken to explain anything: r2 is then
 * 0 exactly, the weights 0 and the shares NULL.  R^2 is scale-free already
 * (the fraction of the outcome's variance explained), so the tolerance is
 * absolute.  Why 1e-12: on data whose drivers are uncorrelated with the
 * outcome in exact arithmetic, the computed correlations r_j are rounding
 * residues of the co-moment updates, of order u = 1.1e-16 times a modest
 * factor (n u in the worst case), and R^2 = r' R^-1 r is their square
 * magnified at most by 1 / lambda_min <= 1e10 / lambda_max (the collinearity
 * limit above): typically 1e-32, as seen, and far below 1e-12 for any
 * realistic n.  Shares of such an R^2 are ratios of rounding residues, which
 * came out as {0.5,0.5} or {1,0} depending on the order of the rows, and
 * differed between serial and parallel plans.  At the other end, an R^2 of
 * 1e-12 is a correlation of 1e-6, which would take about 1e12 responses to
 * tell from zero (the standard error of r is about 1 / sqrt(n)), so no
 * meaningful result is lost.
 */
#define RW_ZERO_R2			1e-12

/*
 * R^2 above 1 by more than this: pairwise correlations (each pair from the
 * respondents who answered both) that no one set of respondents could
 * have, since R^2 = r' Rxx^-1 r <= 1 exactly when the correlation matrix of
 * the outcome and the drivers together is positive semidefinite (its Schur
 * complement, 1 - R^2).  Pairwise deletion can break that (R's lm on
 * cor(use = "pairwise.complete.obs") gives the same impossible R^2); the
 * model is then reported undetermined rather than with an R^2 of, say,
 * 1.4 and weights summing to it.  The tolerance is rounding: complete rows
 * that a model fits exactly give 1 within a few ulps.
 */
#define RW_R2_ABOVE_ONE		1e-9

/*
 * Total variance of the summed scale, relative to the sum of the item
 * variances, below which alpha is undefined rather than hugely negative.
 */
#define ALPHA_ZERO_RATIO	1e-12

/* position of C[i][j], i <= j, in the packed upper triangle */
static inline int
TriIndex(int p, int i, int j)
{
	return i * p - i * (i - 1) / 2 + (j - i);
}

static inline double
CoMoment(const float8 *c, int p, int i, int j)
{
	return (i <= j) ? c[TriIndex(p, i, j)] : c[TriIndex(p, j, i)];
}

/*
 * Check a non-empty co-moment state and return p.  The state may come from
 * SQL, so p is checked before it is used to index anything.
 */
static int
ComomentP(const float8 *s, int len, const char *aggname)
{
	double		p = (len > 0) ? s[CM_P] : 0.0;

	if (!(p >= 1.0 && p <= CF_MAX_VARIABLES && p == floor(p)) ||
		len != CM_LEN((int) p) ||
		!(s[CM_N] >= 0.0 && s[CM_N] == floor(s[CM_N])))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid transition state for %s", aggname),
				 errdetail("The state must hold p, n, p means and p (p + 1) / 2 co-moments.")));
	return (int) p;
}

static void
CheckWidth(int p, const char *what, const char *aggname)
{
	if (p > CF_MAX_VARIABLES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s has %d %s, more than the %d allowed", aggname, p, what,
						CF_MAX_VARIABLES)));
}

/*
 * Values of a one-dimensional float8 array; false if an element is NULL
 * (listwise deletion: the row is skipped).
 */
static bool
ArrayValues(ArrayType *a, const float8 **values, int *count, const char *aggname)
{
	if (ARR_NDIM(a) == 0)
	{
		*values = NULL;
		*count = 0;
		return true;
	}
	if (ARR_NDIM(a) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s input must be a one-dimensional array", aggname)));
	*count = ARR_DIMS(a)[0];
	if (ARR_HASNULL(a))
	{
		uint8	   *bitmap = ARR_NULLBITMAP(a);

		for (int i = 0; i < *count; i++)
			if (!(bitmap[i / 8] & (1 << (i % 8))))
				return false;
	}
	*values = (const float8 *) CfArrayData(a);
	return true;
}

/*
 * Add one row x[0..p-1] to the state, which may be empty; returns the state
 * to return from the transition function.  The first "fixed" variables are
 * not part of the array argument (the outcome) and are not counted in the
 * error message, which speaks of the user's array.
 */
static ArrayType *
ComomentAdd(ArrayType *state, const double *x, int p, int fixed,
			const char *what, const char *aggname)
{
	int			len;
	float8	   *s = CfFloat8Data(state, &len, aggname);
	float8	   *mean;
	float8	   *c;
	double		n;
	double		f;

	for (int i = 0; i < p; i++)
		CfCheckFinite(x[i], "value", aggname);

	if (len == 0)
	{
		/* first row: the state takes its final size once */
		state = CfNewFloat8Array(CM_LEN(p));
		s = (float8 *) CfArrayData(state);
		s[CM_P] = p;
	}
	else if (ComomentP(s, len, aggname) != p)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s number of %s changed from %d to %d", aggname,
						what, (int) s[CM_P] - fixed, p - fixed),
				 errdetail("Every row must have the same %s in the same order.", what)));

	mean = s + CM_MEANS;
	c = mean + p;
	n = s[CM_N] + 1.0;
	f = (n - 1.0) / n;

	/* co-moments take the deviations from the old means */
	for (int i = 0; i < p; i++)
	{
		double		di = f * (x[i] - mean[i]);
		float8	   *ci = c + TriIndex(p, i, i);

		for (int j = i; j < p; j++)
			ci[j - i] += di * (x[j] - mean[j]);
	}
	for (int i = 0; i < p; i++)
		mean[i] += (x[i] - mean[i]) / n;
	s[CM_N] = n;
	return state;
}

PG_FUNCTION_INFO_V1(cronbach_alpha_accum);
Datum
cronbach_alpha_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	const float8 *x;
	int			k;

	if (!ArrayValues(PG_GETARG_ARRAYTYPE_P(1), &x, &k, "cronbach_alpha"))
		PG_RETURN_ARRAYTYPE_P(state);
	/* an empty array is one value of nothing: there is no scale to score */
	if (k == 0)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("cronbach_alpha input array is empty"),
				 errdetail("Each row is the array of one respondent's item scores.")));
	CheckWidth(k, "items", "cronbach_alpha");
	PG_RETURN_ARRAYTYPE_P(ComomentAdd(state, x, k, 0, "items", "cronbach_alpha"));
}

PG_FUNCTION_INFO_V1(relative_weights_accum);
Datum
relative_weights_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	double		y = PG_GETARG_FLOAT8(1);
	const float8 *x;
	int			k;
	double		buf[64];
	double	   *row;
	ArrayType  *result;

	if (!ArrayValues(PG_GETARG_ARRAYTYPE_P(2), &x, &k, "relative_weights"))
		PG_RETURN_ARRAYTYPE_P(state);
	if (k == 0)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("relative_weights drivers array is empty"),
				 errdetail("Each row needs the outcome and at least one driver.")));
	CheckWidth(k + 1, "variables", "relative_weights");

	/* the outcome is variable 0, the drivers follow */
	row = (k + 1 <= (int) lengthof(buf)) ? buf : palloc((k + 1) * sizeof(double));
	row[0] = y;
	memcpy(row + 1, x, k * sizeof(double));
	result = ComomentAdd(state, row, k + 1, 1, "drivers", "relative_weights");
	if (row != buf)
		pfree(row);
	PG_RETURN_ARRAYTYPE_P(result);
}

/*
 * Chan, Golub and LeVeque: merging groups a and b shifts each co-moment by
 * delta_i delta_j n_a n_b / n, where delta is the difference of the means.
 */
PG_FUNCTION_INFO_V1(comoment_combine);
Datum
comoment_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	ArrayType  *other = PG_GETARG_ARRAYTYPE_P(1);
	int			alen;
	int			blen;
	float8	   *a = CfFloat8Data(state, &alen, "comoment_combine");
	float8	   *b = CfFloat8Data(other, &blen, "comoment_combine");
	int			p;
	double		na;
	double		nb;
	double		n;
	float8	   *ma;
	float8	   *mb;
	float8	   *ca;
	float8	   *cb;

	if (blen == 0)
		PG_RETURN_ARRAYTYPE_P(state);
	p = ComomentP(b, blen, "comoment_combine");
	if (alen == 0)
		PG_RETURN_ARRAYTYPE_P(other);
	if (ComomentP(a, alen, "comoment_combine") != p)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("cannot combine states of %d and %d variables", (int) a[CM_P], p),
				 errdetail("Every row must have the same number of values.")));

	na = a[CM_N];
	nb = b[CM_N];
	if (nb == 0.0)
		PG_RETURN_ARRAYTYPE_P(state);
	if (na == 0.0)
	{
		memcpy(a, b, CM_LEN(p) * sizeof(float8));
		PG_RETURN_ARRAYTYPE_P(state);
	}

	n = na + nb;
	ma = a + CM_MEANS;
	mb = b + CM_MEANS;
	ca = ma + p;
	cb = mb + p;
	for (int i = 0; i < p; i++)
	{
		double		di = (mb[i] - ma[i]) * na * nb / n;

		for (int j = i; j < p; j++)
		{
			int			ij = TriIndex(p, i, j);

			ca[ij] += cb[ij] + di * (mb[j] - ma[j]);
		}
	}
	for (int i = 0; i < p; i++)
		ma[i] += (mb[i] - ma[i]) * nb / n;
	a[CM_N] = n;
	PG_RETURN_ARRAYTYPE_P(state);
}

/*
 * cronbach_alpha -> (k, n, alpha, std_alpha)
 *
 * alpha = k / (k - 1) (1 - sum var_i / var_total); standardized alpha =
 * k r / (1 + (k - 1) r) with r the mean inter-item correlation.  The
 * (n - 1) divisors cancel, so co-moments are used as they are.
 */
PG_FUNCTION_INFO_V1(cronbach_alpha_final);
Datum
cronbach_alpha_final(PG_FUNCTION_ARGS)
{
	int			len;
	float8	   *s = CfFloat8Data(PG_GETARG_ARRAYTYPE_P(0), &len, "cronbach_alpha");
	int			k;
	double		n;
	float8	   *c;
	double		sum_var = 0.0;
	double		total = 0.0;
	Datum		values[4];
	bool		nulls[4] = {0};

	if (len == 0)
		PG_RETURN_NULL();
	k = ComomentP(s, len, "cronbach_alpha");
	n = s[CM_N];
	if (n == 0.0)
		PG_RETURN_NULL();
	c = s + CM_MEANS + k;

	values[0] = Int32GetDatum(k);
	values[1] = Int64GetDatum((int64) n);
	nulls[2] = nulls[3] = true;
	if (k < 2 || n < 2.0)
		PG_RETURN_DATUM(CfMakeRecord(fcinfo, values, nulls));

	for (int i = 0; i < k; i++)
	{
		sum_var += c[TriIndex(k, i, i)];
		for (int j = i; j < k; j++)
			total += (i == j ? 1.0 : 2.0) * c[TriIndex(k, i, j)];
	}
	if (total > ALPHA_ZERO_RATIO * sum_var)
	{
		values[2] = Float8GetDatum((double) k / (k - 1) * (1.0 - sum_var / total));
		nulls[2] = false;
	}

	/* standardized alpha needs every item to vary */
	{
		double		rsum = 0.0;
		bool		ok = true;

		for (int i = 0; i < k && ok; i++)
		{
			double		cii = c[TriIndex(k, i, i)];

			if (!(cii > 0.0))
				ok = false;
			for (int j = i + 1; j < k && ok; j++)
				rsum += c[TriIndex(k, i, j)] / sqrt(cii * c[TriIndex(k, j, j)]);
		}
		if (ok)
		{
			double		r = rsum / (k * (k - 1) / 2.0);
			double		denom = 1.0 + (k - 1) * r;

			/* denom is the variance of the sum of standardized items / k */
			if (denom > ALPHA_ZERO_RATIO)
			{
				values[3] = Float8GetDatum(k * r / denom);
				nulls[3] = false;
			}
		}
	}
	PG_RETURN_DATUM(CfMakeRecord(fcinfo, values, nulls));
}

/*
 * Eigen-decomposition of the symmetric n x n matrix a (row-major) by cyclic
 * Jacobi rotations: on return the diagonal of a holds the eigenvalues and
 * the columns of v the eigenvectors.  Jacobi is slow for big matrices but
 * finds small eigenvalues to high relative accuracy, which is what the
 * singularity test and the inverse square roots below depend on.
 */
static void
JacobiEigen(double *a, double *v, int n)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			v[i * n + j] = (i == j) ? 1.0 : 0.0;

	for (int sweep = 0; sweep < 100; sweep++)
	{
		double		off = 0.0;
		double		diag = 0.0;

		for (int p = 0; p < n; p++)
		{
			diag += a[p * n + p] * a[p * n + p];
			for (int q = p + 1; q < n; q++)
				off += a[p * n + q] * a[p * n + q];
		}
		if (off == 0.0 || off <= DBL_EPSILON * DBL_EPSILON * 1e-4 * diag)
			break;

		CHECK_FOR_INTERRUPTS();

		for (int p = 0; p < n - 1; p++)
		{
			for (int q = p + 1; q < n; q++)
			{
				double		apq = a[p * n + q];
				double		theta;
				double		t;
				double		c;
				double		s;

				if (apq == 0.0)
					continue;

				/* the rotation angle phi has cot(2 phi) = theta; t = tan(phi) */
				theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
				if (fabs(theta) > 1e150)
					t = 0.5 / theta;
				else
				{
					t = 1.0 / (fabs(theta) + sqrt(theta * theta + 1.0));
					if (theta < 0.0)
						t = -t;
				}
				c = 1.0 / sqrt(t * t + 1.0);
				s = t * c;

				for (int r = 0; r < n; r++)
				{
					double		arp;
					double		arq;

					if (r == p || r == q)
						continue;
					arp = a[r * n + p];
					arq = a[r * n + q];
					a[r * n + p] = a[p * n + r] = c * arp - s * arq;
					a[r * n + q] = a[q * n + r] = s * arp + c * arq;
				}
				a[p * n + p] -= t * apq;
				a[q * n + q] += t * apq;
				a[p * n + q] = a[q * n + p] = 0.0;

				for (int r = 0; r < n; r++)
				{
					double		vrp = v[r * n + p];
					double		vrq = v[r * n + q];

					v[r * n + p] = c * vrp - s * vrq;
					v[r * n + q] = s * vrp + c * vrq;
				}
			}
		}
	}
}

static Datum
Float8ArrayDatum(const double *values, int n)
{
	ArrayType  *a = CfNewFloat8Array(n);

	memcpy(CfArrayData(a), values, n * sizeof(double));
	return PointerGetDatum(a);
}

/*
 * Johnson (2000): with the driver correlation matrix R = V L V' and the
 * outcome correlations r, the drivers' orthogonal counterparts have
 * correlations L* = V L^(1/2) V' with the drivers, the outcome regresses on
 * them with beta = V L^(-1/2) V' r, R^2 = sum beta^2, and driver j's raw
 * weight is sum_m L*_jm^2 beta_m^2; the weights sum to R^2.
 *
 * rxx (k x k, row-major) is overwritten.  Returns RW_UNDETERMINED when the
 * drivers are collinear (or R is not positive definite, which a matrix of
 * pairwise correlations need not be) or R^2 exceeds 1 (RW_R2_ABOVE_ONE:
 * outcome correlations R cannot go with), RW_ZERO when no driver explains
 * anything beyond rounding (r2 and the weights 0, no shares), RW_OK.
 */
typedef enum RwStatus
{
	RW_UNDETERMINED,
	RW_ZERO,
	RW_OK
} RwStatus;

static RwStatus
JohnsonWeights(double *rxx, const double *rxy, int k, double *r2_out,
			   double *weights, double *shares)
{
	double	   *vec = palloc(k * k * sizeof(double));
	double	   *half = palloc(k * k * sizeof(double));
	double	   *beta = palloc(k * sizeof(double));
	double	   *tmp = palloc(k * sizeof(double));
	double		lmin;
	double		lmax;
	double		r2 = 0.0;

	JacobiEigen(rxx, vec, k);
	lmin = lmax = rxx[0];
	for (int m = 1; m < k; m++)
	{
		lmin = fmin(lmin, rxx[m * k + m]);
		lmax = fmax(lmax, rxx[m * k + m]);
	}
	if (!(lmin > RW_SINGULAR_RATIO * lmax))
		return RW_UNDETERMINED;

	/* tmp = L^(-1/2) V' r, then beta = V tmp; half = V L^(1/2) V' */
	for (int m = 0; m < k; m++)
	{
		double		dot = 0.0;

		for (int i = 0; i < k; i++)
			dot += vec[i * k + m] * rxy[i];
		tmp[m] = dot / sqrt(rxx[m * k + m]);
	}
	for (int i = 0; i < k; i++)
	{
		double		b = 0.0;

		for (int m = 0; m < k; m++)
			b += vec[i * k + m] * tmp[m];
		beta[i] = b;
		r2 += b * b;
	}
	for (int i = 0; i < k; i++)
		for (int j = i; j < k; j++)
		{
			double		h = 0.0;

			for (int m = 0; m < k; m++)
				h += vec[i * k + m] * sqrt(rxx[m * k + m]) * vec[j * k + m];
			half[i * k + j] = half[j * k + i] = h;
		}

	/* correlations no one set of rows could have (see RW_R2_ABOVE_ONE) */
	if (r2 > 1.0 + RW_R2_ABOVE_ONE)
		return RW_UNDETERMINED;

	/*
	 * No driver correlates with the outcome beyond rounding: R^2 is 0, each
	 * weight 0 (they sum to R^2), and shares of nothing are NULL.
	 */
	if (!(r2 > RW_ZERO_R2))
	{
		memset(weights, 0, k * sizeof(double));
		*r2_out = 0.0;
		return RW_ZERO;
	}

	for (int j = 0; j < k; j++)
	{
		double		e = 0.0;

		for (int m = 0; m < k; m++)
			e += half[j * k + m] * half[j * k + m] * beta[m] * beta[m];
		weights[j] = e;
		shares[j] = e / r2;
	}
	*r2_out = r2;
	return RW_OK;
}

/* The relative_weights_result of a status and its figures. */
static Datum
WeightsRecord(FunctionCallInfo fcinfo, double n, int k, RwStatus status, double r2,
			  const double *weights, const double *shares)
{
	Datum		values[5];
	bool		nulls[5] = {0};

	values[0] = Int64GetDatum((int64) n);
	values[1] = Int32GetDatum(k);
	nulls[2] = nulls[3] = nulls[4] = true;
	if (status != RW_UNDETERMINED)
	{
		values[2] = Float8GetDatum(r2);
		values[3] = Float8ArrayDatum(weights, k);
		nulls[2] = nulls[3] = false;
	}
	if (status == RW_OK)
	{
		values[4] = Float8ArrayDatum(shares, k);
		nulls[4] = false;
	}
	return CfMakeRecord(fcinfo, values, nulls);
}

/*
 * relative_weights -> (n, k, r2, weights, shares)
 *
 * When the weights are not determined by the data (no residual degrees of
 * freedom, a variable that does not vary, collinear drivers) r2, weights
 * and shares are NULL and n and k still say what was seen: one degenerate
 * group must not abort a GROUP BY over all of them.
 */
PG_FUNCTION_INFO_V1(relative_weights_final);
Datum
relative_weights_final(PG_FUNCTION_ARGS)
{
	int			len;
	float8	   *s = CfFloat8Data(PG_GETARG_ARRAYTYPE_P(0), &len, "relative_weights");
	int			p;
	int			k;
	double		n;
	float8	   *c;
	double	   *rxx;
	double	   *rxy;
	double	   *weights;
	double	   *shares;
	double		r2 = 0.0;
	RwStatus	status;

	if (len == 0)
		PG_RETURN_NULL();
	p = ComomentP(s, len, "relative_weights");
	n = s[CM_N];
	if (n == 0.0)
		PG_RETURN_NULL();
	k = p - 1;
	c = s + CM_MEANS + p;

	/* a saturated model fits any data perfectly: R^2 = 1 says nothing */
	if (k < 1 || n <= k + 1)
		PG_RETURN_DATUM(WeightsRecord(fcinfo, n, k, RW_UNDETERMINED, 0, NULL, NULL));
	for (int i = 0; i < p; i++)
		if (!(c[TriIndex(p, i, i)] > 0.0))
			PG_RETURN_DATUM(WeightsRecord(fcinfo, n, k, RW_UNDETERMINED, 0, NULL, NULL));

	rxx = palloc(k * k * sizeof(double));
	rxy = palloc(k * sizeof(double));
	weights = palloc(k * sizeof(double));
	shares = palloc(k * sizeof(double));

	/* correlations from co-moments; variable 0 is the outcome */
	for (int i = 0; i < k; i++)
	{
		double		sii = sqrt(c[TriIndex(p, i + 1, i + 1)]);

		rxy[i] = c[TriIndex(p, 0, i + 1)] / (sqrt(c[TriIndex(p, 0, 0)]) * sii);
		for (int j = 0; j < k; j++)
			rxx[i * k + j] = (i == j) ? 1.0 :
				CoMoment(c, p, i + 1, j + 1) / (sii * sqrt(c[TriIndex(p, j + 1, j + 1)]));
	}

	status = JohnsonWeights(rxx, rxy, k, &r2, weights, shares);
	PG_RETURN_DATUM(WeightsRecord(fcinfo, n, k, status, r2, weights, shares));
}

/*
 * Pairwise states: the sufficient statistics of every pair of variables
 * over the rows that have both (pairwise deletion), so that correlations,
 * relative weights and alpha of any subset of the variables come from a
 * merge of states without the rows (the key drivers' roll-up keeps one per
 * service, month and survey, its variables the survey's items: see
 * rollup_pairs_month in src/sql/rollup.sql).
 *
 * The state is a float8[]: {p, the p variables' ids in ascending order,
 * then for each pair (i, j), i <= j, in the packed upper triangle's order:
 * n, mean_i, mean_j, C_ii, C_jj, C_ij}, the means and co-moments those of
 * the pair's own rows (for i = j, the variable's rows: its mean and sum of
 * squares, three times).  The variables are those any row had: a row with
 * a variable the state lacks grows it (its pairs with the others start
 * empty), and merging two states takes the union, so that rows need not
 * all have the same variables (a survey's items as answered, item ids as
 * exact doubles).  Welford's update per row and Chan's merge, as the
 * co-moment state above; a pair's correlation C_ij / sqrt(C_ii C_jj) is R's
 * cor(use = "pairwise.complete.obs") of the two columns.  The empty array
 * is the initial state.
 */
#define PW_P				0
#define PW_IDS				1
#define PW_PAIR_N			0
#define PW_PAIR_MI			1
#define PW_PAIR_MJ			2
#define PW_PAIR_CII			3
#define PW_PAIR_CJJ			4
#define PW_PAIR_CIJ			5
#define PW_PAIR_LEN			6
#define PW_LEN(p)			(1 + (p) + PW_PAIR_LEN * (p) * ((p) + 1) / 2)

/* the statistics of pair (i, j) (positions), either order */
static inline float8 *
PairStats(float8 *s, int p, int i, int j)
{
	return s + 1 + p + PW_PAIR_LEN * ((i <= j) ? TriIndex(p, i, j) : TriIndex(p, j, i));
}

static int
PairwiseP(const float8 *s, int len, const char *fname)
{
	double		p = (len > 0) ? s[PW_P] : 0.0;

	if (!(p >= 1.0 && p <= CF_MAX_VARIABLES && p == floor(p)) || len != PW_LEN((int) p))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid pairwise state for %s", fname),
				 errdetail("The state must hold p, p variable ids and six numbers for each of the p (p + 1) / 2 pairs.")));
	for (int i = 1; i < (int) p; i++)
		if (!(s[PW_IDS + i] > s[PW_IDS + i - 1]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid pairwise state for %s", fname),
					 errdetail("The variable ids must be in ascending order.")));
	return (int) p;
}

/* Position of variable id in state s of p variables, or -1. */
static int
PairwisePosition(const float8 *s, int p, double id)
{
	int			lo = 0,
				hi = p - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		double		m = s[PW_IDS + mid];

		if (m == id)
			return mid;
		if (m < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/*
 * The state a of p variables laid out again over the ascending ids[q]
 * (which include a's): a new array, the pairs of new variables empty.
 */
static ArrayType *
PairwiseRelayout(const float8 *a, int p, const double *ids, int q)
{
	ArrayType  *result = CfNewFloat8Array(PW_LEN(q));
	float8	   *r = (float8 *) CfArrayData(result);
	int		   *pos = palloc(sizeof(int) * Max(p, 1));

	r[PW_P] = q;
	memcpy(r + PW_IDS, ids, sizeof(double) * q);
	for (int i = 0, k = 0; i < p; i++)
	{
		while (ids[k] != a[PW_IDS + i])
			k++;
		pos[i] = k;
	}
	for (int i = 0; i < p; i++)
		for (int j = i; j < p; j++)
			memcpy(PairStats(r, q, pos[i], pos[j]), PairStats((float8 *) a, p, i, j),
				   sizeof(float8) * PW_PAIR_LEN);
	pfree(pos);
	return result;
}

/* The ascending union of two ascending id lists; returns its length. */
static int
UnionIds(const double *a, int na, const double *b, int nb, double *out)
{
	int			i = 0,
				j = 0,
				n = 0;

	while (i < na || j < nb)
	{
		if (j >= nb || (i < na && a[i] < b[j]))
			out[n++] = a[i++];
		else if (i >= na || b[j] < a[i])
			out[n++] = b[j++];
		else
		{
			out[n++] = a[i++];
			j++;
		}
	}
	return n;
}

static int
CompareDouble(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x < y) ? -1 : (x > y);
}

/*
 * One row into a pairwise state (which may be empty, and is grown to the
 * row's variables): n values x[k] of variables ids[k], present[k] false for
 * a missing one; a pair takes the row when both are present and, unless
 * fresh is NULL, at least one is fresh[k] (what the roll-up's insert
 * trigger needs: answers added to a stored response make new pairs with
 * its earlier answers, and the pairs among those were counted before).
 * Returns the state, perhaps a new array.
 */
ArrayType *
CfPairwiseAddRow(ArrayType *state, int n, const double *ids, const double *x,
				 const bool *present, const bool *fresh, const char *fname)
{
	int			len;
	float8	   *s = CfFloat8Data(state, &len, fname);
	int			p = (len == 0) ? 0 : PairwiseP(s, len, fname);
	int		   *pos = palloc(sizeof(int) * Max(n, 1));
	int			missing = 0;

	for (int k = 0; k < n; k++)
	{
		if (present[k])
			CfCheckFinite(x[k], "value", fname);
		if (!isfinite(ids[k]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s: a variable id must be a number", fname)));
		pos[k] = (p == 0) ? -1 : PairwisePosition(s, p, ids[k]);
		if (pos[k] < 0 && present[k])
			missing++;
	}
	if (missing > 0)
	{
		double	   *add = palloc(sizeof(double) * missing);
		double	   *all = palloc(sizeof(double) * (p + missing));
		int			m = 0,
					q;

		for (int k = 0; k < n; k++)
			if (pos[k] < 0 && present[k])
				add[m++] = ids[k];
		qsort(add, m, sizeof(double), CompareDouble);
		for (int k = 1; k < m; k++)
			if (add[k] == add[k - 1])
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s: variable %g is given twice in one row", fname, add[k])));
		q = UnionIds(s + PW_IDS, p, add, m, all);
		CheckWidth(q, "variables", fname);
		state = PairwiseRelayout(s, p, all, q);
		s = (float8 *) CfArrayData(state);
		p = q;
		for (int k = 0; k < n; k++)
			pos[k] = PairwisePosition(s, p, ids[k]);
	}

	for (int a = 0; a < n; a++)
	{
		if (!present[a])
			continue;
		for (int b = a; b < n; b++)
		{
			int			i,
						j;
			double		xi,
						xj;
			float8	   *st;
			double		cnt,
						di,
						dj;

			if (!present[b] || (fresh != NULL && !fresh[a] && !fresh[b]))
				continue;
			if (b != a && pos[a] == pos[b])
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s: variable %g is given twice in one row", fname, ids[a])));
			/* the pair in state order: i the smaller position */
			if (pos[a] <= pos[b])
			{
				i = pos[a], j = pos[b], xi = x[a], xj = x[b];
			}
			else
			{
				i = pos[b], j = pos[a], xi = x[b], xj = x[a];
			}
			st = PairStats(s, p, i, j);
			cnt = st[PW_PAIR_N] + 1.0;
			di = xi - st[PW_PAIR_MI];
			dj = xj - st[PW_PAIR_MJ];
			st[PW_PAIR_N] = cnt;
			st[PW_PAIR_MI] += di / cnt;
			st[PW_PAIR_MJ] += dj / cnt;
			st[PW_PAIR_CII] += di * (xi - st[PW_PAIR_MI]);
			st[PW_PAIR_CJJ] += dj * (xj - st[PW_PAIR_MJ]);
			st[PW_PAIR_CIJ] += di * (xj - st[PW_PAIR_MJ]);
		}
	}
	pfree(pos);
	return state;
}

/* Merges the pairs of b into a, both over the same p variables. */
static void
PairwiseMergeSame(float8 *a, const float8 *b, int p)
{
	int			npairs = p * (p + 1) / 2;

	for (int k = 0; k < npairs; k++)
	{
		float8	   *x = a + 1 + p + PW_PAIR_LEN * k;
		const float8 *y = b + 1 + p + PW_PAIR_LEN * k;
		double		na = x[PW_PAIR_N],
					nb = y[PW_PAIR_N],
					n,
					di,
					dj;

		if (nb == 0.0)
			continue;
		if (na == 0.0)
		{
			memcpy(x, y, PW_PAIR_LEN * sizeof(float8));
			continue;
		}
		n = na + nb;
		di = y[PW_PAIR_MI] - x[PW_PAIR_MI];
		dj = y[PW_PAIR_MJ] - x[PW_PAIR_MJ];
		x[PW_PAIR_CII] += y[PW_PAIR_CII] + di * di * na * nb / n;
		x[PW_PAIR_CJJ] += y[PW_PAIR_CJJ] + dj * dj * na * nb / n;
		x[PW_PAIR_CIJ] += y[PW_PAIR_CIJ] + di * dj * na * nb / n;
		x[PW_PAIR_MI] += di * nb / n;
		x[PW_PAIR_MJ] += dj * nb / n;
		x[PW_PAIR_N] = n;
	}
}

/*
 * The merge of pairwise states a and b (either may be empty): a itself,
 * written in place, when it has every variable of b; otherwise a new array
 * over the union.
 */
ArrayType *
CfPairwiseMerge(ArrayType *a_state, ArrayType *b_state, const char *fname)
{
	int			alen;
	int			blen;
	float8	   *a = CfFloat8Data(a_state, &alen, fname);
	float8	   *b = CfFloat8Data(b_state, &blen, fname);
	int			p,
				q;
	double	   *all;
	int			n;

	if (blen == 0)
		return a_state;
	q = PairwiseP(b, blen, fname);
	if (alen == 0)
	{
		ArrayType  *copy = CfNewFloat8Array(blen);

		memcpy(CfArrayData(copy), b, blen * sizeof(float8));
		return copy;
	}
	p = PairwiseP(a, alen, fname);
	all = palloc(sizeof(double) * (p + q));
	n = UnionIds(a + PW_IDS, p, b + PW_IDS, q, all);
	if (n != p)
	{
		a_state = PairwiseRelayout(a, p, all, n);
		a = (float8 *) CfArrayData(a_state);
		p = n;
	}
	if (q != p)
	{
		b_state = PairwiseRelayout(b, q, all, n);
		b = (float8 *) CfArrayData(b_state);
	}
	PairwiseMergeSame(a, b, p);
	return a_state;
}

/*
 * pairwise_accum(state, x double precision[]): a row whose variables are
 * its positions 1 .. n (NULL elements missing).
 * pairwise_ids_accum(state, ids integer[], x double precision[] [, fresh
 * boolean[]]): a row of the given variables.
 */
static Datum
PairwiseAccum(FunctionCallInfo fcinfo, bool with_ids)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	int			xarg = with_ids ? 2 : 1;
	ArrayType  *xa = PG_GETARG_ARRAYTYPE_P(xarg);
	Datum	   *xd;
	bool	   *xnull;
	int			n;
	double	   *ids;
	double	   *x;
	bool	   *present;
	bool	   *fresh = NULL;

	if (ARR_NDIM(xa) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("pairwise_state input must be a one-dimensional array")));
	deconstruct_array(xa, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &xd, &xnull, &n);
	ids = palloc(sizeof(double) * Max(n, 1));
	x = palloc(sizeof(double) * Max(n, 1));
	present = palloc(sizeof(bool) * Max(n, 1));
	for (int k = 0; k < n; k++)
	{
		present[k] = !xnull[k];
		x[k] = present[k] ? DatumGetFloat8(xd[k]) : 0.0;
		ids[k] = k + 1;
	}
	if (with_ids)
	{
		Datum	   *idd;
		bool	   *idnull;
		int			nids;

		deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), INT4OID, sizeof(int32), true, TYPALIGN_INT,
						  &idd, &idnull, &nids);
		if (nids != n)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("pairwise_state has %d variable ids but %d values", nids, n)));
		for (int k = 0; k < n; k++)
		{
			if (idnull[k])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("pairwise_state variable ids must not be null")));
			ids[k] = DatumGetInt32(idd[k]);
		}
		if (PG_NARGS() > 3)
		{
			Datum	   *fd;
			bool	   *fnull;
			int			nf;

			deconstruct_array(PG_GETARG_ARRAYTYPE_P(3), BOOLOID, 1, true, TYPALIGN_CHAR, &fd, &fnull, &nf);
			if (nf != n)
				ereport(ERROR,
						(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
						 errmsg("pairwise_state has %d values but %d fresh flags", n, nf)));
			fresh = palloc(sizeof(bool) * Max(n, 1));
			for (int k = 0; k < n; k++)
				fresh[k] = !fnull[k] && DatumGetBool(fd[k]);
		}
	}
	PG_RETURN_ARRAYTYPE_P(CfPairwiseAddRow(state, n, ids, x, present, fresh, "pairwise_state"));
}

PG_FUNCTION_INFO_V1(pairwise_accum);
Datum
pairwise_accum(PG_FUNCTION_ARGS)
{
	return PairwiseAccum(fcinfo, false);
}

PG_FUNCTION_INFO_V1(pairwise_ids_accum);
Datum
pairwise_ids_accum(PG_FUNCTION_ARGS)
{
	return PairwiseAccum(fcinfo, true);
}

/* pairwise_combine(a, b): the merge of two pairwise states. */
PG_FUNCTION_INFO_V1(pairwise_combine);
Datum
pairwise_combine(PG_FUNCTION_ARGS)
{
	PG_RETURN_ARRAYTYPE_P(CfPairwiseMerge(CfStateArg(fcinfo, 0), PG_GETARG_ARRAYTYPE_P(1),
										  "pairwise_sum"));
}

/*
 * The positions of the variable ids an SQL caller picks (-1 for an id the
 * state does not have: no rows); returns their number.
 */
static int
PickVariables(ArrayType *a, const float8 *s, int p, int **out, const char *fname)
{
	Datum	   *d;
	bool	   *nulls;
	int			n;

	deconstruct_array(a, INT4OID, sizeof(int32), true, TYPALIGN_INT, &d, &nulls, &n);
	*out = palloc(sizeof(int) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s: a variable must not be null", fname)));
		for (int j = 0; j < i; j++)
			if (DatumGetInt32(d[j]) == DatumGetInt32(d[i]))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s: variable %d is given twice", fname, DatumGetInt32(d[i]))));
		(*out)[i] = PairwisePosition(s, p, DatumGetInt32(d[i]));
	}
	return n;
}

/* Rows of pair (i, j), positions or -1 (a variable without rows). */
static inline double
PairN(float8 *s, int p, int i, int j)
{
	return (i < 0 || j < 0) ? 0.0 : PairStats(s, p, i, j)[PW_PAIR_N];
}

/*
 * The correlation of variables i and j over their pair's rows, into *r;
 * false when either does not vary there (or fewer than two rows).
 */
static bool
PairCorrelation(float8 *s, int p, int i, int j, double *r)
{
	float8	   *st;
	double		cii,
				cjj;

	if (PairN(s, p, i, j) < 2.0)
		return false;
	st = PairStats(s, p, i, j);
	cii = (i <= j) ? st[PW_PAIR_CII] : st[PW_PAIR_CJJ];
	cjj = (i <= j) ? st[PW_PAIR_CJJ] : st[PW_PAIR_CII];
	if (!(cii > 0.0) || !(cjj > 0.0))
		return false;
	*r = st[PW_PAIR_CIJ] / sqrt(cii * cjj);
	return true;
}

/*
 * pairwise_relative_weights(state, outcome integer, drivers integer[]) ->
 * relative_weights_result: Johnson's relative weights of the drivers from
 * the pairwise correlations (R: cor(use = "pairwise.complete.obs")), n the
 * fewest rows of any pair among the outcome and the drivers.  Undetermined
 * (NULL r2, weights, shares) when n <= k + 1, a variable does not vary in
 * one of its pairs, or the correlation matrix is not positive definite.
 */
PG_FUNCTION_INFO_V1(pairwise_relative_weights);
Datum
pairwise_relative_weights(PG_FUNCTION_ARGS)
{
	int			len;
	float8	   *s = CfFloat8Data(PG_GETARG_ARRAYTYPE_P(0), &len, "pairwise_relative_weights");
	int			p;
	int		   *dv;
	int			k;
	int		   *var;
	double		n = -1.0;
	double	   *rxx;
	double	   *rxy;
	double	   *weights;
	double	   *shares;
	double		r2 = 0.0;
	RwStatus	status;

	if (len == 0)
		PG_RETURN_NULL();
	p = PairwiseP(s, len, "pairwise_relative_weights");
	k = PickVariables(PG_GETARG_ARRAYTYPE_P(2), s, p, &dv, "pairwise_relative_weights");
	if (k == 0)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("pairwise_relative_weights drivers array is empty")));
	CheckWidth(k + 1, "variables", "pairwise_relative_weights");
	var = palloc(sizeof(int) * (k + 1));
	var[0] = PairwisePosition(s, p, PG_GETARG_INT32(1));
	memcpy(var + 1, dv, sizeof(int) * k);
	for (int a = 0; a <= k; a++)
		for (int b = a + 1; b <= k; b++)
		{
			if (var[a] >= 0 && var[a] == var[b])
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("pairwise_relative_weights: the outcome is one of the drivers")));
			n = (n < 0.0) ? PairN(s, p, var[a], var[b]) : fmin(n, PairN(s, p, var[a], var[b]));
		}
	if (n <= 0.0)
		PG_RETURN_NULL();
	if (n <= k + 1)
		PG_RETURN_DATUM(WeightsRecord(fcinfo, n, k, RW_UNDETERMINED, 0, NULL, NULL));

	rxx = palloc(k * k * sizeof(double));
	rxy = palloc(k * sizeof(double));
	weights = palloc(k * sizeof(double));
	shares = palloc(k * sizeof(double));
	for (int i = 0; i < k; i++)
	{
		if (!PairCorrelation(s, p, var[0], var[i + 1], &rxy[i]))
			PG_RETURN_DATUM(WeightsRecord(fcinfo, n, k, RW_UNDETERMINED, 0, NULL, NULL));
		rxx[i * k + i] = 1.0;
		for (int j = i + 1; j < k; j++)
		{
			double		r;

			if (!PairCorrelation(s, p, var[i + 1], var[j + 1], &r))
				PG_RETURN_DATUM(WeightsRecord(fcinfo, n, k, RW_UNDETERMINED, 0, NULL, NULL));
			rxx[i * k + j] = rxx[j * k + i] = r;
		}
	}
	status = JohnsonWeights(rxx, rxy, k, &r2, weights, shares);
	PG_RETURN_DATUM(WeightsRecord(fcinfo, n, k, status, r2, weights, shares));
}

/*
 * pairwise_alpha(state, items integer[]) -> alpha_result: Cronbach's alpha
 * of the items from their variances (each item's rows) and pairwise
 * covariances (each pair's rows), with n - 1 divisors; standardized alpha
 * from the mean pairwise correlation.  n is the fewest rows of any pair.
 * On rows without missing values both equal cronbach_alpha's.
 */
PG_FUNCTION_INFO_V1(pairwise_alpha);
Datum
pairwise_alpha(PG_FUNCTION_ARGS)
{
	int			len;
	float8	   *s = CfFloat8Data(PG_GETARG_ARRAYTYPE_P(0), &len, "pairwise_alpha");
	int			p;
	int		   *var;
	int			k;
	double		n = -1.0;
	double		sum_var = 0.0;
	double		total = 0.0;
	double		rsum = 0.0;
	bool		std_ok = true;
	bool		ok = true;
	Datum		values[4];
	bool		nulls[4] = {0};

	if (len == 0)
		PG_RETURN_NULL();
	p = PairwiseP(s, len, "pairwise_alpha");
	k = PickVariables(PG_GETARG_ARRAYTYPE_P(1), s, p, &var, "pairwise_alpha");
	if (k == 0)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("pairwise_alpha items array is empty")));
	for (int a = 0; a < k; a++)
		for (int b = a; b < k; b++)
		{
			double		nab = PairN(s, p, var[a], var[b]);
			float8	   *st;

			if (a != b || k == 1)
				n = (n < 0.0) ? nab : fmin(n, nab);
			if (nab < 2.0)
			{
				ok = std_ok = false;
				continue;
			}
			st = PairStats(s, p, var[a], var[b]);
			if (a == b)
			{
				double		v = st[PW_PAIR_CII] / (nab - 1.0);

				sum_var += v;
				total += v;
			}
			else
			{
				double		r;

				total += 2.0 * st[PW_PAIR_CIJ] / (nab - 1.0);
				if (PairCorrelation(s, p, var[a], var[b], &r))
					rsum += r;
				else
					std_ok = false;
			}
		}
	if (n <= 0.0)
		PG_RETURN_NULL();
	values[0] = Int32GetDatum(k);
	values[1] = Int64GetDatum((int64) n);
	nulls[2] = nulls[3] = true;
	if (k >= 2 && ok && total > ALPHA_ZERO_RATIO * sum_var)
	{
		values[2] = Float8GetDatum((double) k / (k - 1) * (1.0 - sum_var / total));
		nulls[2] = false;
	}
	if (k >= 2 && std_ok)
	{
		double		r = rsum / (k * (k - 1) / 2.0);
		double		denom = 1.0 + (k - 1) * r;

		if (denom > ALPHA_ZERO_RATIO)
		{
			values[3] = Float8GetDatum(k * r / denom);
			nulls[3] = false;
		}
	}
	PG_RETURN_DATUM(CfMakeRecord(fcinfo, values, nulls));
}

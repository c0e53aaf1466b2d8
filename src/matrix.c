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
 * relative_weights -> (n, k, r2, weights, shares)
 *
 * Johnson (2000): with the driver correlation matrix R = V L V' and the
 * outcome correlations r, the drivers' orthogonal counterparts have
 * correlations L* = V L^(1/2) V' with the drivers, the outcome regresses on
 * them with beta = V L^(-1/2) V' r, R^2 = sum beta^2, and driver j's raw
 * weight is sum_m L*_jm^2 beta_m^2; the weights sum to R^2.
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
	double	   *vec;
	double	   *rxy;
	double	   *half;
	double	   *beta;
	double	   *tmp;
	double	   *weights;
	double	   *shares;
	double		lmin;
	double		lmax;
	double		r2 = 0.0;
	Datum		values[5];
	bool		nulls[5] = {0};

	if (len == 0)
		PG_RETURN_NULL();
	p = ComomentP(s, len, "relative_weights");
	n = s[CM_N];
	if (n == 0.0)
		PG_RETURN_NULL();
	k = p - 1;
	c = s + CM_MEANS + p;

	values[0] = Int64GetDatum((int64) n);
	values[1] = Int32GetDatum(k);
	nulls[2] = nulls[3] = nulls[4] = true;

	/* a saturated model fits any data perfectly: R^2 = 1 says nothing */
	if (k < 1 || n <= k + 1)
		PG_RETURN_DATUM(CfMakeRecord(fcinfo, values, nulls));
	for (int i = 0; i < p; i++)
		if (!(c[TriIndex(p, i, i)] > 0.0))
			PG_RETURN_DATUM(CfMakeRecord(fcinfo, values, nulls));

	rxx = palloc(k * k * sizeof(double));
	vec = palloc(k * k * sizeof(double));
	half = palloc(k * k * sizeof(double));
	rxy = palloc(k * sizeof(double));
	beta = palloc(k * sizeof(double));
	tmp = palloc(k * sizeof(double));
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

	JacobiEigen(rxx, vec, k);
	lmin = lmax = rxx[0];
	for (int m = 1; m < k; m++)
	{
		lmin = fmin(lmin, rxx[m * k + m]);
		lmax = fmax(lmax, rxx[m * k + m]);
	}
	if (!(lmin > RW_SINGULAR_RATIO * lmax))
		PG_RETURN_DATUM(CfMakeRecord(fcinfo, values, nulls));

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

	/*
	 * No driver correlates with the outcome beyond rounding: R^2 is 0, each
	 * weight 0 (they sum to R^2), and shares of nothing are NULL.
	 */
	if (!(r2 > RW_ZERO_R2))
	{
		memset(weights, 0, k * sizeof(double));
		values[2] = Float8GetDatum(0.0);
		values[3] = Float8ArrayDatum(weights, k);
		nulls[2] = nulls[3] = false;
		PG_RETURN_DATUM(CfMakeRecord(fcinfo, values, nulls));
	}

	for (int j = 0; j < k; j++)
	{
		double		e = 0.0;

		for (int m = 0; m < k; m++)
			e += half[j * k + m] * half[j * k + m] * beta[m] * beta[m];
		weights[j] = e;
		shares[j] = e / r2;
	}

	values[2] = Float8GetDatum(r2);
	values[3] = Float8ArrayDatum(weights, k);
	values[4] = Float8ArrayDatum(shares, k);
	nulls[2] = nulls[3] = nulls[4] = false;
	PG_RETURN_DATUM(CfMakeRecord(fcinfo, values, nulls));
}

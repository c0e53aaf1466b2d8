/*
 * stats.c
 *		Normal and Student t distributions, proportion intervals, Kish's
 *		effective n.
 *
 * The t quantile is what a mean interval is made of, so it has to be right
 * to many digits for every n a survey can have: for small df we invert an
 * accurately computed tail probability (regularized incomplete beta) by
 * safeguarded Newton steps; for very large df, where the log-gamma terms of
 * the beta function lose digits to cancellation, the Cornish-Fisher
 * expansion around the normal quantile is itself exact to double precision.
 * Weighted data bring fractional df below 1 (Kish's n_eff between 1 and
 * 2), where the quantile is huge; there the inversion works on logs.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "stats.h"

/* above this df the Cornish-Fisher expansion beats the beta route */
#define CF_T_EXPANSION_DF	3000.0

/* Horner evaluation of c[0] + c[1] x + ... + c[n - 1] x^(n - 1) */
static double
Polynomial(const double *c, int n, double x)
{
	double		r = c[n - 1];

	for (int i = n - 2; i >= 0; i--)
		r = r * x + c[i];
	return r;
}

double
CfNormalCdf(double z)
{
	/* erfc keeps full relative precision far into the lower tail */
	return 0.5 * erfc(-z / M_SQRT2);
}

/* two-sided p-value of a standard normal test statistic */
double
CfNormalTwoSidedP(double z)
{
	return erfc(fabs(z) / M_SQRT2);
}

/*
 * Normal quantile by Wichura's algorithm AS 241 (PPND16, Applied Statistics
 * 37, 1988), accurate to about 1e-16 relative.  Coefficients are from the
 * paper, lowest order first.
 */
double
CfNormalQuantile(double p)
{
	static const double a[8] = {
		3.387132872796366608, 133.14166789178437745,
		1971.5909503065514427, 13731.693765509461125,
		45921.953931549871457, 67265.770927008700853,
		33430.575583588128105, 2509.0809287301226727
	};
	static const double b[8] = {
		1.0, 42.313330701600911252,
		687.1870074920579083, 5394.1960214247511077,
		21213.794301586595867, 39307.89580009271061,
		28729.085735721942674, 5226.495278852545925
	};
	static const double c[8] = {
		1.42343711074968357734, 4.6303378461565452959,
		5.7694972214606914055, 3.64784832476320460504,
		1.27045825245236838258, 0.24178072517745061177,
		0.0227238449892691845833, 7.7454501427834140764e-4
	};
	static const double d[8] = {
		1.0, 2.05319162663775882187,
		1.6763848301838038494, 0.68976733498510000455,
		0.14810397642748007459, 0.0151986665636164571966,
		5.475938084995344946e-4, 1.05075007164441684324e-9
	};
	static const double e[8] = {
		6.6579046435011037772, 5.4637849111641143699,
		1.7848265399172913358, 0.29656057182850489123,
		0.026532189526576123093, 0.0012426609473880784386,
		2.71155556874348757815e-5, 2.01033439929228813265e-7
	};
	static const double f[8] = {
		1.0, 0.59983220655588793769,
		0.13692988092273580531, 0.0148753612908506148525,
		7.868691311456132591e-4, 1.8463183175100546818e-5,
		1.4215117583164458887e-7, 2.04426310338993978564e-15
	};
	double		q = p - 0.5;
	double		r;
	double		x;

	if (isnan(p) || p < 0.0 || p > 1.0)
		return NAN;
	if (p == 0.0)
		return -INFINITY;
	if (p == 1.0)
		return INFINITY;

	if (fabs(q) <= 0.425)
	{
		r = 0.180625 - q * q;
		return q * Polynomial(a, 8, r) / Polynomial(b, 8, r);
	}

	/* tails: work with the smaller of p and 1 - p */
	r = (q < 0.0) ? p : 1.0 - p;
	r = sqrt(-log(r));
	if (r <= 5.0)
	{
		r -= 1.6;
		x = Polynomial(c, 8, r) / Polynomial(d, 8, r);
	}
	else
	{
		r -= 5.0;
		x = Polynomial(e, 8, r) / Polynomial(f, 8, r);
	}
	return (q < 0.0) ? -x : x;
}

double
CfNormalCritical(double level)
{
	/* the upper tail (1 - level) / 2 is exact; 1 - it would round */
	return -CfNormalQuantile((1.0 - level) / 2.0);
}

/*
 * lgamma(a + 1/2) - lgamma(a).  For large a the two log-gammas are huge and
 * nearly equal, and their difference keeps only a few digits; subtracting
 * Stirling's series term by term instead cancels the big parts exactly.
 */
static double
LogGammaHalfStep(double a)
{
	double		b = a + 0.5;

	if (a < 50.0)
		return lgamma(b) - lgamma(a);

	return a * log1p(0.5 / a) + 0.5 * log(a) - 0.5
		+ (1.0 / b - 1.0 / a) / 12.0
		- (1.0 / (b * b * b) - 1.0 / (a * a * a)) / 360.0
		+ (1.0 / pow(b, 5) - 1.0 / pow(a, 5)) / 1260.0
		- (1.0 / pow(b, 7) - 1.0 / pow(a, 7)) / 1680.0;
}

/* log of the beta function B(a, b) */
static double
LogBeta(double a, double b)
{
	/* lgamma(1/2) = log(sqrt(pi)) */
	if (b == 0.5)
		return 0.57236494292470008707 - LogGammaHalfStep(a);
	return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/*
 * Continued fraction of the incomplete beta function, evaluated by the
 * modified Lentz method; converges quickly for x < (a + 1) / (a + b + 2).
 */
static double
BetaContinuedFraction(double a, double b, double x)
{
	const double tiny = 1e-300;
	double		c = 1.0;
	double		d;
	double		h;

	d = 1.0 - (a + b) * x / (a + 1.0);
	if (fabs(d) < tiny)
		d = tiny;
	d = 1.0 / d;
	h = d;

	for (int m = 1; m <= 100000; m++)
	{
		double		m2 = 2.0 * m;
		double		num;
		double		delta;

		/* even step */
		num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
		d = 1.0 + num * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1.0 + num / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		h *= d * c;

		/* odd step */
		num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
		d = 1.0 + num * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1.0 + num / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		delta = d * c;
		h *= delta;

		if (fabs(delta - 1.0) <= DBL_EPSILON)
			break;
	}
	return h;
}

/*
 * log P(|T| > |t|) for Student's t with df > 0 degrees of freedom: the log
 * of the regularized incomplete beta I_x(df/2, 1/2), x = df / (df + t^2).
 *
 * Logs, because for df < 1 the quantiles we invert reach far beyond 1e154,
 * where t^2 overflows, and the tail there is a power t^-df that no plain
 * double would hold for long.  So x and y = 1 - x are formed from the
 * ratio of df and t^2 that is below 1, never from t^2 itself, and their
 * logs without the cancellation of log(1 - small).
 */
static double
StudentTLogTwoTail(double t, double df)
{
	const double a = df / 2.0;
	const double b = 0.5;
	double		at = fabs(t);
	double		x;
	double		y;
	double		logx;
	double		logy;
	double		logfront;

	if (at * at > df)
	{
		/* r = df / t^2 < 1: x = r / (1 + r), y = 1 / (1 + r) */
		double		r = (df / at) / at;

		logx = log(df) - 2.0 * log(at) - log1p(r);
		logy = -log1p(r);
		x = exp(logx);
		y = 1.0 / (1.0 + r);
	}
	else
	{
		/* u = t^2 / df <= 1: x = 1 / (1 + u), y = u / (1 + u) */
		double		u = (at / df) * at;

		if (u == 0.0)
			return 0.0;			/* P(|T| > 0) = 1 */
		logx = -log1p(u);
		logy = log(u) - log1p(u);
		x = 1.0 / (1.0 + u);
		y = u / (1.0 + u);
	}

	logfront = a * logx + b * logy - LogBeta(a, b);
	if (x < (a + 1.0) / (a + b + 2.0))
		return logfront + log(BetaContinuedFraction(a, b, x) / a);
	return log1p(-exp(logfront) * BetaContinuedFraction(b, a, y) / b);
}

/* P(T > t) for Student's t with df > 0 degrees of freedom */
double
CfStudentTUpperTail(double t, double df)
{
	double		tail;

	if (isnan(t) || isnan(df) || !(df > 0.0))
		return NAN;
	tail = 0.5 * exp(StudentTLogTwoTail(t, df));
	return (t >= 0.0) ? tail : 1.0 - tail;
}

static double
StudentTDensity(double t, double df)
{
	return exp(LogGammaHalfStep(df / 2.0)
			   - 0.5 * log(df * M_PI)
			   - (df + 1.0) / 2.0 * log1p(t * t / df));
}

/*
 * Cornish-Fisher expansion of the t quantile in powers of 1/df around the
 * normal quantile z (Abramowitz and Stegun 26.7.5).
 */
static double
StudentTExpansion(double z, double df)
{
	double		z2 = z * z;
	double		g1 = (z2 + 1.0) * z / 4.0;
	double		g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0;
	double		g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0;
	double		g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2
					  - 945.0) * z / 92160.0;

	return z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df;
}

/*
 * log(t f(t)) for t > 0, f the density of Student's t: the slope of
 * log P(|T| > t) against log t is -2 t f(t) / P(|T| > t).  Like
 * StudentTLogTwoTail it never forms t^2 when that could overflow.
 */
static double
StudentTLogTDensity(double t, double df)
{
	double		logt = log(t);
	double		log1pu;			/* log(1 + t^2 / df) */

	if (t * t > df)
		log1pu = 2.0 * logt - log(df) + log1p((df / t) / t);
	else
		log1pu = log1p((t / df) * t);
	return logt + LogGammaHalfStep(df / 2.0) - 0.5 * log(df * M_PI)
		- (df + 1.0) / 2.0 * log1pu;
}

/*
 * t with P(T > t) = q, for 0 < q < 0.5 and 0 < df < 1.
 *
 * This is what a weighted interval asks for when Kish's n_eff lies between
 * 1 and 2, and the quantile is huge there: 2.09e6 at df 0.187 for q =
 * 0.025, and it passes the largest double below df of about 0.0042.  In
 * the tail P(|T| > t) is close to C t^-df, a straight line of slope -df in
 * log-log scale, so we solve log P(|T| > t) = log(2 q) by Newton steps in
 * log t, which converge from the asymptotic start in a few steps.  Each
 * step multiplies t by exp(step) rather than recomputing t from its log,
 * so t keeps full relative precision even near 1e300.  The bracket starts
 * at the Cauchy quantile (t quantiles fall as df grows, so df < 1 lies
 * above it) and at DBL_MAX; a quantile beyond DBL_MAX is +Infinity, which
 * callers must treat as "no finite interval".
 */
static double
StudentTSmallDfQuantile(double q, double df)
{
	double		a = df / 2.0;
	double		target = log(2.0 * q);
	double		lo;
	double		hi = DBL_MAX;
	double		t;

	if (StudentTLogTwoTail(hi, df) > target)
		return INFINITY;

	lo = (q < 0.25) ? 1.0 / tan(M_PI * q) : tan(M_PI * (0.5 - q));
	/* a guard only: the ordering in df puts the Cauchy quantile below */
	for (int i = 0; i < 2100 && lo > DBL_MIN &&
		 StudentTLogTwoTail(lo, df) < target; i++)
		lo *= 0.5;

	/* P(|T| > t) ~ (df / t^2)^a / (a B(a, 1/2)) for large t */
	t = exp((a * log(df) - log(a) - LogBeta(a, 0.5) - target) / df);
	if (!(t > lo && t < hi))
		t = exp(0.5 * (log(lo) + log(hi)));

	for (int iter = 0; iter < 400; iter++)
	{
		double		logp = StudentTLogTwoTail(t, df);
		double		g = logp - target;
		double		next;

		if (g == 0.0)
			break;
		/* the tail falls as t grows */
		if (g > 0.0)
			lo = t;
		else
			hi = t;

		/* Newton in log t: d(log P) / d(log t) = -2 t f(t) / P */
		next = t * exp(g * exp(logp - M_LN2 - StudentTLogTDensity(t, df)));
		if (!(next > lo && next < hi))
			next = exp(0.5 * (log(lo) + log(hi)));
		if (fabs(next - t) <= 4.0 * DBL_EPSILON * next)
		{
			t = next;
			break;
		}
		t = next;
	}
	return t;
}

/*
 * t such that P(T > t) = q, for 0 < q <= 0.5 and any df > 0; fractional
 * df come from Kish's effective n.  The result is +Infinity when the
 * quantile is beyond the largest double (df below about 0.0042 at q =
 * 0.025), and NaN for arguments outside that domain: df <= 0 is no t
 * distribution at all, so a caller with n_eff <= 1 has no interval and
 * must not ask.
 */
double
CfStudentTUpperQuantile(double q, double df)
{
	double		lo;
	double		hi;
	double		t;

	if (isnan(q) || isnan(df) || q <= 0.0 || q > 0.5 || !(df > 0.0))
		return NAN;
	if (q == 0.5)
		return 0.0;

	/* closed forms where they exist */
	if (df == 1.0)
		return (q < 0.25) ? 1.0 / tan(M_PI * q) : tan(M_PI * (0.5 - q));
	if (df == 2.0)
		return (1.0 - 2.0 * q) / sqrt(2.0 * q * (1.0 - q));

	if (df < 1.0)
		return StudentTSmallDfQuantile(q, df);
	if (df > CF_T_EXPANSION_DF)
		return StudentTExpansion(-CfNormalQuantile(q), df);

	/*
	 * Newton steps on the tail probability, kept inside a bracket so that a
	 * poor start cannot run away.  The quantile decreases with df, so the
	 * Cauchy (df = 1) quantile bounds it from above.
	 */
	lo = 0.0;
	hi = 1.0 / tan(M_PI * q);
	t = StudentTExpansion(-CfNormalQuantile(q), df);
	if (!(t > lo && t < hi))
		t = 0.5 * (lo + hi);

	for (int iter = 0; iter < 200; iter++)
	{
		double		g = CfStudentTUpperTail(t, df) - q;
		double		next;

		if (g == 0.0)
			break;
		/* the tail falls as t grows */
		if (g > 0.0)
			lo = t;
		else
			hi = t;

		next = t + g / StudentTDensity(t, df);
		if (!(next > lo && next < hi))
			next = 0.5 * (lo + hi);
		if (fabs(next - t) <= 4.0 * DBL_EPSILON * fabs(next))
		{
			t = next;
			break;
		}
		t = next;
	}
	return t;
}

double
CfStudentTCritical(double level, double df)
{
	return CfStudentTUpperQuantile((1.0 - level) / 2.0, df);
}

/*
 * Wilson score interval.  At x = 0 (x = n) the lower (upper) limit is 0 (1)
 * exactly; the general formula would leave a rounding residue there.
 */
void
CfWilsonInterval(double x, double n, double z, double *low, double *high)
{
	double		z2 = z * z;
	double		denom = n + z2;
	double		centre = (x + z2 / 2.0) / denom;
	double		half = z * sqrt(x * (n - x) / n + z2 / 4.0) / denom;

	*low = (x <= 0.0) ? 0.0 : fmax(0.0, centre - half);
	*high = (x >= n) ? 1.0 : fmin(1.0, centre + half);
}

/*
 * Agresti-Coull interval: the Wald interval around Wilson's centre with
 * n + z^2 trials; it can overshoot [0, 1], so it is clipped.
 */
void
CfAgrestiCoullInterval(double x, double n, double z, double *low, double *high)
{
	double		z2 = z * z;
	double		nt = n + z2;
	double		pt = (x + z2 / 2.0) / nt;
	double		half = z * sqrt(pt * (1.0 - pt) / nt);

	*low = fmax(0.0, pt - half);
	*high = fmin(1.0, pt + half);
}

double
CfKishEffectiveN(double sum_w, double sum_w2)
{
	return (sum_w * sum_w) / sum_w2;
}

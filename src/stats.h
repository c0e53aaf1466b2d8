/*
 * stats.h
 *		Distribution functions and interval formulas shared by the scoring
 *		aggregates and the scalar statistics functions.
 *
 * Everything here is plain arithmetic on doubles: no palloc, no ereport.
 * Callers validate their arguments (see aggutils.h) before calling, so that
 * the error messages can name the SQL function and the offending value.
 */
#ifndef CUSTFOCUS_STATS_H
#define CUSTFOCUS_STATS_H

/* standard normal distribution */
extern double CfNormalCdf(double z);
extern double CfNormalQuantile(double p);
extern double CfNormalTwoSidedP(double z);

/*
 * Critical values for a two-sided interval at confidence level "level"
 * (0 < level < 1): the upper (1 - level) / 2 quantile.
 */
extern double CfNormalCritical(double level);
extern double CfStudentTCritical(double level, double df);

/*
 * Student t: upper-tail probability and its inverse, for any df > 0
 * (fractional df come from Kish's effective n).  The quantile is +Infinity
 * where it exceeds the largest double (df below about 0.0042 for a 95 %
 * interval) and NaN for df <= 0, where there is no t distribution: callers
 * give no interval there rather than ask.
 */
extern double CfStudentTUpperTail(double t, double df);
extern double CfStudentTUpperQuantile(double q, double df);

/*
 * Intervals for a proportion x / n; n may be an effective (fractional) n.
 * Results are proportions on 0..1.
 */
extern void CfWilsonInterval(double x, double n, double z,
							 double *low, double *high);
extern void CfAgrestiCoullInterval(double x, double n, double z,
								   double *low, double *high);

/* Kish's effective sample size from the sums of the weights and squares */
extern double CfKishEffectiveN(double sum_w, double sum_w2);

#endif							/* CUSTFOCUS_STATS_H */

/*
 * aggutils.c
 *		Transition states, input checks and results shared by the scoring
 *		aggregates, and the generic combine functions of additive states.
 *
 * The states are plain int8[] and float8[] arrays rather than "internal", so
 * that a partial state can travel as an ordinary value: parallel workers,
 * Citus workers and postgres_fdw remote servers hand it back as text or
 * binary array I/O, and no serialize/deserialize functions are needed.
 * Like PostgreSQL's float8_accum, the transition functions update the array
 * in place when called as an aggregate, so a row costs no allocation.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "funcapi.h"
#include "nodes/primnodes.h"
#include "utils/array.h"
#include "utils/float.h"
#include "utils/lsyscache.h"

#include "aggutils.h"

void
CfInvalidStateShape(ArrayType *state, Oid elemtype, int len, const char *aggname)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid transition state for %s", aggname),
			 errdetail("The state must be a one-dimensional %s array of %d elements without NULLs.",
					   elemtype == INT8OID ? "bigint" : "double precision", len)));
}

int64 *
CfCountState(ArrayType *state, int len, const char *aggname)
{
	int64	   *counts;

	counts = CfRowState(state, INT8OID, len, aggname);
	for (int i = 0; i < len; i++)
		if (counts[i] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid transition state for %s", aggname),
					 errdetail("Counts in the state cannot be negative.")));
	return counts;
}

float8 *
CfSumState(ArrayType *state, int len, const char *aggname)
{
	float8	   *sums;

	sums = CfRowState(state, FLOAT8OID, len, aggname);
	for (int i = 0; i < len; i++)
		if (isnan(sums[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid transition state for %s", aggname),
					 errdetail("The state contains NaN.")));
	return sums;
}

/* a float8 state of variable length: an empty array or one dimension */
float8 *
CfFloat8Data(ArrayType *state, int *len, const char *aggname)
{
	if (ARR_NDIM(state) == 0 && ARR_ELEMTYPE(state) == FLOAT8OID)
	{
		*len = 0;
		return NULL;
	}
	if (ARR_NDIM(state) != 1 || ARR_HASNULL(state) ||
		ARR_ELEMTYPE(state) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid transition state for %s", aggname),
				 errdetail("The state must be a one-dimensional double precision array without NULLs.")));
	*len = ARR_DIMS(state)[0];
	return (float8 *) CfArrayData(state);
}

ArrayType *
CfNewFloat8Array(int len)
{
	Size		size = ARR_OVERHEAD_NONULLS(1) + (Size) len * sizeof(float8);
	ArrayType  *a = (ArrayType *) palloc0(size);

	SET_VARSIZE(a, size);
	a->ndim = 1;
	a->dataoffset = 0;
	a->elemtype = FLOAT8OID;
	ARR_DIMS(a)[0] = len;
	ARR_LBOUND(a)[0] = 1;
	return a;
}

/* a value as PostgreSQL prints it (NaN, Infinity, shortest exact digits) */
char *
CfFormatFloat(double value)
{
	return float8out_internal(value);
}

/*
 * Name of the aggregate a shared transition function is running for, to
 * name it in an error message; only on the error path, as it looks up the
 * catalogue.  Window aggregates do not expose their Aggref.
 */
const char *
CfAggName(FunctionCallInfo fcinfo, const char *fallback)
{
	Aggref	   *aggref = AggGetAggref(fcinfo);
	char	   *name = aggref ? get_func_name(aggref->aggfnoid) : NULL;

	return name ? name : fallback;
}

void
CfInvalidWeight(double weight, const char *fname)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s weight %s is not a positive finite number",
					fname, CfFormatFloat(weight)),
			 errdetail("Survey weights must be greater than zero and finite."),
			 errhint("A NULL weight leaves the row out; filter out rows with zero weight.")));
}

void
CfNotFinite(double value, const char *what, const char *fname)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("%s %s %s is not a finite number",
					fname, what, CfFormatFloat(value)),
			 errdetail("Statistics over NaN or infinite values have no meaning."),
			 errhint("Leave missing values NULL; NULLs are skipped.")));
}

void
CfCheckLevel(double level, const char *fname)
{
	if (!(level > 0.0 && level < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s confidence level %s is not between 0 and 1",
						fname, CfFormatFloat(level)),
				 errdetail("The level is a proportion, not a percentage."),
				 errhint("Write 0.95 for a 95%% interval.")));
}

Datum
CfMakeRecord(FunctionCallInfo fcinfo, Datum *values, bool *nulls)
{
	TupleDesc	tupdesc;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/* length of a state that the combine functions take as it comes */
static int
StateLength(ArrayType *state, const char *fname)
{
	if (ARR_NDIM(state) != 1 || ARR_DIMS(state)[0] < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid transition state for %s", fname),
				 errdetail("The state must be a non-empty one-dimensional array.")));
	return ARR_DIMS(state)[0];
}

/*
 * Combine function of the count states: element-wise sum.  Every count in
 * these states is additive, so one function serves them all; the final
 * function checks the length it expects.
 */
PG_FUNCTION_INFO_V1(counts_combine);
Datum
counts_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	ArrayType  *other = PG_GETARG_ARRAYTYPE_P(1);
	int			len = StateLength(state, "counts_combine");
	int64	   *a;
	int64	   *b;

	a = CfCountState(state, len, "counts_combine");
	b = CfCountState(other, len, "counts_combine");
	for (int i = 0; i < len; i++)
		if (pg_add_s64_overflow(a[i], b[i], &a[i]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("count out of range")));
	PG_RETURN_ARRAYTYPE_P(state);
}

/* combine function of the weighted states: element-wise sum */
PG_FUNCTION_INFO_V1(sums_combine);
Datum
sums_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *state = CfStateArg(fcinfo, 0);
	ArrayType  *other = PG_GETARG_ARRAYTYPE_P(1);
	int			len = StateLength(state, "sums_combine");
	float8	   *a;
	float8	   *b;

	a = CfSumState(state, len, "sums_combine");
	b = CfSumState(other, len, "sums_combine");
	for (int i = 0; i < len; i++)
		a[i] += b[i];
	PG_RETURN_ARRAYTYPE_P(state);
}

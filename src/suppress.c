/*
 * suppress.c
 *		Complementary (secondary) suppression of small groups in additive
 *		tables: which further cells to hide so that no hidden small group can
 *		be recovered by subtraction.
 *
 * The views hide a score computed from fewer than the floor's answers
 * (primary suppression).  But they also show the score of every larger
 * group it belongs to (its program, its quarter, its year) and of the
 * groups beside it, with additive columns: a quarter minus its two shown
 * months is the hidden month.  Statistical agencies answer this with
 * complementary suppression (Cox 1980; tau-ARGUS's hypercube method): hide
 * further cells so that every hidden small group stays unknown.
 *
 * The table is given as cells (each with its number of answers n, and
 * whether the views publish it at all) and relations: a parent cell equal
 * to the sum of its child cells (a quarter and its months, a year and its
 * quarters, a program and the services and programs under it, in one
 * period).  The answer counts n are public (the views show them); the
 * sums are what must not be learnt for a group of fewer than floor answers.
 *
 * The method, deterministic (the same data give the same cells, whoever
 * asks):
 *
 *   1. Hide every published cell with 1 <= n < floor (primary).  A cell is
 *      unknown when hidden or not published and n > 0 (a cell without
 *      answers is known to be empty).
 *   2. Derive: a relation in which exactly one cell is unknown gives that
 *      cell away (the parent minus the others); it is then known, and may
 *      give away another in another relation.  Repeat until nothing more is
 *      derived.  If a derived cell has 1 <= n < floor, its relation is
 *      violated; a relation whose parent is known and whose unknown children
 *      together hold 1 .. floor - 1 answers gives their sum away: violated
 *      too.
 *   3. For each violated relation (in the order found) none of whose cells
 *      was hidden in this round, hide one of its published, shown children
 *      with answers: the one that would be the only unknown of the fewest
 *      other relations (each would give it away and want one more cell
 *      hidden), then the smallest, then by position; when it has none
 *      (every child it knows was derived elsewhere), one of the relation
 *      that derived it, and so on; only then a parent.  Back to 2; stop
 *      when nothing is violated.
 *
 * Each round hides at least one more cell, so it ends.  What it guarantees: no
 * small group is recovered from one relation, or from a chain of relations
 * each of which gives one cell away.  It does not solve the linear system of
 * every relation at once (that takes linear programming: an attack
 * combining several relations, each with two or more unknowns, is not
 * ruled out), nor bound how narrowly a hidden value can be pinned between
 * 0 and n; README, Suppression, says so.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "aggutils.h"
#include "custfocus.h"
#include "pg_compat.h"

typedef struct SuppressTable
{
	int			ncells;
	int			nrels;
	const int64 *n;
	const bool *published;
	int64		floor;
	/* relation r: parent rel_parent[r], children child[child_start[r] .. child_start[r + 1] - 1] */
	const int  *rel_parent;
	int		   *child_start;
	int		   *child;
	bool	   *hidden;			/* primary and complementary */
	bool	   *unknown;		/* hidden or unpublished, with answers, and not derived */
	int		   *derived_by;		/* relation that gave the cell away, or -1 */
	/* the relations of cell c: member_rel[member_start[c] .. member_start[c + 1] - 1] */
	int		   *member_start;
	int		   *member_rel;
	/* per relation: unknown cells, and answers of its unknown children */
	int		   *nunknown;
	int64	   *unknown_n;
	int		   *queue;			/* relations with one unknown cell, to solve */
	int		   *violated;		/* the violated relations of a round */
	int			nviolated;
	int		   *hidden_in;		/* the round that hid a cell, or 0 */
	/* FindCandidate's scratch: allocated once, seen reset after each use */
	int		   *order;
	bool	   *seen;
} SuppressTable;

static inline bool
Sensitive(const SuppressTable *t, int c)
{
	return t->n[c] >= 1 && t->n[c] < t->floor;
}

/*
 * Step 2: derive what the relations give away; list the violated relations
 * (t->violated, t->nviolated).  A work list of relations with one unknown
 * cell, so that a round costs one pass over the relations' cells, however
 * long the chains of derivations.  A small group given away is not used to
 * derive more (what follows from it goes once it is hidden).
 */
static void
DeriveAll(SuppressTable *t)
{
	int			c,
				r,
				k,
				head = 0,
				tail = 0;

	t->nviolated = 0;
	for (c = 0; c < t->ncells; c++)
	{
		t->unknown[c] = (t->hidden[c] || !t->published[c]) && t->n[c] > 0;
		t->derived_by[c] = -1;
	}
	for (r = 0; r < t->nrels; r++)
	{
		t->nunknown[r] = t->unknown[t->rel_parent[r]] ? 1 : 0;
		t->unknown_n[r] = 0;
		for (k = t->child_start[r]; k < t->child_start[r + 1]; k++)
			if (t->unknown[t->child[k]])
			{
				t->nunknown[r]++;
				t->unknown_n[r] += t->n[t->child[k]];
			}
		if (t->nunknown[r] == 1)
			t->queue[tail++] = r;
	}
	while (head < tail)
	{
		int			u = -1;

		r = t->queue[head++];
		if (t->nunknown[r] != 1)
			continue;
		if (t->unknown[t->rel_parent[r]])
			u = t->rel_parent[r];
		for (k = t->child_start[r]; u < 0 && k < t->child_start[r + 1]; k++)
			if (t->unknown[t->child[k]])
				u = t->child[k];
		Assert(u >= 0);
		if (Sensitive(t, u))
		{
			t->violated[t->nviolated++] = r;
			continue;
		}
		t->unknown[u] = false;
		t->derived_by[u] = r;
		for (k = t->member_start[u]; k < t->member_start[u + 1]; k++)
		{
			int			r2 = t->member_rel[k];

			t->nunknown[r2]--;
			if (t->rel_parent[r2] != u)
				t->unknown_n[r2] -= t->n[u];
			if (t->nunknown[r2] == 1)
				t->queue[tail++] = r2;
		}
	}
	/* sums of unknown children under a known parent */
	for (r = 0; r < t->nrels; r++)
		if (!t->unknown[t->rel_parent[r]] && t->nunknown[r] >= 2 &&
			t->unknown_n[r] >= 1 && t->unknown_n[r] < t->floor)
			t->violated[t->nviolated++] = r;
}

/*
 * The cell to hide for relation r (step 3), -1 when it has none, -2 when a
 * cell of it or of a relation that gave one of its cells away was hidden in
 * this round (the next round tells whether that mended it).  The cell: its
 * smallest shown child with answers; else the nearest relation, following
 * the derivations of r's cells back (breadth first), that has one (hiding
 * there blocks the derivation); only when none has, the first shown parent
 * met.  (Hiding a parent first would leave the derivation in place and hide
 * more in the end: for a small service-month, its sibling's month and the
 * next months, the 2 x 2 block the hypercube method would hide.)
 */
/*
 * The relations other than q in which hiding cell c would leave c the only
 * unknown: each would give it away at once, and need one more cell hidden.
 */
static int
Fresh(const SuppressTable *t, int c, int q)
{
	int			k,
				f = 0;

	for (k = t->member_start[c]; k < t->member_start[c + 1]; k++)
		if (t->member_rel[k] != q && t->nunknown[t->member_rel[k]] == 0)
			f++;
	return f;
}

static int
FindCandidate(SuppressTable *t, int r, int round)
{
	int		   *order = t->order;
	bool	   *seen = t->seen;
	int			head = 0,
				tail = 0,
				i,
				best_fresh = 0,
				result = -1;

	order[tail++] = r;
	seen[r] = true;
	while (head < tail && result < 0)
	{
		int			q = order[head++];
		int			k;

		CHECK_FOR_INTERRUPTS();

		for (k = t->child_start[q] - 1; k < t->child_start[q + 1]; k++)
		{
			int			c = k < t->child_start[q] ? t->rel_parent[q] : t->child[k];

			/* a cell of the chain hidden in this round may have mended it */
			if (t->hidden_in[c] == round)
			{
				result = -2;
				break;
			}
			if (k < t->child_start[q])
				continue;
			if (t->published[c] && !t->hidden[c] && t->n[c] > 0)
			{
				int			f = Fresh(t, c, q);

				if (result < 0 || f < best_fresh ||
					(f == best_fresh && (t->n[c] < t->n[result] || (t->n[c] == t->n[result] && c < result))))
				{
					result = c;
					best_fresh = f;
				}
			}
		}
		if (result != -1)
			break;
		/* the relations that derived q's cells */
		for (k = t->child_start[q] - 1; k < t->child_start[q + 1]; k++)
		{
			int			c = k < t->child_start[q] ? t->rel_parent[q] : t->child[k];
			int			d = t->derived_by[c];

			if (d >= 0 && !seen[d])
			{
				seen[d] = true;
				order[tail++] = d;
			}
		}
	}
	for (i = 0; result == -1 && i < tail; i++)
	{
		int			p = t->rel_parent[order[i]];

		if (t->published[p] && !t->hidden[p] && t->n[p] > 0)
			result = p;
	}
	for (i = 0; i < tail; i++)
		seen[order[i]] = false;
	return result;
}

static int *
IntArrayArg(ArrayType *a, const char *name, int *len)
{
	if (ARR_ELEMTYPE(a) != INT4OID || ARR_NDIM(a) > 1 || ARR_HASNULL(a))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional integer array without nulls", name)));
	*len = ARR_NDIM(a) == 0 ? 0 : ARR_DIMS(a)[0];
	return (int *) CfArrayData(a);
}

/*
 * Steps 1 to 3 on a table given as cells (n, published, and the cells
 * hidden from the start or NULL) and relations (parent0[r], and children
 * child[child_start[r] .. child_start[r + 1] - 1], numbered from 0).
 * Returns, per cell, whether it is hidden beyond the small ones.
 */
static bool *
SuppressSolve(int ncells, const int64 *n, const bool *published, const bool *start,
			  int nrels, const int *parent0, int *child_start, int *child, int64 floor)
{
	SuppressTable t;
	int			nchild = child_start[nrels];
	int			round,
				c,
				r,
				k;
	bool	   *result;

	t.ncells = ncells;
	t.nrels = nrels;
	t.n = n;
	t.published = published;
	t.floor = floor;
	t.rel_parent = parent0;
	t.child_start = child_start;
	t.child = child;

	/*
	 * What the method assumes of its input: counts, and relations whose
	 * parent is not among its children and whose children are distinct.
	 */
	for (c = 0; c < ncells; c++)
		if (n[c] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("n[%d] is %ld: answer counts cannot be negative", c + 1, (long) n[c])));
	{
		int		   *mark = palloc(sizeof(int) * Max(ncells, 1));

		for (c = 0; c < ncells; c++)
			mark[c] = -1;
		for (r = 0; r < nrels; r++)
		{
			mark[parent0[r]] = r;
			for (k = child_start[r]; k < child_start[r + 1]; k++)
			{
				if (mark[child[k]] == r)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("cell %d appears twice in relation %d", child[k] + 1, r + 1),
							 errdetail("A relation's children are distinct and its parent is not one of them.")));
				mark[child[k]] = r;
			}
		}
		pfree(mark);
	}

	/* each cell's relations (a cell is a child of a relation once at most) */
	t.member_start = palloc0(sizeof(int) * (ncells + 1));
	t.member_rel = palloc(sizeof(int) * Max(nrels + nchild, 1));
	for (r = 0; r < nrels; r++)
		t.member_start[parent0[r] + 1]++;
	for (k = 0; k < nchild; k++)
		t.member_start[child[k] + 1]++;
	for (c = 0; c < ncells; c++)
		t.member_start[c + 1] += t.member_start[c];
	{
		int		   *fill = palloc(sizeof(int) * Max(ncells, 1));

		memcpy(fill, t.member_start, sizeof(int) * ncells);
		for (r = 0; r < nrels; r++)
		{
			t.member_rel[fill[parent0[r]]++] = r;
			for (k = child_start[r]; k < child_start[r + 1]; k++)
				t.member_rel[fill[child[k]]++] = r;
		}
		pfree(fill);
	}
	t.nunknown = palloc(sizeof(int) * Max(nrels, 1));
	t.unknown_n = palloc(sizeof(int64) * Max(nrels, 1));
	/* a relation enters the list when its count drops to 1: once per cell of it */
	t.queue = palloc(sizeof(int) * Max(2 * nrels + nchild, 1));

	t.hidden = palloc(sizeof(bool) * Max(ncells, 1));
	t.unknown = palloc(sizeof(bool) * Max(ncells, 1));
	t.derived_by = palloc(sizeof(int) * Max(ncells, 1));
	for (c = 0; c < ncells; c++)
		t.hidden[c] = published[c] && (Sensitive(&t, c) || (start != NULL && start[c]));

	/*
	 * Rounds: every violated relation gets a cell hidden, unless another of
	 * its cells was hidden in the same round (which may already mend it; the
	 * next round tells).  Hiding one cell per round would give the same
	 * cells at many times the cost.
	 */
	t.order = palloc(sizeof(int) * Max(nrels, 1));
	t.seen = palloc0(sizeof(bool) * Max(nrels, 1));
	t.violated = palloc(sizeof(int) * Max(2 * nrels, 1));
	t.hidden_in = palloc0(sizeof(int) * Max(ncells, 1));
	for (round = 1;; round++)
	{
		int			i,
					hidden_now = 0;

		CHECK_FOR_INTERRUPTS();
		DeriveAll(&t);
		if (t.nviolated == 0)
			break;
		for (i = 0; i < t.nviolated; i++)
		{
			int			v = t.violated[i];
			int			hide;

			CHECK_FOR_INTERRUPTS();
			hide = FindCandidate(&t, v, round);
			if (hide < 0)
				continue;
			t.hidden[hide] = true;
			t.hidden_in[hide] = round;
			hidden_now++;
		}
		if (hidden_now == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("complementary suppression found no cell to hide for relation %d", t.violated[0] + 1),
					 errhint("Every cell of the relation is hidden or unpublished, yet one is given away: the relations are inconsistent.")));
	}

	result = palloc(sizeof(bool) * Max(ncells, 1));
	for (c = 0; c < ncells; c++)
		result[c] = t.hidden[c] && !Sensitive(&t, c);
	return result;
}

static const bool *
StartArg(ArrayType *a, int ncells)
{
	if (ARR_ELEMTYPE(a) != BOOLOID || ARR_NDIM(a) > 1 || ARR_HASNULL(a) ||
		(ARR_NDIM(a) == 0 ? 0 : ARR_DIMS(a)[0]) != ncells)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hidden must be a boolean array without nulls, one element per cell")));
	return (const bool *) CfArrayData(a);
}

static Datum
BoolArrayDatum(const bool *v, int len)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(len, 1));
	int			i;

	for (i = 0; i < len; i++)
		d[i] = BoolGetDatum(v[i]);
	return PointerGetDatum(construct_array(d, len, BOOLOID, 1, true, TYPALIGN_CHAR));
}

static void
CellArrays(ArrayType *n_arr, ArrayType *pub_arr, int *ncells)
{
	int			npub;

	if (ARR_ELEMTYPE(n_arr) != INT8OID || ARR_NDIM(n_arr) > 1 || ARR_HASNULL(n_arr) ||
		ARR_ELEMTYPE(pub_arr) != BOOLOID || ARR_NDIM(pub_arr) > 1 || ARR_HASNULL(pub_arr))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n must be a bigint array and published a boolean array, one-dimensional, without nulls")));
	*ncells = ARR_NDIM(n_arr) == 0 ? 0 : ARR_DIMS(n_arr)[0];
	npub = ARR_NDIM(pub_arr) == 0 ? 0 : ARR_DIMS(pub_arr)[0];
	if (npub != *ncells)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("n and published must have the same lengths"),
				 errdetail("n has %d elements, published %d.", *ncells, npub)));
}

/*
 * complementary_suppression(n bigint[], published boolean[], rel_parent
 * integer[], child_rel integer[], child_cell integer[], floor integer
 * [, hidden boolean[]]) returns boolean[]: for each cell, true when it must
 * be hidden although it has floor answers or more (the complementary
 * cells).  hidden: cells hidden from the start, e.g. a pattern computed
 * before, which the result then keeps and completes (equal to it when it
 * still protects every small group).
 * Cells and relations are numbered from 1; child_rel must be in ascending
 * order (the children of relation 1 first).
 */
PG_FUNCTION_INFO_V1(complementary_suppression);
Datum
complementary_suppression(PG_FUNCTION_ARGS)
{
	ArrayType  *n_arr;
	ArrayType  *pub_arr;
	const bool *start = NULL;
	int			nrels,
				nchild,
				nchild2,
				ncells,
				r,
				k;
	int		   *rel_parent;
	int		   *child_rel;
	int		   *child_cell;
	int		   *parent0;
	int		   *child_start;
	int		   *child;
	int32		floor;

	/* strict in its first six arguments; the seventh may be NULL (none) */
	for (k = 0; k < 6; k++)
		if (PG_ARGISNULL(k))
			PG_RETURN_NULL();
	n_arr = PG_GETARG_ARRAYTYPE_P(0);
	pub_arr = PG_GETARG_ARRAYTYPE_P(1);
	CellArrays(n_arr, pub_arr, &ncells);
	rel_parent = IntArrayArg(PG_GETARG_ARRAYTYPE_P(2), "rel_parent", &nrels);
	child_rel = IntArrayArg(PG_GETARG_ARRAYTYPE_P(3), "child_rel", &nchild);
	child_cell = IntArrayArg(PG_GETARG_ARRAYTYPE_P(4), "child_cell", &nchild2);
	floor = PG_GETARG_INT32(5);
	if (PG_NARGS() > 6 && !PG_ARGISNULL(6))
		start = StartArg(PG_GETARG_ARRAYTYPE_P(6), ncells);
	if (nchild != nchild2)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("child_rel and child_cell must have the same lengths"),
				 errdetail("child_rel has %d elements, child_cell %d.", nchild, nchild2)));

	parent0 = palloc(sizeof(int) * Max(nrels, 1));
	child_start = palloc(sizeof(int) * (nrels + 1));
	child = palloc(sizeof(int) * Max(nchild, 1));
	for (r = 0; r < nrels; r++)
	{
		if (rel_parent[r] < 1 || rel_parent[r] > ncells)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("rel_parent[%d] is %d, not a cell (1 to %d)", r + 1, rel_parent[r], ncells)));
		parent0[r] = rel_parent[r] - 1;
	}
	/* children grouped by relation, in the ascending order asked for */
	r = 0;
	child_start[0] = 0;
	for (k = 0; k < nchild; k++)
	{
		if (child_rel[k] < 1 || child_rel[k] > nrels || child_rel[k] < r + 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("child_rel[%d] is %d: relations must be 1 to %d, in ascending order",
							k + 1, child_rel[k], nrels)));
		if (child_cell[k] < 1 || child_cell[k] > ncells)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("child_cell[%d] is %d, not a cell (1 to %d)", k + 1, child_cell[k], ncells)));
		while (r + 1 < child_rel[k])
			child_start[++r] = k;
		child[k] = child_cell[k] - 1;
	}
	while (r < nrels)
		child_start[++r] = nchild;

	PG_RETURN_DATUM(BoolArrayDatum(SuppressSolve(ncells, (const int64 *) CfArrayData(n_arr),
												 (const bool *) CfArrayData(pub_arr), start,
												 nrels, parent0, child_start, child, floor),
								   ncells));
}

/* a relation of the grid, before it is numbered: parent, kind, child */
typedef struct GridLink
{
	int			parent;
	int			kind;
	int			child;
} GridLink;

static int
GridLinkCmp(const void *a, const void *b)
{
	const GridLink *x = a,
			   *y = b;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->child != y->child)
		return x->child < y->child ? -1 : 1;
	return 0;
}

#define GRID_SLOTS 17			/* months 0..11, quarters 12..15, the year 16 */

/* the cells of a grid of entities x units x slots, refused past an allocation */
static Size
GridSize(int nents, int nunits, Size elem_size)
{
	Size		grid = (Size) nents * nunits * GRID_SLOTS;

	if (grid > MaxAllocSize / elem_size)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%d entities in %d units are too many for one table", nents, nunits)));
	return grid;
}

/* each unit's parent: another unit, or 0 */
static void
CheckUnitParents(const int *unit_parent, int nunits)
{
	int			k;

	for (k = 0; k < nunits; k++)
		if (unit_parent[k] < 0 || unit_parent[k] > nunits || unit_parent[k] == k + 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unit_parent[%d] is %d, not another unit (1 to %d) or 0", k + 1, unit_parent[k], nunits)));
}

/*
 * The relations of a year's table laid out from where each cell is (see
 * complementary_suppression_grid), then solved: per cell, whether it is
 * hidden beyond the small ones.
 */
static bool *
GridSolve(int ncells, const int *ent, const int *unit, const int *slot, const int64 *n,
		  const bool *published, const bool *start, int nunits, const int *unit_parent,
		  int nep, const int *ent_parent, const int *ent_child, int64 floor)
{
	int			nents = 0,
				nlinks = 0,
				maxlinks,
				nrels,
				i,
				k;
	int		   *index;
	Size		grid;
	GridLink   *links;
	int		   *parent0,
			   *child_start,
			   *child;

	for (i = 0; i < ncells; i++)
		nents = Max(nents, ent[i]);

	/* where each cell is: entity x unit x slot -> cell + 1 (0: none) */
	grid = GridSize(nents, nunits, sizeof(int));
	index = palloc0(sizeof(int) * Max(grid, 1));
#define GRID_AT(e, u, s) index[(((Size) (e) - 1) * nunits + ((u) - 1)) * GRID_SLOTS + (s)]
	for (i = 0; i < ncells; i++)
	{
		if (GRID_AT(ent[i], unit[i], slot[i]) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cells %d and %d are both entity %d, unit %d, slot %d",
							GRID_AT(ent[i], unit[i], slot[i]), i + 1, ent[i], unit[i], slot[i])));
		GRID_AT(ent[i], unit[i], slot[i]) = i + 1;
	}

	/* every (parent, kind, child), then sorted into relations */
	maxlinks = 2 * ncells + nep * nunits * GRID_SLOTS;
	links = palloc(sizeof(GridLink) * Max(maxlinks, 1));
	for (i = 0; i < ncells; i++)
	{
		int			pu = unit_parent[unit[i] - 1];
		int			ps = slot[i] < 12 ? 12 + slot[i] / 3 : (slot[i] < 16 ? 16 : -1);
		int			p;

		if (pu > 0 && (p = GRID_AT(ent[i], pu, slot[i])) != 0)
			links[nlinks++] = (GridLink) {p - 1, 0, i};
		if (ps >= 0 && (p = GRID_AT(ent[i], unit[i], ps)) != 0)
			links[nlinks++] = (GridLink) {p - 1, 1, i};
	}
	for (k = 0; k < nep; k++)
	{
		int			u,
					sl;

		if (ent_parent[k] > nents || ent_child[k] > nents)
			continue;			/* an entity without cells this year */
		for (u = 1; u <= nunits; u++)
			for (sl = 0; sl < GRID_SLOTS; sl++)
			{
				int			p = GRID_AT(ent_parent[k], u, sl);
				int			c = GRID_AT(ent_child[k], u, sl);

				if (p != 0 && c != 0)
					links[nlinks++] = (GridLink) {p - 1, 2, c - 1};
			}
	}
#undef GRID_AT
	pfree(index);
	qsort(links, nlinks, sizeof(GridLink), GridLinkCmp);

	parent0 = palloc(sizeof(int) * Max(nlinks, 1));
	child_start = palloc(sizeof(int) * (nlinks + 1));
	child = palloc(sizeof(int) * Max(nlinks, 1));
	nrels = 0;
	for (k = 0; k < nlinks; k++)
	{
		if (k == 0 || links[k].parent != links[k - 1].parent || links[k].kind != links[k - 1].kind)
		{
			parent0[nrels] = links[k].parent;
			child_start[nrels] = k;
			nrels++;
		}
		child[k] = links[k].child;
	}
	child_start[nrels] = nlinks;

	return SuppressSolve(ncells, n, published, start, nrels, parent0, child_start, child, floor);
}

/*
 * complementary_suppression_grid(entity integer[], unit integer[], slot
 * integer[], n bigint[], published boolean[], unit_parent integer[],
 * entity_parent integer[], entity_child integer[], floor integer
 * [, hidden boolean[]]) returns boolean[]: the same, for the reporting
 * layer's table of one year, whose relations follow from where each cell
 * is: cell i is entity[i] (1..E) in unit[i] (1..U) at slot[i] (0..11 the
 * months, 12..15 the quarters, 16 the year).  Relations: in each entity and
 * slot, a unit's cell is the sum of the cells of the units whose
 * unit_parent is it (0: none); in each entity and unit, a quarter's is the
 * sum of its months', the year's of its quarters'; in each unit and slot,
 * entity_parent[k]'s cell is the sum of the cells of every entity_child[k]
 * paired with it.  Laying the relations out here instead of in SQL takes a
 * year of the benchmark agency with its measures from 250 ms to a few.
 */
PG_FUNCTION_INFO_V1(complementary_suppression_grid);
Datum
complementary_suppression_grid(PG_FUNCTION_ARGS)
{
	int			ncells,
				n_ent,
				n_unit,
				n_slot,
				nunits,
				nep,
				nec,
				i,
				k;
	int		   *ent,
			   *unit,
			   *slot,
			   *unit_parent,
			   *ent_parent,
			   *ent_child;
	ArrayType  *n_arr,
			   *pub_arr;
	const bool *start = NULL;
	int32		floor;

	for (k = 0; k < 9; k++)
		if (PG_ARGISNULL(k))
			PG_RETURN_NULL();
	ent = IntArrayArg(PG_GETARG_ARRAYTYPE_P(0), "entity", &n_ent);
	unit = IntArrayArg(PG_GETARG_ARRAYTYPE_P(1), "unit", &n_unit);
	slot = IntArrayArg(PG_GETARG_ARRAYTYPE_P(2), "slot", &n_slot);
	n_arr = PG_GETARG_ARRAYTYPE_P(3);
	pub_arr = PG_GETARG_ARRAYTYPE_P(4);
	CellArrays(n_arr, pub_arr, &ncells);
	unit_parent = IntArrayArg(PG_GETARG_ARRAYTYPE_P(5), "unit_parent", &nunits);
	ent_parent = IntArrayArg(PG_GETARG_ARRAYTYPE_P(6), "entity_parent", &nep);
	ent_child = IntArrayArg(PG_GETARG_ARRAYTYPE_P(7), "entity_child", &nec);
	floor = PG_GETARG_INT32(8);
	if (PG_NARGS() > 9 && !PG_ARGISNULL(9))
		start = StartArg(PG_GETARG_ARRAYTYPE_P(9), ncells);
	if (n_ent != ncells || n_unit != ncells || n_slot != ncells || nep != nec)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("entity, unit, slot, n and published must have one element per cell, entity_parent and entity_child the same length")));
	for (i = 0; i < ncells; i++)
	{
		if (ent[i] < 1 || unit[i] < 1 || unit[i] > nunits || slot[i] < 0 || slot[i] >= GRID_SLOTS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cell %d is entity %d, unit %d, slot %d: entities are 1 or more, units 1 to %d, slots 0 to %d",
							i + 1, ent[i], unit[i], slot[i], nunits, GRID_SLOTS - 1)));
	}
	CheckUnitParents(unit_parent, nunits);
	for (k = 0; k < nep; k++)
		if (ent_parent[k] < 1 || ent_child[k] < 1 || ent_parent[k] == ent_child[k])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("entity_parent[%d] and entity_child[%d] are %d and %d: two entities, 1 or more",
							k + 1, k + 1, ent_parent[k], ent_child[k])));

	PG_RETURN_DATUM(BoolArrayDatum(GridSolve(ncells, ent, unit, slot, (const int64 *) CfArrayData(n_arr),
											 (const bool *) CfArrayData(pub_arr), start, nunits, unit_parent,
											 nep, ent_parent, ent_child, floor),
								   ncells));
}

/*
 * A two-dimensional argument of rows of ncols integers (int4 or int8), or
 * an empty array (no rows).
 */
static const void *
RowsArg(ArrayType *a, Oid elemtype, int ncols, const char *name, int *nrows)
{
	if (ARR_ELEMTYPE(a) != elemtype || ARR_HASNULL(a) ||
		!(ARR_NDIM(a) == 0 || (ARR_NDIM(a) == 2 && ARR_DIMS(a)[1] == ncols)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be an array of rows of %d %s without nulls",
						name, ncols, elemtype == INT8OID ? "bigints" : "integers")));
	*nrows = ARR_NDIM(a) == 0 ? 0 : ARR_DIMS(a)[0];
	return CfArrayData(a);
}

/* pairs of integers, in order of the first then the second */
static int
IntPairCmp(const void *a, const void *b)
{
	const int  *x = a,
			   *y = b;

	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : (x[1] > y[1] ? 1 : 0);
}

/* entity kinds: how a cell's count is made */
#define HG_GIVEN	0			/* given: unit cells and service-month cells */
#define HG_SUM		1			/* the sum of its members' cells */
#define HG_REST		2			/* its base's cell less its members' */

/*
 * rollup_hidden_grid(entities integer[][3], members integer[][2],
 * unit_parent integer[], service_units integer[][2], unit_cells
 * bigint[][4], service_cells bigint[][4], shown integer[][3], relations
 * integer[][2], floor integer, stored integer[][3]) returns setof (entity,
 * unit, slot): the complementary cells of the reporting layer's table of
 * one year, built here from the roll-ups' rows rather than in SQL (which
 * spent some 60 ms a year of the benchmark agency on the joins, sums and
 * numbering of its 12,000 cells; here a few).
 *
 *	entities: per entity 1..E, (kind, base, published): kind HG_GIVEN,
 *		HG_SUM (a requirement: the sum of its members, given items) or
 *		HG_REST (the rest of a score: its base entity's cell less its
 *		members'), present where its base is; published 0 never, 1 always,
 *		2 where `shown` lists its unit and grain.
 *	members: (entity, given entity it is made of).
 *	unit_parent: per unit 1..U, the unit above (0: none).
 *	service_units: (service, unit): the units a service counts for.
 *	unit_cells: (entity, unit, slot, n), summed into cells.
 *	service_cells: (entity, service, month 0..11, n), summed into the
 *		service's units' month, quarter and year.
 *	shown: (entity, unit, grain 0 month, 1 quarter, 2 year).
 *	relations: (entity, entity), as complementary_suppression_grid's.
 *	stored: (entity, unit, slot) hidden from the start, or NULL.
 *
 * Cells are numbered by entity, unit and slot, as the SQL that built them
 * before did, so that the method breaks its ties as it did.  Several years
 * go in as one table of disjoint blocks (each year its own units and
 * service keys): no relation joins two blocks, and each block's cells and
 * relations keep their order, so each year gets the cells it gets alone.
 */
PG_FUNCTION_INFO_V1(rollup_hidden_grid);
Datum
rollup_hidden_grid(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			nents,
				nmembers,
				nunits,
				nmap,
				nucells,
				nscells,
				nshown,
				nrels,
				nstored = 0,
				floor,
				ncells = 0,
				i,
				k,
				e,
				u,
				sl;
	const int  *entities,
			   *members,
			   *unit_parent,
			   *shown,
			   *relations,
			   *stored = NULL;
	const int64 *ucells,
			   *scells;
	int		   *map,
			   *ent_parent,
			   *ent_child,
			   *cell_ent,
			   *cell_unit,
			   *cell_slot;
	int64	   *gn,
			   *cell_n;
	bool	   *present,
			   *pub,
			   *start_at,
			   *cell_pub,
			   *cell_start = NULL,
			   *hidden;
	Size		grid;

#define HG_AT(e, u, s) ((((Size) (e) - 1) * nunits + ((u) - 1)) * GRID_SLOTS + (s))

	for (k = 0; k < 9; k++)
		if (PG_ARGISNULL(k))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("only the stored cells may be null")));
	entities = RowsArg(PG_GETARG_ARRAYTYPE_P(0), INT4OID, 3, "entities", &nents);
	members = RowsArg(PG_GETARG_ARRAYTYPE_P(1), INT4OID, 2, "members", &nmembers);
	unit_parent = IntArrayArg(PG_GETARG_ARRAYTYPE_P(2), "unit_parent", &nunits);
	{
		const int  *m = RowsArg(PG_GETARG_ARRAYTYPE_P(3), INT4OID, 2, "service_units", &nmap);

		/* sorted by service here: a copy, not the argument */
		map = palloc(sizeof(int) * Max(2 * nmap, 1));
		memcpy(map, m, sizeof(int) * 2 * nmap);
	}
	ucells = RowsArg(PG_GETARG_ARRAYTYPE_P(4), INT8OID, 4, "unit_cells", &nucells);
	scells = RowsArg(PG_GETARG_ARRAYTYPE_P(5), INT8OID, 4, "service_cells", &nscells);
	shown = RowsArg(PG_GETARG_ARRAYTYPE_P(6), INT4OID, 3, "shown", &nshown);
	relations = RowsArg(PG_GETARG_ARRAYTYPE_P(7), INT4OID, 2, "relations", &nrels);
	floor = PG_GETARG_INT32(8);
	if (PG_NARGS() > 9 && !PG_ARGISNULL(9))
		stored = RowsArg(PG_GETARG_ARRAYTYPE_P(9), INT4OID, 3, "stored", &nstored);

	for (e = 0; e < nents; e++)
	{
		int			kind = entities[3 * e],
					base = entities[3 * e + 1],
					published = entities[3 * e + 2];

		if (kind < HG_GIVEN || kind > HG_REST || published < 0 || published > 2 ||
			(kind == HG_REST) != (base != 0) ||
			(base != 0 && (base < 1 || base > nents || entities[3 * (base - 1)] != HG_GIVEN)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("entity %d is (%d, %d, %d): not a kind 0 to 2, a base that is a given entity for kind 2 only, and published 0 to 2",
							e + 1, kind, base, published)));
	}
	for (k = 0; k < nmembers; k++)
	{
		int			p = members[2 * k],
					c = members[2 * k + 1];

		if (p < 1 || p > nents || c < 1 || c > nents || entities[3 * (p - 1)] == HG_GIVEN ||
			entities[3 * (c - 1)] != HG_GIVEN)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("member %d is (%d, %d): not an entity of kind 1 or 2 and a given entity", k + 1, p, c)));
	}
	{
		/* each once: a member given twice would count its cells twice */
		int		   *pairs = palloc(sizeof(int) * Max(2 * nmembers, 1));

		memcpy(pairs, members, sizeof(int) * 2 * nmembers);
		qsort(pairs, nmembers, 2 * sizeof(int), IntPairCmp);
		for (k = 1; k < nmembers; k++)
			if (pairs[2 * k] == pairs[2 * k - 2] && pairs[2 * k + 1] == pairs[2 * k - 1])
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("member (%d, %d) is given twice", pairs[2 * k], pairs[2 * k + 1])));
		pfree(pairs);
	}
	CheckUnitParents(unit_parent, nunits);
	for (k = 0; k < nrels; k++)
		if (relations[2 * k] < 1 || relations[2 * k] > nents || relations[2 * k + 1] < 1 ||
			relations[2 * k + 1] > nents || relations[2 * k] == relations[2 * k + 1])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("relation %d is (%d, %d): not two entities", k + 1, relations[2 * k], relations[2 * k + 1])));

	grid = GridSize(nents, nunits, sizeof(int64));
	gn = palloc0(sizeof(int64) * Max(grid, 1));
	present = palloc0(sizeof(bool) * Max(grid, 1));

	/* the given cells: of units, then of services' months */
	for (k = 0; k < nucells; k++)
	{
		const int64 *r = ucells + 4 * k;

		if (r[0] < 1 || r[0] > nents || r[1] < 1 || r[1] > nunits || r[2] < 0 || r[2] >= GRID_SLOTS ||
			entities[3 * (r[0] - 1)] != HG_GIVEN)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unit cell %d is entity %ld, unit %ld, slot %ld: not a given entity, a unit 1 to %d and a slot 0 to %d",
							k + 1, (long) r[0], (long) r[1], (long) r[2], nunits, GRID_SLOTS - 1)));
		gn[HG_AT(r[0], r[1], r[2])] += r[3];
		present[HG_AT(r[0], r[1], r[2])] = true;
	}
	qsort(map, nmap, 2 * sizeof(int), IntPairCmp);
	for (k = 0; k < nmap; k++)
		if (map[2 * k + 1] < 1 || map[2 * k + 1] > nunits)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("service %d counts for unit %d: units are 1 to %d", map[2 * k], map[2 * k + 1], nunits)));
	for (k = 0; k < nscells; k++)
	{
		const int64 *r = scells + 4 * k;
		int			lo = 0,
					hi = nmap;

		if (r[0] < 1 || r[0] > nents || r[2] < 0 || r[2] > 11 || entities[3 * (r[0] - 1)] != HG_GIVEN)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("service cell %d is entity %ld, month %ld: not a given entity and a month 0 to 11",
							k + 1, (long) r[0], (long) r[2])));
		/* the service's first unit (none: a service no unit counts) */
		while (lo < hi)
		{
			int			mid = (lo + hi) / 2;

			if ((int64) map[2 * mid] < r[1])
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < nmap && (int64) map[2 * lo] == r[1]; lo++)
		{
			int			un = map[2 * lo + 1];
			int			m = (int) r[2];

			gn[HG_AT(r[0], un, m)] += r[3];
			present[HG_AT(r[0], un, m)] = true;
			gn[HG_AT(r[0], un, 12 + m / 3)] += r[3];
			present[HG_AT(r[0], un, 12 + m / 3)] = true;
			gn[HG_AT(r[0], un, 16)] += r[3];
			present[HG_AT(r[0], un, 16)] = true;
		}
	}

	/*
	 * The made cells: a sum where any member has a cell, a rest where its
	 * base has one (its members' cells subtracted).
	 */
	for (e = 1; e <= nents; e++)
		if (entities[3 * (e - 1)] == HG_REST)
		{
			int			base = entities[3 * (e - 1) + 1];

			for (i = 0; i < nunits * GRID_SLOTS; i++)
			{
				present[HG_AT(e, 1, 0) + i] = present[HG_AT(base, 1, 0) + i];
				gn[HG_AT(e, 1, 0) + i] = gn[HG_AT(base, 1, 0) + i];
			}
		}
	for (k = 0; k < nmembers; k++)
	{
		Size		p = HG_AT(members[2 * k], 1, 0),
					c = HG_AT(members[2 * k + 1], 1, 0);
		bool		rest = entities[3 * (members[2 * k] - 1)] == HG_REST;

		for (i = 0; i < nunits * GRID_SLOTS; i++)
		{
			if (!present[c + i])
				continue;
			if (rest)
			{
				if (present[p + i])
					gn[p + i] -= gn[c + i];
			}
			else
			{
				present[p + i] = true;
				gn[p + i] += gn[c + i];
			}
		}
	}

	/* published: always, never, or where shown */
	pub = palloc0(sizeof(bool) * Max(grid, 1));
	for (e = 1; e <= nents; e++)
		if (entities[3 * (e - 1) + 2] == 1)
			memset(pub + HG_AT(e, 1, 0), true, sizeof(bool) * nunits * GRID_SLOTS);
	for (k = 0; k < nshown; k++)
	{
		const int  *r = shown + 3 * k;

		if (r[0] < 1 || r[0] > nents || r[1] < 1 || r[1] > nunits || r[2] < 0 || r[2] > 2)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("shown %d is entity %d, unit %d, grain %d: not an entity, a unit 1 to %d and a grain 0 to 2",
							k + 1, r[0], r[1], r[2], nunits)));
		if (entities[3 * (r[0] - 1) + 2] != 2)
			continue;
		if (r[2] == 0)
			memset(pub + HG_AT(r[0], r[1], 0), true, sizeof(bool) * 12);
		else if (r[2] == 1)
			memset(pub + HG_AT(r[0], r[1], 12), true, sizeof(bool) * 4);
		else
			pub[HG_AT(r[0], r[1], 16)] = true;
	}
	start_at = palloc0(sizeof(bool) * Max(grid, 1));
	for (k = 0; k < nstored; k++)
	{
		const int  *r = stored + 3 * k;

		if (r[0] < 1 || r[0] > nents || r[1] < 1 || r[1] > nunits || r[2] < 0 || r[2] >= GRID_SLOTS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("stored cell %d is entity %d, unit %d, slot %d: not an entity, a unit 1 to %d and a slot 0 to %d",
							k + 1, r[0], r[1], r[2], nunits, GRID_SLOTS - 1)));
		start_at[HG_AT(r[0], r[1], r[2])] = true;
	}

	/* the cells, in order of entity, unit and slot */
	for (i = 0; i < (int) grid; i++)
		ncells += present[i];
	cell_ent = palloc(sizeof(int) * Max(ncells, 1));
	cell_unit = palloc(sizeof(int) * Max(ncells, 1));
	cell_slot = palloc(sizeof(int) * Max(ncells, 1));
	cell_n = palloc(sizeof(int64) * Max(ncells, 1));
	cell_pub = palloc(sizeof(bool) * Max(ncells, 1));
	if (stored != NULL)
		cell_start = palloc(sizeof(bool) * Max(ncells, 1));
	k = 0;
	for (e = 1; e <= nents; e++)
		for (u = 1; u <= nunits; u++)
			for (sl = 0; sl < GRID_SLOTS; sl++)
			{
				Size		at = HG_AT(e, u, sl);

				if (!present[at])
					continue;
				cell_ent[k] = e;
				cell_unit[k] = u;
				cell_slot[k] = sl;
				cell_n[k] = gn[at];
				cell_pub[k] = pub[at];
				if (cell_start != NULL)
					cell_start[k] = start_at[at];
				k++;
			}
#undef HG_AT
	pfree(gn);
	pfree(present);
	pfree(pub);
	pfree(start_at);

	ent_parent = palloc(sizeof(int) * Max(nrels, 1));
	ent_child = palloc(sizeof(int) * Max(nrels, 1));
	for (k = 0; k < nrels; k++)
	{
		ent_parent[k] = relations[2 * k];
		ent_child[k] = relations[2 * k + 1];
	}
	hidden = GridSolve(ncells, cell_ent, cell_unit, cell_slot, cell_n, cell_pub, cell_start, nunits,
					   unit_parent, nrels, ent_parent, ent_child, floor);

	InitMaterializedSRF(fcinfo, 0);
	for (k = 0; k < ncells; k++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		if (!hidden[k] || !cell_pub[k])
			continue;
		values[0] = Int32GetDatum(cell_ent[k]);
		values[1] = Int32GetDatum(cell_unit[k]);
		values[2] = Int32GetDatum(cell_slot[k]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

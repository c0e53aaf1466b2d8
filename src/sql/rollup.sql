-------------------------------------------------------------------------------
-- Roll-ups: aggregate states per service and month, kept current in the
-- same transaction as every change, so that the scorecard and the trend read
-- a few thousand small rows instead of every answer ever collected
-------------------------------------------------------------------------------

-- The design, after TimescaleDB's continuous aggregates and Citus' rollup
-- tables:
--
--   * rollup_service_month holds, per service and month of the reporting
--     time zone, the number of responses and the transition states of the
--     scores (top_box_state, nps_state, linear_mean_state: the same states
--     the aggregates merge, so merging them gives exactly what the aggregates
--     give over the raw answers).
--   * Inserts only append: each statement that inserts responses or answers
--     appends one row of states per service and month it touched (a delta),
--     with no unique key and so no row lock that two imports could wait on
--     in opposite orders: concurrent imports never deadlock here.  Readers
--     merge every row of a key.
--   * Updates and deletes recompute: the keys they touched are recomputed
--     from the raw data, in one statement that deletes the key's rows and
--     inserts the recomputed row under one snapshot, so a concurrent insert
--     whose answers that snapshot does not see keeps its own delta, and one
--     it sees is counted once.  Float states do not invert exactly, which is
--     why deletes recompute rather than subtract.  Recomputes of one key are
--     serialized by a transaction advisory lock on the key.
--     Recomputes run only under READ COMMITTED (rollup_check_isolation):
--     an older snapshot could miss what another session committed.
--   * Compaction merges a key's rows into one (rollup_compact), skipping keys
--     another transaction holds; when a transaction that appended commits,
--     the keys it touched that hold more than 4 rows are compacted
--     (rollup_commit_compact, via rollup_pending).
--   * The roll-ups are derived data: pg_dump does not carry them, and the
--     triggers rebuild them as a restore loads the answers.  rollup_rebuild()
--     recomputes everything (after a restore with the triggers off, see
--     Backups), rollup_verify() lists every key that differs from a
--     recomputation (it should list none).

CREATE FUNCTION custfocus.reporting_time_zone() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT s.reporting_time_zone FROM custfocus.setting s $$;
COMMENT ON FUNCTION custfocus.reporting_time_zone() IS
'The time zone every period and age in the views is counted in (custfocus.setting.reporting_time_zone), the same for every client whatever its session TimeZone';

CREATE TABLE custfocus.rollup_service_month (
	service_id	integer NOT NULL,
	month		date NOT NULL,
	responses	bigint NOT NULL,
	csat		double precision[],
	csat_counts	bigint[],
	nps			double precision[],
	lm			double precision[]
);
CREATE INDEX rollup_service_month_key_idx ON custfocus.rollup_service_month (service_id, month);
COMMENT ON TABLE custfocus.rollup_service_month IS
'Roll-up of responses and answers per service and month of the reporting time zone: aggregate states, possibly several rows per key until compacted (merge them); derived data, kept by triggers, not dumped';
COMMENT ON COLUMN custfocus.rollup_service_month.service_id IS 'Service of the responses';
COMMENT ON COLUMN custfocus.rollup_service_month.month IS 'First day of the month, in the reporting time zone';
COMMENT ON COLUMN custfocus.rollup_service_month.responses IS 'Responses (with or without answers)';
COMMENT ON COLUMN custfocus.rollup_service_month.csat IS 'top_box_state of oriented overall-satisfaction answers of rating and nps items, top two categories, weighted';
COMMENT ON COLUMN custfocus.rollup_service_month.csat_counts IS 'top_box_state of oriented overall-satisfaction answers of any metric, top two categories, unweighted (for p-charts)';
COMMENT ON COLUMN custfocus.rollup_service_month.nps IS 'nps_state of the answers to nps items, weighted';
COMMENT ON COLUMN custfocus.rollup_service_month.lm IS 'linear_mean_state of the oriented answers to rating items, weighted';

-- For each service: itself, and every program above it (the roll-ups), with
-- the codes and names readers filter on.  Rebuilt whole (it is small) after
-- any change to programs or services.
CREATE TABLE custfocus.report_unit (
	service_id	integer NOT NULL,
	level		text NOT NULL,
	program_id	integer NOT NULL,
	unit_service_id integer NOT NULL,
	program_code text NOT NULL,
	program_name text NOT NULL,
	program_level text NOT NULL,
	parent_program_code text,
	service_code text,
	service_name text
);
CREATE INDEX report_unit_service_id_idx ON custfocus.report_unit (service_id);
COMMENT ON TABLE custfocus.report_unit IS
'For each service, the units its answers count for: the service itself and every program above it; derived from program and service, kept by triggers';
COMMENT ON COLUMN custfocus.report_unit.service_id IS 'Service whose answers count';
COMMENT ON COLUMN custfocus.report_unit.level IS 'service, or program for a roll-up';
COMMENT ON COLUMN custfocus.report_unit.program_id IS 'The service''s program, or the program rolled up';
COMMENT ON COLUMN custfocus.report_unit.unit_service_id IS 'The service itself on service rows, 0 on program rows (no service has id 0: service_id_positive)';
COMMENT ON COLUMN custfocus.report_unit.program_code IS 'Code of program_id';
COMMENT ON COLUMN custfocus.report_unit.program_name IS 'Name of program_id';
COMMENT ON COLUMN custfocus.report_unit.program_level IS 'Level of program_id: agency, division or program';
COMMENT ON COLUMN custfocus.report_unit.parent_program_code IS 'Code of the program above program_id';
COMMENT ON COLUMN custfocus.report_unit.service_code IS 'Code of the service on service rows';
COMMENT ON COLUMN custfocus.report_unit.service_name IS 'Name of the service on service rows';

-- The roll-up per unit (a service, or a program with every service under
-- it), grain and period: what the views read, so that a whole scorecard is
-- a read of one row per unit and period rather than a merge of every
-- service-month under it.  Kept from the service-month roll-up: inserts
-- append their service-month deltas merged per unit (rollup_units_delta);
-- recomputed keys recompute their units from the service-month rows;
-- a change to the program tree or the services rebuilds it.
CREATE TABLE custfocus.rollup_unit_period (
	program_id	integer NOT NULL,
	unit_service_id integer NOT NULL,
	grain		text NOT NULL,
	period_start date NOT NULL,
	responses	bigint NOT NULL,
	csat		double precision[],
	csat_counts	bigint[],
	nps			double precision[],
	lm			double precision[]
);
CREATE INDEX rollup_unit_period_key_idx ON custfocus.rollup_unit_period (program_id, unit_service_id, grain, period_start);
CREATE INDEX rollup_unit_period_service_idx ON custfocus.rollup_unit_period (unit_service_id, grain, period_start);
COMMENT ON TABLE custfocus.rollup_unit_period IS
'Roll-up per unit (service, or program with every service under it), grain and period of the reporting time zone: states merged from rollup_service_month, possibly several rows per key until compacted; derived data, kept by triggers, not dumped';
COMMENT ON COLUMN custfocus.rollup_unit_period.program_id IS 'The service''s program, or the program rolled up';
COMMENT ON COLUMN custfocus.rollup_unit_period.unit_service_id IS 'The service, or 0 for a program roll-up';
COMMENT ON COLUMN custfocus.rollup_unit_period.grain IS 'month, quarter or year';
COMMENT ON COLUMN custfocus.rollup_unit_period.period_start IS 'First day of the period, in the reporting time zone';
COMMENT ON COLUMN custfocus.rollup_unit_period.responses IS 'Responses';
COMMENT ON COLUMN custfocus.rollup_unit_period.csat IS 'As rollup_service_month.csat, merged';
COMMENT ON COLUMN custfocus.rollup_unit_period.csat_counts IS 'As rollup_service_month.csat_counts, merged';
COMMENT ON COLUMN custfocus.rollup_unit_period.nps IS 'As rollup_service_month.nps, merged';
COMMENT ON COLUMN custfocus.rollup_unit_period.lm IS 'As rollup_service_month.lm, merged';

-- The item roll-up: per service, month and item, what the key drivers and
-- the performance measures need of its answers, so that any window of
-- months merges a few rows instead of reading the answers again:
--   * counts and sums: answers with a value (n), their weights (sum_w,
--     sum_w2), scores (sum_x, and weighted, sum_wx), and for the boxes a
--     measure may ask for, the answers and weights in the top two (score
--     >= scale maximum - 1) and top one (>= maximum) categories and the
--     bottom two (<= minimum + 1) and one (<= minimum), and the weights of
--     NPS promoters (score >= 9) and detractors (<= 6);
--   * perf, the weighted linear_mean_state (the performance of a key driver,
--     the linear mean of a measure);
--   * pairs, the state corr() keeps (count, sums, centred sums of squares
--     and cross-products, Youngs-Cramer; and whether the scores were all
--     equal, as PostgreSQL 19 keeps it), merged by pairs_sum and finished by
--     pairs_corr, of each answer with the same respondent's answer to the
--     survey's overall item, unweighted; only respondents who
--     answered both count (pairwise deletion: a driver's r uses every
--     respondent who answered it and the overall item, whatever they did
--     with the other items).  Empty for the overall item itself.
-- Scores are oriented (reverse-coded items flipped) on the item's scale.
-- Which requirement an item measures is read when a view reads the roll-up,
-- so a change of it recomputes nothing.  A survey has one overall item at
-- most (item_one_overall_key), so each answer has one partner at most.
-- Kept like rollup_service_month: inserts append deltas, changes recompute
-- keys (service, month), under the same key locks.
CREATE TABLE custfocus.rollup_item_month (
	service_id	integer NOT NULL,
	month		date NOT NULL,
	item_id		integer NOT NULL,
	n			bigint NOT NULL,
	sum_w		double precision NOT NULL,
	sum_w2		double precision NOT NULL,
	sum_x		double precision NOT NULL,
	sum_wx		double precision NOT NULL,
	n_top2		bigint NOT NULL,
	n_top1		bigint NOT NULL,
	n_bottom2	bigint NOT NULL,
	n_bottom1	bigint NOT NULL,
	w_top2		double precision NOT NULL,
	w_top1		double precision NOT NULL,
	w_bottom2	double precision NOT NULL,
	w_bottom1	double precision NOT NULL,
	w_promoters	double precision NOT NULL,
	w_detractors double precision NOT NULL,
	perf		double precision[] NOT NULL,
	pairs		double precision[] NOT NULL
);
CREATE INDEX rollup_item_month_key_idx ON custfocus.rollup_item_month (service_id, month, item_id);
-- the measures read an item's months of a service
CREATE INDEX rollup_item_month_item_idx ON custfocus.rollup_item_month (service_id, item_id, month);
COMMENT ON TABLE custfocus.rollup_item_month IS
'Roll-up of the answers per service, month of the reporting time zone and item: counts, sums and states for key drivers and performance measures, possibly several rows per key until compacted (sum or merge them); derived data, kept by triggers, not dumped';
COMMENT ON COLUMN custfocus.rollup_item_month.service_id IS 'Service of the responses';
COMMENT ON COLUMN custfocus.rollup_item_month.month IS 'First day of the month, in the reporting time zone';
COMMENT ON COLUMN custfocus.rollup_item_month.item_id IS 'The item answered';
COMMENT ON COLUMN custfocus.rollup_item_month.n IS 'Answers with a value';
COMMENT ON COLUMN custfocus.rollup_item_month.sum_w IS 'Sum of their weights';
COMMENT ON COLUMN custfocus.rollup_item_month.sum_w2 IS 'Sum of their squared weights';
COMMENT ON COLUMN custfocus.rollup_item_month.sum_x IS 'Sum of their oriented scores';
COMMENT ON COLUMN custfocus.rollup_item_month.sum_wx IS 'Sum of weight times oriented score';
COMMENT ON COLUMN custfocus.rollup_item_month.n_top2 IS 'Answers with an oriented score >= the scale''s maximum - 1';
COMMENT ON COLUMN custfocus.rollup_item_month.n_top1 IS 'Answers with an oriented score >= the scale''s maximum';
COMMENT ON COLUMN custfocus.rollup_item_month.n_bottom2 IS 'Answers with an oriented score <= the scale''s minimum + 1';
COMMENT ON COLUMN custfocus.rollup_item_month.n_bottom1 IS 'Answers with an oriented score <= the scale''s minimum';
COMMENT ON COLUMN custfocus.rollup_item_month.w_top2 IS 'Their weights (as n_top2)';
COMMENT ON COLUMN custfocus.rollup_item_month.w_top1 IS 'Their weights (as n_top1)';
COMMENT ON COLUMN custfocus.rollup_item_month.w_bottom2 IS 'Their weights (as n_bottom2)';
COMMENT ON COLUMN custfocus.rollup_item_month.w_bottom1 IS 'Their weights (as n_bottom1)';
COMMENT ON COLUMN custfocus.rollup_item_month.w_promoters IS 'Weights of answers with an oriented score >= 9 (NPS promoters)';
COMMENT ON COLUMN custfocus.rollup_item_month.w_detractors IS 'Weights of answers with an oriented score <= 6 (NPS detractors)';
COMMENT ON COLUMN custfocus.rollup_item_month.perf IS 'linear_mean_state of the oriented answers, weighted';
COMMENT ON COLUMN custfocus.rollup_item_month.pairs IS 'State of the correlation of (overall answer, this answer) of the same respondent, oriented, unweighted: n, sum x, centred Sxx, sum y, Syy, Sxy, the x and the y all pairs share (NaN once two differ); merge with pairs_sum, finish with pairs_corr';

-- The pairs roll-up: per service, month and survey, the pairwise state
-- (custfocus.pairwise_state, src/matrix.c) of the respondents' oriented
-- scores, its variables the items they answered (item ids): for each pair
-- of items, the respondents who answered both, their means and
-- co-moments.  So the correlations among the key drivers and with the
-- overall item, Johnson's relative weights and alpha, over any window, are
-- a merge of a few rows (pairwise_sum) instead of a pass over the answers
-- (key_drivers).  Pairwise deletion: each pair counts every respondent who
-- answered both, whatever they did with the other items.  Unweighted, as
-- the correlations are.  Kept like the item roll-up: inserts append
-- deltas (the pairs an answer makes with the response's other answers),
-- other changes recompute keys.  A state's variables are those answered,
-- so an item added to a survey or given a scale changes no row.
CREATE TABLE custfocus.rollup_pairs_month (
	service_id	integer NOT NULL,
	month		date NOT NULL,
	survey_id	integer NOT NULL,
	state		double precision[] NOT NULL
);
CREATE INDEX rollup_pairs_month_key_idx ON custfocus.rollup_pairs_month (service_id, month, survey_id);
-- A state of a survey of a dozen items is some 3 kB: stored out of line
-- without compression (pglz cost an import of every service 90 ms more
-- than the whole insert of the uncompressed rows, to save little)
ALTER TABLE custfocus.rollup_pairs_month ALTER COLUMN state SET STORAGE EXTERNAL;
COMMENT ON TABLE custfocus.rollup_pairs_month IS
'Roll-up of the pairs of answers of each respondent per service, month of the reporting time zone and survey: a pairwise state of the survey''s scaled items, possibly several rows per key until compacted (merge them with pairwise_sum); derived data, kept by triggers, not dumped';
COMMENT ON COLUMN custfocus.rollup_pairs_month.service_id IS 'Service of the responses';
COMMENT ON COLUMN custfocus.rollup_pairs_month.month IS 'First day of the month, in the reporting time zone';
COMMENT ON COLUMN custfocus.rollup_pairs_month.survey_id IS 'Survey of the responses';
COMMENT ON COLUMN custfocus.rollup_pairs_month.state IS 'pairwise_state(item ids, oriented scores) of the respondents: for each pair of items answered, the respondents who answered both, means and co-moments';

-- Whether a statement is the transaction's first to append since it last
-- compacted (src/rollup.c): its rollup_pending row fires the compaction at
-- commit; the others only add their keys, so that commit compacts once, not
-- once per statement (which scanned rollup_pending each time: quadratic).
CREATE FUNCTION custfocus.rollup_pending_signal() RETURNS boolean
AS 'MODULE_PATHNAME', 'rollup_pending_signal'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION custfocus.rollup_pending_signal() IS
'Roll-up triggers only: true for the first statement of the transaction (since it last compacted) that appends to the roll-ups';
CREATE FUNCTION custfocus.rollup_pending_consumed() RETURNS void
AS 'MODULE_PATHNAME', 'rollup_pending_consumed'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION custfocus.rollup_pending_consumed() IS
'Roll-up triggers only: the transaction''s compaction ran; its next appending statement signals again';

-- The keys each statement of a transaction appended deltas to: every
-- statement adds a row to each key it touches (an import, a row per key per
-- batch), and a deferred trigger looks at them when the transaction commits
-- (rollup_commit_compact): a key that holds more than 4 rows is merged into
-- one.  Looking costs an index probe per key; merging every key at every
-- commit would cost as much again as appending.  Empty outside
-- transactions that are appending.
CREATE TABLE custfocus.rollup_pending (
	xact		xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
	services	integer[] NOT NULL,
	months		date[] NOT NULL,
	signal		boolean NOT NULL DEFAULT custfocus.rollup_pending_signal(),
	answers		bigint[],
	scope		text NOT NULL DEFAULT 'keys' CHECK (scope IN ('keys', 'themes', 'feedback', 'publish', 'all'))
);
COMMENT ON TABLE custfocus.rollup_pending IS
'The (service, month) keys the statements of transactions in progress appended roll-up deltas to, compacted when each commits; derived data, not dumped';
COMMENT ON COLUMN custfocus.rollup_pending.xact IS 'The transaction';
COMMENT ON COLUMN custfocus.rollup_pending.services IS 'Services of the keys';
COMMENT ON COLUMN custfocus.rollup_pending.months IS 'Months of the keys (with services, element by element)';
COMMENT ON COLUMN custfocus.rollup_pending.answers IS 'Answers the statement added to each key (with services, element by element), or NULL when it changed the keys otherwise: what the complementary suppression needs to know (rollup_hidden_refresh)';
COMMENT ON COLUMN custfocus.rollup_pending.scope IS 'keys: the (service, month) keys changed; themes: only the services'' documents (feedback, free-text answers), whose themes are published again at commit; feedback: only the services'' feedback (0: feedback about no service), whose closed-loop figures are published again at commit; publish: every service''s figures published again at commit (services and months empty); all: every key''s complementary suppression computed and every figure published again at commit (services and months empty): "every" is decided at commit, under the publication lock, so that keys another transaction commits in between are not left out';
COMMENT ON COLUMN custfocus.rollup_pending.signal IS 'True on the first row of the transaction (since it last compacted): the one that fires the compaction at commit';

-- State merges that return states (the *_merge aggregates return results).
CREATE AGGREGATE custfocus.counts_sum(bigint[]) (
	SFUNC = custfocus.counts_combine,
	STYPE = bigint[],
	COMBINEFUNC = custfocus.counts_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.counts_sum(bigint[]) IS
'Merges count states (top_box_state without weights) into one state';
CREATE AGGREGATE custfocus.sums_sum(double precision[]) (
	SFUNC = custfocus.sums_combine,
	STYPE = double precision[],
	COMBINEFUNC = custfocus.sums_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.sums_sum(double precision[]) IS
'Merges additive weighted states (top_box_state, nps_state) into one state';
CREATE AGGREGATE custfocus.moments_sum(double precision[]) (
	SFUNC = custfocus.linear_mean_stats_combine,
	STYPE = double precision[],
	COMBINEFUNC = custfocus.linear_mean_stats_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.moments_sum(double precision[]) IS
'Merges linear_mean_state states into one state (Chan''s pairwise formula)';
-- The item roll-up's pairs: merged as corr() merges its states, finished
-- as corr() finishes them (src/rollup.c: PostgreSQL's own functions take an
-- internal layout, which PostgreSQL 19 changed).
CREATE FUNCTION custfocus.pairs_combine(double precision[], double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pairs_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.pairs_combine(double precision[], double precision[]) IS
'Merges two states of rollup_item_month.pairs';
CREATE FUNCTION custfocus.pairs_corr(double precision[]) RETURNS double precision
AS 'MODULE_PATHNAME', 'pairs_corr'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.pairs_corr(double precision[]) IS
'Pearson''s r of a state of rollup_item_month.pairs, as corr() gives it over the pairs (NULL without pairs, or when either side''s scores are all equal)';
CREATE AGGREGATE custfocus.pairs_sum(double precision[]) (
	SFUNC = custfocus.pairs_combine,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0,0,0,0}',
	COMBINEFUNC = custfocus.pairs_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.pairs_sum(double precision[]) IS
'Merges states of rollup_item_month.pairs into one state (finish it with pairs_corr)';

-- Every column of the item roll-up from one state, in one pass (see
-- src/rollup.c): the answer trigger and rollup_item_compute both aggregate
-- with it, so they cannot count differently.
CREATE FUNCTION custfocus.item_stats_accum(double precision[], double precision, double precision,
										   double precision, double precision, double precision)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'item_stats_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.item_stats_accum(double precision[], double precision, double precision, double precision, double precision, double precision) IS
'Transition function of item_state';
CREATE FUNCTION custfocus.item_stats_combine(double precision[], double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'item_stats_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.item_stats_combine(double precision[], double precision[]) IS
'Combine function of item_state';
CREATE AGGREGATE custfocus.item_state(score double precision, scale_min double precision, scale_max double precision,
									  weight double precision, overall double precision) (
	SFUNC = custfocus.item_stats_accum,
	STYPE = double precision[],
	INITCOND = '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}',
	COMBINEFUNC = custfocus.item_stats_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.item_state(double precision, double precision, double precision, double precision, double precision) IS
'The item roll-up''s statistics of answers to one item (oriented scores on the scale scale_min..scale_max, survey weights, the same respondent''s overall score or NULL): 28 numbers, the columns of rollup_item_month in order';

-- Responses this transaction inserted that have no answers yet (see
-- src/rollup.c): the answer trigger's cue that the transition table holds
-- every answer of its responses.
CREATE FUNCTION custfocus.rollup_fresh_add(bigint[]) RETURNS void
AS 'MODULE_PATHNAME', 'rollup_fresh_add'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION custfocus.rollup_fresh_add(bigint[]) IS
'Roll-up triggers only: records responses this transaction has just inserted';
CREATE FUNCTION custfocus.rollup_fresh_take(bigint[]) RETURNS boolean
AS 'MODULE_PATHNAME', 'rollup_fresh_take'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION custfocus.rollup_fresh_take(bigint[]) IS
'Roll-up triggers only: true when every given response was recorded by rollup_fresh_add (none had answers); forgets them';

-- An import adds up its own roll-up deltas in C as it inserts its batches
-- (src/rollup_import.c) and appends them once at its end, instead of the
-- insert triggers reading back every batch; the triggers stand aside for
-- its two INSERT statements only (rollup_import_claimed).  The C code calls
-- these two through fmgr: EXECUTE is granted to nobody, so that no user
-- can append states of its own making.
CREATE FUNCTION custfocus.rollup_import_claimed(name) RETURNS boolean
AS 'MODULE_PATHNAME', 'rollup_import_claimed'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION custfocus.rollup_import_claimed(name) IS
'Roll-up insert triggers only: true when the statement is an import''s own INSERT into the given table, whose roll-up deltas the import appends itself';

-- Before an import reads its survey's items: locks them and their scales,
-- as the answer trigger does for the answers it counts (see
-- rollup_answer_insert), and says in which time zone to count months.
CREATE FUNCTION custfocus.rollup_import_begin(p_survey integer) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
	PERFORM 1 FROM custfocus.item i WHERE i.survey_id = p_survey ORDER BY i.item_id FOR SHARE;
	PERFORM 1 FROM custfocus.scale sc
	 WHERE sc.scale_id = ANY (ARRAY(SELECT i.scale_id FROM custfocus.item i WHERE i.survey_id = p_survey))
	 ORDER BY sc.scale_id FOR SHARE;
	RETURN custfocus.reporting_time_zone();
END
$$;
COMMENT ON FUNCTION custfocus.rollup_import_begin(integer) IS
'Import only (called from C): locks the survey''s items and scales FOR SHARE and returns the reporting time zone';

-- An import's deltas: one row per service and month, one per service,
-- month and item, with what the insert triggers would have appended along
-- (the unit roll-up's rows, and the keys for the compaction and the
-- complementary suppression at commit).
CREATE FUNCTION custfocus.rollup_import_apply(p_months custfocus.rollup_service_month[],
											  p_items custfocus.rollup_item_month[],
											  p_pairs custfocus.rollup_pairs_month[], p_answers bigint[])
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
	INSERT INTO custfocus.rollup_service_month SELECT * FROM unnest(p_months);
	INSERT INTO custfocus.rollup_unit_period SELECT x.* FROM custfocus.rollup_units_delta(p_months) x;
	INSERT INTO custfocus.rollup_item_month SELECT * FROM unnest(p_items);
	INSERT INTO custfocus.rollup_pairs_month SELECT * FROM unnest(p_pairs);
	INSERT INTO custfocus.rollup_pending (services, months, answers)
	SELECT array_agg(m.service_id ORDER BY m.o), array_agg(m.month ORDER BY m.o), array_agg(p_answers[m.o] ORDER BY m.o)
	  FROM unnest(p_months) WITH ORDINALITY AS m (service_id, month, responses, csat, csat_counts, nps, lm, o)
	HAVING count(*) > 0;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_import_apply(custfocus.rollup_service_month[], custfocus.rollup_item_month[], custfocus.rollup_pairs_month[], bigint[]) IS
'Import only (called from C): appends an import''s roll-up deltas, the unit roll-up''s, and its keys for the compaction at commit';

-- The item roll-up of the given (service, month) keys computed from the
-- raw data: what every row of a key merges to.  (The answer trigger
-- aggregates its transition table with the same item_state.)  Each answer
-- meets its respondent's overall answer through a window over the
-- response, not a join of the answers with themselves: with the answer
-- trigger's planner settings (no merge joins, no sequential scans) a
-- self-join of 500,000 answers became a nested loop that ran for minutes.
CREATE FUNCTION custfocus.rollup_item_compute(p_services integer[], p_months date[])
RETURNS SETOF custfocus.rollup_item_month
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- (PL/pgSQL, not SQL: Citus plans a query on distributed tables with
	-- parameters only when it knows their values, which an SQL function's
	-- generic plan does not give it; see custfocus.distribute())
	RETURN QUERY
	WITH k AS (
		SELECT DISTINCT k.service_id, k.month, (SELECT custfocus.reporting_time_zone()) AS tz
		  FROM unnest(p_services, p_months) AS k (service_id, month)
	),
	ans AS (
		SELECT k.service_id, k.month, r.response_id, r.weight, a.item_id, i.is_overall,
			   custfocus.oriented_score(a.value, i.reverse_coded, sc.min_value, sc.max_value) AS score,
			   sc.min_value, sc.max_value
		  FROM k
		  JOIN custfocus.response r ON r.service_id = k.service_id
			   AND r.submitted_at >= pg_catalog.timezone(k.tz, k.month::timestamp)
			   AND r.submitted_at < pg_catalog.timezone(k.tz, k.month + interval '1 month')
		  JOIN custfocus.answer a ON a.response_id = r.response_id
		  JOIN custfocus.item i ON i.item_id = a.item_id
		  JOIN custfocus.scale sc ON sc.scale_id = i.scale_id
		 WHERE a.value IS NOT NULL
	)
	SELECT g.service_id, g.month, g.item_id, g.s[1]::bigint, g.s[2], g.s[3], g.s[4], g.s[5], g.s[6]::bigint,
		   g.s[7]::bigint, g.s[8]::bigint, g.s[9]::bigint, g.s[10], g.s[11], g.s[12], g.s[13], g.s[14], g.s[15],
		   g.s[16:20], g.s[21:28]
	  FROM (SELECT x.service_id, x.month, x.item_id,
				   custfocus.item_state(x.score, x.min_value, x.max_value, x.weight,
										CASE WHEN NOT x.is_overall THEN x.overall END) AS s
			  FROM (SELECT a.*, max(a.score) FILTER (WHERE a.is_overall) OVER (PARTITION BY a.response_id) AS overall
					  FROM ans a) x
			 GROUP BY 1, 2, 3) g;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_item_compute(integer[], date[]) IS
'The item roll-up of the given (service, month) keys computed from the raw responses and answers';

-- Recompute the item rows of keys, as rollup_refresh does its own.
CREATE FUNCTION custfocus.rollup_item_refresh(p_services integer[], p_months date[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.rollup_check_isolation();
	PERFORM pg_advisory_xact_lock(pg_catalog.hashtextextended('custfocus.rollup ' || k.service_id || ' ' || k.month, 0))
	   FROM (SELECT DISTINCT service_id, month FROM unnest(p_services, p_months) AS u (service_id, month)
			  WHERE service_id IS NOT NULL ORDER BY 1, 2) k;
	WITH k AS (SELECT DISTINCT service_id, month FROM unnest(p_services, p_months) AS u (service_id, month)),
	gone AS (
		DELETE FROM custfocus.rollup_item_month r USING k
		 WHERE r.service_id = k.service_id AND r.month = k.month
	)
	INSERT INTO custfocus.rollup_item_month
	SELECT * FROM custfocus.rollup_item_compute(p_services, p_months);
	WITH k AS (SELECT DISTINCT service_id, month FROM unnest(p_services, p_months) AS u (service_id, month)),
	gone AS (
		DELETE FROM custfocus.rollup_pairs_month r USING k
		 WHERE r.service_id = k.service_id AND r.month = k.month
	)
	INSERT INTO custfocus.rollup_pairs_month
	SELECT * FROM custfocus.rollup_pairs_compute(p_services, p_months);
END
$$;
COMMENT ON FUNCTION custfocus.rollup_item_refresh(integer[], date[]) IS
'Recomputes the item and pairs roll-ups of the given (service, month) keys from the raw data';

-- Merge each item key's rows into one, skipping keys others hold (the
-- locks of the service-month keys).
CREATE FUNCTION custfocus.rollup_item_compact(p_services integer[] DEFAULT NULL, p_months date[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_services integer[];
	v_months date[];
	v_n bigint;
	v_pairs bigint;
BEGIN
	SELECT array_agg(k.service_id ORDER BY k.service_id, k.month), array_agg(k.month ORDER BY k.service_id, k.month)
	  INTO v_services, v_months
	  FROM (SELECT r.service_id, r.month FROM custfocus.rollup_item_month r
			 WHERE p_services IS NULL
				OR (r.service_id, r.month) IN (SELECT * FROM unnest(p_services, p_months))
			 GROUP BY 1, 2 HAVING count(*) > count(DISTINCT r.item_id)
			UNION
			-- the pairs roll-up has the same keys
			SELECT r.service_id, r.month FROM custfocus.rollup_pairs_month r
			 WHERE p_services IS NULL
				OR (r.service_id, r.month) IN (SELECT * FROM unnest(p_services, p_months))
			 GROUP BY 1, 2 HAVING count(*) > count(DISTINCT r.survey_id)) k
	 WHERE pg_try_advisory_xact_lock(pg_catalog.hashtextextended('custfocus.rollup ' || k.service_id || ' ' || k.month, 0));
	IF v_services IS NULL THEN
		RETURN 0;
	END IF;
	WITH k AS (SELECT * FROM unnest(v_services, v_months) AS u (service_id, month)),
	gone AS (
		DELETE FROM custfocus.rollup_pairs_month r USING k
		 WHERE r.service_id = k.service_id AND r.month = k.month
		RETURNING r.*
	)
	INSERT INTO custfocus.rollup_pairs_month
	SELECT g.service_id, g.month, g.survey_id, custfocus.pairwise_sum(g.state)
	  FROM gone g GROUP BY 1, 2, 3;
	GET DIAGNOSTICS v_pairs = ROW_COUNT;
	WITH k AS (SELECT * FROM unnest(v_services, v_months) AS u (service_id, month)),
	gone AS (
		DELETE FROM custfocus.rollup_item_month r USING k
		 WHERE r.service_id = k.service_id AND r.month = k.month
		RETURNING r.*
	)
	INSERT INTO custfocus.rollup_item_month
	SELECT g.service_id, g.month, g.item_id, sum(g.n), sum(g.sum_w), sum(g.sum_w2), sum(g.sum_x), sum(g.sum_wx),
		   sum(g.n_top2), sum(g.n_top1), sum(g.n_bottom2), sum(g.n_bottom1),
		   sum(g.w_top2), sum(g.w_top1), sum(g.w_bottom2), sum(g.w_bottom1), sum(g.w_promoters), sum(g.w_detractors),
		   custfocus.moments_sum(g.perf), custfocus.pairs_sum(g.pairs)
	  FROM gone g GROUP BY 1, 2, 3;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	RETURN v_n + v_pairs;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_item_compact(integer[], date[]) IS
'Merges the rows of each item and pairs roll-up key (all keys, or those of the given service-months) into one; returns the rows written';

-- The pairs roll-up of the given (service, month) keys from the raw data.
CREATE FUNCTION custfocus.rollup_pairs_compute(p_services integer[], p_months date[])
RETURNS SETOF custfocus.rollup_pairs_month
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- (PL/pgSQL, as rollup_item_compute, for Citus)
	RETURN QUERY
	WITH k AS (
		SELECT DISTINCT k.service_id, k.month, (SELECT custfocus.reporting_time_zone()) AS tz
		  FROM unnest(p_services, p_months) AS k (service_id, month)
	),
	ans AS (
		SELECT k.service_id, k.month, r.survey_id, r.response_id, a.item_id,
			   custfocus.oriented_score(a.value, i.reverse_coded, sc.min_value, sc.max_value) AS score
		  FROM k
		  JOIN custfocus.response r ON r.service_id = k.service_id
			   AND r.submitted_at >= pg_catalog.timezone(k.tz, k.month::timestamp)
			   AND r.submitted_at < pg_catalog.timezone(k.tz, k.month + interval '1 month')
		  JOIN custfocus.answer a ON a.response_id = r.response_id
		  JOIN custfocus.item i ON i.item_id = a.item_id
		  JOIN custfocus.scale sc ON sc.scale_id = i.scale_id
		 WHERE a.value IS NOT NULL
	)
	SELECT x.service_id, x.month, x.survey_id, custfocus.pairwise_state(x.ids, x.scores)
	  FROM (SELECT a.service_id, a.month, a.survey_id, a.response_id, array_agg(a.item_id) AS ids,
				   array_agg(a.score) AS scores
			  FROM ans a GROUP BY 1, 2, 3, 4) x
	 GROUP BY 1, 2, 3;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_pairs_compute(integer[], date[]) IS
'The pairs roll-up of the given (service, month) keys computed from the raw responses and answers';



-- The roll-up rows of the given keys, computed from the raw data: what
-- every row of a key merges to.  Keys with no response give no row.
CREATE FUNCTION custfocus.rollup_compute(p_services integer[], p_months date[])
RETURNS SETOF custfocus.rollup_service_month
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- (PL/pgSQL, not SQL: Citus plans a query on distributed tables with
	-- parameters only when it knows their values, which an SQL function's
	-- generic plan does not give it; see custfocus.distribute())
	RETURN QUERY
	WITH k AS (
		SELECT DISTINCT k.service_id, k.month, (SELECT custfocus.reporting_time_zone()) AS tz
		  FROM unnest(p_services, p_months) AS k (service_id, month)
	),
	resp AS (
		SELECT k.service_id, k.month, r.response_id, r.weight
		  FROM k
		  JOIN custfocus.response r ON r.service_id = k.service_id
			   AND r.submitted_at >= pg_catalog.timezone(k.tz, k.month::timestamp)
			   AND r.submitted_at < pg_catalog.timezone(k.tz, k.month + interval '1 month')
	),
	counted AS (
		SELECT resp.service_id, resp.month, count(*) AS responses FROM resp GROUP BY 1, 2
	),
	scored AS (
		SELECT resp.service_id, resp.month,
			   custfocus.top_box_state(custfocus.oriented_score(a.value, i.reverse_coded, sc.min_value, sc.max_value),
									   sc.max_value - 1, resp.weight)
				   FILTER (WHERE i.is_overall AND i.metric IN ('rating', 'nps')) AS csat,
			   custfocus.top_box_state(custfocus.oriented_score(a.value, i.reverse_coded, sc.min_value, sc.max_value),
									   sc.max_value - 1) FILTER (WHERE i.is_overall) AS csat_counts,
			   custfocus.nps_state(a.value, resp.weight) FILTER (WHERE i.metric = 'nps') AS nps,
			   custfocus.linear_mean_state(custfocus.oriented_score(a.value, i.reverse_coded, sc.min_value, sc.max_value),
										   sc.min_value, sc.max_value, resp.weight) FILTER (WHERE i.metric = 'rating') AS lm
		  FROM resp
		  JOIN custfocus.answer a ON a.response_id = resp.response_id
		  JOIN custfocus.item i ON i.item_id = a.item_id
		  JOIN custfocus.scale sc ON sc.scale_id = i.scale_id
		 WHERE a.value IS NOT NULL
		 GROUP BY 1, 2
	)
	SELECT c.service_id, c.month, c.responses, s.csat, s.csat_counts, s.nps, s.lm
	  FROM counted c LEFT JOIN scored s ON s.service_id = c.service_id AND s.month = c.month;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_compute(integer[], date[]) IS
'The roll-up of the given (service, month) keys computed from the raw responses and answers';

-- Recompute keys: one statement deletes every row of the keys and inserts
-- the recomputation, under one snapshot (see the design above).
-- A recompute reads the raw data under its statement's snapshot: under
-- READ COMMITTED a new one, taken after the key's lock, which sees every
-- change committed before; under REPEATABLE READ or SERIALIZABLE the
-- transaction's, which may miss a change another session committed since
-- (its answers would be left counted with old values, or not at all), and
-- nothing would fail.  Recomputes therefore refuse to run there.
CREATE FUNCTION custfocus.rollup_check_isolation() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
		RAISE EXCEPTION 'custfocus recomputes its roll-ups only under READ COMMITTED'
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = format('This change (of responses or answers already stored, of items, scales, programs or services, or the reporting time zone) runs under %s, whose snapshot may miss what other sessions committed since.',
								  upper(pg_catalog.current_setting('transaction_isolation'))),
				  HINT = 'Make it in a READ COMMITTED transaction (BEGIN ISOLATION LEVEL READ COMMITTED). Imports, and new responses with their answers, may run at any level.';
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_check_isolation() IS
'Raises an error unless the transaction is READ COMMITTED, where the roll-ups'' recomputes see every committed change';
REVOKE ALL ON FUNCTION custfocus.rollup_check_isolation() FROM PUBLIC;

CREATE FUNCTION custfocus.rollup_refresh(p_services integer[], p_months date[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.rollup_check_isolation();
	-- one recompute of a key at a time, the locks taken in key order
	PERFORM pg_advisory_xact_lock(pg_catalog.hashtextextended('custfocus.rollup ' || k.service_id || ' ' || k.month, 0))
	   FROM (SELECT DISTINCT service_id, month FROM unnest(p_services, p_months) AS u (service_id, month)
			  WHERE service_id IS NOT NULL ORDER BY 1, 2) k;
	WITH k AS (SELECT DISTINCT service_id, month FROM unnest(p_services, p_months) AS u (service_id, month)),
	gone AS (
		DELETE FROM custfocus.rollup_service_month r USING k
		 WHERE r.service_id = k.service_id AND r.month = k.month
	)
	INSERT INTO custfocus.rollup_service_month
	SELECT * FROM custfocus.rollup_compute(p_services, p_months);
	PERFORM custfocus.rollup_units_refresh(p_services, p_months);
	PERFORM custfocus.rollup_item_refresh(p_services, p_months);
	PERFORM custfocus.rollup_hidden_touch(p_services, p_months);
END
$$;
COMMENT ON FUNCTION custfocus.rollup_refresh(integer[], date[]) IS
'Recomputes the roll-ups (service-month, units, items) of the given (service, month) keys from the raw data';

-- Merge each key's rows into one.  Keys another transaction is recomputing
-- or compacting are skipped (try-lock), so compaction never waits.
CREATE FUNCTION custfocus.rollup_compact(p_services integer[] DEFAULT NULL, p_months date[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_services integer[];
	v_months date[];
	v_n bigint;
BEGIN
	SELECT array_agg(k.service_id ORDER BY k.service_id, k.month), array_agg(k.month ORDER BY k.service_id, k.month)
	  INTO v_services, v_months
	  FROM (SELECT r.service_id, r.month FROM custfocus.rollup_service_month r
			 WHERE p_services IS NULL
				OR (r.service_id, r.month) IN (SELECT * FROM unnest(p_services, p_months))
			 GROUP BY 1, 2 HAVING count(*) > 1) k
	 WHERE pg_try_advisory_xact_lock(pg_catalog.hashtextextended('custfocus.rollup ' || k.service_id || ' ' || k.month, 0));
	IF v_services IS NULL THEN
		RETURN CASE WHEN p_services IS NULL
					THEN custfocus.rollup_units_compact() + custfocus.rollup_item_compact() ELSE 0 END;
	END IF;
	WITH k AS (SELECT * FROM unnest(v_services, v_months) AS u (service_id, month)),
	gone AS (
		DELETE FROM custfocus.rollup_service_month r USING k
		 WHERE r.service_id = k.service_id AND r.month = k.month
		RETURNING r.*
	)
	INSERT INTO custfocus.rollup_service_month
	SELECT g.service_id, g.month, sum(g.responses), custfocus.sums_sum(g.csat), custfocus.counts_sum(g.csat_counts),
		   custfocus.sums_sum(g.nps), custfocus.moments_sum(g.lm)
	  FROM gone g GROUP BY g.service_id, g.month;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	IF p_services IS NULL THEN
		v_n := v_n + custfocus.rollup_units_compact() + custfocus.rollup_item_compact();
	END IF;
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_compact(integer[], date[]) IS
'Merges the roll-up rows of each key (of the given service-month keys; or of all keys, the unit, item and pairs roll-ups'' too) into one; returns how many keys it compacted';

CREATE FUNCTION custfocus.rollup_rebuild() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
BEGIN
	PERFORM custfocus.rollup_check_isolation();
	-- nobody appends while the table is rebuilt
	LOCK TABLE custfocus.rollup_service_month IN EXCLUSIVE MODE;
	LOCK TABLE custfocus.rollup_item_month IN EXCLUSIVE MODE;
	LOCK TABLE custfocus.rollup_pairs_month IN EXCLUSIVE MODE;
	PERFORM custfocus.report_unit_refresh();
	DELETE FROM custfocus.rollup_service_month;
	INSERT INTO custfocus.rollup_service_month
	SELECT c.* FROM (
		SELECT array_agg(k.service_id) AS s, array_agg(k.month) AS m
		  FROM (SELECT DISTINCT r.service_id, date_trunc('month', timezone((SELECT custfocus.reporting_time_zone()), r.submitted_at))::date AS month
				  FROM custfocus.response r WHERE r.service_id IS NOT NULL) k
	) keys
	CROSS JOIN LATERAL custfocus.rollup_compute(keys.s, keys.m) c;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	PERFORM custfocus.rollup_units_rebuild();
	DELETE FROM custfocus.rollup_item_month;
	INSERT INTO custfocus.rollup_item_month
	SELECT c.* FROM (
		SELECT array_agg(k.service_id) AS s, array_agg(k.month) AS m
		  FROM (SELECT DISTINCT r.service_id, date_trunc('month', timezone((SELECT custfocus.reporting_time_zone()), r.submitted_at))::date AS month
				  FROM custfocus.response r WHERE r.service_id IS NOT NULL) k
	) keys
	CROSS JOIN LATERAL custfocus.rollup_item_compute(keys.s, keys.m) c;
	DELETE FROM custfocus.rollup_pairs_month;
	INSERT INTO custfocus.rollup_pairs_month
	SELECT c.* FROM (
		SELECT array_agg(k.service_id) AS s, array_agg(k.month) AS m
		  FROM (SELECT DISTINCT r.service_id, date_trunc('month', timezone((SELECT custfocus.reporting_time_zone()), r.submitted_at))::date AS month
				  FROM custfocus.response r WHERE r.service_id IS NOT NULL) k
	) keys
	CROSS JOIN LATERAL custfocus.rollup_pairs_compute(keys.s, keys.m) c;
	-- and every service's themes published again at commit (a restore with
	-- triggers off loaded documents no trigger saw)
	PERFORM custfocus.report_touch(ARRAY(SELECT s.service_id FROM custfocus.service s), true);
	-- and their feedback's closed-loop figures (likewise)
	PERFORM custfocus.report_feedback_touch(ARRAY(SELECT s.service_id FROM custfocus.service s) || 0);
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_rebuild() IS
'Recomputes every roll-up (and report_unit) from the raw data, after a restore with triggers off or to repair; returns the number of keys';

-- Complementary suppression (see src/suppress.c).  The scorecard and the
-- trend hide a score of fewer than the floor's answers, and show the scores
-- of every group it belongs to with additive columns: without more, a
-- quarter minus its two shown months, a program minus its other services or
-- a year minus its other quarters is the hidden score.  rollup_hidden holds
-- the cells (unit, grain, period, and which of the three scores) that must
-- be hidden as well, though they have enough answers, so that no hidden
-- small group can be recovered by subtraction: computed from the unit
-- roll-up's answer counts, for a whole year of the reporting time zone at a
-- time (every relation between cells, across the program tree and the
-- calendar, stays within one year), at the agency floor
-- (custfocus.setting.min_responses: a floor a session raises hides more
-- small groups, but is not protected by complementary cells).  The views
-- hide a cell's score when it has too few answers or is listed here.
--
-- When: as a transaction that changed the roll-ups commits (with the
-- compaction, rollup_commit_compact), for the years it touched, so that no
-- other session ever reads counts without their pattern.  One transaction
-- computes a year at a time: each first updates the year's row of
-- rollup_hidden_year, so a second waits for the first to commit and then
-- (READ COMMITTED) computes from what the first committed, or (REPEATABLE
-- READ, SERIALIZABLE) fails to serialize: its snapshot cannot see the
-- other's answers, and the pattern it would store could miss them.
CREATE TABLE custfocus.rollup_hidden (
	program_id	integer NOT NULL,
	unit_service_id integer NOT NULL,
	grain		text NOT NULL,
	period_start date NOT NULL,
	csat		boolean NOT NULL,
	nps			boolean NOT NULL,
	lm			boolean NOT NULL
);
CREATE UNIQUE INDEX rollup_hidden_key_idx ON custfocus.rollup_hidden (program_id, unit_service_id, grain, period_start);
CREATE INDEX rollup_hidden_period_idx ON custfocus.rollup_hidden (period_start);
COMMENT ON TABLE custfocus.rollup_hidden IS
'Complementary suppression: cells of the scorecard and the trend whose scores are hidden although they have enough answers, so that no smaller hidden group can be recovered by subtraction; derived from the unit roll-up when a transaction commits, not dumped';
COMMENT ON COLUMN custfocus.rollup_hidden.program_id IS 'As rollup_unit_period.program_id';
COMMENT ON COLUMN custfocus.rollup_hidden.unit_service_id IS 'As rollup_unit_period.unit_service_id';
COMMENT ON COLUMN custfocus.rollup_hidden.grain IS 'month, quarter or year';
COMMENT ON COLUMN custfocus.rollup_hidden.period_start IS 'First day of the period, in the reporting time zone';
COMMENT ON COLUMN custfocus.rollup_hidden.csat IS 'The CSAT (weighted and unweighted) of the cell is hidden';
COMMENT ON COLUMN custfocus.rollup_hidden.nps IS 'The NPS of the cell is hidden';
COMMENT ON COLUMN custfocus.rollup_hidden.lm IS 'The linear mean of the cell is hidden';

CREATE TABLE custfocus.rollup_hidden_year (
	year		date PRIMARY KEY,
	computations bigint NOT NULL
);
COMMENT ON TABLE custfocus.rollup_hidden_year IS
'Years of the reporting time zone whose complementary suppression was computed; its rows serialize the computations of one year';
COMMENT ON COLUMN custfocus.rollup_hidden_year.year IS 'First day of the year';
COMMENT ON COLUMN custfocus.rollup_hidden_year.computations IS 'How many times it was computed';

CREATE TABLE custfocus.rollup_hidden_measure (
	node		text NOT NULL,
	node_id		integer NOT NULL,
	program_id	integer NOT NULL,
	unit_service_id integer NOT NULL,
	grain		text NOT NULL,
	period_start date NOT NULL
);
CREATE UNIQUE INDEX rollup_hidden_measure_key_idx
	ON custfocus.rollup_hidden_measure (node, node_id, program_id, unit_service_id, grain, period_start);
CREATE INDEX rollup_hidden_measure_period_idx ON custfocus.rollup_hidden_measure (period_start);
COMMENT ON TABLE custfocus.rollup_hidden_measure IS
'Complementary suppression of measure_status: periods of a measured item or requirement in a unit whose figures are hidden although they have enough answers; derived, computed with rollup_hidden, not dumped';
COMMENT ON COLUMN custfocus.rollup_hidden_measure.node IS 'item or requirement: what the measures score';
COMMENT ON COLUMN custfocus.rollup_hidden_measure.node_id IS 'The item or the requirement';
COMMENT ON COLUMN custfocus.rollup_hidden_measure.program_id IS 'The program measured, or the program of the service measured';
COMMENT ON COLUMN custfocus.rollup_hidden_measure.unit_service_id IS 'The service measured, or 0 for a program';
COMMENT ON COLUMN custfocus.rollup_hidden_measure.grain IS 'The measure''s period: month, quarter or year';
COMMENT ON COLUMN custfocus.rollup_hidden_measure.period_start IS 'First day of the period, in the reporting time zone';

-- (Not STRICT: the last argument may be NULL; NULL in another gives NULL.)
CREATE FUNCTION custfocus.complementary_suppression(n bigint[], published boolean[], rel_parent integer[],
													 child_rel integer[], child_cell integer[], floor integer,
													 hidden boolean[] DEFAULT NULL)
RETURNS boolean[]
AS 'MODULE_PATHNAME', 'complementary_suppression'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.complementary_suppression(bigint[], boolean[], integer[], integer[], integer[], integer, boolean[]) IS
'Cells of an additive table to hide besides those with 1 to floor - 1 answers, so that none of those can be recovered by subtraction: cells numbered from 1 with their answer counts n and whether they are shown at all; relations r = 1.. each a parent cell rel_parent[r] equal to the sum of its children (the pairs child_rel, child_cell, ordered by relation); hidden: cells hidden from the start (a pattern to keep and complete); returns, per cell, true when it must be hidden as well (see src/suppress.c)';

-- The items active measures score: their own, and those of the
-- requirements they score (the leaves of the complementary suppression's
-- table).
CREATE FUNCTION custfocus.rollup_measured_items() RETURNS SETOF integer
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT m.item_id FROM custfocus.measure m WHERE m.active AND m.item_id IS NOT NULL
	UNION
	SELECT i.item_id FROM custfocus.measure m JOIN custfocus.item i ON i.requirement_id = m.requirement_id
	 WHERE m.active AND m.metric <> 'response_count'
$$;
COMMENT ON FUNCTION custfocus.rollup_measured_items() IS
'The items active measures score, themselves or through a requirement: what the complementary suppression counts as measured';

CREATE FUNCTION custfocus.complementary_suppression_grid(entity integer[], unit integer[], slot integer[], n bigint[],
														  published boolean[], unit_parent integer[],
														  entity_parent integer[], entity_child integer[], floor integer,
														  hidden boolean[] DEFAULT NULL)
RETURNS boolean[]
AS 'MODULE_PATHNAME', 'complementary_suppression_grid'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.complementary_suppression_grid(integer[], integer[], integer[], bigint[], boolean[], integer[], integer[], integer[], integer, boolean[]) IS
'complementary_suppression of the reporting layer''s table of a year, its relations following from where each cell is: entity (1..E) in unit (1..U) at slot (0..11 months, 12..15 quarters, 16 the year); a unit''s cell is the sum of those of the units whose unit_parent it is, a quarter''s of its months, the year''s of its quarters, entity_parent[k]''s of its entity_child[k]s (see src/suppress.c)';

CREATE FUNCTION custfocus.rollup_hidden_grid(entities integer[], members integer[], unit_parent integer[],
											  service_units integer[], unit_cells bigint[], service_cells bigint[],
											  shown integer[], relations integer[], floor integer, stored integer[])
RETURNS TABLE (entity integer, unit integer, slot integer)
AS 'MODULE_PATHNAME', 'rollup_hidden_grid'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.rollup_hidden_grid(integer[], integer[], integer[], integer[], bigint[], bigint[], integer[], integer[], integer, integer[]) IS
'complementary_suppression_grid of a year''s table built from the roll-ups'' rows (rollup_hidden_compute''s): entities (kind 0 given, 1 sum of its members, 2 its base less its members; base; published 0 never, 1 always, 2 where shown), members (entity, given entity), unit_parent, service_units (service, unit), unit_cells (entity, unit, slot, n), service_cells (entity, service, month 0..11, n: counted in its units'' month, quarter and year), shown (entity, unit, grain 0 month, 1 quarter, 2 year), relations (entity_parent, entity_child), floor, stored (entity, unit, slot: hidden from the start); returns the published cells to hide beyond the small ones (see src/suppress.c)';

-- The complementary cells of the given years (dates in them), each year
-- on its own.  One table of cells
-- for everything the views publish of a year's answers, so that no figure
-- of one view can be subtracted from another's:
--   * entities: the scorecard's three scores ('csat': overall items, 'nps':
--     nps items, 'lm': rating items, as the unit roll-up counts them), every
--     item and requirement an active measure scores ('item',
--     'requirement'), and, for each score with measured items, the rest of
--     its items ('rest_csat', ...: never shown);
--   * cells: each entity in each unit (service, program) and period
--     (month, quarter, year) with answers; n, its answers;
--   * relations: in each entity, a program's cell is the sum of its units'
--     and a quarter's (year's) of its months (quarters); in each unit and
--     period, a score's cell is the sum of its measured requirements' (those
--     whose items all count for it), its other measured items' and its
--     rest's, a requirement's of its items';
--   * published: every cell of the three scores (the scorecard and trend
--     show them all); a measured item's or requirement's cells in the unit
--     and at the grain of a measure of it (measure_status); the rest never.
-- A measure shows other figures of its answers than the scorecard (top box,
-- means), but the table counts every figure of a cell as given away with
-- any: the cells it hides protect each of them.
-- The SQL below reads the roll-ups' rows and the entities, units and
-- relations (a few hundred rows); the cells are summed, made, numbered and
-- solved in C (rollup_hidden_grid): assembled in SQL, the benchmark
-- agency's 12,000 cells of a year cost 75 ms, now about 20.  (The planner
-- cannot know how many rows the CTEs hold, guesses a few dozen, and joined
-- them by nested loops: hash joins it is; and no JIT, which the cost of a
-- plan with nested loops priced out would set off for every year.)
CREATE FUNCTION custfocus.rollup_hidden_compute(p_years date[], p_from_stored boolean DEFAULT false)
RETURNS TABLE (node text, node_id integer, program_id integer, unit_service_id integer, grain text, period_start date)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_nestloop = off
SET jit = off
AS $$
	-- the years (of dates in them), numbered from 0
	WITH y AS MATERIALIZED (
		SELECT (row_number() OVER (ORDER BY d.yr) - 1)::integer AS yi, d.yr, make_date(d.yr, 1, 1) AS y0
		  FROM (SELECT DISTINCT extract(year FROM x)::integer AS yr FROM unnest(p_years) AS x WHERE x IS NOT NULL) d
	),
	yb AS (SELECT min(y.y0) AS lo, (max(y.y0) + interval '1 year')::date AS hi FROM y),
	-- what active measures show: their item or requirement, unit and grain
	shows AS (
		SELECT DISTINCT CASE WHEN m.item_id IS NOT NULL THEN 'item' ELSE 'requirement' END AS node,
			   coalesce(m.item_id, m.requirement_id) AS node_id,
			   coalesce(m.program_id, s.program_id) AS program_id, coalesce(m.service_id, 0) AS unit_service_id,
			   m.period AS grain
		  FROM custfocus.measure m
		  LEFT JOIN custfocus.service s ON s.service_id = m.service_id
		 WHERE m.active AND m.metric <> 'response_count'
	),
	leaf AS (SELECT DISTINCT x.item_id FROM custfocus.rollup_measured_items() AS x (item_id)),
	-- which score each measured item counts for
	leaf_score AS (
		SELECT i.item_id, x.score
		  FROM custfocus.item i
		 CROSS JOIN LATERAL (VALUES ('csat', i.is_overall), ('nps', i.metric = 'nps'), ('lm', i.metric = 'rating')) AS x (score, member)
		 WHERE i.item_id IN (SELECT leaf.item_id FROM leaf) AND x.member
	),
	-- measured requirements whose items all count for one score
	req_score AS (
		SELECT i.requirement_id, ls.score
		  FROM custfocus.item i
		  JOIN leaf_score ls ON ls.item_id = i.item_id
		 WHERE i.requirement_id IN (SELECT sh.node_id FROM shows sh WHERE sh.node = 'requirement')
		 GROUP BY 1, 2
		HAVING count(*) = (SELECT count(*) FROM custfocus.item i2 WHERE i2.requirement_id = i.requirement_id)
	),
	-- every entity the table may have, numbered in the order the cells
	-- are (one without cells this year has none), with how its cells'
	-- counts are made (0: given; 1: the sum of its members; 2: its base
	-- less its members) and where it is published (0: never; 1: always;
	-- 2: where a measure shows it)
	entity AS MATERIALIZED (
		SELECT row_number() OVER (ORDER BY d.node, d.node_id)::integer AS e, d.*
		  FROM (SELECT x.node, 0 AS node_id, 0 AS kind, NULL::text AS base, 1 AS published
				  FROM (VALUES ('csat'), ('nps'), ('lm')) AS x (node)
				UNION ALL
				SELECT 'item', l.item_id, 0, NULL, 2 FROM leaf l
				UNION ALL
				SELECT DISTINCT 'requirement', i.requirement_id, 1, NULL::text, 2
				  FROM custfocus.item i
				 WHERE i.item_id IN (SELECT leaf.item_id FROM leaf)
				   AND i.requirement_id IN (SELECT sh.node_id FROM shows sh WHERE sh.node = 'requirement')
				UNION ALL
				-- the rest of a score's answers, where it has measured items
				SELECT DISTINCT 'rest_' || ls.score, 0, 2, ls.score, 0 FROM leaf_score ls) d
	),
	-- a requirement's cells are the sums of its measured items', a rest's
	-- its score's less those of the measured items that count for it
	member AS (
		SELECT ep.e AS parent, ec.e AS child
		  FROM entity ep
		  JOIN custfocus.item i ON ep.node = 'requirement' AND i.requirement_id = ep.node_id
		  JOIN entity ec ON ec.node = 'item' AND ec.node_id = i.item_id
		UNION ALL
		SELECT ep.e, ec.e
		  FROM leaf_score ls
		  JOIN entity ep ON ep.node = 'rest_' || ls.score AND ep.node_id = 0
		  JOIN entity ec ON ec.node = 'item' AND ec.node_id = ls.item_id
	),
	-- the units numbered, with the unit above each: a service's program, a
	-- program's parent (0: none)
	unit AS MATERIALIZED (
		SELECT row_number() OVER (ORDER BY x.program_id, x.unit_service_id)::integer AS u, x.*
		  FROM (SELECT DISTINCT ru.program_id, ru.unit_service_id,
					   CASE WHEN ru.unit_service_id <> 0 THEN ru.program_id ELSE p.parent_id END AS parent_program_id
				  FROM custfocus.report_unit ru
				  JOIN custfocus.program p ON p.program_id = ru.program_id) x
	),
	-- Several years are one table of disjoint blocks: year yi's unit u is
	-- yi x U + u, and its services' months are counted in its own units
	-- (service key yi x S + s).  No relation joins two years, and the
	-- method finds in each what it finds alone (its choices follow the
	-- order of each block's cells and relations, which is the same); the
	-- roll-ups are read and the statement planned once, not once a year.
	svc AS MATERIALIZED (
		SELECT row_number() OVER (ORDER BY d.service_id)::integer AS s, d.service_id
		  FROM (SELECT DISTINCT ru.service_id FROM custfocus.report_unit ru) d
	),
	nb AS (SELECT (SELECT count(*) FROM unit)::integer AS nu, (SELECT count(*) FROM svc)::integer AS ns),
	-- a score is the sum of its measured requirements (whose items all
	-- count for it: a published requirement is one node of the sum; as two
	-- items, the score minus the requirement gave the rest away, found a
	-- review), its other measured items and its rest; a requirement of its
	-- items
	erel AS (
		SELECT ep.e AS parent, ec.e AS child
		  FROM (SELECT rs.score, 'requirement' AS node, rs.requirement_id AS node_id FROM req_score rs
				UNION ALL
				SELECT ls.score, 'item', ls.item_id FROM leaf_score ls
				  JOIN custfocus.item i ON i.item_id = ls.item_id
				 WHERE NOT EXISTS (SELECT FROM req_score rs
									WHERE rs.score = ls.score AND rs.requirement_id = i.requirement_id)
				UNION ALL
				SELECT DISTINCT ls.score, 'rest_' || ls.score, 0 FROM leaf_score ls) m
		  JOIN entity ep ON ep.node = m.score AND ep.node_id = 0
		  JOIN entity ec ON ec.node = m.node AND ec.node_id = m.node_id
		UNION ALL
		SELECT m.parent, m.child FROM member m JOIN entity ep ON ep.e = m.parent AND ep.node = 'requirement'
	),
	-- the cells built and solved in C (a slot: months 0..11, quarters
	-- 12..15, the year 16)
	hidden AS (
		SELECT g.*
		  FROM custfocus.rollup_hidden_grid(
				   (SELECT array_agg(ARRAY[en.kind, coalesce(b.e, 0), en.published] ORDER BY en.e)
					  FROM entity en LEFT JOIN entity b ON b.node = en.base AND b.node_id = 0),
				   coalesce((SELECT array_agg(ARRAY[m.parent, m.child]) FROM member m), '{}'),
				   coalesce((SELECT array_agg(CASE WHEN pu.u IS NULL THEN 0 ELSE y.yi * nb.nu + pu.u END ORDER BY y.yi, x.u)
							   FROM y CROSS JOIN nb CROSS JOIN unit x
							   LEFT JOIN unit pu ON pu.program_id = x.parent_program_id AND pu.unit_service_id = 0),
							'{}'),
				   coalesce((SELECT array_agg(ARRAY[y.yi * nb.ns + sv.s, y.yi * nb.nu + un.u])
							   FROM custfocus.report_unit ru
							   JOIN svc sv ON sv.service_id = ru.service_id
							   JOIN unit un ON un.program_id = ru.program_id AND un.unit_service_id = ru.unit_service_id
							  CROSS JOIN y CROSS JOIN nb),
							'{}'),
				   -- the three scores' cells, from the unit roll-up
				   coalesce((SELECT array_agg(ARRAY[x.e, y.yi * nb.nu + un.u,
												CASE r.grain WHEN 'month' THEN extract(month FROM r.period_start)::integer - 1
															 WHEN 'quarter' THEN 12 + (extract(month FROM r.period_start)::integer - 1) / 3
															 ELSE 16 END,
												coalesce(x.n, 0)::bigint])
							   FROM custfocus.rollup_unit_period r
							   JOIN unit un ON un.program_id = r.program_id AND un.unit_service_id = r.unit_service_id
							  CROSS JOIN LATERAL (VALUES ((SELECT en.e FROM entity en WHERE en.node = 'csat'), r.csat[1]),
														 ((SELECT en.e FROM entity en WHERE en.node = 'nps'), r.nps[1]),
														 ((SELECT en.e FROM entity en WHERE en.node = 'lm'), r.lm[1])) AS x (e, n)
							   JOIN y ON y.yr = extract(year FROM r.period_start)::integer
							  CROSS JOIN nb CROSS JOIN yb
							  WHERE r.period_start >= yb.lo AND r.period_start < yb.hi),
							'{}'),
				   -- the measured items' cells, from the item roll-up (not
				   -- read at all without measures; one scan: a probe per
				   -- service and measured item took longer)
				   coalesce((SELECT array_agg(ARRAY[en.e, y.yi * nb.ns + sv.s, extract(month FROM r.month)::integer - 1, r.n])
							   FROM custfocus.rollup_item_month r
							   JOIN entity en ON en.node = 'item' AND en.node_id = r.item_id
							   JOIN svc sv ON sv.service_id = r.service_id
							   JOIN y ON y.yr = extract(year FROM r.month)::integer
							  CROSS JOIN nb CROSS JOIN yb
							  WHERE (SELECT EXISTS (SELECT FROM leaf))
							    AND r.item_id = ANY (ARRAY(SELECT leaf.item_id FROM leaf))
								AND r.month >= yb.lo AND r.month < yb.hi),
							'{}'),
				   coalesce((SELECT array_agg(ARRAY[en.e, y.yi * nb.nu + un.u, CASE sh.grain WHEN 'month' THEN 0 WHEN 'quarter' THEN 1 ELSE 2 END])
							   FROM shows sh
							   JOIN entity en ON en.node = sh.node AND en.node_id = sh.node_id
							   JOIN unit un ON un.program_id = sh.program_id AND un.unit_service_id = sh.unit_service_id
							  CROSS JOIN y CROSS JOIN nb
							  WHERE sh.grain IN ('month', 'quarter', 'year')),
							'{}'),
				   coalesce((SELECT array_agg(ARRAY[r.parent, r.child] ORDER BY r.parent, r.child) FROM erel r), '{}'),
				   (SELECT s.min_responses FROM custfocus.setting s),
				   -- p_from_stored: the stored cells, kept and completed
				   CASE WHEN p_from_stored THEN coalesce((
					   SELECT array_agg(ARRAY[en.e, y.yi * nb.nu + un.u,
											  CASE h.grain WHEN 'month' THEN extract(month FROM h.period_start)::integer - 1
														   WHEN 'quarter' THEN 12 + (extract(month FROM h.period_start)::integer - 1) / 3
														   ELSE 16 END])
						 FROM (SELECT x.node, 0 AS node_id, h.program_id, h.unit_service_id, h.grain, h.period_start
								 FROM custfocus.rollup_hidden h
								CROSS JOIN LATERAL (VALUES ('csat', h.csat), ('nps', h.nps), ('lm', h.lm)) AS x (node, hidden)
								WHERE x.hidden
								UNION ALL
								SELECT h.node, h.node_id, h.program_id, h.unit_service_id, h.grain, h.period_start
								  FROM custfocus.rollup_hidden_measure h) h
						 JOIN entity en ON en.node = h.node AND en.node_id = h.node_id
						 JOIN unit un ON un.program_id = h.program_id AND un.unit_service_id = h.unit_service_id
						 JOIN y ON y.yr = extract(year FROM h.period_start)::integer
						CROSS JOIN nb), '{}') END) AS g (entity, unit, slot)
	)
	SELECT en.node, en.node_id, un.program_id, un.unit_service_id,
		   CASE WHEN h.slot < 12 THEN 'month' WHEN h.slot < 16 THEN 'quarter' ELSE 'year' END,
		   make_date(y.yr, CASE WHEN h.slot < 12 THEN h.slot + 1 WHEN h.slot < 16 THEN 3 * (h.slot - 12) + 1 ELSE 1 END, 1)
	  FROM hidden h
	 CROSS JOIN nb
	  JOIN y ON y.yi = (h.unit - 1) / nb.nu
	  JOIN unit un ON un.u = (h.unit - 1) % nb.nu + 1
	  JOIN entity en ON en.e = h.entity
$$;
COMMENT ON FUNCTION custfocus.rollup_hidden_compute(date[], boolean) IS
'The complementary suppression of the years of p_years (dates in them), each year''s table on its own: the published cells (scorecard scores, measured items and requirements) to hide besides those of too few answers, computed from the roll-ups at the agency floor (p_from_stored: starting from the stored cells, which it keeps)';

-- Whether the complementary cells stay right after answers were added to
-- the given keys (p_answers: how many to each), without computing them
-- again.  They do when every cell the answers count in had, before them, at
-- least the floor's answers (or none, and still none), and still has: no
-- cell becomes shown or hidden, known or unknown, and every sum of unknown
-- cells only grows (src/suppress.c's method would find nothing new to
-- hide).  Checked on each key's cells, the finest (a unit or period above
-- holds at least as many): the three scores' and the measured items' and
-- their rest's, before being taken to be the count now less every answer
-- added to the key (a bound: not all of them are of each score).  Called
-- under the year's lock (rollup_hidden_refresh), so that "now" includes
-- every transaction that committed before.
CREATE FUNCTION custfocus.rollup_hidden_unchanged(p_services integer[], p_months date[], p_answers bigint[])
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	-- (Each key's roll-up rows are read once, by index, and every cell is
	-- derived from what they carry, without joins: the planner takes the
	-- keys for ten rows, and any join on them became a nested loop over
	-- every key.  With a sub-select per item for each score's rest, an
	-- import that touched every service-month of a year paid 70 ms a year.)
	WITH k AS MATERIALIZED (
		SELECT y.service_id, y.month, y.added, s.csat, s.nps, s.lm
		  FROM (SELECT x.service_id, x.month, sum(x.answers) AS added
				  FROM unnest(p_services, p_months, p_answers) AS x (service_id, month, answers)
				 GROUP BY 1, 2 HAVING sum(x.answers) > 0) y
		 CROSS JOIN LATERAL (SELECT coalesce(sum(r.csat[1]), 0) AS csat, coalesce(sum(r.nps[1]), 0) AS nps,
									coalesce(sum(r.lm[1]), 0) AS lm
							   FROM custfocus.rollup_service_month r
							  WHERE r.service_id = y.service_id AND r.month = y.month) s
	),
	floor AS (SELECT s.min_responses AS f FROM custfocus.setting s),
	measured AS (SELECT x.item_id FROM custfocus.rollup_measured_items() AS x (item_id)),
	-- each measured item of each key, once per score it counts in (and once
	-- as itself: score NULL)
	member AS MATERIALIZED (
		SELECT k.service_id, k.month, k.added, li.n, sc.score,
			   CASE sc.score WHEN 'csat' THEN k.csat WHEN 'nps' THEN k.nps WHEN 'lm' THEN k.lm END AS score_n
		  FROM k
		 CROSS JOIN LATERAL (
			SELECT r.item_id, sum(r.n) AS n
			  FROM custfocus.rollup_item_month r
			 WHERE r.service_id = k.service_id AND r.month = k.month
			   AND r.item_id IN (SELECT measured.item_id FROM measured)
			 GROUP BY r.item_id) li
		 CROSS JOIN LATERAL (SELECT i.is_overall, i.metric FROM custfocus.item i WHERE i.item_id = li.item_id) i
		 CROSS JOIN LATERAL (VALUES (NULL, true), ('csat', i.is_overall), ('nps', i.metric = 'nps'),
									('lm', i.metric = 'rating')) AS sc (score, member)
		 WHERE sc.member
	),
	cells AS (
		-- the three scores
		SELECT k.added, x.n FROM k CROSS JOIN LATERAL (VALUES (k.csat), (k.nps), (k.lm)) AS x (n)
		UNION ALL
		-- the measured items
		SELECT m.added, m.n FROM member m WHERE m.score IS NULL
		UNION ALL
		-- each score's rest, beside the measured items that count in it
		SELECT m.added, max(m.score_n) - sum(m.n)
		  FROM member m WHERE m.score IS NOT NULL
		 GROUP BY m.service_id, m.month, m.score, m.added
	)
	-- (stops at the first cell that may have changed: the CTEs are read
	-- as far as needed, and an import into every key fails at its first)
	SELECT NOT EXISTS (SELECT FROM cells c, floor f WHERE NOT (c.n = 0 OR c.n - c.added >= f.f))
$$;
COMMENT ON FUNCTION custfocus.rollup_hidden_unchanged(integer[], date[], bigint[]) IS
'Whether the complementary suppression stays right after the given numbers of answers were added to the given (service, month) keys: every cell they count in had at least the floor''s answers before and has after';

-- The complementary cells of the years of the given keys, computed again
-- (p_answers NULL), or checked and computed again only where answers added
-- to the keys (p_answers) may have changed them.
CREATE FUNCTION custfocus.rollup_hidden_refresh(p_services integer[], p_months date[], p_answers bigint[] DEFAULT NULL)
RETURNS TABLE (changed_program_id integer, changed_unit_service_id integer)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_year date;
	v_years date[] := '{}';
	v_old custfocus.rollup_hidden[];
	v_old_measure custfocus.rollup_hidden_measure[];
BEGIN
	FOR v_year IN SELECT DISTINCT date_trunc('year', y)::date FROM unnest(p_months) AS y WHERE y IS NOT NULL ORDER BY 1 LOOP
		-- one computation or check of a year at a time (see rollup_hidden);
		-- every year locked, in order, before any is computed
		INSERT INTO custfocus.rollup_hidden_year AS h (year, computations) VALUES (v_year, 0)
			ON CONFLICT (year) DO NOTHING;
		PERFORM 1 FROM custfocus.rollup_hidden_year h WHERE h.year = v_year FOR UPDATE;
		IF p_answers IS NOT NULL
		   AND custfocus.rollup_hidden_unchanged(
				   ARRAY(SELECT x.s FROM unnest(p_services, p_months, p_answers) AS x (s, m, a)
						  WHERE date_trunc('year', x.m) = v_year ORDER BY x.s, x.m),
				   ARRAY(SELECT x.m FROM unnest(p_services, p_months, p_answers) AS x (s, m, a)
						  WHERE date_trunc('year', x.m) = v_year ORDER BY x.s, x.m),
				   ARRAY(SELECT x.a FROM unnest(p_services, p_months, p_answers) AS x (s, m, a)
						  WHERE date_trunc('year', x.m) = v_year ORDER BY x.s, x.m)) THEN
			CONTINUE;
		END IF;
		UPDATE custfocus.rollup_hidden_year h SET computations = h.computations + 1 WHERE h.year = v_year;
		v_years := v_years || v_year;
	END LOOP;
	IF cardinality(v_years) = 0 THEN
		RETURN;
	END IF;
	-- the years computed again at once (one reading of the roll-ups)
	WITH gone AS (
		DELETE FROM custfocus.rollup_hidden h
		 WHERE date_trunc('year', h.period_start)::date = ANY (v_years)
		RETURNING h.*
	)
	SELECT array_agg(g) INTO v_old FROM gone g;
	WITH gone AS (
		DELETE FROM custfocus.rollup_hidden_measure h
		 WHERE date_trunc('year', h.period_start)::date = ANY (v_years)
		RETURNING h.*
	)
	SELECT array_agg(g) INTO v_old_measure FROM gone g;
	WITH c AS MATERIALIZED (SELECT * FROM custfocus.rollup_hidden_compute(v_years)),
	m AS (
		INSERT INTO custfocus.rollup_hidden_measure
		SELECT c.node, c.node_id, c.program_id, c.unit_service_id, c.grain, c.period_start
		  FROM c WHERE c.node IN ('item', 'requirement')
	)
	INSERT INTO custfocus.rollup_hidden
	SELECT c.program_id, c.unit_service_id, c.grain, c.period_start,
		   bool_or(c.node = 'csat'), bool_or(c.node = 'nps'), bool_or(c.node = 'lm')
	  FROM c WHERE c.node IN ('csat', 'nps', 'lm')
	 GROUP BY 1, 2, 3, 4;
	-- the units whose cells changed (to publish), of the scores and of
	-- the measures (what the key drivers' windows are checked against):
	-- the symmetric difference of the years' cells before and after,
	-- each cell its unit and its row as text (the two tables' rows
	-- never read alike)
	RETURN QUERY
	WITH cells_before AS (
		SELECT o.program_id, o.unit_service_id, o::text AS cell FROM unnest(v_old) AS o
		UNION ALL
		SELECT o.program_id, o.unit_service_id, o::text FROM unnest(v_old_measure) AS o
	),
	cells_after AS (
		SELECT h.program_id, h.unit_service_id, h::text AS cell FROM custfocus.rollup_hidden h
		 WHERE date_trunc('year', h.period_start)::date = ANY (v_years)
		UNION ALL
		SELECT h.program_id, h.unit_service_id, h::text FROM custfocus.rollup_hidden_measure h
		 WHERE date_trunc('year', h.period_start)::date = ANY (v_years)
	)
	SELECT DISTINCT d.program_id, d.unit_service_id
	  FROM ((SELECT * FROM cells_before EXCEPT SELECT * FROM cells_after)
			UNION ALL
			(SELECT * FROM cells_after EXCEPT SELECT * FROM cells_before)) d;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_hidden_refresh(integer[], date[], bigint[]) IS
'Computes the complementary suppression (rollup_hidden, rollup_hidden_measure) of the years of the given (service, month) keys again, one year at a time; given the answers added to each key, only the years where they may have changed it; returns the units (program, unit service) whose cells in rollup_hidden or rollup_hidden_measure changed';

-- Ask for the complementary suppression of keys to be computed again when
-- the transaction commits (with all keys when p_services is NULL).
CREATE FUNCTION custfocus.rollup_hidden_touch(p_services integer[], p_months date[]) RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	-- the lock appenders hold (see rollup_units_rebuild)
	LOCK TABLE custfocus.rollup_service_month, custfocus.rollup_item_month, custfocus.rollup_unit_period
		IN ROW EXCLUSIVE MODE;
	-- every key: said so, and listed at commit (rollup_commit_compact)
	INSERT INTO custfocus.rollup_pending (services, months, scope)
	SELECT '{}', '{}', 'all' WHERE p_services IS NULL;
	INSERT INTO custfocus.rollup_pending (services, months)
	SELECT array_agg(k.service_id), array_agg(k.month)
	  FROM (SELECT DISTINCT k.service_id, k.month FROM unnest(p_services, p_months) AS k (service_id, month)
			 WHERE k.service_id IS NOT NULL) k
	HAVING count(*) > 0;
$$;
COMMENT ON FUNCTION custfocus.rollup_hidden_touch(integer[], date[]) IS
'Roll-up triggers only: queues the keys (every key when p_services is NULL) for compaction and complementary suppression at commit';

-- A new agency floor changes what is small, a measure added, changed or
-- dropped what is published, an item given another requirement what a
-- requirement's cells hold: every year again, at commit.
CREATE FUNCTION custfocus.rollup_hidden_all() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
	PERFORM custfocus.rollup_hidden_touch(NULL, NULL);
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_hidden_all() IS
'Trigger: the complementary suppression of every year is computed again at commit (a new floor, measures or requirements of items changed)';
CREATE TRIGGER rollup_hidden_floor AFTER UPDATE OF min_responses ON custfocus.setting
	FOR EACH ROW WHEN (OLD.min_responses IS DISTINCT FROM NEW.min_responses)
	EXECUTE FUNCTION custfocus.rollup_hidden_all();
CREATE TRIGGER rollup_hidden_measure AFTER INSERT OR UPDATE OR DELETE ON custfocus.measure
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_hidden_all();
CREATE TRIGGER rollup_hidden_requirement AFTER UPDATE OF requirement_id ON custfocus.item
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_hidden_all();

-- An item of a requirement added or deleted changes which items the
-- requirement has, even without answers: the relations of the
-- complementary suppression, and whether a measure of an item is a measure
-- of the requirement's only item (the key drivers' check): every year
-- again at commit, as for an item given another requirement (found by a
-- review).
CREATE FUNCTION custfocus.rollup_item_membership() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM custfocus.rollup_hidden_touch(NULL, NULL) WHERE EXISTS (SELECT FROM new_item n WHERE n.requirement_id IS NOT NULL);
	ELSE
		PERFORM custfocus.rollup_hidden_touch(NULL, NULL) WHERE EXISTS (SELECT FROM old_item o WHERE o.requirement_id IS NOT NULL);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_item_membership() IS
'Trigger: an item of a requirement added or deleted, the complementary suppression of every year is computed again and everything published again at commit';
REVOKE ALL ON FUNCTION custfocus.rollup_item_membership() FROM PUBLIC;
CREATE TRIGGER rollup_hidden_item_insert AFTER INSERT ON custfocus.item
	REFERENCING NEW TABLE AS new_item
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_item_membership();
CREATE TRIGGER rollup_hidden_item_delete AFTER DELETE ON custfocus.item
	REFERENCING OLD TABLE AS old_item
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_item_membership();

-- Every key whose merged roll-up differs from a recomputation: counts must
-- be equal, float sums equal to 1e-12 relative.  Empty when all is well.
CREATE FUNCTION custfocus.rollup_verify()
RETURNS TABLE (service_id integer, month date, problem text)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH stored AS (
		SELECT r.service_id, r.month, sum(r.responses) AS responses,
			   custfocus.sums_sum(r.csat) AS csat, custfocus.counts_sum(r.csat_counts) AS csat_counts,
			   custfocus.sums_sum(r.nps) AS nps, custfocus.moments_sum(r.lm) AS lm
		  FROM custfocus.rollup_service_month r GROUP BY 1, 2
	),
	fresh AS (
		SELECT c.* FROM (
			SELECT array_agg(k.service_id) AS s, array_agg(k.month) AS m
			  FROM (SELECT DISTINCT r.service_id, date_trunc('month', timezone((SELECT custfocus.reporting_time_zone()), r.submitted_at))::date AS month
					  FROM custfocus.response r WHERE r.service_id IS NOT NULL) k
		) keys
		CROSS JOIN LATERAL custfocus.rollup_compute(keys.s, keys.m) c
	),
	cmp AS (
		SELECT coalesce(s.service_id, f.service_id) AS service_id, coalesce(s.month, f.month) AS month,
			   s.responses AS s_resp, f.responses AS f_resp,
			   coalesce(s.csat, '{0,0,0,0}') AS s_csat, coalesce(f.csat, '{0,0,0,0}') AS f_csat,
			   coalesce(s.csat_counts, '{0,0}') AS s_cc, coalesce(f.csat_counts, '{0,0}') AS f_cc,
			   coalesce(s.nps, '{0,0,0,0,0,0}') AS s_nps, coalesce(f.nps, '{0,0,0,0,0,0}') AS f_nps,
			   coalesce(s.lm, '{0,0,0,0,0}') AS s_lm, coalesce(f.lm, '{0,0,0,0,0}') AS f_lm
		  FROM stored s FULL JOIN fresh f ON f.service_id = s.service_id AND f.month = s.month
	)
	SELECT c.service_id, c.month, p.problem
	  FROM cmp c
	 CROSS JOIN LATERAL (
		SELECT CASE WHEN c.s_resp IS DISTINCT FROM c.f_resp THEN format('responses %s, recomputed %s', c.s_resp, c.f_resp)
					WHEN c.s_cc IS DISTINCT FROM c.f_cc THEN format('csat counts %s, recomputed %s', c.s_cc, c.f_cc)
					WHEN EXISTS (SELECT FROM unnest(c.s_csat || c.s_nps || c.s_lm, c.f_csat || c.f_nps || c.f_lm) AS x (a, b)
								  WHERE abs(x.a - x.b) > 1e-12 * greatest(abs(x.a), abs(x.b), 1e-300))
					THEN format('states %s, recomputed %s', c.s_csat || c.s_nps || c.s_lm, c.f_csat || c.f_nps || c.f_lm)
			   END AS problem) p
	 WHERE p.problem IS NOT NULL
	UNION ALL
	-- and every unit key whose rows do not merge to the service-months'
	SELECT c.unit_service_id, c.period_start, format('unit (program %s, service %s, %s): %s', c.program_id,
													 c.unit_service_id, c.grain, p.problem)
	  FROM (
		SELECT coalesce(s.program_id, f.program_id) AS program_id,
			   coalesce(s.unit_service_id, f.unit_service_id) AS unit_service_id,
			   coalesce(s.grain, f.grain) AS grain, coalesce(s.period_start, f.period_start) AS period_start,
			   s.responses AS s_resp, f.responses AS f_resp,
			   coalesce(s.csat_counts, '{0,0}') AS s_cc, coalesce(f.csat_counts, '{0,0}') AS f_cc,
			   coalesce(s.csat, '{0,0,0,0}') || coalesce(s.nps, '{0,0,0,0,0,0}') || coalesce(s.lm, '{0,0,0,0,0}') AS s_st,
			   coalesce(f.csat, '{0,0,0,0}') || coalesce(f.nps, '{0,0,0,0,0,0}') || coalesce(f.lm, '{0,0,0,0,0}') AS f_st
		  FROM (SELECT r.program_id, r.unit_service_id, r.grain, r.period_start, sum(r.responses) AS responses,
					   custfocus.sums_sum(r.csat) AS csat, custfocus.counts_sum(r.csat_counts) AS csat_counts,
					   custfocus.sums_sum(r.nps) AS nps, custfocus.moments_sum(r.lm) AS lm
				  FROM custfocus.rollup_unit_period r GROUP BY 1, 2, 3, 4) s
		  FULL JOIN (
				SELECT u.program_id, u.unit_service_id, g.grain, date_trunc(g.grain, b.month)::date AS period_start,
					   sum(b.responses) AS responses, custfocus.sums_sum(b.csat) AS csat,
					   custfocus.counts_sum(b.csat_counts) AS csat_counts, custfocus.sums_sum(b.nps) AS nps,
					   custfocus.moments_sum(b.lm) AS lm
				  FROM custfocus.rollup_service_month b
				  JOIN custfocus.report_unit u ON u.service_id = b.service_id
				 CROSS JOIN (VALUES ('month'), ('quarter'), ('year')) AS g (grain)
				 GROUP BY 1, 2, 3, 4) f
			ON f.program_id = s.program_id AND f.unit_service_id = s.unit_service_id
		   AND f.grain = s.grain AND f.period_start = s.period_start
	  ) c
	 CROSS JOIN LATERAL (
		SELECT CASE WHEN c.s_resp IS DISTINCT FROM c.f_resp THEN format('responses %s, merged %s', c.s_resp, c.f_resp)
					WHEN c.s_cc IS DISTINCT FROM c.f_cc THEN format('csat counts %s, merged %s', c.s_cc, c.f_cc)
					WHEN EXISTS (SELECT FROM unnest(c.s_st, c.f_st) AS x (a, b)
								  WHERE abs(x.a - x.b) > 1e-12 * greatest(abs(x.a), abs(x.b), 1e-300))
					THEN format('states %s, merged %s', c.s_st, c.f_st)
			   END AS problem) p
	 WHERE p.problem IS NOT NULL
	UNION ALL
	-- and every item key that differs from a recomputation: counts equal,
	-- sums and states to 1e-12 relative
	SELECT c.service_id, c.month, format('item %s: %s', c.item_id, p.problem)
	  FROM (
		SELECT coalesce(s.service_id, f.service_id) AS service_id, coalesce(s.month, f.month) AS month,
			   coalesce(s.item_id, f.item_id) AS item_id,
			   ARRAY[s.n, s.n_top2, s.n_top1, s.n_bottom2, s.n_bottom1] AS s_n,
			   ARRAY[f.n, f.n_top2, f.n_top1, f.n_bottom2, f.n_bottom1] AS f_n,
			   ARRAY[s.sum_w, s.sum_w2, s.sum_x, s.sum_wx, s.w_top2, s.w_top1, s.w_bottom2, s.w_bottom1, s.w_promoters,
					 s.w_detractors] || coalesce(s.perf, '{0,0,0,0,0}') || coalesce(s.pairs, '{0,0,0,0,0,0,0,0}') AS s_st,
			   ARRAY[f.sum_w, f.sum_w2, f.sum_x, f.sum_wx, f.w_top2, f.w_top1, f.w_bottom2, f.w_bottom1, f.w_promoters,
					 f.w_detractors] || coalesce(f.perf, '{0,0,0,0,0}') || coalesce(f.pairs, '{0,0,0,0,0,0,0,0}') AS f_st
		  FROM (SELECT r.service_id, r.month, r.item_id, sum(r.n)::bigint AS n, sum(r.sum_w) AS sum_w, sum(r.sum_w2) AS sum_w2,
					   sum(r.sum_x) AS sum_x, sum(r.sum_wx) AS sum_wx, sum(r.n_top2)::bigint AS n_top2,
					   sum(r.n_top1)::bigint AS n_top1, sum(r.n_bottom2)::bigint AS n_bottom2,
					   sum(r.n_bottom1)::bigint AS n_bottom1, sum(r.w_top2) AS w_top2,
					   sum(r.w_top1) AS w_top1, sum(r.w_bottom2) AS w_bottom2, sum(r.w_bottom1) AS w_bottom1,
					   sum(r.w_promoters) AS w_promoters, sum(r.w_detractors) AS w_detractors,
					   custfocus.moments_sum(r.perf) AS perf, custfocus.pairs_sum(r.pairs) AS pairs
				  FROM custfocus.rollup_item_month r GROUP BY 1, 2, 3) s
		  FULL JOIN (
				SELECT c.* FROM (
					SELECT array_agg(k.service_id) AS s, array_agg(k.month) AS m
					  FROM (SELECT DISTINCT r.service_id,
								   date_trunc('month', timezone((SELECT custfocus.reporting_time_zone()), r.submitted_at))::date AS month
							  FROM custfocus.response r WHERE r.service_id IS NOT NULL) k
				) keys
				CROSS JOIN LATERAL custfocus.rollup_item_compute(keys.s, keys.m) c) f
			ON f.service_id = s.service_id AND f.month = s.month AND f.item_id = s.item_id
	  ) c
	 -- centred sums (perf's weighted sum of squared deviations, element 15;
	 -- the pairs' Sxx, Syy, Sxy, elements 18, 20, 21) may be zero, or cancel
	 -- to near zero, where another order of summation leaves a rounding
	 -- error: they are compared to 1e-12 of the largest they could be (the
	 -- weight or the count times 100 squared, scores being on 0..100)
	 CROSS JOIN LATERAL (
		SELECT CASE WHEN c.s_n IS DISTINCT FROM c.f_n THEN format('counts %s, recomputed %s', c.s_n, c.f_n)
					WHEN EXISTS (SELECT FROM unnest(c.s_st, c.f_st) WITH ORDINALITY AS x (a, b, i)
								  WHERE x.a <> x.b   -- (NaN equals NaN here: the pairs' "all equal" marks)
									AND abs(x.a - x.b) > 1e-12 * greatest(abs(x.a), abs(x.b), 1e-300,
																		  CASE WHEN x.i = 15 THEN c.f_st[1] * 1e4
																			   WHEN x.i IN (18, 20, 21) THEN c.f_st[16] * 1e4 END))
					THEN format('states %s, recomputed %s', c.s_st, c.f_st)
			   END AS problem) p
	 WHERE p.problem IS NOT NULL
	UNION ALL
	-- and every pairs key that differs from a recomputation: the same
	-- items, counts equal, means and co-moments to 1e-12 relative (the
	-- co-moments of the largest they could be, n times 100 squared, as
	-- they may cancel to near zero; the means of 100, as a scale may
	-- straddle zero)
	SELECT c.service_id, c.month, format('pairs of survey %s: %s', c.survey_id, p.problem)
	  FROM (
		SELECT coalesce(s.service_id, f.service_id) AS service_id, coalesce(s.month, f.month) AS month,
			   coalesce(s.survey_id, f.survey_id) AS survey_id, s.state AS s_st, f.state AS f_st,
			   coalesce(f.state[1], 0)::integer AS p
		  FROM (SELECT r.service_id, r.month, r.survey_id, custfocus.pairwise_sum(r.state) AS state
				  FROM custfocus.rollup_pairs_month r GROUP BY 1, 2, 3) s
		  FULL JOIN (
				SELECT c.* FROM (
					SELECT array_agg(k.service_id) AS s, array_agg(k.month) AS m
					  FROM (SELECT DISTINCT r.service_id,
								   date_trunc('month', timezone((SELECT custfocus.reporting_time_zone()), r.submitted_at))::date AS month
							  FROM custfocus.response r WHERE r.service_id IS NOT NULL) k
				) keys
				CROSS JOIN LATERAL custfocus.rollup_pairs_compute(keys.s, keys.m) c) f
			ON f.service_id = s.service_id AND f.month = s.month AND f.survey_id = s.survey_id
	  ) c
	 CROSS JOIN LATERAL (
		-- (elements: p, the p item ids, then six per pair: n, two means,
		-- three co-moments; ids and counts equal, the rest to 1e-12)
		SELECT CASE WHEN cardinality(c.s_st) IS DISTINCT FROM cardinality(c.f_st)
					  OR EXISTS (SELECT FROM unnest(c.s_st, c.f_st) WITH ORDINALITY AS x (a, b, i)
								  CROSS JOIN LATERAL (SELECT (x.i - c.p - 2) % 6 AS o) y
								  WHERE x.a <> x.b
									AND (x.i <= c.p + 1 OR y.o = 0
										 OR abs(x.a - x.b) > 1e-12 * greatest(abs(x.a), abs(x.b),
																			  CASE WHEN y.o IN (1, 2) THEN 100
																				   ELSE c.f_st[x.i - y.o] * 1e4 END)))
					THEN format('states %s, recomputed %s', c.s_st, c.f_st)
			   END AS problem) p
	 WHERE p.problem IS NOT NULL
	UNION ALL
	-- the complementary suppression: the stored cells must protect every
	-- small group as the roll-ups stand, i.e. a computation that starts
	-- from them adds none (and they must be cells of the table).  Not
	-- equality with a computation from scratch: answers added to cells
	-- that have enough keep the cells (rollup_hidden_unchanged), where a
	-- computation from scratch might choose others.  (A transaction that
	-- changed answers sees the cells computed again only once it commits.)
	SELECT coalesce(s.unit_service_id, f.unit_service_id), coalesce(s.period_start, f.period_start),
		   format('complementary suppression of %s %s in program %s, service %s, %s: %s',
				  coalesce(s.node, f.node), coalesce(s.node_id, f.node_id), coalesce(s.program_id, f.program_id),
				  coalesce(s.unit_service_id, f.unit_service_id), coalesce(s.grain, f.grain),
				  CASE WHEN s.node IS NULL THEN 'missing' ELSE 'stored, not recomputed' END)
	  FROM (SELECT x.node, 0 AS node_id, h.program_id, h.unit_service_id, h.grain, h.period_start
			  FROM custfocus.rollup_hidden h
			 CROSS JOIN LATERAL (VALUES ('csat', h.csat), ('nps', h.nps), ('lm', h.lm)) AS x (node, hidden)
			 WHERE x.hidden
			UNION ALL
			SELECT * FROM custfocus.rollup_hidden_measure) s
	  FULL JOIN custfocus.rollup_hidden_compute(ARRAY(SELECT DISTINCT r.period_start FROM custfocus.rollup_unit_period r),
												true) f
		ON f.node = s.node AND f.node_id = s.node_id AND f.program_id = s.program_id
		   AND f.unit_service_id = s.unit_service_id AND f.grain = s.grain AND f.period_start = s.period_start
	 WHERE s.node IS NULL OR f.node IS NULL
$$;
COMMENT ON FUNCTION custfocus.rollup_verify() IS
'Lists every (service, month) whose roll-up (service-month, item or pairs) differs from a recomputation from the raw data, and every unit key whose roll-up differs from the merge of its service-months (none when all is well)';

-------------------------------------------------------------------------------
-- Keeping the roll-ups current
-------------------------------------------------------------------------------
-- Every trigger here and at commit runs with jit = off: it runs at every
-- write, its queries read a statement's rows or a few keys, and a plan the
-- planner prices over jit_above_cost (a transition table it cannot count,
-- nested loops disabled) would spend more time compiling than running.

-- Inserted responses: one delta row of counts per service and month.
-- (The test that the responses have no answers yet probes answer by
-- primary key with an array of their ids: as an anti-join with the
-- transition table it read the whole of answer's index for every batch.)
CREATE FUNCTION custfocus.rollup_response_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
SET jit = off
AS $$
DECLARE
	v_tz text := custfocus.reporting_time_zone();
	v_ids bigint[];
BEGIN
	-- an import's own statement: the import appends its deltas itself
	IF custfocus.rollup_import_claimed(TG_TABLE_NAME) THEN
		RETURN NULL;
	END IF;
	WITH d AS (
		INSERT INTO custfocus.rollup_service_month (service_id, month, responses)
		SELECT n.service_id, date_trunc('month', timezone(v_tz, n.submitted_at))::date, count(*)
		  FROM new_response n
		 WHERE n.service_id IS NOT NULL
		 GROUP BY 1, 2
		RETURNING *
	),
	du AS (
		INSERT INTO custfocus.rollup_unit_period
		SELECT x.* FROM custfocus.rollup_units_delta((SELECT array_agg(ROW(d.*)::custfocus.rollup_service_month) FROM d)) x
	)
	INSERT INTO custfocus.rollup_pending (services, months, answers)
	SELECT array_agg(d.service_id), array_agg(d.month), array_agg(0::bigint) FROM d HAVING count(*) > 0;
	-- they have no answers yet (rollup_answer_insert), unless a trigger of
	-- the user's gave them some as they were inserted
	SELECT array_agg(n.response_id) INTO v_ids FROM new_response n;
	PERFORM custfocus.rollup_fresh_add(v_ids);
	PERFORM custfocus.rollup_fresh_take(array_agg(DISTINCT a.response_id))
	   FROM custfocus.answer a WHERE a.response_id = ANY (v_ids)
	 HAVING count(*) > 0;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_response_insert() IS
'Trigger: appends the counts of inserted responses to the roll-ups (service-month and units), and records them as having no answers yet';
CREATE TRIGGER rollup_response_insert AFTER INSERT ON custfocus.response
	REFERENCING NEW TABLE AS new_response
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_response_insert();

-- Changed or deleted responses: recompute the keys they left and entered.
-- (Their answers, deleted by the cascade, are gone by then.)
CREATE FUNCTION custfocus.rollup_response_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
	v_tz text := custfocus.reporting_time_zone();
	v_services integer[];
	v_months date[];
BEGIN
	IF TG_OP = 'UPDATE' THEN
		-- every row whose service, time or weight changed, and every row
		-- whose id changed (it finds no twin on the other side)
		SELECT array_agg(k.service_id), array_agg(k.month) INTO v_services, v_months
		  FROM (SELECT x.service_id, date_trunc('month', timezone(v_tz, x.submitted_at))::date AS month
				  FROM old_response o FULL JOIN new_response n ON n.response_id = o.response_id
				 CROSS JOIN LATERAL (VALUES (o.service_id, o.submitted_at), (n.service_id, n.submitted_at))
						AS x (service_id, submitted_at)
				 WHERE o.response_id IS NULL OR n.response_id IS NULL
					OR (o.service_id, o.submitted_at, o.weight) IS DISTINCT FROM (n.service_id, n.submitted_at, n.weight)
				 GROUP BY 1, 2) k
		 WHERE k.service_id IS NOT NULL;
	ELSE
		SELECT array_agg(k.service_id), array_agg(k.month) INTO v_services, v_months
		  FROM (SELECT DISTINCT o.service_id, date_trunc('month', timezone(v_tz, o.submitted_at))::date AS month
				  FROM old_response o
				 WHERE o.service_id IS NOT NULL) k;
	END IF;
	-- an id that changed or went away may come back as someone else's
	PERFORM custfocus.rollup_fresh_take(array_agg(o.response_id)) FROM old_response o;
	IF v_services IS NOT NULL THEN
		PERFORM custfocus.rollup_refresh(v_services, v_months);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_response_change() IS
'Trigger: recomputes the roll-up keys of updated (service, time, weight) or deleted responses';
CREATE TRIGGER rollup_response_update AFTER UPDATE ON custfocus.response
	REFERENCING OLD TABLE AS old_response NEW TABLE AS new_response
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_response_change();
CREATE TRIGGER rollup_response_delete AFTER DELETE ON custfocus.response
	REFERENCING OLD TABLE AS old_response
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_response_change();

-- Inserted answers: one delta row of states per service and month, of the
-- unit roll-up per unit, grain and period, and of the item roll-up per
-- service, month and item (the keys are compacted when the transaction
-- commits).  The item roll-up pairs answers of one
-- respondent: the transition table alone gives the pairs when it holds
-- every answer its responses have, i.e. when every response is one this
-- transaction inserted without answers (rollup_fresh_take: every import,
-- and any load of responses then answers); otherwise the responses'
-- earlier answers are read too (before 1.4, their service-months were
-- recomputed: a web form saving answers one at a time to a stored response
-- recomputed its whole month each time).
-- Answers are matched to their responses by primary key, whatever the
-- statistics say halfway through a long load (as in answer_check); with
-- sequential scans priced out, JIT would compile every statement, so it is
-- off here.  The planner cannot know how many rows the transition table's
-- filters keep (it guesses far too many overall answers), and chose merge
-- joins that sort every new answer twice: hash joins it is.
CREATE FUNCTION custfocus.rollup_answer_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
SET enable_mergejoin = off
SET jit = off
AS $$
DECLARE
	v_responses bigint[];
	v_items integer[];
	v_fresh boolean;
	v_tz text := custfocus.reporting_time_zone();
BEGIN
	-- an import's own statement: the import appends its deltas itself
	IF custfocus.rollup_import_claimed(TG_TABLE_NAME) THEN
		RETURN NULL;
	END IF;
	-- The responses, items and scales these answers are counted with must
	-- not change unseen under them: an UPDATE of a response's weight,
	-- service or time, or of an item or a scale, in another transaction
	-- does not wait for the answers (their foreign keys take key-share locks
	-- only), and its recompute cannot see them.  Share locks make the later
	-- of the two wait for the other, and the states are computed in the
	-- next statement, which sees what the other committed (or, in
	-- REPEATABLE READ, fails to serialize).  Responses this transaction
	-- inserted itself (an import's) nobody else can see: no lock.
	-- (Each probes by primary key with an array of the new answers' keys:
	-- as a join or a semi-join with the transition table the planner may
	-- rescan one side once per row of the other.)
	SELECT array_agg(DISTINCT n.response_id), array_agg(DISTINCT n.item_id)
	  INTO v_responses, v_items FROM new_answer n;
	PERFORM 1 FROM custfocus.response r
	 WHERE r.response_id = ANY (v_responses)
	   AND r.xmin <> pg_catalog.xid(pg_catalog.pg_current_xact_id())
	 ORDER BY r.response_id FOR SHARE;
	PERFORM 1 FROM custfocus.item i WHERE i.item_id = ANY (v_items) ORDER BY i.item_id FOR SHARE;
	PERFORM 1 FROM custfocus.scale sc
	 WHERE sc.scale_id = ANY (ARRAY(SELECT i.scale_id FROM custfocus.item i WHERE i.item_id = ANY (v_items)))
	 ORDER BY sc.scale_id FOR SHARE;
	v_fresh := custfocus.rollup_fresh_take(v_responses);
	-- one pass over the new answers feeds every roll-up (each response read
	-- once, by primary key, not once per answer; the test of its service
	-- comes after, since as an index condition it made the planner, once
	-- statistics arrived, walk the whole (service_id, submitted_at) index
	-- for every batch)
	WITH resp AS MATERIALIZED (
		SELECT r.response_id, r.service_id, date_trunc('month', timezone(v_tz, r.submitted_at))::date AS month,
			   r.weight
		  FROM custfocus.response r
		 WHERE r.response_id = ANY (v_responses)
	),
	ans AS MATERIALIZED (
		SELECT r.service_id, r.month, n.response_id, n.item_id, r.weight, n.value, i.is_overall, i.metric,
			   custfocus.oriented_score(n.value, i.reverse_coded, sc.min_value, sc.max_value) AS score,
			   sc.min_value, sc.max_value
		  FROM new_answer n
		  JOIN resp r ON r.response_id = n.response_id
		  JOIN custfocus.item i ON i.item_id = n.item_id
		  JOIN custfocus.scale sc ON sc.scale_id = i.scale_id
		 WHERE n.value IS NOT NULL AND r.service_id IS NOT NULL
	),
	d AS (
		INSERT INTO custfocus.rollup_service_month
		SELECT a.service_id, a.month, 0,
			   custfocus.top_box_state(a.score, a.max_value - 1, a.weight)
				   FILTER (WHERE a.is_overall AND a.metric IN ('rating', 'nps')),
			   custfocus.top_box_state(a.score, a.max_value - 1) FILTER (WHERE a.is_overall),
			   custfocus.nps_state(a.value, a.weight) FILTER (WHERE a.metric = 'nps'),
			   custfocus.linear_mean_state(a.score, a.min_value, a.max_value, a.weight) FILTER (WHERE a.metric = 'rating')
		  FROM ans a
		 GROUP BY 1, 2
		RETURNING *
	),
	du AS (
		INSERT INTO custfocus.rollup_unit_period
		SELECT x.* FROM custfocus.rollup_units_delta((SELECT array_agg(ROW(d.*)::custfocus.rollup_service_month) FROM d)) x
	),
	-- The item roll-up pairs each answer with the same respondent's overall
	-- answer (as rollup_item_compute does).  A response had no answers
	-- before this statement when it is fresh (rollup_fresh_take: every
	-- import); otherwise its earlier answers are read, and the delta is
	-- exact: a response has one overall answer at most, so what a statement
	-- adds is its own answers (paired with the overall answer, old or new)
	-- and, when it brings the overall answer, the pairs of the earlier
	-- answers with it.  Nothing earlier changes.
	-- The earlier answers are the touched responses' answers that are not
	-- in the transition table.  They are told apart by grouping both on the
	-- primary key (a new answer is in both), never by joining the table
	-- with the transition table: an anti-join there, with the table's rows
	-- misestimated (statistics taken halfway through a load, or none since
	-- a TRUNCATE), became a nested loop over the transition table, and a
	-- COPY of 500,000 answers into stored responses ran for an hour.  The
	-- responses are then read by primary key, one probe per row, in a
	-- LATERAL subquery that OFFSET 0 keeps from being flattened: as a
	-- plain join, the planner (wanting the responses' order for a GROUP
	-- BY) scanned the responses and rescanned the materialized answers
	-- for each, and "= ANY (v_responses)" in the probe sorted the array
	-- again each time on PostgreSQL 19.  Both ran for an hour.
	old_ans AS MATERIALIZED (
		SELECT r.service_id, date_trunc('month', timezone(v_tz, r.submitted_at))::date AS month,
			   o.response_id, o.item_id, i.is_overall,
			   custfocus.oriented_score(o.value, i.reverse_coded, sc.min_value, sc.max_value) AS score,
			   sc.min_value, sc.max_value
		  FROM (SELECT u.response_id, u.item_id, max(u.value) AS value
				  FROM (SELECT n.response_id, n.item_id, NULL::real AS value, true AS fresh
						  FROM new_answer n
						 WHERE NOT v_fresh
						UNION ALL
						SELECT a.response_id, a.item_id, a.value, false
						  FROM custfocus.answer a
						 WHERE NOT v_fresh AND a.response_id = ANY (v_responses) AND a.value IS NOT NULL) u
				 GROUP BY 1, 2
				HAVING NOT bool_or(u.fresh)) o
		 CROSS JOIN LATERAL (SELECT r.service_id, r.submitted_at
							   FROM custfocus.response r
							  WHERE r.response_id = o.response_id AND r.service_id IS NOT NULL
							 OFFSET 0) r
		  JOIN custfocus.item i ON i.item_id = o.item_id
		  JOIN custfocus.scale sc ON sc.scale_id = i.scale_id
	),
	-- each response's overall score, and whether this statement brought it
	ovr AS MATERIALIZED (
		SELECT a.response_id, max(a.score) AS overall, true AS brought FROM ans a WHERE a.is_overall GROUP BY 1
		UNION ALL
		SELECT o.response_id, max(o.score), false FROM old_ans o WHERE o.is_overall GROUP BY 1
	),
	dd AS (
		INSERT INTO custfocus.rollup_item_month
		SELECT g.service_id, g.month, g.item_id, g.s[1]::bigint, g.s[2], g.s[3], g.s[4], g.s[5], g.s[6]::bigint,
			   g.s[7]::bigint, g.s[8]::bigint, g.s[9]::bigint, g.s[10], g.s[11], g.s[12], g.s[13], g.s[14], g.s[15],
			   g.s[16:20], g.s[21:28]
		  FROM (SELECT a.service_id, a.month, a.item_id,
					   custfocus.item_state(a.score, a.min_value, a.max_value, a.weight,
											CASE WHEN NOT a.is_overall THEN o.overall END) AS s
				  FROM ans a
				  LEFT JOIN (SELECT ovr.response_id, max(ovr.overall) AS overall FROM ovr GROUP BY 1) o
					ON o.response_id = a.response_id
				 GROUP BY 1, 2, 3
				UNION ALL
				-- the earlier answers' pairs with an overall answer this
				-- statement brought: pairs only (the answers themselves were
				-- counted when they came)
				SELECT x.service_id, x.month, x.item_id,
					   pg_catalog.array_fill(0::double precision, ARRAY[20]) || x.s[21:28]
				  FROM (SELECT o.service_id, o.month, o.item_id,
							   custfocus.item_state(o.score, o.min_value, o.max_value, 1, v.overall) AS s
						  FROM old_ans o
						  JOIN ovr v ON v.response_id = o.response_id AND v.brought
						 WHERE NOT o.is_overall
						 GROUP BY 1, 2, 3) x) g
	)
	-- the keys this statement appended to, compacted when the transaction
	-- commits (rollup_commit_compact), with the answers added to each
	INSERT INTO custfocus.rollup_pending (services, months, answers)
	SELECT array_agg(k.service_id), array_agg(k.month), array_agg(k.answers)
	  FROM (SELECT a.service_id, a.month, count(*) AS answers FROM ans a GROUP BY 1, 2) k
	HAVING count(*) > 0;
	-- The pairs roll-up: each response's answers, the pairs with at least
	-- one answer of this statement (fresh) added; pairs among its earlier
	-- answers were counted when they came.  A statement of its own, reading
	-- the transition table and the responses' answers again: as one more
	-- reader of the CTEs above, once they spilled to disk, it made a COPY
	-- of 500,000 answers into stored responses run for many minutes instead
	-- of seconds (readers at different places in a spilled tuplestore).
	-- New and earlier answers told apart by grouping, each response read
	-- by one probe of its primary key (LATERAL ... OFFSET 0), as in old_ans
	-- above, here once per response.
	INSERT INTO custfocus.rollup_pairs_month
	SELECT r.service_id, date_trunc('month', timezone(v_tz, r.submitted_at))::date, r.survey_id,
		   custfocus.pairwise_state(g.ids, g.scores, g.fresh)
	  FROM (SELECT a.response_id, array_agg(a.item_id) AS ids,
				   array_agg(custfocus.oriented_score(a.value, i.reverse_coded, sc.min_value, sc.max_value)) AS scores,
				   array_agg(a.fresh) AS fresh
			  FROM (SELECT u.response_id, u.item_id, max(u.value) AS value, bool_or(u.fresh) AS fresh
					  FROM (SELECT n.response_id, n.item_id, n.value, true AS fresh
							  FROM new_answer n WHERE n.value IS NOT NULL
							UNION ALL
							SELECT a.response_id, a.item_id, a.value, false
							  FROM custfocus.answer a
							 WHERE NOT v_fresh AND a.response_id = ANY (v_responses) AND a.value IS NOT NULL) u
					 GROUP BY 1, 2) a
			  JOIN custfocus.item i ON i.item_id = a.item_id
			  JOIN custfocus.scale sc ON sc.scale_id = i.scale_id
			 GROUP BY 1) g
	 CROSS JOIN LATERAL (SELECT r.service_id, r.survey_id, r.submitted_at
						   FROM custfocus.response r
						  WHERE r.response_id = g.response_id AND r.service_id IS NOT NULL
						 OFFSET 0) r
	 GROUP BY 1, 2, 3;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_answer_insert() IS
'Trigger: appends the states of inserted answers to the roll-ups (or recomputes the item keys of answers to responses that had answers)';
CREATE TRIGGER rollup_answer_insert AFTER INSERT ON custfocus.answer
	REFERENCING NEW TABLE AS new_answer
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_answer_insert();

-- Changed or deleted answers: recompute their responses' keys (an answer
-- deleted with its response finds no response: the response's own trigger
-- recomputes that key).
CREATE FUNCTION custfocus.rollup_answer_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
	v_tz text := custfocus.reporting_time_zone();
	v_services integer[];
	v_months date[];
BEGIN
	IF TG_OP = 'UPDATE' THEN
		-- answers whose response, item or value changed (matched on their
		-- key; a changed key finds no twin); a change of text alone, as
		-- retention's anonymising, counts for nothing here
		-- the responses now have answers (moved there, perhaps)
		PERFORM custfocus.rollup_fresh_take(array_agg(n.response_id)) FROM new_answer n;
		SELECT array_agg(k.service_id), array_agg(k.month) INTO v_services, v_months
		  FROM (SELECT DISTINCT r.service_id, date_trunc('month', timezone(v_tz, r.submitted_at))::date AS month
				  FROM (SELECT DISTINCT x.response_id
						  FROM old_answer o FULL JOIN new_answer n
							ON n.response_id = o.response_id AND n.item_id = o.item_id
						 CROSS JOIN LATERAL (VALUES (o.response_id), (n.response_id)) AS x (response_id)
						 WHERE (o.response_id IS NULL OR n.response_id IS NULL OR o.value IS DISTINCT FROM n.value)
						   AND x.response_id IS NOT NULL) a
				  JOIN custfocus.response r ON r.response_id = a.response_id
				 WHERE r.service_id IS NOT NULL) k;
	ELSE
		SELECT array_agg(k.service_id), array_agg(k.month) INTO v_services, v_months
		  FROM (SELECT DISTINCT r.service_id, date_trunc('month', timezone(v_tz, r.submitted_at))::date AS month
				  FROM (SELECT DISTINCT response_id FROM old_answer) a
				  JOIN custfocus.response r ON r.response_id = a.response_id
				 WHERE r.service_id IS NOT NULL) k;
	END IF;
	IF v_services IS NOT NULL THEN
		PERFORM custfocus.rollup_refresh(v_services, v_months);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_answer_change() IS
'Trigger: recomputes the roll-up keys of updated or deleted answers';
CREATE TRIGGER rollup_answer_update AFTER UPDATE ON custfocus.answer
	REFERENCING OLD TABLE AS old_answer NEW TABLE AS new_answer
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_answer_change();
CREATE TRIGGER rollup_answer_delete AFTER DELETE ON custfocus.answer
	REFERENCING OLD TABLE AS old_answer
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_answer_change();

-- What an item or a scale says about its answers (overall, metric, reverse
-- coding, range) changes what they count for: recompute every key with
-- answers to the items concerned.  Rare, and bounded by those answers.
CREATE FUNCTION custfocus.rollup_items_change(p_items integer[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tz text := custfocus.reporting_time_zone();
	v_services integer[];
	v_months date[];
BEGIN
	SELECT array_agg(k.service_id), array_agg(k.month) INTO v_services, v_months
	  FROM (SELECT DISTINCT r.service_id, date_trunc('month', timezone(v_tz, r.submitted_at))::date AS month
			  FROM custfocus.answer a
			  JOIN custfocus.response r ON r.response_id = a.response_id
			 WHERE a.item_id = ANY (p_items) AND r.service_id IS NOT NULL) k;
	IF v_services IS NOT NULL THEN
		PERFORM custfocus.rollup_refresh(v_services, v_months);
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_items_change(integer[]) IS
'Recomputes the roll-up keys that hold answers to the given items';

CREATE FUNCTION custfocus.rollup_item_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
	PERFORM custfocus.rollup_items_change(array_agg(n.item_id))
	   FROM old_item o JOIN new_item n ON n.item_id = o.item_id
	  WHERE (o.is_overall, o.metric, o.reverse_coded, o.scale_id, o.survey_id)
			IS DISTINCT FROM (n.is_overall, n.metric, n.reverse_coded, n.scale_id, n.survey_id)
	 HAVING count(*) > 0;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_item_update() IS
'Trigger: recomputes the roll-up keys of items whose overall flag, metric, reverse coding, scale or survey changed';
CREATE TRIGGER rollup_item_update AFTER UPDATE ON custfocus.item
	REFERENCING OLD TABLE AS old_item NEW TABLE AS new_item
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_item_update();

CREATE FUNCTION custfocus.rollup_scale_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
	PERFORM custfocus.rollup_items_change(array_agg(i.item_id))
	   FROM old_scale o JOIN new_scale n ON n.scale_id = o.scale_id
	   JOIN custfocus.item i ON i.scale_id = n.scale_id
	  WHERE (o.min_value, o.max_value) IS DISTINCT FROM (n.min_value, n.max_value)
	 HAVING count(*) > 0;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_scale_update() IS
'Trigger: recomputes the roll-up keys of the items on scales whose range changed';
CREATE TRIGGER rollup_scale_update AFTER UPDATE ON custfocus.scale
	REFERENCING OLD TABLE AS old_scale NEW TABLE AS new_scale
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_scale_update();

-- Emptied tables: nothing is left to roll up.
CREATE FUNCTION custfocus.rollup_truncate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.rollup_rebuild();
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_truncate() IS
'Trigger: rebuilds the roll-up after a TRUNCATE of responses or answers';
CREATE TRIGGER rollup_response_truncate AFTER TRUNCATE ON custfocus.response
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_truncate();
CREATE TRIGGER rollup_answer_truncate AFTER TRUNCATE ON custfocus.answer
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.rollup_truncate();

-------------------------------------------------------------------------------
-- The units a service counts for, as a table the views can join and filter
-------------------------------------------------------------------------------

-- The unit rows of the given unit keys, merged from the service-month
-- roll-up: what every row of a unit key merges to.
CREATE FUNCTION custfocus.rollup_units_compute(p_programs integer[], p_services integer[], p_grains text[],
											   p_periods date[])
RETURNS SETOF custfocus.rollup_unit_period
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT k.program_id, k.unit_service_id, k.grain, k.period_start, sum(b.responses),
		   custfocus.sums_sum(b.csat), custfocus.counts_sum(b.csat_counts), custfocus.sums_sum(b.nps),
		   custfocus.moments_sum(b.lm)
	  FROM (SELECT DISTINCT * FROM unnest(p_programs, p_services, p_grains, p_periods)
							 AS u (program_id, unit_service_id, grain, period_start)) k
	  JOIN custfocus.report_unit u ON u.program_id = k.program_id AND u.unit_service_id = k.unit_service_id
	  JOIN custfocus.rollup_service_month b ON b.service_id = u.service_id
		   AND b.month >= k.period_start
		   AND b.month < k.period_start + CASE k.grain WHEN 'month' THEN interval '1 month'
													   WHEN 'quarter' THEN interval '3 months'
													   ELSE interval '1 year' END
	 GROUP BY 1, 2, 3, 4
$$;
COMMENT ON FUNCTION custfocus.rollup_units_compute(integer[], integer[], text[], date[]) IS
'The unit roll-up of the given (program, service or 0, grain, period) keys, merged from rollup_service_month';

-- The unit deltas of service-month delta rows, merged per unit key: what
-- the insert triggers append to the unit roll-up in the statement that
-- appends the service-month rows.
CREATE FUNCTION custfocus.rollup_units_delta(p_rows custfocus.rollup_service_month[])
RETURNS SETOF custfocus.rollup_unit_period
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	-- each unit's months first, its quarters and years merged from them
	-- (each service-month merged once, not once a grain: an import into
	-- every month of the benchmark agency, 19 ms to 11)
	WITH um AS MATERIALIZED (
		SELECT u.program_id, u.unit_service_id, b.month, sum(b.responses) AS responses,
			   custfocus.sums_sum(b.csat) AS csat, custfocus.counts_sum(b.csat_counts) AS csat_counts,
			   custfocus.sums_sum(b.nps) AS nps, custfocus.moments_sum(b.lm) AS lm
		  FROM unnest(p_rows) AS b
		  JOIN custfocus.report_unit u ON u.service_id = b.service_id
		 GROUP BY 1, 2, 3
	)
	SELECT m.program_id, m.unit_service_id, 'month', m.month, m.responses, m.csat, m.csat_counts, m.nps, m.lm
	  FROM um m
	UNION ALL
	SELECT m.program_id, m.unit_service_id, g.grain, date_trunc(g.grain, m.month)::date, sum(m.responses),
		   custfocus.sums_sum(m.csat), custfocus.counts_sum(m.csat_counts), custfocus.sums_sum(m.nps),
		   custfocus.moments_sum(m.lm)
	  FROM um m
	 CROSS JOIN (VALUES ('quarter'), ('year')) AS g (grain)
	 GROUP BY 1, 2, 3, 4
$$;
COMMENT ON FUNCTION custfocus.rollup_units_delta(custfocus.rollup_service_month[]) IS
'The unit roll-up rows that the given service-month delta rows add, merged per unit key';

-- Merge each unit key's rows into one, skipping keys others hold.
CREATE FUNCTION custfocus.rollup_units_compact(p_programs integer[] DEFAULT NULL, p_services integer[] DEFAULT NULL,
											   p_grains text[] DEFAULT NULL, p_periods date[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k record;
	v_n bigint;
BEGIN
	SELECT array_agg(x.program_id ORDER BY x.h) AS p, array_agg(x.unit_service_id ORDER BY x.h) AS s,
		   array_agg(x.grain ORDER BY x.h) AS g, array_agg(x.period_start ORDER BY x.h) AS t
	  INTO k
	  FROM (SELECT r.program_id, r.unit_service_id, r.grain, r.period_start,
				   pg_catalog.hashtextextended(format('custfocus.rollup unit %s %s %s %s', r.program_id,
											   r.unit_service_id, r.grain, r.period_start), 0) AS h
			  FROM custfocus.rollup_unit_period r
			 WHERE p_programs IS NULL
				OR (r.program_id, r.unit_service_id, r.grain, r.period_start)
				   IN (SELECT * FROM unnest(p_programs, p_services, p_grains, p_periods))
			 GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) x
	 WHERE pg_try_advisory_xact_lock(x.h);
	IF k.p IS NULL THEN
		RETURN 0;
	END IF;
	WITH u AS (SELECT * FROM unnest(k.p, k.s, k.g, k.t) AS u (program_id, unit_service_id, grain, period_start)),
	gone AS (
		DELETE FROM custfocus.rollup_unit_period r USING u
		 WHERE r.program_id = u.program_id AND r.unit_service_id = u.unit_service_id
		   AND r.grain = u.grain AND r.period_start = u.period_start
		RETURNING r.*
	)
	INSERT INTO custfocus.rollup_unit_period
	SELECT g.program_id, g.unit_service_id, g.grain, g.period_start, sum(g.responses), custfocus.sums_sum(g.csat),
		   custfocus.counts_sum(g.csat_counts), custfocus.sums_sum(g.nps), custfocus.moments_sum(g.lm)
	  FROM gone g GROUP BY 1, 2, 3, 4;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_units_compact(integer[], integer[], text[], date[]) IS
'Merges the unit roll-up rows of each key (of the given keys, or of all) into one; returns how many keys it compacted';

-- Recompute the unit keys of the given service-month keys from the
-- service-month roll-up: one statement, one snapshot, after the
-- service-month keys themselves were recomputed; unit keys locked in order,
-- always after the service-month keys.
CREATE FUNCTION custfocus.rollup_units_refresh(p_services integer[], p_months date[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k record;
BEGIN
	SELECT array_agg(x.program_id ORDER BY x.h) AS p, array_agg(x.unit_service_id ORDER BY x.h) AS s,
		   array_agg(x.grain ORDER BY x.h) AS g, array_agg(x.period_start ORDER BY x.h) AS t,
		   array_agg(x.h ORDER BY x.h) AS h
	  INTO k
	  FROM (SELECT DISTINCT u.program_id, u.unit_service_id, g.grain, date_trunc(g.grain, m.month)::date AS period_start,
				   pg_catalog.hashtextextended(format('custfocus.rollup unit %s %s %s %s', u.program_id,
											   u.unit_service_id, g.grain, date_trunc(g.grain, m.month)::date), 0) AS h
			  FROM unnest(p_services, p_months) AS m (service_id, month)
			  JOIN custfocus.report_unit u ON u.service_id = m.service_id
			 CROSS JOIN (VALUES ('month'), ('quarter'), ('year')) AS g (grain)) x;
	IF k.p IS NULL THEN
		RETURN;
	END IF;
	PERFORM pg_advisory_xact_lock(l.h) FROM unnest(k.h) AS l (h);
	WITH u AS (SELECT * FROM unnest(k.p, k.s, k.g, k.t) AS u (program_id, unit_service_id, grain, period_start)),
	gone AS (
		DELETE FROM custfocus.rollup_unit_period r USING u
		 WHERE r.program_id = u.program_id AND r.unit_service_id = u.unit_service_id
		   AND r.grain = u.grain AND r.period_start = u.period_start
	)
	INSERT INTO custfocus.rollup_unit_period
	SELECT * FROM custfocus.rollup_units_compute(k.p, k.s, k.g, k.t);
END
$$;
COMMENT ON FUNCTION custfocus.rollup_units_refresh(integer[], date[]) IS
'Recomputes the unit roll-up keys that the given (service, month) keys count for';

-- The whole unit roll-up from the service-month roll-up.
CREATE FUNCTION custfocus.rollup_units_rebuild() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.rollup_check_isolation();
	LOCK TABLE custfocus.rollup_unit_period IN EXCLUSIVE MODE;
	-- Then the lock commits that publish take first (report_state): this
	-- deletes complementary cells and published rows, which a committing
	-- transaction holding that lock would wait for while this one waited
	-- for the lock at its own commit.  Taken after the table's lock, which
	-- waits out every transaction that appended to the roll-ups or asked for
	-- a publication (rollup_hidden_touch, report_touch take the appenders'
	-- lock): so no transaction holds report_state while waiting for this one.
	PERFORM 1 FROM custfocus.report_state s WHERE s.id FOR UPDATE;
	DELETE FROM custfocus.rollup_unit_period;
	INSERT INTO custfocus.rollup_unit_period
	SELECT u.program_id, u.unit_service_id, g.grain, date_trunc(g.grain, b.month)::date, sum(b.responses),
		   custfocus.sums_sum(b.csat), custfocus.counts_sum(b.csat_counts), custfocus.sums_sum(b.nps),
		   custfocus.moments_sum(b.lm)
	  FROM custfocus.rollup_service_month b
	  JOIN custfocus.report_unit u ON u.service_id = b.service_id
	 CROSS JOIN (VALUES ('month'), ('quarter'), ('year')) AS g (grain)
	 GROUP BY 1, 2, 3, 4;
	-- the program tree may have changed: every relation between cells (and
	-- a year left without data keeps no complementary cells)
	DELETE FROM custfocus.rollup_hidden;
	DELETE FROM custfocus.rollup_hidden_measure;
	-- and the published figures, of units that may no longer exist: every
	-- unit with data is published again at commit
	DELETE FROM custfocus.report_scorecard;
	DELETE FROM custfocus.report_trend;
	DELETE FROM custfocus.report_key_drivers;
	DELETE FROM custfocus.report_opportunities;
	DELETE FROM custfocus.report_measure_status;
	PERFORM custfocus.rollup_hidden_touch(NULL, NULL);
END
$$;
COMMENT ON FUNCTION custfocus.rollup_units_rebuild() IS
'Rebuilds the unit roll-up from the service-month roll-up (after a change to programs or services)';

CREATE FUNCTION custfocus.report_unit_refresh() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_services integer[];
	v_programs integer[];
	v_ids integer[];
	v_parents integer[];
BEGIN
	-- one refresh at a time (each deletes every row and inserts its own, so
	-- two at once would leave both sets); readers are not blocked
	LOCK TABLE custfocus.report_unit IN EXCLUSIVE MODE;
	DELETE FROM custfocus.report_unit;
	-- every (service, program at or above the service's program) pair; the
	-- tables are read into arrays first and the tree walked there (Citus
	-- cannot plan a recursive query over a reference table, see
	-- custfocus.programs_above)
	SELECT array_agg(s.service_id), array_agg(s.program_id) INTO v_services, v_programs FROM custfocus.service s;
	SELECT array_agg(p.program_id), array_agg(p.parent_id) INTO v_ids, v_parents FROM custfocus.program p;
	WITH RECURSIVE t (program_id, parent_id) AS (SELECT * FROM unnest(v_ids, v_parents)),
	up (service_id, program_id) AS (
		SELECT * FROM unnest(v_services, v_programs)
		UNION ALL
		SELECT up.service_id, t.parent_id FROM up
		  JOIN t ON t.program_id = up.program_id
		 WHERE t.parent_id IS NOT NULL
	)
	SELECT array_agg(up.service_id), array_agg(up.program_id) INTO v_services, v_programs FROM up;
	INSERT INTO custfocus.report_unit
	SELECT s.service_id, 'service', p.program_id, s.service_id, p.code, p.name, p.level, pp.code, s.code, s.name
	  FROM custfocus.service s
	  JOIN custfocus.program p ON p.program_id = s.program_id
	  LEFT JOIN custfocus.program pp ON pp.program_id = p.parent_id
	UNION ALL
	SELECT up.service_id, 'program', p.program_id, 0, p.code, p.name, p.level, pp.code, NULL, NULL
	  FROM unnest(v_services, v_programs) AS up (service_id, program_id)
	  JOIN custfocus.program p ON p.program_id = up.program_id
	  LEFT JOIN custfocus.program pp ON pp.program_id = p.parent_id;
END
$$;
COMMENT ON FUNCTION custfocus.report_unit_refresh() IS
'Rebuilds report_unit from program and service';

CREATE FUNCTION custfocus.report_unit_rebuild() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
	-- A structural change takes the unit roll-up's lock before report_unit's:
	-- an import that renames or adds a service after its rows holds the
	-- roll-up's lock and then wants report_unit's, so the other order made a
	-- cycle with it (found by a review).  rollup_units_rebuild takes the
	-- same lock again, and then the publication lock.
	IF TG_ARGV[0] = 'structure' THEN
		LOCK TABLE custfocus.rollup_unit_period IN EXCLUSIVE MODE;
	END IF;
	PERFORM custfocus.report_unit_refresh();
	-- a service moved to another program, or a program under another
	-- parent, counts for other units: rebuild the unit roll-up (which takes
	-- it whole, EXCLUSIVE, so only structural changes do); new or deleted
	-- rows and new names change no roll-up
	IF TG_ARGV[0] = 'structure' THEN
		PERFORM custfocus.rollup_units_rebuild();
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.report_unit_rebuild() IS
'Trigger: rebuilds report_unit after a change to programs or services, and the unit roll-up after a change of the tree (argument structure)';
CREATE TRIGGER report_unit_program AFTER INSERT OR DELETE OR TRUNCATE ON custfocus.program
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_unit_rebuild('names');
CREATE TRIGGER report_unit_program_names AFTER UPDATE OF code, name, level ON custfocus.program
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_unit_rebuild('names');
CREATE TRIGGER report_unit_program_tree AFTER UPDATE OF parent_id ON custfocus.program
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_unit_rebuild('structure');
CREATE TRIGGER report_unit_service AFTER INSERT OR DELETE OR TRUNCATE ON custfocus.service
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_unit_rebuild('names');
CREATE TRIGGER report_unit_service_names AFTER UPDATE OF code, name ON custfocus.service
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_unit_rebuild('names');
CREATE TRIGGER report_unit_service_tree AFTER UPDATE OF program_id ON custfocus.service
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_unit_rebuild('structure');

-- When a transaction that appended commits: merge the rows of every key it
-- appended to that holds more than 4 rows, in the service-month, item and
-- unit roll-ups.  Compaction takes try-locks, so it never waits (a key
-- another transaction holds is left for later: it stays exact, only less
-- compact).  One event per transaction (rollup_pending.signal).  Under
-- REPEATABLE READ or SERIALIZABLE, rows another transaction compacted since
-- the snapshot cannot be deleted again: the compaction is then given up
-- (in a subtransaction, so that the commit goes on) and left to the next.
-- No JIT for anything done at commit: each query reads a few keys of the
-- roll-ups, and a plan priced over jit_above_cost (an agency's whole text
-- answers, or a plan with nested loops disabled) would spend hundreds of
-- milliseconds compiling at every commit.
CREATE FUNCTION custfocus.rollup_commit_compact() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
	v_services integer[];
	v_months date[];
	v_answers bigint[];
	v_theme_services integer[];
	v_feedback_services integer[];
	v_all boolean;
	v_publish_all boolean;
	v_publish integer[];
	v_keys record;
BEGIN
	PERFORM custfocus.rollup_pending_consumed();
	-- the keys, and the answers added to each (NULL when a statement
	-- changed some otherwise: recomputed, deleted, moved)
	WITH gone AS (
		DELETE FROM custfocus.rollup_pending p WHERE p.xact = pg_catalog.pg_current_xact_id()
		RETURNING p.services, p.months, p.answers, p.scope
	),
	themes AS (
		SELECT array_agg(DISTINCT x) AS s FROM gone g CROSS JOIN LATERAL unnest(g.services) AS x WHERE g.scope = 'themes'
	),
	feedback AS (
		SELECT array_agg(DISTINCT x) AS s FROM gone g CROSS JOIN LATERAL unnest(g.services) AS x WHERE g.scope = 'feedback'
	),
	everything AS (
		SELECT coalesce(bool_or(g.scope = 'all'), false) AS a, coalesce(bool_or(g.scope IN ('all', 'publish')), false) AS p
		  FROM gone g
	)
	SELECT array_agg(k.service_id ORDER BY k.service_id, k.month), array_agg(k.month ORDER BY k.service_id, k.month),
		   CASE WHEN bool_and(k.known) THEN array_agg(k.answers ORDER BY k.service_id, k.month) END,
		   (SELECT t.s FROM themes t), (SELECT f.s FROM feedback f), (SELECT e.a FROM everything e),
		   (SELECT e.p FROM everything e)
	  INTO v_services, v_months, v_answers, v_theme_services, v_feedback_services, v_all, v_publish_all
	  FROM (SELECT x.service_id, x.month, sum(x.answers)::bigint AS answers, bool_and(g.answers IS NOT NULL) AS known
			  FROM gone g
			 CROSS JOIN LATERAL unnest(g.services, g.months, g.answers) AS x (service_id, month, answers)
			 WHERE g.scope = 'keys'
			 GROUP BY 1, 2) k;
	IF v_services IS NULL AND v_theme_services IS NULL AND v_feedback_services IS NULL AND NOT v_all
	   AND NOT v_publish_all THEN
		RETURN NULL;
	END IF;
	-- commits that publish figures run one at a time, from here on (see
	-- src/sql/published.sql; before the year locks of the complementary
	-- suppression, so that no two commits wait for each other)
	UPDATE custfocus.report_state s SET publications = s.publications + 1 WHERE s.id;
	-- "every key" (a new floor, a measure changed, the tree rebuilt): the
	-- keys there are now, under the lock, so that a key another commit
	-- brought since the statement that asked is not left out
	IF v_all THEN
		SELECT array_agg(k.service_id ORDER BY k.service_id, k.month), array_agg(k.month ORDER BY k.service_id, k.month)
		  INTO v_services, v_months
		  FROM (SELECT DISTINCT r.service_id, r.month FROM custfocus.rollup_service_month r) k;
		v_answers := NULL;
	END IF;
	-- every service's figures (a stated importance changed), likewise
	IF v_publish_all THEN
		v_publish := ARRAY(SELECT DISTINCT r.service_id FROM custfocus.rollup_service_month r
						   UNION SELECT x FROM unnest(v_services) AS x);
	ELSE
		v_publish := ARRAY(SELECT DISTINCT x FROM unnest(v_services) AS x);
	END IF;
	-- the services whose documents changed: their themes
	IF v_theme_services IS NOT NULL THEN
		PERFORM custfocus.report_themes_refresh(v_theme_services);
	END IF;
	-- the services whose feedback changed: their closed-loop figures
	IF v_feedback_services IS NOT NULL THEN
		PERFORM custfocus.report_feedback_refresh(v_feedback_services);
	END IF;
	IF v_services IS NULL THEN
		IF cardinality(v_publish) > 0 THEN
			PERFORM custfocus.report_publish(v_publish);
		END IF;
		RETURN NULL;
	END IF;
	BEGIN
	-- service-month keys with many rows
	SELECT array_agg(x.service_id) AS s, array_agg(x.month) AS m INTO v_keys
	  FROM unnest(v_services, v_months) AS x (service_id, month)
	 WHERE (SELECT count(*) FROM custfocus.rollup_service_month r
			 WHERE r.service_id = x.service_id AND r.month = x.month) > 4;
	IF v_keys.s IS NOT NULL THEN
		PERFORM custfocus.rollup_compact(v_keys.s, v_keys.m);
	END IF;
	-- service-months with an item or pairs key of many rows
	SELECT array_agg(x.service_id) AS s, array_agg(x.month) AS m INTO v_keys
	  FROM unnest(v_services, v_months) AS x (service_id, month)
	 WHERE EXISTS (SELECT FROM custfocus.rollup_item_month r
					WHERE r.service_id = x.service_id AND r.month = x.month
					GROUP BY r.item_id HAVING count(*) > 4)
		OR EXISTS (SELECT FROM custfocus.rollup_pairs_month r
					WHERE r.service_id = x.service_id AND r.month = x.month
					GROUP BY r.survey_id HAVING count(*) > 4);
	IF v_keys.s IS NOT NULL THEN
		PERFORM custfocus.rollup_item_compact(v_keys.s, v_keys.m);
	END IF;
	-- the unit keys they count for, with many rows
	SELECT array_agg(x.program_id) AS p, array_agg(x.unit_service_id) AS s, array_agg(x.grain) AS g,
		   array_agg(x.period_start) AS t
	  INTO v_keys
	  FROM (SELECT DISTINCT r.program_id, r.unit_service_id, g.grain, date_trunc(g.grain, y.month)::date AS period_start
			  FROM unnest(v_services, v_months) AS y (service_id, month)
			  JOIN custfocus.report_unit r ON r.service_id = y.service_id
			 CROSS JOIN (VALUES ('month'), ('quarter'), ('year')) AS g (grain)) x
	 WHERE (SELECT count(*) FROM custfocus.rollup_unit_period u
			 WHERE u.program_id = x.program_id AND u.unit_service_id = x.unit_service_id
			   AND u.grain = x.grain AND u.period_start = x.period_start) > 4;
	IF v_keys.p IS NOT NULL THEN
		PERFORM custfocus.rollup_units_compact(v_keys.p, v_keys.s, v_keys.g, v_keys.t);
	END IF;
	EXCEPTION WHEN serialization_failure THEN
		NULL;	-- left as it is: exact, less compact
	END;
	-- not given up: without it, a reader could subtract its way to a small
	-- group (under REPEATABLE READ a year another transaction computed since
	-- the snapshot fails the commit, to be retried)
	SELECT array_agg(h.changed_program_id) AS p, array_agg(h.changed_unit_service_id) AS s INTO v_keys
	  FROM custfocus.rollup_hidden_refresh(v_services, v_months, v_answers) h;
	-- the figures of the units the keys count for, and of the units whose
	-- complementary cells changed, published (now, or by the publisher
	-- right after the commit: see src/sql/published.sql)
	PERFORM custfocus.report_publish(v_publish, v_keys.p, v_keys.s);
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_commit_compact() IS
'Trigger, deferred to commit: compacts the roll-up keys the committing transaction appended to that hold more than 4 rows, computes the complementary suppression again where needed, and publishes the figures of the units it changed';
CREATE CONSTRAINT TRIGGER rollup_commit_compact AFTER INSERT ON custfocus.rollup_pending
	DEFERRABLE INITIALLY DEFERRED
	FOR EACH ROW WHEN (NEW.signal) EXECUTE FUNCTION custfocus.rollup_commit_compact();

REVOKE ALL ON FUNCTION custfocus.rollup_commit_compact() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_hidden_refresh(integer[], date[], bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_hidden_unchanged(integer[], date[], bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_measured_items() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_hidden_compute(date[], boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_hidden_grid(integer[], integer[], integer[], integer[], bigint[], bigint[], integer[], integer[], integer, integer[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_hidden_touch(integer[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_hidden_all() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_compute(integer[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_refresh(integer[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_compact(integer[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_rebuild() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_verify() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_items_change(integer[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_response_insert() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_response_change() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_answer_insert() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_answer_change() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_item_update() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_scale_update() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_truncate() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.report_unit_rebuild() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.report_unit_refresh() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_units_compute(integer[], integer[], text[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_units_delta(custfocus.rollup_service_month[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_units_compact(integer[], integer[], text[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_units_refresh(integer[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_units_rebuild() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_fresh_add(bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_pending_signal() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_pending_consumed() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_fresh_take(bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_import_claimed(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_import_begin(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_import_apply(custfocus.rollup_service_month[], custfocus.rollup_item_month[], custfocus.rollup_pairs_month[], bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_item_compute(integer[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_item_refresh(integer[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_item_compact(integer[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_pairs_compute(integer[], date[]) FROM PUBLIC;

-- A new reporting time zone moves every period's edges: rebuild the roll-up.
CREATE FUNCTION custfocus.rollup_time_zone_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- refuses a zone PostgreSQL does not know, even with no data yet
	PERFORM pg_catalog.timezone(NEW.reporting_time_zone, pg_catalog.now());
	PERFORM custfocus.rollup_rebuild();
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_time_zone_change() IS
'Trigger: checks a new reporting time zone and rebuilds the roll-up in it';
CREATE TRIGGER rollup_time_zone AFTER UPDATE OF reporting_time_zone ON custfocus.setting
	FOR EACH ROW WHEN (OLD.reporting_time_zone IS DISTINCT FROM NEW.reporting_time_zone)
	EXECUTE FUNCTION custfocus.rollup_time_zone_change();
REVOKE ALL ON FUNCTION custfocus.rollup_time_zone_change() FROM PUBLIC;

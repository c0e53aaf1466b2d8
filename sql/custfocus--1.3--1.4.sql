-- custfocus 1.3 -> 1.4
--
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION custfocus UPDATE TO '1.4'" to load this file. \quit

-- CREATE OR REPLACE below replaces the extension's own functions and views
-- (same names, arguments and columns); this script is generated from the
-- install script's sources, so that an updated database has exactly what
-- a fresh install has (test/t/upgrade.sh compares them).

-------------------------------------------------------------------------------
-- Complementary suppression (issue 13), and answers added to stored
-- responses appended as deltas (no recompute of their months)
-------------------------------------------------------------------------------

ALTER TABLE custfocus.rollup_pending ADD COLUMN answers bigint[];
COMMENT ON COLUMN custfocus.rollup_pending.answers IS 'Answers the statement added to each key (with services, element by element), or NULL when it changed the keys otherwise: what the complementary suppression needs to know (rollup_hidden_refresh)';

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

-- The complementary cells of one year (a date in it).  One table of cells
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
-- (The planner cannot know how many cells the CTEs hold, guesses a few
-- dozen, and joined a year's thousand cells by nested loops: 120 ms of the
-- benchmark's 140 ms per year.  Hash joins it is; and no JIT, which the
-- cost of a plan with nested loops priced out would set off for every year.)
CREATE FUNCTION custfocus.rollup_hidden_compute(p_year date, p_from_stored boolean DEFAULT false)
RETURNS TABLE (node text, node_id integer, program_id integer, unit_service_id integer, grain text, period_start date)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_nestloop = off
SET jit = off
AS $$
	WITH y AS (SELECT date_trunc('year', p_year)::date AS y0, (date_trunc('year', p_year) + interval '1 year')::date AS y1),
	-- the three scores, from the unit roll-up
	score AS MATERIALIZED (
		SELECT r.program_id, r.unit_service_id, r.grain, r.period_start,
			   coalesce(sum(r.csat[1]), 0)::bigint AS n_csat, coalesce(sum(r.nps[1]), 0)::bigint AS n_nps,
			   coalesce(sum(r.lm[1]), 0)::bigint AS n_lm
		  FROM custfocus.rollup_unit_period r, y
		 WHERE r.period_start >= y.y0 AND r.period_start < y.y1
		 GROUP BY r.program_id, r.unit_service_id, r.grain, r.period_start
	),
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
	leaf AS (SELECT x.item_id FROM custfocus.rollup_measured_items() AS x (item_id)),
	-- their rows of the item roll-up, first (joined to the units first, the
	-- planner spread the whole year's item roll-up over every unit and
	-- grain: 400 ms of the benchmark's year), and not read at all without
	-- measures
	leaf_row AS MATERIALIZED (
		SELECT r.service_id, r.month, r.item_id, r.n
		  FROM custfocus.rollup_item_month r, y
		 WHERE (SELECT EXISTS (SELECT FROM leaf))
		   AND r.item_id = ANY (ARRAY(SELECT leaf.item_id FROM leaf))
		   AND r.month >= y.y0 AND r.month < y.y1
	),
	-- per unit and month, then quarters and years from those
	leaf_month AS MATERIALIZED (
		SELECT r.item_id, u.program_id, u.unit_service_id, r.month, sum(r.n)::bigint AS n
		  FROM leaf_row r
		  JOIN custfocus.report_unit u ON u.service_id = r.service_id
		 GROUP BY 1, 2, 3, 4
	),
	leaf_cell AS MATERIALIZED (
		SELECT lm.item_id, lm.program_id, lm.unit_service_id, 'month' AS grain, lm.month AS period_start, lm.n
		  FROM leaf_month lm
		UNION ALL
		SELECT lm.item_id, lm.program_id, lm.unit_service_id, 'quarter', date_trunc('quarter', lm.month)::date,
			   sum(lm.n)::bigint
		  FROM leaf_month lm GROUP BY 1, 2, 3, 5
		UNION ALL
		SELECT lm.item_id, lm.program_id, lm.unit_service_id, 'year', date_trunc('year', lm.month)::date,
			   sum(lm.n)::bigint
		  FROM leaf_month lm GROUP BY 1, 2, 3, 5
	),
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
	ent AS MATERIALIZED (
		SELECT x.node, 0 AS node_id, sc.program_id, sc.unit_service_id, sc.grain, sc.period_start, x.n, true AS published
		  FROM score sc
		 CROSS JOIN LATERAL (VALUES ('csat', sc.n_csat), ('nps', sc.n_nps), ('lm', sc.n_lm)) AS x (node, n)
		UNION ALL
		SELECT 'item', lc.item_id, lc.program_id, lc.unit_service_id, lc.grain, lc.period_start, lc.n,
			   sh.node IS NOT NULL
		  FROM leaf_cell lc
		  LEFT JOIN shows sh ON sh.node = 'item' AND sh.node_id = lc.item_id AND sh.program_id = lc.program_id
			   AND sh.unit_service_id = lc.unit_service_id AND sh.grain = lc.grain
		UNION ALL
		SELECT 'requirement', r.requirement_id, r.program_id, r.unit_service_id, r.grain, r.period_start, r.n,
			   sh.node IS NOT NULL
		  FROM (SELECT i.requirement_id, lc.program_id, lc.unit_service_id, lc.grain, lc.period_start, sum(lc.n)::bigint AS n
				  FROM leaf_cell lc
				  JOIN custfocus.item i ON i.item_id = lc.item_id
				 WHERE i.requirement_id IN (SELECT sh.node_id FROM shows sh WHERE sh.node = 'requirement')
				 GROUP BY 1, 2, 3, 4, 5) r
		  LEFT JOIN shows sh ON sh.node = 'requirement' AND sh.node_id = r.requirement_id AND sh.program_id = r.program_id
			   AND sh.unit_service_id = r.unit_service_id AND sh.grain = r.grain
		UNION ALL
		-- the rest of a score's answers, where it has measured items
		SELECT 'rest_' || ls.score, 0, sc.program_id, sc.unit_service_id, sc.grain, sc.period_start,
			   max(CASE ls.score WHEN 'csat' THEN sc.n_csat WHEN 'nps' THEN sc.n_nps ELSE sc.n_lm END)
				   - coalesce(sum(lc.n), 0)::bigint,
			   false
		  FROM score sc
		 CROSS JOIN (SELECT DISTINCT leaf_score.score FROM leaf_score) s0
		  JOIN leaf_score ls ON ls.score = s0.score
		  LEFT JOIN leaf_cell lc ON lc.item_id = ls.item_id AND lc.program_id = sc.program_id
			   AND lc.unit_service_id = sc.unit_service_id AND lc.grain = sc.grain AND lc.period_start = sc.period_start
		 GROUP BY 1, 2, 3, 4, 5, 6
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
	entity AS MATERIALIZED (
		SELECT row_number() OVER (ORDER BY d.node, d.node_id)::integer AS e, d.node, d.node_id
		  FROM (SELECT DISTINCT ent.node, ent.node_id FROM ent) d
	),
	-- each cell: its entity, unit and slot (months 0..11, quarters 12..15,
	-- the year 16: the relations between them are laid out in C)
	cell AS MATERIALIZED (
		SELECT row_number() OVER (ORDER BY en.e, un.u, sl.slot)::integer AS c, en.e, un.u, sl.slot, x.*
		  FROM ent x
		  JOIN entity en ON en.node = x.node AND en.node_id = x.node_id
		  JOIN unit un ON un.program_id = x.program_id AND un.unit_service_id = x.unit_service_id
		 CROSS JOIN LATERAL (
			SELECT CASE x.grain WHEN 'month' THEN extract(month FROM x.period_start)::integer - 1
								WHEN 'quarter' THEN 12 + (extract(month FROM x.period_start)::integer - 1) / 3
								ELSE 16 END AS slot) sl
	),
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
		SELECT ep.e, ec.e
		  FROM entity ep
		  JOIN custfocus.item i ON ep.node = 'requirement' AND i.requirement_id = ep.node_id
		  JOIN entity ec ON ec.node = 'item' AND ec.node_id = i.item_id
	),
	-- One pass over the cells gives every array the C function takes, in
	-- the same order, and the cells' numbers in that order, so that they
	-- agree whatever the order (sorting each array by cell, one sort per
	-- array, cost more than the method itself; the cells come out of the
	-- CTE in their numbers' order, which keeps the method's ties the same
	-- from one computation to the next); materialized, so that the
	-- function runs once.
	hidden AS MATERIALIZED (
		SELECT a.ids,
			   custfocus.complementary_suppression_grid(
				   a.es, a.us, a.slots, a.ns, a.pubs,
				   (SELECT array_agg(coalesce(pu.u, 0) ORDER BY x.u)
					  FROM unit x LEFT JOIN unit pu ON pu.program_id = x.parent_program_id AND pu.unit_service_id = 0),
				   coalesce((SELECT array_agg(r.parent ORDER BY r.parent, r.child) FROM erel r), '{}'),
				   coalesce((SELECT array_agg(r.child ORDER BY r.parent, r.child) FROM erel r), '{}'),
				   (SELECT s.min_responses FROM custfocus.setting s),
				   a.stored) AS h
		  FROM (SELECT array_agg(c.c) AS ids, array_agg(c.e) AS es, array_agg(c.u) AS us, array_agg(c.slot) AS slots,
					   array_agg(c.n) AS ns, array_agg(c.published) AS pubs,
					   -- p_from_stored: the stored cells, kept and completed
					   CASE WHEN p_from_stored THEN
					   array_agg(EXISTS (SELECT FROM custfocus.rollup_hidden h
										  WHERE c.node IN ('csat', 'nps', 'lm') AND h.program_id = c.program_id
											AND h.unit_service_id = c.unit_service_id AND h.grain = c.grain
											AND h.period_start = c.period_start
											AND CASE c.node WHEN 'csat' THEN h.csat WHEN 'nps' THEN h.nps ELSE h.lm END)
								 OR EXISTS (SELECT FROM custfocus.rollup_hidden_measure h
											 WHERE h.node = c.node AND h.node_id = c.node_id
											   AND h.program_id = c.program_id AND h.unit_service_id = c.unit_service_id
											   AND h.grain = c.grain AND h.period_start = c.period_start)) END AS stored
				  FROM cell c) a
		 WHERE a.ids IS NOT NULL
	)
	SELECT c.node, c.node_id, c.program_id, c.unit_service_id, c.grain, c.period_start
	  FROM hidden h
	 CROSS JOIN LATERAL unnest(h.ids, h.h) AS x (c, hidden)
	  JOIN cell c ON c.c = x.c
	 WHERE x.hidden AND c.published
$$;
COMMENT ON FUNCTION custfocus.rollup_hidden_compute(date, boolean) IS
'The complementary suppression of the year of p_year: the published cells (scorecard scores, measured items and requirements) to hide besides those of too few answers, computed from the roll-ups at the agency floor (p_from_stored: starting from the stored cells, which it keeps)';

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
	WITH k AS (
		SELECT x.service_id, x.month, sum(x.answers) AS added
		  FROM unnest(p_services, p_months, p_answers) AS x (service_id, month, answers)
		 GROUP BY 1, 2 HAVING sum(x.answers) > 0
	),
	floor AS (SELECT s.min_responses AS f FROM custfocus.setting s),
	measured AS (SELECT x.item_id FROM custfocus.rollup_measured_items() AS x (item_id)),
	cells AS (
		-- the three scores
		SELECT k.added, x.n
		  FROM k
		 CROSS JOIN LATERAL (SELECT coalesce(sum(r.csat[1]), 0) AS csat, coalesce(sum(r.nps[1]), 0) AS nps,
									coalesce(sum(r.lm[1]), 0) AS lm
							   FROM custfocus.rollup_service_month r
							  WHERE r.service_id = k.service_id AND r.month = k.month) c
		 CROSS JOIN LATERAL (VALUES (c.csat), (c.nps), (c.lm)) AS x (n)
		UNION ALL
		-- the measured items, and each score's rest
		SELECT k.added, y.n
		  FROM k
		 CROSS JOIN LATERAL (
			SELECT r.item_id, sum(r.n) AS n
			  FROM custfocus.rollup_item_month r
			 WHERE r.service_id = k.service_id AND r.month = k.month
			   AND r.item_id IN (SELECT measured.item_id FROM measured)
			 GROUP BY r.item_id) li
		 JOIN custfocus.item i ON i.item_id = li.item_id
		 CROSS JOIN LATERAL (
			SELECT li.n
			UNION ALL
			SELECT (SELECT coalesce(sum(CASE sc.score WHEN 'csat' THEN r.csat[1] WHEN 'nps' THEN r.nps[1] ELSE r.lm[1] END), 0)
					  FROM custfocus.rollup_service_month r
					 WHERE r.service_id = k.service_id AND r.month = k.month)
				   - (SELECT coalesce(sum(r.n), 0)
						FROM custfocus.rollup_item_month r
						JOIN custfocus.item i2 ON i2.item_id = r.item_id
					   WHERE r.service_id = k.service_id AND r.month = k.month
						 AND r.item_id IN (SELECT measured.item_id FROM measured)
						 AND CASE sc.score WHEN 'csat' THEN i2.is_overall WHEN 'nps' THEN i2.metric = 'nps'
										   ELSE i2.metric = 'rating' END)
			  FROM (VALUES ('csat', i.is_overall), ('nps', i.metric = 'nps'), ('lm', i.metric = 'rating')) AS sc (score, member)
			 WHERE sc.member) y (n)
	)
	SELECT coalesce(bool_and(c.n = 0 OR c.n - c.added >= f.f), true)
	  FROM cells c, floor f
$$;
COMMENT ON FUNCTION custfocus.rollup_hidden_unchanged(integer[], date[], bigint[]) IS
'Whether the complementary suppression stays right after the given numbers of answers were added to the given (service, month) keys: every cell they count in had at least the floor''s answers before and has after';

-- The complementary cells of the years of the given keys, computed again
-- (p_answers NULL), or checked and computed again only where answers added
-- to the keys (p_answers) may have changed them.
CREATE FUNCTION custfocus.rollup_hidden_refresh(p_services integer[], p_months date[], p_answers bigint[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_year date;
BEGIN
	FOR v_year IN SELECT DISTINCT date_trunc('year', y)::date FROM unnest(p_months) AS y WHERE y IS NOT NULL ORDER BY 1 LOOP
		-- one computation or check of a year at a time (see rollup_hidden)
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
		DELETE FROM custfocus.rollup_hidden h
		 WHERE h.period_start >= v_year AND h.period_start < (v_year + interval '1 year')::date;
		DELETE FROM custfocus.rollup_hidden_measure h
		 WHERE h.period_start >= v_year AND h.period_start < (v_year + interval '1 year')::date;
		WITH c AS MATERIALIZED (SELECT * FROM custfocus.rollup_hidden_compute(v_year)),
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
	END LOOP;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_hidden_refresh(integer[], date[], bigint[]) IS
'Computes the complementary suppression (rollup_hidden, rollup_hidden_measure) of the years of the given (service, month) keys again, one year at a time; given the answers added to each key, only the years where they may have changed it';

-- Ask for the complementary suppression of keys to be computed again when
-- the transaction commits (with all keys when p_services is NULL).
CREATE FUNCTION custfocus.rollup_hidden_touch(p_services integer[], p_months date[]) RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	INSERT INTO custfocus.rollup_pending (services, months)
	SELECT array_agg(k.service_id), array_agg(k.month)
	  FROM (SELECT DISTINCT r.service_id, r.month FROM custfocus.rollup_service_month r WHERE p_services IS NULL
			UNION
			SELECT k.service_id, k.month FROM unnest(p_services, p_months) AS k (service_id, month)
			 WHERE p_services IS NOT NULL AND k.service_id IS NOT NULL) k
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

CREATE OR REPLACE FUNCTION custfocus.rollup_verify()
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
	  FULL JOIN (SELECT c.* FROM (SELECT DISTINCT date_trunc('year', r.period_start)::date AS y
									FROM custfocus.rollup_unit_period r) y
				 CROSS JOIN LATERAL custfocus.rollup_hidden_compute(y.y, true) c) f
		ON f.node = s.node AND f.node_id = s.node_id AND f.program_id = s.program_id
		   AND f.unit_service_id = s.unit_service_id AND f.grain = s.grain AND f.period_start = s.period_start
	 WHERE s.node IS NULL OR f.node IS NULL
$$;
COMMENT ON FUNCTION custfocus.rollup_verify() IS
'Lists every (service, month) whose roll-up (service-month or item) differs from a recomputation from the raw data, and every unit key whose roll-up differs from the merge of its service-months (none when all is well)';

CREATE OR REPLACE FUNCTION custfocus.rollup_refresh(p_services integer[], p_months date[]) RETURNS void
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

CREATE OR REPLACE FUNCTION custfocus.rollup_units_rebuild() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.rollup_check_isolation();
	LOCK TABLE custfocus.rollup_unit_period IN EXCLUSIVE MODE;
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
	PERFORM custfocus.rollup_hidden_touch(NULL, NULL);
END
$$;
COMMENT ON FUNCTION custfocus.rollup_units_rebuild() IS
'Rebuilds the unit roll-up from the service-month roll-up (after a change to programs or services)';

CREATE OR REPLACE FUNCTION custfocus.rollup_commit_compact() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_services integer[];
	v_months date[];
	v_answers bigint[];
	v_keys record;
BEGIN
	PERFORM custfocus.rollup_pending_consumed();
	-- the keys, and the answers added to each (NULL when a statement
	-- changed some otherwise: recomputed, deleted, moved)
	WITH gone AS (
		DELETE FROM custfocus.rollup_pending p WHERE p.xact = pg_catalog.pg_current_xact_id()
		RETURNING p.services, p.months, p.answers
	)
	SELECT array_agg(k.service_id ORDER BY k.service_id, k.month), array_agg(k.month ORDER BY k.service_id, k.month),
		   CASE WHEN bool_and(k.known) THEN array_agg(k.answers ORDER BY k.service_id, k.month) END
	  INTO v_services, v_months, v_answers
	  FROM (SELECT x.service_id, x.month, sum(x.answers)::bigint AS answers, bool_and(g.answers IS NOT NULL) AS known
			  FROM gone g
			 CROSS JOIN LATERAL unnest(g.services, g.months, g.answers) AS x (service_id, month, answers)
			 GROUP BY 1, 2) k;
	IF v_services IS NULL THEN
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
	-- service-months with an item key of many rows
	SELECT array_agg(x.service_id) AS s, array_agg(x.month) AS m INTO v_keys
	  FROM unnest(v_services, v_months) AS x (service_id, month)
	 WHERE EXISTS (SELECT FROM custfocus.rollup_item_month r
					WHERE r.service_id = x.service_id AND r.month = x.month
					GROUP BY r.item_id HAVING count(*) > 4);
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
	PERFORM custfocus.rollup_hidden_refresh(v_services, v_months, v_answers);
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_commit_compact() IS
'Trigger, deferred to commit: compacts the roll-up keys the committing transaction appended to that hold more than 4 rows';

CREATE OR REPLACE FUNCTION custfocus.rollup_response_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
SET jit = off
AS $$
DECLARE
	v_tz text := custfocus.reporting_time_zone();
	v_ids bigint[];
BEGIN
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

CREATE OR REPLACE FUNCTION custfocus.rollup_answer_insert() RETURNS trigger
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
	-- import); otherwise its earlier answers are read (by the response's
	-- key, so only the touched responses'), and the delta is still exact:
	-- a response has one overall answer at most, so what a statement adds
	-- is its own answers (paired with the overall answer, old or new) and,
	-- when it brings the overall answer, the pairs of the earlier answers
	-- with it.  Nothing earlier changes.
	old_ans AS MATERIALIZED (
		SELECT r.service_id, r.month, a.response_id, a.item_id, i.is_overall,
			   custfocus.oriented_score(a.value, i.reverse_coded, sc.min_value, sc.max_value) AS score,
			   sc.min_value, sc.max_value
		  FROM custfocus.answer a
		  JOIN resp r ON r.response_id = a.response_id
		  JOIN custfocus.item i ON i.item_id = a.item_id
		  JOIN custfocus.scale sc ON sc.scale_id = i.scale_id
		  LEFT JOIN new_answer n ON n.response_id = a.response_id AND n.item_id = a.item_id
		 WHERE NOT v_fresh AND a.response_id = ANY (v_responses)
		   AND a.value IS NOT NULL AND r.service_id IS NOT NULL AND n.response_id IS NULL
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
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_answer_insert() IS
'Trigger: appends the states of inserted answers to the roll-ups (or recomputes the item keys of answers to responses that had answers)';

-- Points p_hidden marks (complementary suppression) are not shown either.
CREATE FUNCTION custfocus.p_chart(p_x double precision[], p_n double precision[], p_min_n integer,
								  p_hidden boolean[])
RETURNS TABLE (point integer, x double precision, n double precision, p double precision,
			   centre double precision, lcl double precision, ucl double precision,
			   outside boolean, run_of_8 boolean, trend_of_6 boolean, signal text)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k integer := coalesce(cardinality(p_x), 0);
	pbar double precision;
	side integer;
	last_side integer := 0;
	side_run integer := 0;
	dir integer;
	last_dir integer := 0;
	dir_run integer := 0;
	last_p double precision;
	half double precision;
BEGIN
	IF k <> coalesce(cardinality(p_n), 0) THEN
		RAISE EXCEPTION 'p_chart needs as many counts as successes, got % and %', k, cardinality(p_n)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT sum(a.x) / nullif(sum(a.n), 0) INTO pbar
	  FROM unnest(p_x, p_n) WITH ORDINALITY AS a (x, n, i)
	 WHERE a.n > 0 AND a.n >= p_min_n AND NOT coalesce(p_hidden[a.i], false);
	FOR i IN 1 .. k LOOP
		point := i;
		x := p_x[i];
		n := p_n[i];
		IF x IS NULL OR n IS NULL OR n <= 0 OR x < 0 OR x > n THEN
			RAISE EXCEPTION 'p_chart point % has % successes of %', i, x, n
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Each point needs 0 <= successes <= n and n > 0.';
		END IF;
		centre := pbar;
		half := 3 * sqrt(pbar * (1 - pbar) / n);
		lcl := CASE WHEN pbar IS NOT NULL THEN greatest(0, pbar - half) END;
		ucl := CASE WHEN pbar IS NOT NULL THEN least(1, pbar + half) END;
		IF n < p_min_n OR coalesce(p_hidden[i], false) THEN
			p := NULL; outside := NULL; run_of_8 := NULL; trend_of_6 := NULL; signal := NULL;
			RETURN NEXT;
			CONTINUE;
		END IF;
		p := x / n;
		outside := p < lcl OR p > ucl;
		side := sign(p - pbar)::integer;
		IF side <> 0 AND side = last_side THEN side_run := side_run + 1;
		ELSIF side <> 0 THEN side_run := 1;
		ELSE side_run := 0;
		END IF;
		last_side := side;
		run_of_8 := side_run >= 8;
		IF last_p IS NULL THEN
			dir := 0;
		ELSE
			dir := sign(p - last_p)::integer;
		END IF;
		IF dir <> 0 AND dir = last_dir THEN dir_run := dir_run + 1;
		ELSIF dir <> 0 THEN dir_run := 1;
		ELSE dir_run := 0;
		END IF;
		last_dir := dir;
		last_p := p;
		trend_of_6 := dir_run >= 5;
		signal := nullif(concat_ws(', ',
			CASE WHEN outside THEN 'outside limits' END,
			CASE WHEN run_of_8 THEN CASE WHEN side > 0 THEN '8 above centre' ELSE '8 below centre' END END,
			CASE WHEN trend_of_6 THEN CASE WHEN dir > 0 THEN '6 rising' ELSE '6 falling' END END), '');
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION custfocus.p_chart(double precision[], double precision[], integer, boolean[]) IS
'p-chart of a series of proportions x/n: centre sum(x)/sum(n), limits centre +- 3 sqrt(centre (1 - centre) / n) clipped to [0, 1], and the run rules (a point outside the limits, 8 in a row on one side, 6 steadily rising or falling); points with fewer than p_min_n answers, or marked in p_hidden, are not shown and not counted';
CREATE OR REPLACE FUNCTION custfocus.p_chart(p_x double precision[], p_n double precision[], p_min_n integer DEFAULT 0)
RETURNS TABLE (point integer, x double precision, n double precision, p double precision,
			   centre double precision, lcl double precision, ucl double precision,
			   outside boolean, run_of_8 boolean, trend_of_6 boolean, signal text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM custfocus.p_chart(p_x, p_n, p_min_n, NULL::boolean[]) $$;
COMMENT ON FUNCTION custfocus.p_chart(double precision[], double precision[], integer) IS
'p-chart of a series of proportions x/n: centre sum(x)/sum(n), limits centre +- 3 sqrt(centre (1 - centre) / n) clipped to [0, 1], and the run rules (a point outside the limits, 8 in a row on one side, 6 steadily rising or falling); points with fewer than p_min_n answers are not shown and not counted';

CREATE OR REPLACE VIEW custfocus.scorecard WITH (security_barrier) AS
SELECT x.level, x.program_code, x.program_name, x.service_code, x.service_name, x.grain, x.period_start,
	   custfocus.period_label(x.grain, x.period_start) AS period_label,
	   x.responses,
	   coalesce((x.csat).n, 0) AS csat_n, (x.csat_shown).percent AS csat, (x.csat_shown).ci_low AS csat_ci_low,
	   (x.csat_shown).ci_high AS csat_ci_high,
	   coalesce((x.nps).n, 0) AS nps_n, (x.nps_shown).nps AS nps, (x.nps_shown).ci_low AS nps_ci_low,
	   (x.nps_shown).ci_high AS nps_ci_high,
	   coalesce((x.lm).n, 0) AS linear_mean_n, (x.lm_shown).mean AS linear_mean, (x.lm_shown).ci_low AS linear_mean_ci_low,
	   (x.lm_shown).ci_high AS linear_mean_ci_high,
	   CASE WHEN x.adjacent THEN (x.csat_shown).percent - (x.prev_csat).percent END AS csat_change,
	   CASE WHEN x.adjacent THEN (custfocus.prop_ztest(
			(x.csat_shown).percent / 100 * (x.csat_shown).n_eff, (x.csat_shown).n_eff,
			(x.prev_csat).percent / 100 * (x.prev_csat).n_eff, (x.prev_csat).n_eff)).p_value END AS csat_change_p,
	   CASE WHEN x.adjacent THEN (x.nps_shown).nps - (x.prev_nps).nps END AS nps_change,
	   CASE WHEN x.adjacent THEN (custfocus.nps_ztest((x.nps_shown).nps, (x.nps_shown).se,
													  (x.prev_nps).nps, (x.prev_nps).se)).p_value END AS nps_change_p,
	   x.suppressed,
	   x.program_level, x.parent_program_code,
	   CASE WHEN x.csat_shown IS NOT NULL THEN x.csat_state[2] END AS csat_weight,
	   CASE WHEN x.csat_shown IS NOT NULL THEN x.csat_state[4] END AS csat_weight_in_box,
	   (x.csat_shown).n_eff AS csat_n_eff,
	   CASE WHEN x.nps_shown IS NOT NULL THEN x.nps_state[2] END AS nps_weight,
	   CASE WHEN x.nps_shown IS NOT NULL THEN x.nps_state[4] END AS nps_weight_promoters,
	   CASE WHEN x.nps_shown IS NOT NULL THEN x.nps_state[6] END AS nps_weight_detractors,
	   CASE WHEN x.lm_shown IS NOT NULL THEN x.lm_state[2] END AS linear_mean_weight,
	   CASE WHEN x.lm_shown IS NOT NULL THEN x.lm_state[2] * x.lm_state[4] END AS linear_mean_weighted_sum
  FROM (
	SELECT y.*,
		   lag(y.period_start) OVER w = custfocus.previous_period(y.grain, y.period_start) AS adjacent,
		   lag(y.csat_shown) OVER w AS prev_csat,
		   lag(y.nps_shown) OVER w AS prev_nps
	  FROM (
		SELECT g.*,
			   CASE WHEN (g.csat).n >= v.min_n AND NOT coalesce(h.csat, false) THEN g.csat END AS csat_shown,
			   CASE WHEN (g.nps).n >= v.min_n AND NOT coalesce(h.nps, false) THEN g.nps END AS nps_shown,
			   CASE WHEN (g.lm).n >= v.min_n AND NOT coalesce(h.lm, false) THEN g.lm END AS lm_shown,
			   (coalesce((g.csat).n, 0) BETWEEN 1 AND v.min_n - 1
				OR coalesce((g.nps).n, 0) BETWEEN 1 AND v.min_n - 1
				OR coalesce((g.lm).n, 0) BETWEEN 1 AND v.min_n - 1
				OR coalesce(h.csat OR h.nps OR h.lm, false)) AS suppressed
		  FROM (
		  -- each state merged once, and each result computed once: a function
		  -- in FROM runs once a row, where the same call in the select list
		  -- of a subquery the planner flattens would run for every field of
		  -- its result the outer levels read
		  SELECT m.*, csat_r AS csat, nps_r AS nps, lm_r AS lm
			FROM (
			SELECT u.level, u.program_id, u.unit_service_id, u.program_code, u.program_name, u.program_level,
				   u.parent_program_code, u.service_code, u.service_name, r.grain, r.period_start,
				   sum(r.responses)::bigint AS responses,
				   custfocus.sums_sum(r.csat) AS csat_state, custfocus.sums_sum(r.nps) AS nps_state,
				   custfocus.moments_sum(r.lm) AS lm_state
			  FROM (SELECT DISTINCT level, program_id, unit_service_id, program_code, program_name, program_level,
									parent_program_code, service_code, service_name
					  FROM custfocus.report_unit) u
			  JOIN custfocus.rollup_unit_period r ON r.program_id = u.program_id AND r.unit_service_id = u.unit_service_id
			 WHERE (SELECT custfocus.sees_all_programs())
				OR u.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
			 GROUP BY u.level, u.program_id, u.unit_service_id, u.program_code, u.program_name, u.program_level,
					  u.parent_program_code, u.service_code, u.service_name, r.grain, r.period_start
			) m
			CROSS JOIN LATERAL custfocus.box_weighted_stats_final(m.csat_state) AS csat_r
			CROSS JOIN LATERAL custfocus.nps_weighted_stats_final(m.nps_state) AS nps_r
			CROSS JOIN LATERAL custfocus.linear_mean_stats_final(m.lm_state) AS lm_r
		  ) g
		 -- OFFSET 0 keeps this a sub-query evaluated once: pulled up, the
		 -- (SECURITY DEFINER) function would be called in every row's tests
		 CROSS JOIN (SELECT custfocus.min_responses() AS min_n OFFSET 0) v
		 -- complementary suppression: scores hidden though they have enough
		 -- answers, so that no smaller hidden group can be subtracted out
		 LEFT JOIN custfocus.rollup_hidden h
		   ON h.program_id = g.program_id AND h.unit_service_id = g.unit_service_id
			  AND h.grain = g.grain AND h.period_start = g.period_start
	  ) y
	WINDOW w AS (PARTITION BY y.level, y.program_id, y.unit_service_id, y.program_code, y.service_code, y.grain
				 ORDER BY y.period_start)
  ) x;

CREATE OR REPLACE VIEW custfocus.satisfaction_trend WITH (security_barrier) AS
SELECT x.level, x.program_code, x.service_code, x.grain, x.periods[c.point] AS period_start,
	   custfocus.period_label(x.grain, x.periods[c.point]) AS period_label,
	   c.n::bigint AS n, 100 * c.p AS csat, 100 * c.centre AS centre, 100 * c.lcl AS lcl, 100 * c.ucl AS ucl,
	   c.outside, c.run_of_8, c.trend_of_6, c.signal, c.p IS NULL AS suppressed,
	   x.program_level, x.parent_program_code,
	   CASE WHEN c.p IS NOT NULL THEN c.x::bigint END AS in_box
  FROM (
	SELECT g.level, g.program_id, g.unit_service_id, g.program_code, g.service_code, g.program_level,
		   g.parent_program_code, g.grain,
		   array_agg(g.period_start ORDER BY g.period_start) AS periods,
		   array_agg(g.b[2]::double precision ORDER BY g.period_start) AS xs,
		   array_agg(g.b[1]::double precision ORDER BY g.period_start) AS ns,
		   -- complementary suppression (rollup_hidden): a point hidden
		   -- though it has enough answers
		   array_agg(EXISTS (SELECT FROM custfocus.rollup_hidden h
							  WHERE h.program_id = g.program_id AND h.unit_service_id = g.unit_service_id
								AND h.grain = g.grain AND h.period_start = g.period_start AND h.csat)
					 ORDER BY g.period_start) AS hidden
	  FROM (
		SELECT u.level, u.program_id, u.unit_service_id, u.program_code, u.service_code, u.program_level,
			   u.parent_program_code, r.grain, r.period_start,
			   custfocus.counts_sum(r.csat_counts) AS b
		  FROM (SELECT DISTINCT level, program_id, unit_service_id, program_code, service_code, program_level,
								parent_program_code
				  FROM custfocus.report_unit) u
		  JOIN custfocus.rollup_unit_period r ON r.program_id = u.program_id AND r.unit_service_id = u.unit_service_id
		 WHERE (SELECT custfocus.sees_all_programs())
			OR u.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
		 GROUP BY u.level, u.program_id, u.unit_service_id, u.program_code, u.service_code, u.program_level,
				  u.parent_program_code, r.grain, r.period_start
	  ) g
	 WHERE g.b[1] > 0
	 GROUP BY g.level, g.program_id, g.unit_service_id, g.program_code, g.service_code, g.program_level,
			  g.parent_program_code, g.grain
  ) x
 CROSS JOIN LATERAL custfocus.p_chart(x.xs, x.ns, (SELECT custfocus.min_responses()), x.hidden) c;

CREATE OR REPLACE VIEW custfocus.measure_status WITH (security_barrier) AS
SELECT z.code AS measure_code, z.name AS measure_name, z.program_code, z.service_code, z.metric, z.period,
	   z.period_start, custfocus.period_label(z.period, z.period_start) AS period_label,
	   z.n, z.shown AS actual, z.target, z.direction,
	   CASE WHEN z.direction = 'higher' THEN z.shown >= z.target ELSE z.shown <= z.target END AS met,
	   z.shown - z.target AS distance_to_target,
	   CASE WHEN z.adjacent THEN z.prev END AS previous_actual,
	   CASE WHEN z.adjacent THEN z.shown - z.prev END AS change,
	   CASE WHEN NOT z.adjacent OR z.shown IS NULL OR z.prev IS NULL THEN NULL
			WHEN z.shown = z.prev THEN 'steady'
			WHEN (z.shown > z.prev) = (z.direction = 'higher') THEN 'improving'
			ELSE 'worsening' END AS trend,
	   z.slope AS trend_slope, z.baseline, z.supp AS suppressed,
	   CASE WHEN NOT z.supp AND z.metric IN ('csat', 'top_box', 'bottom_box') THEN z.n_box END AS in_box
  FROM (
	SELECT y.*,
		   lag(y.period_start) OVER w = custfocus.previous_period(y.period, y.period_start) AS adjacent,
		   lag(y.shown) OVER w AS prev,
		   regr_slope(y.shown, y.k) OVER (w ROWS 3 PRECEDING) AS slope
	  FROM (
		SELECT x.*, CASE WHEN NOT x.supp THEN x.actual END AS shown,
			   row_number() OVER (PARTITION BY x.measure_id, x.code, x.program_code, x.service_code
								  ORDER BY x.period_start) AS k
		  FROM (
			SELECT g.*,
				   g.metric <> 'response_count'
				   AND (g.n < v.min_n
						-- complementary suppression (rollup_hidden_measure)
						OR EXISTS (SELECT FROM custfocus.rollup_hidden_measure h
									WHERE h.node = CASE WHEN g.item_id IS NOT NULL THEN 'item' ELSE 'requirement' END
									  AND h.node_id = coalesce(g.item_id, g.requirement_id)
									  AND h.program_id = g.scope_program_id AND h.unit_service_id = g.scope_unit
									  AND h.grain = g.period AND h.period_start = g.period_start)) AS supp,
				   CASE g.metric
					 WHEN 'csat' THEN 100 * g.w_box / nullif(g.sum_w, 0)
					 WHEN 'top_box' THEN 100 * g.w_box / nullif(g.sum_w, 0)
					 WHEN 'bottom_box' THEN 100 * g.w_box / nullif(g.sum_w, 0)
					 WHEN 'nps' THEN 100 * (g.w_promoters - g.w_detractors) / nullif(g.sum_w, 0)
					 WHEN 'linear_mean' THEN (lm_r).mean
					 WHEN 'mean' THEN g.sum_x / nullif(g.n, 0)
					 WHEN 'ces' THEN g.sum_wx / nullif(g.sum_w, 0)
					 WHEN 'response_count' THEN g.n END AS actual
			  FROM (
				-- each measure's figures per period, merged over its items,
				-- services and months
				SELECT m.measure_id, m.code, m.name, m.metric, m.period, m.target, m.direction, m.baseline,
					   coalesce(mp.code, sp.code) AS program_code, ms.code AS service_code,
					   date_trunc(m.period, r.month)::date AS period_start,
					   sum(r.n)::bigint AS n, sum(r.sum_w) AS sum_w, sum(r.sum_x) AS sum_x, sum(r.sum_wx) AS sum_wx,
					   sum(CASE WHEN m.metric = 'bottom_box'
								THEN CASE WHEN sc.max_value - sc.min_value >= 4 THEN r.w_bottom2 ELSE r.w_bottom1 END
								WHEN m.metric = 'csat' OR sc.max_value - sc.min_value >= 4 THEN r.w_top2
								ELSE r.w_top1 END) AS w_box,
					   sum(CASE WHEN m.metric = 'bottom_box'
								THEN CASE WHEN sc.max_value - sc.min_value >= 4 THEN r.n_bottom2 ELSE r.n_bottom1 END
								WHEN m.metric = 'csat' OR sc.max_value - sc.min_value >= 4 THEN r.n_top2
								ELSE r.n_top1 END)::bigint AS n_box,
					   sum(r.w_promoters) AS w_promoters, sum(r.w_detractors) AS w_detractors,
					   custfocus.moments_sum(r.perf) AS perf,
					   m.item_id, m.requirement_id, coalesce(m.program_id, ms.program_id) AS scope_program_id,
					   coalesce(m.service_id, 0) AS scope_unit
				  FROM custfocus.measure m
				  LEFT JOIN custfocus.program mp ON mp.program_id = m.program_id
				  LEFT JOIN custfocus.service ms ON ms.service_id = m.service_id
				  LEFT JOIN custfocus.program sp ON sp.program_id = ms.program_id
				  JOIN (SELECT u.program_id, NULL::integer AS scope_service_id, u.service_id
						  FROM custfocus.report_unit u WHERE u.level = 'program'
						UNION ALL
						SELECT NULL, s.service_id, s.service_id FROM custfocus.service s) sc_
					ON sc_.program_id = m.program_id OR sc_.scope_service_id = m.service_id
				  JOIN custfocus.item i ON i.item_id = m.item_id OR i.requirement_id = m.requirement_id
				  JOIN custfocus.scale sc ON sc.scale_id = i.scale_id
				  -- a lateral probe of the roll-up per service and item (the
				  -- fence keeps both as index conditions: joined, the planner
				  -- read all of a service's rows and filtered on the item)
				 CROSS JOIN LATERAL (SELECT r.* FROM custfocus.rollup_item_month r
									  WHERE r.service_id = sc_.service_id AND r.item_id = i.item_id OFFSET 0) r
				 WHERE m.active AND m.metric <> 'response_count'
				   AND ((SELECT custfocus.sees_all_programs())
						OR coalesce(m.program_id, ms.program_id) = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
				 GROUP BY m.measure_id, m.code, m.name, m.metric, m.period, m.target, m.direction, m.baseline,
						  coalesce(mp.code, sp.code), ms.code, date_trunc(m.period, r.month)::date, ms.program_id
				UNION ALL
				SELECT m.measure_id, m.code, m.name, m.metric, m.period, m.target, m.direction, m.baseline,
					   coalesce(mp.code, sp.code), ms.code, date_trunc(m.period, r.month)::date,
					   sum(r.responses)::bigint, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
					   NULL, NULL, coalesce(m.program_id, ms.program_id), coalesce(m.service_id, 0)
				  FROM custfocus.measure m
				  LEFT JOIN custfocus.program mp ON mp.program_id = m.program_id
				  LEFT JOIN custfocus.service ms ON ms.service_id = m.service_id
				  LEFT JOIN custfocus.program sp ON sp.program_id = ms.program_id
				  JOIN (SELECT u.program_id, NULL::integer AS scope_service_id, u.service_id
						  FROM custfocus.report_unit u WHERE u.level = 'program'
						UNION ALL
						SELECT NULL, s.service_id, s.service_id FROM custfocus.service s) sc_
					ON sc_.program_id = m.program_id OR sc_.scope_service_id = m.service_id
				  JOIN custfocus.rollup_service_month r ON r.service_id = sc_.service_id
				 WHERE m.active AND m.metric = 'response_count'
				   AND ((SELECT custfocus.sees_all_programs())
						OR coalesce(m.program_id, ms.program_id) = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
				 GROUP BY m.measure_id, m.code, m.name, m.metric, m.period, m.target, m.direction, m.baseline,
						  coalesce(mp.code, sp.code), ms.code, date_trunc(m.period, r.month)::date, ms.program_id
			  ) g
			 -- each result computed once (see the scorecard)
			 CROSS JOIN LATERAL custfocus.linear_mean_stats_final(g.perf) AS lm_r
			 CROSS JOIN (SELECT custfocus.min_responses() AS min_n OFFSET 0) v
		  ) x
	  ) y
	WINDOW w AS (PARTITION BY y.measure_id, y.code, y.program_code, y.service_code ORDER BY y.period_start)
  ) z
 ORDER BY z.code, z.period_start;

CREATE OR REPLACE VIEW custfocus.control_chart WITH (security_barrier) AS
SELECT x.measure_code, x.measure_name, x.metric, x.period, x.periods[c.point] AS period_start,
	   custfocus.period_label(x.period, x.periods[c.point]) AS period_label,
	   c.n::bigint AS n, 100 * c.p AS p, 100 * c.centre AS centre, 100 * c.lcl AS lcl, 100 * c.ucl AS ucl,
	   c.outside, c.run_of_8, c.trend_of_6, c.signal, c.p IS NULL AS suppressed
  FROM (
	SELECT s.measure_code, s.measure_name, s.metric, s.period,
		   array_agg(s.period_start ORDER BY s.period_start) AS periods,
		   -- a suppressed period's successes are not shown, and p_chart
		   -- does not use them (n < min_n): 0 stands in
		   array_agg(coalesce(s.in_box, 0)::double precision ORDER BY s.period_start) AS xs,
		   array_agg(s.n::double precision ORDER BY s.period_start) AS ns,
		   array_agg(s.suppressed ORDER BY s.period_start) AS hidden
	  FROM custfocus.measure_status s
	 WHERE s.metric IN ('csat', 'top_box', 'bottom_box') AND s.n > 0
	 GROUP BY s.measure_code, s.measure_name, s.metric, s.period
  ) x
 CROSS JOIN (SELECT custfocus.min_responses() AS min_n OFFSET 0) v
 CROSS JOIN LATERAL custfocus.p_chart(x.xs, x.ns, v.min_n, x.hidden) c
 ORDER BY x.measure_code, c.point;

CREATE OR REPLACE VIEW custfocus.key_drivers WITH (security_barrier) AS
SELECT x.program_code, x.service_code, x.survey_code, x.requirement_code, x.requirement_name,
	   x.window_start, x.window_end, x.n,
	   CASE WHEN x.pairs_n >= x.min_n THEN x.r END AS correlation,
	   x.derived AS derived_importance, x.stated AS stated_importance, x.importance,
	   CASE WHEN x.derived IS NOT NULL THEN 'derived' WHEN x.stated IS NOT NULL THEN 'stated' END AS importance_source,
	   x.performance, x.importance - x.performance AS gap, x.importance * (x.importance - x.performance) AS priority,
	   CASE WHEN x.importance IS NULL OR x.performance IS NULL THEN NULL
			WHEN x.importance >= x.imp_low AND x.performance < x.perf_low THEN 'Concentrate here'
			WHEN x.importance >= x.imp_low THEN 'Keep up the good work'
			WHEN x.performance < x.perf_low THEN 'Low priority'
			ELSE 'Possible overkill' END AS quadrant,
	   x.n < x.min_n OR (x.pairs_n > 0 AND x.pairs_n < x.min_n) OR x.exposed AS suppressed
  FROM (
	-- a value on a crosshair counts as high, and "on" means within 1e-9 of
	-- it (relative): a mean equal to one of the values it averages may come
	-- out a rounding error above or below it, depending on the order the
	-- roll-up merged its states in
	SELECT c.*, c.imp_mid - 1e-9 * greatest(abs(c.imp_mid), 1) AS imp_low,
		   c.perf_mid - 1e-9 * greatest(abs(c.perf_mid), 1) AS perf_low
	  FROM (
	SELECT b.*,
		   avg(b.importance) FILTER (WHERE b.importance IS NOT NULL AND b.performance IS NOT NULL) OVER w AS imp_mid,
		   avg(b.performance) FILTER (WHERE b.importance IS NOT NULL AND b.performance IS NOT NULL) OVER w AS perf_mid
	  FROM (
		SELECT m.program_code, m.service_id, m.service_code, m.survey_id, m.survey_code,
			   rq.code AS requirement_code, rq.name AS requirement_name, m.window_start, m.window_end,
			   (lm_r).n, c.pairs_n, c.r, v.min_n,
			   CASE WHEN c.pairs_n >= v.min_n AND c.r IS NOT NULL THEN 100 * greatest(c.r, 0) END AS derived,
			   coalesce(sr.importance, rq.importance) AS stated,
			   coalesce(CASE WHEN c.pairs_n >= v.min_n AND c.r IS NOT NULL THEN 100 * greatest(c.r, 0) END,
						sr.importance, rq.importance) AS importance,
			   CASE WHEN (lm_r).n >= v.min_n AND NOT coalesce(ex.exposed, false) THEN (lm_r).mean END AS performance,
			   coalesce(ex.exposed, false) AS exposed
		  FROM (
			-- each service's window in each survey (its requirement items,
			-- the overall item excepted), and the states merged over it
			SELECT p.code AS program_code, s.service_id, s.code AS service_code, sv.survey_id, sv.code AS survey_code,
				   i.requirement_id, w.window_start, w.window_end,
				   custfocus.moments_sum(d.perf) AS perf, custfocus.pairs_sum(d.pairs) AS pairs
			  FROM custfocus.service s
			  JOIN custfocus.program p ON p.program_id = s.program_id
			 CROSS JOIN LATERAL (
					SELECT li.survey_id, (max(l.month) - interval '11 months')::date AS window_start,
						   (max(l.month) + interval '1 month' - interval '1 day')::date AS window_end
					  FROM custfocus.rollup_item_month l
					  JOIN custfocus.item li ON li.item_id = l.item_id AND li.requirement_id IS NOT NULL AND NOT li.is_overall
					 WHERE l.service_id = s.service_id
					 GROUP BY li.survey_id) w
			  JOIN custfocus.survey sv ON sv.survey_id = w.survey_id
			  JOIN custfocus.item i ON i.survey_id = w.survey_id AND i.requirement_id IS NOT NULL AND NOT i.is_overall
			  JOIN custfocus.rollup_item_month d ON d.service_id = s.service_id AND d.item_id = i.item_id
				   AND d.month >= w.window_start AND d.month <= w.window_end
			 WHERE (SELECT custfocus.sees_all_programs())
				OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
			 GROUP BY p.code, s.service_id, s.code, sv.survey_id, sv.code, i.requirement_id, w.window_start, w.window_end
		  ) m
		 -- each result computed once (see the scorecard)
		 CROSS JOIN LATERAL custfocus.linear_mean_stats_final(m.perf) AS lm_r
		 CROSS JOIN LATERAL (SELECT m.pairs[1]::bigint AS pairs_n, custfocus.pairs_corr(m.pairs) AS r OFFSET 0) c
		  JOIN custfocus.requirement rq ON rq.requirement_id = m.requirement_id
		  LEFT JOIN custfocus.service_requirement sr ON sr.service_id = m.service_id AND sr.requirement_id = m.requirement_id
		 CROSS JOIN (SELECT custfocus.min_responses() AS min_n OFFSET 0) v
		 -- The window is a sum of months: a measure of the requirement (or
		 -- of its only item) at the service shows some of them, and the
		 -- window minus the shown periods inside it is the rest.  The
		 -- performance is not shown when that rest is a small group, or a
		 -- period inside the window is hidden (the window would give it
		 -- back): complementary suppression, which the windows, across
		 -- years, are not cells of.  (A review recovered a hidden month as
		 -- n x performance minus the measure's other months.)
		 LEFT JOIN LATERAL (
			SELECT bool_or(e.exposed) AS exposed
			  FROM (SELECT bool_or(q.n > 0 AND NOT q.shown)
						   OR ((lm_r).n - coalesce(sum(q.n) FILTER (WHERE q.shown), 0)) BETWEEN 1 AND v.min_n - 1 AS exposed
					  FROM custfocus.measure mm
					  JOIN custfocus.service ms ON ms.service_id = mm.service_id
					 CROSS JOIN LATERAL (
							SELECT date_trunc(mm.period, r.month)::date AS period_start, sum(r.n) AS n
							  FROM custfocus.rollup_item_month r
							  JOIN custfocus.item ri ON ri.item_id = r.item_id
							 WHERE r.service_id = mm.service_id
							   AND (ri.requirement_id = mm.requirement_id OR ri.item_id = mm.item_id)
							 GROUP BY 1) qp
					 CROSS JOIN LATERAL (
							SELECT qp.n, qp.n >= v.min_n
										 AND NOT EXISTS (SELECT FROM custfocus.rollup_hidden_measure h
														  WHERE h.node = CASE WHEN mm.item_id IS NOT NULL THEN 'item' ELSE 'requirement' END
															AND h.node_id = coalesce(mm.item_id, mm.requirement_id)
															AND h.program_id = ms.program_id AND h.unit_service_id = mm.service_id
															AND h.grain = mm.period AND h.period_start = qp.period_start) AS shown) q
					 WHERE mm.active AND mm.metric <> 'response_count' AND mm.service_id = m.service_id
					   AND (mm.requirement_id = m.requirement_id
							OR mm.item_id = (SELECT min(oi.item_id) FROM custfocus.item oi
											  WHERE oi.requirement_id = m.requirement_id
											 HAVING count(*) = 1))
					   AND qp.period_start >= m.window_start
					   AND (qp.period_start + CASE mm.period WHEN 'month' THEN interval '1 month'
														   WHEN 'quarter' THEN interval '3 months'
														   ELSE interval '1 year' END
							- interval '1 day')::date <= m.window_end
					 GROUP BY mm.measure_id) e
		 ) ex ON true
	  ) b
	WINDOW w AS (PARTITION BY b.program_code, b.service_id, b.service_code, b.survey_id, b.survey_code)
	  ) c
  ) x
 ORDER BY x.program_code, x.service_code, x.survey_code, x.requirement_code;

COMMENT ON COLUMN custfocus.scorecard.suppressed IS 'True when at least one score of the row is shown as NULL although it has answers: fewer than custfocus.min_responses(), or hidden so that no smaller hidden group can be recovered by subtraction (complementary suppression); a score without answers is NULL and not suppressed';
COMMENT ON COLUMN custfocus_reports.scorecard.suppressed IS 'True when at least one score of the row is shown as NULL although it has answers: fewer than custfocus.min_responses(), or hidden so that no smaller hidden group can be recovered by subtraction (complementary suppression); a score without answers is NULL and not suppressed';
COMMENT ON COLUMN custfocus.satisfaction_trend.suppressed IS 'True when the period has fewer than custfocus.min_responses() answers, or is hidden by complementary suppression (as in the scorecard): its percent and signals are not shown';
COMMENT ON COLUMN custfocus_reports.satisfaction_trend.suppressed IS 'True when the period has fewer than custfocus.min_responses() answers, or is hidden by complementary suppression (as in the scorecard): its percent and signals are not shown';
COMMENT ON COLUMN custfocus.measure_status.suppressed IS 'True when the period has fewer than custfocus.min_responses answers, or is hidden by complementary suppression (response_count is never suppressed)';
COMMENT ON COLUMN custfocus_reports.measure_status.suppressed IS 'True when the period has fewer than custfocus.min_responses answers, or is hidden by complementary suppression (response_count is never suppressed)';
COMMENT ON COLUMN custfocus.control_chart.suppressed IS 'True when the period is suppressed in measure_status (fewer than custfocus.min_responses answers, or complementary suppression)';
COMMENT ON COLUMN custfocus_reports.control_chart.suppressed IS 'True when the period is suppressed in measure_status (fewer than custfocus.min_responses answers, or complementary suppression)';
COMMENT ON COLUMN custfocus.key_drivers.suppressed IS 'True when the performance (fewer than custfocus.min_responses answers, or a measure of the requirement at the service would let the window give a hidden or small group away) or the derived importance (fewer pairs with the overall item, but some) is not shown';
COMMENT ON COLUMN custfocus_reports.key_drivers.suppressed IS 'True when the performance (fewer than custfocus.min_responses answers, or a measure of the requirement at the service would let the window give a hidden or small group away) or the derived importance (fewer pairs with the overall item, but some) is not shown';

REVOKE ALL ON FUNCTION custfocus.rollup_hidden_refresh(integer[], date[], bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_hidden_unchanged(integer[], date[], bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_measured_items() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_hidden_compute(date, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_hidden_touch(integer[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_hidden_all() FROM PUBLIC;

-- the complementary cells of the data already there
SELECT custfocus.rollup_hidden_refresh(array_agg(k.service_id), array_agg(k.month))
  FROM (SELECT DISTINCT r.service_id, r.month FROM custfocus.rollup_service_month r) k;

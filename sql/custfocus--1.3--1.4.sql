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

ALTER TABLE custfocus.rollup_pending ADD COLUMN scope text NOT NULL DEFAULT 'keys' CHECK (scope IN ('keys', 'themes', 'feedback', 'publish', 'all'));
COMMENT ON COLUMN custfocus.rollup_pending.scope IS 'keys: the (service, month) keys changed; themes: only the services'' documents (feedback, free-text answers), whose themes are published again at commit; feedback: only the services'' feedback (0: feedback about no service), whose closed-loop figures are published again at commit; publish: every service''s figures published again at commit (services and months empty); all: every key''s complementary suppression computed and every figure published again at commit (services and months empty): "every" is decided at commit, under the publication lock, so that keys another transaction commits in between are not left out';

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


-- An import adds up its own roll-up deltas in C (src/rollup_import.c)

-- Pairwise states and the pairs roll-up (the key drivers' relative weights
-- and alpha from merged statistics)
-- Pairwise states (src/matrix.c): the statistics of every pair of a row's
-- variables over the rows that have both, so that correlations, relative
-- weights and alpha of any subset of the variables come from merged states
-- (the key drivers' roll-up of them per service, month and survey, whose
-- variables are items: rollup_pairs_month).
CREATE FUNCTION custfocus.pairwise_accum(double precision[], double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pairwise_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.pairwise_accum(double precision[], double precision[]) IS
'Aggregate support for custfocus.pairwise_state(x): adds one row (variables 1 to n, NULL elements missing) to every pair of values it has';
CREATE FUNCTION custfocus.pairwise_ids_accum(double precision[], integer[], double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pairwise_ids_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.pairwise_ids_accum(double precision[], integer[], double precision[]) IS
'Aggregate support for custfocus.pairwise_state(ids, x): adds one row of values of the given variables';
CREATE FUNCTION custfocus.pairwise_ids_accum(double precision[], integer[], double precision[], boolean[])
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pairwise_ids_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.pairwise_ids_accum(double precision[], integer[], double precision[], boolean[]) IS
'Aggregate support for custfocus.pairwise_state(ids, x, fresh): adds one row to the pairs of values it has of which at least one is fresh';
CREATE FUNCTION custfocus.pairwise_combine(double precision[], double precision[]) RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pairwise_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.pairwise_combine(double precision[], double precision[]) IS
'Merges two pairwise states (Chan''s formula, pair by pair, over the union of their variables)';
CREATE AGGREGATE custfocus.pairwise_state(x double precision[]) (
	SFUNC = custfocus.pairwise_accum,
	STYPE = double precision[],
	INITCOND = '{}',
	COMBINEFUNC = custfocus.pairwise_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.pairwise_state(double precision[]) IS
'Pairwise state of the rows'' arrays (variable i is element i, NULL where missing): for each pair of variables, its rows, means and co-moments over the rows that have both; merge with pairwise_sum, finish with pairwise_relative_weights or pairwise_alpha';
CREATE AGGREGATE custfocus.pairwise_state(ids integer[], x double precision[]) (
	SFUNC = custfocus.pairwise_ids_accum,
	STYPE = double precision[],
	INITCOND = '{}',
	COMBINEFUNC = custfocus.pairwise_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.pairwise_state(integer[], double precision[]) IS
'Pairwise state of rows given as the ids of their variables and the values (e.g. one respondent''s item ids and scores): rows need not have the same variables';
CREATE AGGREGATE custfocus.pairwise_state(ids integer[], x double precision[], fresh boolean[]) (
	SFUNC = custfocus.pairwise_ids_accum,
	STYPE = double precision[],
	INITCOND = '{}',
	COMBINEFUNC = custfocus.pairwise_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.pairwise_state(integer[], double precision[], boolean[]) IS
'Pairwise state of the pairs each row makes with at least one fresh value (what values added to a row already counted add)';
CREATE AGGREGATE custfocus.pairwise_sum(double precision[]) (
	SFUNC = custfocus.pairwise_combine,
	STYPE = double precision[],
	INITCOND = '{}',
	COMBINEFUNC = custfocus.pairwise_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE custfocus.pairwise_sum(double precision[]) IS
'Merges pairwise states into one state, over the union of their variables';
CREATE FUNCTION custfocus.pairwise_relative_weights(state double precision[], outcome integer, drivers integer[])
RETURNS custfocus.relative_weights_result
AS 'MODULE_PATHNAME', 'pairwise_relative_weights'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.pairwise_relative_weights(double precision[], integer, integer[]) IS
'Johnson''s relative weights of the drivers for the outcome (variable ids of the state) from pairwise correlations (R: cor(use = "pairwise.complete.obs")); n is the fewest rows of any pair (NULL result when 0); NULL fields when undetermined (n <= k + 1, a variable that does not vary, a correlation matrix that is not positive definite, pairwise correlations no one set of rows could have: R squared above 1)';
CREATE FUNCTION custfocus.pairwise_alpha(state double precision[], items integer[])
RETURNS custfocus.alpha_result
AS 'MODULE_PATHNAME', 'pairwise_alpha'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.pairwise_alpha(double precision[], integer[]) IS
'Cronbach''s alpha of the items (variable ids of the state) from their variances and pairwise covariances (n - 1 divisors), standardized alpha from the mean pairwise correlation; n is the fewest rows of any pair; on rows without missing values, the same as cronbach_alpha';

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

REVOKE ALL ON FUNCTION custfocus.rollup_pairs_compute(integer[], date[]) FROM PUBLIC;

CREATE FUNCTION custfocus.rollup_import_claimed(name) RETURNS boolean
AS 'MODULE_PATHNAME', 'rollup_import_claimed'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION custfocus.rollup_import_claimed(name) IS
'Roll-up insert triggers only: true when the statement is an import''s own INSERT into the given table, whose roll-up deltas the import appends itself';

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

REVOKE ALL ON FUNCTION custfocus.rollup_import_claimed(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_import_begin(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_import_apply(custfocus.rollup_service_month[], custfocus.rollup_item_month[], custfocus.rollup_pairs_month[], bigint[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION custfocus.rollup_item_refresh(p_services integer[], p_months date[]) RETURNS void
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

CREATE OR REPLACE FUNCTION custfocus.rollup_item_compact(p_services integer[] DEFAULT NULL, p_months date[] DEFAULT NULL)
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

CREATE OR REPLACE FUNCTION custfocus.rollup_compact(p_services integer[] DEFAULT NULL, p_months date[] DEFAULT NULL)
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

CREATE OR REPLACE FUNCTION custfocus.rollup_units_delta(p_rows custfocus.rollup_service_month[])
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

CREATE OR REPLACE FUNCTION custfocus.period_label(grain text, period_start date) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE grain
		 WHEN 'month' THEN pg_catalog.lpad(pg_catalog.date_part('year', period_start)::integer::text, 4, '0')
						   OPERATOR(pg_catalog.||) '-'
						   OPERATOR(pg_catalog.||) pg_catalog.lpad(pg_catalog.date_part('month', period_start)::integer::text, 2, '0')
		 WHEN 'quarter' THEN pg_catalog.lpad(pg_catalog.date_part('year', period_start)::integer::text, 4, '0')
							 OPERATOR(pg_catalog.||) '-Q'
							 OPERATOR(pg_catalog.||) pg_catalog.date_part('quarter', period_start)::integer::text
		 WHEN 'year' THEN pg_catalog.lpad(pg_catalog.date_part('year', period_start)::integer::text, 4, '0') END;
COMMENT ON FUNCTION custfocus.period_label(text, date) IS
'A period as text: 2026-03 (month), 2026-Q1 (quarter) or 2026 (year)';

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

CREATE OR REPLACE FUNCTION custfocus.rollup_rebuild() RETURNS bigint
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

CREATE OR REPLACE FUNCTION custfocus.report_unit_rebuild() RETURNS trigger
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

CREATE OR REPLACE FUNCTION custfocus.rollup_units_rebuild() RETURNS void
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

CREATE OR REPLACE FUNCTION custfocus.rollup_commit_compact() RETURNS trigger
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

CREATE OR REPLACE FUNCTION custfocus.rollup_response_change() RETURNS trigger
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

CREATE OR REPLACE FUNCTION custfocus.rollup_answer_change() RETURNS trigger
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

CREATE OR REPLACE FUNCTION custfocus.rollup_item_update() RETURNS trigger
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

CREATE OR REPLACE FUNCTION custfocus.rollup_scale_update() RETURNS trigger
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


-------------------------------------------------------------------------------
-- Published figures: the scorecard and the trend finished at commit
-- (src/sql/published.sql)
-------------------------------------------------------------------------------

CREATE TABLE custfocus.report_state (
	id			boolean PRIMARY KEY DEFAULT true CHECK (id),
	publications bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE custfocus.report_state IS
'One row, locked by every commit that publishes figures (report_scorecard, report_trend, report_key_drivers, report_measure_status, report_themes), so that those commits run one at a time';
COMMENT ON COLUMN custfocus.report_state.id IS 'Always true (one row)';
COMMENT ON COLUMN custfocus.report_state.publications IS 'Commits that published figures since the extension was created';
INSERT INTO custfocus.report_state DEFAULT VALUES;
REVOKE ALL ON custfocus.report_state FROM PUBLIC;
-- (row-level security without policies on every published table, as well
-- as no grants: only the owner, whose views and functions read them, reads
-- or writes them, whatever a grant on all tables of the schema gives)
ALTER TABLE custfocus.report_state ENABLE ROW LEVEL SECURITY;

CREATE TABLE custfocus.report_stale (
	services	integer[] NOT NULL,
	unit_programs integer[],
	unit_services integer[]
);
COMMENT ON TABLE custfocus.report_stale IS
'What committed transactions changed and the publisher (custfocus.report_publish_pending, run by a background worker after the commit) has not yet published: while it has rows, the reporting views compute their figures when read; derived data, not dumped';
COMMENT ON COLUMN custfocus.report_stale.services IS 'Services whose figures (the units they count for, their key drivers, the measures of their scopes) are to be published again';
COMMENT ON COLUMN custfocus.report_stale.unit_programs IS 'Programs of further units (pairs with unit_services) whose complementary cells changed';
COMMENT ON COLUMN custfocus.report_stale.unit_services IS 'Unit services (0: the program''s roll-up) of those units';
REVOKE ALL ON custfocus.report_stale FROM PUBLIC;
ALTER TABLE custfocus.report_stale ENABLE ROW LEVEL SECURITY;

CREATE TABLE custfocus.report_scorecard (
	program_id	integer NOT NULL,
	unit_service_id integer NOT NULL,
	grain		text NOT NULL,
	period_start date NOT NULL,
	period_label text,
	responses	bigint,
	csat_n		bigint,
	csat		double precision,
	csat_ci_low double precision,
	csat_ci_high double precision,
	nps_n		bigint,
	nps			double precision,
	nps_ci_low	double precision,
	nps_ci_high double precision,
	linear_mean_n bigint,
	linear_mean double precision,
	linear_mean_ci_low double precision,
	linear_mean_ci_high double precision,
	csat_change double precision,
	csat_change_p double precision,
	nps_change	double precision,
	nps_change_p double precision,
	suppressed	boolean,
	csat_weight double precision,
	csat_weight_in_box double precision,
	csat_n_eff	double precision,
	nps_weight	double precision,
	nps_weight_promoters double precision,
	nps_weight_detractors double precision,
	linear_mean_weight double precision,
	linear_mean_weighted_sum double precision,
	PRIMARY KEY (program_id, unit_service_id, grain, period_start)
);
COMMENT ON TABLE custfocus.report_scorecard IS
'The scorecard''s figures per unit (service, or program rolled up), grain and period, at the agency''s floor, as published by the last commit that changed them; the view custfocus.scorecard adds the units'' codes and names; derived data, kept at commit, not dumped';
COMMENT ON COLUMN custfocus.report_scorecard.program_id IS 'The service''s program, or the program rolled up';
COMMENT ON COLUMN custfocus.report_scorecard.unit_service_id IS 'The service, or 0 for a program roll-up';
COMMENT ON COLUMN custfocus.report_scorecard.grain IS 'month, quarter or year';
COMMENT ON COLUMN custfocus.report_scorecard.period_start IS 'First day of the period, in the reporting time zone';
COMMENT ON COLUMN custfocus.report_scorecard.period_label IS 'As custfocus.scorecard.period_label';
COMMENT ON COLUMN custfocus.report_scorecard.responses IS 'As custfocus.scorecard.responses';
COMMENT ON COLUMN custfocus.report_scorecard.csat_n IS 'As custfocus.scorecard.csat_n';
COMMENT ON COLUMN custfocus.report_scorecard.csat IS 'As custfocus.scorecard.csat';
COMMENT ON COLUMN custfocus.report_scorecard.csat_ci_low IS 'As custfocus.scorecard.csat_ci_low';
COMMENT ON COLUMN custfocus.report_scorecard.csat_ci_high IS 'As custfocus.scorecard.csat_ci_high';
COMMENT ON COLUMN custfocus.report_scorecard.nps_n IS 'As custfocus.scorecard.nps_n';
COMMENT ON COLUMN custfocus.report_scorecard.nps IS 'As custfocus.scorecard.nps';
COMMENT ON COLUMN custfocus.report_scorecard.nps_ci_low IS 'As custfocus.scorecard.nps_ci_low';
COMMENT ON COLUMN custfocus.report_scorecard.nps_ci_high IS 'As custfocus.scorecard.nps_ci_high';
COMMENT ON COLUMN custfocus.report_scorecard.linear_mean_n IS 'As custfocus.scorecard.linear_mean_n';
COMMENT ON COLUMN custfocus.report_scorecard.linear_mean IS 'As custfocus.scorecard.linear_mean';
COMMENT ON COLUMN custfocus.report_scorecard.linear_mean_ci_low IS 'As custfocus.scorecard.linear_mean_ci_low';
COMMENT ON COLUMN custfocus.report_scorecard.linear_mean_ci_high IS 'As custfocus.scorecard.linear_mean_ci_high';
COMMENT ON COLUMN custfocus.report_scorecard.csat_change IS 'As custfocus.scorecard.csat_change';
COMMENT ON COLUMN custfocus.report_scorecard.csat_change_p IS 'As custfocus.scorecard.csat_change_p';
COMMENT ON COLUMN custfocus.report_scorecard.nps_change IS 'As custfocus.scorecard.nps_change';
COMMENT ON COLUMN custfocus.report_scorecard.nps_change_p IS 'As custfocus.scorecard.nps_change_p';
COMMENT ON COLUMN custfocus.report_scorecard.suppressed IS 'As custfocus.scorecard.suppressed';
COMMENT ON COLUMN custfocus.report_scorecard.csat_weight IS 'As custfocus.scorecard.csat_weight';
COMMENT ON COLUMN custfocus.report_scorecard.csat_weight_in_box IS 'As custfocus.scorecard.csat_weight_in_box';
COMMENT ON COLUMN custfocus.report_scorecard.csat_n_eff IS 'As custfocus.scorecard.csat_n_eff';
COMMENT ON COLUMN custfocus.report_scorecard.nps_weight IS 'As custfocus.scorecard.nps_weight';
COMMENT ON COLUMN custfocus.report_scorecard.nps_weight_promoters IS 'As custfocus.scorecard.nps_weight_promoters';
COMMENT ON COLUMN custfocus.report_scorecard.nps_weight_detractors IS 'As custfocus.scorecard.nps_weight_detractors';
COMMENT ON COLUMN custfocus.report_scorecard.linear_mean_weight IS 'As custfocus.scorecard.linear_mean_weight';
COMMENT ON COLUMN custfocus.report_scorecard.linear_mean_weighted_sum IS 'As custfocus.scorecard.linear_mean_weighted_sum';
REVOKE ALL ON custfocus.report_scorecard FROM PUBLIC;
ALTER TABLE custfocus.report_scorecard ENABLE ROW LEVEL SECURITY;

-- The scorecard's figures computed from the roll-ups, of every unit (p_*
-- NULL) or of the units given as (program, unit service) pairs, at the
-- session's threshold (custfocus.min_responses()).  Every answer counts for
-- its service, for the service's program and for every program above it (the
-- roll-ups), at three grains; it reads the roll-up per unit and period
-- (rollup_unit_period, see src/sql/rollup.sql), never the answers, so its
-- cost follows the number of units and periods, not of answers.
--
-- Rules a reader can recompute from the raw data:
--   * periods are months, quarters and years of the reporting time zone
--     (custfocus.reporting_time_zone());
--   * a score is suppressed (NULL, with its weighted sums) when it has
--     answers, but fewer than custfocus.min_responses(), or when
--     rollup_hidden lists it (complementary suppression: hidden so that no
--     smaller hidden group can be recovered by subtracting shown cells); a
--     score with no answers at all is NULL and not suppressed;
--   * the change columns compare with the period just before, at the same
--     grain, only when both scores are shown.
CREATE FUNCTION custfocus.scorecard_compute(p_unit_programs integer[] DEFAULT NULL,
											p_unit_services integer[] DEFAULT NULL)
RETURNS SETOF custfocus.report_scorecard
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT x.program_id, x.unit_service_id, x.grain, x.period_start,
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
			SELECT r.program_id, r.unit_service_id, r.grain, r.period_start,
				   sum(r.responses)::bigint AS responses,
				   custfocus.sums_sum(r.csat) AS csat_state, custfocus.sums_sum(r.nps) AS nps_state,
				   custfocus.moments_sum(r.lm) AS lm_state
			  FROM custfocus.rollup_unit_period r
			 WHERE p_unit_programs IS NULL
				OR (r.program_id, r.unit_service_id) IN (SELECT k.p, k.s FROM unnest(p_unit_programs, p_unit_services) AS k (p, s))
			 GROUP BY r.program_id, r.unit_service_id, r.grain, r.period_start
			) m
			CROSS JOIN LATERAL custfocus.box_weighted_stats_final(m.csat_state) AS csat_r
			CROSS JOIN LATERAL custfocus.nps_weighted_stats_final(m.nps_state) AS nps_r
			CROSS JOIN LATERAL custfocus.linear_mean_stats_final(m.lm_state) AS lm_r
		  ) g
		 -- OFFSET 0 keeps this a sub-query evaluated once
		 CROSS JOIN (SELECT custfocus.min_responses() AS min_n OFFSET 0) v
		 -- complementary suppression: scores hidden though they have enough
		 -- answers, so that no smaller hidden group can be subtracted out
		 LEFT JOIN custfocus.rollup_hidden h
		   ON h.program_id = g.program_id AND h.unit_service_id = g.unit_service_id
			  AND h.grain = g.grain AND h.period_start = g.period_start
	  ) y
	WINDOW w AS (PARTITION BY y.program_id, y.unit_service_id, y.grain ORDER BY y.period_start)
  ) x
$$;
COMMENT ON FUNCTION custfocus.scorecard_compute(integer[], integer[]) IS
'The scorecard''s figures computed from the roll-ups, at the session''s threshold: of every unit, or of the units given as pairs (program, unit service: 0 for a program roll-up)';
REVOKE ALL ON FUNCTION custfocus.scorecard_compute(integer[], integer[]) FROM PUBLIC;

-- The rows the role may see, computed at read time (the views' branch when
-- the published figures are not the session's, see report_published).  A
-- caller may ask only for roles its session user can become.
-- The units (program, unit service: 0 for a program's own roll-up) of the
-- programs a role may see, as the two arrays scorecard_compute and
-- satisfaction_trend_compute take.
CREATE FUNCTION custfocus.visible_unit_keys(p_role name, OUT programs integer[], OUT unit_services integer[])
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(array_agg(u.program_id), '{}'), coalesce(array_agg(u.unit_service_id), '{}')
	  FROM (SELECT DISTINCT r.program_id, r.unit_service_id FROM custfocus.report_unit r
			 WHERE r.program_id = ANY (custfocus.visible_program_ids(p_role))) u
$$;
COMMENT ON FUNCTION custfocus.visible_unit_keys(name) IS
'The units (program, unit service; 0 for a program''s own roll-up) of the programs the role may see, as two arrays';
REVOKE ALL ON FUNCTION custfocus.visible_unit_keys(name) FROM PUBLIC;

CREATE FUNCTION custfocus.scorecard_live_rows(p_role name)
RETURNS SETOF custfocus.report_scorecard
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.check_role_asked(p_role);
	IF custfocus.sees_all_programs(p_role) THEN
		RETURN QUERY SELECT * FROM custfocus.scorecard_compute();
	ELSE
		RETURN QUERY
		SELECT c.* FROM custfocus.visible_unit_keys(p_role) k
		 CROSS JOIN LATERAL custfocus.scorecard_compute(k.programs, k.unit_services) c;
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.scorecard_live_rows(name) IS
'The scorecard''s figures of the units the role may see, computed at read time (what custfocus.scorecard reads when the published figures are not the session''s)';
REVOKE ALL ON FUNCTION custfocus.scorecard_live_rows(name) FROM PUBLIC;

CREATE TABLE custfocus.report_trend (
	program_id	integer NOT NULL,
	unit_service_id integer NOT NULL,
	grain		text NOT NULL,
	period_start date NOT NULL,
	period_label text,
	n			bigint,
	csat		double precision,
	centre		double precision,
	lcl			double precision,
	ucl			double precision,
	outside		boolean,
	run_of_8	boolean,
	trend_of_6	boolean,
	signal		text,
	suppressed	boolean,
	in_box		bigint,
	PRIMARY KEY (program_id, unit_service_id, grain, period_start)
);
COMMENT ON TABLE custfocus.report_trend IS
'The satisfaction trend''s points per unit (service, or program rolled up), grain and period, at the agency''s floor, as published by the last commit that changed them; the view custfocus.satisfaction_trend adds the units'' codes; derived data, kept at commit, not dumped';
COMMENT ON COLUMN custfocus.report_trend.program_id IS 'The service''s program, or the program rolled up';
COMMENT ON COLUMN custfocus.report_trend.unit_service_id IS 'The service, or 0 for a program roll-up';
COMMENT ON COLUMN custfocus.report_trend.grain IS 'month, quarter or year';
COMMENT ON COLUMN custfocus.report_trend.period_start IS 'First day of the period, in the reporting time zone';
COMMENT ON COLUMN custfocus.report_trend.period_label IS 'As custfocus.satisfaction_trend.period_label';
COMMENT ON COLUMN custfocus.report_trend.n IS 'As custfocus.satisfaction_trend.n';
COMMENT ON COLUMN custfocus.report_trend.csat IS 'As custfocus.satisfaction_trend.csat';
COMMENT ON COLUMN custfocus.report_trend.centre IS 'As custfocus.satisfaction_trend.centre';
COMMENT ON COLUMN custfocus.report_trend.lcl IS 'As custfocus.satisfaction_trend.lcl';
COMMENT ON COLUMN custfocus.report_trend.ucl IS 'As custfocus.satisfaction_trend.ucl';
COMMENT ON COLUMN custfocus.report_trend.outside IS 'As custfocus.satisfaction_trend.outside';
COMMENT ON COLUMN custfocus.report_trend.run_of_8 IS 'As custfocus.satisfaction_trend.run_of_8';
COMMENT ON COLUMN custfocus.report_trend.trend_of_6 IS 'As custfocus.satisfaction_trend.trend_of_6';
COMMENT ON COLUMN custfocus.report_trend.signal IS 'As custfocus.satisfaction_trend.signal';
COMMENT ON COLUMN custfocus.report_trend.suppressed IS 'As custfocus.satisfaction_trend.suppressed';
COMMENT ON COLUMN custfocus.report_trend.in_box IS 'As custfocus.satisfaction_trend.in_box';
REVOKE ALL ON custfocus.report_trend FROM PUBLIC;
ALTER TABLE custfocus.report_trend ENABLE ROW LEVEL SECURITY;

-- The satisfaction trend computed from the roll-ups, of every unit or of
-- the given ones (as scorecard_compute): the p-chart of CSAT
-- (overall-satisfaction answers in the top two categories) per unit and
-- grain, from the roll-up's unweighted counts (a p-chart's limits assume
-- counts), at the session's threshold.  A point's centre line and signals
-- depend on every point of its series: a unit's series is computed whole.
CREATE FUNCTION custfocus.satisfaction_trend_compute(p_unit_programs integer[] DEFAULT NULL,
													 p_unit_services integer[] DEFAULT NULL)
RETURNS SETOF custfocus.report_trend
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT x.program_id, x.unit_service_id, x.grain, x.periods[c.point] AS period_start,
	   custfocus.period_label(x.grain, x.periods[c.point]) AS period_label,
	   c.n::bigint AS n, 100 * c.p AS csat, 100 * c.centre AS centre, 100 * c.lcl AS lcl, 100 * c.ucl AS ucl,
	   c.outside, c.run_of_8, c.trend_of_6, c.signal, c.p IS NULL AS suppressed,
	   CASE WHEN c.p IS NOT NULL THEN c.x::bigint END AS in_box
  FROM (
	SELECT g.program_id, g.unit_service_id, g.grain,
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
		SELECT r.program_id, r.unit_service_id, r.grain, r.period_start,
			   custfocus.counts_sum(r.csat_counts) AS b
		  FROM custfocus.rollup_unit_period r
		 WHERE p_unit_programs IS NULL
			OR (r.program_id, r.unit_service_id) IN (SELECT k.p, k.s FROM unnest(p_unit_programs, p_unit_services) AS k (p, s))
		 GROUP BY r.program_id, r.unit_service_id, r.grain, r.period_start
	  ) g
	 WHERE g.b[1] > 0
	 GROUP BY g.program_id, g.unit_service_id, g.grain
  ) x
 CROSS JOIN LATERAL custfocus.p_chart(x.xs, x.ns, (SELECT custfocus.min_responses()), x.hidden) c
$$;
COMMENT ON FUNCTION custfocus.satisfaction_trend_compute(integer[], integer[]) IS
'The satisfaction trend computed from the roll-ups, at the session''s threshold: of every unit, or of the units given as pairs (program, unit service: 0 for a program roll-up)';
REVOKE ALL ON FUNCTION custfocus.satisfaction_trend_compute(integer[], integer[]) FROM PUBLIC;

CREATE FUNCTION custfocus.satisfaction_trend_live_rows(p_role name)
RETURNS SETOF custfocus.report_trend
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.check_role_asked(p_role);
	IF custfocus.sees_all_programs(p_role) THEN
		RETURN QUERY SELECT * FROM custfocus.satisfaction_trend_compute();
	ELSE
		RETURN QUERY
		SELECT c.* FROM custfocus.visible_unit_keys(p_role) k
		 CROSS JOIN LATERAL custfocus.satisfaction_trend_compute(k.programs, k.unit_services) c;
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.satisfaction_trend_live_rows(name) IS
'The satisfaction trend of the units the role may see, computed at read time (what custfocus.satisfaction_trend reads when the published figures are not the session''s)';
REVOKE ALL ON FUNCTION custfocus.satisfaction_trend_live_rows(name) FROM PUBLIC;

CREATE TABLE custfocus.report_key_drivers (
	service_id	integer NOT NULL,
	survey_id	integer NOT NULL,
	requirement_id integer NOT NULL,
	window_start date,
	window_end	date,
	n			bigint,
	correlation double precision,
	derived_importance double precision,
	stated_importance double precision,
	importance	double precision,
	importance_source text,
	performance double precision,
	gap			double precision,
	priority	double precision,
	quadrant	text,
	suppressed	boolean,
	relative_importance double precision,
	model_r2	double precision,
	model_n		bigint,
	drivers_alpha double precision,
	PRIMARY KEY (service_id, survey_id, requirement_id)
);
COMMENT ON TABLE custfocus.report_key_drivers IS
'The key drivers'' figures per service, survey and requirement, at the agency''s floor, as published by the last commit that changed them; the view custfocus.key_drivers adds the codes and names; derived data, kept at commit, not dumped';
COMMENT ON COLUMN custfocus.report_key_drivers.service_id IS 'The service';
COMMENT ON COLUMN custfocus.report_key_drivers.survey_id IS 'The survey the figures come from';
COMMENT ON COLUMN custfocus.report_key_drivers.requirement_id IS 'The requirement (key driver)';
COMMENT ON COLUMN custfocus.report_key_drivers.window_start IS 'As custfocus.key_drivers.window_start';
COMMENT ON COLUMN custfocus.report_key_drivers.window_end IS 'As custfocus.key_drivers.window_end';
COMMENT ON COLUMN custfocus.report_key_drivers.n IS 'As custfocus.key_drivers.n';
COMMENT ON COLUMN custfocus.report_key_drivers.correlation IS 'As custfocus.key_drivers.correlation';
COMMENT ON COLUMN custfocus.report_key_drivers.derived_importance IS 'As custfocus.key_drivers.derived_importance';
COMMENT ON COLUMN custfocus.report_key_drivers.stated_importance IS 'As custfocus.key_drivers.stated_importance';
COMMENT ON COLUMN custfocus.report_key_drivers.importance IS 'As custfocus.key_drivers.importance';
COMMENT ON COLUMN custfocus.report_key_drivers.importance_source IS 'As custfocus.key_drivers.importance_source';
COMMENT ON COLUMN custfocus.report_key_drivers.performance IS 'As custfocus.key_drivers.performance';
COMMENT ON COLUMN custfocus.report_key_drivers.gap IS 'As custfocus.key_drivers.gap';
COMMENT ON COLUMN custfocus.report_key_drivers.priority IS 'As custfocus.key_drivers.priority';
COMMENT ON COLUMN custfocus.report_key_drivers.quadrant IS 'As custfocus.key_drivers.quadrant';
COMMENT ON COLUMN custfocus.report_key_drivers.suppressed IS 'As custfocus.key_drivers.suppressed';
COMMENT ON COLUMN custfocus.report_key_drivers.relative_importance IS 'As custfocus.key_drivers.relative_importance';
COMMENT ON COLUMN custfocus.report_key_drivers.model_r2 IS 'As custfocus.key_drivers.model_r2';
COMMENT ON COLUMN custfocus.report_key_drivers.model_n IS 'As custfocus.key_drivers.model_n';
COMMENT ON COLUMN custfocus.report_key_drivers.drivers_alpha IS 'As custfocus.key_drivers.drivers_alpha';
REVOKE ALL ON custfocus.report_key_drivers FROM PUBLIC;
ALTER TABLE custfocus.report_key_drivers ENABLE ROW LEVEL SECURITY;

-- The improvement opportunities as published: every published key driver
-- with a priority, its figures and its rank among all of them, so that
-- improvement_opportunities reads them instead of ranking the key drivers
-- again for every query (the priorities and gaps rounded to 6 decimals as
-- numeric, sorted, then each row's reason written: as much for a BI tile's
-- "top 10" or one program's rows as for the whole view, since the rank is
-- over all the rows a role sees and no filter reaches below it).  A role
-- that sees some programs is ranked among its own rows by this rank (the
-- same order restricted to its rows).  Ranked again whenever key drivers
-- are published (report_refresh, at its end: a few hundred rows) and when a
-- code the ranks break ties with changes (report_importance_change).
CREATE TABLE custfocus.report_opportunities (
	service_id	integer NOT NULL,
	survey_id	integer NOT NULL,
	requirement_id integer NOT NULL,
	rank		integer NOT NULL,
	n			bigint,
	importance	double precision,
	importance_source text,
	performance double precision,
	gap			double precision,
	priority	double precision NOT NULL,
	quadrant	text,
	PRIMARY KEY (service_id, survey_id, requirement_id)
);
COMMENT ON TABLE custfocus.report_opportunities IS
'The published key drivers with a priority and their rank among all of them (custfocus.improvement_opportunities'' rule), as published by the last commit that changed them; derived data, kept at commit, not dumped';
COMMENT ON COLUMN custfocus.report_opportunities.service_id IS 'The service';
COMMENT ON COLUMN custfocus.report_opportunities.survey_id IS 'The survey';
COMMENT ON COLUMN custfocus.report_opportunities.requirement_id IS 'The requirement';
COMMENT ON COLUMN custfocus.report_opportunities.rank IS 'As custfocus.improvement_opportunities.rank, among every program''s rows';
COMMENT ON COLUMN custfocus.report_opportunities.n IS 'As custfocus.key_drivers.n';
COMMENT ON COLUMN custfocus.report_opportunities.importance IS 'As custfocus.key_drivers.importance';
COMMENT ON COLUMN custfocus.report_opportunities.importance_source IS 'As custfocus.key_drivers.importance_source';
COMMENT ON COLUMN custfocus.report_opportunities.performance IS 'As custfocus.key_drivers.performance';
COMMENT ON COLUMN custfocus.report_opportunities.gap IS 'As custfocus.key_drivers.gap';
COMMENT ON COLUMN custfocus.report_opportunities.priority IS 'As custfocus.key_drivers.priority';
COMMENT ON COLUMN custfocus.report_opportunities.quadrant IS 'As custfocus.key_drivers.quadrant';
REVOKE ALL ON custfocus.report_opportunities FROM PUBLIC;
ALTER TABLE custfocus.report_opportunities ENABLE ROW LEVEL SECURITY;

-- Ranks by improvement_opportunities' rule (priority, then gap, both to 6
-- decimals, then service and requirement code) of the given key drivers'
-- rows with a priority.
CREATE FUNCTION custfocus.opportunities_rank(p_drivers custfocus.report_key_drivers[])
RETURNS SETOF custfocus.report_opportunities
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT f.service_id, f.survey_id, f.requirement_id,
		   rank() OVER (ORDER BY round(f.priority::numeric, 6) DESC, round(f.gap::numeric, 6) DESC,
							s.code, rq.code)::integer,
		   f.n, f.importance, f.importance_source, f.performance, f.gap, f.priority, f.quadrant
	  FROM unnest(p_drivers) f
	  JOIN custfocus.service s ON s.service_id = f.service_id
	  JOIN custfocus.requirement rq ON rq.requirement_id = f.requirement_id
	 WHERE f.priority IS NOT NULL
$$;
COMMENT ON FUNCTION custfocus.opportunities_rank(custfocus.report_key_drivers[]) IS
'The rows of the given key drivers with a priority, ranked by custfocus.improvement_opportunities'' rule';
REVOKE ALL ON FUNCTION custfocus.opportunities_rank(custfocus.report_key_drivers[]) FROM PUBLIC;

-- Only the rows whose rank or figures changed are written: a commit that
-- publishes one service moves the ranks between its rows' old and new
-- places, not every row (rewriting them all left as many dead rows per
-- commit as the agency has key drivers).
CREATE FUNCTION custfocus.report_opportunities_refresh() RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH n AS MATERIALIZED (
		SELECT * FROM custfocus.opportunities_rank(ARRAY(SELECT f FROM custfocus.report_key_drivers f))
	),
	gone AS (
		DELETE FROM custfocus.report_opportunities r
		 WHERE NOT EXISTS (SELECT FROM n WHERE n.service_id = r.service_id AND n.survey_id = r.survey_id
							  AND n.requirement_id = r.requirement_id)
	),
	moved AS (
		UPDATE custfocus.report_opportunities r
		   SET rank = n.rank, n = n.n, importance = n.importance, importance_source = n.importance_source,
			   performance = n.performance, gap = n.gap, priority = n.priority, quadrant = n.quadrant
		  FROM n
		 WHERE n.service_id = r.service_id AND n.survey_id = r.survey_id AND n.requirement_id = r.requirement_id
		   AND (r.rank, r.n, r.importance, r.importance_source, r.performance, r.gap, r.priority, r.quadrant)
			   IS DISTINCT FROM (n.rank, n.n, n.importance, n.importance_source, n.performance, n.gap, n.priority,
								 n.quadrant)
	)
	INSERT INTO custfocus.report_opportunities
	SELECT n.* FROM n
	 WHERE NOT EXISTS (SELECT FROM custfocus.report_opportunities r
						WHERE r.service_id = n.service_id AND r.survey_id = n.survey_id
						  AND r.requirement_id = n.requirement_id);
$$;
COMMENT ON FUNCTION custfocus.report_opportunities_refresh() IS
'Ranks the published key drivers again (report_opportunities); called by report_refresh, under its lock';
REVOKE ALL ON FUNCTION custfocus.report_opportunities_refresh() FROM PUBLIC;

-- Key drivers and importance-performance analysis, over a window of the
-- latest 12 months of each service's data in each survey, read from the
-- item roll-up (rollup_item_month) rather than from the answers.
--
-- Rules a reader can recompute from the raw data:
--   * the window is the 12 months of the reporting time zone ending with the
--     latest month in which respondents of the service answered one of the
--     survey's requirement items (window_start is the first day of its first
--     month, window_end the last day of its last);
--   * performance is the weighted linear mean (0..100, reverse-coded items
--     flipped) of every answer to the requirement's items in the window;
--     it is not shown when a measure of the requirement (or of its only
--     item with answers at the service in the window) at the service has a
--     hidden period inside the window, or shows
--     periods inside it that leave fewer than custfocus.min_responses()
--     answers of the window (but some) outside them;
--   * derived importance is 100 times Pearson's r (unweighted) between those
--     answers and the same respondent's answer to the survey's overall item,
--     over every respondent who answered both (pairwise deletion), negative
--     r counting as 0; with fewer than custfocus.min_responses() pairs it is
--     not shown and the stated importance (service_requirement, else
--     requirement) stands in;
--   * the crosshairs are the means of the importance and performance of the
--     service's plotted requirements (both shown) in the survey, and a value
--     equal to a crosshair (to 1e-9 relative) counts as high.
-- Computed per service (of every service, or of the given ones), and
-- published per service at commit like the scorecard (report_refresh).
CREATE FUNCTION custfocus.key_drivers_compute(p_services integer[] DEFAULT NULL)
RETURNS SETOF custfocus.report_key_drivers
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
WITH w AS MATERIALIZED (
	-- each service's window in each survey: the 12 months up to its last
	-- month with answers to a requirement item (the overall item excepted)
	SELECT l.service_id, li.survey_id, (max(l.month) - interval '11 months')::date AS window_start,
		   (max(l.month) + interval '1 month' - interval '1 day')::date AS window_end
	  FROM custfocus.rollup_item_month l
	  JOIN custfocus.item li ON li.item_id = l.item_id AND li.requirement_id IS NOT NULL AND NOT li.is_overall
	 WHERE p_services IS NULL OR l.service_id = ANY (p_services)
	 GROUP BY l.service_id, li.survey_id
),
m AS MATERIALIZED (
			-- the states of each requirement's items merged over the window
			-- (one probe of the roll-up per service and item, fenced: with
			-- the window a lateral subquery of the join, a misestimate after
			-- a VACUUM had the planner compute the window again for every
			-- row of the service's roll-up, 70 s instead of 0.1)
			SELECT p.code AS program_code, s.service_id, s.code AS service_code, sv.survey_id, sv.code AS survey_code,
				   i.requirement_id, w.window_start, w.window_end,
				   custfocus.moments_sum(d.perf) AS perf, custfocus.pairs_sum(d.pairs) AS pairs
			  FROM w
			  JOIN custfocus.service s ON s.service_id = w.service_id
			  JOIN custfocus.program p ON p.program_id = s.program_id
			  JOIN custfocus.survey sv ON sv.survey_id = w.survey_id
			  JOIN custfocus.item i ON i.survey_id = w.survey_id AND i.requirement_id IS NOT NULL AND NOT i.is_overall
			 CROSS JOIN LATERAL (SELECT d.perf, d.pairs FROM custfocus.rollup_item_month d
								  WHERE d.service_id = w.service_id AND d.item_id = i.item_id
									AND d.month >= w.window_start AND d.month <= w.window_end OFFSET 0) d
			 GROUP BY p.code, s.service_id, s.code, sv.survey_id, sv.code, i.requirement_id, w.window_start, w.window_end
),
-- The service's model in each survey over the same window, once per
-- (service, survey): Johnson's relative weights of the requirements'
-- items (the drivers) for the overall item, and Cronbach's alpha of the
-- drivers, from the pairs roll-up merged over the window (pairwise
-- deletion); the drivers are the requirement items with answers in the
-- window, as the rows above.  (Materialized: computed once per service
-- and survey, not once per requirement row joined to it.)
model AS MATERIALIZED (
	SELECT w.service_id, w.survey_id, (rw).n AS model_n, (rw).r2 AS model_r2, (al).alpha AS drivers_alpha,
		   w.drivers, w.requirements, (rw).shares AS shares
	  FROM (SELECT DISTINCT m.service_id, m.survey_id, m.window_start, m.window_end FROM m) w0
	 CROSS JOIN LATERAL (
			SELECT w0.service_id, w0.survey_id,
				   array_agg(i.item_id ORDER BY i.item_id) AS drivers,
				   array_agg(i.requirement_id ORDER BY i.item_id) AS requirements,
				   (SELECT min(o.item_id) FROM custfocus.item o WHERE o.survey_id = w0.survey_id AND o.is_overall) AS outcome,
				   (SELECT custfocus.pairwise_sum(pm.state) FROM custfocus.rollup_pairs_month pm
					 WHERE pm.service_id = w0.service_id AND pm.survey_id = w0.survey_id
					   AND pm.month >= w0.window_start AND pm.month <= w0.window_end) AS state
			  FROM custfocus.item i
			 WHERE i.survey_id = w0.survey_id AND i.requirement_id IS NOT NULL AND NOT i.is_overall
			   AND EXISTS (SELECT FROM custfocus.rollup_item_month d
							WHERE d.service_id = w0.service_id AND d.item_id = i.item_id
							  AND d.month >= w0.window_start AND d.month <= w0.window_end AND d.n > 0)) w
	 CROSS JOIN LATERAL (SELECT custfocus.pairwise_relative_weights(w.state, w.outcome, w.drivers) AS rw,
								custfocus.pairwise_alpha(w.state, w.drivers) AS al OFFSET 0) r
	 WHERE w.drivers IS NOT NULL AND w.state IS NOT NULL AND w.outcome IS NOT NULL
)
SELECT x.service_id, x.survey_id, x.requirement_id,
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
	   x.n < x.min_n OR (x.pairs_n > 0 AND x.pairs_n < x.min_n) OR x.exposed AS suppressed,
	   CASE WHEN x.model_n >= x.min_n THEN 100 * x.share END AS relative_importance,
	   CASE WHEN x.model_n >= x.min_n THEN x.model_r2 END AS model_r2,
	   x.model_n,
	   CASE WHEN x.model_n >= x.min_n THEN x.drivers_alpha END AS drivers_alpha
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
			   m.requirement_id, m.window_start, m.window_end,
			   (lm_r).n, c.pairs_n, c.r, v.min_n,
			   CASE WHEN c.pairs_n >= v.min_n AND c.r IS NOT NULL THEN 100 * greatest(c.r, 0) END AS derived,
			   coalesce(sr.importance, rq.importance) AS stated,
			   coalesce(CASE WHEN c.pairs_n >= v.min_n AND c.r IS NOT NULL THEN 100 * greatest(c.r, 0) END,
						sr.importance, rq.importance) AS importance,
			   CASE WHEN (lm_r).n >= v.min_n AND NOT coalesce(ex.exposed, false) THEN (lm_r).mean END AS performance,
			   coalesce(ex.exposed, false) AS exposed,
			   md.model_n, md.model_r2, md.drivers_alpha,
			   (SELECT sum(md.shares[o.k]) FROM unnest(md.requirements) WITH ORDINALITY AS o (requirement_id, k)
				 WHERE o.requirement_id = m.requirement_id) AS share
		  FROM m
		  LEFT JOIN model md ON md.service_id = m.service_id AND md.survey_id = m.survey_id
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
							-- (the only item with answers in the window: an
							-- item without any leaves the window the
							-- measured item's answers; found by a review.
							-- An item of the requirement first: the count
							-- is the costly part, 80 ms of the benchmark's
							-- publication when asked of every measure.)
							OR EXISTS (SELECT FROM custfocus.item gi
										WHERE gi.item_id = mm.item_id AND gi.requirement_id = m.requirement_id)
							   AND mm.item_id = (SELECT min(oi.item_id) FROM custfocus.item oi
											  WHERE oi.requirement_id = m.requirement_id
												AND EXISTS (SELECT FROM custfocus.rollup_item_month wi
															 WHERE wi.service_id = m.service_id AND wi.item_id = oi.item_id
															   AND wi.month >= m.window_start AND wi.month <= m.window_end
															   AND wi.n > 0)
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
$$;
COMMENT ON FUNCTION custfocus.key_drivers_compute(integer[]) IS
'The key drivers computed from the roll-ups, at the session''s threshold: of every service, or of the given services';
REVOKE ALL ON FUNCTION custfocus.key_drivers_compute(integer[]) FROM PUBLIC;

CREATE FUNCTION custfocus.key_drivers_live_rows(p_role name)
RETURNS SETOF custfocus.report_key_drivers
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.check_role_asked(p_role);
	IF custfocus.sees_all_programs(p_role) THEN
		RETURN QUERY SELECT * FROM custfocus.key_drivers_compute();
	ELSE
		RETURN QUERY SELECT * FROM custfocus.key_drivers_compute(coalesce(custfocus.visible_service_ids(p_role), '{}'));
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.key_drivers_live_rows(name) IS
'The key drivers of the services the role may see, computed at read time (what custfocus.key_drivers reads when the published figures are not the session''s)';
REVOKE ALL ON FUNCTION custfocus.key_drivers_live_rows(name) FROM PUBLIC;

CREATE TABLE custfocus.report_measure_status (
	measure_id	integer NOT NULL,
	program_id	integer NOT NULL,
	service_id	integer,
	measure_code	text,
	measure_name	text,
	metric	text,
	period	text,
	period_start	date NOT NULL,
	period_label	text,
	n	bigint,
	actual	double precision,
	target	double precision,
	direction	text,
	met	boolean,
	distance_to_target	double precision,
	previous_actual	double precision,
	change	double precision,
	trend	text,
	trend_slope	double precision,
	baseline	double precision,
	suppressed	boolean,
	in_box	bigint,
	PRIMARY KEY (measure_id, period_start)
);
-- what BI filters measures on
CREATE INDEX report_measure_status_code_idx ON custfocus.report_measure_status (measure_code);
CREATE INDEX report_measure_status_program_idx ON custfocus.report_measure_status (program_id);
COMMENT ON TABLE custfocus.report_measure_status IS
'The performance measures'' figures per measure and period, at the agency''s floor, as published by the last commit that changed them; the view custfocus.measure_status adds the program''s and service''s codes; derived data, kept at commit, not dumped';
COMMENT ON COLUMN custfocus.report_measure_status.measure_id IS 'The measure';
COMMENT ON COLUMN custfocus.report_measure_status.program_id IS 'The program of the measure''s scope: its program, or its service''s';
COMMENT ON COLUMN custfocus.report_measure_status.service_id IS 'The measure''s service (NULL for a program''s measure)';
COMMENT ON COLUMN custfocus.report_measure_status.measure_code IS 'As custfocus.measure_status.measure_code';
COMMENT ON COLUMN custfocus.report_measure_status.measure_name IS 'As custfocus.measure_status.measure_name';
COMMENT ON COLUMN custfocus.report_measure_status.metric IS 'As custfocus.measure_status.metric';
COMMENT ON COLUMN custfocus.report_measure_status.period IS 'As custfocus.measure_status.period';
COMMENT ON COLUMN custfocus.report_measure_status.period_start IS 'As custfocus.measure_status.period_start';
COMMENT ON COLUMN custfocus.report_measure_status.period_label IS 'As custfocus.measure_status.period_label';
COMMENT ON COLUMN custfocus.report_measure_status.n IS 'As custfocus.measure_status.n';
COMMENT ON COLUMN custfocus.report_measure_status.actual IS 'As custfocus.measure_status.actual';
COMMENT ON COLUMN custfocus.report_measure_status.target IS 'As custfocus.measure_status.target';
COMMENT ON COLUMN custfocus.report_measure_status.direction IS 'As custfocus.measure_status.direction';
COMMENT ON COLUMN custfocus.report_measure_status.met IS 'As custfocus.measure_status.met';
COMMENT ON COLUMN custfocus.report_measure_status.distance_to_target IS 'As custfocus.measure_status.distance_to_target';
COMMENT ON COLUMN custfocus.report_measure_status.previous_actual IS 'As custfocus.measure_status.previous_actual';
COMMENT ON COLUMN custfocus.report_measure_status.change IS 'As custfocus.measure_status.change';
COMMENT ON COLUMN custfocus.report_measure_status.trend IS 'As custfocus.measure_status.trend';
COMMENT ON COLUMN custfocus.report_measure_status.trend_slope IS 'As custfocus.measure_status.trend_slope';
COMMENT ON COLUMN custfocus.report_measure_status.baseline IS 'As custfocus.measure_status.baseline';
COMMENT ON COLUMN custfocus.report_measure_status.suppressed IS 'As custfocus.measure_status.suppressed';
COMMENT ON COLUMN custfocus.report_measure_status.in_box IS 'As custfocus.measure_status.in_box';
REVOKE ALL ON custfocus.report_measure_status FROM PUBLIC;
ALTER TABLE custfocus.report_measure_status ENABLE ROW LEVEL SECURITY;

-- Performance measures, read from the roll-ups: a measure of an item or a
-- requirement merges the item roll-up of its items (the item, or every item
-- measuring the requirement) over the services in its scope (the service,
-- or every service under the program) and the months of each period of the
-- reporting time zone; response_count sums rollup_service_month.  Only
-- active measures of programs the role may see are shown.
--
-- Rules a reader can recompute from the raw data:
--   * csat is the weighted percent of answers in the top two categories of
--     their scale (score >= maximum - 1); top_box the same on scales of 5
--     points or more, the top category on smaller ones; bottom_box the
--     bottom two categories (<= minimum + 1) on scales of 5 points or more,
--     the bottom one on smaller ones; nps 100 x (promoters - detractors) /
--     all, weighted (scores >= 9 and <= 6); linear_mean the weighted mean on
--     0..100; mean the unweighted mean score; ces the weighted mean score;
--     scores oriented (reverse-coded items flipped);
--   * n is the number of answers (of responses for response_count); a
--     period with fewer than custfocus.min_responses() answers is suppressed
--     (actual and in_box NULL; response_count never is), and so is one
--     rollup_hidden_measure lists (complementary suppression: hidden so
--     that no smaller hidden group can be recovered by subtracting it from,
--     or it from, another measure's or the scorecard's figures);
--   * previous_actual, change and trend compare with the period just before,
--     when both are shown; trend_slope is the least-squares slope over the
--     last 4 periods with data, suppressed ones counted as gaps.
-- Computed per measure (of every active measure, or of the given ones),
-- and published per measure at commit like the scorecard (report_refresh).
CREATE FUNCTION custfocus.measure_status_compute(p_measures integer[] DEFAULT NULL)
RETURNS SETOF custfocus.report_measure_status
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT z.measure_id, z.scope_program_id, nullif(z.scope_unit, 0), z.code AS measure_code, z.name AS measure_name,
	   z.metric, z.period,
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
				   AND (p_measures IS NULL OR m.measure_id = ANY (p_measures))
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
				   AND (p_measures IS NULL OR m.measure_id = ANY (p_measures))
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
$$;
COMMENT ON FUNCTION custfocus.measure_status_compute(integer[]) IS
'The performance measures'' figures computed from the roll-ups, at the session''s threshold: of every active measure, or of the given measures';
REVOKE ALL ON FUNCTION custfocus.measure_status_compute(integer[]) FROM PUBLIC;

CREATE FUNCTION custfocus.measure_status_live_rows(p_role name)
RETURNS SETOF custfocus.report_measure_status
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.check_role_asked(p_role);
	IF custfocus.sees_all_programs(p_role) THEN
		RETURN QUERY SELECT * FROM custfocus.measure_status_compute();
	ELSE
		RETURN QUERY
		SELECT * FROM custfocus.measure_status_compute(ARRAY(
			SELECT m.measure_id FROM custfocus.measure m LEFT JOIN custfocus.service s ON s.service_id = m.service_id
			 WHERE coalesce(m.program_id, s.program_id) = ANY (custfocus.visible_program_ids(p_role))));
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.measure_status_live_rows(name) IS
'The performance measures of the programs the role may see, computed at read time (what custfocus.measure_status reads when the published figures are not the session''s)';
REVOKE ALL ON FUNCTION custfocus.measure_status_live_rows(name) FROM PUBLIC;

CREATE TABLE custfocus.report_themes (
	service_id	integer NOT NULL,
	term		text NOT NULL,
	documents	bigint NOT NULL,
	feedback_documents bigint NOT NULL,
	answer_documents bigint NOT NULL,
	service_documents bigint NOT NULL,
	rank		integer NOT NULL,
	example		text,
	PRIMARY KEY (service_id, rank)
);
COMMENT ON TABLE custfocus.report_themes IS
'The 20 top terms of each service''s documents, whatever their number of documents (the view applies the floor), as published by the last commit that changed the service''s feedback or free-text answers; derived data, kept at commit, not dumped';
COMMENT ON COLUMN custfocus.report_themes.service_id IS 'The service';
COMMENT ON COLUMN custfocus.report_themes.term IS 'As custfocus.voc_themes.term';
COMMENT ON COLUMN custfocus.report_themes.documents IS 'As custfocus.voc_themes.documents';
COMMENT ON COLUMN custfocus.report_themes.feedback_documents IS 'As custfocus.voc_themes.feedback_documents';
COMMENT ON COLUMN custfocus.report_themes.answer_documents IS 'As custfocus.voc_themes.answer_documents';
COMMENT ON COLUMN custfocus.report_themes.service_documents IS 'The service''s documents (feedback bodies and free-text answers)';
COMMENT ON COLUMN custfocus.report_themes.rank IS 'As custfocus.voc_themes.rank';
COMMENT ON COLUMN custfocus.report_themes.example IS 'As custfocus.voc_themes.example';
REVOKE ALL ON custfocus.report_themes FROM PUBLIC;
ALTER TABLE custfocus.report_themes ENABLE ROW LEVEL SECURITY;

-- Themes: the lexemes (English stemming, stop words removed) that occur in
-- the most feedback bodies and free-text answers of a service.  A term is
-- shown only when it occurs in custfocus.min_responses() documents or more,
-- so a rare word cannot point at one respondent; the floor is applied in
-- the view, so nothing below it leaves (the 20 top terms of all are
-- published: those at or above the floor rank as they would among
-- themselves, since a term below it has fewer documents).  Ties in
-- documents rank in term order.  The free-text answers are found through
-- answer_text_idx, a partial index of the answers that have a text (a small
-- share of them), rather than by reading every answer: per service, its
-- responses (response index by service) and their text answers; read whole,
-- the partial index.  Computed per service, and published at commit for
-- the services whose documents changed (theme triggers below).  PL/pgSQL:
-- on Citus it reads distributed tables, and Citus plans no parameters of
-- SQL functions.  No nested loops: at the commit of a large import the
-- statistics of response and answer may still say "empty" (an ANALYZE that
-- ran before the import's rows were visible), and a nested loop over the
-- text answers' partial index for every response then fetched billions of
-- rows (CI: 17 minutes for 100,000 responses; hash joins take a second).
-- (Like rollup_hidden_compute.)  And no JIT: the nested loop it cannot
-- avoid (each document's terms) is priced at the planner's disable cost,
-- far above jit_above_cost, and compiling the plan took 350 ms at every
-- commit that touched one feedback.
-- A percent is shown to one decimal, 0.0 to 100.0: numeric(4,1).
CREATE FUNCTION custfocus.voc_themes_compute(p_services integer[] DEFAULT NULL)
RETURNS SETOF custfocus.report_themes
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_nestloop = off
SET jit = off
AS $$
BEGIN
RETURN QUERY
SELECT x.service_id, x.lexeme, x.documents, x.feedback_documents, x.answer_documents, x.service_documents,
	   x.rnk, x.example
  FROM (
	SELECT c.*, rank() OVER (PARTITION BY c.service_id, c.program_code, c.service_code
							 ORDER BY c.documents DESC, c.lexeme)::integer AS rnk
	  FROM (
		SELECT d.service_id, d.program_code, d.service_code, t.lexeme, count(*) AS documents,
			   count(*) FILTER (WHERE d.source = 'feedback') AS feedback_documents,
			   count(*) FILTER (WHERE d.source = 'answer') AS answer_documents,
			   min(d.txt) AS example, max(d.service_documents) AS service_documents
		  FROM (
			SELECT doc.*, count(*) OVER (PARTITION BY doc.service_id, doc.program_code, doc.service_code)
						  AS service_documents
			  FROM (
				SELECT s.service_id, p.code AS program_code, s.code AS service_code,
					   'feedback' AS source, f.body AS txt
				  FROM custfocus.service s
				  JOIN custfocus.program p ON p.program_id = s.program_id
				  JOIN custfocus.feedback f ON f.service_id = s.service_id
				 WHERE p_services IS NULL OR s.service_id = ANY (p_services)
				UNION ALL
				SELECT s.service_id, p.code, s.code, 'answer', a.text_value
				  FROM custfocus.service s
				  JOIN custfocus.program p ON p.program_id = s.program_id
				  JOIN custfocus.response r ON r.service_id = s.service_id
				  JOIN custfocus.answer a ON a.response_id = r.response_id
				 WHERE a.text_value IS NOT NULL AND (p_services IS NULL OR s.service_id = ANY (p_services))
			  ) doc
		  ) d
		 CROSS JOIN LATERAL unnest(pg_catalog.tsvector_to_array(
				pg_catalog.to_tsvector('pg_catalog.english'::regconfig, d.txt))) AS t (lexeme)
		 GROUP BY d.service_id, d.program_code, d.service_code, t.lexeme
	  ) c
  ) x
 WHERE x.rnk <= 20;
END
$$;
COMMENT ON FUNCTION custfocus.voc_themes_compute(integer[]) IS
'The 20 top terms of every service, or of the given services, whatever their documents (the floor applies when the view reads them)';
REVOKE ALL ON FUNCTION custfocus.voc_themes_compute(integer[]) FROM PUBLIC;

CREATE FUNCTION custfocus.voc_themes_live_rows(p_role name)
RETURNS SETOF custfocus.report_themes
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.check_role_asked(p_role);
	IF custfocus.sees_all_programs(p_role) THEN
		RETURN QUERY SELECT * FROM custfocus.voc_themes_compute();
	ELSE
		RETURN QUERY SELECT * FROM custfocus.voc_themes_compute(coalesce(custfocus.visible_service_ids(p_role), '{}'));
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.voc_themes_live_rows(name) IS
'The themes of the services the role may see, computed at read time (what custfocus.voc_themes reads when the published themes are not the session''s)';
REVOKE ALL ON FUNCTION custfocus.voc_themes_live_rows(name) FROM PUBLIC;

-- (custfocus.live_reports, the setting, read through a function: see
-- session_min_responses)
CREATE FUNCTION custfocus.live_reports() RETURNS boolean
AS 'MODULE_PATHNAME', 'live_reports'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.live_reports() IS
'Value of the custfocus.live_reports setting of the session: whether the published views (scorecard, trend, key drivers, measures, themes) are computed at read time rather than read as published';

-- Whether the published figures are what this session would compute (see
-- the top of this file).  Once per query (an InitPlan in the views).
CREATE FUNCTION custfocus.report_published() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT NOT custfocus.live_reports()
		   -- the threshold in force is the agency's floor
		   AND custfocus.session_min_responses() <= coalesce((SELECT s.min_responses FROM custfocus.setting s WHERE s.id), 10)
		   -- nothing of this transaction's to publish yet
		   AND NOT EXISTS (SELECT FROM custfocus.rollup_pending p WHERE p.xact = pg_current_xact_id_if_assigned())
		   -- nor of a commit's, waiting for the publisher
		   AND NOT EXISTS (SELECT FROM custfocus.report_stale)
$$;
COMMENT ON FUNCTION custfocus.report_published() IS
'Whether custfocus.scorecard, satisfaction_trend, key_drivers, measure_status and voc_themes (and the views reading them) read the figures published at the last commit (true) or compute them at read time: custfocus.live_reports is off, the session asks for no threshold above the agency''s floor, the transaction has no changes of answers yet to commit, and no commit''s changes wait to be published (report_stale)';

-- Publishes the figures of the units the given services count for and of
-- the given units (pairs; 0 as the unit service of a program roll-up), all
-- periods, the key drivers of those services and of the units' services,
-- and the measures whose scope they are in, at the agency's floor (custfocus.min_responses set to 0 for the
-- call: the session's threshold must not reach published figures).  Called
-- at commit (rollup_commit_compact), after report_state was locked.
CREATE FUNCTION custfocus.report_refresh(p_services integer[], p_unit_programs integer[] DEFAULT NULL,
										 p_unit_services integer[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET custfocus.min_responses = 0
AS $$
DECLARE
	v_p integer[];
	v_s integer[];
	v_m integer[];
BEGIN
	SELECT array_agg(k.p ORDER BY k.p, k.s), array_agg(k.s ORDER BY k.p, k.s) INTO v_p, v_s
	  FROM (SELECT u.program_id, u.unit_service_id FROM custfocus.report_unit u WHERE u.service_id = ANY (p_services)
			UNION
			SELECT x.p, x.s FROM unnest(p_unit_programs, p_unit_services) AS x (p, s)) k (p, s);
	IF v_p IS NOT NULL THEN
		DELETE FROM custfocus.report_scorecard r USING unnest(v_p, v_s) AS k (p, s)
		 WHERE r.program_id = k.p AND r.unit_service_id = k.s;
		INSERT INTO custfocus.report_scorecard SELECT * FROM custfocus.scorecard_compute(v_p, v_s);
		DELETE FROM custfocus.report_trend r USING unnest(v_p, v_s) AS k (p, s)
		 WHERE r.program_id = k.p AND r.unit_service_id = k.s;
		INSERT INTO custfocus.report_trend SELECT * FROM custfocus.satisfaction_trend_compute(v_p, v_s);
	END IF;
	-- the key drivers of the services, and of the services of the units
	-- given (whose complementary cells of measures changed)
	v_s := ARRAY(SELECT x FROM unnest(p_services) AS x
				 UNION
				 SELECT x FROM unnest(p_unit_services) AS x WHERE x <> 0);
	IF cardinality(v_s) > 0 THEN
		DELETE FROM custfocus.report_key_drivers r WHERE r.service_id = ANY (v_s);
		INSERT INTO custfocus.report_key_drivers SELECT * FROM custfocus.key_drivers_compute(v_s);
	END IF;
	-- the measures whose scope the services count for (a service's, or a
	-- program's above them), and those of the units given
	-- (the programs looked up first: on Citus a statement may not join the
	-- coordinator's tables, as report_unit, to Citus tables, as measure)
	v_p := ARRAY(SELECT u.program_id FROM custfocus.report_unit u
				  WHERE u.service_id = ANY (p_services) AND u.level = 'program');
	v_m := ARRAY(SELECT m.measure_id FROM custfocus.measure m
				   LEFT JOIN custfocus.service ms ON ms.service_id = m.service_id
				  WHERE m.service_id = ANY (p_services) OR m.program_id = ANY (v_p)
					 OR (coalesce(m.program_id, ms.program_id), coalesce(m.service_id, 0))
						IN (SELECT x.p, x.s FROM unnest(p_unit_programs, p_unit_services) AS x (p, s)));
	IF cardinality(v_m) > 0 THEN
		DELETE FROM custfocus.report_measure_status r WHERE r.measure_id = ANY (v_m);
		INSERT INTO custfocus.report_measure_status SELECT * FROM custfocus.measure_status_compute(v_m);
	END IF;
	-- units that no longer exist (the program tree changed)
	DELETE FROM custfocus.report_scorecard r
	 WHERE NOT EXISTS (SELECT FROM custfocus.report_unit u
						WHERE u.program_id = r.program_id AND u.unit_service_id = r.unit_service_id);
	DELETE FROM custfocus.report_trend r
	 WHERE NOT EXISTS (SELECT FROM custfocus.report_unit u
						WHERE u.program_id = r.program_id AND u.unit_service_id = r.unit_service_id);
	-- services and measures that no longer exist (or are no longer active),
	-- looked up first (see above)
	v_s := ARRAY(SELECT s.service_id FROM custfocus.service s);
	DELETE FROM custfocus.report_key_drivers r WHERE NOT (r.service_id = ANY (v_s));
	v_m := ARRAY(SELECT m.measure_id FROM custfocus.measure m WHERE m.active);
	DELETE FROM custfocus.report_measure_status r WHERE NOT (r.measure_id = ANY (v_m));
	-- the opportunities' ranks are over every service's key drivers
	PERFORM custfocus.report_opportunities_refresh();
END
$$;
COMMENT ON FUNCTION custfocus.report_refresh(integer[], integer[], integer[]) IS
'Publishes again, at the agency''s floor, the scorecard and trend figures of the units the given services count for and of the given units, the key drivers of the given services and of the given units'' services (and the opportunities'' ranks), and the measures of their scopes (at commit)';
REVOKE ALL ON FUNCTION custfocus.report_refresh(integer[], integer[], integer[]) FROM PUBLIC;

CREATE FUNCTION custfocus.publish_after_commit() RETURNS boolean
AS 'MODULE_PATHNAME', 'publish_after_commit'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.publish_after_commit() IS
'Whether this session''s commits leave the publication of the figures they changed to a background worker: the custfocus.publish_after_commit setting, and (PostgreSQL 15 and 16) an extension owner that may log in, as the worker does';

CREATE FUNCTION custfocus.report_publish_request(p_now boolean DEFAULT false) RETURNS boolean
AS 'MODULE_PATHNAME', 'report_publish_request'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION custfocus.report_publish_request(boolean) IS
'Starts a publisher (a background worker that calls report_publish_pending as the extension''s owner) when the transaction commits, or at once (p_now: for listings already committed); false when it could not start one at once';
REVOKE ALL ON FUNCTION custfocus.report_publish_request(boolean) FROM PUBLIC;

-- What the commit (rollup_commit_compact) does with the figures it changed,
-- under the publication lock: publishes them (custfocus.publish_after_commit
-- off), or lists them for a publisher, which starts once the commit is
-- visible.  One publisher at work takes every listing committed before it
-- gets the lock (report_publish_pending), so a commit asks for none while
-- one of this database is at work: commits closer together than a
-- publication lasts (a web form saving answers one by one) would otherwise
-- each start a worker, and run out of max_worker_processes' slots.  Safe
-- because the commit holds the lock here: a publisher seen at work (state
-- active, which it leaves before its commit releases the lock, see
-- src/publish.c) cannot have taken the listings yet, and takes this one
-- with them once this commit releases the lock.  A worker registered but
-- not yet at work is not seen: then one more starts (harmless).
CREATE FUNCTION custfocus.report_publish(p_services integer[], p_unit_programs integer[] DEFAULT NULL,
										 p_unit_services integer[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF custfocus.publish_after_commit() THEN
		INSERT INTO custfocus.report_stale VALUES (p_services, p_unit_programs, p_unit_services);
		PERFORM pg_stat_clear_snapshot();   -- the workers as they are now
		IF NOT EXISTS (SELECT FROM pg_stat_activity a
						WHERE a.backend_type = 'custfocus publisher' AND a.state = 'active'
						  AND a.datid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())) THEN
			PERFORM custfocus.report_publish_request();
		END IF;
	ELSE
		PERFORM custfocus.report_refresh(p_services, p_unit_programs, p_unit_services);
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.report_publish(integer[], integer[], integer[]) IS
'At commit: publishes the figures of the given services and units (custfocus.publish_after_commit off), or lists them in report_stale for the publisher that starts after the commit';
REVOKE ALL ON FUNCTION custfocus.report_publish(integer[], integer[], integer[]) FROM PUBLIC;

-- Publishes everything listed in report_stale by commits visible once it
-- holds the publication lock, at once (one publication at a time; a
-- publisher started by a later commit waits here and then may find the
-- rows gone).  The lock first, always, then the listings in a snapshot
-- taken after it: a commit that saw this publisher at work asked for no
-- other (report_publish), so it must take that commit's listing.  Returns
-- how many listings it published.  The background worker calls it after
-- each commit that listed something; an admin may call it to publish what
-- a worker could not (no free slot), and report_verify calls it first.
CREATE FUNCTION custfocus.report_publish_pending() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
	v_n integer;
	v_services integer[];
	v_programs integer[];
	v_units integer[];
BEGIN
	PERFORM 1 FROM custfocus.report_state s WHERE s.id FOR UPDATE;
	WITH gone AS (
		DELETE FROM custfocus.report_stale RETURNING *
	)
	SELECT (SELECT count(*) FROM gone),
		   ARRAY(SELECT DISTINCT x FROM gone g CROSS JOIN LATERAL unnest(g.services) AS x),
		   u.p, u.s
	  INTO v_n, v_services, v_programs, v_units
	  FROM (SELECT array_agg(k.p ORDER BY k.p, k.s) AS p, array_agg(k.s ORDER BY k.p, k.s) AS s
			  FROM (SELECT DISTINCT x.p, x.s FROM gone g
					 CROSS JOIN LATERAL unnest(g.unit_programs, g.unit_services) AS x (p, s)
					 WHERE x.p IS NOT NULL) k) u;
	IF v_n > 0 THEN
		PERFORM custfocus.report_refresh(v_services, v_programs, v_units);
	END IF;
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION custfocus.report_publish_pending() IS
'Publishes the figures that committed transactions listed in report_stale (what the publisher, a background worker, runs after such a commit); returns the number of listings published, 0 when nothing waited';
REVOKE ALL ON FUNCTION custfocus.report_publish_pending() FROM PUBLIC;

-- Waits until no commit's figures wait for the publisher (each check in a
-- snapshot of its own under READ COMMITTED; under REPEATABLE READ or
-- SERIALIZABLE the transaction's snapshot cannot change, so it answers at
-- once): for a job that wants the views to read published figures when it
-- ends (an import script before a BI refresh), and for tests.  Listings
-- that no publisher is at work on it does not wait for in vain: it starts
-- one.  Nothing it tells is hidden: the views' plans show as much.
CREATE FUNCTION custfocus.report_wait(p_timeout interval DEFAULT interval '30 seconds') RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_until timestamptz := clock_timestamp() + p_timeout;
	-- (a second's grace: a worker the last commit registered is not
	-- listed in pg_stat_activity until it has started)
	v_next_check timestamptz := clock_timestamp() + interval '1 second';
BEGIN
	IF p_timeout IS NULL OR p_timeout < interval '0' THEN
		RAISE EXCEPTION 'timeout must be an interval of zero or more, not %', coalesce(p_timeout::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass how long to wait at most, e.g. interval ''30 seconds''.';
	END IF;
	LOOP
		IF NOT EXISTS (SELECT FROM custfocus.report_stale) THEN
			RETURN true;
		END IF;
		IF clock_timestamp() >= v_until OR current_setting('transaction_isolation') <> 'read committed' THEN
			RETURN false;
		END IF;
		-- listings no publisher is at work on (its commit found no free
		-- slot, was prepared for two-phase commit, or its worker failed or
		-- was lost in a restart): start one, and again each second while so
		IF clock_timestamp() >= v_next_check THEN
			PERFORM pg_stat_clear_snapshot();
			IF NOT EXISTS (SELECT FROM pg_stat_activity a
							WHERE a.backend_type = 'custfocus publisher'
							  AND a.datid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())) THEN
				PERFORM custfocus.report_publish_request(true);
			END IF;
			v_next_check := clock_timestamp() + interval '1 second';
		END IF;
		PERFORM pg_sleep(0.01);
	END LOOP;
END
$$;
COMMENT ON FUNCTION custfocus.report_wait(interval) IS
'Waits until the publisher has published every commit''s figures (nothing listed in report_stale), at most p_timeout, starting a publisher when none is at work; true when it has, false on timeout or at once under REPEATABLE READ or SERIALIZABLE (the views then still compute those figures when read)';

-- Publish the given services' figures again when the transaction commits
-- (inputs of the figures that are not answers: a requirement's stated
-- importance).  A row of rollup_pending without months: the commit
-- (rollup_commit_compact) publishes its services and recomputes nothing.
CREATE FUNCTION custfocus.report_touch(p_services integer[], p_themes_only boolean DEFAULT false) RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	-- the lock appenders hold (see rollup_units_rebuild)
	LOCK TABLE custfocus.rollup_service_month, custfocus.rollup_item_month, custfocus.rollup_unit_period
		IN ROW EXCLUSIVE MODE;
	-- NULL: every service, listed at commit (see rollup_pending.scope)
	INSERT INTO custfocus.rollup_pending (services, months, scope)
	SELECT coalesce(p_services, '{}'), '{}',
		   CASE WHEN p_themes_only THEN 'themes' WHEN p_services IS NULL THEN 'publish' ELSE 'keys' END
	 WHERE p_services IS NULL OR cardinality(p_services) > 0
$$;
COMMENT ON FUNCTION custfocus.report_touch(integer[], boolean) IS
'Asks for the given services'' figures (every service''s when NULL, listed at commit), or only their themes, to be published again when the transaction commits';
REVOKE ALL ON FUNCTION custfocus.report_touch(integer[], boolean) FROM PUBLIC;

-- Publishes the themes of the given services again (at commit, under
-- report_state, as report_refresh).  Services looked up first (Citus, see
-- report_refresh).
CREATE FUNCTION custfocus.report_themes_refresh(p_services integer[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_s integer[];
BEGIN
	-- (on Citus the themes are computed when read: see citus_voc_themes_query)
	IF custfocus.citus_distributed() THEN
		RETURN;
	END IF;
	DELETE FROM custfocus.report_themes r WHERE r.service_id = ANY (p_services);
	INSERT INTO custfocus.report_themes SELECT * FROM custfocus.voc_themes_compute(p_services);
	v_s := ARRAY(SELECT s.service_id FROM custfocus.service s);
	DELETE FROM custfocus.report_themes r WHERE NOT (r.service_id = ANY (v_s));
END
$$;
COMMENT ON FUNCTION custfocus.report_themes_refresh(integer[]) IS
'Publishes again the themes of the given services (at commit)';
REVOKE ALL ON FUNCTION custfocus.report_themes_refresh(integer[]) FROM PUBLIC;

-- The services whose documents a statement changed: feedback (its service,
-- before and after), free-text answers (their responses' services), the
-- services of responses deleted or given another service.  TRUNCATE:
-- every service.
CREATE FUNCTION custfocus.theme_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
	v_services integer[];
	v_responses bigint[];
BEGIN
	IF TG_OP = 'TRUNCATE' THEN
		v_services := ARRAY(SELECT s.service_id FROM custfocus.service s);
	ELSIF TG_TABLE_NAME = 'feedback' THEN
		IF TG_OP = 'INSERT' THEN
			v_services := ARRAY(SELECT DISTINCT n.service_id FROM new_rows n WHERE n.service_id IS NOT NULL);
		ELSIF TG_OP = 'DELETE' THEN
			v_services := ARRAY(SELECT DISTINCT o.service_id FROM old_rows o WHERE o.service_id IS NOT NULL);
		ELSE
			v_services := ARRAY(SELECT o.service_id FROM old_rows o JOIN new_rows n ON n.feedback_id = o.feedback_id
								 WHERE (o.body, o.service_id) IS DISTINCT FROM (n.body, n.service_id) AND o.service_id IS NOT NULL
								UNION
								SELECT n.service_id FROM old_rows o JOIN new_rows n ON n.feedback_id = o.feedback_id
								 WHERE (o.body, o.service_id) IS DISTINCT FROM (n.body, n.service_id) AND n.service_id IS NOT NULL);
		END IF;
	ELSIF TG_TABLE_NAME = 'answer' THEN
		-- the responses first, then their services: with the responses' ids
		-- in a sub-select of the same statement, the planner could not see
		-- how many there were, walked every response with a service and
		-- tested each against the whole array (a COPY of 500,000 answers
		-- spent 13 s here); as a variable, the array is known when the
		-- statement is planned, and the primary key is probed with it
		IF TG_OP = 'INSERT' THEN
			v_responses := ARRAY(SELECT DISTINCT n.response_id FROM new_rows n WHERE n.text_value IS NOT NULL);
		ELSIF TG_OP = 'DELETE' THEN
			v_responses := ARRAY(SELECT DISTINCT o.response_id FROM old_rows o WHERE o.text_value IS NOT NULL);
		ELSE
			v_responses := ARRAY(SELECT o.response_id FROM old_rows o
								   JOIN new_rows n ON n.response_id = o.response_id AND n.item_id = o.item_id
								  WHERE o.text_value IS DISTINCT FROM n.text_value
								 UNION
								 SELECT n.response_id FROM new_rows n
								   LEFT JOIN old_rows o ON o.response_id = n.response_id AND o.item_id = n.item_id
								  WHERE o.response_id IS NULL AND n.text_value IS NOT NULL
								 UNION
								 SELECT o.response_id FROM old_rows o
								   LEFT JOIN new_rows n ON n.response_id = o.response_id AND n.item_id = o.item_id
								  WHERE n.response_id IS NULL AND o.text_value IS NOT NULL);
		END IF;
		v_services := ARRAY(SELECT DISTINCT r.service_id FROM custfocus.response r
							 WHERE r.response_id = ANY (v_responses) AND r.service_id IS NOT NULL);
	ELSIF TG_OP = 'DELETE' THEN
		-- responses deleted: their answers went with them, and the answer
		-- trigger could no longer find their services
		v_services := ARRAY(SELECT DISTINCT o.service_id FROM old_rows o WHERE o.service_id IS NOT NULL);
	ELSE
		-- responses given another service (or id): both services
		v_services := ARRAY(SELECT o.service_id FROM old_rows o
							 WHERE o.service_id IS NOT NULL
							   AND NOT EXISTS (SELECT FROM new_rows n WHERE n.response_id = o.response_id
												 AND n.service_id IS NOT DISTINCT FROM o.service_id)
							UNION
							SELECT n.service_id FROM new_rows n
							 WHERE n.service_id IS NOT NULL
							   AND NOT EXISTS (SELECT FROM old_rows o WHERE o.response_id = n.response_id
												 AND o.service_id IS NOT DISTINCT FROM n.service_id));
	END IF;
	IF cardinality(v_services) > 0 THEN
		PERFORM custfocus.report_touch(v_services, true);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.theme_change() IS
'Trigger: the themes of the services whose feedback or free-text answers a statement changed are published again at commit';
REVOKE ALL ON FUNCTION custfocus.theme_change() FROM PUBLIC;
CREATE TRIGGER theme_feedback_insert AFTER INSERT ON custfocus.feedback
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.theme_change();
CREATE TRIGGER theme_feedback_update AFTER UPDATE ON custfocus.feedback
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.theme_change();
CREATE TRIGGER theme_feedback_delete AFTER DELETE ON custfocus.feedback
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.theme_change();
CREATE TRIGGER theme_feedback_truncate AFTER TRUNCATE ON custfocus.feedback
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.theme_change();
CREATE TRIGGER theme_answer_insert AFTER INSERT ON custfocus.answer
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.theme_change();
CREATE TRIGGER theme_answer_update AFTER UPDATE ON custfocus.answer
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.theme_change();
CREATE TRIGGER theme_answer_delete AFTER DELETE ON custfocus.answer
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.theme_change();
CREATE TRIGGER theme_answer_truncate AFTER TRUNCATE ON custfocus.answer
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.theme_change();
CREATE TRIGGER theme_response_service AFTER UPDATE ON custfocus.response
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.theme_change();
CREATE TRIGGER theme_response_delete AFTER DELETE ON custfocus.response
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.theme_change();

-------------------------------------------------------------------------------
-- The feedback queue's closed-loop figures
-------------------------------------------------------------------------------
-- custfocus.feedback_queue lists the open feedback (a small share of all
-- feedback, found through feedback_open_idx), each with its service's
-- figures: feedback still open, closed in the last 90 days, and the median
-- days to close over every feedback the service ever closed.  The median
-- reads all of that, and no delta of it inverts; so the open count and the
-- median are computed when the service's feedback changes (at commit, for
-- the services the transaction's statements touched: feedback_figures_change)
-- and published here.  "The last 90 days" moves with the clock: that count
-- is made when read, through feedback_closed_idx (the range of the
-- service's feedback closed since then).  Service 0: the feedback about no
-- service.  As the other published figures, a transaction with changes of
-- its own to publish reads them computed (report_published).
CREATE TABLE custfocus.report_feedback (
	service_id	integer PRIMARY KEY,
	open_count	bigint NOT NULL,
	median_days_to_close double precision
);
COMMENT ON TABLE custfocus.report_feedback IS
'Each service''s closed-loop figures (feedback open, median days to close), as published by the last commit that changed its feedback; derived data, kept at commit, not dumped';
COMMENT ON COLUMN custfocus.report_feedback.service_id IS 'The service (0: feedback about no service)';
COMMENT ON COLUMN custfocus.report_feedback.open_count IS 'As custfocus.feedback_queue.service_open';
COMMENT ON COLUMN custfocus.report_feedback.median_days_to_close IS 'As custfocus.feedback_queue.service_median_days_to_close, not rounded (NULL: none closed)';
REVOKE ALL ON custfocus.report_feedback FROM PUBLIC;
ALTER TABLE custfocus.report_feedback ENABLE ROW LEVEL SECURITY;

CREATE INDEX feedback_closed_idx ON custfocus.feedback (service_id, closed_at) WHERE closed_at IS NOT NULL;

-- The figures of every service's feedback, or of the given services' (0:
-- about no service).  PL/pgSQL, as voc_themes_compute (Citus).
CREATE FUNCTION custfocus.feedback_figures_compute(p_services integer[] DEFAULT NULL)
RETURNS SETOF custfocus.report_feedback
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY
	SELECT coalesce(g.service_id, 0), count(*) FILTER (WHERE g.status <> 'closed'),
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM g.closed_at - g.received_at) / 86400)
	  FROM custfocus.feedback g
	 WHERE p_services IS NULL
		OR g.service_id = ANY (p_services)
		OR (g.service_id IS NULL AND 0 = ANY (p_services))
	 GROUP BY 1;
END
$$;
COMMENT ON FUNCTION custfocus.feedback_figures_compute(integer[]) IS
'The closed-loop figures (feedback open, median days to close) of every service''s feedback, or of the given services'' (0: feedback about no service)';
REVOKE ALL ON FUNCTION custfocus.feedback_figures_compute(integer[]) FROM PUBLIC;

-- Asks for the given services' closed-loop figures to be published again
-- when the transaction commits (rollup_pending.scope feedback).
CREATE FUNCTION custfocus.report_feedback_touch(p_services integer[]) RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	INSERT INTO custfocus.rollup_pending (services, months, scope)
	SELECT p_services, '{}', 'feedback' WHERE cardinality(p_services) > 0
$$;
COMMENT ON FUNCTION custfocus.report_feedback_touch(integer[]) IS
'Asks for the given services'' closed-loop figures (0: feedback about no service) to be published again when the transaction commits';
REVOKE ALL ON FUNCTION custfocus.report_feedback_touch(integer[]) FROM PUBLIC;

-- Publishes them (at commit, under report_state, as report_refresh).
CREATE FUNCTION custfocus.report_feedback_refresh(p_services integer[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM custfocus.report_feedback r WHERE r.service_id = ANY (p_services);
	INSERT INTO custfocus.report_feedback SELECT * FROM custfocus.feedback_figures_compute(p_services);
END
$$;
COMMENT ON FUNCTION custfocus.report_feedback_refresh(integer[]) IS
'Publishes again the closed-loop figures of the given services (0: feedback about no service), at commit';
REVOKE ALL ON FUNCTION custfocus.report_feedback_refresh(integer[]) FROM PUBLIC;

-- The services whose figures a statement on feedback changed: of the rows
-- inserted or deleted, and of the rows updated in service, status or times
-- (before and after).  TRUNCATE: every service published.
CREATE FUNCTION custfocus.feedback_figures_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
	v_services integer[];
BEGIN
	IF TG_OP = 'TRUNCATE' THEN
		-- (every service published: those a TRUNCATE ... CASCADE took too)
		v_services := ARRAY(SELECT r.service_id FROM custfocus.report_feedback r);
	ELSIF TG_OP = 'INSERT' THEN
		v_services := ARRAY(SELECT DISTINCT coalesce(n.service_id, 0) FROM new_rows n);
	ELSIF TG_OP = 'DELETE' THEN
		v_services := ARRAY(SELECT DISTINCT coalesce(o.service_id, 0) FROM old_rows o);
	ELSE
		v_services := ARRAY(SELECT coalesce(o.service_id, 0) FROM old_rows o
							 WHERE NOT EXISTS (SELECT FROM new_rows n WHERE n.feedback_id = o.feedback_id
												 AND (n.service_id, n.status, n.received_at, n.closed_at)
													 IS NOT DISTINCT FROM (o.service_id, o.status, o.received_at, o.closed_at))
							UNION
							SELECT coalesce(n.service_id, 0) FROM new_rows n
							 WHERE NOT EXISTS (SELECT FROM old_rows o WHERE o.feedback_id = n.feedback_id
												 AND (o.service_id, o.status, o.received_at, o.closed_at)
													 IS NOT DISTINCT FROM (n.service_id, n.status, n.received_at, n.closed_at)));
	END IF;
	PERFORM custfocus.report_feedback_touch(v_services);
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.feedback_figures_change() IS
'Trigger: the closed-loop figures of the services whose feedback a statement changed are published again at commit';
REVOKE ALL ON FUNCTION custfocus.feedback_figures_change() FROM PUBLIC;
CREATE TRIGGER feedback_figures_insert AFTER INSERT ON custfocus.feedback
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.feedback_figures_change();
CREATE TRIGGER feedback_figures_update AFTER UPDATE ON custfocus.feedback
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.feedback_figures_change();
CREATE TRIGGER feedback_figures_delete AFTER DELETE ON custfocus.feedback
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.feedback_figures_change();
CREATE TRIGGER feedback_figures_truncate AFTER TRUNCATE ON custfocus.feedback
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.feedback_figures_change();

-- Stated importance: of a requirement (every service with key drivers), or
-- of a requirement at a service; and the codes of services and requirements
-- (the opportunities' ranks break ties with them).
CREATE FUNCTION custfocus.report_importance_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
	IF TG_TABLE_NAME = 'requirement' THEN
		-- every service, listed at commit
		PERFORM custfocus.report_touch(NULL);
	ELSIF TG_TABLE_NAME = 'service' THEN
		-- the services whose code changed
		PERFORM custfocus.report_touch(ARRAY(SELECT n.service_id FROM new_rows n
											   JOIN old_rows o ON o.service_id = n.service_id
											  WHERE n.code IS DISTINCT FROM o.code));
	ELSIF TG_OP = 'DELETE' THEN
		PERFORM custfocus.report_touch(ARRAY(SELECT DISTINCT o.service_id FROM old_rows o));
	ELSIF TG_OP = 'INSERT' THEN
		PERFORM custfocus.report_touch(ARRAY(SELECT DISTINCT n.service_id FROM new_rows n));
	ELSE
		PERFORM custfocus.report_touch(ARRAY(SELECT o.service_id FROM old_rows o UNION SELECT n.service_id FROM new_rows n));
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.report_importance_change() IS
'Trigger: a stated importance (or the code of a service or a requirement) changed, the key drivers of the services it counts for are published again at commit, and the opportunities'' ranks';
REVOKE ALL ON FUNCTION custfocus.report_importance_change() FROM PUBLIC;
CREATE TRIGGER report_requirement_importance AFTER UPDATE OF importance ON custfocus.requirement
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_importance_change();
CREATE TRIGGER report_service_requirement_insert AFTER INSERT ON custfocus.service_requirement
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_importance_change();
CREATE TRIGGER report_service_requirement_update AFTER UPDATE ON custfocus.service_requirement
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_importance_change();
CREATE TRIGGER report_service_requirement_delete AFTER DELETE ON custfocus.service_requirement
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_importance_change();
-- The codes the opportunities' ranks break ties with (report_opportunities):
-- a renamed service's figures, every service's for a renamed requirement,
-- are published again at commit, and the ranks with them.
CREATE TRIGGER report_service_code AFTER UPDATE ON custfocus.service
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_importance_change();
CREATE TRIGGER report_requirement_code AFTER UPDATE OF code ON custfocus.requirement
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_importance_change();

-- Whether two arrays of figures are equal: both NULL, or to p_tol relative
-- (absolute below 1).
CREATE FUNCTION custfocus.report_same(a double precision[], b double precision[], p_tol double precision)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT cardinality(a) = cardinality(b)
		   AND coalesce(bool_and(CASE WHEN x IS NULL OR y IS NULL THEN x IS NULL AND y IS NULL
									  ELSE abs(x - y) <= p_tol * greatest(1, abs(x), abs(y)) END), true)
	  FROM unnest(a, b) AS z (x, y)
$$;
COMMENT ON FUNCTION custfocus.report_same(double precision[], double precision[], double precision) IS
'Whether two arrays of figures are equal element by element: both NULL, or within p_tol relative to the larger (absolute below 1)';

-- Every published row that differs from a computation now (at the agency's
-- floor): empty when all is well.  (A key driver's quadrant compares with
-- the means of its service's requirements to 1e-9: published and computed
-- may merge states in another order, so the quadrant of a value on a
-- crosshair is compared as computed, not to a tolerance.)  Counts must be equal, figures equal to
-- 1e-12 relative.
CREATE FUNCTION custfocus.report_verify()
RETURNS TABLE (view_name text, program_id integer, unit_service_id integer, grain text, period_start date,
			   problem text)
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET custfocus.min_responses = 0
AS $$
	-- what commits left to the publisher first: those figures are not
	-- published yet, by design, and are read live meanwhile (only when
	-- something waits: the publication locks report_state, a write)
	-- (not in a read-only transaction or on a standby: there, rows still
	-- listed show as differences, which they are)
	SELECT custfocus.report_publish_pending()
	 WHERE EXISTS (SELECT FROM custfocus.report_stale)
	   AND NOT current_setting('transaction_read_only')::boolean;
	SELECT 'scorecard', coalesce(p.program_id, c.program_id), coalesce(p.unit_service_id, c.unit_service_id),
		   coalesce(p.grain, c.grain), coalesce(p.period_start, c.period_start),
		   CASE WHEN p.program_id IS NULL THEN 'not published' WHEN c.program_id IS NULL THEN 'published, not computed'
				ELSE 'published figures differ' END
	  FROM custfocus.report_scorecard p
	  FULL JOIN custfocus.scorecard_compute() c
		ON c.program_id = p.program_id AND c.unit_service_id = p.unit_service_id AND c.grain = p.grain
		   AND c.period_start = p.period_start
	 WHERE p.program_id IS NULL OR c.program_id IS NULL
		OR NOT custfocus.report_same(ARRAY[p.responses, p.csat_n, p.nps_n, p.linear_mean_n]::double precision[],
									 ARRAY[c.responses, c.csat_n, c.nps_n, c.linear_mean_n]::double precision[], 0)
		OR NOT custfocus.report_same(
			ARRAY[p.csat, p.csat_ci_low, p.csat_ci_high, p.nps, p.nps_ci_low, p.nps_ci_high, p.linear_mean,
				  p.linear_mean_ci_low, p.linear_mean_ci_high, p.csat_change, p.csat_change_p, p.nps_change,
				  p.nps_change_p, p.csat_weight, p.csat_weight_in_box, p.csat_n_eff, p.nps_weight,
				  p.nps_weight_promoters, p.nps_weight_detractors, p.linear_mean_weight, p.linear_mean_weighted_sum],
			ARRAY[c.csat, c.csat_ci_low, c.csat_ci_high, c.nps, c.nps_ci_low, c.nps_ci_high, c.linear_mean,
				  c.linear_mean_ci_low, c.linear_mean_ci_high, c.csat_change, c.csat_change_p, c.nps_change,
				  c.nps_change_p, c.csat_weight, c.csat_weight_in_box, c.csat_n_eff, c.nps_weight,
				  c.nps_weight_promoters, c.nps_weight_detractors, c.linear_mean_weight, c.linear_mean_weighted_sum],
			1e-12)
		OR p.period_label IS DISTINCT FROM c.period_label OR p.suppressed IS DISTINCT FROM c.suppressed
	UNION ALL
	SELECT 'satisfaction_trend', coalesce(p.program_id, c.program_id), coalesce(p.unit_service_id, c.unit_service_id),
		   coalesce(p.grain, c.grain), coalesce(p.period_start, c.period_start),
		   CASE WHEN p.program_id IS NULL THEN 'not published' WHEN c.program_id IS NULL THEN 'published, not computed'
				ELSE 'published figures differ' END
	  FROM custfocus.report_trend p
	  FULL JOIN custfocus.satisfaction_trend_compute() c
		ON c.program_id = p.program_id AND c.unit_service_id = p.unit_service_id AND c.grain = p.grain
		   AND c.period_start = p.period_start
	 WHERE p.program_id IS NULL OR c.program_id IS NULL
		OR p.n IS DISTINCT FROM c.n OR p.in_box IS DISTINCT FROM c.in_box
		OR NOT custfocus.report_same(ARRAY[p.csat, p.centre, p.lcl, p.ucl], ARRAY[c.csat, c.centre, c.lcl, c.ucl], 1e-12)
		OR (p.period_label, p.outside, p.run_of_8, p.trend_of_6, p.signal, p.suppressed)
		   IS DISTINCT FROM (c.period_label, c.outside, c.run_of_8, c.trend_of_6, c.signal, c.suppressed)
	UNION ALL
	-- (the key drivers' unit: the service, 0 as a program's)
	SELECT 'key_drivers', s.program_id, coalesce(p.service_id, c.service_id), NULL, coalesce(p.window_start, c.window_start),
		   CASE WHEN p.service_id IS NULL THEN 'not published' WHEN c.service_id IS NULL THEN 'published, not computed'
				ELSE 'published figures differ' END
	  FROM custfocus.report_key_drivers p
	  FULL JOIN custfocus.key_drivers_compute() c
		ON c.service_id = p.service_id AND c.survey_id = p.survey_id AND c.requirement_id = p.requirement_id
	  LEFT JOIN custfocus.service s ON s.service_id = coalesce(p.service_id, c.service_id)
	 WHERE p.service_id IS NULL OR c.service_id IS NULL
		OR p.n IS DISTINCT FROM c.n
		OR NOT custfocus.report_same(
			ARRAY[p.correlation, p.derived_importance, p.stated_importance, p.importance, p.performance, p.gap],
			ARRAY[c.correlation, c.derived_importance, c.stated_importance, c.importance, c.performance, c.gap],
			1e-12)
		-- priority = importance x gap, and a gap of two equal figures is
		-- 0 in one order of merging and a rounding error in another: the
		-- product compared on the scale of its factor (priority / importance
		-- is the gap, compared as the gap is; found as a commit published
		-- 0 where the computation gave 1.9e-12)
		OR NOT custfocus.report_same(ARRAY[p.priority / greatest(1, abs(p.importance))],
									 ARRAY[c.priority / greatest(1, abs(c.importance))], 1e-12)
		OR (p.window_start, p.window_end, p.importance_source, p.quadrant, p.suppressed)
		   IS DISTINCT FROM (c.window_start, c.window_end, c.importance_source, c.quadrant, c.suppressed)
	UNION ALL
	-- (a measure's unit: its scope's program and service, 0 for a program)
	SELECT 'measure_status', coalesce(p.program_id, c.program_id), coalesce(p.service_id, c.service_id, 0),
		   coalesce(p.period, c.period), coalesce(p.period_start, c.period_start),
		   CASE WHEN p.measure_id IS NULL THEN 'not published' WHEN c.measure_id IS NULL THEN 'published, not computed'
				ELSE 'published figures differ' END
	  FROM custfocus.report_measure_status p
	  FULL JOIN custfocus.measure_status_compute() c ON c.measure_id = p.measure_id AND c.period_start = p.period_start
	 WHERE p.measure_id IS NULL OR c.measure_id IS NULL
		OR (p.program_id, p.service_id, p.n, p.in_box) IS DISTINCT FROM (c.program_id, c.service_id, c.n, c.in_box)
		OR NOT custfocus.report_same(
			ARRAY[p.actual, p.target, p.distance_to_target, p.previous_actual, p.change, p.trend_slope, p.baseline],
			ARRAY[c.actual, c.target, c.distance_to_target, c.previous_actual, c.change, c.trend_slope, c.baseline], 1e-12)
		OR (p.measure_code, p.measure_name, p.metric, p.period, p.period_label, p.direction, p.met, p.trend, p.suppressed)
		   IS DISTINCT FROM (c.measure_code, c.measure_name, c.metric, c.period, c.period_label, c.direction, c.met,
							 c.trend, c.suppressed)
	UNION ALL
	SELECT 'voc_themes', s.program_id, coalesce(p.service_id, c.service_id), NULL, NULL,
		   CASE WHEN p.service_id IS NULL THEN 'not published' WHEN c.service_id IS NULL THEN 'published, not computed'
				ELSE 'published figures differ' END
	  FROM custfocus.report_themes p
	  FULL JOIN custfocus.voc_themes_compute() c ON c.service_id = p.service_id AND c.rank = p.rank
	  LEFT JOIN custfocus.service s ON s.service_id = coalesce(p.service_id, c.service_id)
	 WHERE NOT custfocus.citus_distributed()
	   AND (p.service_id IS NULL OR c.service_id IS NULL
		OR (p.term, p.documents, p.feedback_documents, p.answer_documents, p.service_documents, p.example)
		   IS DISTINCT FROM (c.term, c.documents, c.feedback_documents, c.answer_documents, c.service_documents, c.example))
	UNION ALL
	-- (the closed-loop figures' unit: the service, 0 for about no service)
	SELECT 'feedback_queue', s.program_id, coalesce(p.service_id, c.service_id), NULL, NULL,
		   CASE WHEN p.service_id IS NULL THEN 'not published' WHEN c.service_id IS NULL THEN 'published, not computed'
				ELSE 'published figures differ' END
	  FROM custfocus.report_feedback p
	  FULL JOIN custfocus.feedback_figures_compute() c ON c.service_id = p.service_id
	  LEFT JOIN custfocus.service s ON s.service_id = coalesce(p.service_id, c.service_id)
	 WHERE p.service_id IS NULL OR c.service_id IS NULL OR p.open_count <> c.open_count
		OR NOT custfocus.report_same(ARRAY[p.median_days_to_close], ARRAY[c.median_days_to_close], 1e-12)
	UNION ALL
	-- the opportunities' ranks: those of the published key drivers (which
	-- are compared with a computation above)
	SELECT 'improvement_opportunities', s.program_id, coalesce(p.service_id, c.service_id), NULL, NULL,
		   CASE WHEN p.service_id IS NULL THEN 'not published' WHEN c.service_id IS NULL THEN 'published, not computed'
				ELSE 'published figures differ' END
	  FROM custfocus.report_opportunities p
	  FULL JOIN custfocus.opportunities_rank(ARRAY(SELECT f FROM custfocus.report_key_drivers f)) c
		ON c.service_id = p.service_id AND c.survey_id = p.survey_id AND c.requirement_id = p.requirement_id
	  LEFT JOIN custfocus.service s ON s.service_id = coalesce(p.service_id, c.service_id)
	 WHERE p.service_id IS NULL OR c.service_id IS NULL
		OR (p.rank, p.n, p.importance, p.importance_source, p.performance, p.gap, p.priority, p.quadrant)
		   IS DISTINCT FROM (c.rank, c.n, c.importance, c.importance_source, c.performance, c.gap, c.priority, c.quadrant)
$$;
COMMENT ON FUNCTION custfocus.report_verify() IS
'Publishes what waits for the publisher (report_publish_pending), then lists every published scorecard, trend, key-driver, measure, theme, closed-loop or opportunity row that differs from a computation from the roll-ups now, at the agency''s floor (counts equal, figures to 1e-12 relative), or is missing on either side; empty when all is well';
REVOKE ALL ON FUNCTION custfocus.report_verify() FROM PUBLIC;

CREATE OR REPLACE VIEW custfocus.scorecard WITH (security_barrier) AS
-- (the UNION ALL in a sub-select: a view whose query is a bare UNION ALL is
-- flattened into the caller's query, security barrier and all, and a
-- caller's function in WHERE would run on the published rows before the
-- rule on the units: found by a review)
SELECT * FROM (
SELECT u.level, u.program_code, u.program_name, u.service_code, u.service_name, f.grain, f.period_start,
	   f.period_label, f.responses, f.csat_n, f.csat, f.csat_ci_low, f.csat_ci_high, f.nps_n, f.nps, f.nps_ci_low,
	   f.nps_ci_high, f.linear_mean_n, f.linear_mean, f.linear_mean_ci_low, f.linear_mean_ci_high, f.csat_change,
	   f.csat_change_p, f.nps_change, f.nps_change_p, f.suppressed, u.program_level, u.parent_program_code,
	   f.csat_weight, f.csat_weight_in_box, f.csat_n_eff, f.nps_weight, f.nps_weight_promoters,
	   f.nps_weight_detractors, f.linear_mean_weight, f.linear_mean_weighted_sum
  FROM (SELECT DISTINCT r.level, r.program_id, r.unit_service_id, r.program_code, r.program_name, r.program_level,
						r.parent_program_code, r.service_code, r.service_name
		  FROM custfocus.report_unit r) u
  JOIN custfocus.report_scorecard f ON f.program_id = u.program_id AND f.unit_service_id = u.unit_service_id
 WHERE (SELECT custfocus.report_published())
   AND ((SELECT custfocus.sees_all_programs())
		OR u.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
UNION ALL
SELECT u.level, u.program_code, u.program_name, u.service_code, u.service_name, f.grain, f.period_start,
	   f.period_label, f.responses, f.csat_n, f.csat, f.csat_ci_low, f.csat_ci_high, f.nps_n, f.nps, f.nps_ci_low,
	   f.nps_ci_high, f.linear_mean_n, f.linear_mean, f.linear_mean_ci_low, f.linear_mean_ci_high, f.csat_change,
	   f.csat_change_p, f.nps_change, f.nps_change_p, f.suppressed, u.program_level, u.parent_program_code,
	   f.csat_weight, f.csat_weight_in_box, f.csat_n_eff, f.nps_weight, f.nps_weight_promoters,
	   f.nps_weight_detractors, f.linear_mean_weight, f.linear_mean_weighted_sum
  FROM (SELECT DISTINCT r.level, r.program_id, r.unit_service_id, r.program_code, r.program_name, r.program_level,
						r.parent_program_code, r.service_code, r.service_name
		  FROM custfocus.report_unit r) u
  JOIN custfocus.scorecard_live_rows(CURRENT_USER) f ON f.program_id = u.program_id AND f.unit_service_id = u.unit_service_id
 WHERE NOT (SELECT custfocus.report_published())
) v;

CREATE OR REPLACE VIEW custfocus.satisfaction_trend WITH (security_barrier) AS
-- (in a sub-select: see the scorecard)
SELECT * FROM (
SELECT u.level, u.program_code, u.service_code, f.grain, f.period_start, f.period_label, f.n, f.csat, f.centre,
	   f.lcl, f.ucl, f.outside, f.run_of_8, f.trend_of_6, f.signal, f.suppressed, u.program_level,
	   u.parent_program_code, f.in_box
  FROM (SELECT DISTINCT r.level, r.program_id, r.unit_service_id, r.program_code, r.service_code, r.program_level,
						r.parent_program_code
		  FROM custfocus.report_unit r) u
  JOIN custfocus.report_trend f ON f.program_id = u.program_id AND f.unit_service_id = u.unit_service_id
 WHERE (SELECT custfocus.report_published())
   AND ((SELECT custfocus.sees_all_programs())
		OR u.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
UNION ALL
SELECT u.level, u.program_code, u.service_code, f.grain, f.period_start, f.period_label, f.n, f.csat, f.centre,
	   f.lcl, f.ucl, f.outside, f.run_of_8, f.trend_of_6, f.signal, f.suppressed, u.program_level,
	   u.parent_program_code, f.in_box
  FROM (SELECT DISTINCT r.level, r.program_id, r.unit_service_id, r.program_code, r.service_code, r.program_level,
						r.parent_program_code
		  FROM custfocus.report_unit r) u
  JOIN custfocus.satisfaction_trend_live_rows(CURRENT_USER) f
	ON f.program_id = u.program_id AND f.unit_service_id = u.unit_service_id
 WHERE NOT (SELECT custfocus.report_published())
) v;

COMMENT ON VIEW custfocus.scorecard IS
'Satisfaction per service and per program (roll-up of every service under it), per month, quarter and year of the reporting time zone: CSAT, NPS and linear mean with 95 % intervals (survey weights applied), the change from the period before with its p-value, and additive columns to re-aggregate any selection; scores of fewer than custfocus.min_responses() answers are suppressed; figures as published by the last commit that changed answers (computed at read time in a transaction that changed answers, or under a threshold above the agency''s floor)';
COMMENT ON VIEW custfocus_reports.scorecard IS
'Satisfaction per service and per program (roll-up of every service under it), per month, quarter and year of the reporting time zone: CSAT, NPS and linear mean with 95 % intervals (survey weights applied), the change from the period before with its p-value, and additive columns to re-aggregate any selection; scores of fewer than custfocus.min_responses() answers are suppressed; figures as published by the last commit that changed answers (computed at read time in a transaction that changed answers, or under a threshold above the agency''s floor)';
COMMENT ON VIEW custfocus.satisfaction_trend IS
'CSAT over time per service and program as a p-chart: each period''s percent satisfied against the centre line and 3-sigma limits, with the run signals (outside the limits, 8 in a row on one side, 6 rising or falling); unweighted counts, periods of the reporting time zone; points as published by the last commit that changed answers (computed at read time in a transaction that changed answers, or under a threshold above the agency''s floor)';
COMMENT ON VIEW custfocus_reports.satisfaction_trend IS
'CSAT over time per service and program as a p-chart: each period''s percent satisfied against the centre line and 3-sigma limits, with the run signals (outside the limits, 8 in a row on one side, 6 rising or falling); unweighted counts, periods of the reporting time zone; points as published by the last commit that changed answers (computed at read time in a transaction that changed answers, or under a threshold above the agency''s floor)';
CREATE OR REPLACE VIEW custfocus.measure_status WITH (security_barrier) AS
SELECT f.measure_code, f.measure_name, p.code AS program_code, s.code AS service_code, f.metric, f.period,
	   f.period_start, f.period_label, f.n, f.actual, f.target, f.direction, f.met, f.distance_to_target,
	   f.previous_actual, f.change, f.trend, f.trend_slope, f.baseline, f.suppressed, f.in_box
  FROM custfocus.report_measure_status f
  JOIN custfocus.program p ON p.program_id = f.program_id
  LEFT JOIN custfocus.service s ON s.service_id = f.service_id
 WHERE (SELECT custfocus.report_published())
   AND ((SELECT custfocus.sees_all_programs())
		OR f.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
UNION ALL
SELECT f.measure_code, f.measure_name, p.code AS program_code, s.code AS service_code, f.metric, f.period,
	   f.period_start, f.period_label, f.n, f.actual, f.target, f.direction, f.met, f.distance_to_target,
	   f.previous_actual, f.change, f.trend, f.trend_slope, f.baseline, f.suppressed, f.in_box
  FROM custfocus.measure_status_live_rows(CURRENT_USER) f
  JOIN custfocus.program p ON p.program_id = f.program_id
  LEFT JOIN custfocus.service s ON s.service_id = f.service_id
 WHERE NOT (SELECT custfocus.report_published())
 ORDER BY 1, 7;

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
SELECT p.code AS program_code, s.code AS service_code, sv.code AS survey_code, rq.code AS requirement_code,
	   rq.name AS requirement_name, f.window_start, f.window_end, f.n, f.correlation, f.derived_importance,
	   f.stated_importance, f.importance, f.importance_source, f.performance, f.gap, f.priority, f.quadrant,
	   f.suppressed, f.relative_importance, f.model_r2, f.model_n, f.drivers_alpha
  FROM custfocus.report_key_drivers f
  JOIN custfocus.service s ON s.service_id = f.service_id
  JOIN custfocus.program p ON p.program_id = s.program_id
  JOIN custfocus.survey sv ON sv.survey_id = f.survey_id
  JOIN custfocus.requirement rq ON rq.requirement_id = f.requirement_id
 WHERE (SELECT custfocus.report_published())
   AND ((SELECT custfocus.sees_all_programs())
		OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
UNION ALL
SELECT p.code AS program_code, s.code AS service_code, sv.code AS survey_code, rq.code AS requirement_code,
	   rq.name AS requirement_name, f.window_start, f.window_end, f.n, f.correlation, f.derived_importance,
	   f.stated_importance, f.importance, f.importance_source, f.performance, f.gap, f.priority, f.quadrant,
	   f.suppressed, f.relative_importance, f.model_r2, f.model_n, f.drivers_alpha
  FROM custfocus.key_drivers_live_rows(CURRENT_USER) f
  JOIN custfocus.service s ON s.service_id = f.service_id
  JOIN custfocus.program p ON p.program_id = s.program_id
  JOIN custfocus.survey sv ON sv.survey_id = f.survey_id
  JOIN custfocus.requirement rq ON rq.requirement_id = f.requirement_id
 WHERE NOT (SELECT custfocus.report_published())
 ORDER BY 1, 2, 3, 4;

CREATE OR REPLACE VIEW custfocus_reports.key_drivers WITH (security_barrier) AS SELECT * FROM custfocus.key_drivers;
CREATE FUNCTION custfocus.improvement_opportunities_live_rows(p_role name)
RETURNS SETOF custfocus.report_opportunities
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT * FROM custfocus.opportunities_rank(ARRAY(SELECT f FROM custfocus.key_drivers_live_rows(p_role) f))
$$;
COMMENT ON FUNCTION custfocus.improvement_opportunities_live_rows(name) IS
'The improvement opportunities of the services the role may see, ranked among them, computed at read time (what custfocus.improvement_opportunities reads when the published figures are not the session''s)';

REVOKE ALL ON FUNCTION custfocus.improvement_opportunities_live_rows(name) FROM PUBLIC;

CREATE OR REPLACE VIEW custfocus.improvement_opportunities WITH (security_barrier) AS
SELECT x.rnk AS rank, x.program_code, x.service_code, x.survey_code, x.requirement_code, x.requirement_name,
	   x.importance, x.importance_source, x.performance, x.gap, x.priority, x.quadrant, x.n,
	   act.open_n AS open_actions, act.titles AS open_action_titles, r.reason
  FROM (
	SELECT rank() OVER (ORDER BY o.rank)::integer AS rnk, o.service_id, o.requirement_id, p.code AS program_code,
		   s.code AS service_code, sv.code AS survey_code, rq.code AS requirement_code,
		   rq.name AS requirement_name, o.importance, o.importance_source, o.performance, o.gap, o.priority,
		   o.quadrant, o.n
	  FROM (SELECT * FROM custfocus.report_opportunities WHERE (SELECT custfocus.report_published())
			UNION ALL
			SELECT * FROM custfocus.improvement_opportunities_live_rows(CURRENT_USER)
			 WHERE NOT (SELECT custfocus.report_published())) o
	  JOIN custfocus.service s ON s.service_id = o.service_id
	  JOIN custfocus.program p ON p.program_id = s.program_id
	  JOIN custfocus.survey sv ON sv.survey_id = o.survey_id
	  JOIN custfocus.requirement rq ON rq.requirement_id = o.requirement_id
	 WHERE (SELECT custfocus.sees_all_programs())
		OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
	 ORDER BY 1, 5, 7
  ) x
 CROSS JOIN LATERAL (
	SELECT count(*) AS open_n, string_agg(a.title, '; ' ORDER BY a.opened_on, a.action_id) AS titles
	  FROM custfocus.improvement_action a
	 WHERE a.service_id = x.service_id AND a.requirement_id = x.requirement_id
	   AND a.status IN ('planned', 'in_progress')) act
 CROSS JOIN LATERAL (
	SELECT format('%s at %s (survey %s): importance %s (%s) against performance %s on 0..100, a gap of %s, so priority %s (importance x gap); %s; %s',
				  x.requirement_name, x.service_code, x.survey_code, round(x.importance::numeric),
				  x.importance_source || CASE WHEN x.importance_source = 'derived'
											  THEN format(', r = %s', round((x.importance / 100)::numeric, 2)) ELSE '' END,
				  round(x.performance::numeric), round(x.gap::numeric), round(x.priority::numeric),
				  x.quadrant,
				  CASE WHEN act.open_n = 0 THEN 'no open improvement action'
					   ELSE format('%s open action(s): %s', act.open_n, act.titles) END) AS reason
	OFFSET 0) r
 ORDER BY x.rnk, x.service_code, x.requirement_code;

COMMENT ON COLUMN custfocus.key_drivers.relative_importance IS 'Johnson''s relative weight of the requirement''s items in the regression of the overall item on all the service''s requirement items in the survey (the drivers), as a percent of R squared (the requirements of a service and survey sum to 100), from pairwise correlations over the window; NULL when model_n is below custfocus.min_responses or the weights are undetermined (too few respondents, an item that does not vary, collinear drivers, pairwise correlations that give an R squared above 1, no overall item)';
COMMENT ON COLUMN custfocus_reports.key_drivers.relative_importance IS 'Johnson''s relative weight of the requirement''s items in the regression of the overall item on all the service''s requirement items in the survey (the drivers), as a percent of R squared (the requirements of a service and survey sum to 100), from pairwise correlations over the window; NULL when model_n is below custfocus.min_responses or the weights are undetermined (too few respondents, an item that does not vary, collinear drivers, pairwise correlations that give an R squared above 1, no overall item)';
COMMENT ON COLUMN custfocus.key_drivers.model_r2 IS 'R squared of that regression (the same on every row of the service and survey); NULL as relative_importance';
COMMENT ON COLUMN custfocus_reports.key_drivers.model_r2 IS 'R squared of that regression (the same on every row of the service and survey); NULL as relative_importance';
COMMENT ON COLUMN custfocus.key_drivers.model_n IS 'The fewest respondents who answered both items of any pair of the overall item and the drivers in the window (pairwise deletion)';
COMMENT ON COLUMN custfocus_reports.key_drivers.model_n IS 'The fewest respondents who answered both items of any pair of the overall item and the drivers in the window (pairwise deletion)';
COMMENT ON COLUMN custfocus.key_drivers.drivers_alpha IS 'Cronbach''s alpha of the drivers (their oriented scores), from their variances and pairwise covariances over the window; NULL when model_n is below custfocus.min_responses or fewer than two drivers';
COMMENT ON COLUMN custfocus_reports.key_drivers.drivers_alpha IS 'Cronbach''s alpha of the drivers (their oriented scores), from their variances and pairwise covariances over the window; NULL when model_n is below custfocus.min_responses or fewer than two drivers';
CREATE OR REPLACE VIEW custfocus.voc_themes WITH (security_barrier) AS
SELECT p.code AS program_code, s.code AS service_code, f.term, f.documents, f.feedback_documents, f.answer_documents,
	   round(100.0 * f.documents / f.service_documents, 1)::numeric(4,1) AS share_of_documents, f.rank, f.example
  FROM custfocus.report_themes f
  JOIN custfocus.service s ON s.service_id = f.service_id
  JOIN custfocus.program p ON p.program_id = s.program_id
 WHERE (SELECT custfocus.report_published())
   AND ((SELECT custfocus.sees_all_programs())
		OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
   AND f.documents >= (SELECT custfocus.min_responses())
UNION ALL
SELECT p.code AS program_code, s.code AS service_code, f.term, f.documents, f.feedback_documents, f.answer_documents,
	   round(100.0 * f.documents / f.service_documents, 1)::numeric(4,1) AS share_of_documents, f.rank, f.example
  FROM custfocus.voc_themes_live_rows(CURRENT_USER) f
  JOIN custfocus.service s ON s.service_id = f.service_id
  JOIN custfocus.program p ON p.program_id = s.program_id
 WHERE NOT (SELECT custfocus.report_published())
   AND f.documents >= (SELECT custfocus.min_responses())
 ORDER BY 1, 2, 8;

CREATE OR REPLACE VIEW custfocus.feedback_queue WITH (security_barrier) AS
SELECT q.feedback_id, q.kind, q.status, q.owner, q.received_at,
	   (pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())::date
		- pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), q.received_at)::date) AS age_days,
	   q.acknowledged_at, q.program_code, q.service_code, q.channel, q.body,
	   q.service_open, q.service_closed_last_90_days,
	   round(q.median_days::numeric, 1)::numeric(8,1) AS service_median_days_to_close
  FROM (
	SELECT f.feedback_id, f.kind, f.status, f.owner, f.received_at, f.acknowledged_at,
		   l.program_code, l.service_code, f.channel, f.body,
		   l.open_count AS service_open, l.closed_recent AS service_closed_last_90_days, l.median_days
	  FROM (SELECT s.service_id, p.code AS program_code, s.code AS service_code, r.open_count,
				   (SELECT count(*) FROM custfocus.feedback rc
					 WHERE rc.service_id = s.service_id
					   AND rc.closed_at >= pg_catalog.timezone((SELECT custfocus.reporting_time_zone()),
							   pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())
							   - interval '90 days')) AS closed_recent,
				   r.median_days_to_close AS median_days
			  FROM custfocus.report_feedback r
			  JOIN custfocus.service s ON s.service_id = r.service_id
			  JOIN custfocus.program p ON p.program_id = s.program_id
			 WHERE (SELECT custfocus.report_published())
			   AND ((SELECT custfocus.sees_all_programs())
					OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
			UNION ALL
			-- (as feedback_figures_compute)
			SELECT s.service_id, p.code, s.code,
				   count(*) FILTER (WHERE lg.status <> 'closed'),
				   count(*) FILTER (WHERE lg.closed_at >= pg_catalog.timezone((SELECT custfocus.reporting_time_zone()),
								pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())
								- interval '90 days')),
				   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM lg.closed_at - lg.received_at) / 86400)
			  FROM custfocus.service s
			  JOIN custfocus.program p ON p.program_id = s.program_id
			  JOIN custfocus.feedback lg ON lg.service_id = s.service_id
			 WHERE NOT (SELECT custfocus.report_published())
			   AND ((SELECT custfocus.sees_all_programs())
					OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
			 GROUP BY s.service_id, p.code, s.code) l
	  JOIN custfocus.feedback f ON f.service_id = l.service_id
	 WHERE f.status <> 'closed'
	UNION ALL
	SELECT f.feedback_id, f.kind, f.status, f.owner, f.received_at, f.acknowledged_at,
		   NULL::text, NULL::text, f.channel, f.body,
		   l.open_count, l.closed_recent, l.median_days
	  FROM (SELECT r.open_count,
				   (SELECT count(*) FROM custfocus.feedback rc
					 WHERE rc.service_id IS NULL
					   AND rc.closed_at >= pg_catalog.timezone((SELECT custfocus.reporting_time_zone()),
							   pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())
							   - interval '90 days')) AS closed_recent,
				   r.median_days_to_close AS median_days
			  FROM custfocus.report_feedback r
			 WHERE r.service_id = 0 AND (SELECT custfocus.report_published())
			UNION ALL
			SELECT count(*) FILTER (WHERE lg.status <> 'closed'),
				   count(*) FILTER (WHERE lg.closed_at >= pg_catalog.timezone((SELECT custfocus.reporting_time_zone()),
								pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())
								- interval '90 days')),
				   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM lg.closed_at - lg.received_at) / 86400)
			  FROM custfocus.feedback lg
			 WHERE lg.service_id IS NULL AND NOT (SELECT custfocus.report_published())
			-- (an aggregate without GROUP BY gives a row of none)
			HAVING NOT (SELECT custfocus.report_published())) l
	 CROSS JOIN custfocus.feedback f
	 WHERE f.service_id IS NULL AND f.status <> 'closed'
	   AND (SELECT custfocus.sees_all_programs())
  ) q
 ORDER BY q.received_at, q.feedback_id;

COMMENT ON VIEW custfocus.voc_themes IS
'Voice of the customer: for each service of the role''s programs, the 20 terms (full-text lexemes) found in the most feedback bodies and free-text answers (ties in term order); terms in fewer than custfocus.min_responses() documents are not shown';
COMMENT ON VIEW custfocus_reports.voc_themes IS
'Voice of the customer: for each service of the role''s programs, the 20 terms (full-text lexemes) found in the most feedback bodies and free-text answers (ties in term order); terms in fewer than custfocus.min_responses() documents are not shown';
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

-------------------------------------------------------------------------------
-- Scale-out on Citus (issue 14): custfocus.distribute() and what it needs
-------------------------------------------------------------------------------
-- Nothing here changes a single node: the new functions return at once or
-- refuse without Citus; the replaced ones give the same results (the
-- program tree is walked over arrays, which Citus can plan).

CREATE FUNCTION custfocus.programs_below(p_roots integer[]) RETURNS integer[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ids integer[];
	v_parents integer[];
BEGIN
	SELECT array_agg(p.program_id), array_agg(p.parent_id) INTO v_ids, v_parents FROM custfocus.program p;
	RETURN (
		WITH RECURSIVE t (program_id, parent_id) AS (SELECT * FROM unnest(v_ids, v_parents)),
		below (program_id) AS (
			SELECT t.program_id FROM t WHERE t.program_id = ANY (p_roots)
			UNION
			SELECT t.program_id FROM t JOIN below ON t.parent_id = below.program_id
		)
		SELECT coalesce(array_agg(program_id ORDER BY program_id), '{}') FROM below);
END
$$;
COMMENT ON FUNCTION custfocus.programs_below(integer[]) IS
'The given programs and every program below them, in id order (programs that do not exist are left out)';

CREATE FUNCTION custfocus.programs_above(p_roots integer[]) RETURNS integer[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ids integer[];
	v_parents integer[];
BEGIN
	SELECT array_agg(p.program_id), array_agg(p.parent_id) INTO v_ids, v_parents FROM custfocus.program p;
	RETURN (
		WITH RECURSIVE t (program_id, parent_id) AS (SELECT * FROM unnest(v_ids, v_parents)),
		up (program_id, parent_id) AS (
			SELECT t.program_id, t.parent_id FROM t WHERE t.program_id = ANY (p_roots)
			UNION
			SELECT t.program_id, t.parent_id FROM t JOIN up ON t.program_id = up.parent_id
		)
		SELECT coalesce(array_agg(program_id ORDER BY program_id), '{}') FROM up);
END
$$;
COMMENT ON FUNCTION custfocus.programs_above(integer[]) IS
'The given programs and every program above them, in id order (programs that do not exist are left out)';

REVOKE ALL ON FUNCTION custfocus.programs_below(integer[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.programs_above(integer[]) FROM PUBLIC;

-------------------------------------------------------------------------------
-- Scale-out on Citus: custfocus.distribute() (SPEC section 9, issue 14)
-------------------------------------------------------------------------------

-- Nothing here runs on a single node:
-- every function below either returns at once when custfocus is not
-- distributed or refuses to run without Citus, so a single-node database is
-- unchanged.
--
-- The design:
--
--   * Distribution key: response_id.  response, answer and respondent_contact
--     are hash-distributed by response_id and co-located, so a response, its
--     answers and its contact details live in one shard group on one node.
--     Every primary and foreign key among them already includes response_id,
--     so the model does not change; the checks that join an answer to its
--     response (the answer's item belongs to the response's survey; a
--     response with answers keeps its survey; an answer is visible with its
--     response) join co-located shards, on one node, in one transaction.
--     The alternative, service_id, would co-locate the service-keyed
--     roll-ups with what they roll up, but needs service_id in answer (a
--     column on the big table and a value every INSERT must supply, which a
--     user inserting an answer does not know), a NOT NULL service on every
--     response (responses without a service are allowed), and primary keys
--     (service_id, response_id): a model change for every single-node user,
--     and the program-level roll-ups would still span shards.
--   * Reference tables (a copy on every node, the coordinator included):
--     everything small: program, service, segment, service_segment,
--     requirement, service_requirement, scale, scale_label, survey, item,
--     import_batch, import_error, feedback, measure, improvement_action,
--     engagement, role_access, program_access.  The foreign keys from the
--     distributed tables to them stay (Citus enforces them on every shard).
--     feedback.response_id -> response is dropped: Citus allows no foreign
--     key from a reference table to a distributed table (a limit: its ON
--     DELETE SET NULL is done by apply_retention, not by a direct DELETE).
--   * Coordinator-local tables (plain PostgreSQL, not Citus): setting, the
--     roll-ups (rollup_service_month, rollup_unit_period, rollup_item_month, rollup_pairs_month,
--     rollup_pending), report_unit and the published figures (report_*,
--     published at commit by rollup_commit_compact, as on one node).  The views read the roll-ups on the
--     coordinator, joined to reference tables (which have a placement there:
--     the coordinator must be in the metadata, citus_set_coordinator_host).
--   * Roll-ups: the roll-up triggers cannot fire on Citus (a DML on a
--     distributed table runs on the shards; triggers on the coordinator's
--     shell table never fire), and a trigger on a shard may only touch
--     co-located shards, which the service-keyed roll-ups are not.  So the
--     coordinator maintains them: distribute() rebuilds them, the import
--     (custfocus.import_responses) recomputes the (service, month) keys its
--     responses touched, in its own transaction, and so does apply_retention
--     (citus_after_retention) and a change of an item or a scale.  The
--     import reads the raw data as the importer (rollup_compute and
--     rollup_item_compute become SECURITY INVOKER on Citus): Citus refuses
--     to read, as another role, shards the transaction modified as the
--     importer, so a SECURITY DEFINER recompute fails for an analyst.  The
--     rows are stored by citus_rollup_store (SECURITY DEFINER), which takes
--     them only while the import's C code says it is storing them.
--     A direct INSERT, UPDATE or DELETE on response or answer: triggers on
--     the shards record the service and time of each changed response in
--     rollup_dirty (co-located, by shard name); the C module (src/citus.c,
--     in the database's session_preload_libraries, set by distribute())
--     notes the DML on the coordinator and, before the transaction commits,
--     runs citus_rollup_sync, which recomputes those keys as the role.
--     LIMIT: a session that did not load the module (the setting is per
--     database) leaves its keys in rollup_dirty for the next sync; keys of
--     services the role does not see are left to their own sessions.
--   * Integrity: the answer check (value on its item's scale, item of the
--     response's survey) and the response survey check run as triggers on
--     the shards (citus.enable_unsafe_triggers, set by distribute() only to
--     create them) whose functions read only the co-located shard of
--     response or answer and the local placements of the reference tables,
--     by shard name: no distributed query from a shard, and they see the
--     uncommitted rows of their own transaction.  The built-in rows guard,
--     the program cycle check, the label check and the status timestamps of
--     feedback and improvement_action run on every placement of their
--     reference table (they only read that placement or the row).  The
--     report_unit refresh, the checks that an item's scale fits its answers
--     and that a changed scale still fits every answer, and the roll-up
--     recompute after an item or scale change run on the coordinator's
--     placement only (they read answers through Citus: nested execution).
--   * Unique respondent ids: UNIQUE (survey_id, COALESCE(service_id, 0),
--     external_id) cannot hold on a table distributed by response_id
--     (Citus allows unique keys only with the distribution column).  It
--     becomes a plain index; the import (which serialises imports of a
--     survey with an advisory lock) looks the batch's ids up before it
--     inserts and counts the ones it finds as duplicates.  A direct INSERT
--     or UPDATE is checked before the transaction commits
--     (citus_check_respondent_ids): a duplicate fails the commit with the
--     one-node index's error.
--   * Access: Citus refuses policies with sub-selects on Citus tables, so
--     every policy is re-created without them: the visibility functions are
--     called directly (once per row, not once per query: slower), and the
--     policies that looked at another table (an answer follows its response,
--     a label its scale, an import error its import, ...) call a SECURITY
--     DEFINER function that applies that table's policy.  Those functions
--     run on the shards, inside Citus' tasks, and read reference tables:
--     they are marked SET citus.allow_nested_distributed_execution = on, and
--     Citus then reads the node's local placement.  LIMIT: Citus calls this
--     possibly incorrect; a query on a worker does not see a change to a
--     reference table made earlier in the same transaction through another
--     connection to that worker (a grant and a query in one transaction).
--     Citus runs a query's shard tasks as the calling role, so a role needs
--     USAGE on the schema on every node and, for the views, SELECT on the
--     shards the views read (not on the tables themselves: on the
--     coordinator a reader still reads no table).  Both come with the role
--     custfocus_citus (made by distribute(): schema USAGE and default
--     privileges on each node before the shards exist, the admins' tables
--     revoked after), which grant_access grants (citus_sync_access; Citus
--     propagates the membership in the transaction; a grant per shard from
--     run_command_on_placements deadlocked with grant_access's own locks).
--     The shards keep the row-level security, so a reader reading a shard
--     on a worker directly sees only its programs' rows, unsuppressed:
--     workers should accept connections from the coordinator only.
--   * Views: a view that joins a coordinator-local table (roll-ups,
--     report_unit) to a Citus table runs, through Citus, as the reader, not
--     as the view's owner (permission denied for report_unit).  Those views
--     and data_coverage (correlated sub-queries per service, which Citus
--     cannot plan) read on Citus a SECURITY DEFINER function of the role,
--     made by distribute() (see "Reporting views on Citus" below).
--   * Complementary suppression (1.4): the coordinator's recomputes queue
--     their keys in rollup_pending (rollup_hidden_touch), so that the
--     deferred rollup_commit_compact computes the cells at commit; the
--     pre-commit sync, which runs after the deferred triggers, fires it
--     itself.  Its triggers on measure and item act on the coordinator's
--     placement.
--   * Errors of the shard triggers: their hint and code, which Citus drops
--     from a COPY's errors, travel on the detail's last line and are
--     restored by the C module on the coordinator (citus_error_detail).
--   * The import on Citus (src/import.c, when citus_distributed()): no ON
--     CONFLICT (the ids already there are looked up first), one-shot plans
--     (Citus plans parameters only with their values), multi-row VALUES
--     instead of INSERT ... SELECT (which Citus runs as a COPY, refused by
--     PostgreSQL under row-level security; LIMIT: a user's INSERT ...
--     SELECT under row-level security fails the same way, unless it has
--     RETURNING, with which Citus inserts from intermediate results), finished_at read in C (Citus
--     refuses clock_timestamp() in an UPDATE).
--   * One call: custfocus.distribute(), on the coordinator, as a superuser,
--     with custfocus of the same version created on every node (after
--     citus, as test/citus/cluster.sh does).  It prepares every node (the
--     extension's objects exist on every node; Citus reuses them as the
--     shells of the distributed tables, so their triggers and policies must
--     go everywhere), distributes, re-creates the triggers and policies that
--     Citus accepts, syncs the grants and rebuilds the roll-ups.  LIMIT:
--     the preparation of the workers runs through run_command_on_workers,
--     outside the coordinator's transaction: if distribute() fails after it,
--     drop and re-create the extension on the workers before trying again.
--   * pg_dump: the objects distribute() changes are extension members, which
--     pg_dump does not dump; restore into single nodes, then distribute
--     again.

-- True when custfocus.response is a Citus table in this database.
CREATE FUNCTION custfocus.citus_distributed() RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v boolean;
BEGIN
	IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
		RETURN false;
	END IF;
	EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition WHERE logicalrelid = ''custfocus.response''::pg_catalog.regclass)'
	   INTO v;
	RETURN v;
END
$$;
COMMENT ON FUNCTION custfocus.citus_distributed() IS
'True when custfocus has been distributed with custfocus.distribute() (custfocus.response is a Citus table)';

-- The tables distribute() makes reference tables, in foreign-key order.
CREATE FUNCTION custfocus.citus_reference_tables() RETURNS regclass[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT ARRAY['custfocus.program', 'custfocus.service', 'custfocus.segment', 'custfocus.service_segment',
				 'custfocus.requirement', 'custfocus.service_requirement', 'custfocus.scale',
				 'custfocus.scale_label', 'custfocus.survey', 'custfocus.item', 'custfocus.import_batch',
				 'custfocus.import_error', 'custfocus.feedback', 'custfocus.measure',
				 'custfocus.improvement_action', 'custfocus.engagement', 'custfocus.role_access',
				 'custfocus.program_access']::regclass[]
$$;
COMMENT ON FUNCTION custfocus.citus_reference_tables() IS
'The tables custfocus.distribute() makes Citus reference tables, in foreign-key order';

CREATE FUNCTION custfocus.citus_distributed_tables() RETURNS regclass[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT ARRAY['custfocus.response', 'custfocus.answer', 'custfocus.respondent_contact']::regclass[] $$;
COMMENT ON FUNCTION custfocus.citus_distributed_tables() IS
'The tables custfocus.distribute() distributes by response_id, co-located';

-------------------------------------------------------------------------------
-- Shards by name, for the functions that run on a shard
-------------------------------------------------------------------------------

-- The local placement of a reference table (every node has one).
CREATE FUNCTION custfocus.citus_reference_shard(p_table regclass) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v text;
BEGIN
	EXECUTE 'SELECT pg_catalog.shard_name($1, s.shardid) FROM pg_catalog.pg_dist_shard s WHERE s.logicalrelid = $1'
	   INTO v USING p_table;
	IF v IS NULL THEN
		RAISE EXCEPTION '% is not a Citus reference table', p_table;
	END IF;
	RETURN v;
END
$$;
COMMENT ON FUNCTION custfocus.citus_reference_shard(regclass) IS
'The name of the placement of a reference table (the same on every node)';

-- The shard of p_table co-located with shard p_shard of another table.
CREATE FUNCTION custfocus.citus_colocated_shard(p_table regclass, p_shard bigint) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v text;
BEGIN
	EXECUTE 'SELECT pg_catalog.shard_name($1, s2.shardid)
			   FROM pg_catalog.pg_dist_shard s1
			   JOIN pg_catalog.pg_dist_shard s2 ON s2.logicalrelid = $1 AND s2.shardminvalue = s1.shardminvalue
			  WHERE s1.shardid = $2'
	   INTO v USING p_table, p_shard;
	IF v IS NULL THEN
		RAISE EXCEPTION 'no shard of % is co-located with shard %', p_table, p_shard;
	END IF;
	RETURN v;
END
$$;
COMMENT ON FUNCTION custfocus.citus_colocated_shard(regclass, bigint) IS
'The name of the shard of a distributed table co-located with a given shard (of response, answer or respondent_contact)';

-- The shard id in a shard's name (answer_102040 -> 102040); NULL for a
-- table that is not a shard.
CREATE FUNCTION custfocus.citus_shard_id(p_relname name) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT pg_catalog.substring(p_relname, '_([0-9]+)$')::bigint $$;
COMMENT ON FUNCTION custfocus.citus_shard_id(name) IS
'The shard id at the end of a Citus shard''s name, NULL if there is none';

-------------------------------------------------------------------------------
-- Triggers on shards and placements
-------------------------------------------------------------------------------

-- The detail of an error a trigger on a shard raises: Citus drops the hint
-- and the code of such an error when the rows came by COPY (INSERT ...
-- SELECT through the coordinator), so they go on the detail's last line too,
-- which the C module on the coordinator takes off and turns back into them
-- (src/citus.c, CitusEmitLog).
CREATE FUNCTION custfocus.citus_error_detail(p_detail text, p_code text, p_hint text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT concat_ws(E'\n', p_detail, 'custfocus error: ' || p_code || ':' || coalesce(p_hint, '')) $$;
COMMENT ON FUNCTION custfocus.citus_error_detail(text, text, text) IS
'On a distributed custfocus: the detail of an error raised on a shard, with its code and hint on a last line the coordinator turns back into them (Citus drops them from errors of a COPY)';

-- answer_check on a shard of answer: the same rule and messages, reading the
-- co-located response shard and the local placements of item, survey and
-- scale.
CREATE FUNCTION custfocus.citus_answer_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
	v_shard bigint := custfocus.citus_shard_id(TG_TABLE_NAME);
	bad record;
	v name;
	v_all boolean;
	v_visible boolean;
	v_survey_readable boolean;
	v_item_readable boolean;
	v_response_survey text;
	v_item text;
	v_resp text;
BEGIN
	IF v_shard IS NULL THEN
		RETURN NULL;			-- the shell table: never has rows
	END IF;
	EXECUTE format($q$
		SELECT n.response_id, n.value, n.item_id, i.code AS item_code, i.survey_id AS item_survey_id,
			   sv.code AS survey_code, s.code AS scale_code, s.min_value, s.max_value, s.integral,
			   r.survey_id AS response_survey_id, r.service_id, r.external_id,
			   (SELECT rs.code FROM %3$s rs WHERE rs.survey_id = r.survey_id) AS response_survey_code
		  FROM new_answer n
		  LEFT JOIN %1$s r ON r.response_id = n.response_id
		  JOIN %2$s i ON i.item_id = n.item_id
		  JOIN %3$s sv ON sv.survey_id = i.survey_id
		  LEFT JOIN %4$s s ON s.scale_id = i.scale_id
		 WHERE (n.value IS NOT NULL AND
				(s.scale_id IS NULL
				 OR n.value < s.min_value OR n.value > s.max_value
				 OR (s.integral AND n.value <> pg_catalog.trunc(n.value))))
			OR i.survey_id IS DISTINCT FROM r.survey_id
		 LIMIT 1$q$,
		custfocus.citus_colocated_shard('custfocus.response', v_shard),
		custfocus.citus_reference_shard('custfocus.item'),
		custfocus.citus_reference_shard('custfocus.survey'),
		custfocus.citus_reference_shard('custfocus.scale')) INTO bad;
	IF bad.response_id IS NULL THEN
		RETURN NULL;
	END IF;

	-- as answer_check: names only what the viewer may read
	v := custfocus.error_viewer();
	v_all := custfocus.sees_all_programs(v);
	v_visible := v_all OR bad.service_id = ANY (custfocus.visible_service_ids(v))
		OR (bad.service_id IS NULL AND bad.response_survey_id = ANY (custfocus.visible_survey_ids(v)));
	v_survey_readable := v_all OR bad.response_survey_id = ANY (custfocus.readable_survey_ids(v));
	v_item_readable := v_all OR bad.item_survey_id = ANY (custfocus.readable_survey_ids(v));
	v_item := CASE WHEN v_item_readable
				   THEN format('item "%s" of survey "%s"', bad.item_code, bad.survey_code)
				   ELSE format('item %s', bad.item_id) END;
	v_resp := format('%s%s', bad.response_id,
					 CASE WHEN v_visible THEN coalesce(format(' (respondent %s)', bad.external_id), '') ELSE '' END);
	IF bad.item_survey_id IS DISTINCT FROM bad.response_survey_id THEN
		RAISE EXCEPTION '% does not belong to the survey%of response %', v_item,
			CASE WHEN v_survey_readable AND bad.response_survey_code IS NOT NULL
				 THEN format(' "%s" ', bad.response_survey_code) ELSE ' ' END, bad.response_id
			USING ERRCODE = 'foreign_key_violation',
				  DETAIL = custfocus.citus_error_detail(NULL, '23503', 'An answer must answer an item of its response''s survey.'),
				  HINT = 'An answer must answer an item of its response''s survey.';
	ELSIF bad.scale_code IS NULL THEN
		RAISE EXCEPTION '% is a text item and takes no numeric value, got %', v_item, bad.value
			USING ERRCODE = 'check_violation',
				  DETAIL = custfocus.citus_error_detail(format('Response %s.', v_resp), '23514', 'Store free text in text_value.'),
				  HINT = 'Store free text in text_value.';
	ELSE
		RAISE EXCEPTION 'value % for % is outside scale "%"', bad.value, v_item, bad.scale_code
			USING ERRCODE = 'check_violation',
				  DETAIL = custfocus.citus_error_detail(
					  format('Scale "%s" takes %s values from %s to %s; response %s gave %s.',
							 bad.scale_code, CASE WHEN bad.integral THEN 'whole' ELSE 'any' END,
							 bad.min_value, bad.max_value, v_resp, bad.value), '23514', NULL);
	END IF;
	RETURN NULL;
END
$f$;
COMMENT ON FUNCTION custfocus.citus_answer_check() IS
'Statement trigger on the shards of answer (Citus): custfocus.answer_check, reading the co-located response shard and the local placements of item, survey and scale';
REVOKE ALL ON FUNCTION custfocus.citus_answer_check() FROM PUBLIC;

CREATE FUNCTION custfocus.citus_response_check_survey() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_shard bigint := custfocus.citus_shard_id(TG_TABLE_NAME);
	v_has boolean;
BEGIN
	IF v_shard IS NULL THEN
		RETURN NULL;
	END IF;
	EXECUTE format('SELECT EXISTS (SELECT FROM %s a WHERE a.response_id = $1)',
				   custfocus.citus_colocated_shard('custfocus.answer', v_shard))
	   INTO v_has USING NEW.response_id;
	IF v_has THEN
		RAISE EXCEPTION 'response % has answers and cannot move to another survey', NEW.response_id
			USING ERRCODE = 'foreign_key_violation',
				  DETAIL = custfocus.citus_error_detail(NULL, '23503', 'Delete the response and load it again under the other survey.'),
				  HINT = 'Delete the response and load it again under the other survey.';
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.citus_response_check_survey() IS
'Trigger on the shards of response (Citus): custfocus.response_check_survey, reading the co-located answer shard';
REVOKE ALL ON FUNCTION custfocus.citus_response_check_survey() FROM PUBLIC;

-- On the shards of response and answer: records the service and time of
-- every response the statement changed (before and after), in the
-- co-located shard of rollup_dirty.  An answer's response is read from the
-- co-located response shard; the answers a deleted response takes with it
-- are covered by the response's own row.
CREATE FUNCTION custfocus.citus_rollup_dirty() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
	v_shard bigint := custfocus.citus_shard_id(TG_TABLE_NAME);
	v_dirty text;
	v_response text;
	v_t text;
BEGIN
	IF v_shard IS NULL THEN
		RETURN NULL;
	END IF;
	v_dirty := custfocus.citus_colocated_shard('custfocus.rollup_dirty', v_shard);
	FOREACH v_t IN ARRAY CASE TG_OP WHEN 'INSERT' THEN '{new_rows}'::text[] WHEN 'DELETE' THEN '{old_rows}'::text[]
								   ELSE '{old_rows,new_rows}'::text[] END LOOP
		IF TG_TABLE_NAME LIKE 'response\_%' THEN
			-- (responses without a service too: their respondent ids are
			-- checked, citus_check_respondent_ids)
			EXECUTE format('INSERT INTO %s (response_id, service_id, submitted_at)
							SELECT t.response_id, t.service_id, t.submitted_at FROM %I t',
						   v_dirty, v_t);
		ELSE
			v_response := custfocus.citus_colocated_shard('custfocus.response', v_shard);
			EXECUTE format('INSERT INTO %s (response_id, service_id, submitted_at)
							SELECT r.response_id, r.service_id, r.submitted_at
							  FROM (SELECT DISTINCT t.response_id FROM %I t) t
							  JOIN %s r ON r.response_id = t.response_id
							 WHERE r.service_id IS NOT NULL',
						   v_dirty, v_t, v_response);
		END IF;
	END LOOP;
	RETURN NULL;
END
$f$;
COMMENT ON FUNCTION custfocus.citus_rollup_dirty() IS
'Statement trigger on the shards of response and answer (Citus): records the roll-up keys the statement touched in the co-located shard of rollup_dirty';
REVOKE ALL ON FUNCTION custfocus.citus_rollup_dirty() FROM PUBLIC;

-- program_check_cycle on a placement of program: walks the placement itself.
CREATE FUNCTION custfocus.citus_program_check_cycle() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
	v_cycle boolean;
	v_parent_code text;
BEGIN
	IF NEW.parent_id IS NULL THEN
		RETURN NULL;
	END IF;
	EXECUTE format($q$
		WITH RECURSIVE up (program_id, parent_id) AS (
			SELECT p.program_id, p.parent_id FROM %1$s p WHERE p.program_id = $1
			UNION
			SELECT p.program_id, p.parent_id FROM %1$s p JOIN up ON p.program_id = up.parent_id
		)
		SELECT EXISTS (SELECT FROM up WHERE up.program_id = $2),
			   (SELECT p.code FROM %1$s p WHERE p.program_id = $1)$q$, TG_RELID::regclass)
	   INTO v_cycle, v_parent_code USING NEW.parent_id, NEW.program_id;
	IF v_cycle THEN
		RAISE EXCEPTION 'program "%" cannot be placed under "%": that would make a cycle', NEW.code, v_parent_code
			USING ERRCODE = 'check_violation',
				  DETAIL = format('Program %s is already above program %s in the hierarchy.',
								  NEW.program_id, NEW.parent_id);
	END IF;
	RETURN NULL;
END
$f$;
COMMENT ON FUNCTION custfocus.citus_program_check_cycle() IS
'Trigger on the placements of program (Citus): custfocus.program_check_cycle over the placement itself';
REVOKE ALL ON FUNCTION custfocus.citus_program_check_cycle() FROM PUBLIC;

CREATE FUNCTION custfocus.citus_scale_label_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
BEGIN
	IF NEW.value IS NULL THEN
		RETURN NULL;
	END IF;
	EXECUTE format('SELECT sc.code, sc.min_value, sc.max_value, sc.integral FROM %s sc WHERE sc.scale_id = $1',
				   custfocus.citus_reference_shard('custfocus.scale'))
	   INTO s USING NEW.scale_id;
	IF NEW.value < s.min_value OR NEW.value > s.max_value OR (s.integral AND NEW.value <> pg_catalog.trunc(NEW.value)) THEN
		RAISE EXCEPTION 'label "%" codes value % which is not on scale "%"', NEW.label, NEW.value, s.code
			USING ERRCODE = 'check_violation',
				  DETAIL = format('Scale "%s" takes %s values from %s to %s.', s.code,
								  CASE WHEN s.integral THEN 'whole' ELSE 'any' END, s.min_value, s.max_value);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.citus_scale_label_check() IS
'Trigger on the placements of scale_label (Citus): custfocus.scale_label_check, reading the local placement of scale';
REVOKE ALL ON FUNCTION custfocus.citus_scale_label_check() FROM PUBLIC;

-- report_unit is the coordinator's: refreshed when the coordinator's
-- placement of program or service changes (the placements on the workers
-- change in the same transaction).
CREATE FUNCTION custfocus.citus_report_unit_rebuild() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_group integer;
BEGIN
	EXECUTE 'SELECT groupid FROM pg_catalog.pg_dist_local_group' INTO v_group;
	IF v_group = 0 THEN
		PERFORM custfocus.report_unit_refresh();
		IF TG_ARGV[0] = 'structure' THEN
			PERFORM custfocus.rollup_units_rebuild();
		END IF;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.citus_report_unit_rebuild() IS
'Trigger on the placements of program and service (Citus): custfocus.report_unit_rebuild, on the coordinator only';
REVOKE ALL ON FUNCTION custfocus.citus_report_unit_rebuild() FROM PUBLIC;

-- rollup_hidden_all on the placements of measure and item (a measure added,
-- changed or dropped, an item given another requirement: every year's
-- complementary suppression again at commit), acting on the coordinator's:
-- rollup_pending is the coordinator's.
CREATE FUNCTION custfocus.citus_rollup_hidden_all() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_group integer;
BEGIN
	EXECUTE 'SELECT groupid FROM pg_catalog.pg_dist_local_group' INTO v_group;
	IF v_group = 0 THEN
		PERFORM custfocus.rollup_hidden_touch(NULL, NULL);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.citus_rollup_hidden_all() IS
'Trigger on the placements of measure and item (Citus): custfocus.rollup_hidden_all, on the coordinator only';
REVOKE ALL ON FUNCTION custfocus.citus_rollup_hidden_all() FROM PUBLIC;

-- report_importance_change on the placements of requirement and
-- service_requirement (a stated importance changed: the key drivers are
-- published again at commit), and of service and requirement when a code
-- changes (the opportunities' ranks), acting on the coordinator's: rollup_pending
-- and the published figures are the coordinator's.  Every service's, since
-- a placement's trigger has no transition tables to say which.
CREATE FUNCTION custfocus.citus_report_importance_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_group integer;
BEGIN
	EXECUTE 'SELECT groupid FROM pg_catalog.pg_dist_local_group' INTO v_group;
	IF v_group = 0 THEN
		PERFORM custfocus.report_touch(NULL);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.citus_report_importance_change() IS
'Trigger on the placements of requirement, service_requirement and service (Citus; a stated importance or a code changed): the key drivers of every service published again at commit, and the opportunities'' ranks, on the coordinator only';
REVOKE ALL ON FUNCTION custfocus.citus_report_importance_change() FROM PUBLIC;

-- feedback_figures_change on the placements of feedback (the queue's
-- closed-loop figures published again at commit), acting on the
-- coordinator's: rollup_pending and report_feedback are the coordinator's.
-- Every service's (and those about no service), since a placement's
-- trigger has no transition tables to say which: feedback is small.
CREATE FUNCTION custfocus.citus_feedback_figures_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_group integer;
BEGIN
	EXECUTE 'SELECT groupid FROM pg_catalog.pg_dist_local_group' INTO v_group;
	IF v_group = 0 THEN
		PERFORM custfocus.report_feedback_touch(ARRAY(SELECT s.service_id FROM custfocus.service s
													  UNION SELECT r.service_id FROM custfocus.report_feedback r
													  UNION SELECT 0));
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.citus_feedback_figures_change() IS
'Trigger on the placements of feedback (Citus): the closed-loop figures of every service published again at commit, on the coordinator only';
REVOKE ALL ON FUNCTION custfocus.citus_feedback_figures_change() FROM PUBLIC;

-- An item's and a scale's checks against the answers already given
-- (item_check_scale, scale_check_items) and the roll-up recompute after such
-- a change (rollup_item_update, rollup_scale_update), on the coordinator's
-- placement only: they read answers, a distributed table, through Citus
-- (nested execution: committed answers and those of this backend).
CREATE FUNCTION custfocus.citus_item_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_group integer;
BEGIN
	EXECUTE 'SELECT groupid FROM pg_catalog.pg_dist_local_group' INTO v_group;
	IF v_group <> 0 THEN
		RETURN NULL;
	END IF;
	IF TG_OP = 'INSERT' OR (OLD.scale_id, OLD.metric) IS DISTINCT FROM (NEW.scale_id, NEW.metric) THEN
		PERFORM custfocus.check_items_fit_scale(NEW.item_id, NULL);
	END IF;
	IF TG_OP = 'UPDATE' AND (OLD.is_overall, OLD.metric, OLD.reverse_coded, OLD.scale_id, OLD.survey_id)
							IS DISTINCT FROM (NEW.is_overall, NEW.metric, NEW.reverse_coded, NEW.scale_id, NEW.survey_id) THEN
		PERFORM custfocus.rollup_items_change(ARRAY[NEW.item_id]);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.citus_item_change() IS
'Trigger on the placements of item (Citus), acting on the coordinator''s: item_check_scale and rollup_item_update, row by row';
REVOKE ALL ON FUNCTION custfocus.citus_item_change() FROM PUBLIC;

CREATE FUNCTION custfocus.citus_scale_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_group integer;
	v_items integer[];
BEGIN
	EXECUTE 'SELECT groupid FROM pg_catalog.pg_dist_local_group' INTO v_group;
	IF v_group <> 0 THEN
		RETURN NULL;
	END IF;
	IF (OLD.min_value, OLD.max_value, OLD.integral) IS DISTINCT FROM (NEW.min_value, NEW.max_value, NEW.integral) THEN
		PERFORM custfocus.check_items_fit_scale(NULL, NEW.scale_id);
	END IF;
	IF (OLD.min_value, OLD.max_value) IS DISTINCT FROM (NEW.min_value, NEW.max_value) THEN
		SELECT array_agg(i.item_id) INTO v_items FROM custfocus.item i WHERE i.scale_id = NEW.scale_id;
		IF v_items IS NOT NULL THEN
			PERFORM custfocus.rollup_items_change(v_items);
		END IF;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.citus_scale_change() IS
'Trigger on the placements of scale (Citus), acting on the coordinator''s: scale_check_items and rollup_scale_update, row by row';
REVOKE ALL ON FUNCTION custfocus.citus_scale_change() FROM PUBLIC;

-------------------------------------------------------------------------------
-- Policies without sub-selects: what a sub-select on another table checked
-------------------------------------------------------------------------------

-- An answer or a contact is visible with its response (response_by_program),
-- read from the co-located response shard.
CREATE FUNCTION custfocus.citus_response_visible(p_shard oid, p_response bigint, p_role name DEFAULT CURRENT_USER)
RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	v_shard bigint := custfocus.citus_shard_id((SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = p_shard));
BEGIN
	IF v_shard IS NULL THEN
		RETURN false;
	END IF;
	EXECUTE format('SELECT r.service_id, r.survey_id FROM %s r WHERE r.response_id = $1',
				   custfocus.citus_colocated_shard('custfocus.response', v_shard))
	   INTO r USING p_response;
	RETURN custfocus.sees_all_programs(p_role)
		OR r.service_id = ANY (custfocus.visible_service_ids(p_role))
		OR (r.service_id IS NULL AND r.survey_id = ANY (custfocus.visible_survey_ids(p_role)));
END
$$;
COMMENT ON FUNCTION custfocus.citus_response_visible(oid, bigint, name) IS
'Policy helper on Citus: whether the role sees the response of a row of answer or respondent_contact (the row''s shard gives the co-located response shard)';

CREATE FUNCTION custfocus.citus_scale_readable(p_scale integer, p_role name DEFAULT CURRENT_USER) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT custfocus.sees_all_programs(p_role)
		OR EXISTS (SELECT FROM custfocus.scale s WHERE s.scale_id = p_scale
					  AND (s.program_id IS NULL OR s.program_id = ANY (custfocus.readable_program_ids(p_role))))
$$;
COMMENT ON FUNCTION custfocus.citus_scale_readable(integer, name) IS
'Policy helper on Citus: whether the role may read the scale (scale_read, scale_write)';

CREATE FUNCTION custfocus.citus_scale_writable(p_scale integer, p_role name DEFAULT CURRENT_USER) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT FROM custfocus.scale s WHERE s.scale_id = p_scale
					  AND (custfocus.sees_all_programs(p_role)
						   OR s.program_id IS NULL OR s.program_id = ANY (custfocus.readable_program_ids(p_role)))
					  AND s.program_id = ANY (custfocus.visible_program_ids(p_role)))
$$;
COMMENT ON FUNCTION custfocus.citus_scale_writable(integer, name) IS
'Policy helper on Citus: whether a label of the scale may be written (the scale is readable and owned by one of the role''s programs)';

-- service_segment, service_requirement: the segment (requirement) and the
-- service are readable by the role and the service may use the segment.
CREATE FUNCTION custfocus.citus_service_may_use(p_service integer, p_table regclass, p_id integer,
												p_role name DEFAULT CURRENT_USER) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_owner integer;
	v_found boolean;
	v_program integer;
	v_all boolean := custfocus.sees_all_programs(p_role);
BEGIN
	IF p_table = 'custfocus.segment'::regclass THEN
		SELECT true, g.program_id INTO v_found, v_owner FROM custfocus.segment g WHERE g.segment_id = p_id;
	ELSE
		SELECT true, r.program_id INTO v_found, v_owner FROM custfocus.requirement r WHERE r.requirement_id = p_id;
	END IF;
	IF NOT coalesce(v_found, false)
	   OR NOT (v_all OR v_owner IS NULL OR v_owner = ANY (custfocus.readable_program_ids(p_role))) THEN
		RETURN false;
	END IF;
	SELECT s.program_id INTO v_program FROM custfocus.service s WHERE s.service_id = p_service;
	IF NOT FOUND OR NOT (v_all OR v_program = ANY (custfocus.visible_program_ids(p_role))) THEN
		RETURN false;
	END IF;
	RETURN custfocus.may_use(v_program, v_owner, p_role);
END
$$;
COMMENT ON FUNCTION custfocus.citus_service_may_use(integer, regclass, integer, name) IS
'Policy helper on Citus: whether a service may use a segment or requirement (service_segment_by_program, service_requirement_by_program)';

-- item_write: the survey may use the item's scale and requirement.
CREATE FUNCTION custfocus.citus_survey_may_use(p_survey integer, p_table regclass, p_id integer,
											   p_role name DEFAULT CURRENT_USER) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_owner integer;
	v_found boolean;
	v_program integer;
	v_all boolean := custfocus.sees_all_programs(p_role);
	v_readable integer[] := custfocus.readable_program_ids(p_role);
BEGIN
	IF p_id IS NULL THEN
		RETURN true;
	END IF;
	IF p_table = 'custfocus.scale'::regclass THEN
		SELECT true, s.program_id INTO v_found, v_owner FROM custfocus.scale s WHERE s.scale_id = p_id;
	ELSE
		SELECT true, r.program_id INTO v_found, v_owner FROM custfocus.requirement r WHERE r.requirement_id = p_id;
	END IF;
	IF NOT coalesce(v_found, false) OR NOT (v_all OR v_owner IS NULL OR v_owner = ANY (v_readable)) THEN
		RETURN false;
	END IF;
	SELECT true, sv.program_id INTO v_found, v_program FROM custfocus.survey sv WHERE sv.survey_id = p_survey;
	IF NOT coalesce(v_found, false) OR NOT (v_all OR v_program IS NULL OR v_program = ANY (v_readable)) THEN
		RETURN false;
	END IF;
	RETURN custfocus.may_use(v_program, v_owner, p_role);
END
$$;
COMMENT ON FUNCTION custfocus.citus_survey_may_use(integer, regclass, integer, name) IS
'Policy helper on Citus: whether an item of a survey may use a scale or requirement (item_write)';

CREATE FUNCTION custfocus.citus_measure_visible(p_measure integer, p_role name DEFAULT CURRENT_USER) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT FROM custfocus.measure m WHERE m.measure_id = p_measure
					  AND (custfocus.sees_all_programs(p_role)
						   OR m.program_id = ANY (custfocus.visible_program_ids(p_role))
						   OR m.service_id = ANY (custfocus.visible_service_ids(p_role))))
$$;
COMMENT ON FUNCTION custfocus.citus_measure_visible(integer, name) IS
'Policy helper on Citus: whether the role sees the measure (measure_by_program)';

CREATE FUNCTION custfocus.citus_import_visible(p_import bigint, p_role name DEFAULT CURRENT_USER) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT FROM custfocus.import_batch b WHERE b.import_id = p_import
					  AND (custfocus.sees_all_programs(p_role) OR b.imported_by = p_role
						   OR b.survey_id = ANY (custfocus.visible_survey_ids(p_role))))
$$;
COMMENT ON FUNCTION custfocus.citus_import_visible(bigint, name) IS
'Policy helper on Citus: whether the role sees the import batch (import_batch_by_program)';

-- The functions that run on the shards inside Citus' tasks and read Citus
-- tables (see the design above).
CREATE FUNCTION custfocus.citus_nested_functions() RETURNS regprocedure[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT ARRAY['custfocus.sees_all_programs(name)', 'custfocus.visible_program_ids(name)',
				 'custfocus.visible_service_ids(name)', 'custfocus.visible_survey_ids(name)',
				 'custfocus.readable_survey_ids(name)', 'custfocus.readable_program_ids(name)',
				 'custfocus.programs_below(integer[])', 'custfocus.programs_above(integer[])',
				 'custfocus.program_path(integer)', 'custfocus.may_use(integer,integer,name)',
				 'custfocus.citus_item_change()', 'custfocus.citus_scale_change()',
				 'custfocus.check_items_fit_scale(integer,integer)', 'custfocus.rollup_items_change(integer[])',
				 'custfocus.rollup_refresh(integer[],date[])', 'custfocus.rollup_item_refresh(integer[],date[])',
				 'custfocus.citus_response_visible(oid,bigint,name)', 'custfocus.citus_scale_readable(integer,name)',
				 'custfocus.citus_scale_writable(integer,name)',
				 'custfocus.citus_service_may_use(integer,regclass,integer,name)',
				 'custfocus.citus_survey_may_use(integer,regclass,integer,name)',
				 'custfocus.citus_measure_visible(integer,name)', 'custfocus.citus_import_visible(bigint,name)',
				 'custfocus.citus_answer_check()', 'custfocus.report_unit_refresh()',
				 'custfocus.citus_report_unit_rebuild()', 'custfocus.rollup_units_rebuild()']::regprocedure[]
$$;
COMMENT ON FUNCTION custfocus.citus_nested_functions() IS
'The functions distribute() lets run Citus queries inside a shard''s task (citus.allow_nested_distributed_execution)';

-- The policies on Citus: those of access.sql with every sub-select replaced.
CREATE FUNCTION custfocus.citus_create_policies() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	CREATE POLICY program_by_program ON custfocus.program
		USING (custfocus.sees_all_programs()
			   OR program_id = ANY (custfocus.visible_program_ids())
			   OR parent_id = ANY (custfocus.visible_program_ids()));
	CREATE POLICY service_by_program ON custfocus.service
		USING (custfocus.sees_all_programs() OR program_id = ANY (custfocus.visible_program_ids()));
	CREATE POLICY segment_read ON custfocus.segment FOR SELECT
		USING (custfocus.sees_all_programs() OR program_id IS NULL
			   OR program_id = ANY (custfocus.readable_program_ids()));
	CREATE POLICY segment_write ON custfocus.segment
		USING (custfocus.sees_all_programs() OR program_id = ANY (custfocus.visible_program_ids()));
	CREATE POLICY requirement_read ON custfocus.requirement FOR SELECT
		USING (custfocus.sees_all_programs() OR program_id IS NULL
			   OR program_id = ANY (custfocus.readable_program_ids()));
	CREATE POLICY requirement_write ON custfocus.requirement
		USING (custfocus.sees_all_programs() OR program_id = ANY (custfocus.visible_program_ids()));
	CREATE POLICY scale_read ON custfocus.scale FOR SELECT
		USING (custfocus.sees_all_programs() OR program_id IS NULL
			   OR program_id = ANY (custfocus.readable_program_ids()));
	CREATE POLICY scale_write ON custfocus.scale
		USING (custfocus.sees_all_programs() OR program_id = ANY (custfocus.visible_program_ids()));
	CREATE POLICY scale_label_read ON custfocus.scale_label FOR SELECT
		USING (custfocus.citus_scale_readable(scale_id));
	CREATE POLICY scale_label_write ON custfocus.scale_label
		USING (custfocus.sees_all_programs() OR custfocus.citus_scale_writable(scale_id));
	CREATE POLICY service_segment_by_program ON custfocus.service_segment
		USING (custfocus.sees_all_programs() OR service_id = ANY (custfocus.visible_service_ids()))
		WITH CHECK ((custfocus.sees_all_programs() OR service_id = ANY (custfocus.visible_service_ids()))
					AND custfocus.citus_service_may_use(service_id, 'custfocus.segment', segment_id));
	CREATE POLICY service_requirement_by_program ON custfocus.service_requirement
		USING (custfocus.sees_all_programs() OR service_id = ANY (custfocus.visible_service_ids()))
		WITH CHECK ((custfocus.sees_all_programs() OR service_id = ANY (custfocus.visible_service_ids()))
					AND custfocus.citus_service_may_use(service_id, 'custfocus.requirement', requirement_id));
	CREATE POLICY survey_read ON custfocus.survey FOR SELECT
		USING (custfocus.sees_all_programs() OR program_id IS NULL
			   OR program_id = ANY (custfocus.readable_program_ids()));
	CREATE POLICY survey_write ON custfocus.survey
		USING (custfocus.sees_all_programs() OR program_id = ANY (custfocus.visible_program_ids()));
	CREATE POLICY item_read ON custfocus.item FOR SELECT
		USING (custfocus.sees_all_programs() OR survey_id = ANY (custfocus.readable_survey_ids()));
	CREATE POLICY item_write ON custfocus.item
		USING (custfocus.sees_all_programs() OR survey_id = ANY (custfocus.visible_survey_ids()))
		WITH CHECK ((custfocus.sees_all_programs() OR survey_id = ANY (custfocus.visible_survey_ids()))
					AND custfocus.citus_survey_may_use(survey_id, 'custfocus.scale', scale_id)
					AND custfocus.citus_survey_may_use(survey_id, 'custfocus.requirement', requirement_id));
	CREATE POLICY response_by_program ON custfocus.response
		USING (custfocus.sees_all_programs()
			   OR service_id = ANY (custfocus.visible_service_ids())
			   OR (service_id IS NULL AND survey_id = ANY (custfocus.visible_survey_ids())))
		WITH CHECK (custfocus.sees_all_programs()
					OR (service_id = ANY (custfocus.visible_service_ids())
						AND survey_id = ANY (custfocus.readable_survey_ids()))
					OR (service_id IS NULL AND survey_id = ANY (custfocus.visible_survey_ids())));
	CREATE POLICY answer_by_program ON custfocus.answer
		USING (custfocus.sees_all_programs() OR custfocus.citus_response_visible(tableoid, response_id));
	CREATE POLICY respondent_contact_by_program ON custfocus.respondent_contact
		USING (custfocus.sees_all_programs() OR custfocus.citus_response_visible(tableoid, response_id));
	CREATE POLICY feedback_by_program ON custfocus.feedback
		USING (custfocus.sees_all_programs() OR service_id = ANY (custfocus.visible_service_ids()));
	CREATE POLICY measure_by_program ON custfocus.measure
		USING (custfocus.sees_all_programs()
			   OR program_id = ANY (custfocus.visible_program_ids())
			   OR service_id = ANY (custfocus.visible_service_ids()));
	CREATE POLICY improvement_action_by_program ON custfocus.improvement_action
		USING (custfocus.sees_all_programs()
			   OR program_id = ANY (custfocus.visible_program_ids())
			   OR service_id = ANY (custfocus.visible_service_ids())
			   OR (program_id IS NULL AND service_id IS NULL AND custfocus.citus_measure_visible(measure_id)));
	CREATE POLICY engagement_by_program ON custfocus.engagement
		USING (custfocus.sees_all_programs()
			   OR program_id = ANY (custfocus.visible_program_ids())
			   OR service_id = ANY (custfocus.visible_service_ids()));
	CREATE POLICY import_batch_by_program ON custfocus.import_batch
		USING (custfocus.sees_all_programs()
			   OR imported_by = CURRENT_USER
			   OR survey_id = ANY (custfocus.visible_survey_ids()));
	CREATE POLICY import_error_by_program ON custfocus.import_error
		USING (custfocus.sees_all_programs() OR custfocus.citus_import_visible(import_id));
END
$$;
COMMENT ON FUNCTION custfocus.citus_create_policies() IS
'Creates the row-level security policies of a distributed custfocus (those of the install script, without sub-selects, which Citus refuses)';

-------------------------------------------------------------------------------
-- Each node's part
-------------------------------------------------------------------------------

-- Runs on every node, coordinator and workers, before the tables become
-- Citus tables: drops what Citus refuses (triggers, policies with
-- sub-selects, the unique key without the distribution column, the foreign
-- key from feedback to response) and lets the functions that run inside
-- Citus' tasks read reference tables.  The extension's own tables on a
-- worker become the shells of the distributed tables, so they must match the
-- coordinator's.
CREATE FUNCTION custfocus.citus_prepare_node() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	v_tables regclass[] := custfocus.citus_reference_tables() || custfocus.citus_distributed_tables();
	v_worker boolean;
	v_ddl text;
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = CURRENT_USER AND rolsuper) THEN
		RAISE EXCEPTION 'custfocus.citus_prepare_node() must be run by a superuser';
	END IF;
	EXECUTE 'SELECT NOT pg_catalog.citus_is_coordinator()' INTO v_worker;
	FOR r IN
		SELECT t.tgrelid::regclass AS rel, t.tgname FROM pg_catalog.pg_trigger t
		 WHERE t.tgrelid = ANY (v_tables) AND NOT t.tgisinternal
	LOOP
		EXECUTE format('DROP TRIGGER %I ON %s', r.tgname, r.rel);
	END LOOP;
	FOR r IN
		SELECT p.polrelid::regclass AS rel, p.polname FROM pg_catalog.pg_policy p
		 WHERE p.polrelid = ANY (v_tables)
	LOOP
		EXECUTE format('DROP POLICY %I ON %s', r.polname, r.rel);
	END LOOP;
	PERFORM custfocus.citus_create_policies();
	-- On a worker, Citus adds the foreign keys of the shells itself, and
	-- fails on those CREATE EXTENSION made ("already exists").
	IF v_worker THEN
		FOR r IN
			SELECT c.conrelid::regclass AS rel, c.conname FROM pg_catalog.pg_constraint c
			 WHERE c.conrelid = ANY (v_tables) AND c.contype = 'f'
		LOOP
			EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.rel, r.conname);
		END LOOP;
	END IF;
	-- custfocus_citus: what every role with an access level needs on the
	-- workers (custfocus.citus_sync_access makes them members): USAGE on
	-- the schema, SELECT on the shards (given here as default privileges,
	-- so that the shards Citus is about to create get it).  Made on each
	-- node by this function, not propagated by Citus: the workers run it
	-- outside the coordinator's transaction.
	-- (The coordinator's distribute() creates the role there, after this
	-- ran on the workers, through Citus, which then knows it and
	-- propagates the memberships citus_sync_access grants.)
	v_ddl := pg_catalog.current_setting('citus.enable_ddl_propagation');
	PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'off', true);
	IF v_worker AND NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'custfocus_citus') THEN
		CREATE ROLE custfocus_citus NOLOGIN;
	END IF;
	GRANT USAGE ON SCHEMA custfocus TO custfocus_citus;
	ALTER DEFAULT PRIVILEGES IN SCHEMA custfocus GRANT SELECT ON TABLES TO custfocus_citus;
	PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', v_ddl, true);
	DROP INDEX custfocus.response_external_id_key;
	CREATE INDEX response_external_id_idx ON custfocus.response (survey_id, (COALESCE(service_id, 0)), external_id);
	ALTER TABLE custfocus.feedback DROP CONSTRAINT IF EXISTS feedback_response_id_fkey;
	-- the import recomputes its keys reading as the importer (citus_import_done)
	ALTER FUNCTION custfocus.rollup_compute(integer[], date[]) SECURITY INVOKER;
	ALTER FUNCTION custfocus.rollup_item_compute(integer[], date[]) SECURITY INVOKER;
	ALTER FUNCTION custfocus.rollup_pairs_compute(integer[], date[]) SECURITY INVOKER;
	GRANT EXECUTE ON FUNCTION custfocus.rollup_compute(integer[], date[]), custfocus.rollup_item_compute(integer[], date[]),
		custfocus.rollup_pairs_compute(integer[], date[])
		TO custfocus_citus;
	-- the dirty-key trigger writes into a shard of rollup_dirty by name
	ALTER FUNCTION custfocus.citus_rollup_dirty() SET citus.enable_manual_changes_to_shards = on;
	FOR r IN SELECT unnest(custfocus.citus_nested_functions()) AS fn LOOP
		EXECUTE format('ALTER FUNCTION %s SET citus.allow_nested_distributed_execution = on', r.fn);
	END LOOP;
END
$$;
COMMENT ON FUNCTION custfocus.citus_prepare_node() IS
'Part of custfocus.distribute() run on every node: drops the triggers, policies and keys Citus refuses and re-creates the policies without sub-selects';
REVOKE ALL ON FUNCTION custfocus.citus_prepare_node() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.citus_create_policies() FROM PUBLIC;

-- The triggers of a distributed custfocus, created on the coordinator with
-- citus.enable_unsafe_triggers, which puts them on every shard and placement.
CREATE FUNCTION custfocus.citus_create_triggers() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- (set here, not in the function's SET clause: without Citus the
	-- parameter does not exist when the extension is created)
	PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
	CREATE TRIGGER answer_check_insert AFTER INSERT ON custfocus.answer
		REFERENCING NEW TABLE AS new_answer
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_answer_check();
	CREATE TRIGGER answer_check_update AFTER UPDATE ON custfocus.answer
		REFERENCING NEW TABLE AS new_answer
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_answer_check();
	CREATE TRIGGER response_check_survey AFTER UPDATE OF survey_id ON custfocus.response
		FOR EACH ROW WHEN (OLD.survey_id IS DISTINCT FROM NEW.survey_id)
		EXECUTE FUNCTION custfocus.citus_response_check_survey();
	CREATE TRIGGER rollup_dirty_answer_insert AFTER INSERT ON custfocus.answer
		REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_rollup_dirty();
	CREATE TRIGGER rollup_dirty_answer_update AFTER UPDATE ON custfocus.answer
		REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_rollup_dirty();
	CREATE TRIGGER rollup_dirty_answer_delete AFTER DELETE ON custfocus.answer
		REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_rollup_dirty();
	CREATE TRIGGER rollup_dirty_response_insert AFTER INSERT ON custfocus.response
		REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_rollup_dirty();
	CREATE TRIGGER rollup_dirty_response_update AFTER UPDATE ON custfocus.response
		REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_rollup_dirty();
	CREATE TRIGGER rollup_dirty_response_delete AFTER DELETE ON custfocus.response
		REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_rollup_dirty();
	CREATE TRIGGER program_check_cycle AFTER INSERT OR UPDATE OF parent_id ON custfocus.program
		FOR EACH ROW EXECUTE FUNCTION custfocus.citus_program_check_cycle();
	CREATE TRIGGER scale_guard_builtin BEFORE INSERT OR UPDATE OR DELETE ON custfocus.scale
		FOR EACH ROW EXECUTE FUNCTION custfocus.guard_builtin();
	CREATE TRIGGER scale_label_guard_builtin BEFORE INSERT OR UPDATE OR DELETE ON custfocus.scale_label
		FOR EACH ROW EXECUTE FUNCTION custfocus.guard_builtin();
	CREATE TRIGGER item_change AFTER INSERT OR UPDATE ON custfocus.item
		FOR EACH ROW EXECUTE FUNCTION custfocus.citus_item_change();
	CREATE TRIGGER scale_change AFTER UPDATE ON custfocus.scale
		FOR EACH ROW EXECUTE FUNCTION custfocus.citus_scale_change();
	CREATE TRIGGER scale_label_check AFTER INSERT OR UPDATE ON custfocus.scale_label
		FOR EACH ROW EXECUTE FUNCTION custfocus.citus_scale_label_check();
	CREATE TRIGGER feedback_track_status BEFORE INSERT OR UPDATE OF status, acknowledged_at, closed_at
		ON custfocus.feedback
		FOR EACH ROW EXECUTE FUNCTION custfocus.feedback_track_status();
	CREATE TRIGGER improvement_action_track_status BEFORE INSERT OR UPDATE OF status, closed_on
		ON custfocus.improvement_action
		FOR EACH ROW EXECUTE FUNCTION custfocus.improvement_action_track_status();
	CREATE TRIGGER rollup_hidden_measure AFTER INSERT OR UPDATE OR DELETE ON custfocus.measure
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_rollup_hidden_all();
	CREATE TRIGGER rollup_hidden_requirement AFTER UPDATE OF requirement_id ON custfocus.item
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_rollup_hidden_all();
	CREATE TRIGGER report_unit_program AFTER INSERT OR DELETE ON custfocus.program
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_report_unit_rebuild('names');
	CREATE TRIGGER report_unit_program_names AFTER UPDATE OF code, name, level ON custfocus.program
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_report_unit_rebuild('names');
	CREATE TRIGGER report_unit_program_tree AFTER UPDATE OF parent_id ON custfocus.program
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_report_unit_rebuild('structure');
	CREATE TRIGGER report_unit_service AFTER INSERT OR DELETE ON custfocus.service
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_report_unit_rebuild('names');
	CREATE TRIGGER report_unit_service_names AFTER UPDATE OF code, name ON custfocus.service
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_report_unit_rebuild('names');
	CREATE TRIGGER report_unit_service_tree AFTER UPDATE OF program_id ON custfocus.service
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_report_unit_rebuild('structure');
	CREATE TRIGGER rollup_hidden_item_change AFTER INSERT OR DELETE ON custfocus.item
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_rollup_hidden_all();
	CREATE TRIGGER report_requirement_importance AFTER UPDATE OF importance ON custfocus.requirement
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_report_importance_change();
	CREATE TRIGGER report_service_requirement_change AFTER INSERT OR UPDATE OR DELETE ON custfocus.service_requirement
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_report_importance_change();
	CREATE TRIGGER report_service_code AFTER UPDATE OF code ON custfocus.service
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_report_importance_change();
	CREATE TRIGGER report_requirement_code AFTER UPDATE OF code ON custfocus.requirement
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_report_importance_change();
	CREATE TRIGGER feedback_figures_change AFTER INSERT OR UPDATE OR DELETE ON custfocus.feedback
		FOR EACH STATEMENT EXECUTE FUNCTION custfocus.citus_feedback_figures_change();
END
$$;
COMMENT ON FUNCTION custfocus.citus_create_triggers() IS
'Part of custfocus.distribute(): creates the triggers of a distributed custfocus on the shards and placements';
REVOKE ALL ON FUNCTION custfocus.citus_create_triggers() FROM PUBLIC;

-------------------------------------------------------------------------------
-- Grants on every node
-------------------------------------------------------------------------------

-- Citus runs a query's tasks on the workers as the calling role: it needs
-- USAGE on the schema there (an extension's schema, whose grants Citus does
-- not propagate), and the views, which run as their owner on one node, need
-- SELECT on the shards they read.  Both come with membership in
-- custfocus_citus (see custfocus.citus_prepare_node and distribute()).
-- Grants on the tables themselves Citus propagates (grant_access's for
-- analysts and admins), and so it does the membership, in this transaction.
-- (A grant on each shard through run_command_on_placements, outside the
-- transaction, deadlocked on the locks grant_access holds there.)
CREATE FUNCTION custfocus.citus_sync_access(p_role regrole) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT custfocus.citus_distributed() THEN
		RETURN;
	END IF;
	IF EXISTS (SELECT FROM custfocus.role_access a WHERE a.role_name = p_role::text::name) THEN
		EXECUTE format('GRANT custfocus_citus TO %s', p_role);
	ELSIF pg_catalog.pg_has_role(p_role, 'custfocus_citus', 'MEMBER') THEN
		EXECUTE format('REVOKE custfocus_citus FROM %s', p_role);
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.citus_sync_access(regrole) IS
'On a distributed custfocus: makes the role a member of custfocus_citus on every node when it has an access level (schema USAGE and SELECT on the shards the views read), or takes the membership back';

-- Grants on tables Citus propagates to their shards, each in parallel over
-- many connections; after that on a distributed table, a grant on a reference
-- table that it refers to fails ("parallel DDL access ... in the same
-- transaction").  revoke_access and grant_access grant on every table in one
-- transaction: on Citus they do it one connection at a time.
CREATE FUNCTION custfocus.citus_before_grants() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF custfocus.citus_distributed() THEN
		PERFORM pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true);
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.citus_before_grants() IS
'On a distributed custfocus: makes the grants of the rest of the transaction run one connection at a time (Citus requires it for grants on reference tables after distributed ones)';

CREATE FUNCTION custfocus.citus_raise(p_message text) RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RAISE EXCEPTION '%', p_message; END $$;
COMMENT ON FUNCTION custfocus.citus_raise(text) IS 'Raises an error with the message (for use inside a query)';

-------------------------------------------------------------------------------
-- The import's part on Citus
-------------------------------------------------------------------------------

-- Called by the import on a distributed custfocus, after its rows are in:
-- recomputes the roll-ups of every (service, month) its responses fall in.
-- It reads the raw data as the importer (on Citus, rollup_compute and
-- rollup_item_compute run as their caller, see citus_prepare_node): Citus
-- refuses to read, as another role (the owner, in a SECURITY DEFINER
-- function), shards this transaction modified as the importer.  The
-- importer sees every response of the services it imports for, so the
-- recomputation is whole.  The rows are stored by citus_rollup_store, which
-- runs as the owner and only inside an import.
CREATE FUNCTION custfocus.citus_import_done(p_import bigint) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_services integer[];
	v_months date[];
	v_rows custfocus.rollup_service_month[];
	v_items custfocus.rollup_item_month[];
	v_pairs custfocus.rollup_pairs_month[];
BEGIN
	SELECT array_agg(k.service_id ORDER BY k.service_id, k.month), array_agg(k.month ORDER BY k.service_id, k.month)
	  INTO v_services, v_months
	  FROM (SELECT DISTINCT r.service_id,
				   date_trunc('month', timezone(custfocus.reporting_time_zone(), r.submitted_at))::date AS month
			  FROM custfocus.response r
			 WHERE r.import_id = p_import AND r.service_id IS NOT NULL) k;
	IF v_services IS NULL THEN
		RETURN;
	END IF;
	-- the keys' locks first (as rollup_refresh): one recompute of a key at a time
	PERFORM pg_advisory_xact_lock(pg_catalog.hashtextextended('custfocus.rollup ' || k.s || ' ' || k.m, 0))
	   FROM unnest(v_services, v_months) AS k (s, m);
	v_rows := ARRAY(SELECT c FROM custfocus.rollup_compute(v_services, v_months) c);
	v_items := ARRAY(SELECT c FROM custfocus.rollup_item_compute(v_services, v_months) c);
	v_pairs := ARRAY(SELECT c FROM custfocus.rollup_pairs_compute(v_services, v_months) c);
	PERFORM custfocus.citus_rollup_store(v_services, v_months, v_rows, v_items, v_pairs);
END
$$;
COMMENT ON FUNCTION custfocus.citus_import_done(bigint) IS
'On a distributed custfocus: recomputes the roll-ups an import touched (the roll-up triggers do not fire on Citus)';

-- True only while the import (src/import.c) runs citus_import_done.
CREATE FUNCTION custfocus.import_storing_rollups() RETURNS boolean
AS 'MODULE_PATHNAME', 'import_storing_rollups'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION custfocus.import_storing_rollups() IS
'True while custfocus.import_responses stores the roll-ups of its rows on a distributed custfocus (a backend-local flag of the import''s C code)';

CREATE FUNCTION custfocus.citus_rollup_store(p_services integer[], p_months date[],
											 p_rows custfocus.rollup_service_month[],
											 p_items custfocus.rollup_item_month[],
											 p_pairs custfocus.rollup_pairs_month[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT custfocus.import_storing_rollups() THEN
		RAISE EXCEPTION 'only custfocus.import_responses stores roll-up rows'
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	PERFORM custfocus.rollup_check_isolation();
	WITH k AS (SELECT DISTINCT service_id, month FROM unnest(p_services, p_months) AS u (service_id, month)),
	gone AS (
		DELETE FROM custfocus.rollup_service_month r USING k
		 WHERE r.service_id = k.service_id AND r.month = k.month
	)
	INSERT INTO custfocus.rollup_service_month SELECT * FROM unnest(p_rows);
	PERFORM custfocus.rollup_units_refresh(p_services, p_months);
	WITH k AS (SELECT DISTINCT service_id, month FROM unnest(p_services, p_months) AS u (service_id, month)),
	gone AS (
		DELETE FROM custfocus.rollup_item_month r USING k
		 WHERE r.service_id = k.service_id AND r.month = k.month
	)
	INSERT INTO custfocus.rollup_item_month SELECT * FROM unnest(p_items);
	WITH k AS (SELECT DISTINCT service_id, month FROM unnest(p_services, p_months) AS u (service_id, month)),
	gone AS (
		DELETE FROM custfocus.rollup_pairs_month r USING k
		 WHERE r.service_id = k.service_id AND r.month = k.month
	)
	INSERT INTO custfocus.rollup_pairs_month SELECT * FROM unnest(p_pairs);
	-- the keys' complementary suppression, computed when the transaction
	-- commits (rollup_commit_compact), as after rollup_refresh
	PERFORM custfocus.rollup_hidden_touch(p_services, p_months);
END
$$;
COMMENT ON FUNCTION custfocus.citus_rollup_store(integer[], date[], custfocus.rollup_service_month[], custfocus.rollup_item_month[], custfocus.rollup_pairs_month[]) IS
'On a distributed custfocus: replaces the roll-up rows of the given keys by the given recomputation; only inside custfocus.import_responses';

-- Respondent ids are unique per survey and service (response_external_id_key
-- on one node, which Citus cannot keep: not the distribution column).  Run
-- by citus_rollup_sync before the transaction commits: the ids of the
-- responses it inserted or changed (rollup_dirty) are locked (a transaction
-- lock per id, in one order, so that two transactions adding the same id
-- run this one after the other) and looked up; a second response with the
-- same id fails the commit with PostgreSQL's own error for the one-node
-- index (unique_violation), so that a client sees what it would see on one
-- node, at COMMIT instead of at the INSERT.  As the session's role (Citus
-- lets no other role read the shards this transaction changed): a
-- duplicate in a response the role may not see is not found.  Only under
-- READ COMMITTED (each statement a new snapshot, taken after the locks):
-- under REPEATABLE READ or SERIALIZABLE the lookup would read the
-- transaction's snapshot and miss an id committed after it began, so such
-- a transaction is refused, as the roll-ups' recompute refuses it
-- (rollup_check_isolation).
CREATE FUNCTION custfocus.citus_check_respondent_ids() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_surveys integer[];
	v_services integer[];
	v_ids text[];
	v_dup record;
BEGIN
	SELECT array_agg(k.survey_id), array_agg(k.service), array_agg(k.external_id)
	  INTO v_surveys, v_services, v_ids
	  FROM (SELECT DISTINCT r.survey_id, coalesce(r.service_id, 0) AS service, r.external_id
			  FROM custfocus.response r
			 WHERE r.response_id IN (SELECT d.response_id FROM custfocus.rollup_dirty d)
			   AND r.external_id IS NOT NULL) k;
	IF v_ids IS NULL THEN
		RETURN;
	END IF;
	-- (a snapshot older than the lock would miss an id committed in between)
	IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
		RAISE EXCEPTION 'custfocus checks respondent ids on a distributed database only under READ COMMITTED'
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = format('This transaction inserts or changes responses with respondent ids under %s, whose snapshot may miss an id another session committed since.',
								  upper(pg_catalog.current_setting('transaction_isolation'))),
				  HINT = 'Make the change in a READ COMMITTED transaction (BEGIN ISOLATION LEVEL READ COMMITTED).';
	END IF;
	PERFORM pg_catalog.pg_advisory_xact_lock(k.h)
	   FROM (SELECT DISTINCT pg_catalog.hashtextextended('custfocus.respondent ' || x.survey_id || ' ' || x.service
														  || ' ' || x.external_id, 0) AS h
			   FROM unnest(v_surveys, v_services, v_ids) AS x (survey_id, service, external_id)) k
	  ORDER BY k.h;
	SELECT r.survey_id, coalesce(r.service_id, 0) AS service, r.external_id INTO v_dup
	  FROM custfocus.response r
	 WHERE (r.survey_id, coalesce(r.service_id, 0), r.external_id)
		   IN (SELECT * FROM unnest(v_surveys, v_services, v_ids))
	 GROUP BY 1, 2, 3
	HAVING count(*) > 1
	 ORDER BY 1, 2, 3
	 LIMIT 1;
	-- the key's values in the detail only for a role that reads response
	-- without row-level security, as PostgreSQL does for the index
	IF FOUND AND NOT pg_catalog.row_security_active('custfocus.response'::pg_catalog.regclass)
	   AND pg_catalog.has_table_privilege('custfocus.response'::pg_catalog.regclass, 'SELECT') THEN
		RAISE EXCEPTION 'duplicate key value violates unique constraint "response_external_id_key"'
			USING ERRCODE = 'unique_violation',
				  DETAIL = format('Key (survey_id, COALESCE(service_id, 0), external_id)=(%s, %s, %s) already exists.',
								  v_dup.survey_id, v_dup.service, v_dup.external_id),
				  SCHEMA = 'custfocus', TABLE = 'response', CONSTRAINT = 'response_external_id_key';
	ELSIF FOUND THEN
		RAISE EXCEPTION 'duplicate key value violates unique constraint "response_external_id_key"'
			USING ERRCODE = 'unique_violation', SCHEMA = 'custfocus', TABLE = 'response',
				  CONSTRAINT = 'response_external_id_key';
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.citus_check_respondent_ids() IS
'On a distributed custfocus: fails the transaction, as the one-node unique index would, when a response it inserted or changed has the respondent id of another response of the same survey and service (run before commit by citus_rollup_sync)';

-- Run by src/citus.c before a transaction that changed response or answer
-- commits: recomputes the roll-up keys rollup_dirty holds for services the
-- session's role sees whole (its own changes, and any left over), reading as
-- that role, and stores them (citus_rollup_store).  Keys of services it does
-- not see are left for their own sessions: a recompute over part of a
-- service would be wrong.
CREATE FUNCTION custfocus.citus_rollup_sync() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_all boolean;
	v_visible integer[];
	v_services integer[];
	v_months date[];
	v_rows custfocus.rollup_service_month[];
	v_items custfocus.rollup_item_month[];
	v_pairs custfocus.rollup_pairs_month[];
BEGIN
	IF NOT custfocus.citus_distributed() THEN
		RETURN;
	END IF;
	PERFORM custfocus.citus_check_respondent_ids();
	DELETE FROM custfocus.rollup_dirty d WHERE d.service_id IS NULL;
	v_all := custfocus.sees_all_programs();
	v_visible := custfocus.visible_service_ids();
	SELECT array_agg(k.service_id ORDER BY k.service_id, k.month), array_agg(k.month ORDER BY k.service_id, k.month)
	  INTO v_services, v_months
	  FROM (SELECT DISTINCT d.service_id,
				   date_trunc('month', timezone(custfocus.reporting_time_zone(), d.submitted_at))::date AS month
			  FROM custfocus.rollup_dirty d
			 WHERE d.service_id IS NOT NULL AND (v_all OR d.service_id = ANY (v_visible))) k;
	IF v_services IS NULL THEN
		RETURN;
	END IF;
	PERFORM pg_advisory_xact_lock(pg_catalog.hashtextextended('custfocus.rollup ' || k.s || ' ' || k.m, 0))
	   FROM unnest(v_services, v_months) AS k (s, m);
	v_rows := ARRAY(SELECT c FROM custfocus.rollup_compute(v_services, v_months) c);
	v_items := ARRAY(SELECT c FROM custfocus.rollup_item_compute(v_services, v_months) c);
	v_pairs := ARRAY(SELECT c FROM custfocus.rollup_pairs_compute(v_services, v_months) c);
	PERFORM custfocus.citus_rollup_store(v_services, v_months, v_rows, v_items, v_pairs);
	DELETE FROM custfocus.rollup_dirty d WHERE d.service_id = ANY (v_services);
	-- This runs before the commit, but after the deferred triggers fired:
	-- the compaction and complementary suppression that citus_rollup_store
	-- queued (rollup_commit_compact on rollup_pending) would never run.
	-- Fired here, before the transaction commits, as on one node.
	SET CONSTRAINTS custfocus.rollup_commit_compact IMMEDIATE;
END
$$;
COMMENT ON FUNCTION custfocus.citus_rollup_sync() IS
'On a distributed custfocus: recomputes the roll-up keys the transaction''s changes to response and answer touched (run before commit by the C module)';

-- Called by apply_retention on a distributed custfocus, after it deleted or
-- anonymised the responses submitted before p_cutoff: what the roll-up
-- triggers and feedback's foreign key (ON DELETE SET NULL) do on one node.
-- The roll-up keys of every service up to the cutoff's month are recomputed
-- (the deleted responses' keys are no longer known; a superset is exact).
CREATE FUNCTION custfocus.citus_after_retention(p_cutoff timestamptz) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_referred bigint[];
	v_alive bigint[];
	v_services integer[];
	v_months date[];
BEGIN
	IF NOT custfocus.citus_distributed() THEN
		RETURN;
	END IF;
	IF NOT pg_catalog.has_function_privilege(custfocus.error_viewer(), 'custfocus.apply_retention(text,interval,text)', 'EXECUTE') THEN
		RAISE EXCEPTION 'permission denied for function citus_after_retention'
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	SELECT array_agg(DISTINCT f.response_id) INTO v_referred FROM custfocus.feedback f WHERE f.response_id IS NOT NULL;
	IF v_referred IS NOT NULL THEN
		SELECT coalesce(array_agg(r.response_id), '{}') INTO v_alive FROM custfocus.response r
		 WHERE r.response_id = ANY (v_referred);
		UPDATE custfocus.feedback f SET response_id = NULL
		 WHERE f.response_id = ANY (v_referred) AND f.response_id <> ALL (v_alive);
	END IF;
	SELECT array_agg(k.service_id ORDER BY k.service_id, k.month), array_agg(k.month ORDER BY k.service_id, k.month)
	  INTO v_services, v_months
	  FROM (SELECT DISTINCT m.service_id, m.month FROM custfocus.rollup_service_month m
			 WHERE m.month <= date_trunc('month', timezone(custfocus.reporting_time_zone(), p_cutoff))::date) k;
	IF v_services IS NOT NULL THEN
		PERFORM custfocus.rollup_refresh(v_services, v_months);
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.citus_after_retention(timestamptz) IS
'On a distributed custfocus: after apply_retention, clears feedback.response_id of deleted responses and recomputes the roll-ups up to the cutoff (what triggers and a foreign key do on one node)';

-------------------------------------------------------------------------------
-- Reporting views on Citus
-------------------------------------------------------------------------------

-- On one node the reporting views run with their owner's rights, read the
-- roll-ups and report_unit (which a reader may not read: they hold
-- unsuppressed small groups) and keep to the caller's programs themselves;
-- being security_barrier views the planner inlines, a BI filter reaches the
-- roll-ups' indexes.  On Citus, a query that joins a coordinator-local table
-- (the roll-ups, report_unit) to a Citus table is planned in parts, and the
-- parts run as the caller, not as the view's owner: "permission denied for
-- table report_unit".  So distribute() redefines the views that do so
-- (citus_redefined_views) to read one SECURITY DEFINER function each,
-- custfocus.citus_view_<view>(role), whose query is the view's own, taken
-- from the catalogue (pg_get_viewdef) with every call of a visibility
-- function that defaults to CURRENT_USER given the role instead, and every
-- redefined view it reads replaced by that view's function.  The result is
-- the view's, row for row; a reader still reads no roll-up (the function
-- returns the view's rows only).  The cost: a BI filter on such a view no
-- longer reaches the roll-ups' indexes (the function computes every row the
-- role sees).  data_coverage is defined anew (citus_view_data_coverage):
-- its correlated sub-queries per service, index probes on one node, are
-- sub-queries Citus cannot plan.
--
-- A function that takes the role must not let a caller read as another
-- role: citus_view_check_role lets the session's user read as a role it
-- could SET ROLE to (itself, or a role it is a member of), and nothing
-- else.  LIMIT: a view read inside a SECURITY DEFINER function of another
-- owner (CURRENT_USER that owner, the session's user not a member of it)
-- is refused on Citus.

CREATE FUNCTION custfocus.citus_redefined_views() RETURNS regclass[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	-- in an order where a view comes after the redefined views it reads
	SELECT ARRAY['custfocus.measure_status', 'custfocus.key_drivers', 'custfocus.improvement_opportunities',
				 'custfocus.feedback_queue']::regclass[]
$$;
COMMENT ON FUNCTION custfocus.citus_redefined_views() IS
'The reporting views distribute() makes read a SECURITY DEFINER function of the caller''s role on Citus (they join the coordinator''s roll-ups to Citus tables); data_coverage and voc_themes are defined anew besides';

CREATE FUNCTION custfocus.citus_view_check_role(p_role name) RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_role IS NULL OR NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = p_role)
	   OR NOT pg_catalog.pg_has_role(SESSION_USER, p_role, 'MEMBER') THEN
		RAISE EXCEPTION 'permission denied to read the custfocus views as role "%"', p_role
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'On a distributed custfocus the views read as the role they are given, which must be the session''s user or a role it is a member of.';
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.citus_view_check_role(name) IS
'On a distributed custfocus: refuses to read the views as a role the session''s user could not SET ROLE to';

-- The query of a view, to run as its owner for a role p_role (see above).
CREATE FUNCTION custfocus.citus_view_query(p_view regclass) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_sql text := pg_catalog.rtrim(pg_catalog.btrim(pg_catalog.pg_get_viewdef(p_view, false)), ';');
	v_fn record;
	v_rel record;
BEGIN
	-- the visibility functions whose last argument is the role, defaulting
	-- to CURRENT_USER: one-argument ones called without it get it; any
	-- other call of them, or CURRENT_USER left, is not handled
	FOR v_fn IN
		SELECT p.proname, p.pronargs FROM pg_catalog.pg_proc p
		 WHERE p.pronamespace = 'custfocus'::regnamespace AND p.pronargdefaults > 0
		   AND pg_catalog.pg_get_function_arguments(p.oid) LIKE '%p_role name DEFAULT CURRENT_USER'
	LOOP
		IF v_fn.pronargs = 1 THEN
			v_sql := pg_catalog.replace(v_sql, format('custfocus.%s()', v_fn.proname), format('custfocus.%s(p_role)', v_fn.proname));
		END IF;
		IF pg_catalog.regexp_count(v_sql, format('custfocus\.%s\(', v_fn.proname))
		   <> pg_catalog.regexp_count(v_sql, format('custfocus\.%s\(p_role\)', v_fn.proname)) THEN
			RAISE EXCEPTION 'view %: a call of custfocus.% cannot be given the role', p_view, v_fn.proname;
		END IF;
	END LOOP;
	v_sql := pg_catalog.regexp_replace(v_sql, '\mCURRENT_USER\M', 'p_role', 'g');
	-- the views it reads: redefined ones through their functions; others
	-- (which would read as the function's owner) are not handled
	FOR v_rel IN
		SELECT DISTINCT c.oid::regclass AS rel, c.relname
		  FROM pg_catalog.pg_rewrite w
		  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = w.oid
			   AND d.refclassid = 'pg_catalog.pg_class'::regclass
		  JOIN pg_catalog.pg_class c ON c.oid = d.refobjid AND c.relkind = 'v' AND c.oid <> p_view
		 WHERE w.ev_class = p_view
	LOOP
		IF NOT v_rel.rel = ANY (custfocus.citus_redefined_views()) THEN
			RAISE EXCEPTION 'view % reads view %, which is not redefined on Citus', p_view, v_rel.rel;
		END IF;
		v_sql := pg_catalog.regexp_replace(v_sql, format('custfocus\.%s\M', v_rel.relname),
										   format('custfocus.citus_view_%s(p_role)', v_rel.relname), 'g');
	END LOOP;
	RETURN v_sql;
END
$$;
COMMENT ON FUNCTION custfocus.citus_view_query(regclass) IS
'On a distributed custfocus: the query of a reporting view with the role as p_role (see custfocus.citus_redefined_views)';

-- data_coverage on Citus: the same figures, each per service from one
-- aggregation over the responses (and the roll-up) instead of sub-queries
-- per service.
CREATE FUNCTION custfocus.citus_data_coverage_query() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $q$
	SELECT $$
	SELECT p.code AS program_code, p.name AS program_name, s.code AS service_code, s.name AS service_name, s.active,
		   sv.surveys, coalesce(n.responses, 0)::bigint AS responses, coalesce(fl.last_90, 0)::bigint AS responses_last_90_days,
		   fl.first_at AS first_response, fl.last_at AS last_response,
		   (pg_catalog.timezone(t.tz, pg_catalog.now())::date - pg_catalog.timezone(t.tz, fl.last_at)::date) AS days_since_last_response,
		   CASE WHEN fl.last_at IS NULL THEN 'none'
				WHEN fl.last_at < pg_catalog.timezone(t.tz, pg_catalog.timezone(t.tz, pg_catalog.now()) - interval '1 year') THEN 'stale'
				WHEN coalesce(fl.last_90, 0) = 0 THEN 'lapsing'
				ELSE 'current' END AS coverage
	  FROM custfocus.service s
	  JOIN custfocus.program p ON p.program_id = s.program_id
	 CROSS JOIN (SELECT custfocus.reporting_time_zone() AS tz) t
	  LEFT JOIN (SELECT m.service_id, sum(m.responses) AS responses FROM custfocus.rollup_service_month m
				  GROUP BY m.service_id) n ON n.service_id = s.service_id
	  LEFT JOIN (SELECT r.service_id, min(r.submitted_at) AS first_at, max(r.submitted_at) AS last_at,
						count(*) FILTER (WHERE r.submitted_at >= pg_catalog.timezone(custfocus.reporting_time_zone(),
									pg_catalog.timezone(custfocus.reporting_time_zone(), pg_catalog.now()) - interval '90 days')) AS last_90
				   FROM custfocus.response r WHERE r.service_id IS NOT NULL
				  GROUP BY r.service_id) fl ON fl.service_id = s.service_id
	  LEFT JOIN (SELECT k.service_id, string_agg(x.code, ', ' ORDER BY x.code) AS surveys
				   FROM (SELECT r.service_id, r.survey_id FROM custfocus.response r WHERE r.service_id IS NOT NULL
						  GROUP BY r.service_id, r.survey_id) k
				   JOIN custfocus.survey x ON x.survey_id = k.survey_id
				  GROUP BY k.service_id) sv ON sv.service_id = s.service_id
	 WHERE custfocus.sees_all_programs(p_role) OR s.program_id = ANY (custfocus.visible_program_ids(p_role))
	 ORDER BY p.code, s.code
	$$
$q$;
COMMENT ON FUNCTION custfocus.citus_data_coverage_query() IS
'On a distributed custfocus: the query of data_coverage for a role p_role, without correlated sub-queries (which Citus cannot plan)';

-- voc_themes on Citus: computed when read, for the role.  A commit that
-- changed free-text answers would compute its services' themes reading
-- shards that the committing role modified, as the owner, which Citus
-- refuses ("modified in this transaction by a different user"); and the
-- placements' triggers cannot say which services changed.  So the themes
-- are not published on Citus (report_themes_refresh returns at once).
CREATE FUNCTION custfocus.citus_voc_themes_query() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT $q$SELECT p.code AS program_code, s.code AS service_code, f.term, f.documents, f.feedback_documents,
	   f.answer_documents, round(100.0 * f.documents / f.service_documents, 1)::numeric(4,1) AS share_of_documents,
	   f.rank, f.example
  FROM custfocus.voc_themes_compute(CASE WHEN custfocus.sees_all_programs(p_role) THEN NULL
										  ELSE custfocus.visible_service_ids(p_role) END) f
  JOIN custfocus.service s ON s.service_id = f.service_id
  JOIN custfocus.program p ON p.program_id = s.program_id
 WHERE f.documents >= (SELECT custfocus.min_responses())
 ORDER BY 1, 2, 8$q$
$$;
COMMENT ON FUNCTION custfocus.citus_voc_themes_query() IS
'On a distributed custfocus: the query of voc_themes for a role p_role, computed when read (the themes are not published on Citus)';

-- Part of distribute(): the functions, and the views reading them.  Run on
-- the coordinator only (the workers never run the views), without DDL
-- propagation.
CREATE FUNCTION custfocus.citus_redefine_views() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_view regclass;
	v_name name;
	v_sql text;
	v_ddl text := pg_catalog.current_setting('citus.enable_ddl_propagation');
	v_queries text[] := '{}';
	v_views regclass[] := custfocus.citus_redefined_views() || 'custfocus.data_coverage'::regclass
						  || 'custfocus.voc_themes'::regclass;
	i integer;
BEGIN
	PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'off', true);
	-- every query first, from the views as they are
	FOREACH v_view IN ARRAY custfocus.citus_redefined_views() LOOP
		v_queries := v_queries || custfocus.citus_view_query(v_view);
	END LOOP;
	v_queries := v_queries || custfocus.citus_data_coverage_query() || custfocus.citus_voc_themes_query();
	FOR i IN 1 .. cardinality(v_views) LOOP
		v_view := v_views[i];
		SELECT c.relname INTO v_name FROM pg_catalog.pg_class c WHERE c.oid = v_view;
		EXECUTE format($f$CREATE FUNCTION custfocus.%I(p_role name) RETURNS SETOF %s
						 LANGUAGE plpgsql STABLE SECURITY DEFINER
						 SET search_path = pg_catalog, pg_temp
						 AS %L$f$,
					   'citus_view_' || v_name, v_view,
					   format(E'BEGIN\n\tPERFORM custfocus.citus_view_check_role(p_role);\n\tRETURN QUERY\n%s;\nEND', v_queries[i]));
		EXECUTE format('COMMENT ON FUNCTION custfocus.%I(name) IS %L', 'citus_view_' || v_name,
					   format('On a distributed custfocus: the rows of view %s for the role (made by distribute())', v_view));
		EXECUTE format('REVOKE ALL ON FUNCTION custfocus.%I(name) FROM PUBLIC', 'citus_view_' || v_name);
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.%I(name) TO custfocus_citus', 'citus_view_' || v_name);
		EXECUTE format('ALTER EXTENSION custfocus ADD FUNCTION custfocus.%I(name)', 'citus_view_' || v_name);
	END LOOP;
	FOREACH v_view IN ARRAY v_views LOOP
		SELECT c.relname INTO v_name FROM pg_catalog.pg_class c WHERE c.oid = v_view;
		EXECUTE format('CREATE OR REPLACE VIEW %s WITH (security_barrier) AS SELECT * FROM custfocus.%I(CURRENT_USER)',
					   v_view, 'citus_view_' || v_name);
	END LOOP;
	PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', v_ddl, true);
END
$$;
COMMENT ON FUNCTION custfocus.citus_redefine_views() IS
'Part of custfocus.distribute(): makes the reporting views that join the coordinator''s roll-ups to Citus tables read a SECURITY DEFINER function of the caller''s role';
REVOKE ALL ON FUNCTION custfocus.citus_redefine_views() FROM PUBLIC;

-------------------------------------------------------------------------------
-- The one call
-------------------------------------------------------------------------------

CREATE FUNCTION custfocus.distribute(shard_count integer DEFAULT NULL) RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_version text;
	v_rel regclass;
	v_bad text;
	v_role record;
	v_coordinator boolean;
	v_start timestamptz := clock_timestamp();
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
		RAISE EXCEPTION 'custfocus.distribute() needs Citus, which is not installed in this database'
			USING ERRCODE = 'feature_not_supported',
				  HINT = 'On the coordinator and on every worker: shared_preload_libraries = ''citus'', CREATE EXTENSION citus, then CREATE EXTENSION custfocus; add the workers with citus_add_node.';
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = CURRENT_USER AND rolsuper) THEN
		RAISE EXCEPTION 'custfocus.distribute() must be run by a superuser'
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF custfocus.citus_distributed() THEN
		RAISE EXCEPTION 'custfocus is already distributed' USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	EXECUTE 'SELECT pg_catalog.citus_is_coordinator()' INTO v_coordinator;
	IF NOT v_coordinator THEN
		RAISE EXCEPTION 'custfocus.distribute() must run on the Citus coordinator'
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_node WHERE groupid = 0)' INTO v_coordinator;
	IF NOT v_coordinator THEN
		RAISE EXCEPTION 'the coordinator is not in the Citus metadata'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'The roll-ups stay on the coordinator, and the views join them with reference tables, which need a placement there.',
				  HINT = 'SELECT citus_set_coordinator_host(''host'', port);';
	END IF;
	PERFORM custfocus.rollup_check_isolation();
	SELECT e.extversion INTO v_version FROM pg_catalog.pg_extension e WHERE e.extname = 'custfocus';
	EXECUTE $q$SELECT string_agg(format('%s:%s (%s)', w.nodename, w.nodeport, w.result), ', ')
				 FROM run_command_on_workers('SELECT extversion FROM pg_catalog.pg_extension WHERE extname = ''custfocus''') w
				WHERE NOT w.success OR w.result IS DISTINCT FROM $1$q$
	   INTO v_bad USING v_version;
	IF v_bad IS NOT NULL THEN
		RAISE EXCEPTION 'custfocus % is not installed on every worker: %', v_version, v_bad
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'CREATE EXTENSION custfocus (or ALTER EXTENSION custfocus UPDATE) on every worker first.';
	END IF;

	-- 1. every node: what Citus refuses goes, the policies without sub-selects come
	EXECUTE $q$SELECT string_agg(format('%s:%s: %s', w.nodename, w.nodeport, w.result), ', ')
				 FROM run_command_on_workers('SELECT custfocus.citus_prepare_node()') w WHERE NOT w.success$q$
	   INTO v_bad;
	IF v_bad IS NOT NULL THEN
		RAISE EXCEPTION 'could not prepare the workers: %', v_bad;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'custfocus_citus') THEN
		CREATE ROLE custfocus_citus NOLOGIN;
	END IF;
	COMMENT ON ROLE custfocus_citus IS 'custfocus on Citus: what a role with an access level needs on the workers (schema USAGE, SELECT on the shards the views read); granted by custfocus.grant_access';
	PERFORM custfocus.citus_prepare_node();

	-- 2. the tables.  Each reference table is made while tables that refer
	-- to it are still local: Citus would turn those into "Citus local
	-- tables", re-creating the views on them, which belong to the extension
	-- and cannot be dropped; with this off it leaves them be (they become
	-- Citus tables in the following steps).
	PERFORM pg_catalog.set_config('citus.enable_local_reference_table_foreign_keys', 'off', true);
	FOREACH v_rel IN ARRAY custfocus.citus_reference_tables() LOOP
		EXECUTE 'SELECT pg_catalog.create_reference_table($1)' USING v_rel;
	END LOOP;
	EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''response_id'', shard_count => $2)'
	   USING 'custfocus.response'::regclass, coalesce(shard_count, current_setting('citus.shard_count')::integer);
	EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''response_id'', colocate_with => ''custfocus.response'')'
	   USING 'custfocus.answer'::regclass;
	EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''response_id'', colocate_with => ''custfocus.response'')'
	   USING 'custfocus.respondent_contact'::regclass;

	-- The roll-up keys a DML on response or answer touched: written by
	-- triggers on the shards (citus_rollup_dirty) into the co-located shard
	-- of this table, read and emptied on the coordinator before the
	-- transaction commits (citus_rollup_sync, run by src/citus.c).  Made
	-- here, not by CREATE EXTENSION: a single node has no use for it.  A
	-- member of the extension (DROP EXTENSION drops it; pg_dump leaves it).
	CREATE TABLE custfocus.rollup_dirty (
		response_id	bigint NOT NULL,
		service_id	integer,
		submitted_at timestamptz NOT NULL
	);
	COMMENT ON TABLE custfocus.rollup_dirty IS
	'On a distributed custfocus: the service and time of the responses a statement changed, whose roll-up keys the coordinator recomputes, and whose respondent ids it checks, before the transaction commits; derived data, not dumped';
	COMMENT ON COLUMN custfocus.rollup_dirty.response_id IS 'A response changed (the distribution column: the row lives beside the response)';
	COMMENT ON COLUMN custfocus.rollup_dirty.service_id IS 'Its service (before or after the change; NULL: none, a row only for the respondent-id check)';
	COMMENT ON COLUMN custfocus.rollup_dirty.submitted_at IS 'Its submission time (before or after the change)';
	EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''response_id'', colocate_with => ''custfocus.response'')'
	   USING 'custfocus.rollup_dirty'::regclass;
	ALTER EXTENSION custfocus ADD TABLE custfocus.rollup_dirty;
	GRANT SELECT, DELETE ON custfocus.rollup_dirty TO custfocus_citus;
	-- the C module's hooks keep the roll-ups after a DML on response or
	-- answer (src/citus.c): loaded when a session starts
	SELECT coalesce(string_agg(x, ', '), '') INTO v_bad
	  FROM (SELECT unnest(string_to_array(replace(d.c, ' ', ''), ',')) AS x
			  FROM (SELECT coalesce((SELECT split_part(c, '=', 2) FROM pg_catalog.pg_db_role_setting s,
										   unnest(s.setconfig) AS c
									 WHERE s.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
									   AND s.setrole = 0 AND c LIKE 'session\_preload\_libraries=%'), '') AS c) d) l
	 WHERE x <> '' AND x NOT IN ('custfocus', '$libdir/custfocus');
	EXECUTE format('ALTER DATABASE %I SET session_preload_libraries = %L', current_database(),
				   concat_ws(', ', nullif(v_bad, ''), 'custfocus'));
	v_bad := NULL;

	-- what custfocus_citus may not read on the shards (admins' tables, or
	-- read through SECURITY DEFINER functions only); Citus propagates the
	-- REVOKE to the shards.  On the coordinator, later tables of the schema
	-- get no default privileges.
	REVOKE ALL ON custfocus.respondent_contact, custfocus.role_access, custfocus.program_access,
		custfocus.import_batch, custfocus.import_error FROM custfocus_citus;
	PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'off', true);
	ALTER DEFAULT PRIVILEGES IN SCHEMA custfocus REVOKE SELECT ON TABLES FROM custfocus_citus;
	PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'on', true);

	-- 3. the triggers Citus runs on shards and placements
	PERFORM custfocus.citus_create_triggers();

	-- the reporting views that join the coordinator's roll-ups to Citus
	-- tables read them through functions of the caller's role
	PERFORM custfocus.citus_redefine_views();

	-- 4. what the roles need on every node
	FOR v_role IN SELECT g.oid::regrole AS r FROM custfocus.role_access a JOIN pg_catalog.pg_roles g ON g.rolname = a.role_name LOOP
		PERFORM custfocus.citus_sync_access(v_role.r);
	END LOOP;

	-- 5. the rows the tables held here: copied to the shards, now dead weight
	-- (Citus leaves them on disk)
	FOREACH v_rel IN ARRAY custfocus.citus_reference_tables() || custfocus.citus_distributed_tables() LOOP
		EXECUTE 'SELECT pg_catalog.truncate_local_data_after_distributing_table($1)' USING v_rel;
	END LOOP;

	-- 6. the roll-ups, from the distributed data
	PERFORM custfocus.rollup_rebuild();
	RETURN format('custfocus distributed: %s reference tables, %s distributed by response_id (%s shards) in %s s',
				  cardinality(custfocus.citus_reference_tables()),
				  array_to_string(custfocus.citus_distributed_tables(), ', '),
				  coalesce(shard_count, current_setting('citus.shard_count')::integer),
				  round(extract(epoch FROM clock_timestamp() - v_start)::numeric, 1));
END
$$;
COMMENT ON FUNCTION custfocus.distribute(integer) IS
'Distributes an installed custfocus on Citus (run once, on the coordinator, as a superuser): response, answer and respondent_contact distributed by response_id and co-located, the small tables as reference tables, the roll-ups kept on the coordinator; see README, Scaling out';
REVOKE ALL ON FUNCTION custfocus.distribute(integer) FROM PUBLIC;

CREATE OR REPLACE FUNCTION custfocus.visible_program_ids(p_role name DEFAULT CURRENT_USER) RETURNS integer[]
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.check_role_asked(p_role);
	RETURN custfocus.programs_below(ARRAY(
		SELECT a.program_id FROM custfocus.program_access a
		  JOIN pg_roles g ON g.rolname = a.role_name
		 WHERE pg_has_role(p_role, g.oid, 'USAGE')));
END
$$;
COMMENT ON FUNCTION custfocus.visible_program_ids(name) IS
'Programs whose data the role may see: those granted to it or to a role it belongs to, and every program below them';

CREATE OR REPLACE FUNCTION custfocus.readable_survey_ids(p_role name DEFAULT CURRENT_USER) RETURNS integer[]
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(array_agg(s.survey_id ORDER BY s.survey_id), '{}')
	  FROM custfocus.survey s
	 WHERE s.program_id IS NULL
		OR s.program_id = ANY (custfocus.programs_above(custfocus.visible_program_ids(p_role)))
$$;
COMMENT ON FUNCTION custfocus.readable_survey_ids(name) IS
'Surveys the role may read: those of its programs, of the programs above them, and agency-wide ones';

CREATE OR REPLACE FUNCTION custfocus.readable_program_ids(p_role name DEFAULT CURRENT_USER) RETURNS integer[]
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT custfocus.programs_above(custfocus.visible_program_ids(p_role)) $$;
COMMENT ON FUNCTION custfocus.readable_program_ids(name) IS
'Programs whose surveys the role may read: its programs, those below them and those above them';

CREATE OR REPLACE FUNCTION custfocus.program_path(p_program integer) RETURNS integer[]
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT custfocus.programs_above(ARRAY[p_program]) $$;
COMMENT ON FUNCTION custfocus.program_path(integer) IS
'The program and every program above it (for the checks that run as the owner; not executable by other roles)';

CREATE OR REPLACE FUNCTION custfocus.grant_access(p_role regrole, p_level text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	obj record;
BEGIN
	IF p_level IS NULL OR p_level NOT IN ('reader', 'analyst', 'admin') THEN
		RAISE EXCEPTION 'unknown access level "%"', p_level
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use reader, analyst or admin.';
	END IF;
	PERFORM custfocus.revoke_access(p_role);
	EXECUTE format('GRANT USAGE ON SCHEMA custfocus TO %s', p_role);

	-- every level reads the views, in custfocus and in custfocus_reports
	-- (the same views, in a schema of nothing else, for BI tools)
	EXECUTE format('GRANT USAGE ON SCHEMA custfocus_reports TO %s', p_role);
	FOR obj IN
		SELECT c.oid::regclass AS rel FROM pg_class c
		 WHERE c.relnamespace IN ('custfocus'::regnamespace, 'custfocus_reports'::regnamespace)
		   AND c.relkind IN ('v', 'm')
	LOOP
		EXECUTE format('GRANT SELECT ON %s TO %s', obj.rel, p_role);
	END LOOP;
	FOR obj IN
		SELECT p.oid::regprocedure AS fn FROM pg_proc p
		 WHERE p.pronamespace = 'custfocus'::regnamespace AND p.proname LIKE '%\_rows'
	LOOP
		EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', obj.fn, p_role);
	END LOOP;

	IF p_level IN ('analyst', 'admin') THEN
		-- manage the program's data, load surveys, describe instruments
		FOR obj IN
			SELECT c.oid::regclass AS rel, c.relname FROM pg_class c
			 WHERE c.relnamespace = 'custfocus'::regnamespace AND c.relkind = 'r'
			   AND c.relname NOT IN ('role_access', 'program_access', 'respondent_contact', 'setting')
			   -- derived data (roll-ups hold unsuppressed small groups of every
			   -- program): only the extension's own functions touch them
			   AND c.relname NOT LIKE 'rollup\_%' AND c.relname NOT LIKE 'report\_%'
		LOOP
			-- the program tree is the agency's structure: an analyst
			-- describes its programs (name, description) but neither adds,
			-- removes nor moves one, nor changes its code or level
			IF obj.relname = 'program' AND p_level = 'analyst' THEN
				EXECUTE format('GRANT SELECT, UPDATE (name, description) ON %s TO %s', obj.rel, p_role);
			-- an analyst records its own imports but does not rewrite or
			-- delete the record of anyone's
			ELSIF obj.relname = 'import_batch' AND p_level = 'analyst' THEN
				EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %s TO %s', obj.rel, p_role);
			ELSIF obj.relname = 'import_error' AND p_level = 'analyst' THEN
				EXECUTE format('GRANT SELECT, INSERT ON %s TO %s', obj.rel, p_role);
			ELSE
				EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s', obj.rel, p_role);
			END IF;
		END LOOP;
		FOR obj IN
			SELECT c.oid::regclass AS rel FROM pg_class c
			 WHERE c.relnamespace = 'custfocus'::regnamespace AND c.relkind = 'S'
		LOOP
			EXECUTE format('GRANT USAGE ON SEQUENCE %s TO %s', obj.rel, p_role);
		END LOOP;
		IF pg_catalog.to_regprocedure('custfocus.import_responses(text,text,jsonb)') IS NOT NULL THEN
			EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.import_responses(text, text, jsonb) TO %s', p_role);
			EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.import_responses_file(text, text, jsonb) TO %s', p_role);
		END IF;
	END IF;

	IF p_level = 'admin' THEN
		FOR obj IN
			SELECT c.oid::regclass AS rel FROM pg_class c
			 WHERE c.relnamespace = 'custfocus'::regnamespace AND c.relkind = 'r'
			   AND c.relname <> 'setting' AND c.relname NOT LIKE 'rollup\_%' AND c.relname NOT LIKE 'report\_%'
		LOOP
			EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s', obj.rel, p_role);
		END LOOP;
		-- the settings are one row, changed in place
		EXECUTE format('GRANT SELECT, UPDATE ON custfocus.setting TO %s', p_role);
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.apply_retention(text, interval, text) TO %s', p_role);
		-- the roll-ups' maintenance (see src/sql/rollup.sql)
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.rollup_verify() TO %s', p_role);
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.report_verify() TO %s', p_role);
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.rollup_rebuild() TO %s', p_role);
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.rollup_compact(integer[], date[]) TO %s', p_role);
	END IF;

	INSERT INTO custfocus.role_access (role_name, level) VALUES (p_role::text::name, p_level);
	-- on Citus, the workers too (does nothing on one node)
	PERFORM custfocus.citus_sync_access(p_role);
	-- a reader or analyst sees only the programs granted to it: say so
	-- when there are none yet, rather than let the views come back empty
	IF p_level <> 'admin'
	   AND NOT EXISTS (SELECT FROM pg_roles r WHERE r.oid = p_role AND (r.rolsuper OR r.rolbypassrls))
	   AND NOT EXISTS (SELECT FROM custfocus.program_access a
						 JOIN pg_roles g ON g.rolname = a.role_name
						WHERE pg_has_role(p_role, g.oid, 'USAGE')) THEN
		RAISE NOTICE 'role "%" sees no program yet: the views will show it nothing', p_role
			USING HINT = format('Grant it programs with custfocus.grant_program_access(%L, ''PROGRAM CODE''); a program covers every program below it.', p_role::text);
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.grant_access(regrole, text) IS
'Grants a role reader (views only), analyst (reader + import + manage data) or admin (everything, all programs) access';

CREATE OR REPLACE FUNCTION custfocus.revoke_access(p_role regrole) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	obj record;
BEGIN
	-- on Citus, grants one table at a time (does nothing on one node)
	PERFORM custfocus.citus_before_grants();
	FOR obj IN
		SELECT c.oid::regclass AS rel FROM pg_class c
		 WHERE c.relnamespace = 'custfocus'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'S')
	LOOP
		EXECUTE format('REVOKE ALL ON %s FROM %s', obj.rel, p_role);
	END LOOP;
	FOR obj IN
		SELECT p.oid::regprocedure AS fn FROM pg_proc p
		 WHERE p.pronamespace = 'custfocus'::regnamespace AND p.prokind IN ('f', 'a')
	LOOP
		EXECUTE format('REVOKE ALL ON FUNCTION %s FROM %s', obj.fn, p_role);
	END LOOP;
	EXECUTE format('REVOKE ALL ON SCHEMA custfocus FROM %s', p_role);
	FOR obj IN
		SELECT c.oid::regclass AS rel FROM pg_class c
		 WHERE c.relnamespace = 'custfocus_reports'::regnamespace AND c.relkind = 'v'
	LOOP
		EXECUTE format('REVOKE ALL ON %s FROM %s', obj.rel, p_role);
	END LOOP;
	EXECUTE format('REVOKE ALL ON SCHEMA custfocus_reports FROM %s', p_role);
	DELETE FROM custfocus.role_access WHERE role_name = p_role::text::name;
	-- on Citus, the workers too (does nothing on one node)
	PERFORM custfocus.citus_sync_access(p_role);
END
$$;
COMMENT ON FUNCTION custfocus.revoke_access(regrole) IS
'Revokes every custfocus privilege from the role and forgets its access level (its program grants are kept)';

CREATE OR REPLACE FUNCTION custfocus.apply_retention(p_survey text, p_older_than interval, p_action text DEFAULT 'anonymise')
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_survey_id integer;
	v_count bigint;
BEGIN
	IF p_action IS NULL OR p_action NOT IN ('anonymise', 'delete') THEN
		RAISE EXCEPTION 'unknown retention action "%"', p_action
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use anonymise or delete.';
	END IF;
	IF p_older_than IS NULL OR p_older_than < interval '0' THEN
		RAISE EXCEPTION 'retention age must be a positive interval, got %', p_older_than
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT s.survey_id INTO v_survey_id FROM custfocus.survey s
	 WHERE custfocus.label_key(s.code) = custfocus.label_key(p_survey);
	IF NOT FOUND THEN
		RAISE EXCEPTION 'survey "%" does not exist', p_survey
			USING ERRCODE = 'undefined_object';
	END IF;

	IF p_action = 'delete' THEN
		DELETE FROM custfocus.response r
		 WHERE r.survey_id = v_survey_id AND r.submitted_at < pg_catalog.now() - p_older_than;
		GET DIAGNOSTICS v_count = ROW_COUNT;
		-- on Citus, what triggers and a foreign key do here (nothing on one node)
		PERFORM custfocus.citus_after_retention(pg_catalog.now() - p_older_than);
		RETURN v_count;
	END IF;

	DELETE FROM custfocus.respondent_contact c
	 USING custfocus.response r
	 WHERE c.response_id = r.response_id
	   AND r.survey_id = v_survey_id AND r.submitted_at < pg_catalog.now() - p_older_than;
	DELETE FROM custfocus.answer a
	 USING custfocus.response r
	 WHERE a.response_id = r.response_id AND a.value IS NULL
	   AND r.survey_id = v_survey_id AND r.submitted_at < pg_catalog.now() - p_older_than;
	UPDATE custfocus.answer a SET text_value = NULL
	  FROM custfocus.response r
	 WHERE a.response_id = r.response_id AND a.text_value IS NOT NULL
	   AND r.survey_id = v_survey_id AND r.submitted_at < pg_catalog.now() - p_older_than;
	UPDATE custfocus.response r SET external_id = NULL
	 WHERE r.survey_id = v_survey_id AND r.submitted_at < pg_catalog.now() - p_older_than
	   AND r.external_id IS NOT NULL;
	GET DIAGNOSTICS v_count = ROW_COUNT;
	PERFORM custfocus.citus_after_retention(pg_catalog.now() - p_older_than);
	RETURN v_count;
END
$$;
COMMENT ON FUNCTION custfocus.apply_retention(text, interval, text) IS
'Deletes, or anonymises (contact details, free text and respondent ids removed), the responses to a survey older than the given age; returns how many';

CREATE OR REPLACE FUNCTION custfocus.report_unit_refresh() RETURNS void
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

CREATE OR REPLACE FUNCTION custfocus.rollup_compute(p_services integer[], p_months date[])
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

CREATE OR REPLACE FUNCTION custfocus.rollup_item_compute(p_services integer[], p_months date[])
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


-- the pairs roll-up of the data already there
INSERT INTO custfocus.rollup_pairs_month
SELECT c.* FROM (SELECT array_agg(k.service_id) AS s, array_agg(k.month) AS m
				   FROM (SELECT DISTINCT r.service_id, r.month FROM custfocus.rollup_service_month r) k) keys
 CROSS JOIN LATERAL custfocus.rollup_pairs_compute(keys.s, keys.m) c
 WHERE keys.s IS NOT NULL;
REVOKE ALL ON FUNCTION custfocus.rollup_hidden_refresh(integer[], date[], bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_hidden_unchanged(integer[], date[], bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_measured_items() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_hidden_compute(date[], boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_hidden_grid(integer[], integer[], integer[], integer[], bigint[], bigint[], integer[], integer[], integer, integer[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_hidden_touch(integer[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_hidden_all() FROM PUBLIC;

-- the complementary cells of the data already there, and its figures
-- published
SELECT count(*) FROM custfocus.rollup_hidden_refresh(
	(SELECT array_agg(k.service_id) FROM (SELECT DISTINCT r.service_id, r.month FROM custfocus.rollup_service_month r) k),
	(SELECT array_agg(k.month) FROM (SELECT DISTINCT r.service_id, r.month FROM custfocus.rollup_service_month r) k));
SELECT custfocus.report_refresh(ARRAY(SELECT DISTINCT r.service_id FROM custfocus.rollup_service_month r));
SELECT custfocus.report_themes_refresh(ARRAY(SELECT s.service_id FROM custfocus.service s));
SELECT custfocus.report_feedback_refresh(ARRAY(SELECT s.service_id FROM custfocus.service s) || 0);

-- the roles granted access before: the views' computation at read time
-- (the *_rows functions grant_access grants), and report_verify for admins
DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT a.role_name, a.level FROM custfocus.role_access a
			  WHERE EXISTS (SELECT FROM pg_catalog.pg_roles g WHERE g.rolname = a.role_name)
	LOOP
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION custfocus.scorecard_live_rows(name), '
								  'custfocus.satisfaction_trend_live_rows(name), custfocus.key_drivers_live_rows(name), '
								  'custfocus.measure_status_live_rows(name), custfocus.voc_themes_live_rows(name), '
								  'custfocus.improvement_opportunities_live_rows(name) TO %I',
								  r.role_name);
		IF r.level = 'admin' THEN
			EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION custfocus.report_verify() TO %I', r.role_name);
		END IF;
	END LOOP;
END
$$;

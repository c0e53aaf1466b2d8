-- Complementary suppression: a reader who subtracts what the scorecard and
-- the trend show (a quarter minus its shown months, a program minus its
-- shown services, a year minus its shown quarters, and chains of these)
-- recovers no score of fewer than the floor's answers.  First the method's
-- own vectors (src/suppress.c), then an attacker, run as a reader, that
-- derives every cell any relation gives away, on random agencies: it must
-- find nothing, and it must find the small groups once the complementary
-- cells are taken away (so the attack is real).
\set VERBOSITY terse
SET client_min_messages = warning;

-- A quarter of 48 answers and its months of 3, 20 and 25: the month of 3 is
-- hidden for being small, and the smallest other month with it (else the
-- quarter minus the two shown months is the small one).
SELECT custfocus.complementary_suppression('{48,3,20,25}', '{t,t,t,t}', '{1}', '{1,1,1}', '{2,3,4}', 10);
-- Months of 3 and 4 both hidden: together 7, still fewer than 10, and the
-- quarter minus the third month gives them: the third is hidden too.
SELECT custfocus.complementary_suppression('{37,3,4,30}', '{t,t,t,t}', '{1}', '{1,1,1}', '{2,3,4}', 10);
-- Two small months of 5 and 6: 11 together, which may be shown as a sum.
SELECT custfocus.complementary_suppression('{41,5,6,30}', '{t,t,t,t}', '{1}', '{1,1,1}', '{2,3,4}', 10);
-- Nothing small, nothing hidden; a parent of 5 is itself small (primary),
-- not complementary; an empty month is known to be empty.
SELECT custfocus.complementary_suppression('{48,13,10,25}', '{t,t,t,t}', '{1}', '{1,1,1}', '{2,3,4}', 10);
SELECT custfocus.complementary_suppression('{5,2,3,0}', '{t,t,t,t}', '{1}', '{1,1,1}', '{2,3,4}', 10);
SELECT custfocus.complementary_suppression('{23,3,0,20}', '{t,t,t,t}', '{1}', '{1,1,1}', '{2,3,4}', 10);
-- Program P of services S1, S2 over months m1, m2 of a quarter Q (cells:
-- 1 P-Q, 2 P-m1, 3 P-m2, 4 S1-Q, 5 S1-m1, 6 S1-m2, 7 S2-Q, 8 S2-m1,
-- 9 S2-m2; relations: P = S1 + S2 in Q, m1 and m2, and Q = m1 + m2 for P,
-- S1 and S2).  S1-m1 has 3 answers: hiding S2-m1 alone (for the program)
-- and S1-m2 alone (for the quarter) would leave S2-m1 to S2's quarter and
-- then S1-m1 to the program; the method hides the 2 x 2 block S1, S2 x
-- m1, m2, in which every relation has two unknowns.
SELECT custfocus.complementary_suppression('{93,33,60,23,3,20,70,30,40}', '{t,t,t,t,t,t,t,t,t}',
										   '{1,2,3,1,4,7}', '{1,1,2,2,3,3,4,4,5,5,6,6}',
										   '{4,7,5,8,6,9,2,3,5,6,8,9}', 10);
-- A cell that is not published is unknown from the start: the quarter of a
-- measure shown without its months gives nothing away.
SELECT custfocus.complementary_suppression('{48,3,20,25}', '{t,f,f,f}', '{1}', '{1,1,1}', '{2,3,4}', 10);
-- No cells; bad input.
SELECT custfocus.complementary_suppression('{}', '{}', '{}', '{}', '{}', 10);
SELECT custfocus.complementary_suppression('{1,2}', '{t}', '{}', '{}', '{}', 10);
SELECT custfocus.complementary_suppression('{1,2}', '{t,t}', '{3}', '{1}', '{2}', 10);
SELECT custfocus.complementary_suppression('{1,2}', '{t,t}', '{1}', '{2}', '{2}', 10);
SELECT custfocus.complementary_suppression('{1,2}', '{t,t}', '{1}', '{1}', '{0}', 10);
SELECT custfocus.complementary_suppression('{1,NULL}', '{t,t}', '{1}', '{1}', '{2}', 10);
SELECT custfocus.complementary_suppression('{1,-2}', '{t,t}', '{1}', '{1}', '{2}', 10);
SELECT custfocus.complementary_suppression('{5,2}', '{t,t}', '{1}', '{1}', '{1}', 10);
SELECT custfocus.complementary_suppression('{5,2,3}', '{t,t,t}', '{1}', '{1,1}', '{2,2}', 10);
-- NULL for NULL, except the cells hidden from the start (a pattern
-- computed before): kept, and completed only where needed (here the month
-- of 25 hidden with the month of 3 is enough; the computation from scratch
-- would have taken the month of 20)
SELECT custfocus.complementary_suppression(NULL, '{t}', '{}', '{}', '{}', 10);
SELECT custfocus.complementary_suppression('{48,3,20,25}', '{t,t,t,t}', '{1}', '{1,1,1}', '{2,3,4}', 10, NULL);
SELECT custfocus.complementary_suppression('{48,3,20,25}', '{t,t,t,t}', '{1}', '{1,1,1}', '{2,3,4}', 10, '{f,f,f,t}');

-- The same laid out on a grid (the reporting layer's form): entity, unit
-- and slot (0..11 months, 12..15 quarters, 16 the year) give the relations.
-- The quarter and months above; then the 2 x 2 block (units 2 and 3 under
-- unit 1, months 0 and 1 of quarter 12); then bad grids.
SELECT custfocus.complementary_suppression_grid('{1,1,1,1}', '{1,1,1,1}', '{12,0,1,2}', '{48,3,20,25}',
												'{t,t,t,t}', '{0}', '{}', '{}', 10);
SELECT custfocus.complementary_suppression_grid('{1,1,1,1,1,1,1,1,1}', '{1,1,1,2,2,2,3,3,3}', '{12,0,1,12,0,1,12,0,1}',
												'{93,33,60,23,3,20,70,30,40}', '{t,t,t,t,t,t,t,t,t}',
												'{0,1,1}', '{}', '{}', 10);
-- a score (entity 1) made of an item (2) and the rest of its answers (3,
-- never shown, 5 answers): the score minus the item would be the rest, so
-- the item is hidden
SELECT custfocus.complementary_suppression_grid('{1,2,3}', '{1,1,1}', '{0,0,0}', '{40,35,5}', '{t,t,f}',
												'{0}', '{1,1}', '{2,3}', 10);
SELECT custfocus.complementary_suppression_grid('{1,1}', '{1,1}', '{0,0}', '{4,5}', '{t,t}', '{0}', '{}', '{}', 10);
SELECT custfocus.complementary_suppression_grid('{1}', '{1}', '{17}', '{4}', '{t}', '{0}', '{}', '{}', 10);
SELECT custfocus.complementary_suppression_grid('{1}', '{1}', '{0}', '{4}', '{t}', '{1}', '{}', '{}', 10);
SELECT custfocus.complementary_suppression_grid('{1}', '{1}', '{0}', '{4}', '{t}', '{0}', '{1}', '{1}', 10);
SELECT custfocus.complementary_suppression_grid('{1}', '{1}', '{0}', '{4,5}', '{t}', '{0}', '{}', '{}', 10);

-- The same score, item and rest built from roll-up rows, as
-- rollup_hidden_compute gives them (rollup_hidden_grid): the score's cell
-- of unit 1 in month 0 (40 answers), the item's answers in service 7's
-- month 0 (35: counted in unit 1's month, quarter and year), shown by
-- month; the rest (the score less the item) is made here.  The item's
-- month is hidden; its quarter and year are not shown.  Then the stored
-- cells kept (the item's month: nothing more), and bad tables.
SELECT * FROM custfocus.rollup_hidden_grid('{{0,0,1},{0,0,2},{2,1,0}}', '{{3,2}}', '{0}', '{{7,1}}',
										   '{{1,1,0,40}}', '{{2,7,0,35}}', '{{2,1,0}}', '{{1,2},{1,3}}', 10, NULL);
SELECT * FROM custfocus.rollup_hidden_grid('{{0,0,1},{0,0,2},{2,1,0}}', '{{3,2}}', '{0}', '{{7,1}}',
										   '{{1,1,0,40}}', '{{2,7,0,35}}', '{{2,1,0}}', '{{1,2},{1,3}}', 10, '{{2,1,0}}');
-- a service no unit counts is left out; a score with no cells, empty tables
SELECT * FROM custfocus.rollup_hidden_grid('{{0,0,1},{0,0,2},{2,1,0}}', '{{3,2}}', '{0}', '{{8,1}}',
										   '{{1,1,0,40}}', '{{2,7,0,35}}', '{{2,1,0}}', '{{1,2},{1,3}}', 10, NULL);
SELECT * FROM custfocus.rollup_hidden_grid('{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', 10, NULL);
SELECT * FROM custfocus.rollup_hidden_grid('{{2,0,1}}', '{}', '{0}', '{}', '{}', '{}', '{}', '{}', 10, NULL);
SELECT * FROM custfocus.rollup_hidden_grid('{{0,0,1},{1,0,2}}', '{{1,2}}', '{0}', '{}', '{}', '{}', '{}', '{}', 10, NULL);
SELECT * FROM custfocus.rollup_hidden_grid('{{0,0,1},{1,0,2}}', '{}', '{0}', '{}', '{{2,1,0,5}}', '{}', '{}', '{}', 10, NULL);
SELECT * FROM custfocus.rollup_hidden_grid('{{0,0,1},{0,0,2},{2,1,0}}', '{{3,2},{3,2}}', '{0}', '{}', '{}', '{}', '{}', '{}', 10, NULL);
SELECT * FROM custfocus.rollup_hidden_grid('{{0,0,1}}', '{}', '{0}', '{{7,1}}', '{}', '{{1,7,12,5}}', '{}', '{}', 10, NULL);
SELECT * FROM custfocus.rollup_hidden_grid('{0,0,1}', '{}', '{0}', '{}', '{}', '{}', '{}', '{}', 10, NULL);
SELECT * FROM custfocus.rollup_hidden_grid('{{0,0,1}}', '{}', '{0}', '{{7,2}}', '{}', '{}', '{}', '{}', 10, NULL);

-- An agency: AG over programs PA (services SA, SB, SC) and PB (SD, SE),
-- an overall rating item and an NPS item.
INSERT INTO custfocus.program (program_id, code, name, level) VALUES (901, 'AG', 'Agency', 'agency');
INSERT INTO custfocus.program (program_id, parent_id, code, name) VALUES
	(902, 901, 'PA', 'Program A'), (903, 901, 'PB', 'Program B');
INSERT INTO custfocus.service (service_id, program_id, code, name) VALUES
	(911, 902, 'SA', 'Service A'), (912, 902, 'SB', 'Service B'), (913, 902, 'SC', 'Service C'),
	(914, 903, 'SD', 'Service D'), (915, 903, 'SE', 'Service E');
INSERT INTO custfocus.survey (survey_id, code, name) VALUES (931, 'cs', 'Customer survey');
INSERT INTO custfocus.requirement (requirement_id, code, name, importance) VALUES (951, 'sup-wait', 'Waiting', 50);
INSERT INTO custfocus.item (item_id, survey_id, code, text, scale_id, metric, is_overall, requirement_id) VALUES
	(941, 931, 'SAT', 'Overall', 2, 'rating', true, NULL),
	(942, 931, 'NPS', 'Recommend', 3, 'nps', false, NULL),
	(943, 931, 'W1', 'Wait on the phone', 2, 'rating', false, 951),
	(944, 931, 'W2', 'Wait at the desk', 2, 'rating', false, 951);
-- Measures of the overall item (CSAT) at several units and grains, of the
-- NPS item, and of the requirement's two items.
INSERT INTO custfocus.measure (code, name, program_id, service_id, metric, item_id, requirement_id, target, period) VALUES
	('sup-csat-pa-q', 'CSAT of PA', 902, NULL, 'csat', 941, NULL, 80, 'quarter'),
	('sup-csat-ag-m', 'CSAT of AG', 901, NULL, 'csat', 941, NULL, 80, 'month'),
	('sup-csat-sa-m', 'CSAT of SA', NULL, 911, 'csat', 941, NULL, 80, 'month'),
	('sup-csat-sb-m', 'CSAT of SB', NULL, 912, 'csat', 941, NULL, 80, 'month'),
	('sup-csat-sd-y', 'CSAT of SD', NULL, 914, 'csat', 941, NULL, 80, 'year'),
	('sup-nps-pb-q', 'NPS of PB', 903, NULL, 'nps', 942, NULL, 20, 'quarter'),
	('sup-wait-sc-m', 'Waiting at SC', NULL, 913, 'linear_mean', NULL, 951, 70, 'month'),
	('sup-wait-pa-q', 'Waiting at PA', 902, NULL, 'linear_mean', NULL, 951, 70, 'quarter');
CREATE ROLE regress_sup_reader;
CREATE ROLE regress_sup_division;
SELECT custfocus.grant_access('regress_sup_reader', 'reader');
SELECT custfocus.grant_access('regress_sup_division', 'reader');
SELECT custfocus.grant_program_access('regress_sup_reader', 'PA');
SELECT custfocus.grant_program_access('regress_sup_division', 'AG');

-- The attacker: every cell a view shows the calling role, and every
-- relation between them the role can know of (a program's cell is the sum
-- of the cells of the units right under it, in the same period; a
-- quarter's of its months, a year's of its quarters).  A relation with one
-- unknown cell gives it away (and it may then give away another); a
-- relation whose parent is known gives the sum of its unknown children.
-- pg_temp.derive works on a table cell (unit, parent_unit, grain,
-- period_start, n, v: the value, NULL when hidden) and returns what it
-- recovers of groups of 1 .. floor - 1 answers, with the value it computed.
CREATE FUNCTION pg_temp.derive()
RETURNS TABLE (what text, n bigint, recovered double precision)
LANGUAGE plpgsql AS $$
DECLARE
	v_floor integer := custfocus.min_responses();
	v_changed integer;
BEGIN
	UPDATE cell SET v = 0 WHERE cell.n = 0;
	ALTER TABLE cell ADD COLUMN id serial, ADD COLUMN shown boolean;
	UPDATE cell SET shown = cell.v IS NOT NULL;
	CREATE TEMP TABLE rel AS
	SELECT 'u' || p.id AS r, p.id AS parent, c.id AS child
	  FROM cell c JOIN cell p ON p.unit = c.parent_unit AND p.grain = c.grain AND p.period_start = c.period_start
	UNION ALL
	SELECT 't' || p.id, p.id, c.id
	  FROM cell c JOIN cell p ON p.unit = c.unit
		   AND p.grain = CASE c.grain WHEN 'month' THEN 'quarter' WHEN 'quarter' THEN 'year' END
		   AND p.period_start = date_trunc(p.grain, c.period_start)::date;
	LOOP
		-- relations with exactly one unknown cell: solve for it
		WITH members AS (
			SELECT r.r, r.parent AS id, 1 AS sign FROM (SELECT DISTINCT rel.r, rel.parent FROM rel) r
			UNION ALL
			SELECT rel.r, rel.child, -1 FROM rel
		),
		one AS (
			SELECT m.r, min(m.id) FILTER (WHERE c.v IS NULL) AS unknown,
				   min(m.sign) FILTER (WHERE c.v IS NULL) AS sign,
				   sum(m.sign * c.v) AS known_sum
			  FROM members m JOIN cell c ON c.id = m.id
			 GROUP BY m.r HAVING count(*) FILTER (WHERE c.v IS NULL) = 1
		),
		solved AS (
			SELECT DISTINCT ON (o.unknown) o.unknown, -o.sign * o.known_sum AS v FROM one o ORDER BY o.unknown, o.r
		)
		UPDATE cell c SET v = s.v FROM solved s WHERE c.id = s.unknown;
		GET DIAGNOSTICS v_changed = ROW_COUNT;
		EXIT WHEN v_changed = 0;
	END LOOP;
	-- what it recovered
	RETURN QUERY SELECT c.unit || ' ' || c.grain || ' ' || c.period_start, c.n, c.v
	  FROM cell c WHERE c.n BETWEEN 1 AND v_floor - 1 AND c.v IS NOT NULL AND NOT c.shown;
	-- sums of unknown children of a known parent
	RETURN QUERY
	SELECT 'sum of ' || string_agg(c.unit || ' ' || c.grain || ' ' || c.period_start, ' + ' ORDER BY c.id),
		   sum(c.n)::bigint, max(p.v) - coalesce(sum(k.v), 0)
	  FROM rel JOIN cell p ON p.id = rel.parent
	  LEFT JOIN cell c ON c.id = rel.child AND c.v IS NULL
	  LEFT JOIN cell k ON k.id = rel.child AND k.v IS NOT NULL
	 WHERE p.v IS NOT NULL
	 GROUP BY rel.r
	HAVING count(c.id) >= 2 AND sum(c.n) BETWEEN 1 AND v_floor - 1;
	DROP TABLE cell, rel;
END
$$;
-- The scorecard's additive columns of CSAT, NPS or the linear mean.
CREATE FUNCTION pg_temp.attack(p_metric text)
RETURNS TABLE (what text, n bigint, recovered double precision)
LANGUAGE plpgsql AS $$
BEGIN
	CREATE TEMP TABLE cell AS
	SELECT CASE s.level WHEN 'service' THEN 'S:' || s.service_code ELSE 'P:' || s.program_code END AS unit,
		   CASE s.level WHEN 'service' THEN 'P:' || s.program_code ELSE 'P:' || s.parent_program_code END AS parent_unit,
		   s.grain, s.period_start,
		   CASE p_metric WHEN 'csat' THEN s.csat_n WHEN 'nps' THEN s.nps_n ELSE s.linear_mean_n END AS n,
		   CASE p_metric WHEN 'csat' THEN s.csat_weight_in_box
						 WHEN 'nps' THEN s.nps_weight_promoters - s.nps_weight_detractors
						 ELSE s.linear_mean_weighted_sum END AS v
	  FROM custfocus_reports.scorecard s;
	RETURN QUERY SELECT * FROM pg_temp.derive();
END
$$;
-- The answers in the top two categories of the overall item, unweighted:
-- the trend's in_box, and measure_status's in_box of the CSAT measures of
-- that item (the agency's only overall item, so the same cells: a measure
-- shows a cell the trend hides, and the other way round).  p_measures
-- false: the trend alone.
CREATE FUNCTION pg_temp.attack_counts(p_measures boolean)
RETURNS TABLE (what text, n bigint, recovered double precision)
LANGUAGE plpgsql AS $$
BEGIN
	CREATE TEMP TABLE cell AS
	SELECT CASE t.level WHEN 'service' THEN 'S:' || t.service_code ELSE 'P:' || t.program_code END AS unit,
		   CASE t.level WHEN 'service' THEN 'P:' || t.program_code ELSE 'P:' || t.parent_program_code END AS parent_unit,
		   t.grain, t.period_start, t.n, t.in_box::double precision AS v
	  FROM custfocus_reports.satisfaction_trend t;
	IF p_measures THEN
		UPDATE cell c SET v = m.in_box
		  FROM custfocus_reports.measure_status m
		 WHERE m.measure_code LIKE 'sup-csat-%' AND m.in_box IS NOT NULL AND c.v IS NULL
		   AND c.unit = CASE WHEN m.service_code IS NOT NULL THEN 'S:' || m.service_code ELSE 'P:' || m.program_code END
		   AND c.grain = m.period AND c.period_start = m.period_start;
	END IF;
	RETURN QUERY SELECT * FROM pg_temp.derive();
END
$$;
GRANT ALL ON FUNCTION pg_temp.attack(text), pg_temp.attack_counts(boolean), pg_temp.derive() TO PUBLIC;

-- Random agencies: per service and month of 2026, 0 to 24 responses (many
-- small months), random answers and weights; each committed, so that the
-- complementary cells are computed as they are in use (at commit).  Then
-- the attacker, as a reader of PA and as a reader of the whole agency, for
-- each metric.  Counted over five agencies: what it recovers (must be
-- nothing) and how many cells were hidden as complementary (must be some).
CREATE FUNCTION pg_temp.load_agency(p_seed double precision) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM custfocus.answer WHERE response_id IN (SELECT response_id FROM custfocus.response WHERE survey_id = 931);
	DELETE FROM custfocus.response WHERE survey_id = 931;
	PERFORM setseed(p_seed);
	INSERT INTO custfocus.response (response_id, survey_id, service_id, submitted_at, external_id, weight)
	SELECT 100000 + row_number() OVER (), 931, s.service_id,
		   make_timestamptz(2026, m, 1 + (k % 27), 12, 0, 0), 'r' || row_number() OVER (), 0.5 + random()
	  FROM generate_series(911, 915) s (service_id)
	 CROSS JOIN generate_series(1, 12) m
	 CROSS JOIN LATERAL generate_series(1, (floor(random() * random() * 25))::integer + 0 * s.service_id + 0 * m) k;
	INSERT INTO custfocus.answer (response_id, item_id, value)
	SELECT r.response_id, 941, 1 + floor(random() * 5) FROM custfocus.response r WHERE r.survey_id = 931
	UNION ALL
	SELECT r.response_id, 942, floor(random() * 11) FROM custfocus.response r
	 WHERE r.survey_id = 931 AND random() < 0.8
	UNION ALL
	SELECT r.response_id, i.item_id, 1 + floor(random() * 5) FROM custfocus.response r, (VALUES (943), (944)) i (item_id)
	 WHERE r.survey_id = 931 AND random() < 0.6;
END
$$;

CREATE TEMP TABLE attack_result (seed double precision, role text, metric text, what text, n bigint, recovered double precision);
CREATE TEMP TABLE hidden_count (seed double precision, hidden bigint, small bigint);
GRANT ALL ON TABLE attack_result TO PUBLIC;

SELECT pg_temp.load_agency(0.11);
INSERT INTO hidden_count SELECT 0.11, (SELECT count(*) FROM custfocus.rollup_hidden WHERE program_id BETWEEN 901 AND 903), 0;
SET ROLE regress_sup_reader;
INSERT INTO attack_result SELECT 0.11, 'PA', m, a.* FROM unnest('{csat,nps,lm}'::text[]) m, pg_temp.attack(m) a;
INSERT INTO attack_result SELECT 0.11, 'PA', 'counts', a.* FROM pg_temp.attack_counts(true) a;
RESET ROLE;
SET ROLE regress_sup_division;
INSERT INTO attack_result SELECT 0.11, 'AG', m, a.* FROM unnest('{csat,nps,lm}'::text[]) m, pg_temp.attack(m) a;
INSERT INTO attack_result SELECT 0.11, 'AG', 'counts', a.* FROM pg_temp.attack_counts(true) a;
RESET ROLE;
SELECT pg_temp.load_agency(0.22);
INSERT INTO hidden_count SELECT 0.22, (SELECT count(*) FROM custfocus.rollup_hidden WHERE program_id BETWEEN 901 AND 903), 0;
SET ROLE regress_sup_reader;
INSERT INTO attack_result SELECT 0.22, 'PA', m, a.* FROM unnest('{csat,nps,lm}'::text[]) m, pg_temp.attack(m) a;
INSERT INTO attack_result SELECT 0.22, 'PA', 'counts', a.* FROM pg_temp.attack_counts(true) a;
RESET ROLE;
SET ROLE regress_sup_division;
INSERT INTO attack_result SELECT 0.22, 'AG', m, a.* FROM unnest('{csat,nps,lm}'::text[]) m, pg_temp.attack(m) a;
INSERT INTO attack_result SELECT 0.22, 'AG', 'counts', a.* FROM pg_temp.attack_counts(true) a;
RESET ROLE;
SELECT pg_temp.load_agency(0.33);
INSERT INTO hidden_count SELECT 0.33, (SELECT count(*) FROM custfocus.rollup_hidden WHERE program_id BETWEEN 901 AND 903), 0;
SET ROLE regress_sup_division;
INSERT INTO attack_result SELECT 0.33, 'AG', m, a.* FROM unnest('{csat,nps,lm}'::text[]) m, pg_temp.attack(m) a;
INSERT INTO attack_result SELECT 0.33, 'AG', 'counts', a.* FROM pg_temp.attack_counts(true) a;
RESET ROLE;
SELECT pg_temp.load_agency(0.44);
INSERT INTO hidden_count SELECT 0.44, (SELECT count(*) FROM custfocus.rollup_hidden WHERE program_id BETWEEN 901 AND 903), 0;
SET ROLE regress_sup_division;
INSERT INTO attack_result SELECT 0.44, 'AG', m, a.* FROM unnest('{csat,nps,lm}'::text[]) m, pg_temp.attack(m) a;
INSERT INTO attack_result SELECT 0.44, 'AG', 'counts', a.* FROM pg_temp.attack_counts(true) a;
RESET ROLE;
-- nothing recovered; complementary cells in every agency
SELECT * FROM attack_result;
SELECT seed, hidden > 0 AS some_hidden FROM hidden_count ORDER BY seed;

-- The same attacker against the same agency without the complementary
-- cells (taken away in a transaction rolled back): it recovers small
-- groups, and their true sums (computed here from the raw answers).
BEGIN;
DELETE FROM custfocus.rollup_hidden;
-- (computed at read time from the roll-ups, without the cells: the figures
-- published at the last commit were published with them)
SET LOCAL custfocus.live_reports = on;
SET ROLE regress_sup_division;
CREATE TEMP TABLE naive AS SELECT * FROM pg_temp.attack('csat') a WHERE a.what NOT LIKE 'sum of%';
RESET ROLE;
SELECT count(*) > 0 AS recovers_small_groups FROM naive;
-- a recovered service-month equals the weighted answers in the box
SELECT count(*) AS wrong
  FROM naive a
  JOIN custfocus.service s ON a.what LIKE 'S:' || s.code || ' month %'
 WHERE abs(a.recovered - (SELECT sum(r.weight) FROM custfocus.response r JOIN custfocus.answer x USING (response_id)
							  WHERE r.service_id = s.service_id AND x.item_id = 941 AND x.value >= 4
								AND date_trunc('month', r.submitted_at)::date = substr(a.what, length('S:' || s.code || ' month ') + 1)::date)) > 1e-9;
ROLLBACK;
-- The measures' in_box, without their own complementary cells (those of
-- the scorecard and the trend kept): the trend alone gives nothing away,
-- with the measures it does (a measure shows a cell the trend hides).
BEGIN;
DELETE FROM custfocus.rollup_hidden_measure;
SET LOCAL custfocus.live_reports = on;   -- (see above)
SET ROLE regress_sup_division;
SELECT count(*) AS trend_alone_gives FROM pg_temp.attack_counts(false);
SELECT count(*) > 0 AS with_measures_gives_small_groups FROM pg_temp.attack_counts(true);
RESET ROLE;
ROLLBACK;

-- Maintained: answers deleted so that a month becomes small, and a lower
-- floor, are followed at commit.
DELETE FROM custfocus.answer a USING custfocus.response r
 WHERE r.response_id = a.response_id AND r.service_id = 911 AND r.submitted_at < '2026-02-01'
   AND r.response_id % 4 <> 0;
SELECT csat_n AS sa_january_now FROM custfocus.scorecard
 WHERE service_code = 'SA' AND grain = 'month' AND period_start = '2026-01-01';
SET ROLE regress_sup_division;
SELECT count(*) AS recovered_after_delete FROM pg_temp.attack('csat');
RESET ROLE;
UPDATE custfocus.setting SET min_responses = 5;
SET ROLE regress_sup_division;
SELECT count(*) AS recovered_at_floor_5 FROM pg_temp.attack('csat');
RESET ROLE;
UPDATE custfocus.setting SET min_responses = DEFAULT;

-- Answers added to cells that already have enough keep the cells as they
-- are (rollup_hidden_unchanged: nothing is computed at commit); answers
-- that may change them have them computed again.  Either way
-- rollup_verify() finds the cells protect every small group.
INSERT INTO custfocus.response (response_id, survey_id, service_id, submitted_at, external_id, weight)
SELECT 200000 + g, 931, 915, timestamptz '2026-06-10 12:00', 'big' || g, 1 FROM generate_series(1, 41) g;
INSERT INTO custfocus.answer (response_id, item_id, value)
SELECT 200000 + g, i, 1 + (g * i) % 5 FROM generate_series(1, 40) g, (VALUES (941), (943), (944)) v (i)
UNION ALL
SELECT 200000 + g, 942, (g * 7) % 11 FROM generate_series(1, 40) g;
SELECT computations AS computed_before FROM custfocus.rollup_hidden_year WHERE year = '2026-01-01' \gset
-- the 41st response of the month, and its answers
INSERT INTO custfocus.answer (response_id, item_id, value) VALUES (200041, 941, 5), (200041, 942, 9), (200041, 943, 4);
SELECT computations - :computed_before AS computed_for_a_big_month
  FROM custfocus.rollup_hidden_year WHERE year = '2026-01-01';
SELECT count(*) AS verify_problems FROM custfocus.rollup_verify();
-- a month of SD with few answers
INSERT INTO custfocus.response (response_id, survey_id, service_id, submitted_at, external_id, weight)
VALUES (200050, 931, 914, timestamptz '2026-11-10 12:00', 'small1', 1);
INSERT INTO custfocus.answer (response_id, item_id, value) VALUES (200050, 941, 2);
SELECT computations - :computed_before AS computed_for_a_small_month
  FROM custfocus.rollup_hidden_year WHERE year = '2026-01-01';
SELECT count(*) AS verify_problems FROM custfocus.rollup_verify();
SET ROLE regress_sup_division;
SELECT count(*) AS recovered FROM pg_temp.attack('csat');
SELECT count(*) AS recovered FROM pg_temp.attack_counts(true);
RESET ROLE;

-- A measure of a requirement publishes the sum of its items: the
-- scorecard's linear mean (every rating item) minus it is the rest of the
-- rating answers (found by a review: here the overall item's, of which 4
-- in June 2025 while 30 answered the requirement's two items).  The
-- requirement is one node of the score's sum, so the subtraction finds a
-- hidden cell.
INSERT INTO custfocus.program (program_id, parent_id, code, name) VALUES (904, 901, 'PC', 'Program C');
INSERT INTO custfocus.service (service_id, program_id, code, name) VALUES (916, 904, 'SF', 'Service F'), (917, 904, 'SG', 'Service G');
INSERT INTO custfocus.survey (survey_id, code, name) VALUES (932, 'cs2', 'Second survey');
INSERT INTO custfocus.requirement (requirement_id, code, name, importance) VALUES (952, 'sup-wait2', 'Waiting', 50);
INSERT INTO custfocus.item (item_id, survey_id, code, text, scale_id, metric, is_overall, requirement_id) VALUES
	(945, 932, 'SAT', 'Overall', 2, 'rating', true, NULL),
	(946, 932, 'W1', 'Wait on the phone', 2, 'rating', false, 952),
	(947, 932, 'W2', 'Wait at the desk', 2, 'rating', false, 952);
INSERT INTO custfocus.measure (code, name, service_id, metric, requirement_id, target, period)
VALUES ('sup-wait2-sf-m', 'Waiting at SF', 916, 'linear_mean', 952, 70, 'month');
INSERT INTO custfocus.response (response_id, survey_id, service_id, submitted_at, external_id)
SELECT 300000 + 1000 * (s - 916) + 30 * (m - 1) + k, 932, s, make_timestamptz(2025, m, 1 + k % 27, 12, 0, 0), 'w' || s || '-' || m || '-' || k
  FROM generate_series(916, 917) s, generate_series(1, 12) m, generate_series(1, 30) k;
INSERT INTO custfocus.answer (response_id, item_id, value)
SELECT r.response_id, i.item_id, 1 + (r.response_id * i.item_id) % 5
  FROM custfocus.response r CROSS JOIN (VALUES (945), (946), (947)) i (item_id)
 WHERE r.survey_id = 932
   AND NOT (i.item_id = 945 AND r.service_id = 916 AND r.submitted_at >= '2025-06-01' AND r.submitted_at < '2025-07-01'
			AND (r.response_id - 300000) % 30 >= 4);
SET ROLE regress_sup_division;
SELECT s.linear_mean_n - m.n AS rest_n, s.linear_mean_weighted_sum - m.n * m.actual AS rest_sum
  FROM custfocus_reports.scorecard s, custfocus_reports.measure_status m
 WHERE s.service_code = 'SF' AND s.grain = 'month' AND s.period_start = '2025-06-01'
   AND m.measure_code = 'sup-wait2-sf-m' AND m.period_start = '2025-06-01';
SELECT count(*) AS recovered FROM pg_temp.attack('lm');
RESET ROLE;
SELECT count(*) AS verify_problems FROM custfocus.rollup_verify();
-- Several years are computed in one call (a commit that touched them), as
-- disjoint blocks of one table: each gets exactly the cells it gets alone
-- (both years have some: the 2026 agency's are random in number)
SELECT x.together = x.y2025 + x.y2026 AS adds_up, x.y2025 > 0 AND x.y2026 > 0 AS both_years, x.differ
  FROM (
SELECT (SELECT count(*) FROM custfocus.rollup_hidden_compute('{2025-03-15,2026-01-01}')) AS together,
	   (SELECT count(*) FROM custfocus.rollup_hidden_compute('{2025-01-01}')) AS y2025,
	   (SELECT count(*) FROM custfocus.rollup_hidden_compute('{2026-12-31}')) AS y2026,
	   (SELECT count(*) FROM ((SELECT * FROM custfocus.rollup_hidden_compute('{2025-03-15,2026-01-01}')
							   EXCEPT ALL
							   (SELECT * FROM custfocus.rollup_hidden_compute('{2025-01-01}')
								UNION ALL SELECT * FROM custfocus.rollup_hidden_compute('{2026-12-31}')))
							  UNION ALL
							  ((SELECT * FROM custfocus.rollup_hidden_compute('{2025-01-01}')
								UNION ALL SELECT * FROM custfocus.rollup_hidden_compute('{2026-12-31}'))
							   EXCEPT ALL
							   SELECT * FROM custfocus.rollup_hidden_compute('{2025-03-15,2026-01-01}'))) d) AS differ) x;
-- The key drivers' window is a sum of months too: in March 2025 only 3
-- respondents of SF answered the waiting items (the measure hides the
-- month), and the window's n x performance minus the measure's other
-- months would give them back (a review); SF's performance is not shown,
-- SG's (no measure) is.
DELETE FROM custfocus.answer a USING custfocus.response r
 WHERE r.response_id = a.response_id AND r.service_id = 916 AND a.item_id IN (946, 947)
   AND r.submitted_at >= '2025-03-01' AND r.submitted_at < '2025-04-01' AND (r.response_id - 300000) % 30 >= 3;
SET ROLE regress_sup_division;
SELECT service_code, n, performance IS NULL AS performance_hidden, suppressed
  FROM custfocus_reports.key_drivers WHERE service_code IN ('SF', 'SG') ORDER BY 1;
SELECT k.n - sum(m.n) FILTER (WHERE NOT m.suppressed) AS rest_n,
	   k.n * k.performance - sum(m.n * m.actual) FILTER (WHERE NOT m.suppressed) AS rest_sum
  FROM custfocus_reports.key_drivers k
  JOIN custfocus_reports.measure_status m ON m.measure_code = 'sup-wait2-sf-m'
	   AND m.period_start BETWEEN k.window_start AND k.window_end
 WHERE k.service_code = 'SF'
 GROUP BY k.n, k.performance;
RESET ROLE;

-- The trend hides the same points (CSAT) and leaves them out of the centre
-- line.
SELECT count(*) AS trend_points_shown_but_hidden
  FROM custfocus.satisfaction_trend t
  JOIN custfocus.report_unit u ON (u.program_code, coalesce(u.service_code, '')) = (t.program_code, coalesce(t.service_code, ''))
	   AND u.level = t.level
  JOIN custfocus.rollup_hidden h ON h.program_id = u.program_id AND h.unit_service_id = u.unit_service_id
	   AND h.grain = t.grain AND h.period_start = t.period_start AND h.csat
 WHERE t.csat IS NOT NULL;
SELECT count(*) > 0 AS trend_hides_some
  FROM custfocus.satisfaction_trend t WHERE t.suppressed AND t.n >= custfocus.min_responses();

-- rollup_hidden is not readable by readers.
SET ROLE regress_sup_reader;
SELECT count(*) FROM custfocus.rollup_hidden;
RESET ROLE;

-- Published figures follow complementary cells that change in a unit the
-- commit did not touch: in January 2027, SF has 3 answers (small) and SG
-- 20, so one more cell of program C's January is hidden with SF's; ten
-- more answers to SF (a commit that touches SF alone) make SF's January
-- big enough, and the complementary cell is shown again, in whatever unit
-- it was.  The published rows equal a computation after each commit.
INSERT INTO custfocus.response (response_id, survey_id, service_id, submitted_at, external_id)
SELECT 400000 + k, 932, CASE WHEN k <= 3 THEN 916 ELSE 917 END, timestamptz '2027-01-12 12:00', 'jan' || k
  FROM generate_series(1, 23) k;
INSERT INTO custfocus.answer (response_id, item_id, value)
SELECT 400000 + k, 945, 1 + k % 5 FROM generate_series(1, 23) k;
CREATE TEMP TABLE hidden_before AS
SELECT h.program_id, h.unit_service_id FROM custfocus.rollup_hidden h
 WHERE h.period_start >= '2027-01-01' AND (h.csat OR h.nps OR h.lm);
SELECT count(*) AS complementary_cells_outside_sf
  FROM hidden_before h WHERE h.unit_service_id <> 916;
SELECT count(*) AS published_problems FROM custfocus.report_verify();
INSERT INTO custfocus.response (response_id, survey_id, service_id, submitted_at, external_id)
SELECT 400100 + k, 932, 916, timestamptz '2027-01-13 12:00', 'jan-sf' || k FROM generate_series(1, 10) k;
INSERT INTO custfocus.answer (response_id, item_id, value)
SELECT 400100 + k, 945, 1 + k % 5 FROM generate_series(1, 10) k;
SELECT count(*) AS cells_hidden_now FROM custfocus.rollup_hidden h
 WHERE h.period_start >= '2027-01-01' AND (h.csat OR h.nps OR h.lm);
SELECT count(*) AS published_problems FROM custfocus.report_verify();
SELECT service_code, grain, csat_n, suppressed FROM custfocus.scorecard
 WHERE program_code = 'PC' AND period_start = '2027-01-01' ORDER BY service_code NULLS FIRST, grain;

DELETE FROM custfocus.answer WHERE response_id IN (SELECT response_id FROM custfocus.response WHERE survey_id = 931);
DELETE FROM custfocus.response WHERE survey_id = 931;
DELETE FROM custfocus.answer WHERE response_id IN (SELECT response_id FROM custfocus.response WHERE survey_id = 932);
DELETE FROM custfocus.response WHERE survey_id = 932;
DELETE FROM custfocus.measure WHERE code LIKE 'sup-%';
DELETE FROM custfocus.item WHERE survey_id IN (931, 932);
DELETE FROM custfocus.survey WHERE survey_id = 932;
DELETE FROM custfocus.requirement WHERE requirement_id IN (951, 952);
DELETE FROM custfocus.survey WHERE survey_id = 931;
DELETE FROM custfocus.service WHERE service_id BETWEEN 911 AND 917;
DELETE FROM custfocus.program WHERE program_id IN (902, 903, 904);
DELETE FROM custfocus.program WHERE program_id = 901;
SELECT custfocus.revoke_access('regress_sup_reader');
SELECT custfocus.revoke_access('regress_sup_division');
DROP ROLE regress_sup_reader;
DROP ROLE regress_sup_division;

-- The roll-ups behind the scorecard and the trend are exact: after every
-- kind of change (imports and inserts, answers corrected, weights changed,
-- responses moved between services or months, retention, items and scales
-- changed, programs re-parented, responses deleted), in a random order,
-- rollup_verify() finds nothing, and the views equal a computation from
-- the raw answers to 1e-12 relative.  Then: the plan of a filtered query
-- reaches the roll-up's index; a reader's function in a WHERE clause sees
-- no row of a program the reader may not see (security_barrier).
\set ON_ERROR_ROLLBACK on
\set VERBOSITY terse
SET client_min_messages = warning;

-- The scorecard computed from the raw answers, the way the views of 1.1 did
-- (one pass over the answers per service and month, merged into units and
-- grains), with the periods of the reporting time zone.  Independent of the
-- roll-up: the reference the view must equal.
CREATE FUNCTION pg_temp.scorecard_reference()
RETURNS TABLE (level text, program_code text, service_code text, grain text, period_start date,
			   responses bigint, csat_n bigint, csat double precision, csat_low double precision,
			   nps_n bigint, nps double precision, nps_se double precision,
			   lm_n bigint, lm double precision, lm_low double precision)
LANGUAGE sql AS $$
	WITH tz AS (SELECT custfocus.reporting_time_zone() AS tz),
	unit AS (
		WITH RECURSIVE up (service_id, program_id) AS (
			SELECT s.service_id, s.program_id FROM custfocus.service s
			UNION ALL
			SELECT up.service_id, p.parent_id FROM up JOIN custfocus.program p ON p.program_id = up.program_id
			 WHERE p.parent_id IS NOT NULL)
		SELECT s.service_id, 'service' AS level, s.program_id, s.service_id AS unit_service_id FROM custfocus.service s
		UNION ALL
		SELECT up.service_id, 'program', up.program_id, NULL FROM up
	),
	per_month AS (
		SELECT r.service_id, date_trunc('month', timezone(tz.tz, r.submitted_at))::date AS m,
			   custfocus.top_box_state(custfocus.oriented_score(a.value, i.reverse_coded, sc.min_value, sc.max_value),
									   sc.max_value - 1, r.weight) FILTER (WHERE i.is_overall AND i.metric IN ('rating', 'nps')) AS csat,
			   custfocus.nps_state(a.value, r.weight) FILTER (WHERE i.metric = 'nps') AS nps,
			   custfocus.linear_mean_state(custfocus.oriented_score(a.value, i.reverse_coded, sc.min_value, sc.max_value),
										   sc.min_value, sc.max_value, r.weight) FILTER (WHERE i.metric = 'rating') AS lm
		  FROM custfocus.response r CROSS JOIN tz
		  JOIN custfocus.answer a ON a.response_id = r.response_id
		  JOIN custfocus.item i ON i.item_id = a.item_id
		  JOIN custfocus.scale sc ON sc.scale_id = i.scale_id
		 WHERE a.value IS NOT NULL AND r.service_id IS NOT NULL
		 GROUP BY 1, 2
	),
	resp_month AS (
		SELECT r.service_id, date_trunc('month', timezone(tz.tz, r.submitted_at))::date AS m, count(*) AS n
		  FROM custfocus.response r CROSS JOIN tz WHERE r.service_id IS NOT NULL GROUP BY 1, 2
	),
	grains AS (
		SELECT g.grain, g.f FROM (VALUES ('month', 'month'), ('quarter', 'quarter'), ('year', 'year')) g (grain, f)
	),
	counted AS (
		SELECT u.level, u.program_id, u.unit_service_id, g.grain, date_trunc(g.f, rm.m)::date AS p, sum(rm.n)::bigint AS n
		  FROM resp_month rm JOIN unit u USING (service_id) CROSS JOIN grains g
		 GROUP BY 1, 2, 3, 4, 5
	),
	scored AS (
		SELECT u.level, u.program_id, u.unit_service_id, g.grain, date_trunc(g.f, pm.m)::date AS p,
			   custfocus.box_stats_merge(pm.csat) AS csat, custfocus.nps_stats_merge(pm.nps) AS nps,
			   custfocus.linear_mean_stats_merge(pm.lm) AS lm
		  FROM per_month pm JOIN unit u USING (service_id) CROSS JOIN grains g
		 GROUP BY 1, 2, 3, 4, 5
	)
	SELECT c.level, p.code, s.code, c.grain, c.p, c.n,
		   coalesce((x.csat).n, 0), (x.csat).percent, (x.csat).ci_low,
		   coalesce((x.nps).n, 0), (x.nps).nps, (x.nps).se,
		   coalesce((x.lm).n, 0), (x.lm).mean, (x.lm).ci_low
	  FROM counted c
	  LEFT JOIN scored x ON x.level = c.level AND x.program_id = c.program_id
		   AND x.unit_service_id IS NOT DISTINCT FROM c.unit_service_id AND x.grain = c.grain AND x.p = c.p
	  JOIN custfocus.program p ON p.program_id = c.program_id
	  LEFT JOIN custfocus.service s ON s.service_id = c.unit_service_id
$$;

-- Equal to 1e-12 relative.  An interval's bound is the estimate minus a
-- margin, so its rounding error is relative to the estimate, not to the
-- bound: near zero (a linear mean of 58.13 with a lower bound of 0.00236)
-- two correct sums merged in another order differ by a few units in the
-- last place of the estimate, 3e-12 of the bound; a bound is compared on
-- the scale of its estimate (scale).
CREATE FUNCTION pg_temp.close(a double precision, b double precision, scale double precision DEFAULT NULL)
RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT (a IS NULL AND b IS NULL)
		OR abs(a - b) <= 1e-12 * greatest(abs(a), abs(b), coalesce(abs(scale), 0), 1e-9)
$$;

-- Differences between the view (suppression off: floor 1) and the reference.
CREATE FUNCTION pg_temp.scorecard_differences() RETURNS bigint
LANGUAGE sql AS $$
	WITH v AS (
		SELECT level, program_code, service_code, grain, period_start, responses, csat_n, csat, csat_ci_low,
			   nps_n, nps, linear_mean_n, linear_mean, linear_mean_ci_low
		  FROM custfocus.scorecard),
	r AS (SELECT * FROM pg_temp.scorecard_reference()),
	j AS (
		SELECT v.*, r.* FROM v FULL JOIN r
		  ON r.level = v.level AND r.program_code = v.program_code
		 AND r.service_code IS NOT DISTINCT FROM v.service_code AND r.grain = v.grain AND r.period_start = v.period_start)
	SELECT count(*) FROM (
		SELECT (j.v).*, (j.r).* FROM (SELECT v, r FROM v FULL JOIN r
		  ON r.level = v.level AND r.program_code = v.program_code
		 AND r.service_code IS NOT DISTINCT FROM v.service_code AND r.grain = v.grain AND r.period_start = v.period_start) j
		 WHERE j.v IS NULL OR j.r IS NULL
			OR (j.v).responses <> (j.r).responses OR (j.v).csat_n <> (j.r).csat_n
			OR (j.v).nps_n <> (j.r).nps_n OR (j.v).linear_mean_n <> (j.r).lm_n
			OR NOT pg_temp.close((j.v).csat, (j.r).csat) OR NOT pg_temp.close((j.v).csat_ci_low, (j.r).csat_low, (j.r).csat)
			OR NOT pg_temp.close((j.v).nps, (j.r).nps)
			OR NOT pg_temp.close((j.v).linear_mean, (j.r).lm)
			OR NOT pg_temp.close((j.v).linear_mean_ci_low, (j.r).lm_low, (j.r).lm)
	) d
$$;

-- An agency of two divisions and four services, two surveys.
INSERT INTO custfocus.program (code, name, level) VALUES ('RU_AG', 'Agency', 'agency');
INSERT INTO custfocus.program (code, name, level, parent_id)
SELECT v, v, 'division', program_id FROM custfocus.program, (VALUES ('RU_D1'), ('RU_D2')) x (v) WHERE code = 'RU_AG';
INSERT INTO custfocus.program (code, name, level, parent_id)
SELECT v.c, v.c, 'program', p.program_id FROM (VALUES ('RU_P1', 'RU_D1'), ('RU_P2', 'RU_D1'), ('RU_P3', 'RU_D2')) v (c, d)
  JOIN custfocus.program p ON p.code = v.d;
INSERT INTO custfocus.service (program_id, code, name)
SELECT p.program_id, v.c, v.c FROM (VALUES ('RU_S1', 'RU_P1'), ('RU_S2', 'RU_P1'), ('RU_S3', 'RU_P2'), ('RU_S4', 'RU_P3')) v (c, p)
  JOIN custfocus.program p ON p.code = v.p;
INSERT INTO custfocus.survey (code, name, program_id)
SELECT 'ru-a', 'A', program_id FROM custfocus.program WHERE code = 'RU_AG';
INSERT INTO custfocus.survey (code, name, program_id)
SELECT 'ru-b', 'B', program_id FROM custfocus.program WHERE code = 'RU_AG';
-- overall satisfaction (5 points), a reverse-coded rating, NPS, a text item
INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric, is_overall, reverse_coded)
SELECT s.survey_id, v.code, v.code, v.scale, v.metric, v.overall, v.rev
  FROM custfocus.survey s,
	   (VALUES ('SAT', 2, 'rating', true, false), ('WAIT', 1, 'rating', false, true),
			   ('NPS', 3, 'nps', false, false), ('CES', 5, 'ces', false, false)) v (code, scale, metric, overall, rev)
 WHERE s.code IN ('ru-a', 'ru-b');
INSERT INTO custfocus.item (survey_id, code, text, metric)
SELECT survey_id, 'COMMENT', 'Comment', 'text' FROM custfocus.survey WHERE code IN ('ru-a', 'ru-b');

SELECT setseed(0.3);
-- Random responses: services, months across two years (some right at a
-- month's edge in the reporting time zone), weights, answers.
CREATE FUNCTION pg_temp.add_responses(k integer) RETURNS void LANGUAGE sql AS $$
	WITH x AS (
		SELECT g, random() AS r_survey, random() AS r_service, random() AS r_edge, random() AS r_time,
			   random() AS r_weight, random() AS r_w
		  FROM generate_series(1, k) g
	),
	r AS (
		INSERT INTO custfocus.response (survey_id, service_id, submitted_at, weight, external_id)
		SELECT (SELECT survey_id FROM custfocus.survey WHERE code = CASE WHEN x.r_survey < 0.7 THEN 'ru-a' ELSE 'ru-b' END),
			   (SELECT service_id FROM custfocus.service WHERE code = 'RU_S' || (1 + floor(x.r_service * 4))::int),
			   CASE WHEN x.r_edge < 0.2
					THEN timezone(custfocus.reporting_time_zone(), make_timestamp(2025, 1 + (x.g % 12), 1, 0, 0, 0))
						 - interval '1 second' * (x.r_time < 0.5)::int
					ELSE timestamptz '2025-01-01' + x.r_time * interval '700 days' END,
			   CASE WHEN x.r_weight < 0.3 THEN 0.25 + x.r_w * 3 ELSE 1 END,
			   'ru' || nextval('custfocus.response_response_id_seq')
		  FROM x
		RETURNING response_id, survey_id
	)
	INSERT INTO custfocus.answer (response_id, item_id, value, text_value)
	SELECT r.response_id, i.item_id,
		   CASE i.code WHEN 'SAT' THEN 1 + floor(random() * 5) WHEN 'WAIT' THEN 1 + floor(random() * 5)
					   WHEN 'NPS' THEN floor(random() * 11) WHEN 'CES' THEN 1 + floor(random() * 7) END,
		   CASE WHEN i.code = 'COMMENT' THEN 'text ' || r.response_id END
	  FROM r JOIN custfocus.item i ON i.survey_id = r.survey_id
	 WHERE random() < 0.85
$$;
SELECT pg_temp.add_responses(400);

-- One random change of each kind, in a random order, repeated.
CREATE FUNCTION pg_temp.random_change(kind integer) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	heads boolean := random() < 0.5;   -- one draw per change, not one per row
BEGIN
	CASE kind
	WHEN 0 THEN PERFORM pg_temp.add_responses(1 + floor(random() * 30)::int); RETURN 'insert';
	WHEN 1 THEN UPDATE custfocus.answer a SET value = 1 + floor(random() * 5)
				 WHERE a.item_id IN (SELECT item_id FROM custfocus.item WHERE code IN ('SAT', 'WAIT'))
				   AND random() < 0.05;
				RETURN 'answers corrected';
	WHEN 2 THEN UPDATE custfocus.response SET weight = 0.5 + random() * 2
				 WHERE external_id LIKE 'ru%' AND random() < 0.05;
				RETURN 'weights changed';
	WHEN 3 THEN UPDATE custfocus.response SET service_id = (SELECT service_id FROM custfocus.service WHERE code = 'RU_S4')
				 WHERE external_id LIKE 'ru%' AND random() < 0.03;
				RETURN 'moved between services';
	WHEN 4 THEN UPDATE custfocus.response SET submitted_at = submitted_at + interval '17 days'
				 WHERE external_id LIKE 'ru%' AND random() < 0.03;
				RETURN 'moved in time';
	WHEN 5 THEN DELETE FROM custfocus.response WHERE external_id LIKE 'ru%' AND random() < 0.03;
				RETURN 'responses deleted';
	WHEN 6 THEN DELETE FROM custfocus.answer WHERE random() < 0.03
				   AND response_id IN (SELECT response_id FROM custfocus.response WHERE external_id LIKE 'ru%');
				RETURN 'answers deleted';
	WHEN 7 THEN UPDATE custfocus.item SET reverse_coded = NOT reverse_coded
				 WHERE code = 'WAIT' AND survey_id = (SELECT survey_id FROM custfocus.survey WHERE code = 'ru-b');
				RETURN 'item recoded';
	WHEN 8 THEN UPDATE custfocus.item SET is_overall = false
				 WHERE survey_id = (SELECT survey_id FROM custfocus.survey WHERE code = 'ru-a');
				UPDATE custfocus.item SET is_overall = true
				 WHERE code = CASE WHEN heads THEN 'SAT' ELSE 'WAIT' END
				   AND survey_id = (SELECT survey_id FROM custfocus.survey WHERE code = 'ru-a');
				RETURN 'overall item changed';
	WHEN 9 THEN UPDATE custfocus.program SET parent_id = (SELECT program_id FROM custfocus.program
														   WHERE code = CASE WHEN heads THEN 'RU_D1' ELSE 'RU_D2' END)
				 WHERE code = 'RU_P2';
				RETURN 'program re-parented';
	WHEN 10 THEN PERFORM custfocus.apply_retention('ru-b', interval '500 days', 'delete');
				 RETURN 'retention';
	ELSE UPDATE custfocus.service SET program_id = (SELECT program_id FROM custfocus.program
													 WHERE code = CASE WHEN heads THEN 'RU_P2' ELSE 'RU_P3' END)
		  WHERE code = 'RU_S3';
		 RETURN 'service moved to another program';
	END CASE;
END
$$;

-- The floor at 1, so that the view shows every score the reference computes.
UPDATE custfocus.setting SET min_responses = 1;

CREATE TEMP TABLE run (step integer, change text, verify_problems bigint, view_differences bigint);
-- Five rounds, each every kind of change once, in a random order.
DO $$
DECLARE
	step integer := 0;
	kind integer;
BEGIN
	FOR round IN 1 .. 5 LOOP
		FOR kind IN SELECT k FROM generate_series(0, 11) k ORDER BY random() LOOP
			step := step + 1;
			INSERT INTO run
			SELECT step, pg_temp.random_change(kind),
				   (SELECT count(*) FROM custfocus.rollup_verify()),
				   CASE WHEN step % 10 = 0 THEN pg_temp.scorecard_differences() END;
		END LOOP;
	END LOOP;
END
$$;
-- every kind of change happened, and none left a difference
SELECT change, count(*) AS times, sum(verify_problems) AS verify_problems,
	   coalesce(sum(view_differences), 0) AS view_differences
  FROM run GROUP BY change ORDER BY change;
SELECT count(*) > 1000 AS enough_answers FROM custfocus.answer;
SELECT pg_temp.scorecard_differences() AS differences_at_the_end;

-- Compaction and rebuild change nothing the views show.  (Compacted first,
-- then new responses: each key they touch holds a row of response counts
-- and a row of answer states.)
SELECT custfocus.rollup_compact() >= 0 AS compacted_all;
SELECT pg_temp.add_responses(20);
SELECT count(*) > 0 AS has_uncompacted_keys FROM (
	SELECT FROM custfocus.rollup_service_month GROUP BY service_id, month HAVING count(*) > 1) k;
SELECT custfocus.rollup_compact() > 0 AS compacted;
SELECT count(*) AS uncompacted_keys FROM (
	SELECT FROM custfocus.rollup_service_month GROUP BY service_id, month HAVING count(*) > 1) k;
SELECT pg_temp.scorecard_differences() AS after_compaction, count(*) AS verify_problems FROM custfocus.rollup_verify();
SELECT custfocus.rollup_rebuild() > 0 AS rebuilt;
SELECT pg_temp.scorecard_differences() AS after_rebuild, count(*) AS verify_problems FROM custfocus.rollup_verify();

-- The reporting time zone decides the months: another zone, another
-- roll-up (rebuilt by the setting's change), the same as the reference.
UPDATE custfocus.setting SET reporting_time_zone = 'Pacific/Auckland';
SELECT pg_temp.scorecard_differences() AS other_time_zone, count(*) AS verify_problems FROM custfocus.rollup_verify();
-- ... whatever the session's TimeZone (a JDBC client sends its JVM's zone)
SET TimeZone = 'America/Chicago';
SELECT md5(string_agg(row(level, program_code, service_code, grain, period_start, responses, csat)::text, ',' ORDER BY 1)) AS chicago
  FROM custfocus.scorecard \gset
SET TimeZone = 'UTC';
SELECT md5(string_agg(row(level, program_code, service_code, grain, period_start, responses, csat)::text, ',' ORDER BY 1)) = :'chicago'
	   AS same_numbers_in_utc
  FROM custfocus.scorecard;
RESET TimeZone;

-- A filtered query (as a BI tile filters) reaches the roll-up's index, and
-- reads only that service's rows.
-- (Plans print differently across majors; the test reads what matters.)
CREATE FUNCTION pg_temp.plan(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) ' || q;
END
$$;
SET enable_seqscan = off;   -- the test tables are tiny; the index must be usable
SELECT bool_or(p ~ 'Index Scan.* on rollup_unit_period_\w+_idx') AS uses_roll_up_index,
	   bool_or(p ~ 'Seq Scan on rollup_unit_period') AS scans_whole_roll_up,
	   bool_or(p ~ 'Filter: .*service_code = ''RU_S1''') AS service_filter_pushed_down,
	   bool_or(p ~ 'answer|response') AS reads_answers
  FROM pg_temp.plan($$SELECT period_label, csat FROM custfocus.scorecard
					  WHERE service_code = 'RU_S1' AND grain = 'quarter'$$) AS p;
SELECT bool_or(p ~ 'Index Scan.* on rollup_unit_period_\w+_idx') AS uses_roll_up_index,
	   bool_or(p ~ 'Seq Scan on rollup_unit_period') AS scans_whole_roll_up
  FROM pg_temp.plan($$SELECT * FROM custfocus.satisfaction_trend WHERE service_code = 'RU_S1'$$) AS p;
RESET enable_seqscan;

-- A reader of one program, through the views: it sees that program's rows
-- only, and a function of its own in a WHERE clause is shown no other row
-- (the view is a security_barrier: the caller's quals run after its own).
CREATE ROLE regress_ru_reader;
SELECT custfocus.grant_access('regress_ru_reader', 'reader');
SELECT custfocus.grant_program_access('regress_ru_reader', 'RU_P1');
CREATE TEMP TABLE peeked (program text, service text);
GRANT INSERT ON peeked TO regress_ru_reader;
CREATE FUNCTION pg_temp.peek(program text, service text) RETURNS boolean
LANGUAGE plpgsql COST 0.0001 AS $$
BEGIN
	INSERT INTO pg_temp.peeked VALUES (program, service);
	RETURN true;
END
$$;
SET ROLE regress_ru_reader;
SELECT DISTINCT program_code, service_code FROM custfocus.scorecard ORDER BY 1, 2;
SELECT count(*) FROM custfocus.rollup_service_month;
SELECT count(*) > 0 AS rows_shown FROM custfocus.scorecard
 WHERE grain = 'year' AND pg_temp.peek(program_code, service_code);
RESET ROLE;
-- what the reader's function was shown
SELECT DISTINCT program, service FROM peeked ORDER BY 1, 2;
SET ROLE regress_ru_reader;
SELECT DISTINCT program_code, service_code FROM custfocus.satisfaction_trend ORDER BY 1, 2;
RESET ROLE;
DROP TABLE peeked;
SELECT custfocus.revoke_access('regress_ru_reader');
DELETE FROM custfocus.program_access WHERE role_name = 'regress_ru_reader';
DROP ROLE regress_ru_reader;

-- The roll-ups' maintenance is the admins': an admin made by grant_access
-- verifies, compacts and rebuilds; a reader and an analyst may not.
CREATE ROLE regress_ru_admin;
CREATE ROLE regress_ru_analyst;
SELECT custfocus.grant_access('regress_ru_admin', 'admin');
SELECT custfocus.grant_access('regress_ru_analyst', 'analyst');
SELECT custfocus.grant_program_access('regress_ru_analyst', 'RU_P1');
SET ROLE regress_ru_admin;
SELECT count(*) AS verify_problems FROM custfocus.rollup_verify();
SELECT custfocus.rollup_compact() >= 0 AS compacted, custfocus.rollup_rebuild() > 0 AS rebuilt;
UPDATE custfocus.setting SET reporting_time_zone = 'No/Such_Zone';
SET ROLE regress_ru_analyst;
SELECT count(*) FROM custfocus.rollup_verify();
SELECT custfocus.rollup_rebuild();
SELECT count(*) FROM custfocus.rollup_service_month;
-- ... while its own writes keep the roll-ups current through the triggers
UPDATE custfocus.response SET weight = 2
 WHERE service_id = (SELECT service_id FROM custfocus.service WHERE code = 'RU_S1');
RESET ROLE;
SELECT count(*) AS verify_problems_after_analyst FROM custfocus.rollup_verify();
SELECT custfocus.revoke_access('regress_ru_admin'), custfocus.revoke_access('regress_ru_analyst');
DELETE FROM custfocus.program_access WHERE role_name = 'regress_ru_analyst';
DROP ROLE regress_ru_admin, regress_ru_analyst;

UPDATE custfocus.setting SET min_responses = 10, reporting_time_zone = current_setting('TimeZone');
DELETE FROM custfocus.response WHERE survey_id IN (SELECT survey_id FROM custfocus.survey WHERE code LIKE 'ru-%');
DELETE FROM custfocus.item WHERE survey_id IN (SELECT survey_id FROM custfocus.survey WHERE code LIKE 'ru-%');
DELETE FROM custfocus.survey WHERE code LIKE 'ru-%';
DELETE FROM custfocus.service WHERE code LIKE 'RU_S%';
DELETE FROM custfocus.program WHERE code LIKE 'RU_P%';
DELETE FROM custfocus.program WHERE code LIKE 'RU_D%';
DELETE FROM custfocus.program WHERE code = 'RU_AG';
SELECT count(*) AS rollup_rows_left FROM custfocus.rollup_service_month;

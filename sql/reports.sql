-- The reports schema (issue 13, BI conventions): custfocus_reports holds
-- every view of custfocus and nothing else, so that a BI tool's navigator
-- pointed at it lists exactly what a reader can read; each view returns
-- what its custfocus namesake returns, to every kind of role; grant_access
-- and revoke_access cover it.
\set ON_ERROR_ROLLBACK on
\set VERBOSITY terse
\set responses 300
\set ECHO none
\i test/data/sample_agency.sql
\set ECHO all
\unset ON_ERROR_STOP
SET client_min_messages = warning;

-- The same views, columns, types and descriptions in both schemas.
SELECT coalesce(c.relname, r.relname) AS view, c.relname IS NULL AS missing_in_custfocus,
	   r.relname IS NULL AS missing_in_reports
  FROM (SELECT relname FROM pg_class WHERE relnamespace = 'custfocus'::regnamespace AND relkind = 'v') c
  FULL JOIN (SELECT relname FROM pg_class WHERE relnamespace = 'custfocus_reports'::regnamespace) r USING (relname)
 WHERE c.relname IS NULL OR r.relname IS NULL;
SELECT count(*) AS views, count(*) FILTER (WHERE c.relkind = 'v') AS of_which_views
  FROM pg_class c WHERE c.relnamespace = 'custfocus_reports'::regnamespace;
SELECT c.relname, a.attnum, a.attname
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
  JOIN pg_class r ON r.relnamespace = 'custfocus_reports'::regnamespace AND r.relname = c.relname
  LEFT JOIN pg_attribute b ON b.attrelid = r.oid AND b.attnum = a.attnum
 WHERE c.relnamespace = 'custfocus'::regnamespace AND c.relkind = 'v'
   AND (b.attname IS DISTINCT FROM a.attname OR b.atttypid IS DISTINCT FROM a.atttypid
		OR b.atttypmod IS DISTINCT FROM a.atttypmod
		OR col_description(r.oid, b.attnum) IS DISTINCT FROM col_description(c.oid, a.attnum));
SELECT count(*) AS views_without_the_description
  FROM pg_class c JOIN pg_class r ON r.relnamespace = 'custfocus_reports'::regnamespace AND r.relname = c.relname
 WHERE c.relnamespace = 'custfocus'::regnamespace AND c.relkind = 'v'
   AND obj_description(r.oid, 'pg_class') IS DISTINCT FROM obj_description(c.oid, 'pg_class');

-- A reader of one program, an analyst of another, an admin, and a role
-- granted nothing.
CREATE ROLE regress_rp_reader;
CREATE ROLE regress_rp_analyst;
CREATE ROLE regress_rp_admin;
CREATE ROLE regress_rp_nobody;
SELECT custfocus.grant_access('regress_rp_reader', 'reader'), custfocus.grant_program_access('regress_rp_reader', 'WIC');
SELECT custfocus.grant_access('regress_rp_analyst', 'analyst'), custfocus.grant_program_access('regress_rp_analyst', 'VITAL');
SELECT custfocus.grant_access('regress_rp_admin', 'admin');

-- What a navigator lists (pgjdbc's getTables, SQLAlchemy's get_table_names
-- and get_view_names read pg_class by schema, not by privilege): in
-- custfocus_reports, only what the role may select.
CREATE FUNCTION pg_temp.navigator(schema name)
RETURNS TABLE (listed bigint, readable bigint, tables bigint) LANGUAGE sql AS $$
	SELECT count(*), count(*) FILTER (WHERE has_table_privilege(c.oid, 'SELECT')),
		   count(*) FILTER (WHERE c.relkind IN ('r', 'p'))
	  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE n.nspname = schema AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
$$;
SET ROLE regress_rp_reader;
SELECT 'custfocus' AS schema, * FROM pg_temp.navigator('custfocus')
UNION ALL SELECT 'custfocus_reports', * FROM pg_temp.navigator('custfocus_reports');
RESET ROLE;

-- Every view of custfocus_reports returns what its namesake returns, row
-- for row, to each role.
CREATE FUNCTION pg_temp.differences() RETURNS TABLE (view name, rows bigint, differing bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v name;
BEGIN
	FOR v IN SELECT relname FROM pg_class WHERE relnamespace = 'custfocus_reports'::regnamespace ORDER BY 1 LOOP
		view := v;
		EXECUTE format('SELECT count(*) FROM custfocus_reports.%I', v) INTO rows;
		EXECUTE format('SELECT count(*) FROM ((SELECT * FROM custfocus.%1$I EXCEPT ALL SELECT * FROM custfocus_reports.%1$I)
											  UNION ALL
											  (SELECT * FROM custfocus_reports.%1$I EXCEPT ALL SELECT * FROM custfocus.%1$I)) d', v)
		  INTO differing;
		RETURN NEXT;
	END LOOP;
END
$$;
SET ROLE regress_rp_reader;
SELECT count(*) AS views, sum(differing) AS differing_rows, count(*) FILTER (WHERE rows > 0) AS views_with_rows
  FROM pg_temp.differences();
SELECT DISTINCT program_code FROM custfocus_reports.scorecard ORDER BY 1;
RESET ROLE;
SET ROLE regress_rp_analyst;
SELECT count(*) AS views, sum(differing) AS differing_rows FROM pg_temp.differences();
SELECT DISTINCT program_code FROM custfocus_reports.key_drivers ORDER BY 1;
RESET ROLE;
SET ROLE regress_rp_admin;
SELECT count(*) AS views, sum(differing) AS differing_rows FROM pg_temp.differences();
RESET ROLE;
SET ROLE regress_rp_nobody;
SELECT count(*) FROM custfocus_reports.scorecard;
RESET ROLE;

-- A function of the reader's own in a WHERE clause is shown only its rows.
CREATE TEMP TABLE peeked (program text);
GRANT INSERT ON peeked TO regress_rp_reader;
CREATE FUNCTION pg_temp.peek(program text) RETURNS boolean LANGUAGE plpgsql COST 0.0001 AS $$
BEGIN
	INSERT INTO pg_temp.peeked VALUES (program);
	RETURN true;
END
$$;
SET ROLE regress_rp_reader;
SELECT count(*) > 0 AS rows_shown FROM custfocus_reports.scorecard WHERE pg_temp.peek(program_code);
SELECT count(*) > 0 AS rows_shown FROM custfocus_reports.satisfaction_trend WHERE pg_temp.peek(program_code);
SELECT count(*) > 0 AS rows_shown FROM custfocus_reports.measure_status WHERE pg_temp.peek(program_code);
-- and so it is from the scorecard and the trend computed at read time
SET custfocus.live_reports = on;
SELECT count(*) > 0 AS rows_shown FROM custfocus_reports.scorecard WHERE pg_temp.peek(program_code);
SELECT count(*) > 0 AS rows_shown FROM custfocus_reports.satisfaction_trend WHERE pg_temp.peek(program_code);
RESET custfocus.live_reports;
RESET ROLE;
SELECT DISTINCT program FROM peeked ORDER BY 1;
-- and so is one that reads figures, not only codes (a function of the
-- figures alone can run where the published rows are read, before the
-- rule on the units joins them: found by a review); the reader sees
-- 93 scorecard and 93 trend rows, and its function nothing more
CREATE TEMP TABLE peeked_figures (view text, figure double precision);
GRANT INSERT ON peeked_figures TO regress_rp_reader;
CREATE FUNCTION pg_temp.peek_figure(view text, figure double precision) RETURNS boolean
LANGUAGE plpgsql COST 0.0001 AS $$
BEGIN
	INSERT INTO pg_temp.peeked_figures VALUES (view, figure);
	RETURN true;
END
$$;
SET ROLE regress_rp_reader;
SELECT count(*) AS rows FROM custfocus.scorecard WHERE pg_temp.peek_figure('scorecard', responses);
SELECT count(*) AS rows FROM custfocus.satisfaction_trend WHERE pg_temp.peek_figure('trend', n);
SELECT count(*) AS rows FROM custfocus.key_drivers WHERE pg_temp.peek_figure('key_drivers', n);
SELECT count(*) AS rows FROM custfocus.measure_status WHERE pg_temp.peek_figure('measure_status', n);
SELECT count(*) AS rows FROM custfocus.voc_themes WHERE pg_temp.peek_figure('voc_themes', documents);
SELECT count(*) AS opportunities FROM custfocus.improvement_opportunities WHERE pg_temp.peek_figure('opportunities', priority) \gset
SET custfocus.live_reports = on;
SELECT count(*) AS rows FROM custfocus.scorecard WHERE pg_temp.peek_figure('scorecard, live', responses);
SELECT count(*) AS rows FROM custfocus.satisfaction_trend WHERE pg_temp.peek_figure('trend, live', n);
SELECT count(*) AS opportunities_live FROM custfocus.improvement_opportunities WHERE pg_temp.peek_figure('opportunities, live', priority) \gset
RESET custfocus.live_reports;
RESET ROLE;
SELECT view, count(*) AS rows_shown FROM peeked_figures WHERE view NOT LIKE 'opportunities%' GROUP BY view ORDER BY view;
-- (the opportunities: as many as the rows the reader got, some)
SELECT :opportunities > 0 AND :opportunities = :opportunities_live AS some_rows,
	   count(*) FILTER (WHERE view = 'opportunities') = :opportunities
	   AND count(*) FILTER (WHERE view = 'opportunities, live') = :opportunities AS opportunities_shown_its_rows_only
  FROM peeked_figures;
DROP TABLE peeked_figures;

-- The published tables are the owner's alone: an analyst reads none and
-- writes none (found by a review: a grant on every table of the schema
-- gave analysts the published figures of every program, and the rows to
-- change), and row-level security without policies holds even a grant.
SET ROLE regress_rp_analyst;
SELECT count(*) FROM custfocus.report_scorecard;
UPDATE custfocus.report_scorecard SET csat = 99.9;
DELETE FROM custfocus.report_state;
SELECT count(*) FROM custfocus.report_themes;
SELECT count(*) FROM custfocus.report_feedback;
RESET ROLE;
SELECT c.relname, c.relrowsecurity, has_table_privilege('regress_rp_analyst', c.oid, 'SELECT') AS analyst_reads,
	   has_table_privilege('regress_rp_admin', c.oid, 'UPDATE') AS admin_writes
  FROM pg_class c
 WHERE c.relnamespace = 'custfocus'::regnamespace AND c.relkind = 'r' AND c.relname LIKE 'report\_%'
 ORDER BY 1;

-- The published figures are the owner's: a reader reads them through the
-- views only, and computes them at read time only as itself.
-- (SET SESSION AUTHORIZATION: logged in as the reader, not a superuser
-- who SET ROLE, since a session may compute for any role it could become)
SET SESSION AUTHORIZATION regress_rp_reader;
SELECT count(*) FROM custfocus.report_scorecard;
SELECT count(*) FROM custfocus.report_trend;
SELECT count(*) FROM custfocus.scorecard_live_rows('regress_rp_admin');
SELECT count(*) FROM custfocus.satisfaction_trend_live_rows('regress_rp_admin');
SELECT count(*) FROM custfocus.scorecard_compute();
SELECT count(*) FROM custfocus.report_verify();
-- the same rows, published or computed at read time
SELECT count(*) AS rows, md5(string_agg(s::text, '|' ORDER BY s::text)) AS rows_md5
  FROM custfocus.scorecard s \gset published_
SET custfocus.live_reports = on;
SELECT count(*) AS rows, md5(string_agg(s::text, '|' ORDER BY s::text)) = :'published_rows_md5' AS same_rows
  FROM custfocus.scorecard s;
RESET custfocus.live_reports;
RESET SESSION AUTHORIZATION;

-- The improvement opportunities, published (ranked by the rank published
-- among every program's rows, report_opportunities) or computed at read
-- time: the same rows, ranks and reasons, for the reader of one program
-- (ranked among its own rows: 1, 2, ...) and for the admin.  Figures
-- compared to 12 significant digits (a commit and a computation now may
-- merge the roll-up's states in another order).
CREATE FUNCTION pg_temp.opportunities_text() RETURNS text LANGUAGE sql AS $$
	SELECT md5(string_agg(concat_ws('|', o.rank, o.program_code, o.service_code, o.survey_code, o.requirement_code,
									o.importance_source, o.quadrant, o.n, o.open_actions, o.open_action_titles, o.reason,
									to_char(o.importance, '9.99999999999EEEE'), to_char(o.performance, '9.99999999999EEEE'),
									to_char(o.gap, '9.99999999999EEEE'), to_char(o.priority, '9.99999999999EEEE')),
						  E'\n' ORDER BY o.rank, o.service_code, o.requirement_code, o.survey_code))
	  FROM custfocus.improvement_opportunities o
$$;
GRANT EXECUTE ON FUNCTION pg_temp.opportunities_text() TO PUBLIC;
CREATE FUNCTION pg_temp.explain_lines(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q;
END
$$;
SET SESSION AUTHORIZATION regress_rp_reader;
SELECT count(*) AS rows, min(rank) AS first, max(rank) = count(*) AS ranked_among_its_rows,
	   bool_and(program_code = 'WIC') AS its_program_only, pg_temp.opportunities_text() AS published
  FROM custfocus.improvement_opportunities \gset reader_
SELECT :reader_rows > 0 AS rows, :reader_first AS first, :'reader_ranked_among_its_rows' AS ranked_among_its_rows,
	   :'reader_its_program_only' AS its_program_only;
SET custfocus.live_reports = on;
SELECT pg_temp.opportunities_text() = :'reader_published' AS same_computed;
RESET custfocus.live_reports;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_rp_admin;
SELECT pg_temp.opportunities_text() AS published \gset admin_
SET custfocus.live_reports = on;
SELECT pg_temp.opportunities_text() = :'admin_published' AS same_computed;
RESET custfocus.live_reports;
-- a BI tile's top 10 reads the published ranks and writes ten reasons
-- (once the publisher of the last commit is done: see src/publish.c)
SELECT custfocus.report_wait() AS publisher_done;
SELECT bool_or(p ~ 'Scan (using \w+ )?on report_opportunities') AS reads_published_ranks,
	   bool_or(p ~ 'Result \(actual rows=1(\.00)? loops=10\)') AS ten_reasons,
	   bool_or(p ~ 'Result \(actual rows=1(\.00)? loops=(1[1-9]|[2-9][0-9]|[0-9]{3,})\)') AS more_reasons
  FROM (SELECT t AS p FROM pg_temp.explain_lines('SELECT * FROM custfocus.improvement_opportunities ORDER BY rank LIMIT 10') t) e;
RESET SESSION AUTHORIZATION;

-- Ties in priority and gap rank by service code: two services with the same
-- answers tie, and renaming one reorders them; the published ranks follow
-- the rename (report_verify compares them with a ranking now).
-- (a copy of the service with the most opportunities, its requirements'
-- stated importance included)
SELECT s.service_id AS tie_source FROM custfocus.service s
  JOIN custfocus.improvement_opportunities o ON o.service_code = s.code
 GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1 \gset
INSERT INTO custfocus.service (program_id, code, name)
SELECT s.program_id, c, 'Tie ' || c FROM custfocus.service s CROSS JOIN unnest(ARRAY['TIE-A', 'TIE-B']) c
 WHERE s.service_id = :tie_source;
INSERT INTO custfocus.service_requirement (service_id, requirement_id, importance)
SELECT t.service_id, sr.requirement_id, sr.importance
  FROM custfocus.service_requirement sr
 CROSS JOIN (SELECT service_id FROM custfocus.service WHERE code IN ('TIE-A', 'TIE-B')) t
 WHERE sr.service_id = :tie_source;
CREATE TEMP TABLE tie_map AS
SELECT r.response_id AS old_id, t.service_id, nextval('custfocus.response_response_id_seq') AS new_id
  FROM custfocus.response r
 CROSS JOIN (SELECT service_id FROM custfocus.service WHERE code IN ('TIE-A', 'TIE-B')) t
 WHERE r.service_id = :tie_source;
INSERT INTO custfocus.response (response_id, survey_id, service_id, segment_id, submitted_at, weight)
SELECT m.new_id, r.survey_id, m.service_id, r.segment_id, r.submitted_at, r.weight
  FROM tie_map m JOIN custfocus.response r ON r.response_id = m.old_id;
INSERT INTO custfocus.answer (response_id, item_id, value, text_value)
SELECT m.new_id, a.item_id, a.value, a.text_value FROM tie_map m JOIN custfocus.answer a ON a.response_id = m.old_id;
CREATE FUNCTION pg_temp.tie_order() RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(service_code, ' before ' ORDER BY rank)
	  FROM (SELECT service_code, rank FROM custfocus.improvement_opportunities WHERE service_code LIKE 'TIE-%'
			 ORDER BY rank LIMIT 2) t
$$;
SELECT pg_temp.tie_order(), (SELECT count(*) FROM custfocus.report_verify()) AS verify_problems;
-- (renamed by the admin, as an agency renames a service)
SET SESSION AUTHORIZATION regress_rp_admin;
UPDATE custfocus.service SET code = 'TIE-C' WHERE code = 'TIE-A';
SELECT pg_temp.tie_order(), (SELECT count(*) FROM custfocus.report_verify()) AS verify_problems;
SET custfocus.live_reports = on;
SELECT pg_temp.tie_order() AS computed;
RESET custfocus.live_reports;
RESET SESSION AUTHORIZATION;
DELETE FROM custfocus.answer WHERE response_id IN (SELECT new_id FROM tie_map);
DELETE FROM custfocus.response WHERE response_id IN (SELECT new_id FROM tie_map);
DELETE FROM custfocus.service WHERE code LIKE 'TIE-%';
DROP TABLE tie_map;

-- revoke_access takes the reports schema back too.
SELECT custfocus.revoke_access('regress_rp_reader');
SET ROLE regress_rp_reader;
SELECT count(*) FROM custfocus_reports.scorecard;
RESET ROLE;
SELECT has_schema_privilege('regress_rp_reader', 'custfocus_reports', 'USAGE') AS usage_left;

-- Clean up.
SELECT custfocus.revoke_access(r::regrole)
  FROM unnest(ARRAY['regress_rp_analyst', 'regress_rp_admin']) r;
DELETE FROM custfocus.program_access WHERE role_name LIKE 'regress_rp_%';
DROP TABLE peeked;
DROP ROLE regress_rp_reader, regress_rp_analyst, regress_rp_admin, regress_rp_nobody;
TRUNCATE custfocus.program_access, custfocus.role_access, custfocus.answer, custfocus.respondent_contact, custfocus.response, custfocus.import_error,
		 custfocus.import_batch, custfocus.feedback, custfocus.improvement_action, custfocus.measure,
		 custfocus.engagement, custfocus.item, custfocus.survey, custfocus.service_requirement,
		 custfocus.service_segment, custfocus.requirement, custfocus.service, custfocus.segment;
DELETE FROM custfocus.scale_label WHERE NOT builtin;
DELETE FROM custfocus.scale WHERE NOT builtin;
DELETE FROM custfocus.program;

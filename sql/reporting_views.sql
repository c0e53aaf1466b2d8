-- The customer inventory, the data coverage, the feedback queue and the
-- voice-of-the-customer themes as inlinable security_barrier views (issue
-- 13), on the sample agency, as each kind of role:
--   * they show each role the rows the functions they replaced showed it
--     (those functions' bodies are kept below, as temporary functions, to
--     compare with), in the same order;
--   * a function of the reader's own in a WHERE clause is shown only the
--     reader's rows;
--   * a filter on a service or a program reaches the tables' indexes, and
--     the data coverage reads no answer;
--   * dates and ages are the reporting time zone's, whatever the session's;
--   * themes below the suppression floor are not shown.
\set ON_ERROR_ROLLBACK on
\set VERBOSITY terse
\set responses 600
\set ECHO none
\i test/data/sample_agency.sql
\set ECHO all
\unset ON_ERROR_STOP
SET client_min_messages = warning;
SELECT reporting_time_zone AS original_time_zone FROM custfocus.setting \gset

-- More of what the rules are about: segments owned by a program (readable
-- by the roles of that program and of the programs above and below it),
-- feedback about no service (for admins only), feedback closed at different
-- times, and a service of WIC whose only documents are three pieces of
-- feedback naming someone.
INSERT INTO custfocus.segment (code, name, relationship, kind, party, program_id)
SELECT v.code, v.name, 'customer', 'external', 'individual', p.program_id
  FROM (VALUES ('WIC-DADS', 'Fathers at WIC', 'WIC'), ('VR-FUNERAL', 'Funeral directors', 'VITAL'),
			   ('CFH-PARTNERS', 'Family health partners', 'CFH')) AS v (code, name, program)
  JOIN custfocus.program p ON p.code = v.program;
INSERT INTO custfocus.service_segment (service_id, segment_id, need)
SELECT s.service_id, g.segment_id, v.need
  FROM (VALUES ('WIC-CLINIC', 'WIC-DADS', 'support for fathers'),
			   ('VITAL-RECORDS', 'VR-FUNERAL', 'death certificates'),
			   ('WIC-ONLINE', 'CFH-PARTNERS', 'referrals')) AS v (service, segment, need)
  JOIN custfocus.service s ON s.code = v.service
  JOIN custfocus.segment g ON g.code = v.segment;
INSERT INTO custfocus.feedback (kind, body, service_id, received_at, status)
VALUES ('complaint', 'Nobody told me which office handles this', NULL, now() - interval '12 days', 'open'),
	   ('question', 'Where do I send the form?', NULL, now() - interval '40 days', 'closed'),
	   ('suggestion', 'One phone number for everything', NULL, now() - interval '3 days', 'acknowledged');
UPDATE custfocus.feedback SET closed_at = received_at + (feedback_id % 40) * interval '1 day 3 hours'
 WHERE status = 'closed';
INSERT INTO custfocus.service (program_id, code, name)
SELECT program_id, 'WIC-EVENTS', 'WIC community events' FROM custfocus.program WHERE code = 'WIC';
INSERT INTO custfocus.feedback (kind, body, service_id, received_at)
SELECT 'complaint', 'Zebulon Quimby at the fair was rude, visit ' || n, s.service_id, now() - n * interval '1 day'
  FROM generate_series(1, 3) n JOIN custfocus.service s ON s.code = 'WIC-EVENTS';
-- Responses near the edges of the windows, 90 days and a year ago give or
-- take half an hour (where a session's time zone, with daylight saving
-- changes of its own, would draw the edges elsewhere), and a day ago.
INSERT INTO custfocus.response (survey_id, service_id, submitted_at, external_id)
SELECT sv.survey_id, s.service_id, now() - v.ago, 'EDGE-' || s.code || '-' || v.n
  FROM (VALUES (1, interval '90 days 30 minutes'), (2, interval '89 days 23 hours 30 minutes'),
			   (3, interval '365 days 30 minutes'), (4, interval '1 day 30 minutes')) AS v (n, ago)
  JOIN custfocus.service s ON s.code IN ('FOOD-LICENSE', 'NEWBORN-RESULTS')
 CROSS JOIN custfocus.survey sv
 WHERE sv.code = 'cs2026' AND (s.code = 'NEWBORN-RESULTS' OR v.n <> 2);

CREATE ROLE regress_rv_reader;     -- reader of WIC
CREATE ROLE regress_rv_analyst;    -- analyst of Vital Records
CREATE ROLE regress_rv_division;   -- reader of the CFH division (WIC, Newborn Screening)
CREATE ROLE regress_rv_nobody;     -- reader granted no program
CREATE ROLE regress_rv_admin;      -- admin
SELECT custfocus.grant_access('regress_rv_reader', 'reader');
SELECT custfocus.grant_access('regress_rv_analyst', 'analyst');
SELECT custfocus.grant_access('regress_rv_division', 'reader');
SELECT custfocus.grant_access('regress_rv_nobody', 'reader');
SELECT custfocus.grant_access('regress_rv_admin', 'admin');
SELECT custfocus.grant_program_access('regress_rv_reader', 'WIC');
SELECT custfocus.grant_program_access('regress_rv_analyst', 'VITAL');
SELECT custfocus.grant_program_access('regress_rv_division', 'CFH');

-- The agency's reporting time zone (an admin's setting; it rebuilds the
-- roll-ups).
SET ROLE regress_rv_admin;
UPDATE custfocus.setting SET reporting_time_zone = 'America/Chicago';
RESET ROLE;

---------------------------------------------------------------------------
-- The same rows as before, for every role.
---------------------------------------------------------------------------
-- What the views were until 1.3: each a security_invoker view over a
-- SECURITY DEFINER function of the role (these are those functions' bodies,
-- run here by the superuser for the role asked about), with the session's
-- time zone for dates and ages (set to the reporting time zone below).
CREATE FUNCTION pg_temp.old_customer_inventory_rows(p_role name)
RETURNS TABLE (
	segment_code text, segment_name text, relationship text, kind text, party text,
	service_code text, service_name text, program_code text, program_name text, need text)
LANGUAGE sql STABLE
AS $$
	WITH v AS (SELECT custfocus.sees_all_programs(p_role) AS sees_all,
					  custfocus.visible_service_ids(p_role) AS services,
					  custfocus.readable_program_ids(p_role) AS readable)
	SELECT g.code, g.name, g.relationship, g.kind, g.party,
		   u.service_code, u.service_name, u.program_code, u.program_name, u.need
	  FROM v
	 CROSS JOIN custfocus.segment g
	  LEFT JOIN (SELECT ss.segment_id, s.code AS service_code, s.name AS service_name,
						p.code AS program_code, p.name AS program_name, ss.need
				   FROM v
				   JOIN custfocus.service_segment ss ON v.sees_all OR ss.service_id = ANY (v.services)
				   JOIN custfocus.service s ON s.service_id = ss.service_id
				   JOIN custfocus.program p ON p.program_id = s.program_id) u
			 ON u.segment_id = g.segment_id
	 WHERE v.sees_all OR g.program_id IS NULL OR g.program_id = ANY (v.readable)
	 ORDER BY g.code, u.service_code
$$;

CREATE FUNCTION pg_temp.old_data_coverage_rows(p_role name)
RETURNS TABLE (
	program_code text, program_name text, service_code text, service_name text, active boolean,
	surveys text, responses bigint, responses_last_90_days bigint,
	first_response timestamptz, last_response timestamptz, days_since_last_response integer,
	coverage text)
LANGUAGE sql STABLE
AS $$
	WITH v AS (SELECT custfocus.sees_all_programs(p_role) AS sees_all,
					  custfocus.visible_service_ids(p_role) AS services),
	r AS (
		SELECT r.service_id, count(*) AS responses,
			   count(*) FILTER (WHERE r.submitted_at >= pg_catalog.now() - interval '90 days') AS recent,
			   min(r.submitted_at) AS first_at, max(r.submitted_at) AS last_at,
			   string_agg(DISTINCT sv.code, ', ' ORDER BY sv.code) AS surveys
		  FROM v
		  JOIN custfocus.response r ON v.sees_all OR r.service_id = ANY (v.services)
		  JOIN custfocus.survey sv ON sv.survey_id = r.survey_id
		 WHERE r.service_id IS NOT NULL
		 GROUP BY r.service_id
	)
	SELECT p.code, p.name, s.code, s.name, s.active,
		   r.surveys, coalesce(r.responses, 0), coalesce(r.recent, 0),
		   r.first_at, r.last_at,
		   (CURRENT_DATE - r.last_at::date)::integer,
		   CASE WHEN r.responses IS NULL THEN 'none'
				WHEN r.last_at < pg_catalog.now() - interval '1 year' THEN 'stale'
				WHEN r.recent = 0 THEN 'lapsing'
				ELSE 'current' END
	  FROM v
	  JOIN custfocus.service s ON v.sees_all OR s.service_id = ANY (v.services)
	  JOIN custfocus.program p ON p.program_id = s.program_id
	  LEFT JOIN r ON r.service_id = s.service_id
	 ORDER BY p.code, s.code
$$;

CREATE FUNCTION pg_temp.old_feedback_queue_rows(p_role name)
RETURNS TABLE (
	feedback_id bigint, kind text, status text, owner text, received_at timestamptz,
	age_days integer, acknowledged_at timestamptz, program_code text, service_code text,
	channel text, body text,
	service_open bigint, service_closed_last_90_days bigint, service_median_days_to_close numeric)
LANGUAGE sql STABLE
AS $$
	WITH v AS (SELECT custfocus.sees_all_programs(p_role) AS sees_all,
					  custfocus.visible_service_ids(p_role) AS services),
	f AS (
		SELECT f.* FROM v
		  JOIN custfocus.feedback f ON v.sees_all OR f.service_id = ANY (v.services)
	),
	loop AS (
		SELECT f.service_id,
			   count(*) FILTER (WHERE f.status <> 'closed') AS open_count,
			   count(*) FILTER (WHERE f.closed_at >= pg_catalog.now() - interval '90 days') AS closed_recent,
			   round(percentile_cont(0.5) WITHIN GROUP (
					ORDER BY extract(epoch FROM f.closed_at - f.received_at) / 86400)::numeric, 1) AS median_days
		  FROM f
		 GROUP BY f.service_id
	)
	SELECT f.feedback_id, f.kind, f.status, f.owner, f.received_at,
		   (CURRENT_DATE - f.received_at::date)::integer,
		   f.acknowledged_at, p.code, s.code, f.channel, f.body,
		   l.open_count, l.closed_recent, l.median_days
	  FROM f
	  LEFT JOIN custfocus.service s ON s.service_id = f.service_id
	  LEFT JOIN custfocus.program p ON p.program_id = s.program_id
	  LEFT JOIN loop l ON l.service_id IS NOT DISTINCT FROM f.service_id
	 WHERE f.status <> 'closed'
	 ORDER BY f.received_at, f.feedback_id
$$;

CREATE FUNCTION pg_temp.old_voc_themes_rows(p_role name)
RETURNS TABLE (
	program_code text, service_code text, term text, documents bigint,
	feedback_documents bigint, answer_documents bigint, share_of_documents numeric,
	rank integer, example text)
LANGUAGE sql STABLE
AS $$
	WITH v AS (SELECT custfocus.sees_all_programs(p_role) AS sees_all,
					  custfocus.visible_service_ids(p_role) AS services),
	doc AS (
		SELECT f.service_id, 'feedback' AS source, f.body AS txt
		  FROM v JOIN custfocus.feedback f ON v.sees_all OR f.service_id = ANY (v.services)
		 WHERE f.service_id IS NOT NULL
		UNION ALL
		SELECT r.service_id, 'answer', a.text_value
		  FROM v
		  JOIN custfocus.response r ON v.sees_all OR r.service_id = ANY (v.services)
		  JOIN custfocus.answer a ON a.response_id = r.response_id
		 WHERE a.text_value IS NOT NULL AND r.service_id IS NOT NULL
	),
	term AS (
		SELECT d.service_id, t.lexeme, d.source, d.txt,
			   count(*) OVER (PARTITION BY d.service_id) AS service_documents
		  FROM doc d
		 CROSS JOIN LATERAL unnest(pg_catalog.tsvector_to_array(
				pg_catalog.to_tsvector('pg_catalog.english'::regconfig, d.txt))) AS t (lexeme)
	),
	docs AS (
		SELECT d.service_id, count(*) AS n FROM doc d GROUP BY d.service_id
	),
	counted AS (
		SELECT t.service_id, t.lexeme, count(*) AS documents,
			   count(*) FILTER (WHERE t.source = 'feedback') AS feedback_documents,
			   count(*) FILTER (WHERE t.source = 'answer') AS answer_documents,
			   min(t.txt) AS example
		  FROM term t
		 GROUP BY t.service_id, t.lexeme
		HAVING count(*) >= (SELECT custfocus.min_responses())
	),
	ranked AS (
		SELECT c.*, rank() OVER (PARTITION BY c.service_id ORDER BY c.documents DESC, c.lexeme)::integer AS rnk
		  FROM counted c
	)
	SELECT p.code, s.code, x.lexeme, x.documents, x.feedback_documents, x.answer_documents,
		   round(100.0 * x.documents / d.n, 1), x.rnk, x.example
	  FROM ranked x
	  JOIN docs d ON d.service_id = x.service_id
	  JOIN custfocus.service s ON s.service_id = x.service_id
	  JOIN custfocus.program p ON p.program_id = s.program_id
	 WHERE x.rnk <= 20
	 ORDER BY p.code, s.code, x.rnk
$$;

-- Each old view's rows, in their order, as one digest per role and view
-- (the old views cast two columns to a stated scale).
CREATE FUNCTION pg_temp.old_digest(p_view text, p_role name, OUT digest text, OUT n bigint)
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format($q$SELECT coalesce(md5(string_agg(o::text, E'\n')), 'none'), count(*) FROM (%s) o$q$,
		CASE p_view
		WHEN 'customer_inventory' THEN format('SELECT * FROM pg_temp.old_customer_inventory_rows(%L)', p_role)
		WHEN 'data_coverage' THEN format('SELECT * FROM pg_temp.old_data_coverage_rows(%L)', p_role)
		WHEN 'feedback_queue' THEN format(
			'SELECT f.feedback_id, f.kind, f.status, f.owner, f.received_at, f.age_days, f.acknowledged_at,
					f.program_code, f.service_code, f.channel, f.body, f.service_open, f.service_closed_last_90_days,
					f.service_median_days_to_close::numeric(8,1) AS service_median_days_to_close
			   FROM pg_temp.old_feedback_queue_rows(%L) f', p_role)
		WHEN 'voc_themes' THEN format(
			'SELECT t.program_code, t.service_code, t.term, t.documents, t.feedback_documents, t.answer_documents,
					t.share_of_documents::numeric(4,1) AS share_of_documents, t.rank, t.example
			   FROM pg_temp.old_voc_themes_rows(%L) t', p_role)
		END) INTO digest, n;
END
$$;
-- The new views' rows, as the calling role, against the old digests of
-- that role: the same rows in the same order.
CREATE FUNCTION pg_temp.compare_as_caller(p_as text DEFAULT current_user)
RETURNS TABLE (view text, rows bigint, same_rows boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v text;
	d text;
BEGIN
	FOREACH v IN ARRAY ARRAY['customer_inventory', 'data_coverage', 'feedback_queue', 'voc_themes'] LOOP
		EXECUTE format($q$SELECT coalesce(md5(string_agg(v::text, E'\n')), 'none'), count(*) FROM custfocus.%I v$q$, v)
			INTO d, rows;
		view := v;
		SELECT o.digest = d AND o.n = rows INTO same_rows FROM old_digest o WHERE o.role = p_as AND o.view = v;
		RETURN NEXT;
	END LOOP;
END
$$;

-- In one transaction (one now() for both), with the session's time zone
-- that of the reporting time zone, and a floor of 3 (so that the themes
-- show terms of every service, below the floor of 10 too).
UPDATE custfocus.setting SET min_responses = 3;
BEGIN;
SET LOCAL TimeZone = 'America/Chicago';
CREATE TEMP TABLE old_digest ON COMMIT DROP AS
SELECT r.role, v.view, d.digest, d.n
  FROM unnest(ARRAY['regress_rv_reader', 'regress_rv_analyst', 'regress_rv_division', 'regress_rv_nobody',
					'regress_rv_admin', current_user]::name[]) AS r (role)
 CROSS JOIN unnest(ARRAY['customer_inventory', 'data_coverage', 'feedback_queue', 'voc_themes']) AS v (view)
 CROSS JOIN LATERAL pg_temp.old_digest(v.view, r.role) d;
GRANT SELECT ON old_digest TO PUBLIC;
-- as the superuser
SELECT * FROM pg_temp.compare_as_caller();
SET ROLE regress_rv_admin;
SELECT * FROM pg_temp.compare_as_caller();
RESET ROLE;
SET ROLE regress_rv_reader;
SELECT * FROM pg_temp.compare_as_caller();
RESET ROLE;
SET ROLE regress_rv_analyst;
SELECT * FROM pg_temp.compare_as_caller();
RESET ROLE;
SET ROLE regress_rv_division;
SELECT * FROM pg_temp.compare_as_caller();
RESET ROLE;
SET ROLE regress_rv_nobody;
SELECT * FROM pg_temp.compare_as_caller();
RESET ROLE;
-- and with the floor of 10: the themes the old view showed
UPDATE custfocus.setting SET min_responses = 10;
DELETE FROM old_digest WHERE view = 'voc_themes';
INSERT INTO old_digest
SELECT r.role, 'voc_themes', d.digest, d.n
  FROM unnest(ARRAY['regress_rv_reader', 'regress_rv_admin']::name[]) AS r (role)
 CROSS JOIN LATERAL pg_temp.old_digest('voc_themes', r.role) d;
SET ROLE regress_rv_admin;
SELECT * FROM pg_temp.compare_as_caller() WHERE view = 'voc_themes';
RESET ROLE;
SET ROLE regress_rv_reader;
SELECT * FROM pg_temp.compare_as_caller() WHERE view = 'voc_themes';
RESET ROLE;
COMMIT;
UPDATE custfocus.setting SET min_responses = 3;

-- The themes are published when their documents change: after each of
-- these commits the published themes equal a computation from the
-- documents (report_verify), and the view shows the change.
CREATE FUNCTION pg_temp.theme_problems() RETURNS bigint LANGUAGE sql AS $$
	SELECT count(*) FROM custfocus.report_verify() WHERE view_name = 'voc_themes'
$$;
INSERT INTO custfocus.feedback (kind, body, service_id)
SELECT 'complaint', 'The xylophone music on hold was loud, call ' || n, s.service_id
  FROM generate_series(1, 4) n JOIN custfocus.service s ON s.code = 'WIC-EVENTS';
SELECT pg_temp.theme_problems() AS after_feedback_added,
	   (SELECT documents FROM custfocus.voc_themes WHERE service_code = 'WIC-EVENTS' AND term = 'xylophon') AS xylophone;
UPDATE custfocus.feedback SET service_id = (SELECT service_id FROM custfocus.service WHERE code = 'WIC-CLINIC')
 WHERE body LIKE 'The xylophone%' AND body LIKE '%call 1';
SELECT pg_temp.theme_problems() AS after_feedback_moved,
	   (SELECT documents FROM custfocus.voc_themes WHERE service_code = 'WIC-EVENTS' AND term = 'xylophon') AS xylophone;
UPDATE custfocus.feedback SET body = 'Fine (test)' WHERE body LIKE 'The xylophone%' AND body LIKE '%call 2';
SELECT pg_temp.theme_problems() AS after_body_changed;
DELETE FROM custfocus.feedback WHERE body LIKE 'The xylophone%' OR body = 'Fine (test)';
SELECT pg_temp.theme_problems() AS after_feedback_deleted,
	   (SELECT count(*) FROM custfocus.voc_themes WHERE term = 'xylophon') AS xylophone_rows;
-- free-text answers: added, changed, their response moved, deleted
INSERT INTO custfocus.answer (response_id, item_id, text_value)
SELECT r.response_id, i.item_id, 'The zucchini stand was great'
  FROM custfocus.response r JOIN custfocus.item i ON i.survey_id = r.survey_id AND i.scale_id IS NULL
 WHERE r.service_id = (SELECT service_id FROM custfocus.service WHERE code = 'FOOD-LICENSE')
   AND NOT EXISTS (SELECT FROM custfocus.answer a WHERE a.response_id = r.response_id AND a.item_id = i.item_id)
 ORDER BY r.response_id LIMIT 4;
SELECT pg_temp.theme_problems() AS after_answers_added,
	   (SELECT documents FROM custfocus.voc_themes WHERE service_code = 'FOOD-LICENSE' AND term = 'zucchini') AS zucchini;
UPDATE custfocus.answer SET text_value = 'Good' WHERE text_value = 'The zucchini stand was great'
   AND response_id = (SELECT min(response_id) FROM custfocus.answer WHERE text_value = 'The zucchini stand was great');
SELECT pg_temp.theme_problems() AS after_answer_changed;
UPDATE custfocus.response SET service_id = (SELECT service_id FROM custfocus.service WHERE code = 'FOOD-INSPECT')
 WHERE response_id = (SELECT min(response_id) FROM custfocus.answer WHERE text_value = 'The zucchini stand was great');
SELECT pg_temp.theme_problems() AS after_response_moved;
DELETE FROM custfocus.response
 WHERE response_id = (SELECT min(response_id) FROM custfocus.answer WHERE text_value = 'The zucchini stand was great');
SELECT pg_temp.theme_problems() AS after_response_deleted;
DELETE FROM custfocus.answer WHERE text_value = 'The zucchini stand was great';
SELECT pg_temp.theme_problems() AS after_answers_deleted,
	   (SELECT count(*) FROM custfocus.voc_themes WHERE term = 'zucchini') AS zucchini_rows;

-- The queue's closed-loop figures are published when the feedback changes
-- (report_feedback): after each of these commits they equal a computation
-- (report_verify), and the queue as the reader and as the admin reads it
-- equals the computation of 1.3 from the raw feedback, now.
CREATE FUNCTION pg_temp.queue_digest_old(p_role name) RETURNS text LANGUAGE sql AS $$
	SELECT coalesce(md5(string_agg(row(o.feedback_id, o.service_code, o.service_open, o.service_closed_last_90_days,
									   o.service_median_days_to_close::numeric(8,1))::text, ',' ORDER BY o.feedback_id)), 'none')
	  FROM pg_temp.old_feedback_queue_rows(p_role) o
$$;
CREATE FUNCTION pg_temp.queue_digest() RETURNS text LANGUAGE sql AS $$
	SELECT coalesce(md5(string_agg(row(v.feedback_id, v.service_code, v.service_open, v.service_closed_last_90_days,
									   v.service_median_days_to_close)::text, ',' ORDER BY v.feedback_id)), 'none')
	  FROM custfocus.feedback_queue v
$$;
CREATE FUNCTION pg_temp.queue_check()
RETURNS TABLE (verify_problems bigint, published boolean, reader_same boolean, analyst_same boolean,
			   admin_same boolean)
LANGUAGE plpgsql AS $$
DECLARE
	v_reader text := pg_temp.queue_digest_old('regress_rv_reader');
	v_analyst text := pg_temp.queue_digest_old('regress_rv_analyst');
	v_admin text := pg_temp.queue_digest_old('regress_rv_admin');
	d text;
BEGIN
	verify_problems := (SELECT count(*) FROM custfocus.report_verify() WHERE view_name = 'feedback_queue');
	published := custfocus.report_published();
	SET ROLE regress_rv_reader;
	d := pg_temp.queue_digest();
	RESET ROLE;
	reader_same := d = v_reader;
	SET ROLE regress_rv_analyst;
	d := pg_temp.queue_digest();
	RESET ROLE;
	analyst_same := d = v_analyst;
	SET ROLE regress_rv_admin;
	d := pg_temp.queue_digest();
	RESET ROLE;
	admin_same := d = v_admin;
	RETURN NEXT;
END
$$;
SELECT 'before' AS step, * FROM pg_temp.queue_check();
INSERT INTO custfocus.feedback (kind, body, service_id, received_at)
SELECT 'complaint', 'Queue test ' || n, CASE WHEN n % 3 = 0 THEN NULL ELSE s.service_id END, now() - n * interval '2 days'
  FROM generate_series(1, 9) n JOIN custfocus.service s ON s.code = 'WIC-CLINIC';
SELECT 'added' AS step, * FROM pg_temp.queue_check();
UPDATE custfocus.feedback SET status = 'closed' WHERE body LIKE 'Queue test %' AND body <> 'Queue test 1';
SELECT 'closed' AS step, * FROM pg_temp.queue_check();
UPDATE custfocus.feedback SET status = 'open' WHERE body IN ('Queue test 2', 'Queue test 3');
SELECT 'reopened' AS step, * FROM pg_temp.queue_check();
UPDATE custfocus.feedback SET service_id = (SELECT service_id FROM custfocus.service WHERE code = 'VITAL-RECORDS')
 WHERE body IN ('Queue test 1', 'Queue test 4', 'Queue test 6');
SELECT 'moved' AS step, * FROM pg_temp.queue_check();
-- the analyst of Vital Records closes one and records another, as program
-- staff do: published by its own commits, as its role
SET ROLE regress_rv_analyst;
UPDATE custfocus.feedback SET status = 'closed' WHERE body = 'Queue test 1';
INSERT INTO custfocus.feedback (kind, body, service_id)
SELECT 'question', 'Queue test 10', service_id FROM custfocus.service WHERE code = 'VITAL-RECORDS';
SELECT service_open, service_closed_last_90_days FROM custfocus.feedback_queue WHERE body = 'Queue test 10';
RESET ROLE;
SELECT 'by the analyst' AS step, * FROM pg_temp.queue_check();
UPDATE custfocus.feedback SET received_at = received_at - interval '30 days' WHERE body LIKE 'Queue test %';
SELECT 'received earlier' AS step, * FROM pg_temp.queue_check();
DELETE FROM custfocus.feedback WHERE body IN ('Queue test 5', 'Queue test 9');
SELECT 'deleted' AS step, * FROM pg_temp.queue_check();
-- in the transaction that changed feedback, the queue shows the change
-- before it commits (computed, not published)
BEGIN;
SELECT service_open AS open_before FROM custfocus.feedback_queue WHERE service_code = 'WIC-CLINIC' LIMIT 1 \gset
UPDATE custfocus.feedback SET status = 'closed' WHERE body = 'Queue test 2';
SELECT 'uncommitted' AS step, * FROM pg_temp.queue_check();
SELECT service_open = :open_before - 1 AS one_fewer_open FROM custfocus.feedback_queue WHERE service_code = 'WIC-CLINIC' LIMIT 1;
ROLLBACK;
DELETE FROM custfocus.feedback WHERE body LIKE 'Queue test %';
SELECT 'cleaned up' AS step, * FROM pg_temp.queue_check();

-- What each role sees, in short: the reader and the analyst only their
-- program's services, feedback and themes, and the segments of their
-- program, the programs above and below it and the agency's; admins the
-- feedback about no service too; a reader without programs the agency-wide
-- segments alone.
CREATE FUNCTION pg_temp.seen() RETURNS TABLE (view text, programs text, segments text)
LANGUAGE sql AS $$
	SELECT 'customer_inventory', string_agg(DISTINCT coalesce(program_code, '-'), ' ' ORDER BY coalesce(program_code, '-')),
		   string_agg(DISTINCT segment_code, ' ' ORDER BY segment_code) FILTER (WHERE segment_code IN ('WIC-DADS', 'VR-FUNERAL', 'CFH-PARTNERS'))
	  FROM custfocus.customer_inventory
	UNION ALL
	SELECT 'data_coverage', string_agg(DISTINCT program_code, ' ' ORDER BY program_code), NULL FROM custfocus.data_coverage
	UNION ALL
	SELECT 'feedback_queue', string_agg(DISTINCT coalesce(program_code, '-'), ' ' ORDER BY coalesce(program_code, '-')), NULL
	  FROM custfocus.feedback_queue
	UNION ALL
	SELECT 'voc_themes', string_agg(DISTINCT program_code, ' ' ORDER BY program_code), NULL FROM custfocus.voc_themes
$$;
SET ROLE regress_rv_reader;
SELECT * FROM pg_temp.seen();
RESET ROLE;
SET ROLE regress_rv_analyst;
SELECT * FROM pg_temp.seen();
RESET ROLE;
SET ROLE regress_rv_nobody;
SELECT * FROM pg_temp.seen();
RESET ROLE;
SET ROLE regress_rv_admin;
SELECT * FROM pg_temp.seen();
RESET ROLE;
-- ... and a reader reads none of the tables behind the views.
SET ROLE regress_rv_reader;
SELECT count(*) FROM custfocus.response;
SELECT count(*) FROM custfocus.feedback;
SELECT count(*) FROM custfocus.rollup_service_month;
RESET ROLE;

---------------------------------------------------------------------------
-- A function of the reader's in a WHERE clause sees only the reader's rows.
---------------------------------------------------------------------------
-- It is cheap (so the planner would run it first if it could) and not
-- leakproof, and records every row it is shown; the security_barrier views
-- apply their own rules first.
CREATE TEMP TABLE peeked (view text, program text, segment text);
GRANT INSERT ON peeked TO regress_rv_reader;
CREATE FUNCTION pg_temp.peek(view text, program text, segment text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql COST 0.0001 AS $$
BEGIN
	INSERT INTO pg_temp.peeked VALUES (view, program, segment);
	RETURN true;
END
$$;
SET ROLE regress_rv_reader;
SELECT count(*) AS inventory_rows FROM custfocus.customer_inventory
 WHERE pg_temp.peek('customer_inventory', program_code, segment_code);
SELECT count(*) AS coverage_rows FROM custfocus.data_coverage WHERE pg_temp.peek('data_coverage', program_code);
SELECT count(*) AS queue_rows FROM custfocus.feedback_queue WHERE pg_temp.peek('feedback_queue', program_code);
SELECT count(*) AS theme_rows FROM custfocus.voc_themes WHERE pg_temp.peek('voc_themes', program_code);
-- with a filter the planner pushes down beside it
SELECT count(*) AS coverage_rows FROM custfocus.data_coverage
 WHERE service_code = 'WIC-CLINIC' AND pg_temp.peek('data_coverage, one service', program_code);
RESET ROLE;
-- what the reader's function was shown: WIC's rows, and segments it may read
SELECT view, count(*) AS rows_shown, string_agg(DISTINCT coalesce(program, '-'), ' ') AS programs,
	   count(*) FILTER (WHERE segment IN ('VR-FUNERAL')) AS other_programs_segments
  FROM peeked GROUP BY view ORDER BY view;
DROP TABLE peeked;

---------------------------------------------------------------------------
-- A filter on a service or a program reaches the tables' indexes.
---------------------------------------------------------------------------
-- (Plans print differently across majors; the test reads what matters.  A
-- filter pushed into the view is applied to the service or program table
-- itself, "code = ..."; one applied after the view would name the view's
-- column, "service_code = ...".)
CREATE FUNCTION pg_temp.plan(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) ' || q;
END
$$;
-- The statistics the plans are made with are taken in a transaction that
-- is rolled back, so that the tests after this one plan as they did.
BEGIN;
ANALYZE custfocus.program, custfocus.service, custfocus.segment, custfocus.service_segment, custfocus.survey,
		custfocus.response, custfocus.answer, custfocus.feedback, custfocus.rollup_service_month;
SET LOCAL enable_seqscan = off;   -- the test tables are tiny; the indexes must be usable
SET LOCAL ROLE regress_rv_reader;
SELECT bool_or(p ~ '[^_]code = ''WIC-CLINIC''') AS service_filter_pushed_down,
	   bool_or(p ~ 'service_code = ''WIC-CLINIC''') AS filtered_after_the_view,
	   bool_or(p ~ 'response_service_submitted_idx') AS response_index,
	   bool_or(p ~ 'rollup_service_month_key_idx') AS roll_up_index,
	   bool_or(p ~ 'response_external_id_key') AS survey_probes,
	   bool_or(p ~ 'Seq Scan on response') AS scans_responses,
	   bool_or(p ~ ' on answer') AS reads_answers
  FROM pg_temp.plan($$SELECT * FROM custfocus.data_coverage WHERE service_code = 'WIC-CLINIC'$$) AS p;
SELECT bool_or(p ~ '[^_]code = ''WIC''') AS program_filter_pushed_down,
	   bool_or(p ~ 'program_code = ''WIC''') AS filtered_after_the_view,
	   bool_or(p ~ ' on answer') AS reads_answers
  FROM pg_temp.plan($$SELECT * FROM custfocus.data_coverage WHERE program_code = 'WIC'$$) AS p;
SELECT bool_or(p ~ '[^_]code = ''WIC-CLINIC''') AS service_filter_pushed_down,
	   bool_or(p ~ 'service_code = ''WIC-CLINIC''') AS filtered_after_the_view,
	   bool_or(p ~ 'feedback_service_id_idx') AS feedback_index
  FROM pg_temp.plan($$SELECT * FROM custfocus.feedback_queue WHERE service_code = 'WIC-CLINIC'$$) AS p;
-- (the closed-loop figures are published: a service's row, the count of
-- the last 90 days through feedback_closed_idx; the computation's read of
-- the service's feedback, alias lg in the view, never runs)
-- (after the publisher of the last commit of feedback: see src/publish.c)
SELECT custfocus.report_wait() AS publisher_done;
CREATE FUNCTION pg_temp.plan_run(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q;
END
$$;
SELECT bool_or(p ~ 'report_feedback') AS published_figures,
	   bool_or(p ~ 'feedback_closed_idx') AS recent_through_index,
	   bool_and(p !~ ' on feedback lg\M' OR p ~ 'never executed') AS feedback_not_grouped
  FROM pg_temp.plan_run($$SELECT * FROM custfocus.feedback_queue WHERE service_code = 'WIC-CLINIC'$$) AS p;
-- (the themes are published at commit: read by the service's key, no answer)
SELECT bool_or(p ~ '[^_]code = ''WIC-CLINIC''') AS service_filter_pushed_down,
	   bool_or(p ~ 'service_code = ''WIC-CLINIC''') AS filtered_after_the_view,
	   bool_or(p ~ 'report_themes_pkey') AS published_key,
	   bool_or(p ~ ' on answer\M') AS reads_answers
  FROM pg_temp.plan($$SELECT term, documents FROM custfocus.voc_themes WHERE service_code = 'WIC-CLINIC'$$) AS p;
SELECT bool_or(p ~ '[^_]code = ''WIC''') AS program_filter_pushed_down,
	   bool_or(p ~ 'program_code = ''WIC''') AS filtered_after_the_view
  FROM pg_temp.plan($$SELECT term, documents FROM custfocus.voc_themes WHERE program_code = 'WIC'$$) AS p;
SELECT bool_or(p ~ '[^_]code = ''WIC-CLINIC''') AS service_filter_pushed_down,
	   bool_or(p ~ 'service_code = ''WIC-CLINIC''') AS filtered_after_the_view
  FROM pg_temp.plan($$SELECT * FROM custfocus.customer_inventory WHERE service_code = 'WIC-CLINIC'$$) AS p;
-- read whole, the themes read no answer either
SELECT bool_or(p ~ ' on answer\M') AS reads_answers,
	   bool_or(p ~ 'report_themes') AS reads_published
  FROM pg_temp.plan($$SELECT * FROM custfocus.voc_themes$$) AS p;
ROLLBACK;
-- the filtered rows are those of the whole view
SET ROLE regress_rv_reader;
SELECT (SELECT md5(string_agg(v::text, ',')) FROM custfocus.voc_themes v WHERE service_code = 'WIC-CLINIC')
	 = (SELECT md5(string_agg(v::text, ',')) FROM (SELECT * FROM custfocus.voc_themes OFFSET 0) v
		 WHERE service_code = 'WIC-CLINIC') AS same_themes,
	   (SELECT md5(string_agg(v::text, ',')) FROM custfocus.feedback_queue v WHERE service_code = 'WIC-CLINIC')
	 = (SELECT md5(string_agg(v::text, ',')) FROM (SELECT * FROM custfocus.feedback_queue OFFSET 0) v
		 WHERE service_code = 'WIC-CLINIC') AS same_queue,
	   (SELECT md5(string_agg(v::text, ',')) FROM custfocus.data_coverage v WHERE program_code = 'WIC')
	 = (SELECT md5(string_agg(v::text, ',')) FROM (SELECT * FROM custfocus.data_coverage OFFSET 0) v
		 WHERE program_code = 'WIC') AS same_coverage;
RESET ROLE;

---------------------------------------------------------------------------
-- Dates and ages are the reporting time zone's, whatever the session's.
---------------------------------------------------------------------------
-- The figures that depend on the date, as the admin, in one transaction
-- (one now()), under three session time zones: the same numbers.
CREATE FUNCTION pg_temp.dated() RETURNS text LANGUAGE sql AS $$
	SELECT md5((SELECT string_agg(row(service_code, responses_last_90_days, days_since_last_response, coverage,
									  extract(epoch FROM first_response), extract(epoch FROM last_response))::text, ',')
				  FROM custfocus.data_coverage)
			   || (SELECT string_agg(row(feedback_id, age_days, service_closed_last_90_days, extract(epoch FROM received_at))::text, ',')
					 FROM custfocus.feedback_queue))
$$;
BEGIN;
SET LOCAL ROLE regress_rv_admin;
SET LOCAL TimeZone = 'America/Chicago';
SELECT pg_temp.dated() AS reporting_zone \gset
SET LOCAL TimeZone = 'Pacific/Auckland';
SELECT pg_temp.dated() = :'reporting_zone' AS same_in_auckland;
SET LOCAL TimeZone = 'UTC';
SELECT pg_temp.dated() = :'reporting_zone' AS same_in_utc;
COMMIT;
-- ... and they are the reporting time zone's days and windows, computed
-- here from the raw rows (as the superuser, in a session in Auckland).
BEGIN;
SET LOCAL TimeZone = 'Pacific/Auckland';
SELECT bool_and(d.days_since_last_response IS NOT DISTINCT FROM
				timezone('America/Chicago', now())::date - timezone('America/Chicago', d.last_response)::date)
		   AS days_since_in_chicago,
	   bool_and(d.responses_last_90_days =
				(SELECT count(*) FROM custfocus.response r JOIN custfocus.service s USING (service_id)
				  WHERE s.code = d.service_code
					AND r.submitted_at >= timezone('America/Chicago', timezone('America/Chicago', now()) - interval '90 days')))
		   AS last_90_days_in_chicago,
	   bool_and(d.coverage = CASE WHEN d.last_response IS NULL THEN 'none'
								  WHEN d.last_response < timezone('America/Chicago', timezone('America/Chicago', now()) - interval '1 year')
								  THEN 'stale'
								  WHEN d.responses_last_90_days = 0 THEN 'lapsing' ELSE 'current' END) AS coverage_in_chicago,
	   count(*) FILTER (WHERE d.service_code IN ('FOOD-LICENSE', 'NEWBORN-RESULTS')) AS edge_services
  FROM custfocus.data_coverage d;
SELECT bool_and(q.age_days = timezone('America/Chicago', now())::date - timezone('America/Chicago', q.received_at)::date)
		   AS age_in_chicago,
	   bool_and(q.service_closed_last_90_days =
				(SELECT count(*) FROM custfocus.feedback f
				  WHERE f.service_id IS NOT DISTINCT FROM (SELECT s.service_id FROM custfocus.service s WHERE s.code = q.service_code)
					AND f.closed_at >= timezone('America/Chicago', timezone('America/Chicago', now()) - interval '90 days')))
		   AS closed_in_chicago
  FROM custfocus.feedback_queue q;
COMMIT;

---------------------------------------------------------------------------
-- Themes below the suppression floor are not shown.
---------------------------------------------------------------------------
-- "Zebulon Quimby" is in the 3 documents of WIC-EVENTS: shown at a floor
-- of 3 (with "fair", "rude" and "visit"; the numbers are in one document
-- each), not at the agency's 10, nor when a session raises the floor to 4,
-- nor when a reader asks for 0; no theme shown has fewer documents than the
-- floor.
SET ROLE regress_rv_reader;
SELECT custfocus.min_responses() AS floor, count(*) FILTER (WHERE term IN ('zebulon', 'quimbi')) AS quimby_terms,
	   coalesce(min(documents) >= custfocus.min_responses(), true) AS none_below_floor
  FROM custfocus.voc_themes;
SET custfocus.min_responses = 4;
SELECT custfocus.min_responses() AS floor, count(*) FILTER (WHERE term IN ('zebulon', 'quimbi')) AS quimby_terms,
	   coalesce(min(documents) >= custfocus.min_responses(), true) AS none_below_floor
  FROM custfocus.voc_themes;
RESET custfocus.min_responses;
RESET ROLE;
SET ROLE regress_rv_admin;
UPDATE custfocus.setting SET min_responses = DEFAULT;
RESET ROLE;
SET ROLE regress_rv_reader;
SET custfocus.min_responses = 0;
SELECT custfocus.min_responses() AS floor, count(*) FILTER (WHERE term IN ('zebulon', 'quimbi')) AS quimby_terms,
	   count(*) FILTER (WHERE example LIKE '%Quimby%') AS quimby_examples,
	   coalesce(min(documents) >= custfocus.min_responses(), true) AS none_below_floor, count(*) > 0 AS some_themes
  FROM custfocus.voc_themes;
-- even filtered on the service and a pattern of the term (the floor is
-- applied in the view, before the caller's filters)
SELECT count(*) AS quimby_rows FROM custfocus.voc_themes
 WHERE service_code = 'WIC-EVENTS' AND term LIKE 'quimb%';
RESET custfocus.min_responses;
RESET ROLE;

-- Clean up: roles, the settings, and the sample data (other tests start
-- from empty tables).
UPDATE custfocus.setting SET reporting_time_zone = :'original_time_zone', min_responses = DEFAULT,
	   updated_at = NULL, updated_by = NULL;
SELECT custfocus.revoke_access(r::regrole)
  FROM unnest(ARRAY['regress_rv_reader', 'regress_rv_analyst', 'regress_rv_division', 'regress_rv_nobody',
					'regress_rv_admin']) r;
DROP ROLE regress_rv_reader, regress_rv_analyst, regress_rv_division, regress_rv_nobody, regress_rv_admin;
TRUNCATE custfocus.program_access, custfocus.role_access, custfocus.answer, custfocus.respondent_contact, custfocus.response, custfocus.import_error,
		 custfocus.import_batch, custfocus.feedback, custfocus.improvement_action, custfocus.measure,
		 custfocus.engagement, custfocus.item, custfocus.survey, custfocus.service_requirement,
		 custfocus.service_segment, custfocus.requirement, custfocus.service, custfocus.segment;
DELETE FROM custfocus.scale_label WHERE NOT builtin;
DELETE FROM custfocus.scale WHERE NOT builtin;
DELETE FROM custfocus.program;

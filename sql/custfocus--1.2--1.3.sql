-- custfocus 1.2 -> 1.3
--
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION custfocus UPDATE TO '1.3'" to load this file. \quit

-------------------------------------------------------------------------------
-- Views on the reporting layer: customer_inventory, data_coverage, feedback_queue, voc_themes
-------------------------------------------------------------------------------
--
-- The four views become inlinable security_barrier views owned by the
-- extension, as the scorecard and the dimension views are (issue 13): a
-- filter on a code reaches the tables' indexes, dates and ages are those of
-- the reporting time zone, data_coverage reads the roll-up and indexes
-- instead of every response and answer, voc_themes finds the free-text
-- answers through a new partial index.  Same names, columns, types and
-- order.  The functions behind the old views go.  A view of a user's built
-- on one of them makes the update fail (drop it first, create it again
-- after).  Everything from the index to the grants is the text of
-- src/sql/model.sql (the index) and src/sql/views.sql.
DROP VIEW custfocus.customer_inventory;
DROP FUNCTION custfocus.customer_inventory_rows(name);
DROP VIEW custfocus.data_coverage;
DROP FUNCTION custfocus.data_coverage_rows(name);
DROP VIEW custfocus.feedback_queue;
DROP FUNCTION custfocus.feedback_queue_rows(name);
DROP VIEW custfocus.voc_themes;
DROP FUNCTION custfocus.voc_themes_rows(name);

-- The free-text answers, a small share of all answers, for the themes view
-- (custfocus.voc_themes): it finds them through this partial index instead
-- of reading every answer.  Only an answer with a text has an entry, so
-- coded answers (nearly all of an import) cost it nothing but the test.
CREATE INDEX answer_text_idx ON custfocus.answer (response_id) WHERE text_value IS NOT NULL;

-- The customer inventory, the data coverage, the feedback queue and the
-- voice-of-the-customer themes are security_barrier views owned by the
-- extension, as the scorecard and the dimension views are: they read the
-- tables with the owner's rights and keep to the caller's programs
-- themselves (CURRENT_USER inside a view is the caller), by the rule of the
-- tables' row-level security:
--
--   (SELECT custfocus.sees_all_programs())
--   OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
--
-- for a service s (the sub-selects run once per query).  A reader reads no
-- table, so a BI tool's login can use them without being able to read a
-- single raw response or answer; small groups are suppressed inside the
-- view, before anything leaves it.  The planner inlines them, so that a
-- filter on a code (service_code, program_code, ...) reaches the tables'
-- indexes instead of being applied to the whole result; being
-- security_barrier, a caller's WHERE with a function that is not leakproof
-- is applied only to the rows the rule has kept (the leakproof comparisons
-- a BI filter sends are pushed down).  Window functions are partitioned by
-- the codes a reader filters on as well as by the ids (which are the same
-- partitions), so that those filters can pass below them.
--
-- Dates and ages are those of the reporting time zone
-- (custfocus.reporting_time_zone(), read once per query), so that every
-- client sees the same numbers whatever its session TimeZone: a date is
-- pg_catalog.timezone(tz, ts)::date, an age in days the difference of two
-- such dates, and "the last 90 days" are the instants since 90 calendar days
-- of that zone before now, timezone(tz, timezone(tz, now()) - '90 days').
--
-- Each view keeps the order its rows always had (ORDER BY in the view: a
-- sort of the rows that are left after the caller's filters).

CREATE VIEW custfocus.customer_inventory WITH (security_barrier) AS
SELECT g.code AS segment_code, g.name AS segment_name, g.relationship, g.kind, g.party,
	   u.service_code, u.service_name, u.program_code, u.program_name, u.need
  FROM custfocus.segment g
  LEFT JOIN (SELECT ss.segment_id, s.code AS service_code, s.name AS service_name,
					p.code AS program_code, p.name AS program_name, ss.need
			   FROM custfocus.service_segment ss
			   JOIN custfocus.service s ON s.service_id = ss.service_id
			   JOIN custfocus.program p ON p.program_id = s.program_id
			  WHERE (SELECT custfocus.sees_all_programs())
				 OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])) u
		 ON u.segment_id = g.segment_id
 -- segments follow the rule of shared reference rows (see requirements)
 WHERE (SELECT custfocus.sees_all_programs())
	OR g.program_id IS NULL
	OR g.program_id = ANY ((SELECT custfocus.readable_program_ids())::integer[])
 ORDER BY g.code, u.service_code;
COMMENT ON VIEW custfocus.customer_inventory IS
'Step 1: every customer and stakeholder segment the role may read (agency-wide ones and those of its programs and the programs above and below them), the services of the role''s programs it uses and the need that brings it (a segment with no such service shows once, with the service columns empty); in segment and service code order';
COMMENT ON COLUMN custfocus.customer_inventory.segment_code IS 'Segment code';
COMMENT ON COLUMN custfocus.customer_inventory.segment_name IS 'Segment name';
COMMENT ON COLUMN custfocus.customer_inventory.relationship IS 'customer or stakeholder';
COMMENT ON COLUMN custfocus.customer_inventory.kind IS 'internal or external';
COMMENT ON COLUMN custfocus.customer_inventory.party IS 'individual or entity';
COMMENT ON COLUMN custfocus.customer_inventory.service_code IS 'Service the segment uses (NULL: none recorded)';
COMMENT ON COLUMN custfocus.customer_inventory.service_name IS 'Service name';
COMMENT ON COLUMN custfocus.customer_inventory.program_code IS 'Program that delivers the service';
COMMENT ON COLUMN custfocus.customer_inventory.program_name IS 'Program name';
COMMENT ON COLUMN custfocus.customer_inventory.need IS 'Why the segment comes to the service';

-- Data coverage reads neither the answers nor every response.  Per service
-- the role sees, each figure is exact and comes from an index:
--   * responses: the sum of the service's rows of the roll-up
--     (rollup_service_month, kept exact by triggers in the same transaction
--     as every change, see src/sql/rollup.sql), by its (service_id, month)
--     index;
--   * first and last response: one probe each at the ends of the service's
--     range of the response index (service_id, submitted_at);
--   * responses in the last 90 days: a count over that range of the same
--     index, from 90 days before now;
--   * the surveys: for each survey, one probe of the respondent-id index
--     (survey_id, COALESCE(service_id, 0), external_id) for a response of
--     that survey about the service (service_id is never 0), so services
--     times surveys probes, however many responses there are.  A loose index
--     scan of all (survey, service) pairs (a recursive CTE) is exact too but
--     cannot be limited to the services a filter keeps, and a DISTINCT over
--     response reads every response; a table of pairs kept by a trigger
--     would cost every import.
CREATE VIEW custfocus.data_coverage WITH (security_barrier) AS
SELECT p.code AS program_code, p.name AS program_name, s.code AS service_code, s.name AS service_name, s.active,
	   sv.surveys, coalesce(n.responses, 0)::bigint AS responses, r90.responses AS responses_last_90_days,
	   fl.first_at AS first_response, fl.last_at AS last_response,
	   (pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())::date
		- pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), fl.last_at)::date) AS days_since_last_response,
	   CASE WHEN fl.last_at IS NULL THEN 'none'
			WHEN fl.last_at < pg_catalog.timezone((SELECT custfocus.reporting_time_zone()),
												   pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())
												   - interval '1 year') THEN 'stale'
			WHEN r90.responses = 0 THEN 'lapsing'
			ELSE 'current' END AS coverage
  FROM custfocus.service s
  JOIN custfocus.program p ON p.program_id = s.program_id
 CROSS JOIN LATERAL (SELECT sum(m.responses) AS responses FROM custfocus.rollup_service_month m
					  WHERE m.service_id = s.service_id) n
 CROSS JOIN LATERAL (SELECT min(r.submitted_at) AS first_at, max(r.submitted_at) AS last_at
					   FROM custfocus.response r WHERE r.service_id = s.service_id) fl
 CROSS JOIN LATERAL (SELECT count(*) AS responses FROM custfocus.response r
					  WHERE r.service_id = s.service_id
						AND r.submitted_at >= pg_catalog.timezone((SELECT custfocus.reporting_time_zone()),
									pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())
									- interval '90 days')) r90
 CROSS JOIN LATERAL (SELECT string_agg(x.code, ', ' ORDER BY x.code) AS surveys FROM custfocus.survey x
					  WHERE EXISTS (SELECT FROM custfocus.response r
									 WHERE r.survey_id = x.survey_id AND COALESCE(r.service_id, 0) = s.service_id)) sv
 WHERE (SELECT custfocus.sees_all_programs())
	OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
 ORDER BY p.code, s.code;
COMMENT ON VIEW custfocus.data_coverage IS
'Step 4: for every service of the role''s programs, which surveys have data about it, how much and how recent (dates in the reporting time zone); services without any survey data show coverage = none; in program and service code order';
COMMENT ON COLUMN custfocus.data_coverage.program_code IS 'Program code';
COMMENT ON COLUMN custfocus.data_coverage.program_name IS 'Program name';
COMMENT ON COLUMN custfocus.data_coverage.service_code IS 'Service code';
COMMENT ON COLUMN custfocus.data_coverage.service_name IS 'Service name';
COMMENT ON COLUMN custfocus.data_coverage.active IS 'False for services no longer offered';
COMMENT ON COLUMN custfocus.data_coverage.surveys IS 'Codes of the surveys with responses about the service, in code order, separated by a comma and a space (NULL: none); custfocus.surveys describes each (join on survey_code)';
COMMENT ON COLUMN custfocus.data_coverage.responses IS 'Responses about the service, all time';
COMMENT ON COLUMN custfocus.data_coverage.responses_last_90_days IS 'Responses submitted in the last 90 days: at or after the same time of day 90 days ago, days of the reporting time zone';
COMMENT ON COLUMN custfocus.data_coverage.first_response IS 'When the first response was submitted';
COMMENT ON COLUMN custfocus.data_coverage.last_response IS 'When the latest response was submitted';
COMMENT ON COLUMN custfocus.data_coverage.days_since_last_response IS 'Days from the date of the latest response to today (dates in the reporting time zone)';
COMMENT ON COLUMN custfocus.data_coverage.coverage IS 'none (no responses), stale (none in the last year), lapsing (none in the last 90 days) or current (years and days of the reporting time zone)';

-- The queue: the feedback not yet closed, each with the closed-loop figures
-- of its service, computed over all the service's feedback the role sees
-- (one group per service, where a filter on the service's or the program's
-- code passes into the grouping; a filter on the feedback itself reads the
-- figures of every service, over the feedback table only).  Feedback about
-- no service is, as in the table's policy, for the roles that see every
-- program; its figures are those of all feedback about no service.
-- A median of days is shown to one decimal: numeric(8,1) tells a client the
-- scale (a bare numeric arrives as a Decimal of unknown scale).
CREATE VIEW custfocus.feedback_queue WITH (security_barrier) AS
SELECT q.feedback_id, q.kind, q.status, q.owner, q.received_at,
	   (pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())::date
		- pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), q.received_at)::date) AS age_days,
	   q.acknowledged_at, q.program_code, q.service_code, q.channel, q.body,
	   q.service_open, q.service_closed_last_90_days,
	   q.service_median_days_to_close::numeric(8,1) AS service_median_days_to_close
  FROM (
	SELECT f.feedback_id, f.kind, f.status, f.owner, f.received_at, f.acknowledged_at,
		   l.program_code, l.service_code, f.channel, f.body,
		   l.open_count AS service_open, l.closed_recent AS service_closed_last_90_days,
		   l.median_days AS service_median_days_to_close
	  FROM (SELECT s.service_id, p.code AS program_code, s.code AS service_code,
				   count(*) FILTER (WHERE g.status <> 'closed') AS open_count,
				   count(*) FILTER (WHERE g.closed_at >= pg_catalog.timezone((SELECT custfocus.reporting_time_zone()),
								pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())
								- interval '90 days')) AS closed_recent,
				   round(percentile_cont(0.5) WITHIN GROUP (
						ORDER BY extract(epoch FROM g.closed_at - g.received_at) / 86400)::numeric, 1) AS median_days
			  FROM custfocus.service s
			  JOIN custfocus.program p ON p.program_id = s.program_id
			  JOIN custfocus.feedback g ON g.service_id = s.service_id
			 WHERE (SELECT custfocus.sees_all_programs())
				OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
			 GROUP BY s.service_id, p.code, s.code) l
	  JOIN custfocus.feedback f ON f.service_id = l.service_id
	 WHERE f.status <> 'closed'
	UNION ALL
	SELECT f.feedback_id, f.kind, f.status, f.owner, f.received_at, f.acknowledged_at,
		   NULL::text, NULL::text, f.channel, f.body,
		   l.open_count, l.closed_recent, l.median_days
	  FROM (SELECT count(*) FILTER (WHERE g.status <> 'closed') AS open_count,
				   count(*) FILTER (WHERE g.closed_at >= pg_catalog.timezone((SELECT custfocus.reporting_time_zone()),
								pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())
								- interval '90 days')) AS closed_recent,
				   round(percentile_cont(0.5) WITHIN GROUP (
						ORDER BY extract(epoch FROM g.closed_at - g.received_at) / 86400)::numeric, 1) AS median_days
			  FROM custfocus.feedback g
			 WHERE g.service_id IS NULL) l
	 CROSS JOIN custfocus.feedback f
	 WHERE f.service_id IS NULL AND f.status <> 'closed'
	   AND (SELECT custfocus.sees_all_programs())
  ) q
 ORDER BY q.received_at, q.feedback_id;
COMMENT ON VIEW custfocus.feedback_queue IS
'Feedback not yet closed about the services of the role''s programs (about no service: for roles that see every program), oldest first, with its age and, for its service, the closed-loop figures; days of the reporting time zone';
COMMENT ON COLUMN custfocus.feedback_queue.feedback_id IS 'Feedback key';
COMMENT ON COLUMN custfocus.feedback_queue.kind IS 'complaint, compliment, suggestion or question';
COMMENT ON COLUMN custfocus.feedback_queue.status IS 'open, acknowledged or actioned';
COMMENT ON COLUMN custfocus.feedback_queue.owner IS 'Who is handling it';
COMMENT ON COLUMN custfocus.feedback_queue.received_at IS 'When it arrived';
COMMENT ON COLUMN custfocus.feedback_queue.age_days IS 'Days from the date it arrived to today (dates in the reporting time zone)';
COMMENT ON COLUMN custfocus.feedback_queue.acknowledged_at IS 'When it was acknowledged (NULL: not yet)';
COMMENT ON COLUMN custfocus.feedback_queue.program_code IS 'Program of the service';
COMMENT ON COLUMN custfocus.feedback_queue.service_code IS 'Service it is about';
COMMENT ON COLUMN custfocus.feedback_queue.channel IS 'How it arrived';
COMMENT ON COLUMN custfocus.feedback_queue.body IS 'What the customer said';
COMMENT ON COLUMN custfocus.feedback_queue.service_open IS 'Feedback about the same service not yet closed';
COMMENT ON COLUMN custfocus.feedback_queue.service_closed_last_90_days IS 'Feedback about the same service closed in the last 90 days (at or after the same time of day 90 days ago, days of the reporting time zone)';
COMMENT ON COLUMN custfocus.feedback_queue.service_median_days_to_close IS 'Median days from arrival to closing, over the service''s closed feedback, to one decimal (numeric(8,1))';

-- Themes: the lexemes (English stemming, stop words removed) that occur in
-- the most feedback bodies and free-text answers of a service.  A term is
-- shown only when it occurs in custfocus.min_responses() documents or more,
-- so a rare word cannot point at one respondent; the floor is applied in
-- the view, before the ranking, so nothing below it leaves.  Ties in
-- documents rank in term order.  The free-text answers are found through
-- answer_text_idx, a partial index of the answers that have a text (a small
-- share of them), rather than by reading every answer: per service, its
-- responses (response index by service) and their text answers; read whole,
-- the partial index.  The windows are partitioned by the service's id and
-- codes, so a filter on service_code or program_code reaches the tables.
-- A percent is shown to one decimal, 0.0 to 100.0: numeric(4,1).
CREATE VIEW custfocus.voc_themes WITH (security_barrier) AS
SELECT x.program_code, x.service_code, x.lexeme AS term, x.documents, x.feedback_documents, x.answer_documents,
	   round(100.0 * x.documents / x.service_documents, 1)::numeric(4,1) AS share_of_documents,
	   x.rnk AS rank, x.example
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
				 WHERE (SELECT custfocus.sees_all_programs())
					OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
				UNION ALL
				SELECT s.service_id, p.code, s.code, 'answer', a.text_value
				  FROM custfocus.service s
				  JOIN custfocus.program p ON p.program_id = s.program_id
				  JOIN custfocus.response r ON r.service_id = s.service_id
				  JOIN custfocus.answer a ON a.response_id = r.response_id
				 WHERE a.text_value IS NOT NULL
				   AND ((SELECT custfocus.sees_all_programs())
						OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
			  ) doc
		  ) d
		 CROSS JOIN LATERAL unnest(pg_catalog.tsvector_to_array(
				pg_catalog.to_tsvector('pg_catalog.english'::regconfig, d.txt))) AS t (lexeme)
		 GROUP BY d.service_id, d.program_code, d.service_code, t.lexeme
		HAVING count(*) >= (SELECT custfocus.min_responses())
	  ) c
  ) x
 WHERE x.rnk <= 20
 ORDER BY x.program_code, x.service_code, x.rnk;
COMMENT ON VIEW custfocus.voc_themes IS
'Voice of the customer: for each service of the role''s programs, the 20 terms (full-text lexemes) found in the most feedback bodies and free-text answers (ties in term order); terms in fewer than custfocus.min_responses() documents are not shown';
COMMENT ON COLUMN custfocus.voc_themes.program_code IS 'Program of the service';
COMMENT ON COLUMN custfocus.voc_themes.service_code IS 'Service';
COMMENT ON COLUMN custfocus.voc_themes.term IS 'Lexeme (English stemming: "waiting" and "waited" are "wait")';
COMMENT ON COLUMN custfocus.voc_themes.documents IS 'Feedback bodies and free-text answers about the service that contain the term';
COMMENT ON COLUMN custfocus.voc_themes.feedback_documents IS 'Of those, feedback bodies';
COMMENT ON COLUMN custfocus.voc_themes.answer_documents IS 'Of those, free-text survey answers';
COMMENT ON COLUMN custfocus.voc_themes.share_of_documents IS 'Percent of the service''s documents that contain the term, 0.0 to 100.0, to one decimal (numeric(4,1))';
COMMENT ON COLUMN custfocus.voc_themes.rank IS 'Rank of the term within the service (1 = most frequent)';
COMMENT ON COLUMN custfocus.voc_themes.example IS 'One document that contains the term';

-- The roles granted a level read the views created again (grant_access
-- grants every view to every level).
DO $$
DECLARE
	r record;
	v text;
BEGIN
	FOR r IN SELECT a.role_name FROM custfocus.role_access a
			   JOIN pg_catalog.pg_roles g ON g.rolname = a.role_name
	LOOP
		FOREACH v IN ARRAY ARRAY['customer_inventory', 'data_coverage', 'feedback_queue', 'voc_themes']
		LOOP
			EXECUTE pg_catalog.format('GRANT SELECT ON custfocus.%I TO %I', v, r.role_name);
		END LOOP;
	END LOOP;
END
$$;
-- End of: views on the reporting layer

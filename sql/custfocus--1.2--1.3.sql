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

-------------------------------------------------------------------------------
-- Key drivers and measures from roll-ups (issue 13)
-------------------------------------------------------------------------------
-- key_drivers, improvement_opportunities, measure_status and control_chart
-- become security_barrier views reading a new roll-up per service, month
-- and item (rollup_item_month, kept by the same triggers as the others),
-- instead of SECURITY DEFINER functions rescanning the answers.  Key
-- drivers' window and measures' periods are now months of the reporting
-- time zone (README, Upgrading).  CREATE OR REPLACE is right here: the
-- functions it replaces are the extension's own.

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
	signal		boolean NOT NULL DEFAULT custfocus.rollup_pending_signal()
);
COMMENT ON TABLE custfocus.rollup_pending IS
'The (service, month) keys the statements of transactions in progress appended roll-up deltas to, compacted when each commits; derived data, not dumped';
COMMENT ON COLUMN custfocus.rollup_pending.xact IS 'The transaction';
COMMENT ON COLUMN custfocus.rollup_pending.services IS 'Services of the keys';
COMMENT ON COLUMN custfocus.rollup_pending.months IS 'Months of the keys (with services, element by element)';
COMMENT ON COLUMN custfocus.rollup_pending.signal IS 'True on the first row of the transaction (since it last compacted): the one that fires the compaction at commit';

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

-- The item roll-up of the given (service, month) keys computed from the
-- raw data: what every row of a key merges to.  (The answer trigger
-- aggregates its transition table with the same item_state.)  Each answer
-- meets its respondent's overall answer through a window over the
-- response, not a join of the answers with themselves: with the answer
-- trigger's planner settings (no merge joins, no sequential scans) a
-- self-join of 500,000 answers became a nested loop that ran for minutes.
CREATE FUNCTION custfocus.rollup_item_compute(p_services integer[], p_months date[])
RETURNS SETOF custfocus.rollup_item_month
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
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
			 GROUP BY 1, 2, 3) g
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
END
$$;
COMMENT ON FUNCTION custfocus.rollup_item_refresh(integer[], date[]) IS
'Recomputes the item roll-up of the given (service, month) keys from the raw data';

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
BEGIN
	SELECT array_agg(k.service_id ORDER BY k.service_id, k.month), array_agg(k.month ORDER BY k.service_id, k.month)
	  INTO v_services, v_months
	  FROM (SELECT r.service_id, r.month FROM custfocus.rollup_item_month r
			 WHERE p_services IS NULL
				OR (r.service_id, r.month) IN (SELECT * FROM unnest(p_services, p_months))
			 GROUP BY 1, 2 HAVING count(*) > count(DISTINCT r.item_id)) k
	 WHERE pg_try_advisory_xact_lock(pg_catalog.hashtextextended('custfocus.rollup ' || k.service_id || ' ' || k.month, 0));
	IF v_services IS NULL THEN
		RETURN 0;
	END IF;
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
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_item_compact(integer[], date[]) IS
'Merges the item roll-up rows of each key (of the given service-month keys, or of all) into one per item; returns how many rows it wrote';

CREATE FUNCTION custfocus.rollup_units_delta(p_rows custfocus.rollup_service_month[])
RETURNS SETOF custfocus.rollup_unit_period
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT u.program_id, u.unit_service_id, g.grain, date_trunc(g.grain, b.month)::date, sum(b.responses),
		   custfocus.sums_sum(b.csat), custfocus.counts_sum(b.csat_counts), custfocus.sums_sum(b.nps),
		   custfocus.moments_sum(b.lm)
	  FROM unnest(p_rows) AS b
	  JOIN custfocus.report_unit u ON u.service_id = b.service_id
	 CROSS JOIN (VALUES ('month'), ('quarter'), ('year')) AS g (grain)
	 GROUP BY 1, 2, 3, 4
$$;
COMMENT ON FUNCTION custfocus.rollup_units_delta(custfocus.rollup_service_month[]) IS
'The unit roll-up rows that the given service-month delta rows add, merged per unit key';

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
END
$$;
COMMENT ON FUNCTION custfocus.rollup_refresh(integer[], date[]) IS
'Recomputes the roll-ups (service-month, units, items) of the given (service, month) keys from the raw data';

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
'Merges the roll-up rows of each key (of the given service-month keys; or of all keys, the unit and item roll-ups'' too) into one; returns how many keys it compacted';

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
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_rebuild() IS
'Recomputes every roll-up (and report_unit) from the raw data, after a restore with triggers off or to repair; returns the number of keys';

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
$$;
COMMENT ON FUNCTION custfocus.rollup_verify() IS
'Lists every (service, month) whose roll-up (service-month or item) differs from a recomputation from the raw data, and every unit key whose roll-up differs from the merge of its service-months (none when all is well)';

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
	INSERT INTO custfocus.rollup_pending (services, months)
	SELECT array_agg(d.service_id), array_agg(d.month) FROM d HAVING count(*) > 0;
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

CREATE OR REPLACE FUNCTION custfocus.rollup_response_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
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

CREATE OR REPLACE FUNCTION custfocus.rollup_answer_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
SET enable_mergejoin = off
SET jit = off
AS $$
DECLARE
	v_item_services integer[];
	v_item_months date[];
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
	-- as rollup_item_compute
	dd AS (
		INSERT INTO custfocus.rollup_item_month
		SELECT g.service_id, g.month, g.item_id, g.s[1]::bigint, g.s[2], g.s[3], g.s[4], g.s[5], g.s[6]::bigint,
			   g.s[7]::bigint, g.s[8]::bigint, g.s[9]::bigint, g.s[10], g.s[11], g.s[12], g.s[13], g.s[14], g.s[15],
			   g.s[16:20], g.s[21:28]
		  FROM (SELECT x.service_id, x.month, x.item_id,
					   custfocus.item_state(x.score, x.min_value, x.max_value, x.weight,
											CASE WHEN NOT x.is_overall THEN x.overall END) AS s
				  FROM (SELECT a.*, max(a.score) FILTER (WHERE a.is_overall) OVER (PARTITION BY a.response_id) AS overall
						  FROM ans a WHERE v_fresh) x
				 GROUP BY 1, 2, 3) g
	),
	-- the keys to recompute when the responses had answers before
	dk AS (
		SELECT DISTINCT a.service_id, a.month FROM ans a WHERE NOT v_fresh
	),
	-- the keys this statement appended to, compacted when the transaction
	-- commits (rollup_commit_compact)
	pending AS (
		INSERT INTO custfocus.rollup_pending (services, months)
		SELECT array_agg(d.service_id), array_agg(d.month) FROM d HAVING count(*) > 0
	)
	SELECT array_agg(dk.service_id ORDER BY dk.service_id, dk.month), array_agg(dk.month ORDER BY dk.service_id, dk.month)
	  INTO v_item_services, v_item_months FROM dk;
	IF v_item_services IS NOT NULL THEN
		PERFORM custfocus.rollup_item_refresh(v_item_services, v_item_months);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_answer_insert() IS
'Trigger: appends the states of inserted answers to the roll-ups (or recomputes the item keys of answers to responses that had answers)';

CREATE OR REPLACE FUNCTION custfocus.rollup_answer_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
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
END
$$;
COMMENT ON FUNCTION custfocus.rollup_units_rebuild() IS
'Rebuilds the unit roll-up from the service-month roll-up (after a change to programs or services)';

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
			   AND c.relname NOT LIKE 'rollup\_%' AND c.relname <> 'report_unit'
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
			   AND c.relname <> 'setting' AND c.relname NOT LIKE 'rollup\_%' AND c.relname <> 'report_unit'
		LOOP
			EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s', obj.rel, p_role);
		END LOOP;
		-- the settings are one row, changed in place
		EXECUTE format('GRANT SELECT, UPDATE ON custfocus.setting TO %s', p_role);
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.apply_retention(text, interval, text) TO %s', p_role);
		-- the roll-ups' maintenance (see src/sql/rollup.sql)
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.rollup_verify() TO %s', p_role);
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.rollup_rebuild() TO %s', p_role);
		EXECUTE format('GRANT EXECUTE ON FUNCTION custfocus.rollup_compact(integer[], date[]) TO %s', p_role);
	END IF;

	INSERT INTO custfocus.role_access (role_name, level) VALUES (p_role::text::name, p_level);
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
END
$$;
COMMENT ON FUNCTION custfocus.revoke_access(regrole) IS
'Revokes every custfocus privilege from the role and forgets its access level (its program grants are kept)';

REVOKE ALL ON FUNCTION custfocus.rollup_fresh_add(bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_fresh_take(bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_pending_signal() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_pending_consumed() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_item_compute(integer[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_item_refresh(integer[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_item_compact(integer[], date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.rollup_units_delta(custfocus.rollup_service_month[]) FROM PUBLIC;
-- the insert triggers append unit deltas themselves now
DROP FUNCTION custfocus.rollup_units_append(tid[]);

-- When a transaction that appended commits: merge the rows of every key it
-- appended to that holds more than 4 rows, in the service-month, item and
-- unit roll-ups.  Compaction takes try-locks, so it never waits (a key
-- another transaction holds is left for later: it stays exact, only less
-- compact).  One event per transaction (rollup_pending.signal).  Under
-- REPEATABLE READ or SERIALIZABLE, rows another transaction compacted since
-- the snapshot cannot be deleted again: the compaction is then given up
-- (in a subtransaction, so that the commit goes on) and left to the next.
CREATE FUNCTION custfocus.rollup_commit_compact() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_services integer[];
	v_months date[];
	v_keys record;
BEGIN
	PERFORM custfocus.rollup_pending_consumed();
	WITH gone AS (
		DELETE FROM custfocus.rollup_pending p WHERE p.xact = pg_catalog.pg_current_xact_id()
		RETURNING p.services, p.months
	)
	SELECT array_agg(k.service_id ORDER BY k.service_id, k.month), array_agg(k.month ORDER BY k.service_id, k.month)
	  INTO v_services, v_months
	  FROM (SELECT DISTINCT x.service_id, x.month FROM gone g
			 CROSS JOIN LATERAL unnest(g.services, g.months) AS x (service_id, month)) k;
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
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.rollup_commit_compact() IS
'Trigger, deferred to commit: compacts the roll-up keys the committing transaction appended to that hold more than 4 rows';
CREATE CONSTRAINT TRIGGER rollup_commit_compact AFTER INSERT ON custfocus.rollup_pending
	DEFERRABLE INITIALLY DEFERRED
	FOR EACH ROW WHEN (NEW.signal) EXECUTE FUNCTION custfocus.rollup_commit_compact();

REVOKE ALL ON FUNCTION custfocus.rollup_commit_compact() FROM PUBLIC;

-- the item roll-up of the data already there, before the views read it
INSERT INTO custfocus.rollup_item_month
SELECT c.* FROM (
	SELECT array_agg(k.service_id) AS s, array_agg(k.month) AS m
	  FROM (SELECT DISTINCT r.service_id,
				   date_trunc('month', pg_catalog.timezone(custfocus.reporting_time_zone(), r.submitted_at))::date AS month
			  FROM custfocus.response r WHERE r.service_id IS NOT NULL) k
) keys
CROSS JOIN LATERAL custfocus.rollup_item_compute(keys.s, keys.m) c;

-- the views, and the functions they no longer need
DROP VIEW custfocus.improvement_opportunities;
DROP VIEW custfocus.key_drivers;
DROP VIEW custfocus.control_chart;
DROP VIEW custfocus.measure_status;
DROP FUNCTION custfocus.improvement_opportunities_rows(name);
DROP FUNCTION custfocus.key_drivers_rows(name);
DROP FUNCTION custfocus.control_chart_rows(name);
DROP FUNCTION custfocus.measure_status_rows(name);
DROP FUNCTION custfocus.measure_values(name);

CREATE VIEW custfocus.measure_status WITH (security_barrier) AS
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
			SELECT g.*, g.metric <> 'response_count' AND g.n < v.min_n AS supp,
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
					   custfocus.moments_sum(r.perf) AS perf
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
						  coalesce(mp.code, sp.code), ms.code, date_trunc(m.period, r.month)::date
				UNION ALL
				SELECT m.measure_id, m.code, m.name, m.metric, m.period, m.target, m.direction, m.baseline,
					   coalesce(mp.code, sp.code), ms.code, date_trunc(m.period, r.month)::date,
					   sum(r.responses)::bigint, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
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
						  coalesce(mp.code, sp.code), ms.code, date_trunc(m.period, r.month)::date
			  ) g
			 -- each result computed once (see the scorecard)
			 CROSS JOIN LATERAL custfocus.linear_mean_stats_final(g.perf) AS lm_r
			 CROSS JOIN (SELECT custfocus.min_responses() AS min_n OFFSET 0) v
		  ) x
	  ) y
	WINDOW w AS (PARTITION BY y.measure_id, y.code, y.program_code, y.service_code ORDER BY y.period_start)
  ) z
 ORDER BY z.code, z.period_start;
COMMENT ON VIEW custfocus.measure_status IS
'Each active performance measure in each of its periods (of the reporting time zone) with data: the actual value computed from the answers (weighted), the target, whether it was met, and the trend; read from the roll-ups';
COMMENT ON COLUMN custfocus.measure_status.measure_code IS 'Measure code';
COMMENT ON COLUMN custfocus.measure_status.measure_name IS 'Measure name';
COMMENT ON COLUMN custfocus.measure_status.program_code IS 'Program measured, or the program of the service measured';
COMMENT ON COLUMN custfocus.measure_status.service_code IS 'Service measured (NULL for a program measure)';
COMMENT ON COLUMN custfocus.measure_status.metric IS 'csat, top_box, bottom_box, nps, linear_mean, mean, ces or response_count';
COMMENT ON COLUMN custfocus.measure_status.period IS 'The measure''s period: month, quarter or year';
COMMENT ON COLUMN custfocus.measure_status.period_start IS 'First day of the period';
COMMENT ON COLUMN custfocus.measure_status.period_label IS 'Period as text';
COMMENT ON COLUMN custfocus.measure_status.n IS 'Answers (responses for response_count) in the period';
COMMENT ON COLUMN custfocus.measure_status.actual IS 'Value of the metric in the period (NULL when suppressed): percent for box metrics, -100..100 for nps, 0..100 for linear_mean, the scale for mean and ces';
COMMENT ON COLUMN custfocus.measure_status.target IS 'Target';
COMMENT ON COLUMN custfocus.measure_status.direction IS 'higher or lower is better';
COMMENT ON COLUMN custfocus.measure_status.met IS 'The actual value is on the good side of the target (or equal to it)';
COMMENT ON COLUMN custfocus.measure_status.distance_to_target IS 'Actual minus target';
COMMENT ON COLUMN custfocus.measure_status.previous_actual IS 'Actual value of the period just before (NULL if none shown)';
COMMENT ON COLUMN custfocus.measure_status.change IS 'Actual minus previous actual';
COMMENT ON COLUMN custfocus.measure_status.trend IS 'improving, worsening or steady against the period just before, in the measure''s direction';
COMMENT ON COLUMN custfocus.measure_status.trend_slope IS 'Least-squares slope of the actual value per period over the last 4 periods with data';
COMMENT ON COLUMN custfocus.measure_status.baseline IS 'The measure''s baseline value';
COMMENT ON COLUMN custfocus.measure_status.suppressed IS 'True when the period has fewer than custfocus.min_responses answers (response_count is never suppressed)';
COMMENT ON COLUMN custfocus.measure_status.in_box IS 'For csat, top_box and bottom_box: answers in the box, unweighted (NULL when suppressed): the control chart''s successes of n';

CREATE VIEW custfocus.control_chart WITH (security_barrier) AS
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
		   array_agg(s.n::double precision ORDER BY s.period_start) AS ns
	  FROM custfocus.measure_status s
	 WHERE s.metric IN ('csat', 'top_box', 'bottom_box') AND s.n > 0
	 GROUP BY s.measure_code, s.measure_name, s.metric, s.period
  ) x
 CROSS JOIN (SELECT custfocus.min_responses() AS min_n OFFSET 0) v
 CROSS JOIN LATERAL custfocus.p_chart(x.xs, x.ns, v.min_n) c
 ORDER BY x.measure_code, c.point;
COMMENT ON VIEW custfocus.control_chart IS
'p-chart of every active proportion measure (csat, top_box, bottom_box) over its periods with answers: percent, centre line, 3-sigma limits and run signals; unweighted counts (those of measure_status)';
COMMENT ON COLUMN custfocus.control_chart.measure_code IS 'Measure code';
COMMENT ON COLUMN custfocus.control_chart.measure_name IS 'Measure name';
COMMENT ON COLUMN custfocus.control_chart.metric IS 'csat, top_box or bottom_box';
COMMENT ON COLUMN custfocus.control_chart.period IS 'The measure''s period';
COMMENT ON COLUMN custfocus.control_chart.period_start IS 'First day of the period';
COMMENT ON COLUMN custfocus.control_chart.period_label IS 'Period as text';
COMMENT ON COLUMN custfocus.control_chart.n IS 'Answers in the period';
COMMENT ON COLUMN custfocus.control_chart.p IS 'Percent in the box (NULL when suppressed)';
COMMENT ON COLUMN custfocus.control_chart.centre IS 'Centre line: percent in the box over all periods';
COMMENT ON COLUMN custfocus.control_chart.lcl IS 'Lower control limit for this period''s n (percent)';
COMMENT ON COLUMN custfocus.control_chart.ucl IS 'Upper control limit for this period''s n (percent)';
COMMENT ON COLUMN custfocus.control_chart.outside IS 'The point is outside the control limits';
COMMENT ON COLUMN custfocus.control_chart.run_of_8 IS 'The point ends a run of 8 or more on one side of the centre line';
COMMENT ON COLUMN custfocus.control_chart.trend_of_6 IS 'The point ends 6 or more points steadily rising or falling';
COMMENT ON COLUMN custfocus.control_chart.signal IS 'The signals of the point in words (NULL: none)';
COMMENT ON COLUMN custfocus.control_chart.suppressed IS 'True when the period has fewer than custfocus.min_responses answers';

CREATE VIEW custfocus.key_drivers WITH (security_barrier) AS
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
	   x.n < x.min_n OR (x.pairs_n > 0 AND x.pairs_n < x.min_n) AS suppressed
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
			   CASE WHEN (lm_r).n >= v.min_n THEN (lm_r).mean END AS performance
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
	  ) b
	WINDOW w AS (PARTITION BY b.program_code, b.service_id, b.service_code, b.survey_id, b.survey_code)
	  ) c
  ) x
 ORDER BY x.program_code, x.service_code, x.survey_code, x.requirement_code;
COMMENT ON VIEW custfocus.key_drivers IS
'Importance-performance analysis per service and survey over its latest 12 months of the reporting time zone: each requirement''s importance (derived: 100 x Pearson r with the overall item, pairwise; else stated), performance (linear mean 0..100), gap, priority and quadrant; read from the item roll-up';
COMMENT ON COLUMN custfocus.key_drivers.program_code IS 'Program of the service';
COMMENT ON COLUMN custfocus.key_drivers.service_code IS 'Service';
COMMENT ON COLUMN custfocus.key_drivers.survey_code IS 'Survey whose items measure the requirement';
COMMENT ON COLUMN custfocus.key_drivers.requirement_code IS 'Requirement (key driver)';
COMMENT ON COLUMN custfocus.key_drivers.requirement_name IS 'Requirement name';
COMMENT ON COLUMN custfocus.key_drivers.window_start IS 'First day of the 12 months analysed (months of the reporting time zone)';
COMMENT ON COLUMN custfocus.key_drivers.window_end IS 'Last day of the 12 months analysed: the end of the latest month with answers to the survey''s requirement items about the service';
COMMENT ON COLUMN custfocus.key_drivers.n IS 'Answers to the requirement''s items in the window';
COMMENT ON COLUMN custfocus.key_drivers.correlation IS 'Pearson r between the requirement''s items and the overall-satisfaction item (same respondent, every respondent who answered both; unweighted; NULL when fewer than custfocus.min_responses() pairs)';
COMMENT ON COLUMN custfocus.key_drivers.derived_importance IS '100 x r, negative r as 0 (NULL when fewer than custfocus.min_responses pairs)';
COMMENT ON COLUMN custfocus.key_drivers.stated_importance IS 'Stated importance of the requirement for the service (service_requirement, else requirement)';
COMMENT ON COLUMN custfocus.key_drivers.importance IS 'Importance used: derived if available, else stated (0..100)';
COMMENT ON COLUMN custfocus.key_drivers.importance_source IS 'derived or stated';
COMMENT ON COLUMN custfocus.key_drivers.performance IS 'Linear mean of the requirement''s items on 0..100, weighted (NULL when suppressed)';
COMMENT ON COLUMN custfocus.key_drivers.gap IS 'Importance minus performance';
COMMENT ON COLUMN custfocus.key_drivers.priority IS 'Importance x gap';
COMMENT ON COLUMN custfocus.key_drivers.quadrant IS 'Concentrate here, Keep up the good work, Low priority or Possible overkill, around crosshairs at the mean importance and performance of the service''s plotted requirements (a value on a crosshair, to 1e-9 relative, counts as high)';
COMMENT ON COLUMN custfocus.key_drivers.suppressed IS 'True when the performance (fewer than custfocus.min_responses answers) or the derived importance (fewer pairs with the overall item, but some) is not shown';

CREATE VIEW custfocus.improvement_opportunities WITH (security_barrier) AS
SELECT x.rnk AS rank, x.program_code, x.service_code, x.survey_code, x.requirement_code, x.requirement_name,
	   x.importance, x.importance_source, x.performance, x.gap, x.priority, x.quadrant, x.n,
	   x.open_n AS open_actions, x.titles AS open_action_titles,
	   format('%s at %s (survey %s): importance %s (%s) against performance %s on 0..100, a gap of %s, so priority %s (importance x gap); %s; %s',
			  x.requirement_name, x.service_code, x.survey_code, round(x.importance::numeric),
			  x.importance_source || CASE WHEN x.importance_source = 'derived'
										  THEN format(', r = %s', round((x.importance / 100)::numeric, 2)) ELSE '' END,
			  round(x.performance::numeric), round(x.gap::numeric), round(x.priority::numeric),
			  x.quadrant,
			  CASE WHEN x.open_n = 0 THEN 'no open improvement action'
				   ELSE format('%s open action(s): %s', x.open_n, x.titles) END) AS reason
  FROM (
	SELECT rank() OVER (ORDER BY round(k.priority::numeric, 6) DESC, round(k.gap::numeric, 6) DESC,
							k.service_code, k.requirement_code)::integer AS rnk,
		   k.*, coalesce(act.n, 0) AS open_n, act.titles
	  FROM custfocus.key_drivers k
	  LEFT JOIN (
			SELECT s.code AS service_code, rq.code AS requirement_code, count(*) AS n,
				   string_agg(a.title, '; ' ORDER BY a.opened_on, a.action_id) AS titles
			  FROM custfocus.improvement_action a
			  JOIN custfocus.service s ON s.service_id = a.service_id
			  JOIN custfocus.requirement rq ON rq.requirement_id = a.requirement_id
			 WHERE a.status IN ('planned', 'in_progress')
			 GROUP BY s.code, rq.code) act
		ON act.service_code = k.service_code AND act.requirement_code = k.requirement_code
	 WHERE k.priority IS NOT NULL
  ) x
 ORDER BY x.rnk, x.service_code, x.requirement_code;
COMMENT ON VIEW custfocus.improvement_opportunities IS
'The headline view: every (service, requirement) ranked by priority = importance x (importance - performance), with its quadrant, n, the open improvement actions and the reason it ranks where it does';
COMMENT ON COLUMN custfocus.improvement_opportunities.rank IS 'Rank, 1 = improve first (by priority, then gap, both to 6 decimals; then service and requirement code)';
COMMENT ON COLUMN custfocus.improvement_opportunities.program_code IS 'Program of the service';
COMMENT ON COLUMN custfocus.improvement_opportunities.service_code IS 'Service';
COMMENT ON COLUMN custfocus.improvement_opportunities.survey_code IS 'Survey the figures come from';
COMMENT ON COLUMN custfocus.improvement_opportunities.requirement_code IS 'Requirement (key driver)';
COMMENT ON COLUMN custfocus.improvement_opportunities.requirement_name IS 'Requirement name';
COMMENT ON COLUMN custfocus.improvement_opportunities.importance IS 'Importance on 0..100 (see importance_source)';
COMMENT ON COLUMN custfocus.improvement_opportunities.importance_source IS 'derived (from the correlation with overall satisfaction) or stated';
COMMENT ON COLUMN custfocus.improvement_opportunities.performance IS 'Performance: linear mean of the requirement''s items on 0..100';
COMMENT ON COLUMN custfocus.improvement_opportunities.gap IS 'Importance minus performance';
COMMENT ON COLUMN custfocus.improvement_opportunities.priority IS 'Importance x gap: the ranking key';
COMMENT ON COLUMN custfocus.improvement_opportunities.quadrant IS 'Importance-performance quadrant';
COMMENT ON COLUMN custfocus.improvement_opportunities.n IS 'Answers behind the performance figure';
COMMENT ON COLUMN custfocus.improvement_opportunities.open_actions IS 'Improvement actions planned or in progress for this service and requirement';
COMMENT ON COLUMN custfocus.improvement_opportunities.open_action_titles IS 'Their titles';
COMMENT ON COLUMN custfocus.improvement_opportunities.reason IS 'Why the row ranks where it does, in words';

-- the roles granted a level read the new views as they read the old
DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT a.role_name FROM custfocus.role_access a
			  WHERE EXISTS (SELECT FROM pg_catalog.pg_roles g WHERE g.rolname = a.role_name)
	LOOP
		EXECUTE pg_catalog.format('GRANT SELECT ON custfocus.measure_status, custfocus.control_chart, custfocus.key_drivers, custfocus.improvement_opportunities TO %I', r.role_name);
	END LOOP;
END
$$;

-- The reports schema: every view of custfocus again, for BI tools' navigators
CREATE SCHEMA custfocus_reports;
COMMENT ON SCHEMA custfocus_reports IS
'custfocus''s views for readers and BI tools, and nothing else: the same views, columns and descriptions as in schema custfocus';

CREATE FUNCTION custfocus.reports_mirror() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v record;
	a record;
BEGIN
	FOR v IN
		SELECT c.oid, c.relname FROM pg_class c
		 WHERE c.relnamespace = 'custfocus'::regnamespace AND c.relkind = 'v'
		   AND NOT EXISTS (SELECT FROM pg_class m WHERE m.relnamespace = 'custfocus_reports'::regnamespace
											   AND m.relname = c.relname)
		 ORDER BY c.relname
	LOOP
		EXECUTE format('CREATE VIEW custfocus_reports.%I WITH (security_barrier) AS SELECT * FROM custfocus.%I',
					   v.relname, v.relname);
		EXECUTE format('COMMENT ON VIEW custfocus_reports.%I IS %L', v.relname, obj_description(v.oid, 'pg_class'));
		FOR a IN
			SELECT att.attname, col_description(v.oid, att.attnum) AS description
			  FROM pg_attribute att
			 WHERE att.attrelid = v.oid AND att.attnum > 0 AND NOT att.attisdropped
			 ORDER BY att.attnum
		LOOP
			EXECUTE format('COMMENT ON COLUMN custfocus_reports.%I.%I IS %L', v.relname, a.attname, a.description);
		END LOOP;
	END LOOP;
END
$$;
COMMENT ON FUNCTION custfocus.reports_mirror() IS
'Creates in custfocus_reports every view of custfocus it does not hold yet (install and update scripts only)';
REVOKE ALL ON FUNCTION custfocus.reports_mirror() FROM PUBLIC;

SELECT custfocus.reports_mirror();
-- the roles granted a level read it as grant_access now grants it
DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT a.role_name FROM custfocus.role_access a
			  WHERE EXISTS (SELECT FROM pg_catalog.pg_roles g WHERE g.rolname = a.role_name)
	LOOP
		EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA custfocus_reports TO %I', r.role_name);
		EXECUTE pg_catalog.format('GRANT SELECT ON ALL TABLES IN SCHEMA custfocus_reports TO %I', r.role_name);
	END LOOP;
END
$$;
-- END key drivers from roll-ups

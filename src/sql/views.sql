-------------------------------------------------------------------------------
-- Views for analysts and BI tools
-------------------------------------------------------------------------------

-- Every view is a thin security_invoker view over a set-returning function
-- that runs with the owner's rights and keeps only the programs the calling
-- role may see (the same rule as the row-level security policies).  This is
-- what lets a reader-level role (a BI tool) use the views without being able
-- to read a single raw row: the view checks the caller's right to the view,
-- the function the caller's programs, and small groups are suppressed
-- before anything leaves the function.  The functions take the role as an
-- argument, because a SECURITY DEFINER function cannot see its caller;
-- check_role_asked() stops a caller from passing someone else's.

CREATE FUNCTION custfocus.customer_inventory_rows(p_role name)
RETURNS TABLE (
	segment_code text, segment_name text, relationship text, kind text, party text,
	service_code text, service_name text, program_code text, program_name text, need text)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
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
COMMENT ON FUNCTION custfocus.customer_inventory_rows(name) IS
'Rows of the customer_inventory view for the given role (which must be the caller)';
REVOKE ALL ON FUNCTION custfocus.customer_inventory_rows(name) FROM PUBLIC;

CREATE VIEW custfocus.customer_inventory WITH (security_invoker = true) AS
	SELECT * FROM custfocus.customer_inventory_rows(CURRENT_USER);
COMMENT ON VIEW custfocus.customer_inventory IS
'Step 1: every customer and stakeholder segment the role may read (agency-wide ones and those of its programs and the programs above and below them), the services it uses and the need that brings it (a segment with no service shows once, with the service columns empty)';
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

CREATE FUNCTION custfocus.data_coverage_rows(p_role name)
RETURNS TABLE (
	program_code text, program_name text, service_code text, service_name text, active boolean,
	surveys text[], responses bigint, responses_last_90_days bigint,
	first_response timestamptz, last_response timestamptz, days_since_last_response integer,
	coverage text)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH v AS (SELECT custfocus.sees_all_programs(p_role) AS sees_all,
					  custfocus.visible_service_ids(p_role) AS services),
	r AS (
		SELECT r.service_id, count(*) AS responses,
			   count(*) FILTER (WHERE r.submitted_at >= pg_catalog.now() - interval '90 days') AS recent,
			   min(r.submitted_at) AS first_at, max(r.submitted_at) AS last_at,
			   array_agg(DISTINCT sv.code ORDER BY sv.code) AS surveys
		  FROM v
		  JOIN custfocus.response r ON v.sees_all OR r.service_id = ANY (v.services)
		  JOIN custfocus.survey sv ON sv.survey_id = r.survey_id
		 WHERE r.service_id IS NOT NULL
		 GROUP BY r.service_id
	)
	SELECT p.code, p.name, s.code, s.name, s.active,
		   coalesce(r.surveys, '{}'), coalesce(r.responses, 0), coalesce(r.recent, 0),
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
COMMENT ON FUNCTION custfocus.data_coverage_rows(name) IS
'Rows of the data_coverage view for the given role (which must be the caller)';
REVOKE ALL ON FUNCTION custfocus.data_coverage_rows(name) FROM PUBLIC;

CREATE VIEW custfocus.data_coverage WITH (security_invoker = true) AS
	SELECT * FROM custfocus.data_coverage_rows(CURRENT_USER);
COMMENT ON VIEW custfocus.data_coverage IS
'Step 4: for every service, which surveys have data about it, how much and how recent; services without any survey data show coverage = none';
COMMENT ON COLUMN custfocus.data_coverage.program_code IS 'Program code';
COMMENT ON COLUMN custfocus.data_coverage.program_name IS 'Program name';
COMMENT ON COLUMN custfocus.data_coverage.service_code IS 'Service code';
COMMENT ON COLUMN custfocus.data_coverage.service_name IS 'Service name';
COMMENT ON COLUMN custfocus.data_coverage.active IS 'False for services no longer offered';
COMMENT ON COLUMN custfocus.data_coverage.surveys IS 'Codes of the surveys with responses about the service';
COMMENT ON COLUMN custfocus.data_coverage.responses IS 'Responses about the service, all time';
COMMENT ON COLUMN custfocus.data_coverage.responses_last_90_days IS 'Responses submitted in the last 90 days';
COMMENT ON COLUMN custfocus.data_coverage.first_response IS 'When the first response was submitted';
COMMENT ON COLUMN custfocus.data_coverage.last_response IS 'When the latest response was submitted';
COMMENT ON COLUMN custfocus.data_coverage.days_since_last_response IS 'Days from the date of the latest response to today (dates in the session time zone)';
COMMENT ON COLUMN custfocus.data_coverage.coverage IS 'none (no responses), stale (none in a year), lapsing (none in 90 days) or current';

CREATE FUNCTION custfocus.feedback_queue_rows(p_role name)
RETURNS TABLE (
	feedback_id bigint, kind text, status text, owner text, received_at timestamptz,
	age_days integer, acknowledged_at timestamptz, program_code text, service_code text,
	channel text, body text,
	service_open bigint, service_closed_last_90_days bigint, service_median_days_to_close numeric)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
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
COMMENT ON FUNCTION custfocus.feedback_queue_rows(name) IS
'Rows of the feedback_queue view for the given role (which must be the caller)';
REVOKE ALL ON FUNCTION custfocus.feedback_queue_rows(name) FROM PUBLIC;

CREATE VIEW custfocus.feedback_queue WITH (security_invoker = true) AS
	SELECT * FROM custfocus.feedback_queue_rows(CURRENT_USER);
COMMENT ON VIEW custfocus.feedback_queue IS
'Feedback not yet closed, oldest first, with its age and, for its service, the closed-loop figures';
COMMENT ON COLUMN custfocus.feedback_queue.feedback_id IS 'Feedback key';
COMMENT ON COLUMN custfocus.feedback_queue.kind IS 'complaint, compliment, suggestion or question';
COMMENT ON COLUMN custfocus.feedback_queue.status IS 'open, acknowledged or actioned';
COMMENT ON COLUMN custfocus.feedback_queue.owner IS 'Who is handling it';
COMMENT ON COLUMN custfocus.feedback_queue.received_at IS 'When it arrived';
COMMENT ON COLUMN custfocus.feedback_queue.age_days IS 'Days since it arrived (dates in the session time zone)';
COMMENT ON COLUMN custfocus.feedback_queue.acknowledged_at IS 'When it was acknowledged (NULL: not yet)';
COMMENT ON COLUMN custfocus.feedback_queue.program_code IS 'Program of the service';
COMMENT ON COLUMN custfocus.feedback_queue.service_code IS 'Service it is about';
COMMENT ON COLUMN custfocus.feedback_queue.channel IS 'How it arrived';
COMMENT ON COLUMN custfocus.feedback_queue.body IS 'What the customer said';
COMMENT ON COLUMN custfocus.feedback_queue.service_open IS 'Feedback about the same service not yet closed';
COMMENT ON COLUMN custfocus.feedback_queue.service_closed_last_90_days IS 'Feedback about the same service closed in the last 90 days';
COMMENT ON COLUMN custfocus.feedback_queue.service_median_days_to_close IS 'Median days from arrival to closing, over the service''s closed feedback';

-- Themes: the lexemes (English stemming, stop words removed) that occur in
-- the most feedback bodies and free-text answers of a service.  A term is
-- shown only when it occurs in custfocus.min_responses documents or more, so
-- a rare word cannot point at one respondent.
CREATE FUNCTION custfocus.voc_themes_rows(p_role name)
RETURNS TABLE (
	program_code text, service_code text, term text, documents bigint,
	feedback_documents bigint, answer_documents bigint, share_of_documents numeric,
	rank integer, example text)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
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
COMMENT ON FUNCTION custfocus.voc_themes_rows(name) IS
'Rows of the voc_themes view for the given role (which must be the caller)';
REVOKE ALL ON FUNCTION custfocus.voc_themes_rows(name) FROM PUBLIC;

CREATE VIEW custfocus.voc_themes WITH (security_invoker = true) AS
	SELECT * FROM custfocus.voc_themes_rows(CURRENT_USER);
COMMENT ON VIEW custfocus.voc_themes IS
'Voice of the customer: for each service, the 20 terms (full-text lexemes) found in the most feedback bodies and free-text answers; terms in fewer than custfocus.min_responses documents are not shown';
COMMENT ON COLUMN custfocus.voc_themes.program_code IS 'Program of the service';
COMMENT ON COLUMN custfocus.voc_themes.service_code IS 'Service';
COMMENT ON COLUMN custfocus.voc_themes.term IS 'Lexeme (English stemming: "waiting" and "waited" are "wait")';
COMMENT ON COLUMN custfocus.voc_themes.documents IS 'Feedback bodies and free-text answers about the service that contain the term';
COMMENT ON COLUMN custfocus.voc_themes.feedback_documents IS 'Of those, feedback bodies';
COMMENT ON COLUMN custfocus.voc_themes.answer_documents IS 'Of those, free-text survey answers';
COMMENT ON COLUMN custfocus.voc_themes.share_of_documents IS 'Percent of the service''s documents that contain the term';
COMMENT ON COLUMN custfocus.voc_themes.rank IS 'Rank of the term within the service (1 = most frequent)';
COMMENT ON COLUMN custfocus.voc_themes.example IS 'One document that contains the term';


-- Every task the README gives an analyst or an admin, done as a role made
-- with grant_access (SET ROLE, never as the superuser), and a reader reading
-- the views.  The regression tests of issue 12 are here too, each as the
-- role that hit it: item 2 (an analyst or admin describing an instrument),
-- item 13 (INSERT ... RETURNING) and item 9 (error messages that named other
-- programs' objects).
\set ON_ERROR_ROLLBACK on
\set VERBOSITY terse
\set responses 120
\set ECHO none
\i test/data/sample_agency.sql
\set ECHO all
\unset ON_ERROR_STOP
SET client_min_messages = warning;

CREATE ROLE regress_rt_analyst;    -- analyst of WIC
CREATE ROLE regress_rt_vital;      -- analyst of Vital Records
CREATE ROLE regress_rt_admin;      -- admin, no program grants (sees all)
CREATE ROLE regress_rt_reader;     -- reader of WIC
SELECT custfocus.grant_access('regress_rt_analyst', 'analyst');
SELECT custfocus.grant_access('regress_rt_vital', 'analyst');
SELECT custfocus.grant_access('regress_rt_admin', 'admin');
SELECT custfocus.grant_access('regress_rt_reader', 'reader');
SELECT custfocus.grant_program_access('regress_rt_analyst', 'WIC');
SELECT custfocus.grant_program_access('regress_rt_vital', 'VITAL');
SELECT custfocus.grant_program_access('regress_rt_reader', 'WIC');

-- Runs a statement as the current role and returns 'ok' or the error's
-- message and detail, with the ids (which depend on the tests run before)
-- replaced by N.
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	m text;
	d text;
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL;
	RETURN regexp_replace(m || coalesce(' | ' || nullif(d, ''), ''),
						  '(item|response|respondent) \d+', '\1 N', 'gi');
END
$$;

-- Vital Records owns a survey WIC must know nothing about (issue 12, item 9).
INSERT INTO custfocus.survey (code, name, program_id)
	SELECT 'vital-secret-exit', 'Vital Records exit survey', program_id FROM custfocus.program WHERE code = 'VITAL';
INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric)
	SELECT survey_id, 'VX_PATERNITY_DISPUTE', 'Was the paternity dispute resolved?', 6, 'yes_no'
	  FROM custfocus.survey WHERE code = 'vital-secret-exit';
SELECT item_id AS secret_item, survey_id AS secret_survey FROM custfocus.item WHERE code = 'VX_PATERNITY_DISPUTE' \gset

---------------------------------------------------------------------------
-- The program tree is the agency's structure (issue 12, item 5): the admin
-- adds a program under WIC (issue 12, item 13: INSERT ... RETURNING reads
-- back the new row).
---------------------------------------------------------------------------
SET ROLE regress_rt_admin;
INSERT INTO custfocus.program (code, name, parent_id)
	SELECT 'WIC-PEER', 'WIC breastfeeding peer counselling', program_id FROM custfocus.program WHERE code = 'WIC'
	RETURNING code, level;
RESET ROLE;

---------------------------------------------------------------------------
-- Analyst of WIC
---------------------------------------------------------------------------
SET ROLE regress_rt_analyst;

-- Record the organisation.  Adding, moving or recoding a program is the
-- admins' (since 1.2); describing its programs is the analyst's.
SELECT pg_temp.try($$INSERT INTO custfocus.program (code, name, parent_id)
	SELECT 'WIC-TEXT', 'WIC text reminders', program_id FROM custfocus.program WHERE code = 'WIC'$$) AS add_program;
UPDATE custfocus.program SET name = 'WIC peer counselling', description = 'Peer counsellors call new parents'
 WHERE code = 'WIC-PEER' RETURNING code, name, description;
-- a service, its customers (an agency-wide segment, and a segment of WIC's
-- own: agency-wide ones are the admins' since 1.2), a need, requirements
INSERT INTO custfocus.service (program_id, code, name)
	SELECT program_id, 'WIC-PEER-CALLS', 'Peer counsellor calls' FROM custfocus.program WHERE code = 'WIC-PEER'
	RETURNING code;
SELECT pg_temp.try($$INSERT INTO custfocus.segment (code, name) VALUES ('WIC-PARENTS', 'Parents enrolled in WIC')$$) AS agency_wide_segment;
INSERT INTO custfocus.segment (code, name, program_id)
	SELECT 'WIC-PARENTS', 'Parents enrolled in WIC', program_id FROM custfocus.program WHERE code = 'WIC'
	RETURNING code;
UPDATE custfocus.segment SET description = 'Enrolled this year' WHERE code = 'WIC-PARENTS' RETURNING description;
INSERT INTO custfocus.service_segment (service_id, segment_id, need)
	SELECT s.service_id, g.segment_id, v.need
	  FROM custfocus.service s, custfocus.segment g,
		   (VALUES ('WIC-PARENTS', 'support with breastfeeding'), ('CLIENT', 'a call back')) AS v (segment, need)
	 WHERE s.code = 'WIC-PEER-CALLS' AND g.code = v.segment
	RETURNING need;
SELECT pg_temp.try($$INSERT INTO custfocus.requirement (code, name, importance) VALUES ('wic-warmth', 'Warmth', 70)$$) AS agency_wide_requirement;
INSERT INTO custfocus.requirement (code, name, importance, program_id)
	SELECT 'wic-warmth', 'Warmth', 70, program_id FROM custfocus.program WHERE code = 'WIC' RETURNING code;
INSERT INTO custfocus.service_requirement (service_id, requirement_id)
	SELECT s.service_id, r.requirement_id FROM custfocus.service s, custfocus.requirement r
	 WHERE s.code = 'WIC-PEER-CALLS' AND r.code IN ('wic-warmth', 'courtesy')
	RETURNING importance;

-- Describe an instrument: a survey of its program (issue 12, item 13: with
-- RETURNING, as ORMs insert), a scale of its own with labels, and items,
-- text items included (issue 12, item 2).
INSERT INTO custfocus.survey (code, name, program_id)
	SELECT 'wic-exit', 'WIC exit interview', program_id FROM custfocus.program WHERE code = 'WIC'
	RETURNING code, name;
UPDATE custfocus.survey SET description = 'Asked at the last visit' WHERE code = 'wic-exit' RETURNING description;
SELECT pg_temp.try($$INSERT INTO custfocus.scale (code, name, min_value, max_value) VALUES ('wic-warm5', 'Warmth, 1 to 5', 1, 5)$$) AS agency_wide_scale;
INSERT INTO custfocus.scale (code, name, min_value, max_value, program_id)
	SELECT 'wic-warm5', 'Warmth, 1 to 5', 1, 5, program_id FROM custfocus.program WHERE code = 'WIC'
	RETURNING code, min_value, max_value;
INSERT INTO custfocus.scale_label (scale_id, label, value)
	SELECT scale_id, v.label, v.value FROM custfocus.scale,
		   (VALUES ('Cold', 1), ('Warm', 4), ('Very warm', 5)) AS v (label, value)
	 WHERE code = 'wic-warm5'
	RETURNING label, value;
UPDATE custfocus.scale_label SET label = 'Very cold'
 WHERE label = 'Cold' AND scale_id = (SELECT scale_id FROM custfocus.scale WHERE code = 'wic-warm5');
WITH ins AS (
INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric, requirement_id, is_overall, position)
	SELECT sv.survey_id, v.code, v.text, sc.scale_id, v.metric, r.requirement_id, v.is_overall, v.position
	  FROM (VALUES ('X1', 'How warm was the counsellor?', 'wic-warm5', 'rating', 'wic-warmth', false, 1),
				   ('X2', 'Overall, how satisfied are you?', 'satisfied5', 'rating', NULL, true, 2),
				   ('X3', 'How likely are you to recommend WIC?', 'nps11', 'nps', NULL, false, 3),
				   ('X4', 'What should we change?', NULL, 'text', NULL, false, 4)) AS v (code, text, scale, metric, requirement, is_overall, position)
	  JOIN custfocus.survey sv ON sv.code = 'wic-exit'
	  LEFT JOIN custfocus.scale sc ON sc.code = v.scale
	  LEFT JOIN custfocus.requirement r ON r.code = v.requirement
	RETURNING code, metric
)
SELECT * FROM ins ORDER BY code;  -- RETURNING's order is not the VALUES' on every major
UPDATE custfocus.item SET text = 'Anything else?' WHERE code = 'X4' RETURNING text;
-- the scale of its own may be widened and narrowed while no answer is off it
UPDATE custfocus.scale SET max_value = 7 WHERE code = 'wic-warm5' RETURNING max_value;
UPDATE custfocus.scale SET max_value = 5 WHERE code = 'wic-warm5' RETURNING max_value;
UPDATE custfocus.item SET scale_id = (SELECT scale_id FROM custfocus.scale WHERE code = 'agree5') WHERE code = 'X1';
UPDATE custfocus.item SET scale_id = (SELECT scale_id FROM custfocus.scale WHERE code = 'wic-warm5') WHERE code = 'X1';
-- the metric rules hold for it as for anyone
SELECT pg_temp.try($$UPDATE custfocus.item SET metric = 'yes_no' WHERE code = 'X3'$$) AS yes_no_on_nps11;

-- Import a survey export.
SELECT status, rows_read, responses_inserted, answers_inserted, imported_by = current_user AS by_me
  FROM custfocus.import_responses('wic-exit', E'respondent_id,submitted_at,service,X1,X2,X3,X4\n'
		'W_1,2026-03-02 10:00:00,WIC-CLINIC,5,4,9,More evening hours\n'
		'W_2,2026-03-03 11:00:00,WIC-CLINIC,Warm,5,10,\n'
		'W_3,2026-03-04 12:00:00,WIC-ONLINE,Very cold,2,3,The portal logs me out\n');
SELECT r.external_id, count(a.*) AS answers
  FROM custfocus.response r JOIN custfocus.survey s USING (survey_id) LEFT JOIN custfocus.answer a USING (response_id)
 WHERE s.code = 'wic-exit' GROUP BY 1 ORDER BY 1;
SELECT count(*) AS my_batches FROM custfocus.import_batch WHERE imported_by = current_user;
-- a response entered by hand, read back
INSERT INTO custfocus.response (survey_id, service_id, submitted_at, external_id)
	SELECT sv.survey_id, s.service_id, '2026-03-05', 'W_4' FROM custfocus.survey sv, custfocus.service s
	 WHERE sv.code = 'wic-exit' AND s.code = 'WIC-CLINIC'
	RETURNING external_id;
INSERT INTO custfocus.answer (response_id, item_id, value)
	SELECT r.response_id, i.item_id, 4 FROM custfocus.response r JOIN custfocus.item i USING (survey_id)
	 WHERE r.external_id = 'W_4' AND i.code = 'X1'
	RETURNING value;

-- Narrowing its scale below an answer is refused, naming its own rows
SELECT pg_temp.try($$UPDATE custfocus.scale SET max_value = 4 WHERE code = 'wic-warm5'$$) AS narrow_own_scale;

-- Issue 12, item 9: an answer given to Vital Records' secret item.  The
-- message names neither that item nor its survey, which WIC cannot read.
SELECT pg_temp.try(format($$INSERT INTO custfocus.answer (response_id, item_id, value)
	SELECT response_id, %s, 1 FROM custfocus.response WHERE external_id = 'W_4'$$, :secret_item)) AS wrong_survey;
SELECT pg_temp.try(format($$INSERT INTO custfocus.answer (response_id, item_id, value)
	SELECT response_id, %s, 7 FROM custfocus.response WHERE external_id = 'W_4'$$, :secret_item)) AS wrong_survey_off_scale;
-- a response of WIC's service to Vital Records' survey (whose id it guessed)
-- is refused by the response policy (writes need a readable survey), so
-- there is no response to answer that survey's item under
INSERT INTO custfocus.response (survey_id, service_id, submitted_at, external_id)
	SELECT :secret_survey, service_id, '2026-03-05', 'W_5' FROM custfocus.service WHERE code = 'WIC-CLINIC';
SELECT pg_temp.try(format($$INSERT INTO custfocus.answer (response_id, item_id, value)
	SELECT response_id, %s, 7 FROM custfocus.response WHERE external_id = 'W_5'$$, :secret_item)) AS off_scale_secret;
DELETE FROM custfocus.response WHERE external_id = 'W_5';
-- own errors keep naming its own items
SELECT pg_temp.try($$INSERT INTO custfocus.answer (response_id, item_id, value)
	SELECT r.response_id, i.item_id, 9 FROM custfocus.response r JOIN custfocus.item i USING (survey_id)
	 WHERE r.external_id = 'W_4' AND i.code = 'X2'$$) AS off_scale;
SELECT pg_temp.try($$INSERT INTO custfocus.answer (response_id, item_id, value)
	SELECT r.response_id, i.item_id, 9 FROM custfocus.response r JOIN custfocus.item i USING (survey_id)
	 WHERE r.external_id = 'W_4' AND i.code = 'X4'$$) AS number_to_text_item;

-- Voice of the customer: record feedback, acknowledge it, close it.
INSERT INTO custfocus.feedback (kind, body, service_id, channel)
	SELECT 'complaint', 'Clinic closed early', service_id, 'phone' FROM custfocus.service WHERE code = 'WIC-CLINIC'
	RETURNING kind, status;
UPDATE custfocus.feedback SET status = 'acknowledged', owner = 'clinic manager'
 WHERE body = 'Clinic closed early' RETURNING status, acknowledged_at IS NOT NULL AS acknowledged;
UPDATE custfocus.feedback SET status = 'closed', resolution = 'Hours posted on the door'
 WHERE body = 'Clinic closed early' RETURNING status, closed_at IS NOT NULL AS closed;

-- Measures and improvement actions.
INSERT INTO custfocus.measure (code, name, service_id, metric, item_id, target)
	SELECT 'WIC-WARMTH', 'Counsellor warmth', s.service_id, 'top_box', i.item_id, 80
	  FROM custfocus.service s, custfocus.item i WHERE s.code = 'WIC-CLINIC' AND i.code = 'X1'
	RETURNING code, target;
UPDATE custfocus.measure SET target = 85 WHERE code = 'WIC-WARMTH' RETURNING target;
INSERT INTO custfocus.improvement_action (title, service_id, measure_id, status)
	SELECT 'Warmth training', m.service_id, m.measure_id, 'in_progress' FROM custfocus.measure m WHERE m.code = 'WIC-WARMTH'
	RETURNING title, status;
UPDATE custfocus.improvement_action SET status = 'completed', result_value = 86
 WHERE title = 'Warmth training' RETURNING status, closed_on IS NOT NULL AS closed;

-- Engagement.
INSERT INTO custfocus.engagement (kind, title, held_on, program_id, participants)
	SELECT 'focus_group', 'Peer counselling focus group', '2026-03-10', program_id, 8
	  FROM custfocus.program WHERE code = 'WIC-PEER'
	RETURNING kind, title;

-- The analyst's views show its new data.
SELECT measure_code, n FROM custfocus.measure_status WHERE measure_code = 'WIC-WARMTH' ORDER BY period_start;
-- and what it may not do
SELECT pg_temp.try($$SELECT custfocus.apply_retention('wic-exit', '1 day')$$) AS retention;
SELECT pg_temp.try($$SELECT count(*) FROM custfocus.respondent_contact$$) AS contacts;
RESET ROLE;
-- What the analyst did (an import, a response entered by hand and its
-- answer added in a statement of its own, i.e. to a stored response) left
-- the roll-ups and the complementary cells exact: its commits ran the
-- triggers and the suppression as the extension's owner.
SELECT count(*) AS verify_problems FROM custfocus.rollup_verify();

---------------------------------------------------------------------------
-- Analyst of Vital Records.  WIC's scale is WIC's since 1.2 (issue 12,
-- item 8): Vital Records neither reads nor changes it.
---------------------------------------------------------------------------
SET ROLE regress_rt_vital;
UPDATE custfocus.scale SET max_value = 3 WHERE code = 'wic-warm5';
SELECT count(*) AS wic_scales_seen FROM custfocus.scale WHERE code = 'wic-warm5';
RESET ROLE;
-- A scale of Vital Records that an item of WIC's survey uses: rows from
-- before the ownership rules, or a superuser's (who bypasses them), can
-- still tie them.  Narrowing it below WIC's answers is refused without
-- naming WIC's items or responses (issue 12, items 2 and 9).
INSERT INTO custfocus.scale (code, name, min_value, max_value, program_id)
	SELECT 'vital-legacy5', 'Legacy scale, 1 to 5', 1, 5, program_id FROM custfocus.program WHERE code = 'VITAL';
INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric)
	SELECT sv.survey_id, 'X5', 'How was the wait?', sc.scale_id, 'rating'
	  FROM custfocus.survey sv, custfocus.scale sc WHERE sv.code = 'wic-exit' AND sc.code = 'vital-legacy5';
INSERT INTO custfocus.answer (response_id, item_id, value)
	SELECT r.response_id, i.item_id, 5 FROM custfocus.response r JOIN custfocus.item i USING (survey_id)
	 WHERE r.external_id IN ('W_1', 'W_2', 'W_3') AND i.code = 'X5';
SET ROLE regress_rt_vital;
SELECT pg_temp.try($$UPDATE custfocus.scale SET max_value = 3 WHERE code = 'vital-legacy5'$$) AS narrow_shared_scale;
SELECT pg_temp.try($$UPDATE custfocus.scale SET min_value = 0, max_value = 9 WHERE code = 'vital-legacy5'$$) AS widen_shared_scale;
SELECT max_value FROM custfocus.scale WHERE code = 'vital-legacy5';
UPDATE custfocus.scale SET min_value = 1, max_value = 5 WHERE code = 'vital-legacy5';
-- its own survey, items and a response of its own, answered
INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric)
	SELECT survey_id, 'VX_TEXT', 'Comments', NULL, 'text' FROM custfocus.survey WHERE code = 'vital-secret-exit'
	RETURNING code;
RESET ROLE;

---------------------------------------------------------------------------
-- Admin made with grant_access: everything, every program
---------------------------------------------------------------------------
SET ROLE regress_rt_admin;
INSERT INTO custfocus.program (code, name, level) VALUES ('ADM-UNIT', 'Unit added by the admin', 'program')
	RETURNING code;
-- the program tree, and the agency-wide segments, requirements, scales and
-- labels (built-in scales included) are the admin's
UPDATE custfocus.program SET parent_id = (SELECT program_id FROM custfocus.program WHERE code = 'MDH'), level = 'division'
 WHERE code = 'ADM-UNIT' RETURNING code, level;
DELETE FROM custfocus.program WHERE code = 'ADM-UNIT' RETURNING code;
INSERT INTO custfocus.segment (code, name) VALUES ('VETERANS', 'Veterans and their families') RETURNING code, program_id;
UPDATE custfocus.requirement SET importance = 92 WHERE code = 'timeliness' RETURNING code, importance;
INSERT INTO custfocus.scale_label (scale_id, label, value)
	SELECT scale_id, 'Mostly satisfied', 4 FROM custfocus.scale WHERE code = 'satisfied5' RETURNING label, value, builtin;
INSERT INTO custfocus.survey (code, name) VALUES ('agency-pulse', 'Agency pulse survey') RETURNING code;
INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric)
	SELECT sv.survey_id, v.code, v.text, v.scale_id, v.metric
	  FROM custfocus.survey sv,
		   (VALUES ('P1', 'How was it?', 2, 'rating'), ('P2', 'Tell us more', NULL, 'text')) AS v (code, text, scale_id, metric)
	 WHERE sv.code = 'agency-pulse'
	RETURNING code;
INSERT INTO custfocus.scale (code, name, min_value, max_value) VALUES ('pulse3', 'Pulse, 1 to 3', 1, 3) RETURNING code;
INSERT INTO custfocus.scale_label (scale_id, label, value)
	SELECT scale_id, 'Fine', 2 FROM custfocus.scale WHERE code = 'pulse3' RETURNING label;
UPDATE custfocus.scale SET max_value = 4 WHERE code = 'pulse3' RETURNING max_value;
-- narrowing WIC's scale: the admin sees every program, so it is told which
SELECT pg_temp.try($$UPDATE custfocus.scale SET max_value = 4 WHERE code = 'wic-warm5'$$) AS narrow_as_admin;
-- contact details, grants and retention are the admin's
INSERT INTO custfocus.respondent_contact (response_id, email)
	SELECT response_id, 'parent@example.org' FROM custfocus.response WHERE external_id = 'W_1' RETURNING email;
SELECT count(*) AS grants FROM custfocus.program_access WHERE role_name LIKE 'regress_rt_%';
SELECT custfocus.apply_retention('wic-exit', now() - timestamptz '2026-03-03 12:00', 'anonymise') AS anonymised;
SELECT external_id, (SELECT count(*) FROM custfocus.respondent_contact c WHERE c.response_id = r.response_id) AS contacts
  FROM custfocus.response r JOIN custfocus.survey s USING (survey_id) WHERE s.code = 'wic-exit' ORDER BY 1;
SELECT custfocus.apply_retention('wic-exit', now() - timestamptz '2026-03-03 12:00', 'delete') AS deleted;
RESET ROLE;

---------------------------------------------------------------------------
-- Reader of WIC: the views, nothing else
---------------------------------------------------------------------------
SET ROLE regress_rt_reader;
SELECT count(*) > 0 AS scorecard, bool_and(program_code IN ('WIC', 'WIC-PEER')) AS only_wic FROM custfocus.scorecard;
SELECT count(*) > 0 AS feedback_queue FROM custfocus.feedback_queue;
SELECT measure_code FROM custfocus.measure_status GROUP BY 1 ORDER BY 1;
SELECT count(*) >= 0 AS customer_inventory FROM custfocus.customer_inventory;
SELECT count(*) >= 0 AS improvement_opportunities FROM custfocus.improvement_opportunities;
SELECT pg_temp.try($$SELECT count(*) FROM custfocus.response$$) AS raw_table;
SELECT pg_temp.try($$INSERT INTO custfocus.feedback (kind, body) VALUES ('complaint', 'x')$$) AS write;
RESET ROLE;

-- Clean up: roles, and the sample data (other tests start from empty tables).
SELECT custfocus.revoke_access(r::regrole)
  FROM unnest(ARRAY['regress_rt_analyst', 'regress_rt_vital', 'regress_rt_admin', 'regress_rt_reader']) r;
DROP ROLE regress_rt_analyst, regress_rt_vital, regress_rt_admin, regress_rt_reader;
TRUNCATE custfocus.program_access, custfocus.role_access, custfocus.answer, custfocus.respondent_contact, custfocus.response, custfocus.import_error,
		 custfocus.import_batch, custfocus.feedback, custfocus.improvement_action, custfocus.measure,
		 custfocus.engagement, custfocus.item, custfocus.survey, custfocus.service_requirement,
		 custfocus.service_segment, custfocus.requirement, custfocus.service, custfocus.segment;
-- (scale refers to program, and keeps its built-in rows)
DELETE FROM custfocus.scale_label WHERE NOT builtin;
DELETE FROM custfocus.scale WHERE NOT builtin;
DELETE FROM custfocus.program;

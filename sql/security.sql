-- Access levels, program-level row security and search_path hardening,
-- exercised as distinct roles (created here and dropped at the end).
\set ON_ERROR_ROLLBACK on
\set VERBOSITY terse
\set responses 240
\set ECHO none
\i test/data/sample_agency.sql
\set ECHO all
\unset ON_ERROR_STOP

CREATE ROLE regress_cf_reader;
CREATE ROLE regress_cf_wic;          -- analyst of the WIC program
CREATE ROLE regress_cf_vital;        -- analyst of Vital Records
CREATE ROLE regress_cf_cfh;          -- reader of the whole CFH division
CREATE ROLE regress_cf_admin;
CREATE ROLE regress_cf_member IN ROLE regress_cf_wic;   -- inherits WIC's access
CREATE ROLE regress_cf_mallory;      -- analyst of WIC with bad intentions
CREATE ROLE regress_cf_nobody;       -- granted nothing

SELECT custfocus.grant_access('regress_cf_reader', 'reader');
SELECT custfocus.grant_access('regress_cf_wic', 'analyst');
SELECT custfocus.grant_access('regress_cf_vital', 'analyst');
SELECT custfocus.grant_access('regress_cf_cfh', 'reader');
SELECT custfocus.grant_access('regress_cf_admin', 'admin');
SELECT custfocus.grant_access('regress_cf_mallory', 'analyst');
SELECT custfocus.grant_access('regress_cf_member', 'superuser');
SELECT custfocus.grant_program_access('regress_cf_wic', 'WIC');
SELECT custfocus.grant_program_access('regress_cf_mallory', 'wic');
SELECT custfocus.grant_program_access('regress_cf_vital', 'VITAL');
SELECT custfocus.grant_program_access('regress_cf_cfh', 'CFH');
SELECT custfocus.grant_program_access('regress_cf_cfh', 'NO-SUCH-PROGRAM');
SELECT role_name, level FROM custfocus.role_access ORDER BY 1;
SELECT a.role_name, p.code FROM custfocus.program_access a JOIN custfocus.program p USING (program_id) ORDER BY 1, 2;

-- What each program holds, counted as the owner (who is not subject to row
-- security), to compare with what each role sees.
SELECT array_agg(s.service_id ORDER BY s.service_id) AS wic_services
  FROM custfocus.service s JOIN custfocus.program p USING (program_id) WHERE p.code = 'WIC' \gset
SELECT
	(SELECT count(*) FROM custfocus.response WHERE service_id = ANY (:'wic_services')) AS wic_responses,
	(SELECT count(*) FROM custfocus.answer a JOIN custfocus.response r USING (response_id)
	  WHERE r.service_id = ANY (:'wic_services')) AS wic_answers,
	(SELECT count(*) FROM custfocus.feedback WHERE service_id = ANY (:'wic_services')) AS wic_feedback,
	(SELECT count(*) FROM custfocus.service_segment WHERE service_id = ANY (:'wic_services')) AS wic_needs,
	(SELECT count(*) FROM custfocus.service_requirement WHERE service_id = ANY (:'wic_services')) AS wic_requirements,
	(SELECT count(*) FROM custfocus.item) AS all_items,
	(SELECT count(*) FROM custfocus.answer) AS all_answers,
	(SELECT count(*) FROM custfocus.response) AS all_responses,
	(SELECT array_agg(program_id ORDER BY program_id) FROM custfocus.program
	  WHERE code IN ('CFH', 'WIC', 'NEWBORN')) AS cfh_programs,
	(SELECT service_id FROM custfocus.service WHERE code = 'VITAL-RECORDS') AS vital_service \gset
SELECT :wic_responses > 0 AS wic_has_responses, :wic_answers > 0 AS wic_has_answers,
	   :wic_feedback > 0 AS wic_has_feedback;

-- A reader reads no raw table and cannot change anything.
SET ROLE regress_cf_reader;
SELECT count(*) FROM custfocus.answer;
SELECT count(*) FROM custfocus.response;
SELECT count(*) FROM custfocus.program;
INSERT INTO custfocus.feedback (kind, body) VALUES ('complaint', 'Reader writing');
SELECT custfocus.grant_access('regress_cf_reader', 'admin');
RESET ROLE;

-- An analyst of WIC sees WIC's rows and nothing of any other program, in
-- every table; each line is true.
SET ROLE regress_cf_wic;
SELECT 'program' AS t, array_agg(code ORDER BY code)::text = '{WIC}' AS only_wic FROM custfocus.program
UNION ALL SELECT 'service', array_agg(code ORDER BY code)::text = '{WIC-CLINIC,WIC-ONLINE}' FROM custfocus.service
UNION ALL SELECT 'service_segment', count(*) = :wic_needs AND bool_and(service_id = ANY (:'wic_services')) FROM custfocus.service_segment
UNION ALL SELECT 'service_requirement', count(*) = :wic_requirements AND bool_and(service_id = ANY (:'wic_services')) FROM custfocus.service_requirement
UNION ALL SELECT 'survey (read: owned above WIC)', array_agg(code ORDER BY code)::text = '{cahps-clinic,cs2026}' FROM custfocus.survey
UNION ALL SELECT 'item', count(*) = :all_items FROM custfocus.item
UNION ALL SELECT 'response', count(*) = :wic_responses AND bool_and(service_id = ANY (:'wic_services')) FROM custfocus.response
UNION ALL SELECT 'answer', count(*) = :wic_answers FROM custfocus.answer
UNION ALL SELECT 'feedback', count(*) = :wic_feedback AND bool_and(service_id = ANY (:'wic_services')) FROM custfocus.feedback
UNION ALL SELECT 'measure', array_agg(code ORDER BY code)::text = '{WIC-NPS}' FROM custfocus.measure
UNION ALL SELECT 'improvement_action', array_agg(title)::text = '{"Evening WIC clinic hours pilot"}' FROM custfocus.improvement_action
UNION ALL SELECT 'engagement', array_agg(title)::text = '{"WIC parent advisory council"}' FROM custfocus.engagement
UNION ALL SELECT 'import_batch', count(*) = 0 FROM custfocus.import_batch
UNION ALL SELECT 'import_error', count(*) = 0 FROM custfocus.import_error;
-- ... and in every view: rows of WIC (or of no service), nothing of another
-- program, no roll-up of a program above WIC.
SELECT 'customer_inventory' AS v, count(*) > 0 AS has_rows,
	   bool_and(service_code IS NULL OR service_code LIKE 'WIC-%') AS only_wic FROM custfocus.customer_inventory
UNION ALL SELECT 'data_coverage', count(*) > 0, bool_and(program_code = 'WIC') FROM custfocus.data_coverage
UNION ALL SELECT 'feedback_queue', count(*) > 0, bool_and(program_code = 'WIC') FROM custfocus.feedback_queue
UNION ALL SELECT 'voc_themes', true, coalesce(bool_and(program_code = 'WIC'), true) FROM custfocus.voc_themes
UNION ALL SELECT 'scorecard', count(*) > 0, bool_and(program_code = 'WIC') FROM custfocus.scorecard
UNION ALL SELECT 'satisfaction_trend', count(*) > 0, bool_and(program_code = 'WIC') FROM custfocus.satisfaction_trend
UNION ALL SELECT 'measure_status', count(*) > 0, bool_and(measure_code = 'WIC-NPS') FROM custfocus.measure_status
UNION ALL SELECT 'control_chart', true, coalesce(bool_and(measure_code LIKE 'WIC%'), true) FROM custfocus.control_chart
UNION ALL SELECT 'key_drivers', count(*) > 0, bool_and(program_code = 'WIC') FROM custfocus.key_drivers
UNION ALL SELECT 'improvement_opportunities', count(*) > 0, bool_and(program_code = 'WIC') FROM custfocus.improvement_opportunities;
-- the WIC roll-up counts exactly WIC's responses
SELECT sum(responses) = :wic_responses AS rollup_is_wic_only
  FROM custfocus.scorecard WHERE level = 'program' AND grain = 'year';
-- Aggregates over the raw tables count only what the role sees.
SELECT count(DISTINCT a.response_id) = :wic_responses AS counts_only_wic
  FROM custfocus.answer a JOIN custfocus.item i USING (item_id) WHERE i.code = 'Q4' OR true;
-- Contact details and grants are for admins only.
SELECT count(*) FROM custfocus.respondent_contact;
SELECT count(*) FROM custfocus.program_access;
-- It may change WIC's data, and no other program's.
INSERT INTO custfocus.feedback (kind, body, service_id)
	SELECT 'compliment', 'Lovely clinic', service_id FROM custfocus.service WHERE code = 'WIC-CLINIC';
INSERT INTO custfocus.feedback (kind, body, service_id)
	VALUES ('complaint', 'Writing into Vital Records', :vital_service);
INSERT INTO custfocus.feedback (kind, body, service_id) VALUES ('complaint', 'Belongs to no program', NULL);
UPDATE custfocus.measure SET target = 0;          -- only its own measure
UPDATE custfocus.survey SET name = 'Renamed by WIC';   -- owned above WIC: read only
INSERT INTO custfocus.survey (code, name, program_id)
	SELECT 'wic-exit', 'WIC exit interview', program_id FROM custfocus.program WHERE code = 'WIC';
INSERT INTO custfocus.survey (code, name, program_id) VALUES ('rogue', 'Agency-wide survey by WIC', NULL);
DELETE FROM custfocus.answer WHERE true;          -- deletes WIC's answers, and only those
RESET ROLE;
SELECT count(*) = :all_answers - :wic_answers AS only_wic_answers_deleted FROM custfocus.answer;
SELECT count(*) FILTER (WHERE target = 0) AS zeroed, count(*) FROM custfocus.measure;
SELECT count(*) AS renamed FROM custfocus.survey WHERE name = 'Renamed by WIC';

-- Members of a role share its access; a division covers its programs.
SET ROLE regress_cf_member;
SELECT count(*) = :wic_responses AS member_sees_wic FROM custfocus.response;
RESET ROLE;
SET SESSION AUTHORIZATION regress_cf_cfh;
SELECT custfocus.visible_program_ids() = :'cfh_programs' AS division_covers_its_programs;
SELECT count(*) FROM custfocus.response;   -- a reader still reads no raw table
RESET SESSION AUTHORIZATION;
SET ROLE regress_cf_nobody;
SELECT count(*) FROM custfocus.response;
RESET ROLE;

-- An admin sees everything, contact details included.
SET ROLE regress_cf_admin;
SELECT count(*) = :all_responses AS admin_sees_all FROM custfocus.response;
SELECT count(*) AS programs FROM custfocus.program;
SELECT count(*) FROM custfocus.respondent_contact;
RESET ROLE;

-- Nobody learns another role's grants through the visibility functions
-- (SET SESSION AUTHORIZATION, because a session user may ask about any role
-- it could SET ROLE to).
SET SESSION AUTHORIZATION regress_cf_wic;
SELECT custfocus.visible_program_ids() = ARRAY[(SELECT program_id FROM custfocus.program WHERE code = 'WIC')] AS own_ok;
SELECT custfocus.visible_program_ids('regress_cf_vital');
SELECT custfocus.sees_all_programs('regress_cf_admin');
RESET SESSION AUTHORIZATION;

-- search_path hijacking: mallory puts her own trunc() and comparison
-- operators ahead of pg_catalog, hoping the answer check will use them.  The
-- checks pin their search_path, so answers off the scale are still refused.
CREATE SCHEMA regress_cf_mallory_s AUTHORIZATION regress_cf_mallory;
SET ROLE regress_cf_mallory;
CREATE FUNCTION regress_cf_mallory_s.trunc(double precision) RETURNS double precision
	LANGUAGE sql AS 'SELECT $1';
CREATE FUNCTION regress_cf_mallory_s.never(real, double precision) RETURNS boolean
	LANGUAGE sql AS 'SELECT false';
CREATE OPERATOR regress_cf_mallory_s.> (LEFTARG = real, RIGHTARG = double precision, FUNCTION = regress_cf_mallory_s.never);
CREATE OPERATOR regress_cf_mallory_s.< (LEFTARG = real, RIGHTARG = double precision, FUNCTION = regress_cf_mallory_s.never);
CREATE OPERATOR regress_cf_mallory_s.<> (LEFTARG = real, RIGHTARG = double precision, FUNCTION = regress_cf_mallory_s.never);
SET search_path = regress_cf_mallory_s, pg_catalog;
SELECT 6::real > 5::double precision AS hijacked_here;
INSERT INTO custfocus.answer (response_id, item_id, value)
SELECT r.response_id, i.item_id, 6
  FROM custfocus.response r JOIN custfocus.item i ON i.survey_id = r.survey_id AND i.code = 'Q7'
 ORDER BY r.response_id LIMIT 1
ON CONFLICT (response_id, item_id) DO UPDATE SET value = 6;
INSERT INTO custfocus.answer (response_id, item_id, value)
SELECT r.response_id, i.item_id, 3.5
  FROM custfocus.response r JOIN custfocus.item i ON i.survey_id = r.survey_id AND i.code = 'Q7'
 ORDER BY r.response_id LIMIT 1
ON CONFLICT (response_id, item_id) DO UPDATE SET value = 3.5;
SELECT custfocus.label_key('  MiXeD   Case ');
RESET search_path;
RESET ROLE;

-- Revoking takes everything back.
SELECT custfocus.revoke_access('regress_cf_wic');
SET ROLE regress_cf_wic;
SELECT count(*) FROM custfocus.response;
RESET ROLE;
SELECT custfocus.revoke_program_access('regress_cf_wic', 'WIC');
SELECT count(*) FROM custfocus.program_access WHERE role_name = 'regress_cf_wic';

-- Retention: anonymise, then delete, what is older than the cut-off.
SELECT count(*) AS old_responses FROM custfocus.response r JOIN custfocus.survey s USING (survey_id)
 WHERE s.code = 'cs2026' AND r.submitted_at < '2026-01-01';
INSERT INTO custfocus.respondent_contact (response_id, email)
	SELECT response_id, 'r' || response_id || '@example.org' FROM custfocus.response ORDER BY response_id LIMIT 3;
SELECT custfocus.apply_retention('cs2026', now() - timestamptz '2026-01-01', 'anonymise') AS anonymised;
SELECT count(*) FILTER (WHERE r.external_id IS NULL) AS ids_cleared,
	   count(*) FILTER (WHERE r.external_id IS NOT NULL AND r.submitted_at < '2026-01-01') AS old_ids_left
  FROM custfocus.response r JOIN custfocus.survey s USING (survey_id) WHERE s.code = 'cs2026';
SELECT count(*) AS old_text_left FROM custfocus.answer a JOIN custfocus.response r USING (response_id)
 WHERE a.text_value IS NOT NULL AND r.submitted_at < '2026-01-01';
SELECT count(*) AS contacts_left FROM custfocus.respondent_contact;
SELECT custfocus.apply_retention('cs2026', now() - timestamptz '2026-01-01', 'delete') AS deleted;
SELECT count(*) AS old_left FROM custfocus.response r JOIN custfocus.survey s USING (survey_id)
 WHERE s.code = 'cs2026' AND r.submitted_at < '2026-01-01';
SELECT custfocus.apply_retention('cs2026', '1 year', 'shred');
SELECT custfocus.apply_retention('no-such-survey', '1 year');
SET ROLE regress_cf_mallory;
SELECT custfocus.apply_retention('cs2026', '1 day', 'delete');
RESET ROLE;

-- Clean up: roles, and the sample data (other tests start from empty tables).
DROP SCHEMA regress_cf_mallory_s CASCADE;
SELECT custfocus.revoke_access(r::regrole)
  FROM unnest(ARRAY['regress_cf_reader', 'regress_cf_vital', 'regress_cf_cfh', 'regress_cf_admin',
					'regress_cf_mallory']) r;
DROP ROLE regress_cf_reader, regress_cf_wic, regress_cf_vital, regress_cf_cfh, regress_cf_admin,
		  regress_cf_member, regress_cf_mallory, regress_cf_nobody;
TRUNCATE custfocus.program_access, custfocus.role_access, custfocus.answer, custfocus.respondent_contact, custfocus.response, custfocus.import_error,
		 custfocus.import_batch, custfocus.feedback, custfocus.improvement_action, custfocus.measure,
		 custfocus.engagement, custfocus.item, custfocus.survey, custfocus.service_requirement,
		 custfocus.service_segment, custfocus.requirement, custfocus.service, custfocus.segment;
-- (scale refers to program, and keeps its built-in rows)
DELETE FROM custfocus.scale_label WHERE NOT builtin;
DELETE FROM custfocus.scale WHERE NOT builtin;
DELETE FROM custfocus.program;

-- Respondent ids are unique per survey and service (issue 12, items 3 and
-- 4): two programs sharing the agency-wide survey ri-shared each keep their own
-- id space, so one program's import neither displaces the other's
-- responses as duplicates nor learns that an id exists; re-importing the
-- same export still adds nothing twice.  And a response is written only to
-- a survey its writer may read.  Every step runs as the analyst who does it.
\set ON_ERROR_ROLLBACK on
\set VERBOSITY terse
SET client_min_messages = warning;

-- An agency with two programs that share its survey, and a survey of one
-- program's own.
INSERT INTO custfocus.program (code, name, level) VALUES ('RI_AGENCY', 'Agency', 'agency');
INSERT INTO custfocus.program (code, name, level, parent_id)
SELECT v, v, 'program', program_id FROM custfocus.program, (VALUES ('RI_WIC'), ('RI_VITAL')) AS x (v)
 WHERE code = 'RI_AGENCY';
INSERT INTO custfocus.service (program_id, code, name)
SELECT p.program_id, v.code, v.code FROM custfocus.program p
  JOIN (VALUES ('RI_WIC', 'RI-WIC-CLINIC'), ('RI_WIC', 'RI-WIC-ONLINE'), ('RI_VITAL', 'RI-VITAL-REC')) AS v (program, code)
	ON p.code = v.program;
INSERT INTO custfocus.survey (code, name, program_id)
SELECT 'ri-shared', 'Agency-wide survey', program_id FROM custfocus.program WHERE code = 'RI_AGENCY'
UNION ALL
SELECT 'ri-vital-own', 'Vital Records own survey', program_id FROM custfocus.program WHERE code = 'RI_VITAL';
INSERT INTO custfocus.item (survey_id, code, text, scale_id)
SELECT survey_id, 'Q1', 'Overall, I was satisfied', 1 FROM custfocus.survey WHERE code IN ('ri-shared', 'ri-vital-own');

CREATE ROLE regress_ri_wic;
CREATE ROLE regress_ri_vital;
SELECT custfocus.grant_access('regress_ri_wic', 'analyst');
SELECT custfocus.grant_access('regress_ri_vital', 'analyst');
SELECT custfocus.grant_program_access('regress_ri_wic', 'RI_WIC');
SELECT custfocus.grant_program_access('regress_ri_vital', 'RI_VITAL');

-- WIC loads two respondents into the shared survey ...
SET ROLE regress_ri_wic;
SELECT status, responses_inserted, duplicates
  FROM custfocus.import_responses('ri-shared', E'respondent_id,submitted_at,service,Q1\n'
	'V_NEW_1,2026-05-02,RI-WIC-CLINIC,4\nV_NEW_2,2026-05-02,RI-WIC-CLINIC,5\n');
-- ... and Vital Records, later, three with ids that happen to be the same.
SET ROLE regress_ri_vital;
SELECT status, responses_inserted, duplicates
  FROM custfocus.import_responses('ri-shared', E'respondent_id,submitted_at,service,Q1\n'
	'V_NEW_1,2026-05-03,RI-VITAL-REC,2\nV_NEW_2,2026-05-03,RI-VITAL-REC,3\nV_NEW_3,2026-05-03,RI-VITAL-REC,1\n');
-- Loading the same export again adds nothing.
SELECT status, responses_inserted, duplicates
  FROM custfocus.import_responses('ri-shared', E'respondent_id,submitted_at,service,Q1\n'
	'V_NEW_1,2026-05-03,RI-VITAL-REC,2\nV_NEW_2,2026-05-03,RI-VITAL-REC,3\nV_NEW_3,2026-05-03,RI-VITAL-REC,1\n');
SELECT r.external_id, s.code AS service, a.value
  FROM custfocus.response r JOIN custfocus.service s USING (service_id)
  JOIN custfocus.answer a USING (response_id)
 WHERE r.external_id LIKE 'V\_NEW\_%' ORDER BY 1, 2;
RESET ROLE;
-- Each program's responses stayed on its own services.
SELECT s.code AS service, count(*) FROM custfocus.response r JOIN custfocus.service s USING (service_id)
 WHERE r.external_id LIKE 'V\_NEW\_%' GROUP BY 1 ORDER BY 1;

-- No oracle: an id Vital Records holds is no conflict for WIC, by hand either.
SET ROLE regress_ri_wic;
INSERT INTO custfocus.response (survey_id, service_id, submitted_at, external_id)
SELECT sv.survey_id, s.service_id, '2026-05-04', 'V_NEW_3'
  FROM custfocus.survey sv, custfocus.service s WHERE sv.code = 'ri-shared' AND s.code = 'RI-WIC-ONLINE';
-- Within its own id space a repeated id is still refused.
INSERT INTO custfocus.response (survey_id, service_id, submitted_at, external_id)
SELECT sv.survey_id, s.service_id, '2026-05-04', 'V_NEW_3'
  FROM custfocus.survey sv, custfocus.service s WHERE sv.code = 'ri-shared' AND s.code = 'RI-WIC-ONLINE';

-- A response of a WIC service to a survey WIC cannot read is refused, even
-- with the survey's id guessed.
RESET ROLE;
SELECT survey_id AS vital_survey FROM custfocus.survey WHERE code = 'ri-vital-own' \gset
SET ROLE regress_ri_wic;
SELECT count(*) AS wic_sees_vital_survey FROM custfocus.survey WHERE code = 'ri-vital-own';
INSERT INTO custfocus.response (survey_id, service_id, submitted_at)
SELECT :vital_survey, s.service_id, '2026-05-04' FROM custfocus.service s WHERE s.code = 'RI-WIC-CLINIC';
-- ... and so is moving one of its responses there.
UPDATE custfocus.response SET survey_id = :vital_survey WHERE external_id = 'V_NEW_1';
RESET ROLE;

-- A service id of 0 would share the key of responses without a service.
INSERT INTO custfocus.service (service_id, program_id, code, name)
SELECT 0, program_id, 'RI-ZERO', 'Zero' FROM custfocus.program WHERE code = 'RI_WIC';

SELECT custfocus.revoke_access('regress_ri_wic'), custfocus.revoke_access('regress_ri_vital');
DELETE FROM custfocus.program_access WHERE role_name IN ('regress_ri_wic', 'regress_ri_vital');
DROP ROLE regress_ri_wic, regress_ri_vital;
DELETE FROM custfocus.response WHERE survey_id IN (SELECT survey_id FROM custfocus.survey WHERE code LIKE 'ri-%');
DELETE FROM custfocus.import_batch WHERE survey_id IN (SELECT survey_id FROM custfocus.survey WHERE code LIKE 'ri-%');
DELETE FROM custfocus.item WHERE survey_id IN (SELECT survey_id FROM custfocus.survey WHERE code LIKE 'ri-%');
DELETE FROM custfocus.survey WHERE code LIKE 'ri-%';
DELETE FROM custfocus.service WHERE code LIKE 'RI-%';
DELETE FROM custfocus.program WHERE code IN ('RI_WIC', 'RI_VITAL');
DELETE FROM custfocus.program WHERE code = 'RI_AGENCY';

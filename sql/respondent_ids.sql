-- Respondent ids are unique per survey and service (issue 12, items 3 and
-- 4): two programs sharing the agency-wide survey cs2026 each keep their own
-- id space, so one program's import neither displaces the other's
-- responses as duplicates nor learns that an id exists; re-importing the
-- same export still adds nothing twice.  And a response is written only to
-- a survey its writer may read.  Every step runs as the analyst who does it.
\set ON_ERROR_ROLLBACK on
\set VERBOSITY terse
\set responses 40
\set ECHO none
\i test/data/sample_agency.sql
\set ECHO all
\unset ON_ERROR_STOP
SET client_min_messages = warning;

CREATE ROLE regress_ri_wic;
CREATE ROLE regress_ri_vital;
SELECT custfocus.grant_access('regress_ri_wic', 'analyst');
SELECT custfocus.grant_access('regress_ri_vital', 'analyst');
SELECT custfocus.grant_program_access('regress_ri_wic', 'WIC');
SELECT custfocus.grant_program_access('regress_ri_vital', 'VITAL');
INSERT INTO custfocus.survey (code, name, program_id)
	SELECT 'vital-own', 'Vital Records own survey', program_id FROM custfocus.program WHERE code = 'VITAL';

-- WIC loads two respondents into the shared survey ...
SET ROLE regress_ri_wic;
SELECT status, responses_inserted, duplicates
  FROM custfocus.import_responses('cs2026', E'respondent_id,submitted_at,service,Q1\n'
	'V_NEW_1,2026-05-02,WIC-CLINIC,4\nV_NEW_2,2026-05-02,WIC-CLINIC,5\n');
-- ... and Vital Records, later, three with ids that happen to be the same.
SET ROLE regress_ri_vital;
SELECT status, responses_inserted, duplicates
  FROM custfocus.import_responses('cs2026', E'respondent_id,submitted_at,service,Q1\n'
	'V_NEW_1,2026-05-03,VITAL-RECORDS,2\nV_NEW_2,2026-05-03,VITAL-RECORDS,3\nV_NEW_3,2026-05-03,VITAL-RECORDS,1\n');
-- Loading the same export again adds nothing.
SELECT status, responses_inserted, duplicates
  FROM custfocus.import_responses('cs2026', E'respondent_id,submitted_at,service,Q1\n'
	'V_NEW_1,2026-05-03,VITAL-RECORDS,2\nV_NEW_2,2026-05-03,VITAL-RECORDS,3\nV_NEW_3,2026-05-03,VITAL-RECORDS,1\n');
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
  FROM custfocus.survey sv, custfocus.service s WHERE sv.code = 'cs2026' AND s.code = 'WIC-ONLINE';
-- Within its own id space a repeated id is still refused.
INSERT INTO custfocus.response (survey_id, service_id, submitted_at, external_id)
SELECT sv.survey_id, s.service_id, '2026-05-04', 'V_NEW_3'
  FROM custfocus.survey sv, custfocus.service s WHERE sv.code = 'cs2026' AND s.code = 'WIC-ONLINE';

-- A response of a WIC service to a survey WIC cannot read is refused, even
-- with the survey's id guessed.
RESET ROLE;
SELECT survey_id AS vital_survey FROM custfocus.survey WHERE code = 'vital-own' \gset
SET ROLE regress_ri_wic;
SELECT count(*) AS wic_sees_vital_survey FROM custfocus.survey WHERE code = 'vital-own';
INSERT INTO custfocus.response (survey_id, service_id, submitted_at)
SELECT :vital_survey, s.service_id, '2026-05-04' FROM custfocus.service s WHERE s.code = 'WIC-CLINIC';
-- ... and so is moving one of its responses there.
UPDATE custfocus.response SET survey_id = :vital_survey WHERE external_id = 'V_NEW_1';
RESET ROLE;

-- A service id of 0 would share the key of responses without a service.
INSERT INTO custfocus.service (service_id, program_id, code, name)
SELECT 0, program_id, 'ZERO', 'Zero' FROM custfocus.program WHERE code = 'WIC';

DROP OWNED BY regress_ri_wic, regress_ri_vital;
DROP ROLE regress_ri_wic, regress_ri_vital;

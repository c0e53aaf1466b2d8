-- Issue 12, items 5, 7 and 8, each as the role that hit it: the program
-- tree is the admins' (item 5); segments, requirements and scales belong to
-- a program or to the agency, and a program uses only its own, those above
-- it and agency-wide ones (item 8); the suppression floor is the admins',
-- and a session can only raise it (item 7).
\set ON_ERROR_ROLLBACK on
\set VERBOSITY terse
\set responses 240
\set ECHO none
\i test/data/sample_agency.sql
\set ECHO all
\unset ON_ERROR_STOP
SET client_min_messages = warning;

CREATE ROLE regress_ow_wic;      -- analyst of WIC
CREATE ROLE regress_ow_vital;    -- analyst of Vital Records
CREATE ROLE regress_ow_cfh;      -- reader of the CFH division (WIC, Newborn Screening)
CREATE ROLE regress_ow_reader;   -- reader of WIC
CREATE ROLE regress_ow_admin;    -- admin
SELECT custfocus.grant_access('regress_ow_wic', 'analyst');
SELECT custfocus.grant_access('regress_ow_vital', 'analyst');
SELECT custfocus.grant_access('regress_ow_cfh', 'reader');
SELECT custfocus.grant_access('regress_ow_reader', 'reader');
SELECT custfocus.grant_access('regress_ow_admin', 'admin');
SELECT custfocus.grant_program_access('regress_ow_wic', 'WIC');
SELECT custfocus.grant_program_access('regress_ow_vital', 'VITAL');
SELECT custfocus.grant_program_access('regress_ow_cfh', 'CFH');
SELECT custfocus.grant_program_access('regress_ow_reader', 'WIC');

-- Runs a statement and returns 'ok' with the number of rows it changed, or
-- its error's SQLSTATE and message.
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
	m text;
	c text;
BEGIN
	EXECUTE stmt;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN 'ok, ' || n || ' row(s)';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, c = RETURNED_SQLSTATE;
	RETURN c || ' ' || m;
END
$$;

SELECT program_id AS wic FROM custfocus.program WHERE code = 'WIC' \gset
SELECT program_id AS vital FROM custfocus.program WHERE code = 'VITAL' \gset
SELECT program_id AS hp FROM custfocus.program WHERE code = 'HP' \gset
SELECT program_id AS cfh FROM custfocus.program WHERE code = 'CFH' \gset
SELECT program_id AS newborn FROM custfocus.program WHERE code = 'NEWBORN' \gset
SELECT array_agg(service_id) AS wic_services FROM custfocus.service WHERE program_id = :wic \gset

---------------------------------------------------------------------------
-- Item 5: the program tree is the agency's structure.
---------------------------------------------------------------------------
-- What the CFH division reader and Vital Records' analyst see of WIC.
CREATE TEMP VIEW wic_seen AS
	SELECT (SELECT count(*) FROM custfocus.data_coverage WHERE program_code = 'WIC') AS coverage_rows,
		   (SELECT sum(responses) FROM custfocus.data_coverage WHERE program_code = 'WIC') AS coverage_responses;
GRANT SELECT ON wic_seen TO PUBLIC;
SET ROLE regress_ow_cfh;
SELECT * FROM wic_seen;
RESET ROLE;
SET ROLE regress_ow_vital;
SELECT count(*) AS wic_responses_seen_by_vital FROM custfocus.response WHERE service_id = ANY (:'wic_services');
RESET ROLE;

-- WIC's analyst may not move WIC under Vital Records (or anywhere), nor
-- recode it, add a program or delete one: each is a permission error.
SET ROLE regress_ow_wic;
SELECT pg_temp.try(format('UPDATE custfocus.program SET parent_id = %s WHERE code = %L', :vital, 'WIC')) AS reparent;
SELECT pg_temp.try(format('UPDATE custfocus.program SET parent_id = NULL WHERE code = %L', 'WIC')) AS to_top;
SELECT pg_temp.try($$UPDATE custfocus.program SET code = 'WIC2' WHERE code = 'WIC'$$) AS recode;
SELECT pg_temp.try($$UPDATE custfocus.program SET level = 'division' WHERE code = 'WIC'$$) AS relevel;
SELECT pg_temp.try(format('INSERT INTO custfocus.program (code, name, parent_id) VALUES (%L, %L, %s)',
						  'WIC-NEW', 'New WIC unit', :wic)) AS add_program;
SELECT pg_temp.try($$DELETE FROM custfocus.program WHERE code = 'WIC'$$) AS delete_program;
SELECT pg_temp.try(format('MERGE INTO custfocus.program p USING (VALUES (%s)) v (id) ON p.program_id = v.id
						   WHEN MATCHED THEN UPDATE SET parent_id = %s', :wic, :vital)) AS merge_reparent;
SELECT pg_temp.try(format('INSERT INTO custfocus.program (program_id, code, name) VALUES (%s, %L, %L)
						   ON CONFLICT (program_id) DO UPDATE SET parent_id = %s', :wic, 'WIC', 'x', :vital)) AS upsert_reparent;
-- ... but describes it
UPDATE custfocus.program SET name = 'WIC nutrition program', description = 'Food and nutrition support'
 WHERE code = 'WIC' RETURNING code, name, description;
RESET ROLE;
SELECT p.code, parent.code AS parent FROM custfocus.program p JOIN custfocus.program parent ON parent.program_id = p.parent_id
 WHERE p.code = 'WIC';
-- nothing moved: the division reader still sees WIC, Vital Records still not
SET ROLE regress_ow_cfh;
SELECT * FROM wic_seen;
RESET ROLE;
SET ROLE regress_ow_vital;
SELECT count(*) AS wic_responses_seen_by_vital FROM custfocus.response WHERE service_id = ANY (:'wic_services');
RESET ROLE;

-- The admin moves WIC under Health Protection and back.
SET ROLE regress_ow_admin;
SELECT pg_temp.try(format('UPDATE custfocus.program SET parent_id = %s WHERE code = %L', :hp, 'WIC')) AS admin_reparent;
SELECT parent.code AS parent FROM custfocus.program p JOIN custfocus.program parent ON parent.program_id = p.parent_id
 WHERE p.code = 'WIC';
SELECT pg_temp.try(format('UPDATE custfocus.program SET parent_id = %s WHERE code = %L', :cfh, 'WIC')) AS admin_back;
SELECT pg_temp.try($$INSERT INTO custfocus.program (code, name) VALUES ('ADM-NEW', 'Added by the admin')$$) AS admin_adds;
SELECT pg_temp.try($$DELETE FROM custfocus.program WHERE code = 'ADM-NEW'$$) AS admin_deletes;
RESET ROLE;

---------------------------------------------------------------------------
-- Item 8: shared rows have an owner.
---------------------------------------------------------------------------
-- Vital Records owns a scale only it uses, and a segment.
INSERT INTO custfocus.scale (code, name, min_value, max_value, program_id)
	VALUES ('vital-speed3', 'Speed, 1 to 3', 1, 3, :vital);
INSERT INTO custfocus.scale_label (scale_id, label, value)
	SELECT scale_id, 'Fast', 3 FROM custfocus.scale WHERE code = 'vital-speed3';
INSERT INTO custfocus.segment (code, name, program_id) VALUES ('FUNERAL', 'Funeral homes', :vital);

-- WIC's analyst: the requirement timeliness (agency-wide, it feeds Vital
-- Records' key drivers), the segment STAFF, the built-in scale satisfied5
-- and Vital Records' scale are not its to change.
SET ROLE regress_ow_wic;
SELECT pg_temp.try($$UPDATE custfocus.requirement SET importance = 1 WHERE code = 'timeliness'$$) AS timeliness;
SELECT pg_temp.try($$UPDATE custfocus.segment SET name = 'Renamed by WIC' WHERE code = 'STAFF'$$) AS rename_staff;
SELECT pg_temp.try($$INSERT INTO custfocus.scale_label (scale_id, label, value)
	SELECT scale_id, 'Terrible', 5 FROM custfocus.scale WHERE code = 'satisfied5'$$) AS terrible_label;
SELECT pg_temp.try($$INSERT INTO custfocus.scale_label (scale_id, label, value) VALUES (2, 'Terrible', 5)$$) AS terrible_by_id;
SELECT pg_temp.try($$UPDATE custfocus.scale_label SET value = 1 WHERE label = 'Fast'$$) AS recode_vital_label;
SELECT pg_temp.try($$UPDATE custfocus.scale SET max_value = 9 WHERE code = 'satisfied5' OR code = 'vital-speed3'$$) AS change_scales;
SELECT pg_temp.try($$DELETE FROM custfocus.requirement WHERE code = 'timeliness'$$) AS delete_timeliness;
SELECT pg_temp.try($$INSERT INTO custfocus.segment (code, name) VALUES ('WIC-WIDE', 'Agency-wide by WIC')$$) AS agency_wide_segment;
SELECT pg_temp.try(format('INSERT INTO custfocus.requirement (code, name, program_id) VALUES (%L, %L, %s)',
						  'vital-by-wic', 'For Vital Records', :vital)) AS vital_requirement;
SELECT pg_temp.try(format('UPDATE custfocus.segment SET program_id = %s WHERE code = %L', :wic, 'STAFF')) AS claim_staff;
-- it reads the agency-wide rows, not Vital Records' own
SELECT code FROM custfocus.scale WHERE NOT builtin ORDER BY code;
SELECT count(*) AS vital_labels_seen FROM custfocus.scale_label WHERE label = 'Fast';
SELECT code FROM custfocus.segment WHERE code IN ('STAFF', 'FUNERAL') ORDER BY code;
SELECT count(*) AS funeral_in_inventory FROM custfocus.customer_inventory WHERE segment_code = 'FUNERAL';
RESET ROLE;
SELECT importance FROM custfocus.requirement WHERE code = 'timeliness';
SELECT name, program_id FROM custfocus.segment WHERE code = 'STAFF';
SELECT count(*) AS terrible FROM custfocus.scale_label WHERE label = 'Terrible';
SELECT value FROM custfocus.scale_label WHERE label = 'Fast';

-- WIC's analyst manages rows of its own program, which Vital Records'
-- analyst neither reads nor changes; the CFH division reader sees WIC's
-- segment in its inventory.
SET ROLE regress_ow_wic;
INSERT INTO custfocus.segment (code, name, program_id) VALUES ('WIC-DADS', 'Fathers in WIC', :wic) RETURNING code;
INSERT INTO custfocus.requirement (code, name, importance, program_id) VALUES ('wic-privacy', 'Privacy', 60, :wic) RETURNING code;
INSERT INTO custfocus.scale (code, name, min_value, max_value, program_id) VALUES ('wic-ease4', 'Ease, 1 to 4', 1, 4, :wic) RETURNING code;
INSERT INTO custfocus.scale_label (scale_id, label, value)
	SELECT scale_id, 'Very easy', 4 FROM custfocus.scale WHERE code = 'wic-ease4' RETURNING label;
UPDATE custfocus.requirement SET importance = 65 WHERE code = 'wic-privacy' RETURNING importance;
UPDATE custfocus.scale_label SET label = 'Easy' WHERE label = 'Very easy' RETURNING label;
RESET ROLE;
SET ROLE regress_ow_vital;
SELECT count(*) AS wic_rows_seen FROM (
	SELECT code FROM custfocus.segment WHERE code = 'WIC-DADS'
	UNION ALL SELECT code FROM custfocus.requirement WHERE code = 'wic-privacy'
	UNION ALL SELECT code FROM custfocus.scale WHERE code = 'wic-ease4'
	UNION ALL SELECT label FROM custfocus.scale_label WHERE label = 'Easy') x;
SELECT pg_temp.try($$UPDATE custfocus.requirement SET importance = 1 WHERE code = 'wic-privacy'$$) AS vital_changes_wic;
RESET ROLE;
SET ROLE regress_ow_cfh;
SELECT segment_code, service_code FROM custfocus.customer_inventory WHERE segment_code IN ('WIC-DADS', 'FUNERAL');
RESET ROLE;

-- Using shared rows: a WIC service or survey uses agency-wide rows and
-- those of WIC or of a program above it (CFH), never a sibling's
-- (Newborn Screening) or Vital Records'.  The refusals name nothing.
INSERT INTO custfocus.segment (code, name, program_id) VALUES ('CFH-FAMILIES', 'CFH families', :cfh), ('NB-LABS', 'Newborn labs', :newborn);
INSERT INTO custfocus.requirement (code, name, program_id) VALUES ('cfh-trust', 'Trust', :cfh), ('nb-speed', 'Lab speed', :newborn);
INSERT INTO custfocus.scale (code, name, min_value, max_value, program_id) VALUES ('nb-scale5', 'Newborn 1 to 5', 1, 5, :newborn);
INSERT INTO custfocus.survey (code, name, program_id) VALUES ('wic-intake', 'WIC intake', :wic);
SELECT segment_id AS g_dads FROM custfocus.segment WHERE code = 'WIC-DADS' \gset
SELECT segment_id AS g_cfh FROM custfocus.segment WHERE code = 'CFH-FAMILIES' \gset
SELECT segment_id AS g_legislature FROM custfocus.segment WHERE code = 'LEGISLATURE' \gset
SELECT segment_id AS g_nb FROM custfocus.segment WHERE code = 'NB-LABS' \gset
SELECT segment_id AS g_funeral FROM custfocus.segment WHERE code = 'FUNERAL' \gset
SELECT requirement_id AS r_nb FROM custfocus.requirement WHERE code = 'nb-speed' \gset
SET ROLE regress_ow_wic;
SELECT v.code, pg_temp.try(format('INSERT INTO custfocus.service_segment (service_id, segment_id)
		SELECT service_id, %s FROM custfocus.service WHERE code = %L', v.id, 'WIC-ONLINE')) AS use_segment
  FROM (VALUES ('WIC-DADS (own)', :g_dads), ('CFH-FAMILIES (above)', :g_cfh), ('LEGISLATURE (agency-wide)', :g_legislature),
			   ('NB-LABS (sibling)', :g_nb), ('FUNERAL (Vital Records)', :g_funeral)) AS v (code, id);
SELECT pg_temp.try(format('UPDATE custfocus.service_segment SET segment_id = %s WHERE segment_id = %s', :g_nb, :g_dads)) AS move_to_sibling_segment;
RESET ROLE;
SELECT scale_id AS s_nb FROM custfocus.scale WHERE code = 'nb-scale5' \gset
SELECT scale_id AS s_vital FROM custfocus.scale WHERE code = 'vital-speed3' \gset
SET ROLE regress_ow_wic;
SELECT pg_temp.try($$INSERT INTO custfocus.service_requirement (service_id, requirement_id)
	SELECT s.service_id, r.requirement_id FROM custfocus.service s, custfocus.requirement r
	 WHERE s.code = 'WIC-ONLINE' AND r.code IN ('wic-privacy', 'cfh-trust')$$) AS use_own_and_above;
SELECT pg_temp.try(format($$INSERT INTO custfocus.service_requirement (service_id, requirement_id)
	SELECT service_id, %s FROM custfocus.service WHERE code = 'WIC-ONLINE'$$, :r_nb)) AS use_sibling_requirement;
SELECT pg_temp.try($$INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric, requirement_id)
	SELECT sv.survey_id, 'I1', 'Was it easy?', sc.scale_id, 'rating', r.requirement_id
	  FROM custfocus.survey sv, custfocus.scale sc, custfocus.requirement r
	 WHERE sv.code = 'wic-intake' AND sc.code = 'wic-ease4' AND r.code = 'cfh-trust'$$) AS item_own_scale;
SELECT pg_temp.try($$INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric)
	SELECT sv.survey_id, 'I2', 'Overall?', 2, 'rating' FROM custfocus.survey sv WHERE sv.code = 'wic-intake'$$) AS item_builtin_scale;
SELECT pg_temp.try(format($$INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric)
	SELECT sv.survey_id, 'I3', 'Fast?', %s, 'rating' FROM custfocus.survey sv WHERE sv.code = 'wic-intake'$$, :s_vital)) AS item_vital_scale;
SELECT pg_temp.try(format($$INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric)
	SELECT sv.survey_id, 'I4', 'Labs?', %s, 'rating' FROM custfocus.survey sv WHERE sv.code = 'wic-intake'$$, :s_nb)) AS item_sibling_scale;
SELECT pg_temp.try(format($$INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric, requirement_id)
	SELECT sv.survey_id, 'I5', 'Labs?', 2, 'rating', %s FROM custfocus.survey sv WHERE sv.code = 'wic-intake'$$, :r_nb)) AS item_sibling_requirement;
SELECT pg_temp.try(format($$UPDATE custfocus.item SET scale_id = %s WHERE code = 'I2'$$, :s_nb)) AS item_moves_to_sibling_scale;
-- the use check answers only about the role's own programs
SELECT custfocus.may_use(:vital, NULL) AS agency_wide, custfocus.may_use(:wic, :cfh) AS own_above,
	   custfocus.may_use(:vital, :hp) AS not_its_program;
SELECT pg_temp.try('SELECT custfocus.program_path(1)') AS program_path;
RESET ROLE;
SELECT code, scale_id, requirement_id IS NOT NULL AS has_requirement FROM custfocus.item i
 WHERE survey_id = (SELECT survey_id FROM custfocus.survey WHERE code = 'wic-intake') ORDER BY code;

-- The admin manages the agency-wide rows, the built-in scales' labels
-- included (the built-in rows themselves stay the extension's).
SET ROLE regress_ow_admin;
SELECT pg_temp.try($$UPDATE custfocus.requirement SET importance = 91 WHERE code = 'timeliness'$$) AS admin_timeliness;
SELECT pg_temp.try($$UPDATE custfocus.segment SET name = 'Agency staff' WHERE code = 'STAFF'$$) AS admin_staff;
SELECT pg_temp.try($$INSERT INTO custfocus.scale_label (scale_id, label, value) VALUES (2, 'Somewhat satisfied', 4)$$) AS admin_label;
SELECT pg_temp.try($$UPDATE custfocus.scale_label SET value = 5 WHERE scale_id = 2 AND label = 'Satisfied'$$) AS admin_builtin_label;
RESET ROLE;

---------------------------------------------------------------------------
-- Item 7: the suppression floor is the admins'.
---------------------------------------------------------------------------
CREATE TEMP VIEW suppression AS
	SELECT (SELECT count(*) FILTER (WHERE suppressed) FROM custfocus.scorecard) AS suppressed_rows,
		   (SELECT count(*) FILTER (WHERE responses < 10) FROM custfocus.scorecard WHERE NOT suppressed) AS shown_under_10,
		   (SELECT count(*) FROM custfocus.voc_themes) AS themes,
		   (SELECT count(*) FILTER (WHERE documents < 10) FROM custfocus.voc_themes) AS themes_under_10,
		   custfocus.min_responses() AS threshold;
GRANT SELECT ON suppression TO PUBLIC;
-- single-document free text of WIC, which a threshold of 0 would show
INSERT INTO custfocus.feedback (kind, body, service_id)
	SELECT 'complaint', 'My neighbour Zebulon Quimby told the clinic about my divorce', service_id
	  FROM custfocus.service WHERE code = 'WIC-CLINIC';
SET ROLE regress_ow_reader;
SELECT suppressed_rows > 0 AS some_suppressed, shown_under_10, themes_under_10, threshold FROM suppression;
SELECT suppressed_rows AS before_suppressed FROM suppression \gset
SET custfocus.min_responses = 0;
SELECT suppressed_rows = :before_suppressed AS unchanged, shown_under_10, themes_under_10, threshold FROM suppression;
SELECT count(*) AS quimby FROM custfocus.voc_themes WHERE term LIKE 'quimbi%' OR example LIKE '%Quimby%';
SET custfocus.min_responses = 50;
SELECT suppressed_rows > :before_suppressed AS raised, threshold FROM suppression;
RESET custfocus.min_responses;
SELECT pg_temp.try('UPDATE custfocus.setting SET min_responses = 1') AS reader_sets_floor;
RESET ROLE;
SET ROLE regress_ow_wic;
SELECT pg_temp.try('UPDATE custfocus.setting SET min_responses = 1') AS analyst_sets_floor;
SELECT pg_temp.try('SELECT min_responses FROM custfocus.setting') AS analyst_reads_table;
SELECT custfocus.min_responses() AS analyst_reads_floor;
RESET ROLE;
SET ROLE regress_ow_admin;
SELECT pg_temp.try('UPDATE custfocus.setting SET min_responses = 0') AS admin_zero;
SELECT pg_temp.try('DELETE FROM custfocus.setting') AS admin_deletes_floor;
SELECT pg_temp.try('INSERT INTO custfocus.setting (id, min_responses) VALUES (true, 1)') AS admin_inserts_floor;
UPDATE custfocus.setting SET min_responses = 5
	RETURNING min_responses, updated_by, updated_at IS NOT NULL AS stamped;
RESET ROLE;
SET ROLE regress_ow_reader;
SELECT suppressed_rows < :before_suppressed AS fewer_suppressed, shown_under_10 > 0 AS shows_5_to_9, threshold FROM suppression;
SET custfocus.min_responses = 3;
SELECT threshold FROM suppression;
RESET custfocus.min_responses;
RESET ROLE;

-- Every view reads the threshold a few times per query (once per scalar
-- sub-select), not once per row: the calls do not grow with the rows.
SET track_functions = 'all';
BEGIN;
SELECT (SELECT count(*) FROM custfocus.scorecard) + (SELECT count(*) FROM custfocus.voc_themes)
	   + (SELECT count(*) FROM custfocus.key_drivers) + (SELECT count(*) FROM custfocus.satisfaction_trend)
	   + (SELECT count(*) FROM custfocus.measure_status) + (SELECT count(*) FROM custfocus.control_chart)
	   + (SELECT count(*) FROM custfocus.improvement_opportunities) AS view_rows \gset
SELECT :view_rows > 1000 AS many_rows, calls <= 7 * 10 AS few_calls
  FROM pg_stat_xact_user_functions WHERE schemaname = 'custfocus' AND funcname = 'min_responses';
COMMIT;
RESET track_functions;
UPDATE custfocus.setting SET min_responses = DEFAULT, updated_at = NULL, updated_by = NULL;

-- Clean up: roles, and the sample data (other tests start from empty tables).
SELECT custfocus.revoke_access(r::regrole)
  FROM unnest(ARRAY['regress_ow_wic', 'regress_ow_vital', 'regress_ow_cfh', 'regress_ow_reader', 'regress_ow_admin']) r;
DROP VIEW wic_seen, suppression;
DROP ROLE regress_ow_wic, regress_ow_vital, regress_ow_cfh, regress_ow_reader, regress_ow_admin;
TRUNCATE custfocus.program_access, custfocus.role_access, custfocus.answer, custfocus.respondent_contact, custfocus.response, custfocus.import_error,
		 custfocus.import_batch, custfocus.feedback, custfocus.improvement_action, custfocus.measure,
		 custfocus.engagement, custfocus.item, custfocus.survey, custfocus.service_requirement,
		 custfocus.service_segment, custfocus.requirement, custfocus.service, custfocus.segment;
-- (scale refers to program, and keeps its built-in rows)
DELETE FROM custfocus.scale_label WHERE NOT builtin;
DELETE FROM custfocus.scale WHERE NOT builtin;
DELETE FROM custfocus.program;

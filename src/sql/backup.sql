-------------------------------------------------------------------------------
-- Backups: pg_dump must carry the user data of every table
-------------------------------------------------------------------------------

SELECT pg_catalog.pg_extension_config_dump('custfocus.setting', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.program', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.program_program_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.service', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.service_service_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.segment', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.segment_segment_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.service_segment', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.requirement', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.requirement_requirement_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.service_requirement', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.scale', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('custfocus.scale_scale_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.scale_label', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('custfocus.survey', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.survey_survey_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.item', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.item_item_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.import_batch', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.import_batch_import_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.import_error', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.import_error_import_error_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.response', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.response_response_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.answer', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.respondent_contact', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.role_access', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.program_access', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.feedback', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.feedback_feedback_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.measure', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.measure_measure_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.improvement_action', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.improvement_action_action_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.engagement', '');
SELECT pg_catalog.pg_extension_config_dump('custfocus.engagement_engagement_id_seq', '');

-- Functions are executable by PUBLIC unless revoked; the trigger functions
-- and helpers are only for the tables' own use.
REVOKE ALL ON FUNCTION custfocus.guard_builtin() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.program_check_cycle() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.scale_label_check() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.item_check_scale() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.check_items_fit_scale(integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.scale_check_items() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.answer_check() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.response_check_survey() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.feedback_track_status() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.improvement_action_track_status() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.error_viewer() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.setting_stamp() FROM PUBLIC;
REVOKE ALL ON FUNCTION custfocus.setting_restore() FROM PUBLIC;

-- The survey of the sample exports in this folder (see README.md): program,
-- services, segments, survey cs2026 and its items Q1..Q6, in a database
-- where the extension was just created.  Used by the import tests (sql/import.sql and test/t/import_*.sh).
INSERT INTO custfocus.program (code, name, level) VALUES ('DOH', 'Department of Health', 'agency');
INSERT INTO custfocus.service (program_id, code, name)
SELECT p.program_id, c, initcap(c)
  FROM custfocus.program p, unnest('{WIC-CLINIC,VITAL-RECORDS,FOOD-LICENSE,IMMUNIZATION}'::text[]) c
 WHERE p.code = 'DOH';
INSERT INTO custfocus.segment (code, name)
SELECT c, initcap(c) FROM unnest('{CLIENT,BUSINESS,LPH-AGENCY,STAFF}'::text[]) c;
INSERT INTO custfocus.survey (code, name) VALUES ('cs2026', 'Customer satisfaction survey 2026');
INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric, is_overall, position)
SELECT s.survey_id, i.code, i.text, sc.scale_id, i.metric, i.is_overall, i.position
  FROM custfocus.survey s
 CROSS JOIN (VALUES
	('Q1', 'Staff treated me with courtesy and respect', 'agree5', 'rating', false, 1),
	('Q2', 'I received the service in a timely manner', 'agree5', 'rating', false, 2),
	('Q3', 'The information I received was accurate and easy to understand', 'agree5', 'rating', false, 3),
	('Q4', 'Overall, how satisfied are you with the service you received?', 'satisfied5', 'rating', true, 4),
	('Q5', 'How likely are you to recommend this service to a colleague or friend?', 'nps11', 'nps', false, 5),
	('Q6', 'Any other comments?', NULL, 'text', false, 6)) AS i (code, text, scale, metric, is_overall, position)
  LEFT JOIN custfocus.scale sc ON sc.code = i.scale
 WHERE s.code = 'cs2026';

-- A small, realistic sample agency for the demo, the dump/restore test and
-- the benchmark: a state health department with three divisions, six
-- programs, ten services, seven customer and stakeholder segments, two
-- surveys (the customer satisfaction survey of ../shared/fixtures, cs2026,
-- and a CAHPS-style clinic survey), about 3,400 responses over 22 months,
-- feedback, measures, improvement actions and engagement.
--
-- The answers are drawn from a model with known structure, so that what the
-- views find can be checked against what was put in:
--   * each service has a mean quality per requirement (table sample_quality);
--   * a respondent's answer = service quality + respondent effect + noise;
--   * overall satisfaction is driven mostly by timeliness, then courtesy,
--     then clarity; likelihood to recommend follows overall satisfaction;
--   * VITAL-RECORDS timeliness improves from 2026-04 (the improvement action
--     "Online ordering of certified copies" completed then).
-- psql -v responses=N scales the cs2026 responses (default 3000).
\set ON_ERROR_STOP on
\if :{?responses}
\else
\set responses 3000
\endif

SELECT setseed(0.20261121) AS seeded \gset

BEGIN;

INSERT INTO custfocus.program (code, name, level, parent_id, description)
VALUES ('MDH', 'Department of Health', 'agency', NULL, 'State health department');
INSERT INTO custfocus.program (code, name, level, parent_id)
SELECT v.code, v.name, 'division', p.program_id
  FROM (VALUES ('CFH', 'Child and Family Health'),
			   ('HP', 'Health Protection'),
			   ('HPCD', 'Health Promotion and Chronic Disease')) AS v (code, name),
	   custfocus.program p WHERE p.code = 'MDH';
INSERT INTO custfocus.program (code, name, level, parent_id)
SELECT v.code, v.name, 'program', p.program_id
  FROM (VALUES ('WIC', 'Women, Infants and Children', 'CFH'),
			   ('NEWBORN', 'Newborn Screening', 'CFH'),
			   ('IMMUN', 'Immunization', 'HP'),
			   ('VITAL', 'Office of Vital Records', 'HP'),
			   ('FPL', 'Food, Pools and Lodging Services', 'HP'),
			   ('TOBACCO', 'Commercial Tobacco Prevention', 'HPCD')) AS v (code, name, parent),
	   custfocus.program p WHERE p.code = v.parent;

INSERT INTO custfocus.service (program_id, code, name)
SELECT p.program_id, v.code, v.name
  FROM (VALUES ('WIC', 'WIC-CLINIC', 'WIC clinic appointments'),
			   ('WIC', 'WIC-ONLINE', 'WIC online benefits portal'),
			   ('NEWBORN', 'NEWBORN-RESULTS', 'Newborn screening results to providers'),
			   ('IMMUN', 'IMMUNIZATION', 'Immunization clinics'),
			   ('IMMUN', 'VACCINE-ORDERS', 'Vaccine ordering for providers'),
			   ('VITAL', 'VITAL-RECORDS', 'Certified birth and death records'),
			   ('VITAL', 'VITAL-AMEND', 'Amendments to vital records'),
			   ('FPL', 'FOOD-LICENSE', 'Food business licensing'),
			   ('FPL', 'FOOD-INSPECT', 'Food establishment inspections'),
			   ('TOBACCO', 'QUITLINE', 'Quit line coaching')) AS v (program, code, name)
  JOIN custfocus.program p ON p.code = v.program;

INSERT INTO custfocus.segment (code, name, relationship, kind, party) VALUES
	('CLIENT', 'Clients and their families', 'customer', 'external', 'individual'),
	('BUSINESS', 'Licensed businesses', 'customer', 'external', 'entity'),
	('PROVIDER', 'Health care providers and clinics', 'customer', 'external', 'entity'),
	('LPH-AGENCY', 'Local public health agencies', 'customer', 'external', 'entity'),
	('STAFF', 'Agency staff using internal services', 'customer', 'internal', 'individual'),
	('LEGISLATURE', 'Legislators and their staff', 'stakeholder', 'external', 'individual'),
	('TRIBAL', 'Tribal health departments', 'stakeholder', 'external', 'entity');

INSERT INTO custfocus.service_segment (service_id, segment_id, need)
SELECT s.service_id, g.segment_id, v.need
  FROM (VALUES ('WIC-CLINIC', 'CLIENT', 'healthy food, breastfeeding support and nutrition advice for their family'),
			   ('WIC-CLINIC', 'LPH-AGENCY', 'clear program rules and timely funding to run local clinics'),
			   ('WIC-ONLINE', 'CLIENT', 'to check and use their benefits without a clinic visit'),
			   ('NEWBORN-RESULTS', 'PROVIDER', 'screening results fast enough to act on them'),
			   ('NEWBORN-RESULTS', 'CLIENT', 'to know their baby is healthy'),
			   ('IMMUNIZATION', 'CLIENT', 'vaccines for their children close to home'),
			   ('IMMUNIZATION', 'LPH-AGENCY', 'vaccine supply and guidance'),
			   ('VACCINE-ORDERS', 'PROVIDER', 'vaccine delivered on time and in full'),
			   ('VITAL-RECORDS', 'CLIENT', 'a certified copy of a birth or death record'),
			   ('VITAL-RECORDS', 'STAFF', 'record look-ups for other programs'),
			   ('VITAL-AMEND', 'CLIENT', 'a record that is correct'),
			   ('FOOD-LICENSE', 'BUSINESS', 'a licence to open or keep operating'),
			   ('FOOD-INSPECT', 'BUSINESS', 'fair, consistent inspections and clear corrections'),
			   ('FOOD-INSPECT', 'LEGISLATURE', 'assurance that restaurants are safe'),
			   ('QUITLINE', 'CLIENT', 'help to quit commercial tobacco'),
			   ('QUITLINE', 'TRIBAL', 'culturally appropriate cessation support')) AS v (service, segment, need)
  JOIN custfocus.service s ON s.code = v.service
  JOIN custfocus.segment g ON g.code = v.segment;

INSERT INTO custfocus.requirement (code, name, description, importance) VALUES
	('courtesy', 'Courtesy and respect', 'Staff treat customers with courtesy and respect', 80),
	('timeliness', 'Timeliness', 'The service is delivered within the time promised', 90),
	('clarity', 'Clear, accurate information', 'Information is accurate and easy to understand', 85),
	('access', 'Access', 'The service is easy to reach: hours, location, phone, online', 70),
	('ease', 'Ease', 'Getting the service takes little effort', 75);
INSERT INTO custfocus.service_requirement (service_id, requirement_id, importance)
SELECT s.service_id, r.requirement_id,
	   CASE WHEN r.code = 'timeliness' AND s.code IN ('VITAL-RECORDS', 'NEWBORN-RESULTS', 'VACCINE-ORDERS') THEN 98
			WHEN r.code = 'access' AND s.code LIKE 'WIC%' THEN 85 END
  FROM custfocus.service s CROSS JOIN custfocus.requirement r;

INSERT INTO custfocus.survey (code, name, version, program_id, description)
SELECT 'cs2026', 'Customer satisfaction survey 2026', '2026.1', p.program_id,
	   'Agency-wide survey sent after each service contact'
  FROM custfocus.program p WHERE p.code = 'MDH';
INSERT INTO custfocus.survey (code, name, version, program_id, description)
SELECT 'cahps-clinic', 'Clinic experience survey (CAHPS-style)', '1', p.program_id,
	   'Quarterly sample of clinic visits'
  FROM custfocus.program p WHERE p.code = 'CFH';

INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric, requirement_id, is_overall, position)
SELECT sv.survey_id, v.code, v.text, sc.scale_id, v.metric, r.requirement_id, v.is_overall, v.position
  FROM (VALUES ('cs2026', 'Q1', 'Staff treated me with courtesy and respect', 'agree5', 'rating', 'courtesy', false, 1),
			   ('cs2026', 'Q2', 'I received the service in a timely manner', 'agree5', 'rating', 'timeliness', false, 2),
			   ('cs2026', 'Q3', 'The information I received was accurate and easy to understand', 'agree5', 'rating', 'clarity', false, 3),
			   ('cs2026', 'Q4', 'Overall, how satisfied are you with the service you received?', 'satisfied5', 'rating', NULL, true, 4),
			   ('cs2026', 'Q5', 'How likely are you to recommend this service to a colleague or friend?', 'nps11', 'nps', NULL, false, 5),
			   ('cs2026', 'Q6', 'Any other comments?', NULL, 'text', NULL, false, 6),
			   ('cs2026', 'Q7', 'It was easy to reach the service (hours, location, phone or online)', 'agree5', 'rating', 'access', false, 7),
			   ('cs2026', 'Q8', 'The agency made it easy for me to handle my issue', 'ces7', 'ces', 'ease', false, 8),
			   ('cahps-clinic', 'C1', 'How often did staff explain things in a way that was easy to understand?', 'cahps4', 'rating', 'clarity', false, 1),
			   ('cahps-clinic', 'C2', 'How often did staff treat you with courtesy and respect?', 'cahps4', 'rating', 'courtesy', false, 2),
			   ('cahps-clinic', 'C3', 'How often were you seen within 15 minutes of your appointment time?', 'cahps4', 'rating', 'timeliness', false, 3)
	   ) AS v (survey, code, text, scale, metric, requirement, is_overall, position)
  JOIN custfocus.survey sv ON sv.code = v.survey
  LEFT JOIN custfocus.scale sc ON sc.code = v.scale
  LEFT JOIN custfocus.requirement r ON r.code = v.requirement;

-- Mean quality (on 1..5) of each service on each requirement.
CREATE TEMP TABLE sample_quality (service text PRIMARY KEY, share float8,
	courtesy float8, timeliness float8, clarity float8, access float8, ease float8);
INSERT INTO sample_quality VALUES
	('WIC-CLINIC',      0.16, 4.5, 3.6, 4.2, 3.4, 3.8),
	('WIC-ONLINE',      0.08, 4.0, 4.1, 3.3, 4.3, 3.2),
	('NEWBORN-RESULTS', 0.05, 4.2, 4.4, 4.3, 4.0, 4.1),
	('IMMUNIZATION',    0.14, 4.6, 4.0, 4.3, 3.9, 4.2),
	('VACCINE-ORDERS',  0.07, 3.9, 3.3, 3.8, 3.9, 3.5),
	('VITAL-RECORDS',   0.20, 4.0, 2.8, 3.9, 3.7, 3.4),
	('VITAL-AMEND',     0.05, 3.7, 2.6, 3.2, 3.5, 2.9),
	('FOOD-LICENSE',    0.10, 3.9, 3.4, 3.1, 3.8, 3.1),
	('FOOD-INSPECT',    0.08, 3.5, 3.9, 3.4, 4.0, 3.6),
	('QUITLINE',        0.07, 4.7, 4.3, 4.4, 4.2, 4.4);

-- One row per generated respondent: the service (by share), segment, date,
-- a respondent effect and that respondent's noise draws.
CREATE TEMP TABLE sample_respondent AS
WITH cum AS (
	SELECT q.*, sum(share) OVER (ORDER BY service) / sum(share) OVER () AS upto
	  FROM sample_quality q
), draw AS (
	SELECT g AS n, random() AS u_service, random() AS u_day, random() AS u_channel,
		   sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS person
	  FROM generate_series(1, :responses) g
)
SELECT d.n, c.service, c.courtesy, c.timeliness, c.clarity, c.access, c.ease,
	   timestamptz '2025-01-01 08:00' + (floor(d.u_day * 668) || ' days')::interval
		   + (floor(random() * 540) || ' minutes')::interval AS submitted_at,
	   CASE WHEN d.u_channel < 0.70 THEN 'web' WHEN d.u_channel < 0.85 THEN 'email'
			WHEN d.u_channel < 0.95 THEN 'paper' ELSE 'phone' END AS channel,
	   0.6 * d.person AS person
  FROM draw d
  JOIN LATERAL (SELECT * FROM cum WHERE cum.upto >= d.u_service ORDER BY cum.upto LIMIT 1) c ON true;

-- VITAL-RECORDS got faster after online ordering went live in April 2026.
UPDATE sample_respondent SET timeliness = 4.0
 WHERE service = 'VITAL-RECORDS' AND submitted_at >= '2026-04-01';

INSERT INTO custfocus.response (survey_id, service_id, segment_id, submitted_at, channel, weight, external_id)
SELECT sv.survey_id, s.service_id,
	   (SELECT ss.segment_id FROM custfocus.service_segment ss
		 WHERE ss.service_id = s.service_id
		 ORDER BY ss.segment_id OFFSET (r.n % (SELECT count(*) FROM custfocus.service_segment x
											   WHERE x.service_id = s.service_id)) LIMIT 1),
	   r.submitted_at, r.channel,
	   CASE WHEN r.channel = 'paper' THEN 1.5 ELSE 1 END,
	   'S_' || lpad(r.n::text, 6, '0')
  FROM sample_respondent r
  JOIN custfocus.service s ON s.code = r.service
 CROSS JOIN custfocus.survey sv
 WHERE sv.code = 'cs2026';

-- The ratings: quality + respondent effect + item noise, rounded and kept on
-- the scale; about 5 % of questions are skipped.
CREATE TEMP TABLE sample_rating AS
SELECT rs.response_id, r.n,
	   greatest(1, least(5, round(r.courtesy + r.person + 0.7 * (random() - 0.5) * 3.4))) AS courtesy,
	   greatest(1, least(5, round(r.timeliness + r.person + 0.7 * (random() - 0.5) * 3.4))) AS timeliness,
	   greatest(1, least(5, round(r.clarity + r.person + 0.7 * (random() - 0.5) * 3.4))) AS clarity,
	   greatest(1, least(5, round(r.access + r.person + 0.7 * (random() - 0.5) * 3.4))) AS access,
	   greatest(1, least(7, round(1.5 * r.ease - 0.5 + 1.5 * r.person + (random() - 0.5) * 3))) AS ease,
	   random() AS u_text
  FROM sample_respondent r
  JOIN custfocus.response rs ON rs.external_id = 'S_' || lpad(r.n::text, 6, '0')
  JOIN custfocus.survey sv ON sv.survey_id = rs.survey_id AND sv.code = 'cs2026';
ALTER TABLE sample_rating ADD COLUMN overall float8, ADD COLUMN recommend float8;
UPDATE sample_rating SET overall = greatest(1, least(5, round(
	0.45 * timeliness + 0.30 * courtesy + 0.20 * clarity + 0.05 * access + 0.2 + (random() - 0.5) * 1.6)));
UPDATE sample_rating SET recommend = greatest(0, least(10, round(2.4 * overall - 1.6 + (random() - 0.5) * 3)));

INSERT INTO custfocus.answer (response_id, item_id, value)
SELECT x.response_id, i.item_id, x.value
  FROM sample_rating r
 CROSS JOIN LATERAL (VALUES ('Q1', r.courtesy), ('Q2', r.timeliness), ('Q3', r.clarity),
							('Q4', r.overall), ('Q5', r.recommend), ('Q7', r.access),
							('Q8', r.ease)) AS v (code, value)
 CROSS JOIN LATERAL (SELECT r.response_id, v.value) AS x
  JOIN custfocus.item i ON i.code = v.code
  JOIN custfocus.survey sv ON sv.survey_id = i.survey_id AND sv.code = 'cs2026'
 WHERE random() >= 0.05;

INSERT INTO custfocus.answer (response_id, item_id, text_value)
SELECT r.response_id, i.item_id,
	   CASE WHEN r.timeliness <= 2 THEN (ARRAY['Wait was too long', 'Took weeks to get my certificate',
											   'Nobody called me back about the delay'])[1 + r.n % 3]
			WHEN r.clarity <= 2 THEN (ARRAY['The form was confusing', 'Instructions on the website were unclear'])[1 + r.n % 2]
			WHEN r.courtesy >= 5 THEN (ARRAY['Very helpful staff, thank you!', 'Friendly and respectful staff'])[1 + r.n % 2]
			ELSE 'Fine overall, but the phone line was busy' END
  FROM sample_rating r
  JOIN custfocus.item i ON i.code = 'Q6'
  JOIN custfocus.survey sv ON sv.survey_id = i.survey_id AND sv.code = 'cs2026'
 WHERE r.u_text < 0.15;

-- The clinic survey: a quarterly sample of WIC and immunization visits.
INSERT INTO custfocus.response (survey_id, service_id, segment_id, submitted_at, channel, external_id)
SELECT sv.survey_id, s.service_id, g.segment_id,
	   timestamptz '2025-01-01 09:00' + (floor(random() * 668) || ' days')::interval, 'paper',
	   'C_' || lpad(n::text, 5, '0')
  FROM generate_series(1, :responses / 8) n
  JOIN custfocus.service s ON s.code = CASE WHEN n % 2 = 0 THEN 'WIC-CLINIC' ELSE 'IMMUNIZATION' END
  JOIN custfocus.segment g ON g.code = 'CLIENT'
 CROSS JOIN custfocus.survey sv
 WHERE sv.code = 'cahps-clinic';
INSERT INTO custfocus.answer (response_id, item_id, value)
SELECT r.response_id, i.item_id,
	   greatest(1, least(4, round(CASE i.code WHEN 'C1' THEN 3.3 WHEN 'C2' THEN 3.6 ELSE 2.6 END
								   + (random() - 0.5) * 2.4)))
  FROM custfocus.response r
  JOIN custfocus.survey sv ON sv.survey_id = r.survey_id AND sv.code = 'cahps-clinic'
  JOIN custfocus.item i ON i.survey_id = sv.survey_id
 WHERE random() >= 0.03;

-- Unsolicited feedback, most of it handled, some still open.
INSERT INTO custfocus.feedback (kind, body, service_id, channel, received_at, status, owner)
SELECT (ARRAY['complaint', 'complaint', 'compliment', 'suggestion', 'question'])[1 + n % 5],
	   (ARRAY['Waited three weeks for a birth certificate',
			  'Staff at the clinic were wonderful with my kids',
			  'Please offer evening appointments',
			  'How do I correct the spelling of a name on a record?',
			  'Inspection report was hard to understand',
			  'Could not get through on the phone line',
			  'Online portal logged me out while uploading documents'])[1 + n % 7],
	   s.service_id,
	   (ARRAY['email', 'phone', 'web', 'social_media'])[1 + n % 4],
	   timestamptz '2025-01-05 10:00' + (n * 4 || ' days')::interval,
	   CASE WHEN n > 150 THEN 'open' WHEN n > 140 THEN 'acknowledged' WHEN n > 130 THEN 'actioned' ELSE 'closed' END,
	   (ARRAY['j.olson', 'm.nguyen', 'a.hassan'])[1 + n % 3]
  FROM generate_series(1, 165) n
  JOIN custfocus.service s ON s.code = (ARRAY['VITAL-RECORDS', 'WIC-CLINIC', 'WIC-CLINIC', 'VITAL-AMEND',
											  'FOOD-INSPECT', 'QUITLINE', 'WIC-ONLINE'])[1 + n % 7];

-- Performance measures, improvement actions and engagement.
INSERT INTO custfocus.measure (code, name, service_id, program_id, metric, item_id, requirement_id, target, direction, period, baseline, baseline_period)
SELECT v.code, v.name, s.service_id, p.program_id, v.metric, i.item_id, r.requirement_id, v.target, 'higher', v.period, v.baseline, v.baseline_period::date
  FROM (VALUES ('VR-TIMELY', 'Vital records: timely service (top-2-box)', 'VITAL-RECORDS', NULL, 'top_box', NULL, 'timeliness', 70, 'quarter', 38, '2025-01-01'),
			   ('VR-CSAT', 'Vital records: overall CSAT', 'VITAL-RECORDS', NULL, 'csat', 'Q4', NULL, 80, 'quarter', NULL, NULL),
			   ('WIC-NPS', 'WIC clinic: Net Promoter Score', 'WIC-CLINIC', NULL, 'nps', 'Q5', NULL, 30, 'quarter', NULL, NULL),
			   ('MDH-CSAT', 'Agency-wide overall CSAT', NULL, 'MDH', 'csat', 'Q4', NULL, 80, 'year', NULL, NULL),
			   ('FPL-CLEAR', 'Food licensing: clear information (top-2-box)', 'FOOD-LICENSE', NULL, 'top_box', NULL, 'clarity', 75, 'quarter', NULL, NULL),
			   ('MDH-RESP', 'Agency-wide survey responses per month', NULL, 'MDH', 'response_count', NULL, NULL, 100, 'month', NULL, NULL)
	   ) AS v (code, name, service, program, metric, item, requirement, target, period, baseline, baseline_period)
  LEFT JOIN custfocus.service s ON s.code = v.service
  LEFT JOIN custfocus.program p ON p.code = v.program
  LEFT JOIN custfocus.item i ON i.code = v.item AND i.survey_id = (SELECT survey_id FROM custfocus.survey WHERE code = 'cs2026')
  LEFT JOIN custfocus.requirement r ON r.code = v.requirement;

INSERT INTO custfocus.improvement_action (title, description, service_id, requirement_id, measure_id, owner, status, opened_on, due_on, closed_on, baseline_value)
SELECT v.title, v.description, s.service_id, r.requirement_id, m.measure_id, v.owner, v.status,
	   v.opened_on::date, v.due_on::date, v.closed_on::date, v.baseline
  FROM (VALUES ('Online ordering of certified copies', 'Let customers order and pay online; mail within 5 business days',
				'VITAL-RECORDS', 'timeliness', 'VR-TIMELY', 'j.olson', 'completed', '2025-10-01', '2026-03-31', '2026-03-28', 38),
			   ('Plain-language rewrite of licence application', 'Rewrite forms and web pages at grade 8 reading level',
				'FOOD-LICENSE', 'clarity', 'FPL-CLEAR', 'a.hassan', 'in_progress', '2026-06-01', '2026-12-31', NULL, NULL),
			   ('Evening WIC clinic hours pilot', 'Two evenings a week at three clinics',
				'WIC-CLINIC', 'access', NULL, 'm.nguyen', 'planned', '2026-09-15', '2027-03-31', NULL, NULL)
	   ) AS v (title, description, service, requirement, measure, owner, status, opened_on, due_on, closed_on, baseline)
  JOIN custfocus.service s ON s.code = v.service
  JOIN custfocus.requirement r ON r.code = v.requirement
  LEFT JOIN custfocus.measure m ON m.code = v.measure;

INSERT INTO custfocus.engagement (kind, title, held_on, program_id, service_id, segment_id, participants, notes)
SELECT v.kind, v.title, v.held_on::date, p.program_id, s.service_id, g.segment_id, v.participants, v.notes
  FROM (VALUES ('advisory_council', 'WIC parent advisory council', '2026-02-10', 'WIC', NULL, 'CLIENT', 14,
				'Evening hours and shorter waits came up most often'),
			   ('focus_group', 'Food business owners on licensing', '2026-05-06', 'FPL', 'FOOD-LICENSE', 'BUSINESS', 9,
				'The application form uses terms owners do not know'),
			   ('listening_session', 'Tribal health directors', '2026-07-21', 'TOBACCO', 'QUITLINE', 'TRIBAL', 11,
				'Ask for culturally specific coaching')
	   ) AS v (kind, title, held_on, program, service, segment, participants, notes)
  JOIN custfocus.program p ON p.code = v.program
  LEFT JOIN custfocus.service s ON s.code = v.service
  JOIN custfocus.segment g ON g.code = v.segment;

COMMIT;
ANALYZE;

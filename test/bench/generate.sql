-- Generates an agency at benchmark scale: 1 agency, 5 divisions, 10
-- programs, 50 services, 6 segments, 3 surveys, responses spread over 3
-- years.  80 % of respondents answer the customer satisfaction survey's 11
-- coded items, so a million responses give about 10 million answers.
-- Set-based throughout (no per-row sub-queries) so that a million
-- responses take a minute or two on two cores.
--   psql -v responses=1000000 -f test/bench/generate.sql
\set ON_ERROR_STOP on
\if :{?responses}
\else
\set responses 1000000
\endif
SELECT setseed(0.5) AS seeded \gset

BEGIN;
INSERT INTO custfocus.program (code, name, level) VALUES ('AGENCY', 'Benchmark agency', 'agency');
INSERT INTO custfocus.program (code, name, level, parent_id)
SELECT 'DIV' || d, 'Division ' || d, 'division', p.program_id
  FROM generate_series(1, 5) d, custfocus.program p WHERE p.code = 'AGENCY';
INSERT INTO custfocus.program (code, name, level, parent_id)
SELECT 'PRG' || g, 'Program ' || g, 'program', p.program_id
  FROM generate_series(1, 10) g JOIN custfocus.program p ON p.code = 'DIV' || (1 + (g - 1) / 2);
INSERT INTO custfocus.service (program_id, code, name)
SELECT p.program_id, 'SVC' || lpad(g::text, 2, '0'), 'Service ' || g
  FROM generate_series(1, 50) g JOIN custfocus.program p ON p.code = 'PRG' || (1 + (g - 1) / 5);
INSERT INTO custfocus.segment (code, name, relationship, kind, party)
SELECT 'SEG' || g, 'Segment ' || g, CASE WHEN g = 6 THEN 'stakeholder' ELSE 'customer' END,
	   CASE WHEN g = 5 THEN 'internal' ELSE 'external' END, CASE WHEN g IN (2, 3) THEN 'entity' ELSE 'individual' END
  FROM generate_series(1, 6) g;
INSERT INTO custfocus.service_segment (service_id, segment_id, need)
SELECT s.service_id, g.segment_id, 'need ' || s.code || '/' || g.code
  FROM custfocus.service s JOIN custfocus.segment g ON (s.service_id + g.segment_id) % 3 = 0;
INSERT INTO custfocus.requirement (code, name, importance) VALUES
	('courtesy', 'Courtesy', 80), ('timeliness', 'Timeliness', 90), ('clarity', 'Clarity', 85),
	('access', 'Access', 70), ('ease', 'Ease', 75);
INSERT INTO custfocus.survey (code, name, program_id)
SELECT v, 'Benchmark survey ' || v, p.program_id
  FROM (VALUES ('cs'), ('cahps'), ('pulse')) AS s (v), custfocus.program p WHERE p.code = 'AGENCY';
INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric, requirement_id, is_overall, position)
SELECT sv.survey_id, v.code, v.text, sc.scale_id, v.metric, r.requirement_id, v.is_overall, v.pos
  FROM (VALUES ('cs', 'Q1', 'Courtesy', 'agree5', 'rating', 'courtesy', false, 1),
			   ('cs', 'Q2', 'Timeliness', 'agree5', 'rating', 'timeliness', false, 2),
			   ('cs', 'Q3', 'Clarity', 'agree5', 'rating', 'clarity', false, 3),
			   ('cs', 'Q4', 'Overall satisfaction', 'satisfied5', 'rating', NULL, true, 4),
			   ('cs', 'Q5', 'Likely to recommend', 'nps11', 'nps', NULL, false, 5),
			   ('cs', 'Q6', 'Comments', NULL, 'text', NULL, false, 6),
			   ('cs', 'Q7', 'Access', 'agree5', 'rating', 'access', false, 7),
			   ('cs', 'Q8', 'Ease', 'ces7', 'ces', 'ease', false, 8),
			   ('cs', 'Q9', 'Staff knew their job', 'agree5', 'rating', 'clarity', false, 9),
			   ('cs', 'Q10', 'Treated fairly', 'agree5', 'rating', 'courtesy', false, 10),
			   ('cs', 'Q11', 'Got what I came for', 'agree5', 'rating', NULL, false, 11),
			   ('cs', 'Q12', 'Would use online service', 'yes_no', 'yes_no', 'access', false, 12),
			   ('cahps', 'C1', 'Explained clearly', 'cahps4', 'rating', 'clarity', false, 1),
			   ('cahps', 'C2', 'Courtesy', 'cahps4', 'rating', 'courtesy', false, 2),
			   ('cahps', 'C3', 'Seen on time', 'cahps4', 'rating', 'timeliness', false, 3),
			   ('pulse', 'P1', 'Overall satisfaction', 'satisfied5', 'rating', NULL, true, 1),
			   ('pulse', 'P2', 'Likely to recommend', 'nps11', 'nps', NULL, false, 2)
	   ) AS v (survey, code, text, scale, metric, requirement, is_overall, pos)
  JOIN custfocus.survey sv ON sv.code = v.survey
  LEFT JOIN custfocus.scale sc ON sc.code = v.scale
  LEFT JOIN custfocus.requirement r ON r.code = v.requirement;
COMMIT;

-- Responses: 80 % to the cs survey, 10 % each to cahps and pulse.  Service
-- quality varies by service; a respondent effect ties a person's answers.
CREATE TEMP TABLE bench_ids AS
SELECT (SELECT array_agg(service_id ORDER BY service_id) FROM custfocus.service) AS services,
	   (SELECT array_agg(segment_id ORDER BY segment_id) FROM custfocus.segment) AS segments,
	   (SELECT survey_id FROM custfocus.survey WHERE code = 'cs') AS cs,
	   (SELECT survey_id FROM custfocus.survey WHERE code = 'cahps') AS cahps,
	   (SELECT survey_id FROM custfocus.survey WHERE code = 'pulse') AS pulse;

INSERT INTO custfocus.response (survey_id, service_id, segment_id, submitted_at, channel, weight, external_id)
SELECT CASE WHEN u < 0.8 THEN b.cs WHEN u < 0.9 THEN b.cahps ELSE b.pulse END,
	   b.services[1 + (g * 7919) % 50], b.segments[1 + (g * 104729) % 6],
	   timestamptz '2023-11-01' + (random() * 1095 * 86400) * interval '1 second',
	   (ARRAY['web', 'web', 'web', 'email', 'paper', 'phone'])[1 + g % 6],
	   CASE WHEN g % 6 = 4 THEN 1.5 ELSE 1 END,
	   'B' || g
  FROM bench_ids b, LATERAL (SELECT g, random() AS u FROM generate_series(1::bigint, :responses) g) x;

INSERT INTO custfocus.answer (response_id, item_id, value)
SELECT r.response_id, i.item_id,
	   CASE WHEN i.metric = 'nps' THEN least(10, greatest(0, round(7 + q + 2.5 * (random() - 0.5) * 2)))
			ELSE least(sc.max_value, greatest(sc.min_value,
					round(sc.min_value + (sc.max_value - sc.min_value) * (0.62 + q / 10 + 0.35 * (random() - 0.5)))))
	   END
  FROM (SELECT r.response_id, r.survey_id,
			   ((r.service_id * 37) % 11 - 5) / 5.0 + (random() - 0.5) AS q
		  FROM custfocus.response r) r
  JOIN custfocus.item i ON i.survey_id = r.survey_id AND i.metric <> 'text'
  JOIN custfocus.scale sc ON sc.scale_id = i.scale_id
 WHERE random() >= 0.05;

INSERT INTO custfocus.answer (response_id, item_id, text_value)
SELECT r.response_id, i.item_id,
	   (ARRAY['Wait was too long', 'Very helpful staff, thank you', 'The form was confusing',
			  'Could not get through on the phone', 'Quick and easy'])[1 + r.response_id % 5]
  FROM custfocus.response r
  JOIN custfocus.item i ON i.survey_id = r.survey_id AND i.metric = 'text'
 WHERE r.response_id % 10 = 0;

ANALYZE;

-- What test/bench/views.sh adds to the agency of generate.sql so that every
-- view has rows to compute: performance measures (measure_status,
-- control_chart), unsolicited feedback (feedback_queue, and voc_themes reads
-- it too) and open improvement actions (improvement_opportunities).  The
-- feedback grows with the responses (one per 20); measures and actions do
-- not, as an agency's do not.  Deterministic, like generate.sql.
--   psql -v responses=300000 -f test/bench/views_data.sql
\set ON_ERROR_STOP on
\if :{?responses}
\else
\set responses 1000000
\endif
SELECT setseed(0.25) AS seeded \gset

BEGIN;
-- per program: quarterly CSAT and NPS of the cs survey; per service: the
-- quarterly top box of timeliness; for the agency: monthly response counts
INSERT INTO custfocus.measure (code, name, program_id, metric, item_id, target, period)
SELECT m.metric || '-' || p.code, m.metric || ' of ' || p.name, p.program_id, m.metric, i.item_id, m.target, 'quarter'
  FROM custfocus.program p
 CROSS JOIN (VALUES ('csat', 'Q4', 80), ('nps', 'Q5', 30)) AS m (metric, item, target)
  JOIN custfocus.item i ON i.code = m.item
	   AND i.survey_id = (SELECT survey_id FROM custfocus.survey WHERE code = 'cs')
 WHERE p.level = 'program';
INSERT INTO custfocus.measure (code, name, service_id, metric, requirement_id, target, period)
SELECT 'timely-' || s.code, 'Timeliness at ' || s.name, s.service_id, 'top_box', r.requirement_id, 75, 'quarter'
  FROM custfocus.service s, custfocus.requirement r WHERE r.code = 'timeliness';
INSERT INTO custfocus.measure (code, name, program_id, metric, target, period)
SELECT 'responses-AGENCY', 'Responses to the agency', program_id, 'response_count', 1000, 'month'
  FROM custfocus.program WHERE code = 'AGENCY';

-- one open action per service on its requirement with the lowest importance code
INSERT INTO custfocus.improvement_action (title, service_id, requirement_id, status, opened_on)
SELECT 'Improve ' || r.name || ' at ' || s.name, s.service_id, r.requirement_id,
	   CASE WHEN s.service_id % 2 = 0 THEN 'planned' ELSE 'in_progress' END, date '2026-06-01'
  FROM custfocus.service s
  JOIN custfocus.requirement r ON r.code = (ARRAY['courtesy', 'timeliness', 'clarity', 'access', 'ease'])[1 + s.service_id % 5];
COMMIT;

-- feedback: one per 20 responses, over the same 3 years; 70 % closed
INSERT INTO custfocus.feedback (kind, body, service_id, channel, received_at, status, acknowledged_at, closed_at)
SELECT (ARRAY['complaint', 'compliment', 'suggestion', 'question'])[1 + g % 4],
	   (ARRAY['Wait was too long at the clinic', 'Staff were very helpful and kind',
			  'The application form was confusing', 'Could not get through on the phone line',
			  'Please add evening appointments', 'How do I renew my benefits card'])[1 + g % 6],
	   s.services[1 + (g * 7919) % 50],
	   (ARRAY['web', 'email', 'phone', 'paper', 'in_person'])[1 + g % 5],
	   f.received_at,
	   CASE WHEN f.u < 0.7 THEN 'closed' WHEN f.u < 0.8 THEN 'actioned' WHEN f.u < 0.9 THEN 'acknowledged' ELSE 'open' END,
	   CASE WHEN f.u < 0.9 THEN f.received_at + interval '1 day' END,
	   CASE WHEN f.u < 0.7 THEN f.received_at + (1 + 30 * random()) * interval '1 day' END
  FROM (SELECT array_agg(service_id ORDER BY service_id) AS services FROM custfocus.service) s,
	   LATERAL (SELECT g, random() AS u,
					   timestamptz '2023-11-01' + (random() * 1095 * 86400) * interval '1 second' AS received_at
				  FROM generate_series(1::bigint, :responses / 20) g) f;

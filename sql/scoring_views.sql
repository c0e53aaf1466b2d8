-- The scoring views (scorecard, satisfaction_trend, measure_status,
-- control_chart, key_drivers, improvement_opportunities) on an empty
-- database and on a small data set whose expected rows were worked out by
-- hand, plus the SPEC's p-chart vector and the run rules.
\set ON_ERROR_ROLLBACK on
SELECT 'scorecard' AS view, count(*) FROM custfocus.scorecard
UNION ALL SELECT 'satisfaction_trend', count(*) FROM custfocus.satisfaction_trend
UNION ALL SELECT 'measure_status', count(*) FROM custfocus.measure_status
UNION ALL SELECT 'control_chart', count(*) FROM custfocus.control_chart
UNION ALL SELECT 'key_drivers', count(*) FROM custfocus.key_drivers
UNION ALL SELECT 'improvement_opportunities', count(*) FROM custfocus.improvement_opportunities;

-- p-chart, SPEC vector: 40/50, 45/60, 38/48, 50/55, 42/52 -> centre
-- 0.811321; limits for n = 50: 0.6453 .. 0.9773.
SELECT point, x, n, round(p::numeric, 4) AS p, round(centre::numeric, 6) AS centre,
	   round(lcl::numeric, 4) AS lcl, round(ucl::numeric, 4) AS ucl, outside, signal
  FROM custfocus.p_chart(ARRAY[40, 45, 38, 50, 42], ARRAY[50, 60, 48, 55, 52]);
-- Run rules: 8 in a row above the centre (points 3..11 without point 7,
-- which has fewer than min_n answers: it is not shown and neither breaks nor
-- extends a run, so point 11 is the eighth and signals), and 6 steadily
-- rising (points 12..17, so point 17 signals).
SELECT point, round(p::numeric, 2) AS p, run_of_8, trend_of_6, signal
  FROM custfocus.p_chart(ARRAY[2, 1, 7, 7, 7, 7, 1, 7, 7, 7, 7, 0, 1, 2, 3, 4, 5]::float8[],
						 ARRAY[10, 10, 10, 10, 10, 10, 5, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10]::float8[], 10);
SELECT * FROM custfocus.p_chart('{}', '{}');
SELECT * FROM custfocus.p_chart(ARRAY[5], ARRAY[4]);
SELECT * FROM custfocus.p_chart(ARRAY[1, 2], ARRAY[4]);

BEGIN;
INSERT INTO custfocus.program (program_id, code, name, level) VALUES (801, 'AG', 'Agency', 'agency');
INSERT INTO custfocus.program (program_id, parent_id, code, name) VALUES (802, 801, 'PA', 'Program A');
INSERT INTO custfocus.service (service_id, program_id, code, name) VALUES
	(811, 802, 'SA', 'Service A'), (812, 802, 'SB', 'Service B');
INSERT INTO custfocus.requirement (requirement_id, code, name, importance) VALUES
	(821, 'T', 'Timeliness', 60), (822, 'C', 'Courtesy', 80), (823, 'K', 'Knowledge', 100);
INSERT INTO custfocus.survey (survey_id, code, name) VALUES (831, 'hs', 'Hand survey'), (832, 'ipa', 'IPA survey');
INSERT INTO custfocus.item (item_id, survey_id, code, text, scale_id, metric, requirement_id, is_overall) VALUES
	(841, 831, 'Q4', 'Overall', 2, 'rating', NULL, true),
	(842, 831, 'Q5', 'Recommend', 3, 'nps', NULL, false),
	(843, 832, 'IT', 'On time', 1, 'rating', 821, false),
	(844, 832, 'IC', 'Courteous', 1, 'rating', 822, false),
	(845, 832, 'IK', 'Knew their job', 1, 'rating', 823, false);

-- Service A: 10 responses in January 2026, 9 in February.
-- January overall 5,5,5,4,4,4,3,2,1,5: 7 of 10 in the top two -> CSAT 70 %;
-- linear scores 100,100,100,75,75,75,50,25,0,100 -> 70.0;
-- NPS 10,10,9,9,8,7,6,5,0,10: 5 promoters, 3 detractors -> 20.
-- February overall 5,5,4,4,4,4,4,3,3 (7 of 9): fewer than 10, suppressed.
INSERT INTO custfocus.response (response_id, survey_id, service_id, submitted_at, external_id)
SELECT 850 + g, 831, 811, CASE WHEN g <= 10 THEN timestamptz '2026-01-15 12:00' ELSE timestamptz '2026-02-15 12:00' END, 'h' || g
  FROM generate_series(1, 19) g;
INSERT INTO custfocus.answer (response_id, item_id, value)
SELECT 850 + g, 841, (ARRAY[5, 5, 5, 4, 4, 4, 3, 2, 1, 5, 5, 5, 4, 4, 4, 4, 4, 3, 3])[g] FROM generate_series(1, 19) g
UNION ALL
SELECT 850 + g, 842, (ARRAY[10, 10, 9, 9, 8, 7, 6, 5, 0, 10])[g] FROM generate_series(1, 10) g;

SELECT level, program_code, service_code, grain, period_label, responses,
	   csat_n, round(csat::numeric, 2) AS csat, nps_n, round(nps::numeric, 2) AS nps,
	   linear_mean_n, round(linear_mean::numeric, 2) AS linear_mean, csat_change, suppressed
  FROM custfocus.scorecard WHERE program_code IN ('AG', 'PA') OR service_code IN ('SA', 'SB');
-- The intervals are the aggregates' own: Wilson for 7 of 10, etc.
SELECT round(csat_ci_low::numeric, 4) = round((custfocus.wilson_ci(7, 10)).ci_low::numeric * 100, 4) AS csat_ci_ok,
	   round(nps_ci_low::numeric, 4) AS nps_ci_low, round(nps_ci_high::numeric, 4) AS nps_ci_high,
	   round(linear_mean_ci_low::numeric, 4) AS lm_ci_low
  FROM custfocus.scorecard WHERE service_code = 'SA' AND grain = 'month' AND period_label = '2026-01';
-- At 9, the February scores show once the threshold is 9; and the change
-- from January then appears, with its p-value.  The threshold is the
-- agency's floor, which an admin (here the superuser) lowers.
UPDATE custfocus.setting SET min_responses = 9;
SELECT period_label, csat_n, round(csat::numeric, 2) AS csat, round(csat_change::numeric, 2) AS csat_change,
	   round(csat_change_p::numeric, 4) AS p, suppressed
  FROM custfocus.scorecard WHERE service_code = 'SA' AND grain = 'month';
SELECT round((custfocus.prop_ztest(7, 9, 7, 10)).p_value::numeric, 4) AS same_p;
UPDATE custfocus.setting SET min_responses = DEFAULT;

-- Trend (p-chart of CSAT): January 7/10, February 7/9 (suppressed at a
-- floor of 10) -> centre 7/10, from the shown point only: 14/19 would give
-- February's 7 away.
SELECT level, service_code, grain, period_label, n, round(csat::numeric, 2) AS csat,
	   round(centre::numeric, 4) AS centre, signal, suppressed
  FROM custfocus.satisfaction_trend WHERE service_code = 'SA';

-- Measures: a monthly and a quarterly CSAT of service A, and responses per
-- month of the program.
INSERT INTO custfocus.measure (measure_id, code, name, service_id, program_id, metric, item_id, target, direction, period) VALUES
	(861, 'M-MONTH', 'Monthly CSAT', 811, NULL, 'csat', 841, 75, 'higher', 'month'),
	(862, 'M-QUARTER', 'Quarterly CSAT', 811, NULL, 'csat', 841, 73, 'higher', 'quarter'),
	(863, 'M-NPS', 'NPS', 811, NULL, 'nps', 842, 25, 'higher', 'quarter'),
	(864, 'M-RESP', 'Responses', NULL, 802, 'response_count', NULL, 12, 'lower', 'month');
SELECT measure_code, program_code, service_code, period_label, n, round(actual::numeric, 2) AS actual,
	   target, met, round(change::numeric, 2) AS change, trend, suppressed
  FROM custfocus.measure_status WHERE measure_code LIKE 'M-%';
SELECT measure_code, period_label, n, round(p::numeric, 2) AS p, round(centre::numeric, 4) AS centre, suppressed
  FROM custfocus.control_chart WHERE measure_code LIKE 'M-%';

-- Importance-performance with stated importance (the IPA survey has no
-- overall item): T 60, C 80, K 100 -> crosshair 80; performance T 100
-- (all 5), C 50 (all 3), K 75 (all 4) -> crosshair 75.  C sits on the
-- importance crosshair and K on the performance one: on the crosshair
-- counts as high, so C is "Concentrate here" and K "Keep up the good work".
INSERT INTO custfocus.response (response_id, survey_id, service_id, submitted_at, external_id)
SELECT 870 + g, 832, 812, timestamptz '2026-03-01 09:00' + g * interval '1 day', 'i' || g
  FROM generate_series(1, 10) g;
INSERT INTO custfocus.answer (response_id, item_id, value)
SELECT 870 + g, i.item_id, CASE i.code WHEN 'IT' THEN 5 WHEN 'IC' THEN 3 ELSE 4 END
  FROM generate_series(1, 10) g CROSS JOIN custfocus.item i WHERE i.survey_id = 832;
SELECT service_code, survey_code, requirement_code, n, importance, importance_source, performance,
	   gap, priority, quadrant, suppressed
  FROM custfocus.key_drivers WHERE service_code = 'SB';
INSERT INTO custfocus.improvement_action (title, service_id, requirement_id, status) VALUES
	('Courtesy training', 812, 822, 'in_progress'), ('Done already', 812, 822, 'completed');
-- Ranked by priority = importance x gap: K 2500, C 2400, T -2400.
SELECT rank, service_code, requirement_code, priority, quadrant, open_actions, open_action_titles, reason
  FROM custfocus.improvement_opportunities WHERE service_code = 'SB';
-- With 9 answers a requirement's performance is suppressed and it drops out
-- of the ranking.
DELETE FROM custfocus.answer WHERE response_id = 871 AND item_id = 843;
SELECT requirement_code, n, performance, quadrant, suppressed FROM custfocus.key_drivers
 WHERE service_code = 'SB' AND requirement_code = 'T';
SELECT count(*) AS ranked FROM custfocus.improvement_opportunities WHERE service_code = 'SB';

-- Derived importance: with an overall item, importance is 100 x r.
INSERT INTO custfocus.item (item_id, survey_id, code, text, scale_id, metric, is_overall) VALUES
	(846, 832, 'IO', 'Overall', 2, 'rating', true);
INSERT INTO custfocus.answer (response_id, item_id, value)
SELECT 870 + g, 846, 1 + g % 5 FROM generate_series(1, 10) g;
UPDATE custfocus.answer SET value = 1 + (response_id - 870) % 5 WHERE item_id = 844;   -- C tracks overall exactly
SELECT requirement_code, round(correlation::numeric, 4) AS r, derived_importance, importance_source
  FROM custfocus.key_drivers WHERE service_code = 'SB' ORDER BY requirement_code;

-- Weighted answers with Kish's n_eff below 2 (issue 12, item 14): service
-- W has 10 responses in May 2026, one of weight 100 and nine of weight 1,
-- so n_eff = 109^2 / 10009 = 1.187 and the interval's t has 0.187 degrees
-- of freedom.  Its bounds were NaN with suppressed = false; now they are
-- the (very wide) interval, 95.4128 -+ 86934158.3296, computed with
-- python3-mpmath from the exact sums (see linear_mean_stats.sql, case B).
INSERT INTO custfocus.program (program_id, code, name) VALUES (803, 'PW', 'Program W');
INSERT INTO custfocus.service (service_id, program_id, code, name) VALUES (813, 803, 'SW', 'Service W');
INSERT INTO custfocus.response (response_id, survey_id, service_id, submitted_at, external_id, weight)
SELECT 880 + g, 831, 813, timestamptz '2026-05-15 12:00', 'w' || g, CASE WHEN g = 1 THEN 100 ELSE 1 END
  FROM generate_series(1, 10) g;
INSERT INTO custfocus.answer (response_id, item_id, value)
SELECT 880 + g, 841, (ARRAY[5, 1, 2, 3, 4, 5, 1, 2, 3, 4])[g] FROM generate_series(1, 10) g;
SELECT service_code, grain, linear_mean_n, round(linear_mean::numeric, 4) AS linear_mean,
	   round(linear_mean_ci_low::numeric, 4) AS lm_ci_low, round(linear_mean_ci_high::numeric, 4) AS lm_ci_high,
	   abs(linear_mean_ci_low / -86934062.91677567573 - 1) < 1e-9 AS low_ok,
	   abs(linear_mean_ci_high / 86934253.742463749124 - 1) < 1e-9 AS high_ok, suppressed
  FROM custfocus.scorecard WHERE service_code = 'SW' ORDER BY grain;
ROLLBACK;

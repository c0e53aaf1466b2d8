-- The roll-ups behind the scorecard, the trend and the key drivers are
-- exact: after every kind of change (imports and inserts, answers added to
-- existing responses, answers corrected, weights changed, responses moved
-- between services or months, retention, items and scales changed,
-- requirements of items changed, programs re-parented, responses deleted),
-- in a random order, rollup_verify() finds nothing, and the views equal a
-- computation from the raw answers to 1e-12 relative.  Then: the plan of a filtered query
-- reaches the roll-up's index; a reader's function in a WHERE clause sees
-- no row of a program the reader may not see (security_barrier).
\set ON_ERROR_ROLLBACK on
\set VERBOSITY terse
SET client_min_messages = warning;

-- The scorecard computed from the raw answers, the way the views of 1.1 did
-- (one pass over the answers per service and month, merged into units and
-- grains), with the periods of the reporting time zone.  Independent of the
-- roll-up: the reference the view must equal.
CREATE FUNCTION pg_temp.scorecard_reference()
RETURNS TABLE (level text, program_code text, service_code text, grain text, period_start date,
			   responses bigint, csat_n bigint, csat double precision, csat_low double precision,
			   nps_n bigint, nps double precision, nps_se double precision,
			   lm_n bigint, lm double precision, lm_low double precision)
LANGUAGE sql AS $$
	WITH tz AS (SELECT custfocus.reporting_time_zone() AS tz),
	unit AS (
		WITH RECURSIVE up (service_id, program_id) AS (
			SELECT s.service_id, s.program_id FROM custfocus.service s
			UNION ALL
			SELECT up.service_id, p.parent_id FROM up JOIN custfocus.program p ON p.program_id = up.program_id
			 WHERE p.parent_id IS NOT NULL)
		SELECT s.service_id, 'service' AS level, s.program_id, s.service_id AS unit_service_id FROM custfocus.service s
		UNION ALL
		SELECT up.service_id, 'program', up.program_id, NULL FROM up
	),
	per_month AS (
		SELECT r.service_id, date_trunc('month', timezone(tz.tz, r.submitted_at))::date AS m,
			   custfocus.top_box_state(custfocus.oriented_score(a.value, i.reverse_coded, sc.min_value, sc.max_value),
									   sc.max_value - 1, r.weight) FILTER (WHERE i.is_overall AND i.metric IN ('rating', 'nps')) AS csat,
			   custfocus.nps_state(a.value, r.weight) FILTER (WHERE i.metric = 'nps') AS nps,
			   custfocus.linear_mean_state(custfocus.oriented_score(a.value, i.reverse_coded, sc.min_value, sc.max_value),
										   sc.min_value, sc.max_value, r.weight) FILTER (WHERE i.metric = 'rating') AS lm
		  FROM custfocus.response r CROSS JOIN tz
		  JOIN custfocus.answer a ON a.response_id = r.response_id
		  JOIN custfocus.item i ON i.item_id = a.item_id
		  JOIN custfocus.scale sc ON sc.scale_id = i.scale_id
		 WHERE a.value IS NOT NULL AND r.service_id IS NOT NULL
		 GROUP BY 1, 2
	),
	resp_month AS (
		SELECT r.service_id, date_trunc('month', timezone(tz.tz, r.submitted_at))::date AS m, count(*) AS n
		  FROM custfocus.response r CROSS JOIN tz WHERE r.service_id IS NOT NULL GROUP BY 1, 2
	),
	grains AS (
		SELECT g.grain, g.f FROM (VALUES ('month', 'month'), ('quarter', 'quarter'), ('year', 'year')) g (grain, f)
	),
	counted AS (
		SELECT u.level, u.program_id, u.unit_service_id, g.grain, date_trunc(g.f, rm.m)::date AS p, sum(rm.n)::bigint AS n
		  FROM resp_month rm JOIN unit u USING (service_id) CROSS JOIN grains g
		 GROUP BY 1, 2, 3, 4, 5
	),
	scored AS (
		SELECT u.level, u.program_id, u.unit_service_id, g.grain, date_trunc(g.f, pm.m)::date AS p,
			   custfocus.box_stats_merge(pm.csat) AS csat, custfocus.nps_stats_merge(pm.nps) AS nps,
			   custfocus.linear_mean_stats_merge(pm.lm) AS lm
		  FROM per_month pm JOIN unit u USING (service_id) CROSS JOIN grains g
		 GROUP BY 1, 2, 3, 4, 5
	)
	SELECT c.level, p.code, s.code, c.grain, c.p, c.n,
		   coalesce((x.csat).n, 0), (x.csat).percent, (x.csat).ci_low,
		   coalesce((x.nps).n, 0), (x.nps).nps, (x.nps).se,
		   coalesce((x.lm).n, 0), (x.lm).mean, (x.lm).ci_low
	  FROM counted c
	  LEFT JOIN scored x ON x.level = c.level AND x.program_id = c.program_id
		   AND x.unit_service_id IS NOT DISTINCT FROM c.unit_service_id AND x.grain = c.grain AND x.p = c.p
	  JOIN custfocus.program p ON p.program_id = c.program_id
	  LEFT JOIN custfocus.service s ON s.service_id = c.unit_service_id
$$;

-- Equal to 1e-12 relative.  An interval's bound is the estimate minus a
-- margin, so its rounding error is relative to the estimate, not to the
-- bound: near zero (a linear mean of 58.13 with a lower bound of 0.00236)
-- two correct sums merged in another order differ by a few units in the
-- last place of the estimate, 3e-12 of the bound; a bound is compared on
-- the scale of its estimate (scale).
CREATE FUNCTION pg_temp.close(a double precision, b double precision, scale double precision DEFAULT NULL)
RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	-- (one NULL and not the other is a difference, not an unknown)
	SELECT CASE WHEN a IS NULL OR b IS NULL THEN a IS NULL AND b IS NULL
				ELSE abs(a - b) <= 1e-12 * greatest(abs(a), abs(b), coalesce(abs(scale), 0), 1e-9) END
$$;

-- Differences between the view (suppression off: floor 1) and the reference.
CREATE FUNCTION pg_temp.scorecard_differences() RETURNS bigint
LANGUAGE sql AS $$
	WITH v AS (
		SELECT level, program_code, service_code, grain, period_start, responses, csat_n, csat, csat_ci_low,
			   nps_n, nps, linear_mean_n, linear_mean, linear_mean_ci_low
		  FROM custfocus.scorecard),
	r AS (SELECT * FROM pg_temp.scorecard_reference()),
	j AS (
		SELECT v.*, r.* FROM v FULL JOIN r
		  ON r.level = v.level AND r.program_code = v.program_code
		 AND r.service_code IS NOT DISTINCT FROM v.service_code AND r.grain = v.grain AND r.period_start = v.period_start)
	SELECT count(*) FROM (
		SELECT (j.v).*, (j.r).* FROM (SELECT v, r FROM v FULL JOIN r
		  ON r.level = v.level AND r.program_code = v.program_code
		 AND r.service_code IS NOT DISTINCT FROM v.service_code AND r.grain = v.grain AND r.period_start = v.period_start) j
		 WHERE j.v IS NULL OR j.r IS NULL
			OR (j.v).responses <> (j.r).responses OR (j.v).csat_n <> (j.r).csat_n
			OR (j.v).nps_n <> (j.r).nps_n OR (j.v).linear_mean_n <> (j.r).lm_n
			OR NOT pg_temp.close((j.v).csat, (j.r).csat) OR NOT pg_temp.close((j.v).csat_ci_low, (j.r).csat_low, (j.r).csat)
			OR NOT pg_temp.close((j.v).nps, (j.r).nps)
			OR NOT pg_temp.close((j.v).linear_mean, (j.r).lm)
			OR NOT pg_temp.close((j.v).linear_mean_ci_low, (j.r).lm_low, (j.r).lm)
	) d
$$;

-- The key drivers computed from the raw answers, by the rules key_drivers
-- states: per service and survey, the 12 months of the reporting time zone
-- ending with the latest month with a driver answer; weighted linear mean
-- of the driver answers; Pearson r (corr) with the overall answer of the
-- same response, every pair.
CREATE FUNCTION pg_temp.drivers_reference()
RETURNS TABLE (service_code text, survey_code text, requirement_code text, window_start date, window_end date,
			   n bigint, r double precision, performance double precision, relative_importance double precision,
			   model_r2 double precision, model_n bigint, drivers_alpha double precision)
LANGUAGE sql AS $$
	WITH tz AS (SELECT custfocus.reporting_time_zone() AS tz),
	ans AS (
		SELECT r.service_id, r.survey_id, r.response_id, r.weight, i.item_id, i.requirement_id, i.is_overall,
			   date_trunc('month', timezone(tz.tz, r.submitted_at))::date AS m,
			   custfocus.oriented_score(a.value, i.reverse_coded, sc.min_value, sc.max_value) AS score,
			   sc.min_value, sc.max_value
		  FROM custfocus.response r CROSS JOIN tz
		  JOIN custfocus.answer a ON a.response_id = r.response_id
		  JOIN custfocus.item i ON i.item_id = a.item_id
		  JOIN custfocus.scale sc ON sc.scale_id = i.scale_id
		 WHERE a.value IS NOT NULL AND r.service_id IS NOT NULL
	),
	drv AS (SELECT * FROM ans WHERE requirement_id IS NOT NULL AND NOT is_overall),
	win AS (SELECT service_id, survey_id, max(m) AS last FROM drv GROUP BY 1, 2),
	-- the model of each service and survey over the window, in one pass
	-- over its respondents' answers (pairwise deletion): the relative
	-- weights of the requirement items answered in the window for the
	-- overall item, alpha of those items
	model AS (
		SELECT x.service_id, x.survey_id, (y.rw).n AS model_n, (y.rw).r2 AS model_r2, (y.al).alpha AS alpha,
			   x.reqs, (y.rw).shares AS shares
		  FROM (SELECT w.service_id, w.survey_id,
					   array_agg(i.item_id ORDER BY i.item_id) AS drivers,
					   array_agg(i.requirement_id ORDER BY i.item_id) AS reqs,
					   (SELECT min(o.item_id) FROM custfocus.item o WHERE o.survey_id = w.survey_id AND o.is_overall) AS outcome,
					   (SELECT custfocus.pairwise_state(p.ids, p.scores)
						  FROM (SELECT a.response_id, array_agg(a.item_id) AS ids, array_agg(a.score) AS scores
								  FROM ans a
								 WHERE a.service_id = w.service_id AND a.survey_id = w.survey_id
								   AND a.m >= w.last - interval '11 months' AND a.m <= w.last
								 GROUP BY a.response_id) p) AS state
				  FROM win w
				  JOIN custfocus.item i ON i.survey_id = w.survey_id AND i.requirement_id IS NOT NULL AND NOT i.is_overall
				 WHERE EXISTS (SELECT FROM drv d WHERE d.service_id = w.service_id AND d.item_id = i.item_id
								  AND d.m >= w.last - interval '11 months' AND d.m <= w.last)
				 GROUP BY w.service_id, w.survey_id, w.last) x
		 CROSS JOIN LATERAL (SELECT custfocus.pairwise_relative_weights(x.state, x.outcome, x.drivers) AS rw,
									custfocus.pairwise_alpha(x.state, x.drivers) AS al) y
		 WHERE x.outcome IS NOT NULL
	),
	req AS (
		SELECT s.code AS service_code, sv.code AS survey_code, rq.code AS requirement_code,
			   (w.last - interval '11 months')::date AS window_start,
			   (w.last + interval '1 month' - interval '1 day')::date AS window_end,
			   (custfocus.linear_mean_stats(d.score, d.min_value, d.max_value, d.weight)).n AS n,
			   corr(d.score, o.score) AS r,
			   (custfocus.linear_mean_stats(d.score, d.min_value, d.max_value, d.weight)).mean AS performance,
			   d.service_id, d.survey_id, d.requirement_id
		  FROM drv d
		  JOIN win w ON w.service_id = d.service_id AND w.survey_id = d.survey_id
		  LEFT JOIN ans o ON o.response_id = d.response_id AND o.is_overall
		  JOIN custfocus.service s ON s.service_id = d.service_id
		  JOIN custfocus.survey sv ON sv.survey_id = d.survey_id
		  JOIN custfocus.requirement rq ON rq.requirement_id = d.requirement_id
		 WHERE d.m >= w.last - interval '11 months'
		 GROUP BY s.code, sv.code, rq.code, w.last, d.service_id, d.survey_id, d.requirement_id
	)
	-- (the floor is 1 here: every figure with a respondent is shown)
	SELECT q.service_code, q.survey_code, q.requirement_code, q.window_start, q.window_end, q.n, q.r, q.performance,
		   CASE WHEN md.model_n >= 1 THEN
				100 * (SELECT sum(md.shares[o.k]) FROM unnest(md.reqs) WITH ORDINALITY AS o (requirement_id, k)
						WHERE o.requirement_id = q.requirement_id) END,
		   CASE WHEN md.model_n >= 1 THEN md.model_r2 END, md.model_n,
		   CASE WHEN md.model_n >= 1 THEN md.alpha END
	  FROM req q
	  LEFT JOIN model md ON md.service_id = q.service_id AND md.survey_id = q.survey_id
$$;

-- Differences between key_drivers (floor 1) and the reference.
CREATE FUNCTION pg_temp.drivers_differences() RETURNS bigint
LANGUAGE sql AS $$
	SELECT count(*)
	  FROM (SELECT * FROM custfocus.key_drivers WHERE service_code LIKE 'RU_S%') v
	  FULL JOIN pg_temp.drivers_reference() r
		ON r.service_code = v.service_code AND r.survey_code = v.survey_code AND r.requirement_code = v.requirement_code
	 WHERE v.service_code IS NULL OR r.service_code IS NULL
		OR v.window_start <> r.window_start OR v.window_end <> r.window_end OR v.n <> r.n
		OR NOT pg_temp.close(v.performance, r.performance)
		OR NOT ((v.correlation IS NULL AND r.r IS NULL) OR abs(v.correlation - r.r) <= 1e-12)
		-- the model (relative weights on 0..100, R squared and alpha on
		-- 0..1: to 1e-12 of their scale; Jacobi's rotations on a matrix
		-- merged in another order leave rounding of that size)
		OR NOT pg_temp.close(v.relative_importance, r.relative_importance, 100)
		OR NOT pg_temp.close(v.model_r2, r.model_r2, 1)
		OR v.model_n IS DISTINCT FROM r.model_n
		OR NOT pg_temp.close(v.drivers_alpha, r.drivers_alpha, 1)
$$;

-- The performance measures computed from the raw answers, the way the
-- functions of 1.2 did (one metric per measure over the answers of its
-- items and services), with the periods of the reporting time zone.
CREATE FUNCTION pg_temp.measures_reference()
RETURNS TABLE (measure_code text, period_start date, n bigint, actual double precision, in_box double precision)
LANGUAGE sql AS $$
	WITH RECURSIVE tz AS (SELECT custfocus.reporting_time_zone() AS tz),
	m AS (SELECT * FROM custfocus.measure WHERE active AND code LIKE 'RU-%'),
	tree (measure_id, program_id) AS (
		SELECT m.measure_id, m.program_id FROM m WHERE m.program_id IS NOT NULL
		UNION ALL
		SELECT t.measure_id, p.program_id FROM tree t JOIN custfocus.program p ON p.parent_id = t.program_id
	),
	scope AS (
		SELECT m.measure_id, m.service_id FROM m WHERE m.service_id IS NOT NULL
		UNION ALL
		SELECT t.measure_id, s.service_id FROM tree t JOIN custfocus.service s ON s.program_id = t.program_id
	),
	counts AS (
		SELECT m.measure_id, date_trunc(m.period, timezone(tz.tz, r.submitted_at))::date AS period_start, count(*) AS n
		  FROM scope sc JOIN m ON m.measure_id = sc.measure_id CROSS JOIN tz
		  JOIN custfocus.response r ON r.service_id = sc.service_id
		 WHERE m.metric = 'response_count'
		 GROUP BY 1, 2
	),
	scored AS (
		SELECT m.measure_id, m.metric, date_trunc(m.period, timezone(tz.tz, r.submitted_at))::date AS period_start, r.weight,
			   custfocus.oriented_score(a.value, i.reverse_coded, s.min_value, s.max_value) AS score,
			   s.min_value, s.max_value,
			   CASE WHEN m.metric = 'csat' OR s.max_value - s.min_value >= 4
					THEN s.max_value - 1 ELSE s.max_value END AS top_from,
			   CASE WHEN s.max_value - s.min_value >= 4 THEN s.min_value + 1 ELSE s.min_value END AS bottom_to
		  FROM scope sc JOIN m ON m.measure_id = sc.measure_id CROSS JOIN tz
		  JOIN custfocus.response r ON r.service_id = sc.service_id
		  JOIN custfocus.answer a ON a.response_id = r.response_id
		  JOIN custfocus.item i ON i.item_id = a.item_id
			   AND (i.item_id = m.item_id OR i.requirement_id = m.requirement_id)
		  JOIN custfocus.scale s ON s.scale_id = i.scale_id
		 WHERE m.metric <> 'response_count' AND a.value IS NOT NULL
	),
	agg AS (
		SELECT x.measure_id, x.period_start, x.metric, count(*) AS n,
			   custfocus.top_box_stats(x.score, x.top_from, x.weight) FILTER (WHERE x.metric IN ('csat', 'top_box')) AS top_w,
			   custfocus.top_box_stats(x.score, x.top_from) FILTER (WHERE x.metric IN ('csat', 'top_box')) AS top_plain,
			   custfocus.bottom_box_stats(x.score, x.bottom_to, x.weight) FILTER (WHERE x.metric = 'bottom_box') AS bottom_w,
			   custfocus.bottom_box_stats(x.score, x.bottom_to) FILTER (WHERE x.metric = 'bottom_box') AS bottom_plain,
			   custfocus.nps(x.score, x.weight) FILTER (WHERE x.metric = 'nps') AS nps,
			   custfocus.linear_mean(x.score, x.min_value, x.max_value, x.weight) FILTER (WHERE x.metric = 'linear_mean') AS lm,
			   (custfocus.mean_ci(x.score) FILTER (WHERE x.metric = 'mean')).mean AS mean,
			   (custfocus.ces_stats(x.score, x.weight) FILTER (WHERE x.metric = 'ces')).mean AS ces
		  FROM scored x
		 GROUP BY x.measure_id, x.period_start, x.metric
	)
	SELECT m.code, a.period_start, a.n,
		   CASE a.metric WHEN 'csat' THEN (a.top_w).percent WHEN 'top_box' THEN (a.top_w).percent
						 WHEN 'bottom_box' THEN (a.bottom_w).percent WHEN 'nps' THEN a.nps
						 WHEN 'linear_mean' THEN a.lm WHEN 'mean' THEN a.mean WHEN 'ces' THEN a.ces END,
		   coalesce((a.top_plain).in_box, (a.bottom_plain).in_box)
	  FROM agg a JOIN custfocus.measure m USING (measure_id)
	UNION ALL
	SELECT m.code, c.period_start, c.n, c.n, NULL FROM counts c JOIN custfocus.measure m USING (measure_id)
$$;

-- Differences between measure_status (floor 1) and the reference.
CREATE FUNCTION pg_temp.measures_differences() RETURNS bigint
LANGUAGE sql AS $$
	SELECT count(*)
	  FROM (SELECT * FROM custfocus.measure_status WHERE measure_code LIKE 'RU-%') v
	  FULL JOIN pg_temp.measures_reference() r
		ON r.measure_code = v.measure_code AND r.period_start = v.period_start
	 WHERE v.measure_code IS NULL OR r.measure_code IS NULL OR v.n <> r.n
		OR NOT pg_temp.close(v.actual, r.actual) OR v.in_box IS DISTINCT FROM r.in_box::bigint
$$;

-- An agency of two divisions and four services, two surveys.
INSERT INTO custfocus.program (code, name, level) VALUES ('RU_AG', 'Agency', 'agency');
INSERT INTO custfocus.program (code, name, level, parent_id)
SELECT v, v, 'division', program_id FROM custfocus.program, (VALUES ('RU_D1'), ('RU_D2')) x (v) WHERE code = 'RU_AG';
INSERT INTO custfocus.program (code, name, level, parent_id)
SELECT v.c, v.c, 'program', p.program_id FROM (VALUES ('RU_P1', 'RU_D1'), ('RU_P2', 'RU_D1'), ('RU_P3', 'RU_D2')) v (c, d)
  JOIN custfocus.program p ON p.code = v.d;
INSERT INTO custfocus.service (program_id, code, name)
SELECT p.program_id, v.c, v.c FROM (VALUES ('RU_S1', 'RU_P1'), ('RU_S2', 'RU_P1'), ('RU_S3', 'RU_P2'), ('RU_S4', 'RU_P3')) v (c, p)
  JOIN custfocus.program p ON p.code = v.p;
INSERT INTO custfocus.survey (code, name, program_id)
SELECT 'ru-a', 'A', program_id FROM custfocus.program WHERE code = 'RU_AG';
INSERT INTO custfocus.survey (code, name, program_id)
SELECT 'ru-b', 'B', program_id FROM custfocus.program WHERE code = 'RU_AG';
-- overall satisfaction (5 points), a reverse-coded rating, NPS, a text item
INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric, is_overall, reverse_coded)
SELECT s.survey_id, v.code, v.code, v.scale, v.metric, v.overall, v.rev
  FROM custfocus.survey s,
	   (VALUES ('SAT', 2, 'rating', true, false), ('WAIT', 1, 'rating', false, true),
			   ('NPS', 3, 'nps', false, false), ('CES', 5, 'ces', false, false)) v (code, scale, metric, overall, rev)
 WHERE s.code IN ('ru-a', 'ru-b');
INSERT INTO custfocus.item (survey_id, code, text, metric)
SELECT survey_id, 'COMMENT', 'Comment', 'text' FROM custfocus.survey WHERE code IN ('ru-a', 'ru-b');
-- requirements (key drivers): waiting (the reverse-coded rating), effort
-- (the CES item) and staff (a 7-point rating)
INSERT INTO custfocus.requirement (code, name) VALUES ('ru_wait', 'Waiting'), ('ru_effort', 'Effort'), ('ru_staff', 'Staff');
UPDATE custfocus.item SET requirement_id = (SELECT requirement_id FROM custfocus.requirement WHERE code = 'ru_wait')
 WHERE code = 'WAIT' AND survey_id IN (SELECT survey_id FROM custfocus.survey WHERE code LIKE 'ru-%');
UPDATE custfocus.item SET requirement_id = (SELECT requirement_id FROM custfocus.requirement WHERE code = 'ru_effort')
 WHERE code = 'CES' AND survey_id IN (SELECT survey_id FROM custfocus.survey WHERE code LIKE 'ru-%');
INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric, requirement_id)
SELECT s.survey_id, 'STAFF', 'Staff', 5, 'rating', (SELECT requirement_id FROM custfocus.requirement WHERE code = 'ru_staff')
  FROM custfocus.survey s WHERE s.code IN ('ru-a', 'ru-b');

-- a measure of each metric, of programs and of services, of items and of
-- requirements, by month, quarter and year
INSERT INTO custfocus.measure (code, name, program_id, service_id, metric, item_id, requirement_id, target, period)
SELECT v.code, v.code, p.program_id, s.service_id, v.metric,
	   (SELECT item_id FROM custfocus.item i JOIN custfocus.survey sv USING (survey_id) WHERE sv.code = 'ru-a' AND i.code = v.item),
	   (SELECT requirement_id FROM custfocus.requirement WHERE code = v.requirement), 50, v.period
  FROM (VALUES ('RU-CSAT', 'RU_D1', NULL, 'csat', 'SAT', NULL, 'quarter'),
			   ('RU-TOP', NULL, 'RU_S1', 'top_box', 'WAIT', NULL, 'month'),
			   ('RU-BOTTOM', 'RU_AG', NULL, 'bottom_box', NULL, 'ru_staff', 'year'),
			   ('RU-NPS', 'RU_P1', NULL, 'nps', 'NPS', NULL, 'quarter'),
			   ('RU-LM', NULL, 'RU_S2', 'linear_mean', NULL, 'ru_wait', 'quarter'),
			   ('RU-MEAN', 'RU_AG', NULL, 'mean', 'CES', NULL, 'month'),
			   ('RU-CES', 'RU_D2', NULL, 'ces', 'CES', NULL, 'year'),
			   ('RU-RESP', 'RU_AG', NULL, 'response_count', NULL, NULL, 'month')) AS v (code, program, service, metric, item, requirement, period)
  LEFT JOIN custfocus.program p ON p.code = v.program
  LEFT JOIN custfocus.service s ON s.code = v.service;

SELECT setseed(0.3);
-- Random responses: services, months across two years (some right at a
-- month's edge in the reporting time zone), weights, answers.
CREATE FUNCTION pg_temp.add_responses(k integer) RETURNS void LANGUAGE sql AS $$
	WITH x AS (
		SELECT g, random() AS r_survey, random() AS r_service, random() AS r_edge, random() AS r_time,
			   random() AS r_weight, random() AS r_w
		  FROM generate_series(1, k) g
	),
	r AS (
		INSERT INTO custfocus.response (survey_id, service_id, submitted_at, weight, external_id)
		SELECT (SELECT survey_id FROM custfocus.survey WHERE code = CASE WHEN x.r_survey < 0.7 THEN 'ru-a' ELSE 'ru-b' END),
			   (SELECT service_id FROM custfocus.service WHERE code = 'RU_S' || (1 + floor(x.r_service * 4))::int),
			   CASE WHEN x.r_edge < 0.2
					THEN timezone(custfocus.reporting_time_zone(), make_timestamp(2025, 1 + (x.g % 12), 1, 0, 0, 0))
						 - interval '1 second' * (x.r_time < 0.5)::int
					ELSE timestamptz '2025-01-01' + x.r_time * interval '700 days' END,
			   CASE WHEN x.r_weight < 0.3 THEN 0.25 + x.r_w * 3 ELSE 1 END,
			   'ru' || nextval('custfocus.response_response_id_seq')
		  FROM x
		RETURNING response_id, survey_id
	)
	INSERT INTO custfocus.answer (response_id, item_id, value, text_value)
	SELECT r.response_id, i.item_id,
		   CASE i.code WHEN 'SAT' THEN 1 + floor(random() * 5) WHEN 'WAIT' THEN 1 + floor(random() * 5)
					   WHEN 'NPS' THEN floor(random() * 11) WHEN 'CES' THEN 1 + floor(random() * 7)
					   WHEN 'STAFF' THEN 1 + floor(random() * 7) END,
		   CASE WHEN i.code = 'COMMENT' THEN 'text ' || r.response_id END
	  FROM r JOIN custfocus.item i ON i.survey_id = r.survey_id
	 WHERE random() < 0.85
$$;
SELECT pg_temp.add_responses(400);

-- The way an import loads: responses in one statement, then their answers
-- in another (the answer trigger then knows the responses had none).
CREATE FUNCTION pg_temp.load_responses(k integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	ids bigint[];
BEGIN
	WITH r AS (
		INSERT INTO custfocus.response (survey_id, service_id, submitted_at, weight, external_id)
		SELECT (SELECT survey_id FROM custfocus.survey WHERE code = CASE WHEN x.r_survey < 0.6 THEN 'ru-a' ELSE 'ru-b' END),
			   (SELECT service_id FROM custfocus.service WHERE code = 'RU_S' || (1 + floor(x.r_service * 4))::int),
			   timestamptz '2025-01-01' + random() * interval '700 days',
			   CASE WHEN random() < 0.3 THEN 0.25 + random() * 3 ELSE 1 END,
			   'ru' || nextval('custfocus.response_response_id_seq')
		  FROM (SELECT random() AS r_survey, random() AS r_service FROM generate_series(1, k)) x
		RETURNING response_id)
	SELECT array_agg(response_id) INTO ids FROM r;
	INSERT INTO custfocus.answer (response_id, item_id, value)
	SELECT r.response_id, i.item_id,
		   CASE i.code WHEN 'SAT' THEN 1 + floor(random() * 5) WHEN 'WAIT' THEN 1 + floor(random() * 5)
					   WHEN 'NPS' THEN floor(random() * 11) ELSE 1 + floor(random() * 7) END
	  FROM custfocus.response r JOIN custfocus.item i ON i.survey_id = r.survey_id AND i.metric <> 'text'
	 WHERE r.response_id = ANY (ids) AND random() < 0.85;
END
$$;

-- A real import (import_responses, which adds up its roll-up deltas in C,
-- src/rollup_import.c): random services (some rows without one), times
-- (some right at a month's edge in the reporting time zone), weights,
-- answers (some left empty), a few rows repeating a respondent already
-- loaded (skipped), in batches of random size.
CREATE FUNCTION pg_temp.import_some(k integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	v_survey text := CASE WHEN random() < 0.6 THEN 'ru-a' ELSE 'ru-b' END;
	v_csv text;
BEGIN
	-- (a repeated respondent is one already loaded in the same survey and
	-- service, which the import skips: no two responses share a respondent
	-- id, so that moving responses between services never collides)
	SELECT 'respondent_id,submitted_at,service,weight,SAT,WAIT,NPS,CES,STAFF,COMMENT' || E'\n'
		   || string_agg(array_to_string(ARRAY[
				CASE WHEN x.r_dup < 0.05 AND d.external_id IS NOT NULL THEN d.external_id
					 ELSE 'rui' || nextval('custfocus.response_response_id_seq') END,
				to_char(CASE WHEN x.r_edge < 0.2
							 THEN timezone(custfocus.reporting_time_zone(), make_timestamp(2025, 1 + (x.g % 12), 1, 0, 0, 0))
								  - interval '1 second' * (x.r_time < 0.5)::int
							 ELSE timestamptz '2025-01-01' + x.r_time * interval '700 days' END
						AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
				CASE WHEN x.r_dup < 0.05 AND d.external_id IS NOT NULL THEN d.service_code
					 WHEN x.r_service < 0.9 THEN 'RU_S' || (1 + floor(x.r_service / 0.9 * 4))::int END,
				CASE WHEN x.r_weight < 0.3 THEN round((0.25 + x.r_w * 3)::numeric, 3)::text ELSE '1' END,
				CASE WHEN random() < 0.9 THEN (1 + floor(random() * 5))::text END,
				CASE WHEN random() < 0.85 THEN (1 + floor(random() * 5))::text END,
				CASE WHEN random() < 0.85 THEN floor(random() * 11)::text END,
				CASE WHEN random() < 0.85 THEN (1 + floor(random() * 7))::text END,
				CASE WHEN random() < 0.85 THEN (1 + floor(random() * 7))::text END,
				CASE WHEN random() < 0.3 THEN 'imported text' END], ',', ''), E'\n')
	  INTO v_csv
	  FROM (SELECT g, random() AS r_dup, random() AS r_edge, random() AS r_time, random() AS r_service,
				   random() AS r_weight, random() AS r_w
			  FROM generate_series(1, k) g) x
	  LEFT JOIN (SELECT r.external_id, sv.code AS service_code
				   FROM custfocus.response r
				   JOIN custfocus.survey s ON s.survey_id = r.survey_id AND s.code = v_survey
				   LEFT JOIN custfocus.service sv ON sv.service_id = r.service_id
				  WHERE r.external_id LIKE 'rui%'
				  ORDER BY r.response_id LIMIT 1) d ON true;
	PERFORM custfocus.import_responses(v_survey, v_csv,
									   jsonb_build_object('batch_size', 1 + floor(random() * 12)::int,
														  'allow_missing_id', true));
END
$$;
SELECT pg_temp.import_some(20);

-- One random change of each kind, in a random order, repeated.
CREATE FUNCTION pg_temp.random_change(kind integer) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	heads boolean := random() < 0.5;   -- one draw per change, not one per row
BEGIN
	CASE kind
	WHEN 0 THEN PERFORM pg_temp.add_responses(1 + floor(random() * 30)::int); RETURN 'insert';
	WHEN 1 THEN UPDATE custfocus.answer a SET value = 1 + floor(random() * 5)
				 WHERE a.item_id IN (SELECT item_id FROM custfocus.item WHERE code IN ('SAT', 'WAIT'))
				   AND random() < 0.05;
				RETURN 'answers corrected';
	WHEN 2 THEN UPDATE custfocus.response SET weight = 0.5 + random() * 2
				 WHERE external_id LIKE 'ru%' AND random() < 0.05;
				RETURN 'weights changed';
	WHEN 3 THEN UPDATE custfocus.response SET service_id = (SELECT service_id FROM custfocus.service WHERE code = 'RU_S4')
				 WHERE external_id LIKE 'ru%' AND random() < 0.03;
				RETURN 'moved between services';
	WHEN 4 THEN UPDATE custfocus.response SET submitted_at = submitted_at + interval '17 days'
				 WHERE external_id LIKE 'ru%' AND random() < 0.03;
				RETURN 'moved in time';
	WHEN 5 THEN DELETE FROM custfocus.response WHERE external_id LIKE 'ru%' AND random() < 0.03;
				RETURN 'responses deleted';
	WHEN 6 THEN DELETE FROM custfocus.answer WHERE random() < 0.03
				   AND response_id IN (SELECT response_id FROM custfocus.response WHERE external_id LIKE 'ru%');
				RETURN 'answers deleted';
	WHEN 7 THEN UPDATE custfocus.item SET reverse_coded = NOT reverse_coded
				 WHERE code = 'WAIT' AND survey_id = (SELECT survey_id FROM custfocus.survey WHERE code = 'ru-b');
				RETURN 'item recoded';
	WHEN 8 THEN UPDATE custfocus.item SET is_overall = false
				 WHERE survey_id = (SELECT survey_id FROM custfocus.survey WHERE code = 'ru-a');
				UPDATE custfocus.item SET is_overall = true
				 WHERE code = CASE WHEN heads THEN 'SAT' ELSE 'WAIT' END
				   AND survey_id = (SELECT survey_id FROM custfocus.survey WHERE code = 'ru-a');
				RETURN 'overall item changed';
	WHEN 9 THEN UPDATE custfocus.program SET parent_id = (SELECT program_id FROM custfocus.program
														   WHERE code = CASE WHEN heads THEN 'RU_D1' ELSE 'RU_D2' END)
				 WHERE code = 'RU_P2';
				RETURN 'program re-parented';
	WHEN 10 THEN PERFORM custfocus.apply_retention('ru-b', interval '500 days', 'delete');
				 RETURN 'retention';
	WHEN 11 THEN UPDATE custfocus.service SET program_id = (SELECT program_id FROM custfocus.program
															 WHERE code = CASE WHEN heads THEN 'RU_P2' ELSE 'RU_P3' END)
				  WHERE code = 'RU_S3';
				 RETURN 'service moved to another program';
	WHEN 12 THEN PERFORM pg_temp.load_responses(1 + floor(random() * 30)::int); RETURN 'loaded (responses, then answers)';
	-- answers that respondents skipped, added later: pairs with the
	-- answers the responses already have
	WHEN 13 THEN INSERT INTO custfocus.answer (response_id, item_id, value)
				 SELECT r.response_id, i.item_id, CASE WHEN i.code = 'SAT' THEN 1 + floor(random() * 5)
														 ELSE 1 + floor(random() * 5) END
				   FROM custfocus.response r
				   JOIN custfocus.item i ON i.survey_id = r.survey_id AND i.code IN ('SAT', 'WAIT')
				  WHERE r.external_id LIKE 'ru%' AND random() < 0.2
					AND NOT EXISTS (SELECT FROM custfocus.answer a WHERE a.response_id = r.response_id AND a.item_id = i.item_id);
				 RETURN 'skipped answers added';
	WHEN 15 THEN PERFORM pg_temp.import_some(1 + floor(random() * 40)::int); RETURN 'imported';
	ELSE UPDATE custfocus.item SET requirement_id = CASE WHEN requirement_id IS NULL
														 THEN (SELECT requirement_id FROM custfocus.requirement WHERE code = 'ru_effort') END
		  WHERE code = 'CES' AND survey_id = (SELECT survey_id FROM custfocus.survey WHERE code = CASE WHEN heads THEN 'ru-a' ELSE 'ru-b' END);
		 RETURN 'requirement of an item changed';
	END CASE;
END
$$;

-- The floor at 1, so that the view shows every score the reference computes.
UPDATE custfocus.setting SET min_responses = 1;

CREATE TEMP TABLE run (step integer, change text, verify_problems bigint, view_differences bigint,
					   driver_differences bigint, measure_differences bigint);
-- Five rounds, each every kind of change once, in a random order.
DO $$
DECLARE
	step integer := 0;
	kind integer;
BEGIN
	FOR round IN 1 .. 5 LOOP
		FOR kind IN SELECT k FROM generate_series(0, 15) k ORDER BY random() LOOP
			step := step + 1;
			INSERT INTO run
			SELECT step, pg_temp.random_change(kind),
				   (SELECT count(*) FROM custfocus.rollup_verify()),
				   CASE WHEN step % 10 = 0 THEN pg_temp.scorecard_differences() END,
				   CASE WHEN step % 5 = 0 THEN pg_temp.drivers_differences() END,
				   CASE WHEN step % 5 = 0 THEN pg_temp.measures_differences() END;
		END LOOP;
	END LOOP;
END
$$;
-- every kind of change happened, and none left a difference
SELECT change, count(*) AS times, sum(verify_problems) AS verify_problems,
	   coalesce(sum(view_differences), 0) AS view_differences,
	   coalesce(sum(driver_differences), 0) AS driver_differences,
	   coalesce(sum(measure_differences), 0) AS measure_differences
  FROM run GROUP BY change ORDER BY change;
SELECT count(*) > 1000 AS enough_answers FROM custfocus.answer;
-- the key drivers' models have figures to compare: relative importances
-- that sum to 100 per service and survey, R squared and alpha
SELECT count(*) > 0 AS models, bool_and(abs(total - 100) < 1e-9) AS shares_sum_to_100,
	   bool_and(r2 > 0 AND r2 <= 1) AS r2_in_range, count(alpha) > 0 AS some_alpha
  FROM (SELECT service_code, survey_code, sum(relative_importance) AS total, max(model_r2) AS r2,
			   max(drivers_alpha) AS alpha
		  FROM custfocus.key_drivers WHERE service_code LIKE 'RU_S%' AND relative_importance IS NOT NULL
		 GROUP BY 1, 2) m;
SELECT pg_temp.scorecard_differences() AS differences_at_the_end,
	   pg_temp.drivers_differences() AS driver_differences_at_the_end,
	   pg_temp.measures_differences() AS measure_differences_at_the_end;

-- The same changes, each committed on its own (the rounds above ran in one
-- transaction, which reads its own changes computed at read time): after
-- every commit the published figures equal a computation from the roll-ups
-- (report_verify), and every third step the scorecard, the key drivers and
-- the measures, as the views read them published, equal the references
-- computed from the answers.
CREATE TEMP TABLE run_committed (step integer, change text, verify_problems bigint, published_problems bigint,
								 view_differences bigint, read_published boolean);
DO $$
DECLARE
	step integer := 0;
	kind integer;
	v_change text;
	v_published boolean;
BEGIN
	FOR round IN 1 .. 2 LOOP
		FOR kind IN SELECT k FROM generate_series(0, 15) k ORDER BY random() LOOP
			step := step + 1;
			v_change := pg_temp.random_change(kind);
			COMMIT;
			-- the publisher (a background worker the commit started, see
			-- src/publish.c) publishes the figures, then they are verified
			-- (two statements: one expression would test in its snapshot)
			PERFORM custfocus.report_wait();
			v_published := custfocus.report_published();
			INSERT INTO run_committed
			SELECT step, v_change,
				   (SELECT count(*) FROM custfocus.rollup_verify()),
				   (SELECT count(*) FROM custfocus.report_verify()),
				   CASE WHEN step % 3 = 0 THEN pg_temp.scorecard_differences() END
				   + CASE WHEN step % 3 = 0 THEN pg_temp.drivers_differences() END
				   + CASE WHEN step % 3 = 0 THEN pg_temp.measures_differences() END,
				   v_published;
			COMMIT;
		END LOOP;
	END LOOP;
END
$$;
SELECT change, count(*) AS times, sum(verify_problems) AS verify_problems,
	   sum(published_problems) AS published_problems, coalesce(sum(view_differences), 0) AS view_differences,
	   bool_and(read_published) AS read_published
  FROM run_committed GROUP BY change ORDER BY change;
-- Stated importance is an input of the key drivers that is not an answer:
-- changed, of a requirement or at a service, it is published at commit.
UPDATE custfocus.requirement SET importance = 11;
SELECT count(*) AS published_problems FROM custfocus.report_verify();
SELECT count(*) > 0 AS some_rows, bool_and(stated_importance = 11) AS stated_everywhere FROM custfocus.key_drivers;
INSERT INTO custfocus.service_requirement (service_id, requirement_id, importance)
SELECT s.service_id, rq.requirement_id, 99 FROM custfocus.service s, custfocus.requirement rq
 WHERE s.code = 'RU_S1';
SELECT count(*) AS published_problems FROM custfocus.report_verify();
SELECT service_code = 'RU_S1' AS at_ru_s1, min(stated_importance), max(stated_importance) FROM custfocus.key_drivers
 GROUP BY 1 ORDER BY 1;
UPDATE custfocus.service_requirement SET importance = 98;
SELECT count(*) AS published_problems FROM custfocus.report_verify();
SELECT max(stated_importance) AS at_ru_s1 FROM custfocus.key_drivers WHERE service_code = 'RU_S1';
DELETE FROM custfocus.service_requirement;
SELECT count(*) AS published_problems FROM custfocus.report_verify();
SELECT count(*) > 0 AS some_rows, bool_and(stated_importance = 11) AS stated_everywhere FROM custfocus.key_drivers;
-- An item of a requirement added (without answers) or deleted: every
-- figure computed again and published at commit (which items a
-- requirement has is an input of the key drivers' check and of the
-- complementary suppression's relations).
SELECT publications AS publications_before FROM custfocus.report_state \gset
INSERT INTO custfocus.item (survey_id, code, text, scale_id, metric, requirement_id)
SELECT i.survey_id, 'RU-NEW', 'New question', i.scale_id, 'rating', i.requirement_id
  FROM custfocus.item i WHERE i.requirement_id IS NOT NULL ORDER BY i.item_id LIMIT 1;
SELECT custfocus.report_wait() AS publisher_done;
SELECT publications - :publications_before AS published, (SELECT count(*) FROM custfocus.report_verify()) AS published_problems
  FROM custfocus.report_state;
DELETE FROM custfocus.item WHERE code = 'RU-NEW';
SELECT custfocus.report_wait() AS publisher_done;
SELECT publications - :publications_before AS published, (SELECT count(*) FROM custfocus.report_verify()) AS published_problems
  FROM custfocus.report_state;
-- every measure has periods to compare
SELECT measure_code, count(*) > 1 AS periods FROM custfocus.measure_status WHERE measure_code LIKE 'RU-%'
 GROUP BY 1 ORDER BY 1;
-- the comparison means something: every service has drivers with pairs
SELECT count(DISTINCT service_code) AS services, count(*) >= 8 AS enough_driver_rows, bool_and(correlation IS NOT NULL) AS all_correlated
  FROM custfocus.key_drivers WHERE service_code LIKE 'RU_S%';

-- Compaction and rebuild change nothing the views show.  Within a
-- transaction every statement appends a row to each key it touches (the
-- response counts and the answer states: two rows) ...
CREATE FUNCTION pg_temp.uncompacted_keys() RETURNS bigint LANGUAGE sql AS $$
	SELECT (SELECT count(*) FROM (SELECT FROM custfocus.rollup_service_month
								   GROUP BY service_id, month HAVING count(*) > 1) k)
		 + (SELECT count(*) FROM (SELECT FROM custfocus.rollup_item_month
								   GROUP BY service_id, month, item_id HAVING count(*) > 1) k)
		 + (SELECT count(*) FROM (SELECT FROM custfocus.rollup_unit_period
								   GROUP BY program_id, unit_service_id, grain, period_start HAVING count(*) > 1) k)
		 + (SELECT count(*) FROM (SELECT FROM custfocus.rollup_pairs_month
								   GROUP BY service_id, month, survey_id HAVING count(*) > 1) k)
$$;
SELECT custfocus.rollup_compact() >= 0 AS compacted_all, pg_temp.uncompacted_keys();
BEGIN;
SELECT pg_temp.add_responses(20);
SELECT pg_temp.load_responses(20);
SELECT pg_temp.uncompacted_keys() > 0 AS has_uncompacted_keys;
SELECT custfocus.rollup_compact() > 0 AS compacted;
SELECT pg_temp.uncompacted_keys() AS uncompacted_keys;
COMMIT;
-- ... and when it commits, every key it left with more than 4 rows is
-- merged into one (six statements, each a response and its answers, in one
-- month of one service)
CREATE FUNCTION pg_temp.add_one(k integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	id bigint;
BEGIN
	INSERT INTO custfocus.response (survey_id, service_id, submitted_at, external_id)
	SELECT (SELECT survey_id FROM custfocus.survey WHERE code = 'ru-a'),
		   (SELECT service_id FROM custfocus.service WHERE code = 'RU_S1'),
		   timezone(custfocus.reporting_time_zone(), timestamp '2025-06-10 12:00') + k * interval '1 hour', 'one' || k
	RETURNING response_id INTO id;
	INSERT INTO custfocus.answer (response_id, item_id, value)
	SELECT id, i.item_id, 1 + k % 5 FROM custfocus.item i
	 JOIN custfocus.survey sv USING (survey_id) WHERE sv.code = 'ru-a' AND i.code IN ('SAT', 'WAIT', 'STAFF');
END
$$;
BEGIN;
SELECT count(*) FROM (SELECT pg_temp.add_one(k) FROM generate_series(1, 6) k) x;
SELECT count(*) > 4 AS rows_before_commit FROM custfocus.rollup_service_month
 WHERE service_id = (SELECT service_id FROM custfocus.service WHERE code = 'RU_S1') AND month = '2025-06-01';
-- twelve statements noted their keys; one of them fires the compaction
SELECT count(*) AS pending_rows, count(*) FILTER (WHERE signal) AS firing FROM custfocus.rollup_pending;
COMMIT;
SELECT (SELECT count(*) FROM custfocus.rollup_service_month
		 WHERE service_id = (SELECT service_id FROM custfocus.service WHERE code = 'RU_S1') AND month = '2025-06-01') AS rows_after_commit,
	   (SELECT max(c) FROM (SELECT count(*) AS c FROM custfocus.rollup_item_month
							 WHERE service_id = (SELECT service_id FROM custfocus.service WHERE code = 'RU_S1')
							   AND month = '2025-06-01' GROUP BY item_id) x) AS item_rows_after_commit,
	   (SELECT count(*) FROM custfocus.rollup_unit_period
		 WHERE unit_service_id = (SELECT service_id FROM custfocus.service WHERE code = 'RU_S1')
		   AND grain = 'month' AND period_start = '2025-06-01') AS unit_rows_after_commit,
	   (SELECT count(*) FROM custfocus.rollup_pending) AS pending,
	   (SELECT count(*) FROM custfocus.rollup_verify()) AS verify_problems;
-- (a REPEATABLE READ transaction compacts too, unless another compacted the
-- same keys since its snapshot: then it leaves them, and still commits)
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM (SELECT pg_temp.add_one(k) FROM generate_series(11, 16) k) x;
COMMIT;
SELECT count(*) AS rows_after_repeatable_read, (SELECT count(*) FROM custfocus.rollup_pending) AS pending
  FROM custfocus.rollup_service_month
 WHERE service_id = (SELECT service_id FROM custfocus.service WHERE code = 'RU_S1') AND month = '2025-06-01';
-- A recompute under REPEATABLE READ would read a snapshot that may miss
-- changes other sessions committed since: corrections are refused there
-- (and work under READ COMMITTED); a new response with its answers is not a
-- correction.
BEGIN ISOLATION LEVEL REPEATABLE READ;
UPDATE custfocus.answer SET value = 3
 WHERE response_id = (SELECT min(response_id) FROM custfocus.response WHERE external_id LIKE 'one%');
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM (SELECT pg_temp.add_one(k) FROM generate_series(17, 18) k) x;
COMMIT;
UPDATE custfocus.answer SET value = 3
 WHERE response_id = (SELECT min(response_id) FROM custfocus.response WHERE external_id LIKE 'one%');
SELECT count(*) AS verify_problems FROM custfocus.rollup_verify();
SELECT pg_temp.scorecard_differences() AS after_compaction, count(*) AS verify_problems FROM custfocus.rollup_verify();
SELECT custfocus.rollup_rebuild() > 0 AS rebuilt;
SELECT pg_temp.scorecard_differences() AS after_rebuild, pg_temp.drivers_differences() AS drivers_after_rebuild,
	   pg_temp.measures_differences() AS measures_after_rebuild,
	   count(*) AS verify_problems FROM custfocus.rollup_verify();

-- The reporting time zone decides the months: another zone, another
-- roll-up (rebuilt by the setting's change), the same as the reference.
UPDATE custfocus.setting SET reporting_time_zone = 'Pacific/Auckland';
SELECT pg_temp.scorecard_differences() AS other_time_zone, pg_temp.drivers_differences() AS drivers_other_time_zone,
	   pg_temp.measures_differences() AS measures_other_time_zone,
	   count(*) AS verify_problems FROM custfocus.rollup_verify();
-- ... whatever the session's TimeZone (a JDBC client sends its JVM's zone)
SET TimeZone = 'America/Chicago';
SELECT md5(string_agg(row(level, program_code, service_code, grain, period_start, responses, csat)::text, ',' ORDER BY 1)) AS chicago
  FROM custfocus.scorecard \gset
SET TimeZone = 'UTC';
SELECT md5(string_agg(row(level, program_code, service_code, grain, period_start, responses, csat)::text, ',' ORDER BY 1)) = :'chicago'
	   AS same_numbers_in_utc
  FROM custfocus.scorecard;
RESET TimeZone;

-- A filtered query (as a BI tile filters) reaches the roll-up's index, and
-- reads only that service's rows.
-- (Plans print differently across majors and data: an index appears as
-- "Index Scan using IDX on TABLE" or "Bitmap Index Scan on IDX"; the test
-- reads what matters.)
CREATE FUNCTION pg_temp.plan(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) ' || q;
END
$$;
SET enable_seqscan = off;   -- the test tables are tiny; the index must be usable
-- the scorecard and the trend read the published figures by their key, for
-- the unit the filter selected; their computation at read time is a
-- branch run only when the published figures are not the session's
SELECT bool_or(p ~ 'Index (Only )?Scan (using|on) report_scorecard_pkey') AS uses_published_key,
	   bool_or(p ~ 'Seq Scan on report_scorecard') AS scans_all_published,
	   bool_or(p ~ 'Filter: .*service_code = ''RU_S1''') AS service_filter_pushed_down,
	   bool_or(p ~ ' on (answer|response)\M') AS reads_answers,
	   bool_or(p ~ 'One-Time Filter: \(NOT ') AND bool_or(p ~ 'Function Scan on scorecard_live_rows') AS live_branch_gated
  FROM pg_temp.plan($$SELECT period_label, csat FROM custfocus.scorecard
					  WHERE service_code = 'RU_S1' AND grain = 'quarter'$$) AS p;
SELECT bool_or(p ~ 'Index (Only )?Scan (using|on) report_trend_pkey') AS uses_published_key,
	   bool_or(p ~ 'Seq Scan on report_trend') AS scans_all_published
  FROM pg_temp.plan($$SELECT * FROM custfocus.satisfaction_trend WHERE service_code = 'RU_S1'$$) AS p;
-- key drivers of one service: the published rows' key, for that service
SELECT bool_or(p ~ 'Index (Only )?Scan (using|on) report_key_drivers_pkey') AS uses_published_key,
	   bool_or(p ~ 'Seq Scan on report_key_drivers') AS scans_all_published,
	   bool_or(p ~ 'Filter: .*code = ''RU_S1''') AS service_filter_pushed_down,
	   bool_or(p ~ ' on (answer|response)\M') AS reads_answers
  FROM pg_temp.plan($$SELECT requirement_code, importance, performance FROM custfocus.key_drivers
					  WHERE service_code = 'RU_S1'$$) AS p;
-- a measure's periods: the published rows, the measure's code applied
-- where they are read (as an index condition or a filter: on a table this
-- small the planner picks either index, by statistics autovacuum may or
-- may not have taken yet); no roll-up, no answers
SELECT bool_or(p ~ 'Index (Only )?Scan (using|on) report_measure_status_\w+') AS reads_published_by_index,
	   bool_or(p ~ '(Index Cond|Filter): .*measure_code = ''RU-LM''') AS code_applied_to_published_rows,
	   bool_or(p ~ 'measure_status\.measure_code') AS filtered_after_the_view,
	   bool_or(p ~ ' on rollup_item_month') AS reads_item_roll_up,
	   bool_or(p ~ ' on (answer|response)\M') AS reads_answers
  FROM pg_temp.plan($$SELECT period_label, actual, met FROM custfocus.measure_status WHERE measure_code = 'RU-LM'$$) AS p;
SELECT bool_or(p ~ ' on (answer|response)\M') AS reads_answers
  FROM pg_temp.plan($$SELECT * FROM custfocus.control_chart WHERE measure_code = 'RU-CSAT'$$) AS p;
-- the ranked opportunities read the roll-up, never the answers
SELECT bool_or(p ~ ' on (answer|response)\M') AS reads_answers
  FROM pg_temp.plan($$SELECT * FROM custfocus.improvement_opportunities WHERE rank <= 10$$) AS p;
RESET enable_seqscan;

-- A reader of one program, through the views: it sees that program's rows
-- only, and a function of its own in a WHERE clause is shown no other row
-- (the view is a security_barrier: the caller's quals run after its own).
CREATE ROLE regress_ru_reader;
SELECT custfocus.grant_access('regress_ru_reader', 'reader');
SELECT custfocus.grant_program_access('regress_ru_reader', 'RU_P1');
CREATE TEMP TABLE peeked (program text, service text);
GRANT INSERT ON peeked TO regress_ru_reader;
CREATE FUNCTION pg_temp.peek(program text, service text) RETURNS boolean
LANGUAGE plpgsql COST 0.0001 AS $$
BEGIN
	INSERT INTO pg_temp.peeked VALUES (program, service);
	RETURN true;
END
$$;
SET ROLE regress_ru_reader;
SELECT DISTINCT program_code, service_code FROM custfocus.scorecard ORDER BY 1, 2;
SELECT count(*) FROM custfocus.rollup_service_month;
SELECT count(*) > 0 AS rows_shown FROM custfocus.scorecard
 WHERE grain = 'year' AND pg_temp.peek(program_code, service_code);
RESET ROLE;
-- what the reader's function was shown
SELECT DISTINCT program, service FROM peeked ORDER BY 1, 2;
SET ROLE regress_ru_reader;
SELECT DISTINCT program_code, service_code FROM custfocus.satisfaction_trend ORDER BY 1, 2;
-- the same for the key drivers and the ranked opportunities
SELECT DISTINCT program_code, service_code FROM custfocus.key_drivers ORDER BY 1, 2;
-- the models of its services, as the owner reads them (relative
-- importance, R squared, n and alpha from the pairs roll-up)
CREATE TEMP TABLE reader_models AS
SELECT service_code, survey_code, requirement_code, relative_importance, model_r2, model_n, drivers_alpha
  FROM custfocus.key_drivers;
SELECT DISTINCT program_code, service_code FROM custfocus.improvement_opportunities ORDER BY 1, 2;
SELECT count(*) FROM custfocus.rollup_item_month;
RESET ROLE;
SELECT count(*) > 0 AS some_models,
	   count(*) FILTER (WHERE k.service_code IS NULL
						   OR r.relative_importance IS DISTINCT FROM k.relative_importance
						   OR r.model_r2 IS DISTINCT FROM k.model_r2 OR r.model_n IS DISTINCT FROM k.model_n
						   OR r.drivers_alpha IS DISTINCT FROM k.drivers_alpha) AS differ_from_the_owners
  FROM reader_models r
  LEFT JOIN custfocus.key_drivers k
	ON k.service_code = r.service_code AND k.survey_code = r.survey_code AND k.requirement_code = r.requirement_code
 WHERE r.relative_importance IS NOT NULL OR k.relative_importance IS NOT NULL;
DROP TABLE reader_models;   -- the reader's: before the reader is dropped
TRUNCATE peeked;
SET ROLE regress_ru_reader;
SELECT count(*) > 0 AS rows_shown FROM custfocus.key_drivers WHERE pg_temp.peek(program_code, service_code);
SELECT count(*) > 0 AS rows_shown FROM custfocus.improvement_opportunities WHERE pg_temp.peek(program_code, service_code);
RESET ROLE;
SELECT DISTINCT program, service FROM peeked ORDER BY 1, 2;
-- the measures of its programs (of a program above them: not)
TRUNCATE peeked;
SET ROLE regress_ru_reader;
SELECT DISTINCT measure_code, program_code, service_code FROM custfocus.measure_status
 WHERE measure_code LIKE 'RU-%' AND pg_temp.peek(program_code, measure_code) ORDER BY 1;
SELECT DISTINCT measure_code FROM custfocus.control_chart WHERE measure_code LIKE 'RU-%' ORDER BY 1;
RESET ROLE;
SELECT DISTINCT program, service AS measure FROM peeked ORDER BY 1, 2;
-- and the reader's numbers are the superuser's for its services (to 1e-9:
-- another plan merges the states in another order, which may move the
-- last bit of a float)
SET ROLE regress_ru_reader;
SELECT md5(string_agg(row(service_code, survey_code, requirement_code, n, round(correlation::numeric, 9),
						  round(performance::numeric, 9), quadrant)::text, ','
					  ORDER BY service_code, survey_code, requirement_code)) AS reader_drivers
  FROM custfocus.key_drivers \gset
RESET ROLE;
SELECT md5(string_agg(row(service_code, survey_code, requirement_code, n, round(correlation::numeric, 9),
						  round(performance::numeric, 9), quadrant)::text, ','
					  ORDER BY service_code, survey_code, requirement_code)) = :'reader_drivers' AS same_as_superuser
  FROM custfocus.key_drivers WHERE program_code = 'RU_P1';
DROP TABLE peeked;
SELECT custfocus.revoke_access('regress_ru_reader');
DELETE FROM custfocus.program_access WHERE role_name = 'regress_ru_reader';
DROP ROLE regress_ru_reader;

-- An import adds up its roll-up deltas itself (src/rollup_import.c): one
-- row per key for the whole import, however many batches (the insert
-- triggers would append two per batch, a response row and an answer row),
-- exact, and for an analyst as for the owner.
CREATE FUNCTION pg_temp.import_three(survey text, ids text, service text, batch integer) RETURNS bigint
LANGUAGE sql AS $$
	SELECT (custfocus.import_responses(survey,
		'respondent_id,submitted_at,service,SAT,WAIT' || E'\n' ||
		ids || '1,2031-05-03T10:00:00Z,' || service || ',4,2' || E'\n' ||
		ids || '2,2031-05-04T10:00:00Z,' || service || ',5,' || E'\n' ||
		ids || '3,2031-05-05T10:00:00Z,' || service || ',2,5' || E'\n',
		jsonb_build_object('batch_size', batch))).answers_inserted
$$;
CREATE FUNCTION pg_temp.key_rows(service text) RETURNS TABLE (month_rows bigint, item_rows bigint, unit_rows bigint)
LANGUAGE sql AS $$
	SELECT (SELECT count(*) FROM custfocus.rollup_service_month r JOIN custfocus.service s USING (service_id)
			 WHERE s.code = service AND r.month = date '2031-05-01'),
		   (SELECT count(*) FROM custfocus.rollup_item_month r JOIN custfocus.service s USING (service_id)
			 WHERE s.code = service AND r.month = date '2031-05-01'),
		   (SELECT count(*) FROM custfocus.rollup_unit_period r JOIN custfocus.service s ON s.service_id = r.unit_service_id
			 WHERE s.code = service AND r.grain = 'month' AND r.period_start = date '2031-05-01')
$$;
BEGIN;
SELECT pg_temp.import_three('ru-a', 'rux', 'RU_S1', 1) AS answers;
-- one row per key: service-month, each item's, the unit's
SELECT * FROM pg_temp.key_rows('RU_S1');
SELECT count(*) AS verify_problems FROM custfocus.rollup_verify();
COMMIT;
SELECT count(*) AS verify_problems_committed FROM custfocus.rollup_verify();
SELECT count(*) AS published_problems FROM custfocus.report_verify();
-- a trigger of the DBA's own on answer: the import leaves the roll-ups to
-- the insert triggers (two rows per batch), still exact
BEGIN;
CREATE FUNCTION pg_temp.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER regress_dba_trigger AFTER INSERT ON custfocus.answer FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.noop();
SELECT pg_temp.import_three('ru-a', 'ruy', 'RU_S2', 1) AS answers;
SELECT * FROM pg_temp.key_rows('RU_S2');
SELECT count(*) AS verify_problems FROM custfocus.rollup_verify();
ROLLBACK;
-- the answers' roll-up trigger disabled (a DBA's bulk load before
-- rollup_rebuild): the import appends no answer deltas either (the
-- responses are counted by their trigger, one row per batch)
BEGIN;
ALTER TABLE custfocus.answer DISABLE TRIGGER rollup_answer_insert;
SELECT pg_temp.import_three('ru-a', 'ruy', 'RU_S2', 1) AS answers;
SELECT * FROM pg_temp.key_rows('RU_S2');
ROLLBACK;
-- an import that fails in its INSERT (a constraint of the DBA's), caught:
-- the statements after it are rolled up by their triggers as ever (the
-- import's claim on its statement went with the subtransaction)
BEGIN;
ALTER TABLE custfocus.answer ADD CONSTRAINT regress_no_5 CHECK (value <> 5) NOT VALID;
CREATE FUNCTION pg_temp.import_refused() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_temp.import_three('ru-a', 'ruz', 'RU_S2', 100);
	RETURN 'imported';
EXCEPTION WHEN check_violation THEN
	RETURN 'refused';
END
$$;
SELECT pg_temp.import_refused();
INSERT INTO custfocus.answer (response_id, item_id, value)
SELECT r.response_id, i.item_id, 4
  FROM custfocus.response r JOIN custfocus.item i ON i.survey_id = r.survey_id AND i.code = 'NPS'
 WHERE r.external_id = 'rux2';
SELECT * FROM pg_temp.key_rows('RU_S1');
SELECT count(*) AS verify_problems FROM custfocus.rollup_verify();
ROLLBACK;
-- an analyst's import takes the same path; the functions behind it are
-- not the analyst's to call
CREATE ROLE regress_ru_importer;
SELECT custfocus.grant_access('regress_ru_importer', 'analyst');
SELECT custfocus.grant_program_access('regress_ru_importer', 'RU_P3');
SET ROLE regress_ru_importer;
SELECT pg_temp.import_three('ru-a', 'ruw', 'RU_S4', 2) AS answers;
SELECT custfocus.rollup_import_claimed('answer');
SELECT custfocus.rollup_import_begin(1);
SELECT custfocus.rollup_import_apply('{}', '{}', '{}', '{}');
RESET ROLE;
SELECT * FROM pg_temp.key_rows('RU_S4');
SELECT count(*) AS verify_problems FROM custfocus.rollup_verify();
SELECT custfocus.revoke_access('regress_ru_importer');
DELETE FROM custfocus.program_access WHERE role_name = 'regress_ru_importer';

-- The roll-ups' maintenance is the admins': an admin made by grant_access
-- verifies, compacts and rebuilds; a reader and an analyst may not.
CREATE ROLE regress_ru_admin;
CREATE ROLE regress_ru_analyst;
SELECT custfocus.grant_access('regress_ru_admin', 'admin');
SELECT custfocus.grant_access('regress_ru_analyst', 'analyst');
SELECT custfocus.grant_program_access('regress_ru_analyst', 'RU_P1');
SET ROLE regress_ru_admin;
SELECT count(*) AS verify_problems FROM custfocus.rollup_verify();
SELECT custfocus.rollup_compact() >= 0 AS compacted, custfocus.rollup_rebuild() > 0 AS rebuilt;
UPDATE custfocus.setting SET reporting_time_zone = 'No/Such_Zone';
SET ROLE regress_ru_analyst;
SELECT count(*) FROM custfocus.rollup_verify();
SELECT custfocus.rollup_rebuild();
SELECT count(*) FROM custfocus.rollup_service_month;
-- ... while its own writes keep the roll-ups current through the triggers
UPDATE custfocus.response SET weight = 2
 WHERE service_id = (SELECT service_id FROM custfocus.service WHERE code = 'RU_S1');
RESET ROLE;
SELECT count(*) AS verify_problems_after_analyst FROM custfocus.rollup_verify();
-- Publication after commit (custfocus.publish_after_commit, on by
-- default): the analyst's commit listed what it changed and started the
-- publisher, a background worker that publishes as the extension's owner;
-- the analyst may wait for it, not publish, nor read the listing.
SET ROLE regress_ru_analyst;
SELECT custfocus.report_wait() AS published_by_the_worker;
SELECT custfocus.report_publish_pending();
SELECT count(*) FROM custfocus.report_stale;
RESET ROLE;
SELECT (SELECT count(*) FROM custfocus.report_stale) AS listed,
	   (SELECT count(*) FROM custfocus.report_verify()) AS published_problems;
-- Until the commit, the listing is the transaction's own (the views read
-- its changes computed); rolled back, it is gone, and no worker starts.
BEGIN;
UPDATE custfocus.response SET weight = 3
 WHERE service_id = (SELECT service_id FROM custfocus.service WHERE code = 'RU_S1');
SET CONSTRAINTS ALL IMMEDIATE;
SELECT count(*) AS listed, bool_and(s.service_id = ANY (l.services)) AS the_service,
	   custfocus.report_published() AS reads_published
  FROM custfocus.report_stale l, custfocus.service s WHERE s.code = 'RU_S1';
ROLLBACK;
SELECT count(*) AS listed, custfocus.report_published() AS reads_published FROM custfocus.report_stale;
-- With the setting off, the commit publishes before it returns: nothing
-- listed, the views read the published figures at once.
SET custfocus.publish_after_commit = off;
UPDATE custfocus.response SET weight = 1
 WHERE service_id = (SELECT service_id FROM custfocus.service WHERE code = 'RU_S1');
SELECT count(*) AS listed, custfocus.report_published() AS reads_published FROM custfocus.report_stale;
SELECT count(*) AS published_problems FROM custfocus.report_verify();
RESET custfocus.publish_after_commit;
-- A burst of commits, each changing one response (a web form saving
-- answers one at a time): a commit that sees a publisher at work asks for
-- none (see custfocus.report_publish), and every listing is still
-- published: nothing is left waiting, and the figures verify.
DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT x.response_id, x.weight FROM custfocus.response x ORDER BY x.response_id LIMIT 40 LOOP
		UPDATE custfocus.response SET weight = r.weight + 1 WHERE response_id = r.response_id;
		COMMIT;
	END LOOP;
	FOR r IN SELECT x.response_id, x.weight FROM custfocus.response x ORDER BY x.response_id LIMIT 40 LOOP
		UPDATE custfocus.response SET weight = r.weight - 1 WHERE response_id = r.response_id;
		COMMIT;
	END LOOP;
END
$$;
SELECT custfocus.report_wait() AS published_after_the_burst,
	   (SELECT count(*) FROM custfocus.report_verify()) AS published_problems;
-- report_wait's timeout is checked.  A listing no publisher was asked for
-- (what a commit leaves when no worker slot is free, or a prepared
-- transaction): report_wait times out at once with no time to wait, and
-- under REPEATABLE READ, whose snapshot cannot change, answers at once (an
-- hour's wait would time the test out); given time, it starts a publisher,
-- which publishes it; report_publish_pending publishes such a listing too.
SELECT custfocus.report_wait(NULL);
SELECT custfocus.report_wait(interval '-1 second');
INSERT INTO custfocus.report_stale
SELECT ARRAY[service_id] FROM custfocus.service WHERE code = 'RU_S2';
SELECT custfocus.report_wait(interval '0') AS published, custfocus.report_published() AS reads_published;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT custfocus.report_wait(interval '1 hour') AS published;
COMMIT;
SELECT custfocus.report_wait() AS published_by_a_publisher_it_started;
INSERT INTO custfocus.report_stale
SELECT ARRAY[service_id] FROM custfocus.service WHERE code = 'RU_S2';
SELECT custfocus.report_publish_pending() AS listings_published;
SELECT custfocus.report_wait(interval '0') AS published, custfocus.report_published() AS reads_published,
	   (SELECT count(*) FROM custfocus.report_verify()) AS published_problems;
-- report_verify runs in a read-only transaction (a standby) and publishes
-- nothing there (what is listed would show as differences, which it is)
INSERT INTO custfocus.report_stale
SELECT ARRAY[service_id] FROM custfocus.service WHERE code = 'RU_S2';
BEGIN READ ONLY;
SELECT (SELECT count(*) FROM custfocus.report_verify()) AS published_problems;
SELECT count(*) AS still_listed FROM custfocus.report_stale;
COMMIT;
-- an admin's report_verify publishes what is listed first (as the owner:
-- the admin may not call report_publish_pending itself)
SET ROLE regress_ru_admin;
SELECT custfocus.report_publish_pending();
SELECT count(*) AS published_problems FROM custfocus.report_verify();
RESET ROLE;
SELECT count(*) AS still_listed FROM custfocus.report_stale;
SELECT custfocus.revoke_access('regress_ru_admin'), custfocus.revoke_access('regress_ru_analyst');
DELETE FROM custfocus.program_access WHERE role_name = 'regress_ru_analyst';
DROP ROLE regress_ru_admin, regress_ru_analyst;
DROP ROLE regress_ru_importer;   -- (its import's batch row goes with the surveys, below)

UPDATE custfocus.setting SET min_responses = 10, reporting_time_zone = current_setting('TimeZone');
DELETE FROM custfocus.measure WHERE code LIKE 'RU-%';
DELETE FROM custfocus.response WHERE survey_id IN (SELECT survey_id FROM custfocus.survey WHERE code LIKE 'ru-%');
DELETE FROM custfocus.item WHERE survey_id IN (SELECT survey_id FROM custfocus.survey WHERE code LIKE 'ru-%');
DELETE FROM custfocus.import_batch WHERE survey_id IN (SELECT survey_id FROM custfocus.survey WHERE code LIKE 'ru-%');
DELETE FROM custfocus.survey WHERE code LIKE 'ru-%';
DELETE FROM custfocus.requirement WHERE code LIKE 'ru\_%';
DELETE FROM custfocus.service WHERE code LIKE 'RU_S%';
DELETE FROM custfocus.program WHERE code LIKE 'RU_P%';
DELETE FROM custfocus.program WHERE code LIKE 'RU_D%';
DELETE FROM custfocus.program WHERE code = 'RU_AG';
SELECT count(*) AS rollup_rows_left FROM custfocus.rollup_service_month;
SELECT count(*) AS driver_rows_left FROM custfocus.rollup_item_month;

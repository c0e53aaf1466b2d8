-------------------------------------------------------------------------------
-- Scoring views: scorecard, trends and control charts, measures, key drivers
-- and improvement opportunities
-------------------------------------------------------------------------------

CREATE FUNCTION custfocus.oriented_score(value double precision, reverse_coded boolean,
										 scale_min double precision, scale_max double precision)
RETURNS double precision
AS 'MODULE_PATHNAME', 'oriented_score'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.oriented_score(double precision, boolean, double precision, double precision) IS
'An answer turned so that a higher code is better: scale_min + scale_max - value for a reverse-coded item';

-- Periods: the label a period is shown with, and the start of the period
-- before it, for the grains the views use (month, quarter, year).  SQL-
-- standard bodies, bound when created (no search_path is looked up when they
-- run), and not STRICT, so that the planner inlines them into the views: a
-- function with its own search_path is a call with a configuration change
-- for every row, which dominated reading the whole scorecard.
CREATE FUNCTION custfocus.period_label(grain text, period_start date) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE grain WHEN 'month' THEN pg_catalog.to_char(period_start, 'YYYY-MM')
				  WHEN 'quarter' THEN pg_catalog.to_char(period_start, 'YYYY-"Q"Q')
				  WHEN 'year' THEN pg_catalog.to_char(period_start, 'YYYY') END;
COMMENT ON FUNCTION custfocus.period_label(text, date) IS
'A period as text: 2026-03 (month), 2026-Q1 (quarter) or 2026 (year)';

CREATE FUNCTION custfocus.previous_period(grain text, period_start date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (period_start OPERATOR(pg_catalog.-) CASE grain WHEN 'month' THEN interval '1 month'
													  WHEN 'quarter' THEN interval '3 months'
													  WHEN 'year' THEN interval '1 year' END)::date;
COMMENT ON FUNCTION custfocus.previous_period(text, date) IS
'First day of the period before the one starting on period_start, at the given grain';

-- The p-chart of one series, in one place for every view that draws one.
-- Points with fewer than p_min_n answers are not shown (p NULL) and take no
-- part in the centre line or the run rules: a centre line that counted them
-- would give their successes away (the centre of a series whose only point
-- is suppressed is that point's percent).  With no point shown there is no
-- centre line and no limits.
-- Points p_hidden marks (complementary suppression) are not shown either.
CREATE FUNCTION custfocus.p_chart(p_x double precision[], p_n double precision[], p_min_n integer,
								  p_hidden boolean[])
RETURNS TABLE (point integer, x double precision, n double precision, p double precision,
			   centre double precision, lcl double precision, ucl double precision,
			   outside boolean, run_of_8 boolean, trend_of_6 boolean, signal text)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k integer := coalesce(cardinality(p_x), 0);
	pbar double precision;
	side integer;
	last_side integer := 0;
	side_run integer := 0;
	dir integer;
	last_dir integer := 0;
	dir_run integer := 0;
	last_p double precision;
	half double precision;
BEGIN
	IF k <> coalesce(cardinality(p_n), 0) THEN
		RAISE EXCEPTION 'p_chart needs as many counts as successes, got % and %', k, cardinality(p_n)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT sum(a.x) / nullif(sum(a.n), 0) INTO pbar
	  FROM unnest(p_x, p_n) WITH ORDINALITY AS a (x, n, i)
	 WHERE a.n > 0 AND a.n >= p_min_n AND NOT coalesce(p_hidden[a.i], false);
	FOR i IN 1 .. k LOOP
		point := i;
		x := p_x[i];
		n := p_n[i];
		IF x IS NULL OR n IS NULL OR n <= 0 OR x < 0 OR x > n THEN
			RAISE EXCEPTION 'p_chart point % has % successes of %', i, x, n
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Each point needs 0 <= successes <= n and n > 0.';
		END IF;
		centre := pbar;
		half := 3 * sqrt(pbar * (1 - pbar) / n);
		lcl := CASE WHEN pbar IS NOT NULL THEN greatest(0, pbar - half) END;
		ucl := CASE WHEN pbar IS NOT NULL THEN least(1, pbar + half) END;
		IF n < p_min_n OR coalesce(p_hidden[i], false) THEN
			p := NULL; outside := NULL; run_of_8 := NULL; trend_of_6 := NULL; signal := NULL;
			RETURN NEXT;
			CONTINUE;
		END IF;
		p := x / n;
		outside := p < lcl OR p > ucl;
		side := sign(p - pbar)::integer;
		IF side <> 0 AND side = last_side THEN side_run := side_run + 1;
		ELSIF side <> 0 THEN side_run := 1;
		ELSE side_run := 0;
		END IF;
		last_side := side;
		run_of_8 := side_run >= 8;
		IF last_p IS NULL THEN
			dir := 0;
		ELSE
			dir := sign(p - last_p)::integer;
		END IF;
		IF dir <> 0 AND dir = last_dir THEN dir_run := dir_run + 1;
		ELSIF dir <> 0 THEN dir_run := 1;
		ELSE dir_run := 0;
		END IF;
		last_dir := dir;
		last_p := p;
		trend_of_6 := dir_run >= 5;
		signal := nullif(concat_ws(', ',
			CASE WHEN outside THEN 'outside limits' END,
			CASE WHEN run_of_8 THEN CASE WHEN side > 0 THEN '8 above centre' ELSE '8 below centre' END END,
			CASE WHEN trend_of_6 THEN CASE WHEN dir > 0 THEN '6 rising' ELSE '6 falling' END END), '');
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION custfocus.p_chart(double precision[], double precision[], integer, boolean[]) IS
'p-chart of a series of proportions x/n: centre sum(x)/sum(n), limits centre +- 3 sqrt(centre (1 - centre) / n) clipped to [0, 1], and the run rules (a point outside the limits, 8 in a row on one side, 6 steadily rising or falling); points with fewer than p_min_n answers, or marked in p_hidden, are not shown and not counted';
CREATE FUNCTION custfocus.p_chart(p_x double precision[], p_n double precision[], p_min_n integer DEFAULT 0)
RETURNS TABLE (point integer, x double precision, n double precision, p double precision,
			   centre double precision, lcl double precision, ucl double precision,
			   outside boolean, run_of_8 boolean, trend_of_6 boolean, signal text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM custfocus.p_chart(p_x, p_n, p_min_n, NULL::boolean[]) $$;
COMMENT ON FUNCTION custfocus.p_chart(double precision[], double precision[], integer) IS
'p-chart of a series of proportions x/n: centre sum(x)/sum(n), limits centre +- 3 sqrt(centre (1 - centre) / n) clipped to [0, 1], and the run rules (a point outside the limits, 8 in a row on one side, 6 steadily rising or falling); points with fewer than p_min_n answers are not shown and not counted';

-- The units a service's answers count for: the service itself, and every
-- program it is under that the role may see (a roll-up of a program the role
-- cannot see would show part of another program under its name).
CREATE FUNCTION custfocus.scoring_units(p_role name)
RETURNS TABLE (service_id integer, level text, program_id integer, unit_service_id integer)
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH RECURSIVE v AS (
		SELECT custfocus.sees_all_programs(p_role) AS sees_all,
			   custfocus.visible_program_ids(p_role) AS programs,
			   custfocus.visible_service_ids(p_role) AS services
	),
	svc AS (
		SELECT s.service_id, s.program_id FROM v
		  JOIN custfocus.service s ON v.sees_all OR s.service_id = ANY (v.services)
	),
	up (service_id, program_id) AS (
		SELECT svc.service_id, svc.program_id FROM svc
		UNION ALL
		SELECT up.service_id, p.parent_id FROM up
		  JOIN custfocus.program p ON p.program_id = up.program_id
		 WHERE p.parent_id IS NOT NULL
	)
	SELECT svc.service_id, 'service'::text, svc.program_id, svc.service_id FROM svc
	UNION ALL
	SELECT up.service_id, 'program', up.program_id, NULL::integer
	  FROM up, v WHERE v.sees_all OR up.program_id = ANY (v.programs)
$$;
COMMENT ON FUNCTION custfocus.scoring_units(name) IS
'For each service the role may see: the service itself and every program above it that the role may see (the units its answers count for)';
REVOKE ALL ON FUNCTION custfocus.scoring_units(name) FROM PUBLIC;

-- Performance measures, read from the roll-ups: a measure of an item or a
-- requirement merges the item roll-up of its items (the item, or every item
-- measuring the requirement) over the services in its scope (the service,
-- or every service under the program) and the months of each period of the
-- reporting time zone; response_count sums rollup_service_month.  Only
-- active measures of programs the role may see are shown.
--
-- Rules a reader can recompute from the raw data:
--   * csat is the weighted percent of answers in the top two categories of
--     their scale (score >= maximum - 1); top_box the same on scales of 5
--     points or more, the top category on smaller ones; bottom_box the
--     bottom two categories (<= minimum + 1) on scales of 5 points or more,
--     the bottom one on smaller ones; nps 100 x (promoters - detractors) /
--     all, weighted (scores >= 9 and <= 6); linear_mean the weighted mean on
--     0..100; mean the unweighted mean score; ces the weighted mean score;
--     scores oriented (reverse-coded items flipped);
--   * n is the number of answers (of responses for response_count); a
--     period with fewer than custfocus.min_responses() answers is suppressed
--     (actual and in_box NULL; response_count never is), and so is one
--     rollup_hidden_measure lists (complementary suppression: hidden so
--     that no smaller hidden group can be recovered by subtracting it from,
--     or it from, another measure's or the scorecard's figures);
--   * previous_actual, change and trend compare with the period just before,
--     when both are shown; trend_slope is the least-squares slope over the
--     last 4 periods with data, suppressed ones counted as gaps.
-- The window columns partition by the measure's codes as well as its id, so
-- that a filter on measure_code, program_code or service_code reaches the
-- roll-ups' indexes.
CREATE VIEW custfocus.measure_status WITH (security_barrier) AS
SELECT z.code AS measure_code, z.name AS measure_name, z.program_code, z.service_code, z.metric, z.period,
	   z.period_start, custfocus.period_label(z.period, z.period_start) AS period_label,
	   z.n, z.shown AS actual, z.target, z.direction,
	   CASE WHEN z.direction = 'higher' THEN z.shown >= z.target ELSE z.shown <= z.target END AS met,
	   z.shown - z.target AS distance_to_target,
	   CASE WHEN z.adjacent THEN z.prev END AS previous_actual,
	   CASE WHEN z.adjacent THEN z.shown - z.prev END AS change,
	   CASE WHEN NOT z.adjacent OR z.shown IS NULL OR z.prev IS NULL THEN NULL
			WHEN z.shown = z.prev THEN 'steady'
			WHEN (z.shown > z.prev) = (z.direction = 'higher') THEN 'improving'
			ELSE 'worsening' END AS trend,
	   z.slope AS trend_slope, z.baseline, z.supp AS suppressed,
	   CASE WHEN NOT z.supp AND z.metric IN ('csat', 'top_box', 'bottom_box') THEN z.n_box END AS in_box
  FROM (
	SELECT y.*,
		   lag(y.period_start) OVER w = custfocus.previous_period(y.period, y.period_start) AS adjacent,
		   lag(y.shown) OVER w AS prev,
		   regr_slope(y.shown, y.k) OVER (w ROWS 3 PRECEDING) AS slope
	  FROM (
		SELECT x.*, CASE WHEN NOT x.supp THEN x.actual END AS shown,
			   row_number() OVER (PARTITION BY x.measure_id, x.code, x.program_code, x.service_code
								  ORDER BY x.period_start) AS k
		  FROM (
			SELECT g.*,
				   g.metric <> 'response_count'
				   AND (g.n < v.min_n
						-- complementary suppression (rollup_hidden_measure)
						OR EXISTS (SELECT FROM custfocus.rollup_hidden_measure h
									WHERE h.node = CASE WHEN g.item_id IS NOT NULL THEN 'item' ELSE 'requirement' END
									  AND h.node_id = coalesce(g.item_id, g.requirement_id)
									  AND h.program_id = g.scope_program_id AND h.unit_service_id = g.scope_unit
									  AND h.grain = g.period AND h.period_start = g.period_start)) AS supp,
				   CASE g.metric
					 WHEN 'csat' THEN 100 * g.w_box / nullif(g.sum_w, 0)
					 WHEN 'top_box' THEN 100 * g.w_box / nullif(g.sum_w, 0)
					 WHEN 'bottom_box' THEN 100 * g.w_box / nullif(g.sum_w, 0)
					 WHEN 'nps' THEN 100 * (g.w_promoters - g.w_detractors) / nullif(g.sum_w, 0)
					 WHEN 'linear_mean' THEN (lm_r).mean
					 WHEN 'mean' THEN g.sum_x / nullif(g.n, 0)
					 WHEN 'ces' THEN g.sum_wx / nullif(g.sum_w, 0)
					 WHEN 'response_count' THEN g.n END AS actual
			  FROM (
				-- each measure's figures per period, merged over its items,
				-- services and months
				SELECT m.measure_id, m.code, m.name, m.metric, m.period, m.target, m.direction, m.baseline,
					   coalesce(mp.code, sp.code) AS program_code, ms.code AS service_code,
					   date_trunc(m.period, r.month)::date AS period_start,
					   sum(r.n)::bigint AS n, sum(r.sum_w) AS sum_w, sum(r.sum_x) AS sum_x, sum(r.sum_wx) AS sum_wx,
					   sum(CASE WHEN m.metric = 'bottom_box'
								THEN CASE WHEN sc.max_value - sc.min_value >= 4 THEN r.w_bottom2 ELSE r.w_bottom1 END
								WHEN m.metric = 'csat' OR sc.max_value - sc.min_value >= 4 THEN r.w_top2
								ELSE r.w_top1 END) AS w_box,
					   sum(CASE WHEN m.metric = 'bottom_box'
								THEN CASE WHEN sc.max_value - sc.min_value >= 4 THEN r.n_bottom2 ELSE r.n_bottom1 END
								WHEN m.metric = 'csat' OR sc.max_value - sc.min_value >= 4 THEN r.n_top2
								ELSE r.n_top1 END)::bigint AS n_box,
					   sum(r.w_promoters) AS w_promoters, sum(r.w_detractors) AS w_detractors,
					   custfocus.moments_sum(r.perf) AS perf,
					   m.item_id, m.requirement_id, coalesce(m.program_id, ms.program_id) AS scope_program_id,
					   coalesce(m.service_id, 0) AS scope_unit
				  FROM custfocus.measure m
				  LEFT JOIN custfocus.program mp ON mp.program_id = m.program_id
				  LEFT JOIN custfocus.service ms ON ms.service_id = m.service_id
				  LEFT JOIN custfocus.program sp ON sp.program_id = ms.program_id
				  JOIN (SELECT u.program_id, NULL::integer AS scope_service_id, u.service_id
						  FROM custfocus.report_unit u WHERE u.level = 'program'
						UNION ALL
						SELECT NULL, s.service_id, s.service_id FROM custfocus.service s) sc_
					ON sc_.program_id = m.program_id OR sc_.scope_service_id = m.service_id
				  JOIN custfocus.item i ON i.item_id = m.item_id OR i.requirement_id = m.requirement_id
				  JOIN custfocus.scale sc ON sc.scale_id = i.scale_id
				  -- a lateral probe of the roll-up per service and item (the
				  -- fence keeps both as index conditions: joined, the planner
				  -- read all of a service's rows and filtered on the item)
				 CROSS JOIN LATERAL (SELECT r.* FROM custfocus.rollup_item_month r
									  WHERE r.service_id = sc_.service_id AND r.item_id = i.item_id OFFSET 0) r
				 WHERE m.active AND m.metric <> 'response_count'
				   AND ((SELECT custfocus.sees_all_programs())
						OR coalesce(m.program_id, ms.program_id) = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
				 GROUP BY m.measure_id, m.code, m.name, m.metric, m.period, m.target, m.direction, m.baseline,
						  coalesce(mp.code, sp.code), ms.code, date_trunc(m.period, r.month)::date, ms.program_id
				UNION ALL
				SELECT m.measure_id, m.code, m.name, m.metric, m.period, m.target, m.direction, m.baseline,
					   coalesce(mp.code, sp.code), ms.code, date_trunc(m.period, r.month)::date,
					   sum(r.responses)::bigint, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
					   NULL, NULL, coalesce(m.program_id, ms.program_id), coalesce(m.service_id, 0)
				  FROM custfocus.measure m
				  LEFT JOIN custfocus.program mp ON mp.program_id = m.program_id
				  LEFT JOIN custfocus.service ms ON ms.service_id = m.service_id
				  LEFT JOIN custfocus.program sp ON sp.program_id = ms.program_id
				  JOIN (SELECT u.program_id, NULL::integer AS scope_service_id, u.service_id
						  FROM custfocus.report_unit u WHERE u.level = 'program'
						UNION ALL
						SELECT NULL, s.service_id, s.service_id FROM custfocus.service s) sc_
					ON sc_.program_id = m.program_id OR sc_.scope_service_id = m.service_id
				  JOIN custfocus.rollup_service_month r ON r.service_id = sc_.service_id
				 WHERE m.active AND m.metric = 'response_count'
				   AND ((SELECT custfocus.sees_all_programs())
						OR coalesce(m.program_id, ms.program_id) = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
				 GROUP BY m.measure_id, m.code, m.name, m.metric, m.period, m.target, m.direction, m.baseline,
						  coalesce(mp.code, sp.code), ms.code, date_trunc(m.period, r.month)::date, ms.program_id
			  ) g
			 -- each result computed once (see the scorecard)
			 CROSS JOIN LATERAL custfocus.linear_mean_stats_final(g.perf) AS lm_r
			 CROSS JOIN (SELECT custfocus.min_responses() AS min_n OFFSET 0) v
		  ) x
	  ) y
	WINDOW w AS (PARTITION BY y.measure_id, y.code, y.program_code, y.service_code ORDER BY y.period_start)
  ) z
 ORDER BY z.code, z.period_start;
COMMENT ON VIEW custfocus.measure_status IS
'Each active performance measure in each of its periods (of the reporting time zone) with data: the actual value computed from the answers (weighted), the target, whether it was met, and the trend; read from the roll-ups';
COMMENT ON COLUMN custfocus.measure_status.measure_code IS 'Measure code';
COMMENT ON COLUMN custfocus.measure_status.measure_name IS 'Measure name';
COMMENT ON COLUMN custfocus.measure_status.program_code IS 'Program measured, or the program of the service measured';
COMMENT ON COLUMN custfocus.measure_status.service_code IS 'Service measured (NULL for a program measure)';
COMMENT ON COLUMN custfocus.measure_status.metric IS 'csat, top_box, bottom_box, nps, linear_mean, mean, ces or response_count';
COMMENT ON COLUMN custfocus.measure_status.period IS 'The measure''s period: month, quarter or year';
COMMENT ON COLUMN custfocus.measure_status.period_start IS 'First day of the period';
COMMENT ON COLUMN custfocus.measure_status.period_label IS 'Period as text';
COMMENT ON COLUMN custfocus.measure_status.n IS 'Answers (responses for response_count) in the period';
COMMENT ON COLUMN custfocus.measure_status.actual IS 'Value of the metric in the period (NULL when suppressed): percent for box metrics, -100..100 for nps, 0..100 for linear_mean, the scale for mean and ces';
COMMENT ON COLUMN custfocus.measure_status.target IS 'Target';
COMMENT ON COLUMN custfocus.measure_status.direction IS 'higher or lower is better';
COMMENT ON COLUMN custfocus.measure_status.met IS 'The actual value is on the good side of the target (or equal to it)';
COMMENT ON COLUMN custfocus.measure_status.distance_to_target IS 'Actual minus target';
COMMENT ON COLUMN custfocus.measure_status.previous_actual IS 'Actual value of the period just before (NULL if none shown)';
COMMENT ON COLUMN custfocus.measure_status.change IS 'Actual minus previous actual';
COMMENT ON COLUMN custfocus.measure_status.trend IS 'improving, worsening or steady against the period just before, in the measure''s direction';
COMMENT ON COLUMN custfocus.measure_status.trend_slope IS 'Least-squares slope of the actual value per period over the last 4 periods with data';
COMMENT ON COLUMN custfocus.measure_status.baseline IS 'The measure''s baseline value';
COMMENT ON COLUMN custfocus.measure_status.suppressed IS 'True when the period has fewer than custfocus.min_responses answers, or is hidden by complementary suppression (response_count is never suppressed)';
COMMENT ON COLUMN custfocus.measure_status.in_box IS 'For csat, top_box and bottom_box: answers in the box, unweighted (NULL when suppressed): the control chart''s successes of n';

-- The p-chart of every proportion measure, from measure_status's unweighted
-- counts (a p-chart's limits assume counts): suppressed periods are drawn
-- without a point and take no part in the centre line (p_chart).
CREATE VIEW custfocus.control_chart WITH (security_barrier) AS
SELECT x.measure_code, x.measure_name, x.metric, x.period, x.periods[c.point] AS period_start,
	   custfocus.period_label(x.period, x.periods[c.point]) AS period_label,
	   c.n::bigint AS n, 100 * c.p AS p, 100 * c.centre AS centre, 100 * c.lcl AS lcl, 100 * c.ucl AS ucl,
	   c.outside, c.run_of_8, c.trend_of_6, c.signal, c.p IS NULL AS suppressed
  FROM (
	SELECT s.measure_code, s.measure_name, s.metric, s.period,
		   array_agg(s.period_start ORDER BY s.period_start) AS periods,
		   -- a suppressed period's successes are not shown, and p_chart
		   -- does not use them (n < min_n): 0 stands in
		   array_agg(coalesce(s.in_box, 0)::double precision ORDER BY s.period_start) AS xs,
		   array_agg(s.n::double precision ORDER BY s.period_start) AS ns,
		   array_agg(s.suppressed ORDER BY s.period_start) AS hidden
	  FROM custfocus.measure_status s
	 WHERE s.metric IN ('csat', 'top_box', 'bottom_box') AND s.n > 0
	 GROUP BY s.measure_code, s.measure_name, s.metric, s.period
  ) x
 CROSS JOIN (SELECT custfocus.min_responses() AS min_n OFFSET 0) v
 CROSS JOIN LATERAL custfocus.p_chart(x.xs, x.ns, v.min_n, x.hidden) c
 ORDER BY x.measure_code, c.point;
COMMENT ON VIEW custfocus.control_chart IS
'p-chart of every active proportion measure (csat, top_box, bottom_box) over its periods with answers: percent, centre line, 3-sigma limits and run signals; unweighted counts (those of measure_status)';
COMMENT ON COLUMN custfocus.control_chart.measure_code IS 'Measure code';
COMMENT ON COLUMN custfocus.control_chart.measure_name IS 'Measure name';
COMMENT ON COLUMN custfocus.control_chart.metric IS 'csat, top_box or bottom_box';
COMMENT ON COLUMN custfocus.control_chart.period IS 'The measure''s period';
COMMENT ON COLUMN custfocus.control_chart.period_start IS 'First day of the period';
COMMENT ON COLUMN custfocus.control_chart.period_label IS 'Period as text';
COMMENT ON COLUMN custfocus.control_chart.n IS 'Answers in the period';
COMMENT ON COLUMN custfocus.control_chart.p IS 'Percent in the box (NULL when suppressed)';
COMMENT ON COLUMN custfocus.control_chart.centre IS 'Centre line: percent in the box over all periods';
COMMENT ON COLUMN custfocus.control_chart.lcl IS 'Lower control limit for this period''s n (percent)';
COMMENT ON COLUMN custfocus.control_chart.ucl IS 'Upper control limit for this period''s n (percent)';
COMMENT ON COLUMN custfocus.control_chart.outside IS 'The point is outside the control limits';
COMMENT ON COLUMN custfocus.control_chart.run_of_8 IS 'The point ends a run of 8 or more on one side of the centre line';
COMMENT ON COLUMN custfocus.control_chart.trend_of_6 IS 'The point ends 6 or more points steadily rising or falling';
COMMENT ON COLUMN custfocus.control_chart.signal IS 'The signals of the point in words (NULL: none)';
COMMENT ON COLUMN custfocus.control_chart.suppressed IS 'True when the period is suppressed in measure_status (fewer than custfocus.min_responses answers, or complementary suppression)';

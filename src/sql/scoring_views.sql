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
-- (Made of immutable parts, so that the planner inlines it: to_char() is
-- only stable, which kept the function from being inlined, a call per row,
-- 15 ms of every publication of the benchmark agency's scorecard and
-- trend.  Years of four digits, as to_char's YYYY.)
CREATE FUNCTION custfocus.period_label(grain text, period_start date) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE grain
		 WHEN 'month' THEN pg_catalog.lpad(pg_catalog.date_part('year', period_start)::integer::text, 4, '0')
						   OPERATOR(pg_catalog.||) '-'
						   OPERATOR(pg_catalog.||) pg_catalog.lpad(pg_catalog.date_part('month', period_start)::integer::text, 2, '0')
		 WHEN 'quarter' THEN pg_catalog.lpad(pg_catalog.date_part('year', period_start)::integer::text, 4, '0')
							 OPERATOR(pg_catalog.||) '-Q'
							 OPERATOR(pg_catalog.||) pg_catalog.date_part('quarter', period_start)::integer::text
		 WHEN 'year' THEN pg_catalog.lpad(pg_catalog.date_part('year', period_start)::integer::text, 4, '0') END;
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

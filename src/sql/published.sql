-------------------------------------------------------------------------------
-- Published figures: the scorecard and the satisfaction trend, finished at
-- commit
-------------------------------------------------------------------------------

-- A BI tool reads the scorecard and the trend whole, or filtered by a unit
-- or a period, many times between two changes of the data.  Computing them
-- from the roll-ups at read time (merging states, finishing intervals and
-- p-values, the window over periods, the p-charts) costs about 60 ms for the
-- benchmark agency's 3,500 rows whatever the filter's selectivity; the
-- finished rows cost a scan of one small table.  So the transaction that
-- changes answers also publishes the figures they change, when it commits
-- (rollup_commit_compact, after the complementary suppression): the rows of
-- every unit its services count for (the service and the programs above
-- it) and of every unit whose complementary cells changed, all periods, are
-- computed again by the same functions the views would run at read time
-- (scorecard_compute, satisfaction_trend_compute) and replace the unit's
-- rows in report_scorecard and report_trend.  Commits that publish run one
-- at a time (a lock on report_state, taken before the complementary
-- suppression's year locks): two commits that both publish the agency's
-- row must not each compute it from a snapshot without the other's
-- answers.
--
-- The views read the published rows only when those are what the session
-- would compute (custfocus.report_published()):
--   * the session asks for no floor above the agency's (figures are
--     published at the agency's floor; a session that sets
--     custfocus.min_responses higher gets them computed at read time);
--   * the transaction has not changed answers yet to commit (it reads its
--     own changes, computed at read time, as before);
--   * custfocus.live_reports is off (on: always computed at read time; for
--     checks, and what a DBA compares with report_verify()).
-- Otherwise they read the computation itself, for the caller's role (a
-- SECURITY DEFINER function of the caller's role, as the visibility
-- functions: *_live_rows(CURRENT_USER)).  Both branches are in the view;
-- the planner runs only the one the one-time test selects.

CREATE TABLE custfocus.report_state (
	id			boolean PRIMARY KEY DEFAULT true CHECK (id),
	publications bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE custfocus.report_state IS
'One row, locked by every commit that publishes figures (report_scorecard, report_trend), so that those commits run one at a time';
COMMENT ON COLUMN custfocus.report_state.id IS 'Always true (one row)';
COMMENT ON COLUMN custfocus.report_state.publications IS 'Commits that published figures since the extension was created';
INSERT INTO custfocus.report_state DEFAULT VALUES;
REVOKE ALL ON custfocus.report_state FROM PUBLIC;

CREATE TABLE custfocus.report_scorecard (
	program_id	integer NOT NULL,
	unit_service_id integer NOT NULL,
	grain		text NOT NULL,
	period_start date NOT NULL,
	period_label text,
	responses	bigint,
	csat_n		bigint,
	csat		double precision,
	csat_ci_low double precision,
	csat_ci_high double precision,
	nps_n		bigint,
	nps			double precision,
	nps_ci_low	double precision,
	nps_ci_high double precision,
	linear_mean_n bigint,
	linear_mean double precision,
	linear_mean_ci_low double precision,
	linear_mean_ci_high double precision,
	csat_change double precision,
	csat_change_p double precision,
	nps_change	double precision,
	nps_change_p double precision,
	suppressed	boolean,
	csat_weight double precision,
	csat_weight_in_box double precision,
	csat_n_eff	double precision,
	nps_weight	double precision,
	nps_weight_promoters double precision,
	nps_weight_detractors double precision,
	linear_mean_weight double precision,
	linear_mean_weighted_sum double precision,
	PRIMARY KEY (program_id, unit_service_id, grain, period_start)
);
COMMENT ON TABLE custfocus.report_scorecard IS
'The scorecard''s figures per unit (service, or program rolled up), grain and period, at the agency''s floor, as published by the last commit that changed them; the view custfocus.scorecard adds the units'' codes and names; derived data, kept at commit, not dumped';
COMMENT ON COLUMN custfocus.report_scorecard.program_id IS 'The service''s program, or the program rolled up';
COMMENT ON COLUMN custfocus.report_scorecard.unit_service_id IS 'The service, or 0 for a program roll-up';
COMMENT ON COLUMN custfocus.report_scorecard.grain IS 'month, quarter or year';
COMMENT ON COLUMN custfocus.report_scorecard.period_start IS 'First day of the period, in the reporting time zone';
COMMENT ON COLUMN custfocus.report_scorecard.period_label IS 'As custfocus.scorecard.period_label';
COMMENT ON COLUMN custfocus.report_scorecard.responses IS 'As custfocus.scorecard.responses';
COMMENT ON COLUMN custfocus.report_scorecard.csat_n IS 'As custfocus.scorecard.csat_n';
COMMENT ON COLUMN custfocus.report_scorecard.csat IS 'As custfocus.scorecard.csat';
COMMENT ON COLUMN custfocus.report_scorecard.csat_ci_low IS 'As custfocus.scorecard.csat_ci_low';
COMMENT ON COLUMN custfocus.report_scorecard.csat_ci_high IS 'As custfocus.scorecard.csat_ci_high';
COMMENT ON COLUMN custfocus.report_scorecard.nps_n IS 'As custfocus.scorecard.nps_n';
COMMENT ON COLUMN custfocus.report_scorecard.nps IS 'As custfocus.scorecard.nps';
COMMENT ON COLUMN custfocus.report_scorecard.nps_ci_low IS 'As custfocus.scorecard.nps_ci_low';
COMMENT ON COLUMN custfocus.report_scorecard.nps_ci_high IS 'As custfocus.scorecard.nps_ci_high';
COMMENT ON COLUMN custfocus.report_scorecard.linear_mean_n IS 'As custfocus.scorecard.linear_mean_n';
COMMENT ON COLUMN custfocus.report_scorecard.linear_mean IS 'As custfocus.scorecard.linear_mean';
COMMENT ON COLUMN custfocus.report_scorecard.linear_mean_ci_low IS 'As custfocus.scorecard.linear_mean_ci_low';
COMMENT ON COLUMN custfocus.report_scorecard.linear_mean_ci_high IS 'As custfocus.scorecard.linear_mean_ci_high';
COMMENT ON COLUMN custfocus.report_scorecard.csat_change IS 'As custfocus.scorecard.csat_change';
COMMENT ON COLUMN custfocus.report_scorecard.csat_change_p IS 'As custfocus.scorecard.csat_change_p';
COMMENT ON COLUMN custfocus.report_scorecard.nps_change IS 'As custfocus.scorecard.nps_change';
COMMENT ON COLUMN custfocus.report_scorecard.nps_change_p IS 'As custfocus.scorecard.nps_change_p';
COMMENT ON COLUMN custfocus.report_scorecard.suppressed IS 'As custfocus.scorecard.suppressed';
COMMENT ON COLUMN custfocus.report_scorecard.csat_weight IS 'As custfocus.scorecard.csat_weight';
COMMENT ON COLUMN custfocus.report_scorecard.csat_weight_in_box IS 'As custfocus.scorecard.csat_weight_in_box';
COMMENT ON COLUMN custfocus.report_scorecard.csat_n_eff IS 'As custfocus.scorecard.csat_n_eff';
COMMENT ON COLUMN custfocus.report_scorecard.nps_weight IS 'As custfocus.scorecard.nps_weight';
COMMENT ON COLUMN custfocus.report_scorecard.nps_weight_promoters IS 'As custfocus.scorecard.nps_weight_promoters';
COMMENT ON COLUMN custfocus.report_scorecard.nps_weight_detractors IS 'As custfocus.scorecard.nps_weight_detractors';
COMMENT ON COLUMN custfocus.report_scorecard.linear_mean_weight IS 'As custfocus.scorecard.linear_mean_weight';
COMMENT ON COLUMN custfocus.report_scorecard.linear_mean_weighted_sum IS 'As custfocus.scorecard.linear_mean_weighted_sum';
REVOKE ALL ON custfocus.report_scorecard FROM PUBLIC;

-- The scorecard's figures computed from the roll-ups, of every unit (p_*
-- NULL) or of the units given as (program, unit service) pairs, at the
-- session's threshold (custfocus.min_responses()).  Every answer counts for
-- its service, for the service's program and for every program above it (the
-- roll-ups), at three grains; it reads the roll-up per unit and period
-- (rollup_unit_period, see src/sql/rollup.sql), never the answers, so its
-- cost follows the number of units and periods, not of answers.
--
-- Rules a reader can recompute from the raw data:
--   * periods are months, quarters and years of the reporting time zone
--     (custfocus.reporting_time_zone());
--   * a score is suppressed (NULL, with its weighted sums) when it has
--     answers, but fewer than custfocus.min_responses(), or when
--     rollup_hidden lists it (complementary suppression: hidden so that no
--     smaller hidden group can be recovered by subtracting shown cells); a
--     score with no answers at all is NULL and not suppressed;
--   * the change columns compare with the period just before, at the same
--     grain, only when both scores are shown.
CREATE FUNCTION custfocus.scorecard_compute(p_unit_programs integer[] DEFAULT NULL,
											p_unit_services integer[] DEFAULT NULL)
RETURNS SETOF custfocus.report_scorecard
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT x.program_id, x.unit_service_id, x.grain, x.period_start,
	   custfocus.period_label(x.grain, x.period_start) AS period_label,
	   x.responses,
	   coalesce((x.csat).n, 0) AS csat_n, (x.csat_shown).percent AS csat, (x.csat_shown).ci_low AS csat_ci_low,
	   (x.csat_shown).ci_high AS csat_ci_high,
	   coalesce((x.nps).n, 0) AS nps_n, (x.nps_shown).nps AS nps, (x.nps_shown).ci_low AS nps_ci_low,
	   (x.nps_shown).ci_high AS nps_ci_high,
	   coalesce((x.lm).n, 0) AS linear_mean_n, (x.lm_shown).mean AS linear_mean, (x.lm_shown).ci_low AS linear_mean_ci_low,
	   (x.lm_shown).ci_high AS linear_mean_ci_high,
	   CASE WHEN x.adjacent THEN (x.csat_shown).percent - (x.prev_csat).percent END AS csat_change,
	   CASE WHEN x.adjacent THEN (custfocus.prop_ztest(
			(x.csat_shown).percent / 100 * (x.csat_shown).n_eff, (x.csat_shown).n_eff,
			(x.prev_csat).percent / 100 * (x.prev_csat).n_eff, (x.prev_csat).n_eff)).p_value END AS csat_change_p,
	   CASE WHEN x.adjacent THEN (x.nps_shown).nps - (x.prev_nps).nps END AS nps_change,
	   CASE WHEN x.adjacent THEN (custfocus.nps_ztest((x.nps_shown).nps, (x.nps_shown).se,
													  (x.prev_nps).nps, (x.prev_nps).se)).p_value END AS nps_change_p,
	   x.suppressed,
	   CASE WHEN x.csat_shown IS NOT NULL THEN x.csat_state[2] END AS csat_weight,
	   CASE WHEN x.csat_shown IS NOT NULL THEN x.csat_state[4] END AS csat_weight_in_box,
	   (x.csat_shown).n_eff AS csat_n_eff,
	   CASE WHEN x.nps_shown IS NOT NULL THEN x.nps_state[2] END AS nps_weight,
	   CASE WHEN x.nps_shown IS NOT NULL THEN x.nps_state[4] END AS nps_weight_promoters,
	   CASE WHEN x.nps_shown IS NOT NULL THEN x.nps_state[6] END AS nps_weight_detractors,
	   CASE WHEN x.lm_shown IS NOT NULL THEN x.lm_state[2] END AS linear_mean_weight,
	   CASE WHEN x.lm_shown IS NOT NULL THEN x.lm_state[2] * x.lm_state[4] END AS linear_mean_weighted_sum
  FROM (
	SELECT y.*,
		   lag(y.period_start) OVER w = custfocus.previous_period(y.grain, y.period_start) AS adjacent,
		   lag(y.csat_shown) OVER w AS prev_csat,
		   lag(y.nps_shown) OVER w AS prev_nps
	  FROM (
		SELECT g.*,
			   CASE WHEN (g.csat).n >= v.min_n AND NOT coalesce(h.csat, false) THEN g.csat END AS csat_shown,
			   CASE WHEN (g.nps).n >= v.min_n AND NOT coalesce(h.nps, false) THEN g.nps END AS nps_shown,
			   CASE WHEN (g.lm).n >= v.min_n AND NOT coalesce(h.lm, false) THEN g.lm END AS lm_shown,
			   (coalesce((g.csat).n, 0) BETWEEN 1 AND v.min_n - 1
				OR coalesce((g.nps).n, 0) BETWEEN 1 AND v.min_n - 1
				OR coalesce((g.lm).n, 0) BETWEEN 1 AND v.min_n - 1
				OR coalesce(h.csat OR h.nps OR h.lm, false)) AS suppressed
		  FROM (
		  -- each state merged once, and each result computed once: a function
		  -- in FROM runs once a row, where the same call in the select list
		  -- of a subquery the planner flattens would run for every field of
		  -- its result the outer levels read
		  SELECT m.*, csat_r AS csat, nps_r AS nps, lm_r AS lm
			FROM (
			SELECT r.program_id, r.unit_service_id, r.grain, r.period_start,
				   sum(r.responses)::bigint AS responses,
				   custfocus.sums_sum(r.csat) AS csat_state, custfocus.sums_sum(r.nps) AS nps_state,
				   custfocus.moments_sum(r.lm) AS lm_state
			  FROM custfocus.rollup_unit_period r
			 WHERE p_unit_programs IS NULL
				OR (r.program_id, r.unit_service_id) IN (SELECT k.p, k.s FROM unnest(p_unit_programs, p_unit_services) AS k (p, s))
			 GROUP BY r.program_id, r.unit_service_id, r.grain, r.period_start
			) m
			CROSS JOIN LATERAL custfocus.box_weighted_stats_final(m.csat_state) AS csat_r
			CROSS JOIN LATERAL custfocus.nps_weighted_stats_final(m.nps_state) AS nps_r
			CROSS JOIN LATERAL custfocus.linear_mean_stats_final(m.lm_state) AS lm_r
		  ) g
		 -- OFFSET 0 keeps this a sub-query evaluated once
		 CROSS JOIN (SELECT custfocus.min_responses() AS min_n OFFSET 0) v
		 -- complementary suppression: scores hidden though they have enough
		 -- answers, so that no smaller hidden group can be subtracted out
		 LEFT JOIN custfocus.rollup_hidden h
		   ON h.program_id = g.program_id AND h.unit_service_id = g.unit_service_id
			  AND h.grain = g.grain AND h.period_start = g.period_start
	  ) y
	WINDOW w AS (PARTITION BY y.program_id, y.unit_service_id, y.grain ORDER BY y.period_start)
  ) x
$$;
COMMENT ON FUNCTION custfocus.scorecard_compute(integer[], integer[]) IS
'The scorecard''s figures computed from the roll-ups, at the session''s threshold: of every unit, or of the units given as pairs (program, unit service: 0 for a program roll-up)';
REVOKE ALL ON FUNCTION custfocus.scorecard_compute(integer[], integer[]) FROM PUBLIC;

-- The rows the role may see, computed at read time (the views' branch when
-- the published figures are not the session's, see report_published).  A
-- caller may ask only for roles its session user can become.
CREATE FUNCTION custfocus.scorecard_live_rows(p_role name)
RETURNS SETOF custfocus.report_scorecard
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.check_role_asked(p_role);
	IF custfocus.sees_all_programs(p_role) THEN
		RETURN QUERY SELECT * FROM custfocus.scorecard_compute();
	ELSE
		RETURN QUERY
		SELECT c.* FROM (SELECT array_agg(u.program_id) AS p, array_agg(u.unit_service_id) AS s
						   FROM (SELECT DISTINCT r.program_id, r.unit_service_id FROM custfocus.report_unit r
								  WHERE r.program_id = ANY (custfocus.visible_program_ids(p_role))) u) k
		 CROSS JOIN LATERAL custfocus.scorecard_compute(coalesce(k.p, '{}'), coalesce(k.s, '{}')) c;
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.scorecard_live_rows(name) IS
'The scorecard''s figures of the units the role may see, computed at read time (what custfocus.scorecard reads when the published figures are not the session''s)';
REVOKE ALL ON FUNCTION custfocus.scorecard_live_rows(name) FROM PUBLIC;

CREATE TABLE custfocus.report_trend (
	program_id	integer NOT NULL,
	unit_service_id integer NOT NULL,
	grain		text NOT NULL,
	period_start date NOT NULL,
	period_label text,
	n			bigint,
	csat		double precision,
	centre		double precision,
	lcl			double precision,
	ucl			double precision,
	outside		boolean,
	run_of_8	boolean,
	trend_of_6	boolean,
	signal		text,
	suppressed	boolean,
	in_box		bigint,
	PRIMARY KEY (program_id, unit_service_id, grain, period_start)
);
COMMENT ON TABLE custfocus.report_trend IS
'The satisfaction trend''s points per unit (service, or program rolled up), grain and period, at the agency''s floor, as published by the last commit that changed them; the view custfocus.satisfaction_trend adds the units'' codes; derived data, kept at commit, not dumped';
COMMENT ON COLUMN custfocus.report_trend.program_id IS 'The service''s program, or the program rolled up';
COMMENT ON COLUMN custfocus.report_trend.unit_service_id IS 'The service, or 0 for a program roll-up';
COMMENT ON COLUMN custfocus.report_trend.grain IS 'month, quarter or year';
COMMENT ON COLUMN custfocus.report_trend.period_start IS 'First day of the period, in the reporting time zone';
COMMENT ON COLUMN custfocus.report_trend.period_label IS 'As custfocus.satisfaction_trend.period_label';
COMMENT ON COLUMN custfocus.report_trend.n IS 'As custfocus.satisfaction_trend.n';
COMMENT ON COLUMN custfocus.report_trend.csat IS 'As custfocus.satisfaction_trend.csat';
COMMENT ON COLUMN custfocus.report_trend.centre IS 'As custfocus.satisfaction_trend.centre';
COMMENT ON COLUMN custfocus.report_trend.lcl IS 'As custfocus.satisfaction_trend.lcl';
COMMENT ON COLUMN custfocus.report_trend.ucl IS 'As custfocus.satisfaction_trend.ucl';
COMMENT ON COLUMN custfocus.report_trend.outside IS 'As custfocus.satisfaction_trend.outside';
COMMENT ON COLUMN custfocus.report_trend.run_of_8 IS 'As custfocus.satisfaction_trend.run_of_8';
COMMENT ON COLUMN custfocus.report_trend.trend_of_6 IS 'As custfocus.satisfaction_trend.trend_of_6';
COMMENT ON COLUMN custfocus.report_trend.signal IS 'As custfocus.satisfaction_trend.signal';
COMMENT ON COLUMN custfocus.report_trend.suppressed IS 'As custfocus.satisfaction_trend.suppressed';
COMMENT ON COLUMN custfocus.report_trend.in_box IS 'As custfocus.satisfaction_trend.in_box';
REVOKE ALL ON custfocus.report_trend FROM PUBLIC;

-- The satisfaction trend computed from the roll-ups, of every unit or of
-- the given ones (as scorecard_compute): the p-chart of CSAT
-- (overall-satisfaction answers in the top two categories) per unit and
-- grain, from the roll-up's unweighted counts (a p-chart's limits assume
-- counts), at the session's threshold.  A point's centre line and signals
-- depend on every point of its series: a unit's series is computed whole.
CREATE FUNCTION custfocus.satisfaction_trend_compute(p_unit_programs integer[] DEFAULT NULL,
													 p_unit_services integer[] DEFAULT NULL)
RETURNS SETOF custfocus.report_trend
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT x.program_id, x.unit_service_id, x.grain, x.periods[c.point] AS period_start,
	   custfocus.period_label(x.grain, x.periods[c.point]) AS period_label,
	   c.n::bigint AS n, 100 * c.p AS csat, 100 * c.centre AS centre, 100 * c.lcl AS lcl, 100 * c.ucl AS ucl,
	   c.outside, c.run_of_8, c.trend_of_6, c.signal, c.p IS NULL AS suppressed,
	   CASE WHEN c.p IS NOT NULL THEN c.x::bigint END AS in_box
  FROM (
	SELECT g.program_id, g.unit_service_id, g.grain,
		   array_agg(g.period_start ORDER BY g.period_start) AS periods,
		   array_agg(g.b[2]::double precision ORDER BY g.period_start) AS xs,
		   array_agg(g.b[1]::double precision ORDER BY g.period_start) AS ns,
		   -- complementary suppression (rollup_hidden): a point hidden
		   -- though it has enough answers
		   array_agg(EXISTS (SELECT FROM custfocus.rollup_hidden h
							  WHERE h.program_id = g.program_id AND h.unit_service_id = g.unit_service_id
								AND h.grain = g.grain AND h.period_start = g.period_start AND h.csat)
					 ORDER BY g.period_start) AS hidden
	  FROM (
		SELECT r.program_id, r.unit_service_id, r.grain, r.period_start,
			   custfocus.counts_sum(r.csat_counts) AS b
		  FROM custfocus.rollup_unit_period r
		 WHERE p_unit_programs IS NULL
			OR (r.program_id, r.unit_service_id) IN (SELECT k.p, k.s FROM unnest(p_unit_programs, p_unit_services) AS k (p, s))
		 GROUP BY r.program_id, r.unit_service_id, r.grain, r.period_start
	  ) g
	 WHERE g.b[1] > 0
	 GROUP BY g.program_id, g.unit_service_id, g.grain
  ) x
 CROSS JOIN LATERAL custfocus.p_chart(x.xs, x.ns, (SELECT custfocus.min_responses()), x.hidden) c
$$;
COMMENT ON FUNCTION custfocus.satisfaction_trend_compute(integer[], integer[]) IS
'The satisfaction trend computed from the roll-ups, at the session''s threshold: of every unit, or of the units given as pairs (program, unit service: 0 for a program roll-up)';
REVOKE ALL ON FUNCTION custfocus.satisfaction_trend_compute(integer[], integer[]) FROM PUBLIC;

CREATE FUNCTION custfocus.satisfaction_trend_live_rows(p_role name)
RETURNS SETOF custfocus.report_trend
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.check_role_asked(p_role);
	IF custfocus.sees_all_programs(p_role) THEN
		RETURN QUERY SELECT * FROM custfocus.satisfaction_trend_compute();
	ELSE
		RETURN QUERY
		SELECT c.* FROM (SELECT array_agg(u.program_id) AS p, array_agg(u.unit_service_id) AS s
						   FROM (SELECT DISTINCT r.program_id, r.unit_service_id FROM custfocus.report_unit r
								  WHERE r.program_id = ANY (custfocus.visible_program_ids(p_role))) u) k
		 CROSS JOIN LATERAL custfocus.satisfaction_trend_compute(coalesce(k.p, '{}'), coalesce(k.s, '{}')) c;
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.satisfaction_trend_live_rows(name) IS
'The satisfaction trend of the units the role may see, computed at read time (what custfocus.satisfaction_trend reads when the published figures are not the session''s)';
REVOKE ALL ON FUNCTION custfocus.satisfaction_trend_live_rows(name) FROM PUBLIC;

-- (custfocus.live_reports, the setting, read through a function: see
-- session_min_responses)
CREATE FUNCTION custfocus.live_reports() RETURNS boolean
AS 'MODULE_PATHNAME', 'live_reports'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.live_reports() IS
'Value of the custfocus.live_reports setting of the session: whether the scorecard and the trend are computed at read time rather than read as published';

-- Whether the published figures are what this session would compute (see
-- the top of this file).  Once per query (an InitPlan in the views).
CREATE FUNCTION custfocus.report_published() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT NOT custfocus.live_reports()
		   -- the threshold in force is the agency's floor
		   AND custfocus.session_min_responses() <= coalesce((SELECT s.min_responses FROM custfocus.setting s WHERE s.id), 10)
		   -- nothing of this transaction's to publish yet
		   AND NOT EXISTS (SELECT FROM custfocus.rollup_pending p WHERE p.xact = pg_current_xact_id_if_assigned())
$$;
COMMENT ON FUNCTION custfocus.report_published() IS
'Whether custfocus.scorecard and custfocus.satisfaction_trend read the figures published at the last commit (true) or compute them at read time: custfocus.live_reports is off, the session asks for no threshold above the agency''s floor, and the transaction has no changes of answers yet to commit';

-- Publishes the figures of the units the given services count for and of
-- the given units (pairs; 0 as the unit service of a program roll-up), all
-- periods, at the agency's floor (custfocus.min_responses set to 0 for the
-- call: the session's threshold must not reach published figures).  Called
-- at commit (rollup_commit_compact), after report_state was locked.
CREATE FUNCTION custfocus.report_refresh(p_services integer[], p_unit_programs integer[] DEFAULT NULL,
										 p_unit_services integer[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET custfocus.min_responses = 0
AS $$
DECLARE
	v_p integer[];
	v_s integer[];
BEGIN
	SELECT array_agg(k.p ORDER BY k.p, k.s), array_agg(k.s ORDER BY k.p, k.s) INTO v_p, v_s
	  FROM (SELECT u.program_id, u.unit_service_id FROM custfocus.report_unit u WHERE u.service_id = ANY (p_services)
			UNION
			SELECT x.p, x.s FROM unnest(p_unit_programs, p_unit_services) AS x (p, s)) k (p, s);
	IF v_p IS NOT NULL THEN
		DELETE FROM custfocus.report_scorecard r USING unnest(v_p, v_s) AS k (p, s)
		 WHERE r.program_id = k.p AND r.unit_service_id = k.s;
		INSERT INTO custfocus.report_scorecard SELECT * FROM custfocus.scorecard_compute(v_p, v_s);
		DELETE FROM custfocus.report_trend r USING unnest(v_p, v_s) AS k (p, s)
		 WHERE r.program_id = k.p AND r.unit_service_id = k.s;
		INSERT INTO custfocus.report_trend SELECT * FROM custfocus.satisfaction_trend_compute(v_p, v_s);
	END IF;
	-- units that no longer exist (the program tree changed)
	DELETE FROM custfocus.report_scorecard r
	 WHERE NOT EXISTS (SELECT FROM custfocus.report_unit u
						WHERE u.program_id = r.program_id AND u.unit_service_id = r.unit_service_id);
	DELETE FROM custfocus.report_trend r
	 WHERE NOT EXISTS (SELECT FROM custfocus.report_unit u
						WHERE u.program_id = r.program_id AND u.unit_service_id = r.unit_service_id);
END
$$;
COMMENT ON FUNCTION custfocus.report_refresh(integer[], integer[], integer[]) IS
'Publishes again, at the agency''s floor, the scorecard and trend figures of the units the given services count for and of the given units (at commit)';
REVOKE ALL ON FUNCTION custfocus.report_refresh(integer[], integer[], integer[]) FROM PUBLIC;

-- Whether two arrays of figures are equal: both NULL, or to p_tol relative
-- (absolute below 1).
CREATE FUNCTION custfocus.report_same(a double precision[], b double precision[], p_tol double precision)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT cardinality(a) = cardinality(b)
		   AND coalesce(bool_and(CASE WHEN x IS NULL OR y IS NULL THEN x IS NULL AND y IS NULL
									  ELSE abs(x - y) <= p_tol * greatest(1, abs(x), abs(y)) END), true)
	  FROM unnest(a, b) AS z (x, y)
$$;
COMMENT ON FUNCTION custfocus.report_same(double precision[], double precision[], double precision) IS
'Whether two arrays of figures are equal element by element: both NULL, or within p_tol relative to the larger (absolute below 1)';

-- Every published row that differs from a computation now (at the agency's
-- floor): empty when all is well.  Counts must be equal, figures equal to
-- 1e-12 relative.
CREATE FUNCTION custfocus.report_verify()
RETURNS TABLE (view_name text, program_id integer, unit_service_id integer, grain text, period_start date,
			   problem text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET custfocus.min_responses = 0
AS $$
	SELECT 'scorecard', coalesce(p.program_id, c.program_id), coalesce(p.unit_service_id, c.unit_service_id),
		   coalesce(p.grain, c.grain), coalesce(p.period_start, c.period_start),
		   CASE WHEN p.program_id IS NULL THEN 'not published' WHEN c.program_id IS NULL THEN 'published, not computed'
				ELSE 'published figures differ' END
	  FROM custfocus.report_scorecard p
	  FULL JOIN custfocus.scorecard_compute() c
		ON c.program_id = p.program_id AND c.unit_service_id = p.unit_service_id AND c.grain = p.grain
		   AND c.period_start = p.period_start
	 WHERE p.program_id IS NULL OR c.program_id IS NULL
		OR NOT custfocus.report_same(ARRAY[p.responses, p.csat_n, p.nps_n, p.linear_mean_n]::double precision[],
									 ARRAY[c.responses, c.csat_n, c.nps_n, c.linear_mean_n]::double precision[], 0)
		OR NOT custfocus.report_same(
			ARRAY[p.csat, p.csat_ci_low, p.csat_ci_high, p.nps, p.nps_ci_low, p.nps_ci_high, p.linear_mean,
				  p.linear_mean_ci_low, p.linear_mean_ci_high, p.csat_change, p.csat_change_p, p.nps_change,
				  p.nps_change_p, p.csat_weight, p.csat_weight_in_box, p.csat_n_eff, p.nps_weight,
				  p.nps_weight_promoters, p.nps_weight_detractors, p.linear_mean_weight, p.linear_mean_weighted_sum],
			ARRAY[c.csat, c.csat_ci_low, c.csat_ci_high, c.nps, c.nps_ci_low, c.nps_ci_high, c.linear_mean,
				  c.linear_mean_ci_low, c.linear_mean_ci_high, c.csat_change, c.csat_change_p, c.nps_change,
				  c.nps_change_p, c.csat_weight, c.csat_weight_in_box, c.csat_n_eff, c.nps_weight,
				  c.nps_weight_promoters, c.nps_weight_detractors, c.linear_mean_weight, c.linear_mean_weighted_sum],
			1e-12)
		OR p.period_label IS DISTINCT FROM c.period_label OR p.suppressed IS DISTINCT FROM c.suppressed
	UNION ALL
	SELECT 'satisfaction_trend', coalesce(p.program_id, c.program_id), coalesce(p.unit_service_id, c.unit_service_id),
		   coalesce(p.grain, c.grain), coalesce(p.period_start, c.period_start),
		   CASE WHEN p.program_id IS NULL THEN 'not published' WHEN c.program_id IS NULL THEN 'published, not computed'
				ELSE 'published figures differ' END
	  FROM custfocus.report_trend p
	  FULL JOIN custfocus.satisfaction_trend_compute() c
		ON c.program_id = p.program_id AND c.unit_service_id = p.unit_service_id AND c.grain = p.grain
		   AND c.period_start = p.period_start
	 WHERE p.program_id IS NULL OR c.program_id IS NULL
		OR p.n IS DISTINCT FROM c.n OR p.in_box IS DISTINCT FROM c.in_box
		OR NOT custfocus.report_same(ARRAY[p.csat, p.centre, p.lcl, p.ucl], ARRAY[c.csat, c.centre, c.lcl, c.ucl], 1e-12)
		OR (p.period_label, p.outside, p.run_of_8, p.trend_of_6, p.signal, p.suppressed)
		   IS DISTINCT FROM (c.period_label, c.outside, c.run_of_8, c.trend_of_6, c.signal, c.suppressed)
$$;
COMMENT ON FUNCTION custfocus.report_verify() IS
'Every published scorecard or trend row that differs from a computation from the roll-ups now, at the agency''s floor (counts equal, figures to 1e-12 relative), or is missing on either side; empty when all is well';
REVOKE ALL ON FUNCTION custfocus.report_verify() FROM PUBLIC;

-- Scorecard: the published figures (or, see report_published, the same
-- computed at read time) of the units the caller may see, with the units'
-- codes and names.  A filter on a unit's code, the grain, the level or the
-- period reaches report_unit and report_scorecard's key.
--
-- The view runs with its owner's rights over tables the reader cannot read
-- (they hold the figures of every program), so it keeps to the caller's
-- programs itself, and it is a security_barrier view: a caller's WHERE with
-- a function that is not leakproof cannot see a row before that rule has
-- removed it.  CURRENT_USER inside is the caller.  Rules: see
-- scorecard_compute.  (Two whole branches, each joining the units, rather
-- than the units joined to a UNION ALL: so the planner can look the
-- published rows up by their key for the units a filter selected.)
CREATE VIEW custfocus.scorecard WITH (security_barrier) AS
SELECT u.level, u.program_code, u.program_name, u.service_code, u.service_name, f.grain, f.period_start,
	   f.period_label, f.responses, f.csat_n, f.csat, f.csat_ci_low, f.csat_ci_high, f.nps_n, f.nps, f.nps_ci_low,
	   f.nps_ci_high, f.linear_mean_n, f.linear_mean, f.linear_mean_ci_low, f.linear_mean_ci_high, f.csat_change,
	   f.csat_change_p, f.nps_change, f.nps_change_p, f.suppressed, u.program_level, u.parent_program_code,
	   f.csat_weight, f.csat_weight_in_box, f.csat_n_eff, f.nps_weight, f.nps_weight_promoters,
	   f.nps_weight_detractors, f.linear_mean_weight, f.linear_mean_weighted_sum
  FROM (SELECT DISTINCT r.level, r.program_id, r.unit_service_id, r.program_code, r.program_name, r.program_level,
						r.parent_program_code, r.service_code, r.service_name
		  FROM custfocus.report_unit r) u
  JOIN custfocus.report_scorecard f ON f.program_id = u.program_id AND f.unit_service_id = u.unit_service_id
 WHERE (SELECT custfocus.report_published())
   AND ((SELECT custfocus.sees_all_programs())
		OR u.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
UNION ALL
SELECT u.level, u.program_code, u.program_name, u.service_code, u.service_name, f.grain, f.period_start,
	   f.period_label, f.responses, f.csat_n, f.csat, f.csat_ci_low, f.csat_ci_high, f.nps_n, f.nps, f.nps_ci_low,
	   f.nps_ci_high, f.linear_mean_n, f.linear_mean, f.linear_mean_ci_low, f.linear_mean_ci_high, f.csat_change,
	   f.csat_change_p, f.nps_change, f.nps_change_p, f.suppressed, u.program_level, u.parent_program_code,
	   f.csat_weight, f.csat_weight_in_box, f.csat_n_eff, f.nps_weight, f.nps_weight_promoters,
	   f.nps_weight_detractors, f.linear_mean_weight, f.linear_mean_weighted_sum
  FROM (SELECT DISTINCT r.level, r.program_id, r.unit_service_id, r.program_code, r.program_name, r.program_level,
						r.parent_program_code, r.service_code, r.service_name
		  FROM custfocus.report_unit r) u
  JOIN custfocus.scorecard_live_rows(CURRENT_USER) f ON f.program_id = u.program_id AND f.unit_service_id = u.unit_service_id
 WHERE NOT (SELECT custfocus.report_published());
COMMENT ON VIEW custfocus.scorecard IS
'Satisfaction per service and per program (roll-up of every service under it), per month, quarter and year of the reporting time zone: CSAT, NPS and linear mean with 95 % intervals (survey weights applied), the change from the period before with its p-value, and additive columns to re-aggregate any selection; scores of fewer than custfocus.min_responses() answers are suppressed; figures as published by the last commit that changed answers (computed at read time in a transaction that changed answers, or under a threshold above the agency''s floor)';
COMMENT ON COLUMN custfocus.scorecard.level IS 'service, or program for a roll-up of every service under the program';
COMMENT ON COLUMN custfocus.scorecard.program_code IS 'Program (of the service, or rolled up)';
COMMENT ON COLUMN custfocus.scorecard.program_name IS 'Program name';
COMMENT ON COLUMN custfocus.scorecard.service_code IS 'Service (NULL on program rows)';
COMMENT ON COLUMN custfocus.scorecard.service_name IS 'Service name';
COMMENT ON COLUMN custfocus.scorecard.grain IS 'month, quarter or year: filter on it';
COMMENT ON COLUMN custfocus.scorecard.period_start IS 'First day of the period, in the reporting time zone';
COMMENT ON COLUMN custfocus.scorecard.period_label IS 'Period as text: 2026-03, 2026-Q1 or 2026';
COMMENT ON COLUMN custfocus.scorecard.responses IS 'Responses in the period (additive over services and periods of one grain)';
COMMENT ON COLUMN custfocus.scorecard.csat_n IS 'Answers to overall-satisfaction items (shown even when the score is suppressed)';
COMMENT ON COLUMN custfocus.scorecard.csat IS 'CSAT: percent of overall-satisfaction answers in the top two categories of their scale (weighted)';
COMMENT ON COLUMN custfocus.scorecard.csat_ci_low IS 'Lower end of the 95 % Wilson interval of CSAT (on the effective n)';
COMMENT ON COLUMN custfocus.scorecard.csat_ci_high IS 'Upper end of the 95 % Wilson interval of CSAT';
COMMENT ON COLUMN custfocus.scorecard.nps_n IS 'Answers to likelihood-to-recommend (nps) items';
COMMENT ON COLUMN custfocus.scorecard.nps IS 'Net Promoter Score, -100..100 (weighted)';
COMMENT ON COLUMN custfocus.scorecard.nps_ci_low IS 'Lower end of the 95 % interval of NPS';
COMMENT ON COLUMN custfocus.scorecard.nps_ci_high IS 'Upper end of the 95 % interval of NPS';
COMMENT ON COLUMN custfocus.scorecard.linear_mean_n IS 'Answers to rating items';
COMMENT ON COLUMN custfocus.scorecard.linear_mean IS 'CAHPS linear mean of all rating answers on 0..100, reverse-coded items flipped (weighted)';
COMMENT ON COLUMN custfocus.scorecard.linear_mean_ci_low IS 'Lower end of the 95 % interval of the linear mean';
COMMENT ON COLUMN custfocus.scorecard.linear_mean_ci_high IS 'Upper end of the 95 % interval of the linear mean';
COMMENT ON COLUMN custfocus.scorecard.csat_change IS 'CSAT minus CSAT of the period just before (percentage points); NULL if that period has no shown CSAT';
COMMENT ON COLUMN custfocus.scorecard.csat_change_p IS 'Two-sided p-value of the change (pooled two-proportion z-test on effective counts)';
COMMENT ON COLUMN custfocus.scorecard.nps_change IS 'NPS minus NPS of the period just before';
COMMENT ON COLUMN custfocus.scorecard.nps_change_p IS 'Two-sided p-value of the NPS change: z = difference / sqrt(SE1^2 + SE2^2)';
COMMENT ON COLUMN custfocus.scorecard.suppressed IS 'True when at least one score of the row is shown as NULL although it has answers: fewer than custfocus.min_responses(), or hidden so that no smaller hidden group can be recovered by subtraction (complementary suppression); a score without answers is NULL and not suppressed';
COMMENT ON COLUMN custfocus.scorecard.program_level IS 'Level of the program: agency, division or program (for drill-down)';
COMMENT ON COLUMN custfocus.scorecard.parent_program_code IS 'Program above program_code (for drill-down)';
COMMENT ON COLUMN custfocus.scorecard.csat_weight IS 'Sum of the weights of the CSAT answers (NULL when suppressed): CSAT of a selection = 100 * sum(csat_weight_in_box) / sum(csat_weight)';
COMMENT ON COLUMN custfocus.scorecard.csat_weight_in_box IS 'Sum of the weights of the CSAT answers in the top two categories (NULL when suppressed)';
COMMENT ON COLUMN custfocus.scorecard.csat_n_eff IS 'Kish''s effective number of CSAT answers, (sum w)^2 / sum w^2 (NULL when suppressed)';
COMMENT ON COLUMN custfocus.scorecard.nps_weight IS 'Sum of the weights of the NPS answers (NULL when suppressed): NPS of a selection = 100 * (sum(nps_weight_promoters) - sum(nps_weight_detractors)) / sum(nps_weight)';
COMMENT ON COLUMN custfocus.scorecard.nps_weight_promoters IS 'Sum of the weights of promoters (9 or 10; NULL when suppressed)';
COMMENT ON COLUMN custfocus.scorecard.nps_weight_detractors IS 'Sum of the weights of detractors (0 to 6; NULL when suppressed)';
COMMENT ON COLUMN custfocus.scorecard.linear_mean_weight IS 'Sum of the weights of the rating answers (NULL when suppressed): linear mean of a selection = sum(linear_mean_weighted_sum) / sum(linear_mean_weight)';
COMMENT ON COLUMN custfocus.scorecard.linear_mean_weighted_sum IS 'Sum of weight times score (0..100) of the rating answers (NULL when suppressed)';

-- Satisfaction trend: the published points (or, see report_published, the
-- same computed at read time) of the units the caller may see.  Same access
-- rule and security_barrier as the scorecard.
CREATE VIEW custfocus.satisfaction_trend WITH (security_barrier) AS
SELECT u.level, u.program_code, u.service_code, f.grain, f.period_start, f.period_label, f.n, f.csat, f.centre,
	   f.lcl, f.ucl, f.outside, f.run_of_8, f.trend_of_6, f.signal, f.suppressed, u.program_level,
	   u.parent_program_code, f.in_box
  FROM (SELECT DISTINCT r.level, r.program_id, r.unit_service_id, r.program_code, r.service_code, r.program_level,
						r.parent_program_code
		  FROM custfocus.report_unit r) u
  JOIN custfocus.report_trend f ON f.program_id = u.program_id AND f.unit_service_id = u.unit_service_id
 WHERE (SELECT custfocus.report_published())
   AND ((SELECT custfocus.sees_all_programs())
		OR u.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
UNION ALL
SELECT u.level, u.program_code, u.service_code, f.grain, f.period_start, f.period_label, f.n, f.csat, f.centre,
	   f.lcl, f.ucl, f.outside, f.run_of_8, f.trend_of_6, f.signal, f.suppressed, u.program_level,
	   u.parent_program_code, f.in_box
  FROM (SELECT DISTINCT r.level, r.program_id, r.unit_service_id, r.program_code, r.service_code, r.program_level,
						r.parent_program_code
		  FROM custfocus.report_unit r) u
  JOIN custfocus.satisfaction_trend_live_rows(CURRENT_USER) f
	ON f.program_id = u.program_id AND f.unit_service_id = u.unit_service_id
 WHERE NOT (SELECT custfocus.report_published());
COMMENT ON VIEW custfocus.satisfaction_trend IS
'CSAT over time per service and program as a p-chart: each period''s percent satisfied against the centre line and 3-sigma limits, with the run signals (outside the limits, 8 in a row on one side, 6 rising or falling); unweighted counts, periods of the reporting time zone; points as published by the last commit that changed answers (computed at read time in a transaction that changed answers, or under a threshold above the agency''s floor)';
COMMENT ON COLUMN custfocus.satisfaction_trend.level IS 'service, or program for a roll-up of every service under it';
COMMENT ON COLUMN custfocus.satisfaction_trend.program_code IS 'Program';
COMMENT ON COLUMN custfocus.satisfaction_trend.service_code IS 'Service (NULL on program rows)';
COMMENT ON COLUMN custfocus.satisfaction_trend.grain IS 'month, quarter or year: filter on it';
COMMENT ON COLUMN custfocus.satisfaction_trend.period_start IS 'First day of the period, in the reporting time zone';
COMMENT ON COLUMN custfocus.satisfaction_trend.period_label IS 'Period as text';
COMMENT ON COLUMN custfocus.satisfaction_trend.n IS 'Overall-satisfaction answers in the period (additive)';
COMMENT ON COLUMN custfocus.satisfaction_trend.csat IS 'Percent in the top two categories (NULL when suppressed)';
COMMENT ON COLUMN custfocus.satisfaction_trend.centre IS 'Centre line: percent satisfied over the shown (not suppressed) periods of the series';
COMMENT ON COLUMN custfocus.satisfaction_trend.lcl IS 'Lower control limit for this period''s n (percent, at least 0)';
COMMENT ON COLUMN custfocus.satisfaction_trend.ucl IS 'Upper control limit for this period''s n (percent, at most 100)';
COMMENT ON COLUMN custfocus.satisfaction_trend.outside IS 'The point is outside the control limits';
COMMENT ON COLUMN custfocus.satisfaction_trend.run_of_8 IS 'The point ends a run of 8 or more on one side of the centre line';
COMMENT ON COLUMN custfocus.satisfaction_trend.trend_of_6 IS 'The point ends 6 or more points steadily rising or falling';
COMMENT ON COLUMN custfocus.satisfaction_trend.signal IS 'The signals of the point in words (NULL: none)';
COMMENT ON COLUMN custfocus.satisfaction_trend.suppressed IS 'True when the period has fewer than custfocus.min_responses() answers, or is hidden by complementary suppression (as in the scorecard): its percent and signals are not shown';
COMMENT ON COLUMN custfocus.satisfaction_trend.program_level IS 'Level of the program: agency, division or program';
COMMENT ON COLUMN custfocus.satisfaction_trend.parent_program_code IS 'Program above program_code';
COMMENT ON COLUMN custfocus.satisfaction_trend.in_box IS 'Answers in the top two categories (NULL when suppressed): percent of a selection = 100 * sum(in_box) / sum(n)';

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
--     checks, and what a DBA compares with report_verify());
--   * nothing committed waits to be published (report_stale, below).
-- Otherwise they read the computation itself, for the caller's role (a
-- SECURITY DEFINER function of the caller's role, as the visibility
-- functions: *_live_rows(CURRENT_USER)).  Both branches are in the view;
-- the planner runs only the one the one-time test selects.
--
-- Publication after commit (custfocus.publish_after_commit, on by default):
-- publishing costs about 0.2 s on the benchmark agency whatever a commit's
-- size, most of an import's overhead.  So the commit only lists the units
-- and services it changed in report_stale (after the complementary
-- suppression, which stays in the commit: the computation at read time
-- reads it too) and a background worker (src/publish.c) publishes them
-- right after the commit; until it has, every view computes its figures
-- when read, as TimescaleDB's real-time aggregates add what is not yet
-- materialized: the numbers are the same either way, only slower to read
-- for that moment.  With the setting off, the commit publishes them itself.

CREATE TABLE custfocus.report_state (
	id			boolean PRIMARY KEY DEFAULT true CHECK (id),
	publications bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE custfocus.report_state IS
'One row, locked by every commit that publishes figures (report_scorecard, report_trend, report_key_drivers, report_measure_status, report_themes), so that those commits run one at a time';
COMMENT ON COLUMN custfocus.report_state.id IS 'Always true (one row)';
COMMENT ON COLUMN custfocus.report_state.publications IS 'Commits that published figures since the extension was created';
INSERT INTO custfocus.report_state DEFAULT VALUES;
REVOKE ALL ON custfocus.report_state FROM PUBLIC;
-- (row-level security without policies on every published table, as well
-- as no grants: only the owner, whose views and functions read them, reads
-- or writes them, whatever a grant on all tables of the schema gives)
ALTER TABLE custfocus.report_state ENABLE ROW LEVEL SECURITY;

CREATE TABLE custfocus.report_stale (
	services	integer[] NOT NULL,
	unit_programs integer[],
	unit_services integer[]
);
COMMENT ON TABLE custfocus.report_stale IS
'What committed transactions changed and the publisher (custfocus.report_publish_pending, run by a background worker after the commit) has not yet published: while it has rows, the reporting views compute their figures when read; derived data, not dumped';
COMMENT ON COLUMN custfocus.report_stale.services IS 'Services whose figures (the units they count for, their key drivers, the measures of their scopes) are to be published again';
COMMENT ON COLUMN custfocus.report_stale.unit_programs IS 'Programs of further units (pairs with unit_services) whose complementary cells changed';
COMMENT ON COLUMN custfocus.report_stale.unit_services IS 'Unit services (0: the program''s roll-up) of those units';
REVOKE ALL ON custfocus.report_stale FROM PUBLIC;
ALTER TABLE custfocus.report_stale ENABLE ROW LEVEL SECURITY;

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
ALTER TABLE custfocus.report_scorecard ENABLE ROW LEVEL SECURITY;

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
-- The units (program, unit service: 0 for a program's own roll-up) of the
-- programs a role may see, as the two arrays scorecard_compute and
-- satisfaction_trend_compute take.
CREATE FUNCTION custfocus.visible_unit_keys(p_role name, OUT programs integer[], OUT unit_services integer[])
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(array_agg(u.program_id), '{}'), coalesce(array_agg(u.unit_service_id), '{}')
	  FROM (SELECT DISTINCT r.program_id, r.unit_service_id FROM custfocus.report_unit r
			 WHERE r.program_id = ANY (custfocus.visible_program_ids(p_role))) u
$$;
COMMENT ON FUNCTION custfocus.visible_unit_keys(name) IS
'The units (program, unit service; 0 for a program''s own roll-up) of the programs the role may see, as two arrays';
REVOKE ALL ON FUNCTION custfocus.visible_unit_keys(name) FROM PUBLIC;

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
		SELECT c.* FROM custfocus.visible_unit_keys(p_role) k
		 CROSS JOIN LATERAL custfocus.scorecard_compute(k.programs, k.unit_services) c;
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
ALTER TABLE custfocus.report_trend ENABLE ROW LEVEL SECURITY;

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
		SELECT c.* FROM custfocus.visible_unit_keys(p_role) k
		 CROSS JOIN LATERAL custfocus.satisfaction_trend_compute(k.programs, k.unit_services) c;
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.satisfaction_trend_live_rows(name) IS
'The satisfaction trend of the units the role may see, computed at read time (what custfocus.satisfaction_trend reads when the published figures are not the session''s)';
REVOKE ALL ON FUNCTION custfocus.satisfaction_trend_live_rows(name) FROM PUBLIC;

CREATE TABLE custfocus.report_key_drivers (
	service_id	integer NOT NULL,
	survey_id	integer NOT NULL,
	requirement_id integer NOT NULL,
	window_start date,
	window_end	date,
	n			bigint,
	correlation double precision,
	derived_importance double precision,
	stated_importance double precision,
	importance	double precision,
	importance_source text,
	performance double precision,
	gap			double precision,
	priority	double precision,
	quadrant	text,
	suppressed	boolean,
	relative_importance double precision,
	model_r2	double precision,
	model_n		bigint,
	drivers_alpha double precision,
	PRIMARY KEY (service_id, survey_id, requirement_id)
);
COMMENT ON TABLE custfocus.report_key_drivers IS
'The key drivers'' figures per service, survey and requirement, at the agency''s floor, as published by the last commit that changed them; the view custfocus.key_drivers adds the codes and names; derived data, kept at commit, not dumped';
COMMENT ON COLUMN custfocus.report_key_drivers.service_id IS 'The service';
COMMENT ON COLUMN custfocus.report_key_drivers.survey_id IS 'The survey the figures come from';
COMMENT ON COLUMN custfocus.report_key_drivers.requirement_id IS 'The requirement (key driver)';
COMMENT ON COLUMN custfocus.report_key_drivers.window_start IS 'As custfocus.key_drivers.window_start';
COMMENT ON COLUMN custfocus.report_key_drivers.window_end IS 'As custfocus.key_drivers.window_end';
COMMENT ON COLUMN custfocus.report_key_drivers.n IS 'As custfocus.key_drivers.n';
COMMENT ON COLUMN custfocus.report_key_drivers.correlation IS 'As custfocus.key_drivers.correlation';
COMMENT ON COLUMN custfocus.report_key_drivers.derived_importance IS 'As custfocus.key_drivers.derived_importance';
COMMENT ON COLUMN custfocus.report_key_drivers.stated_importance IS 'As custfocus.key_drivers.stated_importance';
COMMENT ON COLUMN custfocus.report_key_drivers.importance IS 'As custfocus.key_drivers.importance';
COMMENT ON COLUMN custfocus.report_key_drivers.importance_source IS 'As custfocus.key_drivers.importance_source';
COMMENT ON COLUMN custfocus.report_key_drivers.performance IS 'As custfocus.key_drivers.performance';
COMMENT ON COLUMN custfocus.report_key_drivers.gap IS 'As custfocus.key_drivers.gap';
COMMENT ON COLUMN custfocus.report_key_drivers.priority IS 'As custfocus.key_drivers.priority';
COMMENT ON COLUMN custfocus.report_key_drivers.quadrant IS 'As custfocus.key_drivers.quadrant';
COMMENT ON COLUMN custfocus.report_key_drivers.suppressed IS 'As custfocus.key_drivers.suppressed';
COMMENT ON COLUMN custfocus.report_key_drivers.relative_importance IS 'As custfocus.key_drivers.relative_importance';
COMMENT ON COLUMN custfocus.report_key_drivers.model_r2 IS 'As custfocus.key_drivers.model_r2';
COMMENT ON COLUMN custfocus.report_key_drivers.model_n IS 'As custfocus.key_drivers.model_n';
COMMENT ON COLUMN custfocus.report_key_drivers.drivers_alpha IS 'As custfocus.key_drivers.drivers_alpha';
REVOKE ALL ON custfocus.report_key_drivers FROM PUBLIC;
ALTER TABLE custfocus.report_key_drivers ENABLE ROW LEVEL SECURITY;

-- The improvement opportunities as published: every published key driver
-- with a priority, its figures and its rank among all of them, so that
-- improvement_opportunities reads them instead of ranking the key drivers
-- again for every query (the priorities and gaps rounded to 6 decimals as
-- numeric, sorted, then each row's reason written: as much for a BI tile's
-- "top 10" or one program's rows as for the whole view, since the rank is
-- over all the rows a role sees and no filter reaches below it).  A role
-- that sees some programs is ranked among its own rows by this rank (the
-- same order restricted to its rows).  Ranked again whenever key drivers
-- are published (report_refresh, at its end: a few hundred rows) and when a
-- code the ranks break ties with changes (report_importance_change).
CREATE TABLE custfocus.report_opportunities (
	service_id	integer NOT NULL,
	survey_id	integer NOT NULL,
	requirement_id integer NOT NULL,
	rank		integer NOT NULL,
	n			bigint,
	importance	double precision,
	importance_source text,
	performance double precision,
	gap			double precision,
	priority	double precision NOT NULL,
	quadrant	text,
	PRIMARY KEY (service_id, survey_id, requirement_id)
);
COMMENT ON TABLE custfocus.report_opportunities IS
'The published key drivers with a priority and their rank among all of them (custfocus.improvement_opportunities'' rule), as published by the last commit that changed them; derived data, kept at commit, not dumped';
COMMENT ON COLUMN custfocus.report_opportunities.service_id IS 'The service';
COMMENT ON COLUMN custfocus.report_opportunities.survey_id IS 'The survey';
COMMENT ON COLUMN custfocus.report_opportunities.requirement_id IS 'The requirement';
COMMENT ON COLUMN custfocus.report_opportunities.rank IS 'As custfocus.improvement_opportunities.rank, among every program''s rows';
COMMENT ON COLUMN custfocus.report_opportunities.n IS 'As custfocus.key_drivers.n';
COMMENT ON COLUMN custfocus.report_opportunities.importance IS 'As custfocus.key_drivers.importance';
COMMENT ON COLUMN custfocus.report_opportunities.importance_source IS 'As custfocus.key_drivers.importance_source';
COMMENT ON COLUMN custfocus.report_opportunities.performance IS 'As custfocus.key_drivers.performance';
COMMENT ON COLUMN custfocus.report_opportunities.gap IS 'As custfocus.key_drivers.gap';
COMMENT ON COLUMN custfocus.report_opportunities.priority IS 'As custfocus.key_drivers.priority';
COMMENT ON COLUMN custfocus.report_opportunities.quadrant IS 'As custfocus.key_drivers.quadrant';
REVOKE ALL ON custfocus.report_opportunities FROM PUBLIC;
ALTER TABLE custfocus.report_opportunities ENABLE ROW LEVEL SECURITY;

-- Ranks by improvement_opportunities' rule (priority, then gap, both to 6
-- decimals, then service and requirement code) of the given key drivers'
-- rows with a priority.
CREATE FUNCTION custfocus.opportunities_rank(p_drivers custfocus.report_key_drivers[])
RETURNS SETOF custfocus.report_opportunities
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT f.service_id, f.survey_id, f.requirement_id,
		   rank() OVER (ORDER BY round(f.priority::numeric, 6) DESC, round(f.gap::numeric, 6) DESC,
							s.code, rq.code)::integer,
		   f.n, f.importance, f.importance_source, f.performance, f.gap, f.priority, f.quadrant
	  FROM unnest(p_drivers) f
	  JOIN custfocus.service s ON s.service_id = f.service_id
	  JOIN custfocus.requirement rq ON rq.requirement_id = f.requirement_id
	 WHERE f.priority IS NOT NULL
$$;
COMMENT ON FUNCTION custfocus.opportunities_rank(custfocus.report_key_drivers[]) IS
'The rows of the given key drivers with a priority, ranked by custfocus.improvement_opportunities'' rule';
REVOKE ALL ON FUNCTION custfocus.opportunities_rank(custfocus.report_key_drivers[]) FROM PUBLIC;

-- Only the rows whose rank or figures changed are written: a commit that
-- publishes one service moves the ranks between its rows' old and new
-- places, not every row (rewriting them all left as many dead rows per
-- commit as the agency has key drivers).
CREATE FUNCTION custfocus.report_opportunities_refresh() RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	WITH n AS MATERIALIZED (
		SELECT * FROM custfocus.opportunities_rank(ARRAY(SELECT f FROM custfocus.report_key_drivers f))
	),
	gone AS (
		DELETE FROM custfocus.report_opportunities r
		 WHERE NOT EXISTS (SELECT FROM n WHERE n.service_id = r.service_id AND n.survey_id = r.survey_id
							  AND n.requirement_id = r.requirement_id)
	),
	moved AS (
		UPDATE custfocus.report_opportunities r
		   SET rank = n.rank, n = n.n, importance = n.importance, importance_source = n.importance_source,
			   performance = n.performance, gap = n.gap, priority = n.priority, quadrant = n.quadrant
		  FROM n
		 WHERE n.service_id = r.service_id AND n.survey_id = r.survey_id AND n.requirement_id = r.requirement_id
		   AND (r.rank, r.n, r.importance, r.importance_source, r.performance, r.gap, r.priority, r.quadrant)
			   IS DISTINCT FROM (n.rank, n.n, n.importance, n.importance_source, n.performance, n.gap, n.priority,
								 n.quadrant)
	)
	INSERT INTO custfocus.report_opportunities
	SELECT n.* FROM n
	 WHERE NOT EXISTS (SELECT FROM custfocus.report_opportunities r
						WHERE r.service_id = n.service_id AND r.survey_id = n.survey_id
						  AND r.requirement_id = n.requirement_id);
$$;
COMMENT ON FUNCTION custfocus.report_opportunities_refresh() IS
'Ranks the published key drivers again (report_opportunities); called by report_refresh, under its lock';
REVOKE ALL ON FUNCTION custfocus.report_opportunities_refresh() FROM PUBLIC;

-- Key drivers and importance-performance analysis, over a window of the
-- latest 12 months of each service's data in each survey, read from the
-- item roll-up (rollup_item_month) rather than from the answers.
--
-- Rules a reader can recompute from the raw data:
--   * the window is the 12 months of the reporting time zone ending with the
--     latest month in which respondents of the service answered one of the
--     survey's requirement items (window_start is the first day of its first
--     month, window_end the last day of its last);
--   * performance is the weighted linear mean (0..100, reverse-coded items
--     flipped) of every answer to the requirement's items in the window;
--     it is not shown when a measure of the requirement (or of its only
--     item with answers at the service in the window) at the service has a
--     hidden period inside the window, or shows
--     periods inside it that leave fewer than custfocus.min_responses()
--     answers of the window (but some) outside them;
--   * derived importance is 100 times Pearson's r (unweighted) between those
--     answers and the same respondent's answer to the survey's overall item,
--     over every respondent who answered both (pairwise deletion), negative
--     r counting as 0; with fewer than custfocus.min_responses() pairs it is
--     not shown and the stated importance (service_requirement, else
--     requirement) stands in;
--   * the crosshairs are the means of the importance and performance of the
--     service's plotted requirements (both shown) in the survey, and a value
--     equal to a crosshair (to 1e-9 relative) counts as high.
-- Computed per service (of every service, or of the given ones), and
-- published per service at commit like the scorecard (report_refresh).
CREATE FUNCTION custfocus.key_drivers_compute(p_services integer[] DEFAULT NULL)
RETURNS SETOF custfocus.report_key_drivers
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
WITH w AS MATERIALIZED (
	-- each service's window in each survey: the 12 months up to its last
	-- month with answers to a requirement item (the overall item excepted)
	SELECT l.service_id, li.survey_id, (max(l.month) - interval '11 months')::date AS window_start,
		   (max(l.month) + interval '1 month' - interval '1 day')::date AS window_end
	  FROM custfocus.rollup_item_month l
	  JOIN custfocus.item li ON li.item_id = l.item_id AND li.requirement_id IS NOT NULL AND NOT li.is_overall
	 WHERE p_services IS NULL OR l.service_id = ANY (p_services)
	 GROUP BY l.service_id, li.survey_id
),
m AS MATERIALIZED (
			-- the states of each requirement's items merged over the window
			-- (one probe of the roll-up per service and item, fenced: with
			-- the window a lateral subquery of the join, a misestimate after
			-- a VACUUM had the planner compute the window again for every
			-- row of the service's roll-up, 70 s instead of 0.1)
			SELECT p.code AS program_code, s.service_id, s.code AS service_code, sv.survey_id, sv.code AS survey_code,
				   i.requirement_id, w.window_start, w.window_end,
				   custfocus.moments_sum(d.perf) AS perf, custfocus.pairs_sum(d.pairs) AS pairs
			  FROM w
			  JOIN custfocus.service s ON s.service_id = w.service_id
			  JOIN custfocus.program p ON p.program_id = s.program_id
			  JOIN custfocus.survey sv ON sv.survey_id = w.survey_id
			  JOIN custfocus.item i ON i.survey_id = w.survey_id AND i.requirement_id IS NOT NULL AND NOT i.is_overall
			 CROSS JOIN LATERAL (SELECT d.perf, d.pairs FROM custfocus.rollup_item_month d
								  WHERE d.service_id = w.service_id AND d.item_id = i.item_id
									AND d.month >= w.window_start AND d.month <= w.window_end OFFSET 0) d
			 GROUP BY p.code, s.service_id, s.code, sv.survey_id, sv.code, i.requirement_id, w.window_start, w.window_end
),
-- The service's model in each survey over the same window, once per
-- (service, survey): Johnson's relative weights of the requirements'
-- items (the drivers) for the overall item, and Cronbach's alpha of the
-- drivers, from the pairs roll-up merged over the window (pairwise
-- deletion); the drivers are the requirement items with answers in the
-- window, as the rows above.  (Materialized: computed once per service
-- and survey, not once per requirement row joined to it.)
model AS MATERIALIZED (
	SELECT w.service_id, w.survey_id, (rw).n AS model_n, (rw).r2 AS model_r2, (al).alpha AS drivers_alpha,
		   w.drivers, w.requirements, (rw).shares AS shares
	  FROM (SELECT DISTINCT m.service_id, m.survey_id, m.window_start, m.window_end FROM m) w0
	 CROSS JOIN LATERAL (
			SELECT w0.service_id, w0.survey_id,
				   array_agg(i.item_id ORDER BY i.item_id) AS drivers,
				   array_agg(i.requirement_id ORDER BY i.item_id) AS requirements,
				   (SELECT min(o.item_id) FROM custfocus.item o WHERE o.survey_id = w0.survey_id AND o.is_overall) AS outcome,
				   (SELECT custfocus.pairwise_sum(pm.state) FROM custfocus.rollup_pairs_month pm
					 WHERE pm.service_id = w0.service_id AND pm.survey_id = w0.survey_id
					   AND pm.month >= w0.window_start AND pm.month <= w0.window_end) AS state
			  FROM custfocus.item i
			 WHERE i.survey_id = w0.survey_id AND i.requirement_id IS NOT NULL AND NOT i.is_overall
			   AND EXISTS (SELECT FROM custfocus.rollup_item_month d
							WHERE d.service_id = w0.service_id AND d.item_id = i.item_id
							  AND d.month >= w0.window_start AND d.month <= w0.window_end AND d.n > 0)) w
	 CROSS JOIN LATERAL (SELECT custfocus.pairwise_relative_weights(w.state, w.outcome, w.drivers) AS rw,
								custfocus.pairwise_alpha(w.state, w.drivers) AS al OFFSET 0) r
	 WHERE w.drivers IS NOT NULL AND w.state IS NOT NULL AND w.outcome IS NOT NULL
)
SELECT x.service_id, x.survey_id, x.requirement_id,
	   x.window_start, x.window_end, x.n,
	   CASE WHEN x.pairs_n >= x.min_n THEN x.r END AS correlation,
	   x.derived AS derived_importance, x.stated AS stated_importance, x.importance,
	   CASE WHEN x.derived IS NOT NULL THEN 'derived' WHEN x.stated IS NOT NULL THEN 'stated' END AS importance_source,
	   x.performance, x.importance - x.performance AS gap, x.importance * (x.importance - x.performance) AS priority,
	   CASE WHEN x.importance IS NULL OR x.performance IS NULL THEN NULL
			WHEN x.importance >= x.imp_low AND x.performance < x.perf_low THEN 'Concentrate here'
			WHEN x.importance >= x.imp_low THEN 'Keep up the good work'
			WHEN x.performance < x.perf_low THEN 'Low priority'
			ELSE 'Possible overkill' END AS quadrant,
	   x.n < x.min_n OR (x.pairs_n > 0 AND x.pairs_n < x.min_n) OR x.exposed AS suppressed,
	   CASE WHEN x.model_n >= x.min_n THEN 100 * x.share END AS relative_importance,
	   CASE WHEN x.model_n >= x.min_n THEN x.model_r2 END AS model_r2,
	   x.model_n,
	   CASE WHEN x.model_n >= x.min_n THEN x.drivers_alpha END AS drivers_alpha
  FROM (
	-- a value on a crosshair counts as high, and "on" means within 1e-9 of
	-- it (relative): a mean equal to one of the values it averages may come
	-- out a rounding error above or below it, depending on the order the
	-- roll-up merged its states in
	SELECT c.*, c.imp_mid - 1e-9 * greatest(abs(c.imp_mid), 1) AS imp_low,
		   c.perf_mid - 1e-9 * greatest(abs(c.perf_mid), 1) AS perf_low
	  FROM (
	SELECT b.*,
		   avg(b.importance) FILTER (WHERE b.importance IS NOT NULL AND b.performance IS NOT NULL) OVER w AS imp_mid,
		   avg(b.performance) FILTER (WHERE b.importance IS NOT NULL AND b.performance IS NOT NULL) OVER w AS perf_mid
	  FROM (
		SELECT m.program_code, m.service_id, m.service_code, m.survey_id, m.survey_code,
			   m.requirement_id, m.window_start, m.window_end,
			   (lm_r).n, c.pairs_n, c.r, v.min_n,
			   CASE WHEN c.pairs_n >= v.min_n AND c.r IS NOT NULL THEN 100 * greatest(c.r, 0) END AS derived,
			   coalesce(sr.importance, rq.importance) AS stated,
			   coalesce(CASE WHEN c.pairs_n >= v.min_n AND c.r IS NOT NULL THEN 100 * greatest(c.r, 0) END,
						sr.importance, rq.importance) AS importance,
			   CASE WHEN (lm_r).n >= v.min_n AND NOT coalesce(ex.exposed, false) THEN (lm_r).mean END AS performance,
			   coalesce(ex.exposed, false) AS exposed,
			   md.model_n, md.model_r2, md.drivers_alpha,
			   (SELECT sum(md.shares[o.k]) FROM unnest(md.requirements) WITH ORDINALITY AS o (requirement_id, k)
				 WHERE o.requirement_id = m.requirement_id) AS share
		  FROM m
		  LEFT JOIN model md ON md.service_id = m.service_id AND md.survey_id = m.survey_id
		 -- each result computed once (see the scorecard)
		 CROSS JOIN LATERAL custfocus.linear_mean_stats_final(m.perf) AS lm_r
		 CROSS JOIN LATERAL (SELECT m.pairs[1]::bigint AS pairs_n, custfocus.pairs_corr(m.pairs) AS r OFFSET 0) c
		  JOIN custfocus.requirement rq ON rq.requirement_id = m.requirement_id
		  LEFT JOIN custfocus.service_requirement sr ON sr.service_id = m.service_id AND sr.requirement_id = m.requirement_id
		 CROSS JOIN (SELECT custfocus.min_responses() AS min_n OFFSET 0) v
		 -- The window is a sum of months: a measure of the requirement (or
		 -- of its only item) at the service shows some of them, and the
		 -- window minus the shown periods inside it is the rest.  The
		 -- performance is not shown when that rest is a small group, or a
		 -- period inside the window is hidden (the window would give it
		 -- back): complementary suppression, which the windows, across
		 -- years, are not cells of.  (A review recovered a hidden month as
		 -- n x performance minus the measure's other months.)
		 LEFT JOIN LATERAL (
			SELECT bool_or(e.exposed) AS exposed
			  FROM (SELECT bool_or(q.n > 0 AND NOT q.shown)
						   OR ((lm_r).n - coalesce(sum(q.n) FILTER (WHERE q.shown), 0)) BETWEEN 1 AND v.min_n - 1 AS exposed
					  FROM custfocus.measure mm
					  JOIN custfocus.service ms ON ms.service_id = mm.service_id
					 CROSS JOIN LATERAL (
							SELECT date_trunc(mm.period, r.month)::date AS period_start, sum(r.n) AS n
							  FROM custfocus.rollup_item_month r
							  JOIN custfocus.item ri ON ri.item_id = r.item_id
							 WHERE r.service_id = mm.service_id
							   AND (ri.requirement_id = mm.requirement_id OR ri.item_id = mm.item_id)
							 GROUP BY 1) qp
					 CROSS JOIN LATERAL (
							SELECT qp.n, qp.n >= v.min_n
										 AND NOT EXISTS (SELECT FROM custfocus.rollup_hidden_measure h
														  WHERE h.node = CASE WHEN mm.item_id IS NOT NULL THEN 'item' ELSE 'requirement' END
															AND h.node_id = coalesce(mm.item_id, mm.requirement_id)
															AND h.program_id = ms.program_id AND h.unit_service_id = mm.service_id
															AND h.grain = mm.period AND h.period_start = qp.period_start) AS shown) q
					 WHERE mm.active AND mm.metric <> 'response_count' AND mm.service_id = m.service_id
					   AND (mm.requirement_id = m.requirement_id
							-- (the only item with answers in the window: an
							-- item without any leaves the window the
							-- measured item's answers; found by a review.
							-- An item of the requirement first: the count
							-- is the costly part, 80 ms of the benchmark's
							-- publication when asked of every measure.)
							OR EXISTS (SELECT FROM custfocus.item gi
										WHERE gi.item_id = mm.item_id AND gi.requirement_id = m.requirement_id)
							   AND mm.item_id = (SELECT min(oi.item_id) FROM custfocus.item oi
											  WHERE oi.requirement_id = m.requirement_id
												AND EXISTS (SELECT FROM custfocus.rollup_item_month wi
															 WHERE wi.service_id = m.service_id AND wi.item_id = oi.item_id
															   AND wi.month >= m.window_start AND wi.month <= m.window_end
															   AND wi.n > 0)
											 HAVING count(*) = 1))
					   AND qp.period_start >= m.window_start
					   AND (qp.period_start + CASE mm.period WHEN 'month' THEN interval '1 month'
														   WHEN 'quarter' THEN interval '3 months'
														   ELSE interval '1 year' END
							- interval '1 day')::date <= m.window_end
					 GROUP BY mm.measure_id) e
		 ) ex ON true
	  ) b
	WINDOW w AS (PARTITION BY b.program_code, b.service_id, b.service_code, b.survey_id, b.survey_code)
	  ) c
  ) x
$$;
COMMENT ON FUNCTION custfocus.key_drivers_compute(integer[]) IS
'The key drivers computed from the roll-ups, at the session''s threshold: of every service, or of the given services';
REVOKE ALL ON FUNCTION custfocus.key_drivers_compute(integer[]) FROM PUBLIC;

CREATE FUNCTION custfocus.key_drivers_live_rows(p_role name)
RETURNS SETOF custfocus.report_key_drivers
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.check_role_asked(p_role);
	IF custfocus.sees_all_programs(p_role) THEN
		RETURN QUERY SELECT * FROM custfocus.key_drivers_compute();
	ELSE
		RETURN QUERY SELECT * FROM custfocus.key_drivers_compute(coalesce(custfocus.visible_service_ids(p_role), '{}'));
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.key_drivers_live_rows(name) IS
'The key drivers of the services the role may see, computed at read time (what custfocus.key_drivers reads when the published figures are not the session''s)';
REVOKE ALL ON FUNCTION custfocus.key_drivers_live_rows(name) FROM PUBLIC;

CREATE TABLE custfocus.report_measure_status (
	measure_id	integer NOT NULL,
	program_id	integer NOT NULL,
	service_id	integer,
	measure_code	text,
	measure_name	text,
	metric	text,
	period	text,
	period_start	date NOT NULL,
	period_label	text,
	n	bigint,
	actual	double precision,
	target	double precision,
	direction	text,
	met	boolean,
	distance_to_target	double precision,
	previous_actual	double precision,
	change	double precision,
	trend	text,
	trend_slope	double precision,
	baseline	double precision,
	suppressed	boolean,
	in_box	bigint,
	PRIMARY KEY (measure_id, period_start)
);
-- what BI filters measures on
CREATE INDEX report_measure_status_code_idx ON custfocus.report_measure_status (measure_code);
CREATE INDEX report_measure_status_program_idx ON custfocus.report_measure_status (program_id);
COMMENT ON TABLE custfocus.report_measure_status IS
'The performance measures'' figures per measure and period, at the agency''s floor, as published by the last commit that changed them; the view custfocus.measure_status adds the program''s and service''s codes; derived data, kept at commit, not dumped';
COMMENT ON COLUMN custfocus.report_measure_status.measure_id IS 'The measure';
COMMENT ON COLUMN custfocus.report_measure_status.program_id IS 'The program of the measure''s scope: its program, or its service''s';
COMMENT ON COLUMN custfocus.report_measure_status.service_id IS 'The measure''s service (NULL for a program''s measure)';
COMMENT ON COLUMN custfocus.report_measure_status.measure_code IS 'As custfocus.measure_status.measure_code';
COMMENT ON COLUMN custfocus.report_measure_status.measure_name IS 'As custfocus.measure_status.measure_name';
COMMENT ON COLUMN custfocus.report_measure_status.metric IS 'As custfocus.measure_status.metric';
COMMENT ON COLUMN custfocus.report_measure_status.period IS 'As custfocus.measure_status.period';
COMMENT ON COLUMN custfocus.report_measure_status.period_start IS 'As custfocus.measure_status.period_start';
COMMENT ON COLUMN custfocus.report_measure_status.period_label IS 'As custfocus.measure_status.period_label';
COMMENT ON COLUMN custfocus.report_measure_status.n IS 'As custfocus.measure_status.n';
COMMENT ON COLUMN custfocus.report_measure_status.actual IS 'As custfocus.measure_status.actual';
COMMENT ON COLUMN custfocus.report_measure_status.target IS 'As custfocus.measure_status.target';
COMMENT ON COLUMN custfocus.report_measure_status.direction IS 'As custfocus.measure_status.direction';
COMMENT ON COLUMN custfocus.report_measure_status.met IS 'As custfocus.measure_status.met';
COMMENT ON COLUMN custfocus.report_measure_status.distance_to_target IS 'As custfocus.measure_status.distance_to_target';
COMMENT ON COLUMN custfocus.report_measure_status.previous_actual IS 'As custfocus.measure_status.previous_actual';
COMMENT ON COLUMN custfocus.report_measure_status.change IS 'As custfocus.measure_status.change';
COMMENT ON COLUMN custfocus.report_measure_status.trend IS 'As custfocus.measure_status.trend';
COMMENT ON COLUMN custfocus.report_measure_status.trend_slope IS 'As custfocus.measure_status.trend_slope';
COMMENT ON COLUMN custfocus.report_measure_status.baseline IS 'As custfocus.measure_status.baseline';
COMMENT ON COLUMN custfocus.report_measure_status.suppressed IS 'As custfocus.measure_status.suppressed';
COMMENT ON COLUMN custfocus.report_measure_status.in_box IS 'As custfocus.measure_status.in_box';
REVOKE ALL ON custfocus.report_measure_status FROM PUBLIC;
ALTER TABLE custfocus.report_measure_status ENABLE ROW LEVEL SECURITY;

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
-- Computed per measure (of every active measure, or of the given ones),
-- and published per measure at commit like the scorecard (report_refresh).
CREATE FUNCTION custfocus.measure_status_compute(p_measures integer[] DEFAULT NULL)
RETURNS SETOF custfocus.report_measure_status
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT z.measure_id, z.scope_program_id, nullif(z.scope_unit, 0), z.code AS measure_code, z.name AS measure_name,
	   z.metric, z.period,
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
				   AND (p_measures IS NULL OR m.measure_id = ANY (p_measures))
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
				   AND (p_measures IS NULL OR m.measure_id = ANY (p_measures))
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
$$;
COMMENT ON FUNCTION custfocus.measure_status_compute(integer[]) IS
'The performance measures'' figures computed from the roll-ups, at the session''s threshold: of every active measure, or of the given measures';
REVOKE ALL ON FUNCTION custfocus.measure_status_compute(integer[]) FROM PUBLIC;

CREATE FUNCTION custfocus.measure_status_live_rows(p_role name)
RETURNS SETOF custfocus.report_measure_status
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.check_role_asked(p_role);
	IF custfocus.sees_all_programs(p_role) THEN
		RETURN QUERY SELECT * FROM custfocus.measure_status_compute();
	ELSE
		RETURN QUERY
		SELECT * FROM custfocus.measure_status_compute(ARRAY(
			SELECT m.measure_id FROM custfocus.measure m LEFT JOIN custfocus.service s ON s.service_id = m.service_id
			 WHERE coalesce(m.program_id, s.program_id) = ANY (custfocus.visible_program_ids(p_role))));
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.measure_status_live_rows(name) IS
'The performance measures of the programs the role may see, computed at read time (what custfocus.measure_status reads when the published figures are not the session''s)';
REVOKE ALL ON FUNCTION custfocus.measure_status_live_rows(name) FROM PUBLIC;

CREATE TABLE custfocus.report_themes (
	service_id	integer NOT NULL,
	term		text NOT NULL,
	documents	bigint NOT NULL,
	feedback_documents bigint NOT NULL,
	answer_documents bigint NOT NULL,
	service_documents bigint NOT NULL,
	rank		integer NOT NULL,
	example		text,
	PRIMARY KEY (service_id, rank)
);
COMMENT ON TABLE custfocus.report_themes IS
'The 20 top terms of each service''s documents, whatever their number of documents (the view applies the floor), as published by the last commit that changed the service''s feedback or free-text answers; derived data, kept at commit, not dumped';
COMMENT ON COLUMN custfocus.report_themes.service_id IS 'The service';
COMMENT ON COLUMN custfocus.report_themes.term IS 'As custfocus.voc_themes.term';
COMMENT ON COLUMN custfocus.report_themes.documents IS 'As custfocus.voc_themes.documents';
COMMENT ON COLUMN custfocus.report_themes.feedback_documents IS 'As custfocus.voc_themes.feedback_documents';
COMMENT ON COLUMN custfocus.report_themes.answer_documents IS 'As custfocus.voc_themes.answer_documents';
COMMENT ON COLUMN custfocus.report_themes.service_documents IS 'The service''s documents (feedback bodies and free-text answers)';
COMMENT ON COLUMN custfocus.report_themes.rank IS 'As custfocus.voc_themes.rank';
COMMENT ON COLUMN custfocus.report_themes.example IS 'As custfocus.voc_themes.example';
REVOKE ALL ON custfocus.report_themes FROM PUBLIC;
ALTER TABLE custfocus.report_themes ENABLE ROW LEVEL SECURITY;

-- Themes: the lexemes (English stemming, stop words removed) that occur in
-- the most feedback bodies and free-text answers of a service.  A term is
-- shown only when it occurs in custfocus.min_responses() documents or more,
-- so a rare word cannot point at one respondent; the floor is applied in
-- the view, so nothing below it leaves (the 20 top terms of all are
-- published: those at or above the floor rank as they would among
-- themselves, since a term below it has fewer documents).  Ties in
-- documents rank in term order.  The free-text answers are found through
-- answer_text_idx, a partial index of the answers that have a text (a small
-- share of them), rather than by reading every answer: per service, its
-- responses (response index by service) and their text answers; read whole,
-- the partial index.  Computed per service, and published at commit for
-- the services whose documents changed (theme triggers below).  PL/pgSQL:
-- on Citus it reads distributed tables, and Citus plans no parameters of
-- SQL functions.  No nested loops: at the commit of a large import the
-- statistics of response and answer may still say "empty" (an ANALYZE that
-- ran before the import's rows were visible), and a nested loop over the
-- text answers' partial index for every response then fetched billions of
-- rows (CI: 17 minutes for 100,000 responses; hash joins take a second).
-- (Like rollup_hidden_compute.)  And no JIT: the nested loop it cannot
-- avoid (each document's terms) is priced at the planner's disable cost,
-- far above jit_above_cost, and compiling the plan took 350 ms at every
-- commit that touched one feedback.
-- A percent is shown to one decimal, 0.0 to 100.0: numeric(4,1).
CREATE FUNCTION custfocus.voc_themes_compute(p_services integer[] DEFAULT NULL)
RETURNS SETOF custfocus.report_themes
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_nestloop = off
SET jit = off
AS $$
BEGIN
RETURN QUERY
SELECT x.service_id, x.lexeme, x.documents, x.feedback_documents, x.answer_documents, x.service_documents,
	   x.rnk, x.example
  FROM (
	SELECT c.*, rank() OVER (PARTITION BY c.service_id, c.program_code, c.service_code
							 ORDER BY c.documents DESC, c.lexeme)::integer AS rnk
	  FROM (
		SELECT d.service_id, d.program_code, d.service_code, t.lexeme, count(*) AS documents,
			   count(*) FILTER (WHERE d.source = 'feedback') AS feedback_documents,
			   count(*) FILTER (WHERE d.source = 'answer') AS answer_documents,
			   min(d.txt) AS example, max(d.service_documents) AS service_documents
		  FROM (
			SELECT doc.*, count(*) OVER (PARTITION BY doc.service_id, doc.program_code, doc.service_code)
						  AS service_documents
			  FROM (
				SELECT s.service_id, p.code AS program_code, s.code AS service_code,
					   'feedback' AS source, f.body AS txt
				  FROM custfocus.service s
				  JOIN custfocus.program p ON p.program_id = s.program_id
				  JOIN custfocus.feedback f ON f.service_id = s.service_id
				 WHERE p_services IS NULL OR s.service_id = ANY (p_services)
				UNION ALL
				SELECT s.service_id, p.code, s.code, 'answer', a.text_value
				  FROM custfocus.service s
				  JOIN custfocus.program p ON p.program_id = s.program_id
				  JOIN custfocus.response r ON r.service_id = s.service_id
				  JOIN custfocus.answer a ON a.response_id = r.response_id
				 WHERE a.text_value IS NOT NULL AND (p_services IS NULL OR s.service_id = ANY (p_services))
			  ) doc
		  ) d
		 CROSS JOIN LATERAL unnest(pg_catalog.tsvector_to_array(
				pg_catalog.to_tsvector('pg_catalog.english'::regconfig, d.txt))) AS t (lexeme)
		 GROUP BY d.service_id, d.program_code, d.service_code, t.lexeme
	  ) c
  ) x
 WHERE x.rnk <= 20;
END
$$;
COMMENT ON FUNCTION custfocus.voc_themes_compute(integer[]) IS
'The 20 top terms of every service, or of the given services, whatever their documents (the floor applies when the view reads them)';
REVOKE ALL ON FUNCTION custfocus.voc_themes_compute(integer[]) FROM PUBLIC;

CREATE FUNCTION custfocus.voc_themes_live_rows(p_role name)
RETURNS SETOF custfocus.report_themes
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM custfocus.check_role_asked(p_role);
	IF custfocus.sees_all_programs(p_role) THEN
		RETURN QUERY SELECT * FROM custfocus.voc_themes_compute();
	ELSE
		RETURN QUERY SELECT * FROM custfocus.voc_themes_compute(coalesce(custfocus.visible_service_ids(p_role), '{}'));
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.voc_themes_live_rows(name) IS
'The themes of the services the role may see, computed at read time (what custfocus.voc_themes reads when the published themes are not the session''s)';
REVOKE ALL ON FUNCTION custfocus.voc_themes_live_rows(name) FROM PUBLIC;

-- (custfocus.live_reports, the setting, read through a function: see
-- session_min_responses)
CREATE FUNCTION custfocus.live_reports() RETURNS boolean
AS 'MODULE_PATHNAME', 'live_reports'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.live_reports() IS
'Value of the custfocus.live_reports setting of the session: whether the published views (scorecard, trend, key drivers, measures, themes) are computed at read time rather than read as published';

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
		   -- nor of a commit's, waiting for the publisher
		   AND NOT EXISTS (SELECT FROM custfocus.report_stale)
$$;
COMMENT ON FUNCTION custfocus.report_published() IS
'Whether custfocus.scorecard, satisfaction_trend, key_drivers, measure_status and voc_themes (and the views reading them) read the figures published at the last commit (true) or compute them at read time: custfocus.live_reports is off, the session asks for no threshold above the agency''s floor, the transaction has no changes of answers yet to commit, and no commit''s changes wait to be published (report_stale)';

-- Publishes the figures of the units the given services count for and of
-- the given units (pairs; 0 as the unit service of a program roll-up), all
-- periods, the key drivers of those services and of the units' services,
-- and the measures whose scope they are in, at the agency's floor (custfocus.min_responses set to 0 for the
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
	v_m integer[];
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
	-- the key drivers of the services, and of the services of the units
	-- given (whose complementary cells of measures changed)
	v_s := ARRAY(SELECT x FROM unnest(p_services) AS x
				 UNION
				 SELECT x FROM unnest(p_unit_services) AS x WHERE x <> 0);
	IF cardinality(v_s) > 0 THEN
		DELETE FROM custfocus.report_key_drivers r WHERE r.service_id = ANY (v_s);
		INSERT INTO custfocus.report_key_drivers SELECT * FROM custfocus.key_drivers_compute(v_s);
	END IF;
	-- the measures whose scope the services count for (a service's, or a
	-- program's above them), and those of the units given
	-- (the programs looked up first: on Citus a statement may not join the
	-- coordinator's tables, as report_unit, to Citus tables, as measure)
	v_p := ARRAY(SELECT u.program_id FROM custfocus.report_unit u
				  WHERE u.service_id = ANY (p_services) AND u.level = 'program');
	v_m := ARRAY(SELECT m.measure_id FROM custfocus.measure m
				   LEFT JOIN custfocus.service ms ON ms.service_id = m.service_id
				  WHERE m.service_id = ANY (p_services) OR m.program_id = ANY (v_p)
					 OR (coalesce(m.program_id, ms.program_id), coalesce(m.service_id, 0))
						IN (SELECT x.p, x.s FROM unnest(p_unit_programs, p_unit_services) AS x (p, s)));
	IF cardinality(v_m) > 0 THEN
		DELETE FROM custfocus.report_measure_status r WHERE r.measure_id = ANY (v_m);
		INSERT INTO custfocus.report_measure_status SELECT * FROM custfocus.measure_status_compute(v_m);
	END IF;
	-- units that no longer exist (the program tree changed)
	DELETE FROM custfocus.report_scorecard r
	 WHERE NOT EXISTS (SELECT FROM custfocus.report_unit u
						WHERE u.program_id = r.program_id AND u.unit_service_id = r.unit_service_id);
	DELETE FROM custfocus.report_trend r
	 WHERE NOT EXISTS (SELECT FROM custfocus.report_unit u
						WHERE u.program_id = r.program_id AND u.unit_service_id = r.unit_service_id);
	-- services and measures that no longer exist (or are no longer active),
	-- looked up first (see above)
	v_s := ARRAY(SELECT s.service_id FROM custfocus.service s);
	DELETE FROM custfocus.report_key_drivers r WHERE NOT (r.service_id = ANY (v_s));
	v_m := ARRAY(SELECT m.measure_id FROM custfocus.measure m WHERE m.active);
	DELETE FROM custfocus.report_measure_status r WHERE NOT (r.measure_id = ANY (v_m));
	-- the opportunities' ranks are over every service's key drivers
	PERFORM custfocus.report_opportunities_refresh();
END
$$;
COMMENT ON FUNCTION custfocus.report_refresh(integer[], integer[], integer[]) IS
'Publishes again, at the agency''s floor, the scorecard and trend figures of the units the given services count for and of the given units, the key drivers of the given services and of the given units'' services (and the opportunities'' ranks), and the measures of their scopes (at commit)';
REVOKE ALL ON FUNCTION custfocus.report_refresh(integer[], integer[], integer[]) FROM PUBLIC;

CREATE FUNCTION custfocus.publish_after_commit() RETURNS boolean
AS 'MODULE_PATHNAME', 'publish_after_commit'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION custfocus.publish_after_commit() IS
'Whether this session''s commits leave the publication of the figures they changed to a background worker: the custfocus.publish_after_commit setting, and (PostgreSQL 15 and 16) an extension owner that may log in, as the worker does';

CREATE FUNCTION custfocus.report_publish_request(p_now boolean DEFAULT false) RETURNS boolean
AS 'MODULE_PATHNAME', 'report_publish_request'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION custfocus.report_publish_request(boolean) IS
'Starts a publisher (a background worker that calls report_publish_pending as the extension''s owner) when the transaction commits, or at once (p_now: for listings already committed); false when it could not start one at once';
REVOKE ALL ON FUNCTION custfocus.report_publish_request(boolean) FROM PUBLIC;

-- What the commit (rollup_commit_compact) does with the figures it changed,
-- under the publication lock: publishes them (custfocus.publish_after_commit
-- off), or lists them for a publisher, which starts once the commit is
-- visible.  One publisher at work takes every listing committed before it
-- gets the lock (report_publish_pending), so a commit asks for none while
-- one of this database is at work: commits closer together than a
-- publication lasts (a web form saving answers one by one) would otherwise
-- each start a worker, and run out of max_worker_processes' slots.  Safe
-- because the commit holds the lock here: a publisher seen at work (state
-- active, which it leaves before its commit releases the lock, see
-- src/publish.c) cannot have taken the listings yet, and takes this one
-- with them once this commit releases the lock.  A worker registered but
-- not yet at work is not seen: then one more starts (harmless).
CREATE FUNCTION custfocus.report_publish(p_services integer[], p_unit_programs integer[] DEFAULT NULL,
										 p_unit_services integer[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF custfocus.publish_after_commit() THEN
		INSERT INTO custfocus.report_stale VALUES (p_services, p_unit_programs, p_unit_services);
		PERFORM pg_stat_clear_snapshot();   -- the workers as they are now
		IF NOT EXISTS (SELECT FROM pg_stat_activity a
						WHERE a.backend_type = 'custfocus publisher' AND a.state = 'active'
						  AND a.datid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())) THEN
			PERFORM custfocus.report_publish_request();
		END IF;
	ELSE
		PERFORM custfocus.report_refresh(p_services, p_unit_programs, p_unit_services);
	END IF;
END
$$;
COMMENT ON FUNCTION custfocus.report_publish(integer[], integer[], integer[]) IS
'At commit: publishes the figures of the given services and units (custfocus.publish_after_commit off), or lists them in report_stale for the publisher that starts after the commit';
REVOKE ALL ON FUNCTION custfocus.report_publish(integer[], integer[], integer[]) FROM PUBLIC;

-- Publishes everything listed in report_stale by commits visible once it
-- holds the publication lock, at once (one publication at a time; a
-- publisher started by a later commit waits here and then may find the
-- rows gone).  The lock first, always, then the listings in a snapshot
-- taken after it: a commit that saw this publisher at work asked for no
-- other (report_publish), so it must take that commit's listing.  Returns
-- how many listings it published.  The background worker calls it after
-- each commit that listed something; an admin may call it to publish what
-- a worker could not (no free slot), and report_verify calls it first.
CREATE FUNCTION custfocus.report_publish_pending() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
	v_n integer;
	v_services integer[];
	v_programs integer[];
	v_units integer[];
BEGIN
	PERFORM 1 FROM custfocus.report_state s WHERE s.id FOR UPDATE;
	WITH gone AS (
		DELETE FROM custfocus.report_stale RETURNING *
	)
	SELECT (SELECT count(*) FROM gone),
		   ARRAY(SELECT DISTINCT x FROM gone g CROSS JOIN LATERAL unnest(g.services) AS x),
		   u.p, u.s
	  INTO v_n, v_services, v_programs, v_units
	  FROM (SELECT array_agg(k.p ORDER BY k.p, k.s) AS p, array_agg(k.s ORDER BY k.p, k.s) AS s
			  FROM (SELECT DISTINCT x.p, x.s FROM gone g
					 CROSS JOIN LATERAL unnest(g.unit_programs, g.unit_services) AS x (p, s)
					 WHERE x.p IS NOT NULL) k) u;
	IF v_n > 0 THEN
		PERFORM custfocus.report_refresh(v_services, v_programs, v_units);
	END IF;
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION custfocus.report_publish_pending() IS
'Publishes the figures that committed transactions listed in report_stale (what the publisher, a background worker, runs after such a commit); returns the number of listings published, 0 when nothing waited';
REVOKE ALL ON FUNCTION custfocus.report_publish_pending() FROM PUBLIC;

-- Waits until no commit's figures wait for the publisher (each check in a
-- snapshot of its own under READ COMMITTED; under REPEATABLE READ or
-- SERIALIZABLE the transaction's snapshot cannot change, so it answers at
-- once): for a job that wants the views to read published figures when it
-- ends (an import script before a BI refresh), and for tests.  Listings
-- that no publisher is at work on it does not wait for in vain: it starts
-- one.  Nothing it tells is hidden: the views' plans show as much.
CREATE FUNCTION custfocus.report_wait(p_timeout interval DEFAULT interval '30 seconds') RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_until timestamptz := clock_timestamp() + p_timeout;
	-- (a second's grace: a worker the last commit registered is not
	-- listed in pg_stat_activity until it has started)
	v_next_check timestamptz := clock_timestamp() + interval '1 second';
BEGIN
	IF p_timeout IS NULL OR p_timeout < interval '0' THEN
		RAISE EXCEPTION 'timeout must be an interval of zero or more, not %', coalesce(p_timeout::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass how long to wait at most, e.g. interval ''30 seconds''.';
	END IF;
	LOOP
		IF NOT EXISTS (SELECT FROM custfocus.report_stale) THEN
			RETURN true;
		END IF;
		IF clock_timestamp() >= v_until OR current_setting('transaction_isolation') <> 'read committed' THEN
			RETURN false;
		END IF;
		-- listings no publisher is at work on (its commit found no free
		-- slot, was prepared for two-phase commit, or its worker failed or
		-- was lost in a restart): start one, and again each second while so
		IF clock_timestamp() >= v_next_check THEN
			PERFORM pg_stat_clear_snapshot();
			IF NOT EXISTS (SELECT FROM pg_stat_activity a
							WHERE a.backend_type = 'custfocus publisher'
							  AND a.datid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())) THEN
				PERFORM custfocus.report_publish_request(true);
			END IF;
			v_next_check := clock_timestamp() + interval '1 second';
		END IF;
		PERFORM pg_sleep(0.01);
	END LOOP;
END
$$;
COMMENT ON FUNCTION custfocus.report_wait(interval) IS
'Waits until the publisher has published every commit''s figures (nothing listed in report_stale), at most p_timeout, starting a publisher when none is at work; true when it has, false on timeout or at once under REPEATABLE READ or SERIALIZABLE (the views then still compute those figures when read)';

-- Publish the given services' figures again when the transaction commits
-- (inputs of the figures that are not answers: a requirement's stated
-- importance).  A row of rollup_pending without months: the commit
-- (rollup_commit_compact) publishes its services and recomputes nothing.
CREATE FUNCTION custfocus.report_touch(p_services integer[], p_themes_only boolean DEFAULT false) RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	-- the lock appenders hold (see rollup_units_rebuild)
	LOCK TABLE custfocus.rollup_service_month, custfocus.rollup_item_month, custfocus.rollup_unit_period
		IN ROW EXCLUSIVE MODE;
	-- NULL: every service, listed at commit (see rollup_pending.scope)
	INSERT INTO custfocus.rollup_pending (services, months, scope)
	SELECT coalesce(p_services, '{}'), '{}',
		   CASE WHEN p_themes_only THEN 'themes' WHEN p_services IS NULL THEN 'publish' ELSE 'keys' END
	 WHERE p_services IS NULL OR cardinality(p_services) > 0
$$;
COMMENT ON FUNCTION custfocus.report_touch(integer[], boolean) IS
'Asks for the given services'' figures (every service''s when NULL, listed at commit), or only their themes, to be published again when the transaction commits';
REVOKE ALL ON FUNCTION custfocus.report_touch(integer[], boolean) FROM PUBLIC;

-- Publishes the themes of the given services again (at commit, under
-- report_state, as report_refresh).  Services looked up first (Citus, see
-- report_refresh).
CREATE FUNCTION custfocus.report_themes_refresh(p_services integer[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_s integer[];
BEGIN
	-- (on Citus the themes are computed when read: see citus_voc_themes_query)
	IF custfocus.citus_distributed() THEN
		RETURN;
	END IF;
	DELETE FROM custfocus.report_themes r WHERE r.service_id = ANY (p_services);
	INSERT INTO custfocus.report_themes SELECT * FROM custfocus.voc_themes_compute(p_services);
	v_s := ARRAY(SELECT s.service_id FROM custfocus.service s);
	DELETE FROM custfocus.report_themes r WHERE NOT (r.service_id = ANY (v_s));
END
$$;
COMMENT ON FUNCTION custfocus.report_themes_refresh(integer[]) IS
'Publishes again the themes of the given services (at commit)';
REVOKE ALL ON FUNCTION custfocus.report_themes_refresh(integer[]) FROM PUBLIC;

-- The services whose documents a statement changed: feedback (its service,
-- before and after), free-text answers (their responses' services), the
-- services of responses deleted or given another service.  TRUNCATE:
-- every service.
CREATE FUNCTION custfocus.theme_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
	v_services integer[];
	v_responses bigint[];
BEGIN
	IF TG_OP = 'TRUNCATE' THEN
		v_services := ARRAY(SELECT s.service_id FROM custfocus.service s);
	ELSIF TG_TABLE_NAME = 'feedback' THEN
		IF TG_OP = 'INSERT' THEN
			v_services := ARRAY(SELECT DISTINCT n.service_id FROM new_rows n WHERE n.service_id IS NOT NULL);
		ELSIF TG_OP = 'DELETE' THEN
			v_services := ARRAY(SELECT DISTINCT o.service_id FROM old_rows o WHERE o.service_id IS NOT NULL);
		ELSE
			v_services := ARRAY(SELECT o.service_id FROM old_rows o JOIN new_rows n ON n.feedback_id = o.feedback_id
								 WHERE (o.body, o.service_id) IS DISTINCT FROM (n.body, n.service_id) AND o.service_id IS NOT NULL
								UNION
								SELECT n.service_id FROM old_rows o JOIN new_rows n ON n.feedback_id = o.feedback_id
								 WHERE (o.body, o.service_id) IS DISTINCT FROM (n.body, n.service_id) AND n.service_id IS NOT NULL);
		END IF;
	ELSIF TG_TABLE_NAME = 'answer' THEN
		-- the responses first, then their services: with the responses' ids
		-- in a sub-select of the same statement, the planner could not see
		-- how many there were, walked every response with a service and
		-- tested each against the whole array (a COPY of 500,000 answers
		-- spent 13 s here); as a variable, the array is known when the
		-- statement is planned, and the primary key is probed with it
		IF TG_OP = 'INSERT' THEN
			v_responses := ARRAY(SELECT DISTINCT n.response_id FROM new_rows n WHERE n.text_value IS NOT NULL);
		ELSIF TG_OP = 'DELETE' THEN
			v_responses := ARRAY(SELECT DISTINCT o.response_id FROM old_rows o WHERE o.text_value IS NOT NULL);
		ELSE
			v_responses := ARRAY(SELECT o.response_id FROM old_rows o
								   JOIN new_rows n ON n.response_id = o.response_id AND n.item_id = o.item_id
								  WHERE o.text_value IS DISTINCT FROM n.text_value
								 UNION
								 SELECT n.response_id FROM new_rows n
								   LEFT JOIN old_rows o ON o.response_id = n.response_id AND o.item_id = n.item_id
								  WHERE o.response_id IS NULL AND n.text_value IS NOT NULL
								 UNION
								 SELECT o.response_id FROM old_rows o
								   LEFT JOIN new_rows n ON n.response_id = o.response_id AND n.item_id = o.item_id
								  WHERE n.response_id IS NULL AND o.text_value IS NOT NULL);
		END IF;
		v_services := ARRAY(SELECT DISTINCT r.service_id FROM custfocus.response r
							 WHERE r.response_id = ANY (v_responses) AND r.service_id IS NOT NULL);
	ELSIF TG_OP = 'DELETE' THEN
		-- responses deleted: their answers went with them, and the answer
		-- trigger could no longer find their services
		v_services := ARRAY(SELECT DISTINCT o.service_id FROM old_rows o WHERE o.service_id IS NOT NULL);
	ELSE
		-- responses given another service (or id): both services
		v_services := ARRAY(SELECT o.service_id FROM old_rows o
							 WHERE o.service_id IS NOT NULL
							   AND NOT EXISTS (SELECT FROM new_rows n WHERE n.response_id = o.response_id
												 AND n.service_id IS NOT DISTINCT FROM o.service_id)
							UNION
							SELECT n.service_id FROM new_rows n
							 WHERE n.service_id IS NOT NULL
							   AND NOT EXISTS (SELECT FROM old_rows o WHERE o.response_id = n.response_id
												 AND o.service_id IS NOT DISTINCT FROM n.service_id));
	END IF;
	IF cardinality(v_services) > 0 THEN
		PERFORM custfocus.report_touch(v_services, true);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.theme_change() IS
'Trigger: the themes of the services whose feedback or free-text answers a statement changed are published again at commit';
REVOKE ALL ON FUNCTION custfocus.theme_change() FROM PUBLIC;
CREATE TRIGGER theme_feedback_insert AFTER INSERT ON custfocus.feedback
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.theme_change();
CREATE TRIGGER theme_feedback_update AFTER UPDATE ON custfocus.feedback
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.theme_change();
CREATE TRIGGER theme_feedback_delete AFTER DELETE ON custfocus.feedback
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.theme_change();
CREATE TRIGGER theme_feedback_truncate AFTER TRUNCATE ON custfocus.feedback
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.theme_change();
CREATE TRIGGER theme_answer_insert AFTER INSERT ON custfocus.answer
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.theme_change();
CREATE TRIGGER theme_answer_update AFTER UPDATE ON custfocus.answer
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.theme_change();
CREATE TRIGGER theme_answer_delete AFTER DELETE ON custfocus.answer
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.theme_change();
CREATE TRIGGER theme_answer_truncate AFTER TRUNCATE ON custfocus.answer
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.theme_change();
CREATE TRIGGER theme_response_service AFTER UPDATE ON custfocus.response
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.theme_change();
CREATE TRIGGER theme_response_delete AFTER DELETE ON custfocus.response
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.theme_change();

-------------------------------------------------------------------------------
-- The feedback queue's closed-loop figures
-------------------------------------------------------------------------------
-- custfocus.feedback_queue lists the open feedback (a small share of all
-- feedback, found through feedback_open_idx), each with its service's
-- figures: feedback still open, closed in the last 90 days, and the median
-- days to close over every feedback the service ever closed.  The median
-- reads all of that, and no delta of it inverts; so the open count and the
-- median are computed when the service's feedback changes (at commit, for
-- the services the transaction's statements touched: feedback_figures_change)
-- and published here.  "The last 90 days" moves with the clock: that count
-- is made when read, through feedback_closed_idx (the range of the
-- service's feedback closed since then).  Service 0: the feedback about no
-- service.  As the other published figures, a transaction with changes of
-- its own to publish reads them computed (report_published).
CREATE TABLE custfocus.report_feedback (
	service_id	integer PRIMARY KEY,
	open_count	bigint NOT NULL,
	median_days_to_close double precision
);
COMMENT ON TABLE custfocus.report_feedback IS
'Each service''s closed-loop figures (feedback open, median days to close), as published by the last commit that changed its feedback; derived data, kept at commit, not dumped';
COMMENT ON COLUMN custfocus.report_feedback.service_id IS 'The service (0: feedback about no service)';
COMMENT ON COLUMN custfocus.report_feedback.open_count IS 'As custfocus.feedback_queue.service_open';
COMMENT ON COLUMN custfocus.report_feedback.median_days_to_close IS 'As custfocus.feedback_queue.service_median_days_to_close, not rounded (NULL: none closed)';
REVOKE ALL ON custfocus.report_feedback FROM PUBLIC;
ALTER TABLE custfocus.report_feedback ENABLE ROW LEVEL SECURITY;

CREATE INDEX feedback_closed_idx ON custfocus.feedback (service_id, closed_at) WHERE closed_at IS NOT NULL;

-- The figures of every service's feedback, or of the given services' (0:
-- about no service).  PL/pgSQL, as voc_themes_compute (Citus).
CREATE FUNCTION custfocus.feedback_figures_compute(p_services integer[] DEFAULT NULL)
RETURNS SETOF custfocus.report_feedback
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY
	SELECT coalesce(g.service_id, 0), count(*) FILTER (WHERE g.status <> 'closed'),
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM g.closed_at - g.received_at) / 86400)
	  FROM custfocus.feedback g
	 WHERE p_services IS NULL
		OR g.service_id = ANY (p_services)
		OR (g.service_id IS NULL AND 0 = ANY (p_services))
	 GROUP BY 1;
END
$$;
COMMENT ON FUNCTION custfocus.feedback_figures_compute(integer[]) IS
'The closed-loop figures (feedback open, median days to close) of every service''s feedback, or of the given services'' (0: feedback about no service)';
REVOKE ALL ON FUNCTION custfocus.feedback_figures_compute(integer[]) FROM PUBLIC;

-- Asks for the given services' closed-loop figures to be published again
-- when the transaction commits (rollup_pending.scope feedback).
CREATE FUNCTION custfocus.report_feedback_touch(p_services integer[]) RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	INSERT INTO custfocus.rollup_pending (services, months, scope)
	SELECT p_services, '{}', 'feedback' WHERE cardinality(p_services) > 0
$$;
COMMENT ON FUNCTION custfocus.report_feedback_touch(integer[]) IS
'Asks for the given services'' closed-loop figures (0: feedback about no service) to be published again when the transaction commits';
REVOKE ALL ON FUNCTION custfocus.report_feedback_touch(integer[]) FROM PUBLIC;

-- Publishes them (at commit, under report_state, as report_refresh).
CREATE FUNCTION custfocus.report_feedback_refresh(p_services integer[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM custfocus.report_feedback r WHERE r.service_id = ANY (p_services);
	INSERT INTO custfocus.report_feedback SELECT * FROM custfocus.feedback_figures_compute(p_services);
END
$$;
COMMENT ON FUNCTION custfocus.report_feedback_refresh(integer[]) IS
'Publishes again the closed-loop figures of the given services (0: feedback about no service), at commit';
REVOKE ALL ON FUNCTION custfocus.report_feedback_refresh(integer[]) FROM PUBLIC;

-- The services whose figures a statement on feedback changed: of the rows
-- inserted or deleted, and of the rows updated in service, status or times
-- (before and after).  TRUNCATE: every service published.
CREATE FUNCTION custfocus.feedback_figures_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
	v_services integer[];
BEGIN
	IF TG_OP = 'TRUNCATE' THEN
		-- (every service published: those a TRUNCATE ... CASCADE took too)
		v_services := ARRAY(SELECT r.service_id FROM custfocus.report_feedback r);
	ELSIF TG_OP = 'INSERT' THEN
		v_services := ARRAY(SELECT DISTINCT coalesce(n.service_id, 0) FROM new_rows n);
	ELSIF TG_OP = 'DELETE' THEN
		v_services := ARRAY(SELECT DISTINCT coalesce(o.service_id, 0) FROM old_rows o);
	ELSE
		v_services := ARRAY(SELECT coalesce(o.service_id, 0) FROM old_rows o
							 WHERE NOT EXISTS (SELECT FROM new_rows n WHERE n.feedback_id = o.feedback_id
												 AND (n.service_id, n.status, n.received_at, n.closed_at)
													 IS NOT DISTINCT FROM (o.service_id, o.status, o.received_at, o.closed_at))
							UNION
							SELECT coalesce(n.service_id, 0) FROM new_rows n
							 WHERE NOT EXISTS (SELECT FROM old_rows o WHERE o.feedback_id = n.feedback_id
												 AND (o.service_id, o.status, o.received_at, o.closed_at)
													 IS NOT DISTINCT FROM (n.service_id, n.status, n.received_at, n.closed_at)));
	END IF;
	PERFORM custfocus.report_feedback_touch(v_services);
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.feedback_figures_change() IS
'Trigger: the closed-loop figures of the services whose feedback a statement changed are published again at commit';
REVOKE ALL ON FUNCTION custfocus.feedback_figures_change() FROM PUBLIC;
CREATE TRIGGER feedback_figures_insert AFTER INSERT ON custfocus.feedback
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.feedback_figures_change();
CREATE TRIGGER feedback_figures_update AFTER UPDATE ON custfocus.feedback
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.feedback_figures_change();
CREATE TRIGGER feedback_figures_delete AFTER DELETE ON custfocus.feedback
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION custfocus.feedback_figures_change();
CREATE TRIGGER feedback_figures_truncate AFTER TRUNCATE ON custfocus.feedback
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.feedback_figures_change();

-- Stated importance: of a requirement (every service with key drivers), or
-- of a requirement at a service; and the codes of services and requirements
-- (the opportunities' ranks break ties with them).
CREATE FUNCTION custfocus.report_importance_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
	IF TG_TABLE_NAME = 'requirement' THEN
		-- every service, listed at commit
		PERFORM custfocus.report_touch(NULL);
	ELSIF TG_TABLE_NAME = 'service' THEN
		-- the services whose code changed
		PERFORM custfocus.report_touch(ARRAY(SELECT n.service_id FROM new_rows n
											   JOIN old_rows o ON o.service_id = n.service_id
											  WHERE n.code IS DISTINCT FROM o.code));
	ELSIF TG_OP = 'DELETE' THEN
		PERFORM custfocus.report_touch(ARRAY(SELECT DISTINCT o.service_id FROM old_rows o));
	ELSIF TG_OP = 'INSERT' THEN
		PERFORM custfocus.report_touch(ARRAY(SELECT DISTINCT n.service_id FROM new_rows n));
	ELSE
		PERFORM custfocus.report_touch(ARRAY(SELECT o.service_id FROM old_rows o UNION SELECT n.service_id FROM new_rows n));
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION custfocus.report_importance_change() IS
'Trigger: a stated importance (or the code of a service or a requirement) changed, the key drivers of the services it counts for are published again at commit, and the opportunities'' ranks';
REVOKE ALL ON FUNCTION custfocus.report_importance_change() FROM PUBLIC;
CREATE TRIGGER report_requirement_importance AFTER UPDATE OF importance ON custfocus.requirement
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_importance_change();
CREATE TRIGGER report_service_requirement_insert AFTER INSERT ON custfocus.service_requirement
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_importance_change();
CREATE TRIGGER report_service_requirement_update AFTER UPDATE ON custfocus.service_requirement
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_importance_change();
CREATE TRIGGER report_service_requirement_delete AFTER DELETE ON custfocus.service_requirement
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_importance_change();
-- The codes the opportunities' ranks break ties with (report_opportunities):
-- a renamed service's figures, every service's for a renamed requirement,
-- are published again at commit, and the ranks with them.
CREATE TRIGGER report_service_code AFTER UPDATE ON custfocus.service
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_importance_change();
CREATE TRIGGER report_requirement_code AFTER UPDATE OF code ON custfocus.requirement
	FOR EACH STATEMENT EXECUTE FUNCTION custfocus.report_importance_change();

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
-- floor): empty when all is well.  (A key driver's quadrant compares with
-- the means of its service's requirements to 1e-9: published and computed
-- may merge states in another order, so the quadrant of a value on a
-- crosshair is compared as computed, not to a tolerance.)  Counts must be equal, figures equal to
-- 1e-12 relative.
CREATE FUNCTION custfocus.report_verify()
RETURNS TABLE (view_name text, program_id integer, unit_service_id integer, grain text, period_start date,
			   problem text)
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET custfocus.min_responses = 0
AS $$
	-- what commits left to the publisher first: those figures are not
	-- published yet, by design, and are read live meanwhile (only when
	-- something waits: the publication locks report_state, a write)
	-- (not in a read-only transaction or on a standby: there, rows still
	-- listed show as differences, which they are)
	SELECT custfocus.report_publish_pending()
	 WHERE EXISTS (SELECT FROM custfocus.report_stale)
	   AND NOT current_setting('transaction_read_only')::boolean;
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
	UNION ALL
	-- (the key drivers' unit: the service, 0 as a program's)
	SELECT 'key_drivers', s.program_id, coalesce(p.service_id, c.service_id), NULL, coalesce(p.window_start, c.window_start),
		   CASE WHEN p.service_id IS NULL THEN 'not published' WHEN c.service_id IS NULL THEN 'published, not computed'
				ELSE 'published figures differ' END
	  FROM custfocus.report_key_drivers p
	  FULL JOIN custfocus.key_drivers_compute() c
		ON c.service_id = p.service_id AND c.survey_id = p.survey_id AND c.requirement_id = p.requirement_id
	  LEFT JOIN custfocus.service s ON s.service_id = coalesce(p.service_id, c.service_id)
	 WHERE p.service_id IS NULL OR c.service_id IS NULL
		OR p.n IS DISTINCT FROM c.n
		OR NOT custfocus.report_same(
			ARRAY[p.correlation, p.derived_importance, p.stated_importance, p.importance, p.performance, p.gap],
			ARRAY[c.correlation, c.derived_importance, c.stated_importance, c.importance, c.performance, c.gap],
			1e-12)
		-- priority = importance x gap, and a gap of two equal figures is
		-- 0 in one order of merging and a rounding error in another: the
		-- product compared on the scale of its factor (priority / importance
		-- is the gap, compared as the gap is; found as a commit published
		-- 0 where the computation gave 1.9e-12)
		OR NOT custfocus.report_same(ARRAY[p.priority / greatest(1, abs(p.importance))],
									 ARRAY[c.priority / greatest(1, abs(c.importance))], 1e-12)
		OR (p.window_start, p.window_end, p.importance_source, p.quadrant, p.suppressed)
		   IS DISTINCT FROM (c.window_start, c.window_end, c.importance_source, c.quadrant, c.suppressed)
	UNION ALL
	-- (a measure's unit: its scope's program and service, 0 for a program)
	SELECT 'measure_status', coalesce(p.program_id, c.program_id), coalesce(p.service_id, c.service_id, 0),
		   coalesce(p.period, c.period), coalesce(p.period_start, c.period_start),
		   CASE WHEN p.measure_id IS NULL THEN 'not published' WHEN c.measure_id IS NULL THEN 'published, not computed'
				ELSE 'published figures differ' END
	  FROM custfocus.report_measure_status p
	  FULL JOIN custfocus.measure_status_compute() c ON c.measure_id = p.measure_id AND c.period_start = p.period_start
	 WHERE p.measure_id IS NULL OR c.measure_id IS NULL
		OR (p.program_id, p.service_id, p.n, p.in_box) IS DISTINCT FROM (c.program_id, c.service_id, c.n, c.in_box)
		OR NOT custfocus.report_same(
			ARRAY[p.actual, p.target, p.distance_to_target, p.previous_actual, p.change, p.trend_slope, p.baseline],
			ARRAY[c.actual, c.target, c.distance_to_target, c.previous_actual, c.change, c.trend_slope, c.baseline], 1e-12)
		OR (p.measure_code, p.measure_name, p.metric, p.period, p.period_label, p.direction, p.met, p.trend, p.suppressed)
		   IS DISTINCT FROM (c.measure_code, c.measure_name, c.metric, c.period, c.period_label, c.direction, c.met,
							 c.trend, c.suppressed)
	UNION ALL
	SELECT 'voc_themes', s.program_id, coalesce(p.service_id, c.service_id), NULL, NULL,
		   CASE WHEN p.service_id IS NULL THEN 'not published' WHEN c.service_id IS NULL THEN 'published, not computed'
				ELSE 'published figures differ' END
	  FROM custfocus.report_themes p
	  FULL JOIN custfocus.voc_themes_compute() c ON c.service_id = p.service_id AND c.rank = p.rank
	  LEFT JOIN custfocus.service s ON s.service_id = coalesce(p.service_id, c.service_id)
	 WHERE NOT custfocus.citus_distributed()
	   AND (p.service_id IS NULL OR c.service_id IS NULL
		OR (p.term, p.documents, p.feedback_documents, p.answer_documents, p.service_documents, p.example)
		   IS DISTINCT FROM (c.term, c.documents, c.feedback_documents, c.answer_documents, c.service_documents, c.example))
	UNION ALL
	-- (the closed-loop figures' unit: the service, 0 for about no service)
	SELECT 'feedback_queue', s.program_id, coalesce(p.service_id, c.service_id), NULL, NULL,
		   CASE WHEN p.service_id IS NULL THEN 'not published' WHEN c.service_id IS NULL THEN 'published, not computed'
				ELSE 'published figures differ' END
	  FROM custfocus.report_feedback p
	  FULL JOIN custfocus.feedback_figures_compute() c ON c.service_id = p.service_id
	  LEFT JOIN custfocus.service s ON s.service_id = coalesce(p.service_id, c.service_id)
	 WHERE p.service_id IS NULL OR c.service_id IS NULL OR p.open_count <> c.open_count
		OR NOT custfocus.report_same(ARRAY[p.median_days_to_close], ARRAY[c.median_days_to_close], 1e-12)
	UNION ALL
	-- the opportunities' ranks: those of the published key drivers (which
	-- are compared with a computation above)
	SELECT 'improvement_opportunities', s.program_id, coalesce(p.service_id, c.service_id), NULL, NULL,
		   CASE WHEN p.service_id IS NULL THEN 'not published' WHEN c.service_id IS NULL THEN 'published, not computed'
				ELSE 'published figures differ' END
	  FROM custfocus.report_opportunities p
	  FULL JOIN custfocus.opportunities_rank(ARRAY(SELECT f FROM custfocus.report_key_drivers f)) c
		ON c.service_id = p.service_id AND c.survey_id = p.survey_id AND c.requirement_id = p.requirement_id
	  LEFT JOIN custfocus.service s ON s.service_id = coalesce(p.service_id, c.service_id)
	 WHERE p.service_id IS NULL OR c.service_id IS NULL
		OR (p.rank, p.n, p.importance, p.importance_source, p.performance, p.gap, p.priority, p.quadrant)
		   IS DISTINCT FROM (c.rank, c.n, c.importance, c.importance_source, c.performance, c.gap, c.priority, c.quadrant)
$$;
COMMENT ON FUNCTION custfocus.report_verify() IS
'Publishes what waits for the publisher (report_publish_pending), then lists every published scorecard, trend, key-driver, measure, theme, closed-loop or opportunity row that differs from a computation from the roll-ups now, at the agency''s floor (counts equal, figures to 1e-12 relative), or is missing on either side; empty when all is well';
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
-- (the UNION ALL in a sub-select: a view whose query is a bare UNION ALL is
-- flattened into the caller's query, security barrier and all, and a
-- caller's function in WHERE would run on the published rows before the
-- rule on the units: found by a review)
SELECT * FROM (
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
 WHERE NOT (SELECT custfocus.report_published())
) v;
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
-- (in a sub-select: see the scorecard)
SELECT * FROM (
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
 WHERE NOT (SELECT custfocus.report_published())
) v;
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

-- Performance measures: the published figures (or, see report_published,
-- the same computed at read time) of the programs the caller may see, with
-- the program's and service's codes.  Same access rule and security_barrier
-- as the scorecard.
CREATE VIEW custfocus.measure_status WITH (security_barrier) AS
SELECT f.measure_code, f.measure_name, p.code AS program_code, s.code AS service_code, f.metric, f.period,
	   f.period_start, f.period_label, f.n, f.actual, f.target, f.direction, f.met, f.distance_to_target,
	   f.previous_actual, f.change, f.trend, f.trend_slope, f.baseline, f.suppressed, f.in_box
  FROM custfocus.report_measure_status f
  JOIN custfocus.program p ON p.program_id = f.program_id
  LEFT JOIN custfocus.service s ON s.service_id = f.service_id
 WHERE (SELECT custfocus.report_published())
   AND ((SELECT custfocus.sees_all_programs())
		OR f.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
UNION ALL
SELECT f.measure_code, f.measure_name, p.code AS program_code, s.code AS service_code, f.metric, f.period,
	   f.period_start, f.period_label, f.n, f.actual, f.target, f.direction, f.met, f.distance_to_target,
	   f.previous_actual, f.change, f.trend, f.trend_slope, f.baseline, f.suppressed, f.in_box
  FROM custfocus.measure_status_live_rows(CURRENT_USER) f
  JOIN custfocus.program p ON p.program_id = f.program_id
  LEFT JOIN custfocus.service s ON s.service_id = f.service_id
 WHERE NOT (SELECT custfocus.report_published())
 ORDER BY 1, 7;
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

-- Key drivers: the published figures (or, see report_published, the same
-- computed at read time) of the services the caller may see, with codes
-- and names.  Same access rule and security_barrier as the scorecard.
CREATE VIEW custfocus.key_drivers WITH (security_barrier) AS
SELECT p.code AS program_code, s.code AS service_code, sv.code AS survey_code, rq.code AS requirement_code,
	   rq.name AS requirement_name, f.window_start, f.window_end, f.n, f.correlation, f.derived_importance,
	   f.stated_importance, f.importance, f.importance_source, f.performance, f.gap, f.priority, f.quadrant,
	   f.suppressed, f.relative_importance, f.model_r2, f.model_n, f.drivers_alpha
  FROM custfocus.report_key_drivers f
  JOIN custfocus.service s ON s.service_id = f.service_id
  JOIN custfocus.program p ON p.program_id = s.program_id
  JOIN custfocus.survey sv ON sv.survey_id = f.survey_id
  JOIN custfocus.requirement rq ON rq.requirement_id = f.requirement_id
 WHERE (SELECT custfocus.report_published())
   AND ((SELECT custfocus.sees_all_programs())
		OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
UNION ALL
SELECT p.code AS program_code, s.code AS service_code, sv.code AS survey_code, rq.code AS requirement_code,
	   rq.name AS requirement_name, f.window_start, f.window_end, f.n, f.correlation, f.derived_importance,
	   f.stated_importance, f.importance, f.importance_source, f.performance, f.gap, f.priority, f.quadrant,
	   f.suppressed, f.relative_importance, f.model_r2, f.model_n, f.drivers_alpha
  FROM custfocus.key_drivers_live_rows(CURRENT_USER) f
  JOIN custfocus.service s ON s.service_id = f.service_id
  JOIN custfocus.program p ON p.program_id = s.program_id
  JOIN custfocus.survey sv ON sv.survey_id = f.survey_id
  JOIN custfocus.requirement rq ON rq.requirement_id = f.requirement_id
 WHERE NOT (SELECT custfocus.report_published())
 ORDER BY 1, 2, 3, 4;
COMMENT ON VIEW custfocus.key_drivers IS
'Importance-performance analysis per service and survey over its latest 12 months of the reporting time zone: each requirement''s importance (derived: 100 x Pearson r with the overall item, pairwise; else stated), performance (linear mean 0..100), gap, priority and quadrant; read from the item roll-up';
COMMENT ON COLUMN custfocus.key_drivers.program_code IS 'Program of the service';
COMMENT ON COLUMN custfocus.key_drivers.service_code IS 'Service';
COMMENT ON COLUMN custfocus.key_drivers.survey_code IS 'Survey whose items measure the requirement';
COMMENT ON COLUMN custfocus.key_drivers.requirement_code IS 'Requirement (key driver)';
COMMENT ON COLUMN custfocus.key_drivers.requirement_name IS 'Requirement name';
COMMENT ON COLUMN custfocus.key_drivers.window_start IS 'First day of the 12 months analysed (months of the reporting time zone)';
COMMENT ON COLUMN custfocus.key_drivers.window_end IS 'Last day of the 12 months analysed: the end of the latest month with answers to the survey''s requirement items about the service';
COMMENT ON COLUMN custfocus.key_drivers.n IS 'Answers to the requirement''s items in the window';
COMMENT ON COLUMN custfocus.key_drivers.correlation IS 'Pearson r between the requirement''s items and the overall-satisfaction item (same respondent, every respondent who answered both; unweighted; NULL when fewer than custfocus.min_responses() pairs)';
COMMENT ON COLUMN custfocus.key_drivers.derived_importance IS '100 x r, negative r as 0 (NULL when fewer than custfocus.min_responses pairs)';
COMMENT ON COLUMN custfocus.key_drivers.stated_importance IS 'Stated importance of the requirement for the service (service_requirement, else requirement)';
COMMENT ON COLUMN custfocus.key_drivers.importance IS 'Importance used: derived if available, else stated (0..100)';
COMMENT ON COLUMN custfocus.key_drivers.importance_source IS 'derived or stated';
COMMENT ON COLUMN custfocus.key_drivers.performance IS 'Linear mean of the requirement''s items on 0..100, weighted (NULL when suppressed)';
COMMENT ON COLUMN custfocus.key_drivers.gap IS 'Importance minus performance';
COMMENT ON COLUMN custfocus.key_drivers.priority IS 'Importance x gap';
COMMENT ON COLUMN custfocus.key_drivers.quadrant IS 'Concentrate here, Keep up the good work, Low priority or Possible overkill, around crosshairs at the mean importance and performance of the service''s plotted requirements (a value on a crosshair, to 1e-9 relative, counts as high)';
COMMENT ON COLUMN custfocus.key_drivers.suppressed IS 'True when the performance (fewer than custfocus.min_responses answers, or a measure of the requirement at the service would let the window give a hidden or small group away) or the derived importance (fewer pairs with the overall item, but some) is not shown';
COMMENT ON COLUMN custfocus.key_drivers.relative_importance IS 'Johnson''s relative weight of the requirement''s items in the regression of the overall item on all the service''s requirement items in the survey (the drivers), as a percent of R squared (the requirements of a service and survey sum to 100), from pairwise correlations over the window; NULL when model_n is below custfocus.min_responses or the weights are undetermined (too few respondents, an item that does not vary, collinear drivers, pairwise correlations that give an R squared above 1, no overall item)';
COMMENT ON COLUMN custfocus.key_drivers.model_r2 IS 'R squared of that regression (the same on every row of the service and survey); NULL as relative_importance';
COMMENT ON COLUMN custfocus.key_drivers.model_n IS 'The fewest respondents who answered both items of any pair of the overall item and the drivers in the window (pairwise deletion)';
COMMENT ON COLUMN custfocus.key_drivers.drivers_alpha IS 'Cronbach''s alpha of the drivers (their oriented scores), from their variances and pairwise covariances over the window; NULL when model_n is below custfocus.min_responses or fewer than two drivers';

-- The improvement opportunities of the services the role may see, ranked
-- among them, computed at read time from key_drivers_live_rows, as
-- report_opportunities holds them (what custfocus.improvement_opportunities
-- reads when the published figures are not the session's).
CREATE FUNCTION custfocus.improvement_opportunities_live_rows(p_role name)
RETURNS SETOF custfocus.report_opportunities
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT * FROM custfocus.opportunities_rank(ARRAY(SELECT f FROM custfocus.key_drivers_live_rows(p_role) f))
$$;
COMMENT ON FUNCTION custfocus.improvement_opportunities_live_rows(name) IS
'The improvement opportunities of the services the role may see, ranked among them, computed at read time (what custfocus.improvement_opportunities reads when the published figures are not the session''s)';
REVOKE ALL ON FUNCTION custfocus.improvement_opportunities_live_rows(name) FROM PUBLIC;

-- The headline view: every (service, requirement) of key_drivers with a
-- priority, ranked over all the role sees (so a filter cannot reach below
-- the rank).  Ties in priority rank by the larger gap, then service and
-- requirement code; priorities and gaps equal to 6 decimals tie (they are
-- merged from float states, and the order of merging moves their last
-- bits).  Open actions are those planned or in progress for the same
-- service and requirement.
-- A role's rows are ranked by their rank among every program's, published
-- (report_opportunities) or computed for the role at read time: the same
-- order, restricted to its rows, without rounding a priority again.  The
-- rows are ordered before their open actions are looked up and their
-- reason is written, in LATERAL subqueries (the reason's kept apart by
-- OFFSET 0): a BI tile's "ORDER BY rank LIMIT 10" does that ten times, not
-- once per row (the reasons' rounding of five figures each cost more than
-- the rest; and the open actions, as a join, were aggregated again for each
-- row when the planner chose a nested loop).  The computation at read time
-- is a function (planned only when it runs), as key_drivers' is.
CREATE VIEW custfocus.improvement_opportunities WITH (security_barrier) AS
SELECT x.rnk AS rank, x.program_code, x.service_code, x.survey_code, x.requirement_code, x.requirement_name,
	   x.importance, x.importance_source, x.performance, x.gap, x.priority, x.quadrant, x.n,
	   act.open_n AS open_actions, act.titles AS open_action_titles, r.reason
  FROM (
	SELECT rank() OVER (ORDER BY o.rank)::integer AS rnk, o.service_id, o.requirement_id, p.code AS program_code,
		   s.code AS service_code, sv.code AS survey_code, rq.code AS requirement_code,
		   rq.name AS requirement_name, o.importance, o.importance_source, o.performance, o.gap, o.priority,
		   o.quadrant, o.n
	  FROM (SELECT * FROM custfocus.report_opportunities WHERE (SELECT custfocus.report_published())
			UNION ALL
			SELECT * FROM custfocus.improvement_opportunities_live_rows(CURRENT_USER)
			 WHERE NOT (SELECT custfocus.report_published())) o
	  JOIN custfocus.service s ON s.service_id = o.service_id
	  JOIN custfocus.program p ON p.program_id = s.program_id
	  JOIN custfocus.survey sv ON sv.survey_id = o.survey_id
	  JOIN custfocus.requirement rq ON rq.requirement_id = o.requirement_id
	 WHERE (SELECT custfocus.sees_all_programs())
		OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[])
	 ORDER BY 1, 5, 7
  ) x
 CROSS JOIN LATERAL (
	SELECT count(*) AS open_n, string_agg(a.title, '; ' ORDER BY a.opened_on, a.action_id) AS titles
	  FROM custfocus.improvement_action a
	 WHERE a.service_id = x.service_id AND a.requirement_id = x.requirement_id
	   AND a.status IN ('planned', 'in_progress')) act
 CROSS JOIN LATERAL (
	SELECT format('%s at %s (survey %s): importance %s (%s) against performance %s on 0..100, a gap of %s, so priority %s (importance x gap); %s; %s',
				  x.requirement_name, x.service_code, x.survey_code, round(x.importance::numeric),
				  x.importance_source || CASE WHEN x.importance_source = 'derived'
											  THEN format(', r = %s', round((x.importance / 100)::numeric, 2)) ELSE '' END,
				  round(x.performance::numeric), round(x.gap::numeric), round(x.priority::numeric),
				  x.quadrant,
				  CASE WHEN act.open_n = 0 THEN 'no open improvement action'
					   ELSE format('%s open action(s): %s', act.open_n, act.titles) END) AS reason
	OFFSET 0) r
 ORDER BY x.rnk, x.service_code, x.requirement_code;
COMMENT ON VIEW custfocus.improvement_opportunities IS
'The headline view: every (service, requirement) ranked by priority = importance x (importance - performance), with its quadrant, n, the open improvement actions and the reason it ranks where it does';
COMMENT ON COLUMN custfocus.improvement_opportunities.rank IS 'Rank, 1 = improve first (by priority, then gap, both to 6 decimals; then service and requirement code)';
COMMENT ON COLUMN custfocus.improvement_opportunities.program_code IS 'Program of the service';
COMMENT ON COLUMN custfocus.improvement_opportunities.service_code IS 'Service';
COMMENT ON COLUMN custfocus.improvement_opportunities.survey_code IS 'Survey the figures come from';
COMMENT ON COLUMN custfocus.improvement_opportunities.requirement_code IS 'Requirement (key driver)';
COMMENT ON COLUMN custfocus.improvement_opportunities.requirement_name IS 'Requirement name';
COMMENT ON COLUMN custfocus.improvement_opportunities.importance IS 'Importance on 0..100 (see importance_source)';
COMMENT ON COLUMN custfocus.improvement_opportunities.importance_source IS 'derived (from the correlation with overall satisfaction) or stated';
COMMENT ON COLUMN custfocus.improvement_opportunities.performance IS 'Performance: linear mean of the requirement''s items on 0..100';
COMMENT ON COLUMN custfocus.improvement_opportunities.gap IS 'Importance minus performance';
COMMENT ON COLUMN custfocus.improvement_opportunities.priority IS 'Importance x gap: the ranking key';
COMMENT ON COLUMN custfocus.improvement_opportunities.quadrant IS 'Importance-performance quadrant';
COMMENT ON COLUMN custfocus.improvement_opportunities.n IS 'Answers behind the performance figure';
COMMENT ON COLUMN custfocus.improvement_opportunities.open_actions IS 'Improvement actions planned or in progress for this service and requirement';
COMMENT ON COLUMN custfocus.improvement_opportunities.open_action_titles IS 'Their titles';
COMMENT ON COLUMN custfocus.improvement_opportunities.reason IS 'Why the row ranks where it does, in words';

-- Themes: the published top terms (or, see report_published, the same
-- computed at read time) of the services the caller may see, at or above
-- the threshold.  Same access rule and security_barrier as the scorecard.
CREATE VIEW custfocus.voc_themes WITH (security_barrier) AS
SELECT p.code AS program_code, s.code AS service_code, f.term, f.documents, f.feedback_documents, f.answer_documents,
	   round(100.0 * f.documents / f.service_documents, 1)::numeric(4,1) AS share_of_documents, f.rank, f.example
  FROM custfocus.report_themes f
  JOIN custfocus.service s ON s.service_id = f.service_id
  JOIN custfocus.program p ON p.program_id = s.program_id
 WHERE (SELECT custfocus.report_published())
   AND ((SELECT custfocus.sees_all_programs())
		OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
   AND f.documents >= (SELECT custfocus.min_responses())
UNION ALL
SELECT p.code AS program_code, s.code AS service_code, f.term, f.documents, f.feedback_documents, f.answer_documents,
	   round(100.0 * f.documents / f.service_documents, 1)::numeric(4,1) AS share_of_documents, f.rank, f.example
  FROM custfocus.voc_themes_live_rows(CURRENT_USER) f
  JOIN custfocus.service s ON s.service_id = f.service_id
  JOIN custfocus.program p ON p.program_id = s.program_id
 WHERE NOT (SELECT custfocus.report_published())
   AND f.documents >= (SELECT custfocus.min_responses())
 ORDER BY 1, 2, 8;
COMMENT ON VIEW custfocus.voc_themes IS
'Voice of the customer: for each service of the role''s programs, the 20 terms (full-text lexemes) found in the most feedback bodies and free-text answers (ties in term order); terms in fewer than custfocus.min_responses() documents are not shown';
COMMENT ON COLUMN custfocus.voc_themes.program_code IS 'Program of the service';
COMMENT ON COLUMN custfocus.voc_themes.service_code IS 'Service';
COMMENT ON COLUMN custfocus.voc_themes.term IS 'Lexeme (English stemming: "waiting" and "waited" are "wait")';
COMMENT ON COLUMN custfocus.voc_themes.documents IS 'Feedback bodies and free-text answers about the service that contain the term';
COMMENT ON COLUMN custfocus.voc_themes.feedback_documents IS 'Of those, feedback bodies';
COMMENT ON COLUMN custfocus.voc_themes.answer_documents IS 'Of those, free-text survey answers';
COMMENT ON COLUMN custfocus.voc_themes.share_of_documents IS 'Percent of the service''s documents that contain the term, 0.0 to 100.0, to one decimal (numeric(4,1))';
COMMENT ON COLUMN custfocus.voc_themes.rank IS 'Rank of the term within the service (1 = most frequent)';
COMMENT ON COLUMN custfocus.voc_themes.example IS 'One document that contains the term';


-- The queue: the feedback not yet closed, each with the closed-loop figures
-- of its service (see report_feedback): published, with the count of the
-- last 90 days made now through feedback_closed_idx, or, when the
-- session's figures are not the published ones (report_published), over all
-- the service's feedback as the published ones were.  One row of figures
-- per service, where a filter on the service's or the program's code passes
-- into both branches; a filter on the feedback itself reads the figures of
-- every service the role sees (published: a row and an index range each).
-- Feedback about no service is, as in the table's policy, for the roles
-- that see every program; its figures are those of all feedback about no
-- service.  A median of days is shown to one decimal: numeric(8,1) tells a
-- client the scale (a bare numeric arrives as a Decimal of unknown scale).
CREATE VIEW custfocus.feedback_queue WITH (security_barrier) AS
SELECT q.feedback_id, q.kind, q.status, q.owner, q.received_at,
	   (pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())::date
		- pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), q.received_at)::date) AS age_days,
	   q.acknowledged_at, q.program_code, q.service_code, q.channel, q.body,
	   q.service_open, q.service_closed_last_90_days,
	   round(q.median_days::numeric, 1)::numeric(8,1) AS service_median_days_to_close
  FROM (
	SELECT f.feedback_id, f.kind, f.status, f.owner, f.received_at, f.acknowledged_at,
		   l.program_code, l.service_code, f.channel, f.body,
		   l.open_count AS service_open, l.closed_recent AS service_closed_last_90_days, l.median_days
	  FROM (SELECT s.service_id, p.code AS program_code, s.code AS service_code, r.open_count,
				   (SELECT count(*) FROM custfocus.feedback rc
					 WHERE rc.service_id = s.service_id
					   AND rc.closed_at >= pg_catalog.timezone((SELECT custfocus.reporting_time_zone()),
							   pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())
							   - interval '90 days')) AS closed_recent,
				   r.median_days_to_close AS median_days
			  FROM custfocus.report_feedback r
			  JOIN custfocus.service s ON s.service_id = r.service_id
			  JOIN custfocus.program p ON p.program_id = s.program_id
			 WHERE (SELECT custfocus.report_published())
			   AND ((SELECT custfocus.sees_all_programs())
					OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
			UNION ALL
			-- (as feedback_figures_compute)
			SELECT s.service_id, p.code, s.code,
				   count(*) FILTER (WHERE lg.status <> 'closed'),
				   count(*) FILTER (WHERE lg.closed_at >= pg_catalog.timezone((SELECT custfocus.reporting_time_zone()),
								pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())
								- interval '90 days')),
				   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM lg.closed_at - lg.received_at) / 86400)
			  FROM custfocus.service s
			  JOIN custfocus.program p ON p.program_id = s.program_id
			  JOIN custfocus.feedback lg ON lg.service_id = s.service_id
			 WHERE NOT (SELECT custfocus.report_published())
			   AND ((SELECT custfocus.sees_all_programs())
					OR s.program_id = ANY ((SELECT custfocus.visible_program_ids())::integer[]))
			 GROUP BY s.service_id, p.code, s.code) l
	  JOIN custfocus.feedback f ON f.service_id = l.service_id
	 WHERE f.status <> 'closed'
	UNION ALL
	SELECT f.feedback_id, f.kind, f.status, f.owner, f.received_at, f.acknowledged_at,
		   NULL::text, NULL::text, f.channel, f.body,
		   l.open_count, l.closed_recent, l.median_days
	  FROM (SELECT r.open_count,
				   (SELECT count(*) FROM custfocus.feedback rc
					 WHERE rc.service_id IS NULL
					   AND rc.closed_at >= pg_catalog.timezone((SELECT custfocus.reporting_time_zone()),
							   pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())
							   - interval '90 days')) AS closed_recent,
				   r.median_days_to_close AS median_days
			  FROM custfocus.report_feedback r
			 WHERE r.service_id = 0 AND (SELECT custfocus.report_published())
			UNION ALL
			SELECT count(*) FILTER (WHERE lg.status <> 'closed'),
				   count(*) FILTER (WHERE lg.closed_at >= pg_catalog.timezone((SELECT custfocus.reporting_time_zone()),
								pg_catalog.timezone((SELECT custfocus.reporting_time_zone()), pg_catalog.now())
								- interval '90 days')),
				   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM lg.closed_at - lg.received_at) / 86400)
			  FROM custfocus.feedback lg
			 WHERE lg.service_id IS NULL AND NOT (SELECT custfocus.report_published())
			-- (an aggregate without GROUP BY gives a row of none)
			HAVING NOT (SELECT custfocus.report_published())) l
	 CROSS JOIN custfocus.feedback f
	 WHERE f.service_id IS NULL AND f.status <> 'closed'
	   AND (SELECT custfocus.sees_all_programs())
  ) q
 ORDER BY q.received_at, q.feedback_id;
COMMENT ON VIEW custfocus.feedback_queue IS
'Feedback not yet closed about the services of the role''s programs (about no service: for roles that see every program), oldest first, with its age and, for its service, the closed-loop figures; days of the reporting time zone';
COMMENT ON COLUMN custfocus.feedback_queue.feedback_id IS 'Feedback key';
COMMENT ON COLUMN custfocus.feedback_queue.kind IS 'complaint, compliment, suggestion or question';
COMMENT ON COLUMN custfocus.feedback_queue.status IS 'open, acknowledged or actioned';
COMMENT ON COLUMN custfocus.feedback_queue.owner IS 'Who is handling it';
COMMENT ON COLUMN custfocus.feedback_queue.received_at IS 'When it arrived';
COMMENT ON COLUMN custfocus.feedback_queue.age_days IS 'Days from the date it arrived to today (dates in the reporting time zone)';
COMMENT ON COLUMN custfocus.feedback_queue.acknowledged_at IS 'When it was acknowledged (NULL: not yet)';
COMMENT ON COLUMN custfocus.feedback_queue.program_code IS 'Program of the service';
COMMENT ON COLUMN custfocus.feedback_queue.service_code IS 'Service it is about';
COMMENT ON COLUMN custfocus.feedback_queue.channel IS 'How it arrived';
COMMENT ON COLUMN custfocus.feedback_queue.body IS 'What the customer said';
COMMENT ON COLUMN custfocus.feedback_queue.service_open IS 'Feedback about the same service not yet closed';
COMMENT ON COLUMN custfocus.feedback_queue.service_closed_last_90_days IS 'Feedback about the same service closed in the last 90 days (at or after the same time of day 90 days ago, days of the reporting time zone)';
COMMENT ON COLUMN custfocus.feedback_queue.service_median_days_to_close IS 'Median days from arrival to closing, over the service''s closed feedback, to one decimal (numeric(8,1))';


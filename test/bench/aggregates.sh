# Sourced by run.sh and instructions.sh: the table the aggregates are
# measured on, the aggregates with their plain-SQL forms, and the count()
# each is compared with, so that the timings and the instruction counts
# measure the same statements.

# bench_scores_sql ROWS: the statements that make the table, one a line (the
# form both psql and a single-user backend read)
bench_scores_sql() {
	cat <<SQL
SELECT setseed(0.7);
CREATE TABLE bench_scores AS SELECT floor(random() * 11)::real AS nps, (1 + floor(random() * 5))::real AS sat, (0.5 + random())::float8 AS w FROM generate_series(1, $1);
VACUUM ANALYZE bench_scores;
SQL
}

declare -A plain=(
	[nps]="SELECT 100.0 * (count(*) FILTER (WHERE nps >= 9) - count(*) FILTER (WHERE nps <= 6)) / count(nps) FROM bench_scores;"
	[top_box]="SELECT 100.0 * count(*) FILTER (WHERE sat >= 4) / count(sat) FROM bench_scores;"
	[csat]="SELECT 100.0 * count(*) FILTER (WHERE sat >= 4) / count(sat) FROM bench_scores;"
	[linear_mean]="SELECT avg(100 * (sat - 1) / 4) FROM bench_scores;"
	[nps_stats]="SELECT 100.0 * (count(*) FILTER (WHERE nps >= 9) - count(*) FILTER (WHERE nps <= 6)) / count(nps), count(*) FILTER (WHERE nps >= 9), count(*) FILTER (WHERE nps BETWEEN 7 AND 8), count(*) FILTER (WHERE nps <= 6) FROM bench_scores;"
	[nps_weighted]="SELECT 100 * (sum(w) FILTER (WHERE nps >= 9) - sum(w) FILTER (WHERE nps <= 6)) / sum(w), sum(w) ^ 2 / sum(w * w) FROM bench_scores;"
	[mean_ci]="SELECT avg(sat), stddev_samp(sat), count(sat) FROM bench_scores;"
)
declare -A ours=(
	[nps]="SELECT custfocus.nps(nps) FROM bench_scores;"
	[top_box]="SELECT custfocus.top_box(sat, 4) FROM bench_scores;"
	[csat]="SELECT custfocus.csat(sat) FROM bench_scores;"
	[linear_mean]="SELECT custfocus.linear_mean(sat, 1, 5) FROM bench_scores;"
	[nps_stats]="SELECT custfocus.nps_stats(nps) FROM bench_scores;"
	[nps_weighted]="SELECT custfocus.nps_stats(nps, w) FROM bench_scores;"
	[mean_ci]="SELECT custfocus.mean_ci(sat) FROM bench_scores;"
)
aggs=(nps top_box csat linear_mean nps_stats nps_weighted mean_ci)
# The reference for each aggregate is count() of the last column it reads:
# the scan then deforms the same columns, and the ratio is the price of the
# aggregate's own work (the real -> double precision cast of the score
# included, since answer.value is real).
declare -A refcol=([nps]=nps [top_box]=sat [csat]=sat [linear_mean]=sat [nps_stats]=nps [nps_weighted]=w [mean_ci]=sat)
refs=(nps sat w)

# bench/run's PostgreSQL scenarios (sourced; needs psql, pgbench, PostgreSQL and Redis on
# 127.0.0.1). One database seeded once — 10,000 posts, 1,000 products (a million units
# each, so the mix's orders never run out), 1,000 customers with tokens — read by levee with
# the cache on (+ Redis), with it off, and by the single-SELECT baseline.
pg_url=$(fresh_pg levee_bench_pg)
pg_env=(LEVEE_DATABASE__URL="$pg_url" LEVEE_DATABASE__MAX_CONNECTIONS="$pool")

start_levee LEVEE_RATE_LIMIT__ENABLED=false "${pg_env[@]}" "${redis_env[@]}"
seed --posts "$posts" --products "$products" --stock 1000000 --customers 1000 --tokens "$work/tokens"
BENCH_N=$posts at_levels posts_cached_pg hello -s bench/log-uniform.lua "$base"
hit_ratio posts_cached_pg
pg_peak=$(rss_kib VmHWM)
stop_levee

# The database ceiling: the same table, pool size and SKUs, one SELECT per request.
probe=products/SEED-000001 start_baseline select "$pg_url" "$pool"
BENCH_N=$products BENCH_PATH=/products/SEED-%06d at_levels select - -s bench/log-uniform.lua "$base"
stop_levee
fresh_pg levee_bench_pgbench >/dev/null
pgbench -i -q -s 1 -h 127.0.0.1 -U postgres levee_bench_pgbench >/dev/null 2>&1
pgbench_run pgbench_S_c64 levee_bench_pgbench 64

start_levee LEVEE_RATE_LIMIT__ENABLED=false LEVEE_CACHE__ENABLED=false "${pg_env[@]}"
BENCH_N=$products BENCH_PATH=/products/SEED-%06d at_levels products_uncached_pg select -s bench/log-uniform.lua "$base"
BENCH_N=$posts measure posts_uncached_pg_c64 select_c64 -t2 -c64 -d"$duration" -s bench/log-uniform.lua "$base"
stop_levee

# 90/10 read/write with the default rate limits in Redis, behind a trusted proxy.
start_levee "${pg_env[@]}" "${redis_env[@]}" LEVEE_SERVER__TRUSTED_PROXIES='["127.0.0.1/32"]'
LEVEE_BENCH_TOKENS="$work/tokens" BENCH_N=$posts at_levels mix_pg hello -s bench/mix.lua "$base"
stop_levee

# Read replica: the uncached read on the primary only vs. on the streaming replica of
# `.ci/topology up` (port 5433; skipped without it). 1,000 posts each.
if pg_isready -q -h 127.0.0.1 -p 5433; then
  for mode in primary replica; do
    url=$(fresh_pg "levee_bench_$mode")
    env=(LEVEE_RATE_LIMIT__ENABLED=false LEVEE_CACHE__ENABLED=false LEVEE_DATABASE__URL="$url")
    [ "$mode" = replica ] && env+=(LEVEE_DATABASE__REPLICAS="[\"postgres://postgres@127.0.0.1:5433/levee_bench_replica\"]")
    start_levee "${env[@]}"
    seed --posts 1000
    BENCH_N=1000 measure "posts_${mode}_pg_c64" select_c64 -t2 -c64 -d"$duration" -s bench/log-uniform.lua "$base"
    # Where the reads went, from levee's routing counter (the replica's name has its port).
    curl -fs "$base/metrics" | awk '/^levee_db_reads_routed_total/ { if ($0 ~ /:5433/) r += $NF; else p += $NF }
      END { printf "{\"replica_reads\": %d, \"primary_reads\": %d}\n", r, p }' >"$(result "posts_${mode}_pg_routing")"
    figure "posts_${mode}_pg_routing"
    stop_levee
  done
else
  echo "posts_replica_pg            skipped: needs a replica on 127.0.0.1:5433 (.ci/topology up)"
fi

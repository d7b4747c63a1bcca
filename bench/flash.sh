# bench/run's flash sale (sourced): one hot product with $flash_stock units, 1000 customers
# (tokens written by `levee seed --customers`), default rate limits (each customer stays far
# below the `authenticated` quota; any 429 fails the run) and default workers, in `serve`.

# orders_counts: "placed completed settled" from levee_orders_total.
orders_counts() {
  curl -fs "$base/metrics" | awk '/^levee_orders_total/ {
      if ($0 ~ /status="pending"/) placed = $NF
      if ($0 ~ /status="completed"/) completed = $NF
      if ($0 ~ /status="(completed|rejected|failed|cancelled)"/) settled += $NF }
    END { printf "%d %d %d\n", placed, completed, settled }'
}

# stock_check: the hot product's levels, its ledger's sums, units sold, units on completed
# orders and orders not yet settled, as one line of numbers.
stock_check() {
  local sql="SELECT i.on_hand, i.reserved,
      (SELECT COALESCE(SUM(on_hand_delta), 0) FROM inventory_ledger WHERE product_id = p.id),
      (SELECT COALESCE(SUM(reserved_delta), 0) FROM inventory_ledger WHERE product_id = p.id),
      (SELECT COALESCE(SUM(-on_hand_delta), 0) FROM inventory_ledger WHERE product_id = p.id AND kind = 'commit'),
      (SELECT COALESCE(SUM(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id
        WHERE o.status = 'completed' AND l.product_id = p.id),
      (SELECT COUNT(*) FROM orders WHERE status NOT IN ('completed', 'rejected', 'failed', 'cancelled'))
    FROM products p JOIN inventory i ON i.product_id = p.id WHERE p.sku = 'SEED-000001'"
  if [ -n "${1:-}" ]; then psql -At -F' ' "$1" -c "$sql"; else sqlite3 -separator ' ' "$levee_dir/data/levee.db" "$sql"; fi
}

# flash_run NAME [DATABASE_URL [VAR=value ...]]: the embedded SQLite without a URL.
flash_run() {
  local name=$1 url=${2:-} env=() sampler started finished settle_by placed settled
  shift $(( $# > 1 ? 2 : 1 ))
  [ -n "$url" ] && env=(LEVEE_DATABASE__URL="$url")
  env+=("$@")
  start_levee "${env[@]}"
  seed --products 1 --stock "$flash_stock" --customers 1000 --tokens "$levee_dir/tokens"
  (while :; do echo "$(date +%s.%N) $(orders_counts)"; sleep 0.25; done) >"$levee_dir/samples" &
  sampler=$!
  started=$(date +%s.%N)
  LEVEE_BENCH_TOKENS="$levee_dir/tokens" LEVEE_BENCH_SKU=SEED-000001 \
    wrk -t2 -c32 -d"$duration" -s bench/flash-orders.lua "$base/orders" | tail -n1 >"$levee_dir/wrk.json"
  finished=$(date +%s.%N)
  no_rejections "$name"
  # Every placed order settles (completed, rejected, failed) before the stock is checked.
  settle_by=$((SECONDS + 600))
  until read -r placed _ settled < <(orders_counts) && [ "$placed" -gt 0 ] && [ "$placed" = "$settled" ]; do
    [ $SECONDS -lt $settle_by ] || { echo "$name: orders did not settle in 600 s"; exit 1; }
    sleep 0.25
  done
  sleep 0.5
  kill "$sampler"; wait "$sampler" 2>/dev/null || true
  python3 - "$levee_dir" "$started" "$finished" "$flash_stock" "$(stock_check "$url")" >"$(result "$name")" <<'PY'
import json, sys
work, started, finished, stock = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
on_hand, reserved, ledger_on_hand, ledger_reserved, sold, completed_units, unsettled = map(int, sys.argv[5].split())
run = json.load(open(f"{work}/wrk.json"))
samples = [tuple(float(x) for x in line.split()) for line in open(f"{work}/samples") if len(line.split()) == 4]
placed, completed, settled = samples[-1][1:]
# The first sample that saw the final count dates the last completion (to 0.25 s).
completed_at = next(t for t, _, c, _ in samples if c == completed)
settled_at = next(t for t, _, _, s in samples if s == settled)
run.update({
    "accepted_per_s": round(run["accepted"] / run["duration_s"], 1),
    "placed": int(placed), "completed": int(completed), "stock": stock,
    "completions_per_s": round(completed / (completed_at - started), 1),
    "settled_per_s": round(settled / (settled_at - started), 1),
    "drain_s": round(max(settled_at - finished, 0), 2),
    "oversold": max(sold - stock, 0),
    "stock_reconciles": on_hand == ledger_on_hand == stock - sold and reserved == ledger_reserved == 0
        and on_hand - reserved >= 0 and sold == completed_units == completed and unsettled == 0,
    "levels": {"on_hand": on_hand, "reserved": reserved, "sold": sold},
})
print(json.dumps(run))
PY
  echo "$name -" >>"$work/rows"
  show "$name"
  stop_levee
}

flash_run flash_sqlite
if command -v psql >/dev/null && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  flash_run flash_pg "$(fresh_pg levee_bench_flash)" "${redis_env[@]}"
else
  echo "flash_pg       skipped: needs psql and Redis on 127.0.0.1"
fi

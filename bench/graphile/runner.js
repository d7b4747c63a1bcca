// graphile-worker, the same-run baseline of levee's job queue (bench/jobs): queues N no-op
// jobs with addJobs, then one worker instance with concurrency C and its local queue
// (batched claims of up to `--local-queue` jobs, batched completion) works them. Timing
// and the stop condition mirror `levee jobs bench`: from the worker's start until every
// handler ran (counted in process) and every completion is written (the job rows are gone).
// Prints one JSON object.
//
// node runner.js --database URL [--jobs 20000] [--concurrency 24] [--local-queue 500]
"use strict";
const fs = require("fs");
const path = require("path");
// npm installs into bench/.node (git-ignored); bench/jobs runs `npm ci` there.
const nodeDir = process.env.LEVEE_BENCH_NODE_DIR || path.join(__dirname, "../.node");
const { Logger, makeWorkerUtils, run } = require(require.resolve("graphile-worker", { paths: [nodeDir] }));
const version = JSON.parse(
  fs.readFileSync(path.join(nodeDir, "node_modules/graphile-worker/package.json"), "utf8"),
).version;

function args() {
  const out = { jobs: 20000, concurrency: 24, localQueue: 500, database: null };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (key === "--database") out.database = value;
    else if (key === "--jobs") out.jobs = Number(value);
    else if (key === "--concurrency") out.concurrency = Number(value);
    else if (key === "--local-queue") out.localQueue = Number(value);
    else throw new Error(`unknown argument ${key}`);
  }
  if (!out.database) throw new Error("--database URL is required");
  for (const k of ["jobs", "concurrency", "localQueue"]) {
    if (!Number.isInteger(out[k]) || out[k] < (k === "localQueue" ? -1 : 1) || out[k] > 10_000_000) {
      throw new Error(`--${k}: expected a positive integer, got ${out[k]}`);
    }
  }
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const opts = args();
  const logger = new Logger(() => (level, message) => {
    if (level === "error" || level === "warning") console.error(`${level}: ${message}`);
  });
  const utils = await makeWorkerUtils({ connectionString: opts.database, logger });
  await utils.migrate();
  await utils.withPgClient((c) => c.query("DELETE FROM graphile_worker._private_jobs"));
  for (let queued = 0; queued < opts.jobs; queued += 1000) {
    const n = Math.min(1000, opts.jobs - queued);
    await utils.addJobs(Array.from({ length: n }, () => ({ identifier: "noop", payload: {} })));
  }
  const remaining = async () =>
    Number((await utils.withPgClient((c) => c.query("SELECT count(*) AS n FROM graphile_worker._private_jobs"))).rows[0].n);

  let ran = 0;
  const began = process.hrtime.bigint();
  const runner = await run({
    logger,
    preset: {
      worker: {
        connectionString: opts.database,
        concurrentJobs: opts.concurrency,
        maxPoolSize: opts.concurrency + 2,
        pollInterval: 1000,
        localQueue: { size: opts.localQueue },
        completeJobBatchDelay: 0,
        failJobBatchDelay: 0,
      },
    },
    taskList: {
      noop: async () => {
        ran += 1;
      },
    },
  });
  while (ran < opts.jobs) await sleep(2);
  while ((await remaining()) > 0) await sleep(2);
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  await runner.stop();
  await utils.release();
  console.log(
    JSON.stringify({
      baseline: "graphile-worker",
      version,
      backend: "postgres",
      jobs: opts.jobs,
      concurrency: opts.concurrency,
      local_queue: opts.localQueue,
      seconds,
      jobs_per_second: opts.jobs / seconds,
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

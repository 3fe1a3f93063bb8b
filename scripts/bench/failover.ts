/**
 * Live sync through the loss of a NATS node: two real daemons on a private 3-node JetStream
 * cluster, A writing `--writes` files `--gap-ms` apart, the node holding the stream's leader
 * (and A's connection) killed after `--kill-after` writes and restarted after
 * `--restart-after` (tests/daemon/failover_scenario.ts). Prints propagation p50/p99/max, the
 * files lost and the events handed to B's sync loop twice.
 *
 * Usage: `$DENO run -A scripts/bench/failover.ts [--writes 100] [--gap-ms 200]
 *   [--kill-after 30] [--restart-after 70]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { quantile, runFailover } from "../../tests/daemon/failover_scenario.ts";

const args = parseArgs({
  options: {
    writes: { type: "string", default: "100" },
    "gap-ms": { type: "string", default: "200" },
    "kill-after": { type: "string", default: "30" },
    "restart-after": { type: "string", default: "70" },
  },
}).values;
const result = await runFailover({
  writes: Number(args.writes),
  gapMs: Number(args["gap-ms"]),
  killAfter: Number(args["kill-after"]),
  restartAfter: Number(args["restart-after"]),
});
const ms = (value: number | undefined) => value === undefined ? "-" : `${Math.round(value)} ms`;
console.log(
  `failover writes=${args.writes} gap=${args["gap-ms"]} ms kill-after=${args["kill-after"]} ` +
    `restart-after=${args["restart-after"]}  p50=${ms(quantile(result.latenciesMs, 0.5))}  ` +
    `p99=${ms(quantile(result.latenciesMs, 0.99))}  max=${ms(result.latenciesMs.at(-1))}  ` +
    `lost=${result.lost.length}  duplicates=${result.duplicates}  ` +
    `A reconnects=${result.aReconnects}  replicas=${result.replicas}  healed=${result.healed}`,
);
if (result.lost.length > 0) console.log(`lost: ${result.lost.join(" ")}`);

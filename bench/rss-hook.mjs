// Preloaded with `node --import bench/rss-hook.mjs ...` into a process the bench spawns (the CLI):
// at exit, writes the process's peak RSS (KiB) to the file named by $BENCH_RSS_FILE.
import { writeFileSync } from "node:fs";

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on("exit", () => {
    writeFileSync(file, String(process.resourceUsage().maxRSS));
  });
}

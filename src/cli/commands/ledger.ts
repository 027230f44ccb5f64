import type { Command } from "commander";
import { act, globalsOf, loadGlobalConfig, printJson, type GlobalOptions } from "../context.js";
import { EXIT } from "../exit-codes.js";

export function register(program: Command): void {
  const ledger = program.command("ledger").description("the ledger itself: copy it to another one");
  ledger
    .command("copy")
    .description(
      "copy everything the ledger holds (runs, items, checkpoints, breakers, events, documents) into another ledger: SQLite ↔ PostgreSQL",
    )
    .requiredOption(
      "--to <place>",
      "postgres://user@host:port/db, or a SQLite ledger file (a folder: its state.db)",
    )
    .option("--schema <name>", "the destination's PostgreSQL schema (default syncwarden)")
    .option("--replace", "empty a destination that already holds rows (default: refuse it)")
    .option("--json", "print the per-table counts and checksums as JSON on stdout")
    .action(act((o: CopyOptions, cmd: Command) => copyCommand({ ...globalsOf(cmd), ...o })));
}

interface CopyOptions extends GlobalOptions {
  to: string;
  schema?: string;
  replace?: boolean;
  json?: boolean;
}

async function copyCommand(opts: CopyOptions): Promise<number> {
  const { copyLedgerTo } = await import("../../service/ledger-copy.js");
  const loaded = loadGlobalConfig(opts);
  const result = await copyLedgerTo(loaded, opts.to, {
    ...(opts.schema ? { schema: opts.schema } : {}),
    ...(opts.replace ? { replace: true } : {}),
    ...(opts.json
      ? {}
      : { onProgress: (p) => void process.stderr.write(`\r${p.table}: ${p.rows} rows`.padEnd(40)) }),
  });
  if (!opts.json) process.stderr.write("\r".padEnd(41) + "\r");
  if (opts.json) printJson(result);
  else {
    const tables = Object.entries(result.tables)
      .filter(([, t]) => t.rows > 0)
      .map(([name, t]) => `  ${name}: ${t.rows} rows`);
    process.stdout.write(
      `copied ${result.rows} rows from ${result.from} to ${result.to}; every table's count and checksum match\n${tables.join("\n")}\n`,
    );
  }
  return EXIT.ok;
}

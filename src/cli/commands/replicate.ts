import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import type {
  ConflictStrategy,
  Direction,
  TargetReport,
  VerifyReport,
} from "../../service/replica-service.js";
import { act, globalsOf, printJson, withReplicas, type GlobalOptions } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { commandHelpText } from "../help-text.js";

export interface ReplicateOptions extends GlobalOptions {
  direction?: string;
  conflict?: string;
  dryRun?: boolean;
  force?: boolean;
  progress?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("replicate")
    .description(
      "keep replica folders in step with their targets (three-way, from the last synced state); a target needs its .syncwarden-replica marker, created by the first run only (no manifest yet, target folder exists)",
    )
    .addHelpText("after", commandHelpText("replicate"))
    .argument("[name]", "only this replica")
    .option("--direction <direction>", "push | pull | bidirectional (overrides the config)")
    .option("--conflict <strategy>", "newest | local | remote | manual (overrides the config)")
    .option("--dry-run", "print the plan (copies, deletes, conflicts) without writing")
    .option("--force", "go past the max_delete and clock-shift guards")
    .option("--progress", "a line on stderr when a target starts applying changes, and at each checkpoint")
    .option("--json", "print a summary per target as JSON on stdout")
    .action(
      act((name: string | undefined, _o: unknown, cmd: Command) =>
        replicateCommand(name, globalsOf<ReplicateOptions>(cmd)),
      ),
    );
  program
    .command("replicas")
    .description("replica folders")
    .command("verify")
    .description("hash both sides of every target and report every difference (exit 0 only when they match)")
    .argument("[name]", "only this replica")
    .option("--json", "print as JSON on stdout")
    .action(
      act((name: string | undefined, _o: unknown, cmd: Command) => verifyCommand(name, globalsOf(cmd))),
    );
}

function pick<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`--${flag} must be one of ${allowed.join(", ")} (got "${value}")`);
  return value as T;
}

function render(r: TargetReport): string {
  const head = `${r.replica} → ${r.target}: ${r.status}${r.message === undefined ? "" : ` (${r.message})`}`;
  const lines = [head];
  if (r.initialised) lines.push(`  first run: marker created on the target`);
  if (r.status === "ok" || r.status === "dry-run" || r.status === "interrupted")
    lines.push(
      `  ${r.status === "dry-run" ? "would copy" : "copied"} ${r.copied}, ${r.status === "dry-run" ? "would delete" : "deleted"} ${r.deleted}, ${r.conflicts.length} conflicts, ${r.skipped.length} skipped, ${r.errors.length} errors`,
    );
  for (const a of r.plan ?? []) {
    if (a.kind === "copy")
      lines.push(`  copy ${a.to === "remote" ? "local → remote" : "remote → local"}: ${a.path}`);
    else if (a.kind === "delete") lines.push(`  delete on ${a.on}: ${a.path}`);
    else if (a.kind === "conflict")
      lines.push(`  conflict (${a.winner === "manual" ? "keep both" : `${a.winner} wins`}): ${a.path}`);
  }
  for (const c of r.conflicts)
    lines.push(
      `  conflict ${c.path}: ${c.winner === "manual" ? `both kept, ${c.loser} version as ${c.keptAs ?? "?"}` : `${c.winner} won`}; ${c.loser} version backed up to ${c.backup}`,
    );
  for (const g of r.collisions) lines.push(`  collision (case/Unicode), not written: ${g.join(" | ")}`);
  for (const s of r.symlinksOutside) lines.push(`  symlink pointing outside the root, not followed: ${s}`);
  for (const s of r.skipped) lines.push(`  skipped ${s.path}: ${s.reason}`);
  for (const e of r.errors) lines.push(`  error ${e.path}: ${e.message}`);
  if (r.snapshot !== undefined) lines.push(`  state snapshot written: ${r.snapshot}`);
  return lines.join("\n");
}

export function replicateExitCode(reports: readonly TargetReport[]): number {
  if (reports.some((r) => r.status === "locked")) return EXIT.locked;
  const partial = reports.some(
    (r) =>
      (r.status !== "ok" && r.status !== "dry-run") ||
      r.errors.length > 0 ||
      r.collisions.length > 0 ||
      r.conflicts.some((c) => c.winner === "manual"),
  );
  return partial ? EXIT.partial : EXIT.ok;
}

async function replicateCommand(name: string | undefined, opts: ReplicateOptions): Promise<number> {
  const direction = pick<Direction>("direction", opts.direction, ["push", "pull", "bidirectional"]);
  const conflict = pick<ConflictStrategy>("conflict", opts.conflict, ["newest", "local", "remote", "manual"]);
  return withReplicas(opts, async (replicas) => {
    // a breaker opening or closing is news to the person at the terminal
    const log = (line: string): boolean => process.stderr.write(line + "\n");
    // a breaker opening or closing is news to the person at the terminal; progress lines when asked
    const lines = replicas.on((e) => {
      if (e.type === "breaker:transition") log(`[CIRCUIT] ${e.provider}: ${e.from} → ${e.to} (${e.reason})`);
      else if (e.type === "replica:progress" && opts.progress) log(e.message);
    });
    const controller = new AbortController();
    const stop = (sig: NodeJS.Signals): void => {
      if (controller.signal.aborted) process.exit(EXIT.interrupted);
      log(`\n${sig}: stopping: copies in flight finish and are recorded, the rest wait (again to quit now)`);
      controller.abort();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    try {
      const { targets: reports } = await replicas.replicate({
        ...(name === undefined ? {} : { replica: name }),
        ...(direction ? { direction } : {}),
        ...(conflict ? { conflict } : {}),
        dryRun: opts.dryRun === true,
        force: opts.force === true,
        signal: controller.signal,
      });
      if (opts.json)
        printJson({
          targets: reports.map(({ unreachable: _u, plan, ...r }) => ({ ...r, ...(plan ? { plan } : {}) })),
        });
      else process.stdout.write(reports.map(render).join("\n") + "\n");
      return controller.signal.aborted ? EXIT.interrupted : replicateExitCode(reports);
    } finally {
      lines.dispose();
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
  });
}

const renderVerify = (r: VerifyReport): string =>
  [
    `${r.replica} → ${r.target}: ${r.error !== undefined ? `error: ${r.error}` : r.match ? "identical" : "DIFFERENT"}`,
    ...r.onlyLocal.map((p) => `  only local: ${p}`),
    ...r.onlyRemote.map((p) => `  only remote: ${p}`),
    ...r.differ.map((p) => `  contents differ: ${p}`),
  ].join("\n");

async function verifyCommand(
  name: string | undefined,
  opts: GlobalOptions & { json?: boolean },
): Promise<number> {
  return withReplicas(opts, async (replicas) => {
    const reports = await replicas.verify(name);
    if (opts.json) printJson({ targets: reports });
    else process.stdout.write(reports.map(renderVerify).join("\n") + "\n");
    return reports.every((r) => r.match) ? EXIT.ok : EXIT.partial;
  });
}

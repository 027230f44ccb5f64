import { loadConfig, resolveConfigFile } from "../../config/load-config.js";
import { UsageError } from "../../errors.js";
import type { ConflictStrategy, Direction } from "../../replicas/reconcile.js";
import type { TargetReport } from "../../replicas/run-target.js";
import { resolveTargets } from "../../replicas/targets.js";
import type { VerifyReport } from "../../replicas/verify.js";
import { EXIT } from "../exit-codes.js";
import type { GlobalOptions } from "../ledger-context.js";

// Imports only what finds the targets; the ledger (the SQLite library) and the copy code load on use.

export interface ReplicateOptions extends GlobalOptions {
  direction?: string;
  conflict?: string;
  dryRun?: boolean;
  force?: boolean;
  progress?: boolean;
  json?: boolean;
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

export async function replicateCommand(name: string | undefined, opts: ReplicateOptions): Promise<number> {
  const direction = pick<Direction>("direction", opts.direction, ["push", "pull", "bidirectional"]);
  const conflict = pick<ConflictStrategy>("conflict", opts.conflict, ["newest", "local", "remote", "manual"]);
  const loaded = loadConfig(resolveConfigFile(opts.config));

  const targets = resolveTargets(loaded, name, {
    ...(direction ? { direction } : {}),
    ...(conflict ? { conflict } : {}),
  });
  const [{ printJson, withLoadedLedger }, { replicate }] = await Promise.all([
    import("../ledger-context.js"),
    import("../../replicas/replicate.js"),
  ]);
  const log = (line: string): boolean => process.stderr.write(line + "\n");
  const controller = new AbortController();
  const stop = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    log(`\n${sig}: stopping: copies in flight finish and are recorded, the rest wait (again to quit now)`);
    controller.abort();
  };
  return withLoadedLedger(loaded, async (service) => {
    let reports: TargetReport[];
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    try {
      reports = await replicate(
        service.ledger,
        service.owner,
        targets,
        {
          dryRun: opts.dryRun === true,
          force: opts.force === true,
          signal: controller.signal,
          ...(opts.progress ? { progress: log } : {}),
        },
        log,
      );
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
    if (opts.json)
      printJson({
        targets: reports.map(({ unreachable: _u, plan, ...r }) => ({ ...r, ...(plan ? { plan } : {}) })),
      });
    else process.stdout.write(reports.map(render).join("\n") + "\n");
    return controller.signal.aborted ? EXIT.interrupted : replicateExitCode(reports);
  });
}

export async function verifyCommand(
  name: string | undefined,
  opts: GlobalOptions & { json?: boolean },
): Promise<number> {
  const [{ printJson, withLedger }, { verifyTarget }] = await Promise.all([
    import("../ledger-context.js"),
    import("../../replicas/verify.js"),
  ]);
  return withLedger(opts, async (service) => {
    const reports: VerifyReport[] = [];
    for (const t of resolveTargets(service.loaded, name)) reports.push(await verifyTarget(t));
    if (opts.json) printJson({ targets: reports });
    else
      process.stdout.write(
        reports
          .map((r) =>
            [
              `${r.replica} → ${r.target}: ${r.error !== undefined ? `error: ${r.error}` : r.match ? "identical" : "DIFFERENT"}`,
              ...r.onlyLocal.map((p) => `  only local: ${p}`),
              ...r.onlyRemote.map((p) => `  only remote: ${p}`),
              ...r.differ.map((p) => `  contents differ: ${p}`),
            ].join("\n"),
          )
          .join("\n") + "\n",
      );
    return reports.every((r) => r.match) ? EXIT.ok : EXIT.partial;
  });
}

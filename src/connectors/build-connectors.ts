import type { PhaseConfig } from "../config/schema.js";
import { loadModuleConnector } from "./load-module.js";
import { SqliteDocsSink } from "./sinks/sqlite-docs-sink.js";
import { GitSource } from "./sources/git-source.js";
import type { ConnectorContext, Enricher, Sink, Source } from "./types.js";

export interface PhaseConnectors {
  source: Source;
  enrich: Enricher[];
  sink: Sink;
}

/** Builds the source, enrich steps and sink of one phase from its configuration. */
export async function buildConnectors(
  phase: PhaseConfig,
  ctx: Omit<ConnectorContext, "signal">,
): Promise<PhaseConnectors> {
  const at = `jobs.${ctx.job}.phases.${phase.name}`;
  const source =
    phase.source.type === "git"
      ? new GitSource(phase.source, ctx.baseDir)
      : await loadModuleConnector<Source>(`${at}.source`, phase.source, ["target", "list", "fetch"], ctx);
  const enrich: Enricher[] = [];
  for (const [i, e] of phase.enrich.entries()) {
    enrich.push(await loadModuleConnector<Enricher>(`${at}.enrich[${i}]`, e, ["enrich"], ctx));
  }
  const sink =
    phase.sink.type === "sqlite-docs"
      ? new SqliteDocsSink(phase.sink.table)
      : await loadModuleConnector<Sink>(`${at}.sink`, phase.sink, ["apply"], ctx);
  return { source, enrich, sink };
}

export async function closeConnectors(c: PhaseConnectors): Promise<void> {
  await Promise.allSettled([c.source.close?.(), c.sink.close?.(), ...c.enrich.map((e) => e.close?.())]);
}

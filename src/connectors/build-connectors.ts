import type { PhaseConfig } from "../config/schema.js";
import { LlmExtract } from "./enrichers/llm-extract.js";
import { OpenAiEmbeddings } from "./enrichers/openai-embeddings.js";
import { loadModuleConnector } from "./load-module.js";
import { LedgerDocsSink } from "./sinks/ledger-docs-sink.js";
import { MemorySink } from "./sinks/memory-sink.js";
import { GitSource } from "./sources/git-source.js";
import { GithubSource } from "./sources/github-source.js";
import { HttpJsonSource } from "./sources/http-json-source.js";
import { SessionsSource } from "./sources/sessions/sessions-source.js";
import type { ConnectorContext, Enricher, Sink, Source } from "./types.js";

/** An enrich step with what the engine needs to know about it. */
export interface EnrichStep {
  step: Enricher;
  /** Complete the item raw (and owe the step) when the provider is unavailable. */
  degradable: boolean;
  provider: string | null;
}

export interface PhaseConnectors {
  source: Source;
  enrich: EnrichStep[];
  sink: Sink;
}

/** Builds the source, enrich steps and sink of one phase from its configuration. */
export async function buildConnectors(
  phase: PhaseConfig,
  ctx: Omit<ConnectorContext, "signal">,
): Promise<PhaseConnectors> {
  const at = `jobs.${ctx.job}.phases.${phase.name}`;
  const s = phase.source;
  const source =
    s.type === "git"
      ? new GitSource(s, ctx.baseDir)
      : s.type === "http-json"
        ? new HttpJsonSource(s)
        : s.type === "github"
          ? new GithubSource(s, `${at}.source`)
          : s.type === "sessions"
            ? new SessionsSource(s, ctx.baseDir)
            : await loadModuleConnector<Source>(`${at}.source`, s, ["target", "list", "fetch"], ctx);
  const enrich: EnrichStep[] = [];
  for (const [i, e] of phase.enrich.entries()) {
    const step =
      e.type === "openai-embeddings"
        ? new OpenAiEmbeddings(e)
        : e.type === "llm-extract"
          ? new LlmExtract(e)
          : await loadModuleConnector<Enricher>(`${at}.enrich[${i}]`, e, ["enrich"], ctx);
    enrich.push({ step, degradable: e.degradable, provider: e.provider ?? null });
  }
  return { source, enrich, sink: await buildSink(phase, ctx) };
}

/** The sink of one phase (alone: `search` asks sinks for their documents). */
export async function buildSink(phase: PhaseConfig, ctx: Omit<ConnectorContext, "signal">): Promise<Sink> {
  const at = `jobs.${ctx.job}.phases.${phase.name}.sink`;
  const sink = phase.sink;
  if (sink.type === "module") return await loadModuleConnector<Sink>(at, sink, ["apply"], ctx);
  if (sink.type === "memory") return MemorySink.from(sink.table, at, ctx.documents);
  return LedgerDocsSink.from(sink.type, sink.table, at, ctx.documents);
}

export async function closeConnectors(c: PhaseConnectors): Promise<void> {
  await Promise.allSettled([c.source.close?.(), c.sink.close?.(), ...c.enrich.map((e) => e.step.close?.())]);
}

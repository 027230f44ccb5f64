import type { LoadedConfig } from "../config/load-config.js";
import type { GithubSourceConfig } from "../config/sources-schema.js";
import type { ConnectorContext } from "../connectors/types.js";
import { GithubSource } from "../connectors/sources/github-source.js";
import { errorMessage, isSyncError, type ErrorClass } from "../errors.js";
import type { ResilienceStore } from "../ledger/resilience-store.js";
import type { OwnProviderSpec } from "../resilience/providers.js";
import { redact } from "../config/secrets.js";

/** One token's primary limit and its shared gate (`syncwarden github limits`): the token never, only its identity. */
export interface GithubLimit {
  /** `github:HOST:token-<hash>` or `github:HOST:anonymous`: the provider the jobs share. */
  provider: string;
  baseUrl: string;
  /** The jobs (job/phase) that call through this token. */
  jobs: string[];
  limit?: number;
  remaining?: number;
  used?: number;
  /** When the window resets (ISO). */
  reset?: string;
  /** The shared gate, when it is closed: until when and why. */
  gate: { pausedUntil: string; reason: string | null } | null;
  /** Why the limit could not be read (a refused token: class config). */
  error?: { errorClass: ErrorClass; message: string };
}

/** Each github phase of the configuration: where it is (job/phase, config path) and its source. */
function* githubPhases(
  loaded: LoadedConfig,
): Iterable<{ job: string; phase: string; config: GithubSourceConfig; at: string }> {
  for (const [job, j] of Object.entries(loaded.config.jobs))
    for (const phase of j.phases)
      if (phase.source.type === "github")
        yield { job, phase: phase.name, config: phase.source, at: `jobs.${job}.phases.${phase.name}.source` };
}

/** The providers of the configuration's github sources (one per API host and token), by name. */
export function githubProviders(loaded: LoadedConfig): Map<string, OwnProviderSpec> {
  const out = new Map<string, OwnProviderSpec>();
  for (const p of githubPhases(loaded)) {
    let s: GithubSource;
    try {
      s = new GithubSource(p.config, p.at);
    } catch {
      continue; // its token's variable is not set here: a run of that job says so
    }
    out.set(s.providerName, s.providerSpec);
  }
  return out;
}

/**
 * Every distinct token of the configuration's github sources, with GET /rate_limit's `core` (which
 * costs nothing) and the state of the gate every process shares for it.
 */
export async function githubLimits(
  loaded: LoadedConfig,
  store: ResilienceStore,
  context: (job: string, phase: string) => Omit<ConnectorContext, "signal">,
  signal: AbortSignal,
): Promise<GithubLimit[]> {
  const seen = new Map<string, { source: GithubSource; ctx: ConnectorContext; out: GithubLimit }>();
  for (const { job, phase, config, at } of githubPhases(loaded)) {
    const source = new GithubSource(config, at);
    const had = seen.get(source.providerName);
    if (had) {
      had.out.jobs.push(`${job}/${phase}`);
      continue;
    }
    seen.set(source.providerName, {
      source,
      ctx: { ...context(job, phase), signal },
      out: { provider: source.providerName, baseUrl: config.base_url, jobs: [`${job}/${phase}`], gate: null },
    });
  }
  const out: GithubLimit[] = [];
  for (const { source, ctx, out: entry } of seen.values()) {
    try {
      const core = await source.limits(ctx);
      Object.assign(entry, {
        limit: core.limit,
        remaining: core.remaining,
        used: core.used,
        reset: new Date(core.reset * 1000).toISOString(),
      });
    } catch (e) {
      entry.error = {
        errorClass: isSyncError(e) ? e.errorClass : "transient",
        message: redact(errorMessage(e)),
      };
    }
    const gate = (await store.readGate(entry.provider)).record;
    if (gate && gate.pausedUntil > Date.now())
      entry.gate = { pausedUntil: new Date(gate.pausedUntil).toISOString(), reason: gate.reason };
    out.push(entry);
  }
  return out;
}

import { providerSchema, type ProviderConfig } from "../config/provider-schema.js";
import type { SyncSettings } from "../config/schema.js";
import { interpolateSecret } from "../config/secrets.js";
import { ConfigError } from "../errors.js";
import type { ResilienceStore } from "../ledger/resilience-store.js";
import { HttpClient } from "./http-client.js";
import { ProviderPolicy, type PolicyOptions } from "./policy.js";
import type { EventBus } from "../events.js";

/** `${NAME}` in a header value, from the environment (registered as a secret); a missing variable is a configuration error. */
function interpolate(provider: string, header: string, value: string, env: NodeJS.ProcessEnv): string {
  return interpolateSecret(
    value,
    env,
    (name) => {
      throw new ConfigError(
        `providers.${provider}.headers.${header}: environment variable ${name} is not set`,
      );
    },
    header,
  );
}

/** The on/off switches of the resilience layer (RESILIENCE_ENABLED, _RETRY_ENABLED, _CIRCUIT_BREAKER_ENABLED). */
export interface ResilienceSwitches {
  enabled: boolean;
  retry: boolean;
  breaker: boolean;
}

export function policyOptions(
  p: ProviderConfig,
  sync: SyncSettings,
  enabled: boolean,
  switches: Omit<ResilienceSwitches, "enabled"> = { retry: true, breaker: true },
): PolicyOptions {
  const jitter = p.retry.jitter === true ? "full" : p.retry.jitter === false ? "none" : p.retry.jitter;
  return {
    retry: {
      maxAttempts: p.retry.max_attempts,
      baseDelayMs: p.retry.base_delay * 1000,
      maxDelayMs: p.retry.max_delay * 1000,
      exponentialBase: p.retry.exponential_base,
      jitter,
      budgetMs: p.retry.budget * 1000,
    },
    breaker: {
      failureThreshold: p.breaker.failure_threshold,
      successThreshold: p.breaker.success_threshold,
      timeoutMs: p.breaker.timeout * 1000,
      maxTimeoutMs: Math.max(p.breaker.timeout, p.breaker.max_timeout) * 1000,
      halfOpenMaxCalls: p.breaker.half_open_max_calls,
      ...(p.breaker.failure_rate
        ? {
            failureRate: {
              threshold: p.breaker.failure_rate.threshold,
              windowMs: p.breaker.failure_rate.window * 1000,
              minCalls: p.breaker.failure_rate.min_calls,
            },
          }
        : {}),
      probeLeaseMs: (p.timeout + 5) * 1000,
    },
    ...(p.rate
      ? { rate: { requests: p.rate.requests, perSeconds: p.rate.per_seconds, burst: p.rate.burst } }
      : {}),
    ...(p.limits
      ? {
          usage: {
            ...(p.limits.requests_per_minute ? { requestsPerMinute: p.limits.requests_per_minute } : {}),
            ...(p.limits.tokens_per_minute ? { tokensPerMinute: p.limits.tokens_per_minute } : {}),
          },
        }
      : {}),
    timeoutMs: p.timeout * 1000,
    concurrency: p.concurrency,
    pauseOnRateLimit: sync.pause_on_rate_limit,
    rateLimitWaitMs: sync.rate_limit_wait_seconds * 1000,
    enabled,
    retryEnabled: switches.retry,
    breakerEnabled: switches.breaker,
    classify: Object.fromEntries(Object.entries(p.classify).map(([k, v]) => [Number(k), v])),
  };
}

/** A provider a connector defines for itself (a github source's token): everything not given takes the defaults. */
export interface OwnProviderSpec {
  baseUrl: string;
  headers: Readonly<Record<string, string>>;
  concurrency: number;
  /** The share of a rate-limit window kept unused. */
  reserve?: number;
  /** A shared token bucket (requests per seconds). */
  rate?: { requests: number; perSeconds: number; burst: number };
  /** The whole call's budget, rate-limit waits included (seconds). */
  budgetSeconds?: number;
  /** `concurrency` caps the calls in flight across every process, not per process. */
  sharedConcurrency?: boolean;
  /** What a refusal of the credentials (401, 403) tells the user to check. */
  credentialsHint?: string;
  /** Its own retry, breaker and timeout settings (as a provider's in `providers:`), over the defaults. */
  policy?: Partial<Pick<ProviderConfig, "retry" | "breaker" | "timeout">>;
}

/** One policy and one HTTP client per configured provider, built on first use. */
export class Providers {
  private readonly built = new Map<string, HttpClient>();

  constructor(
    private readonly config: Readonly<Record<string, ProviderConfig>>,
    private readonly sync: SyncSettings,
    private readonly switches: ResilienceSwitches,
    private readonly store: ResilienceStore,
    private readonly owner: string,
    private readonly events: EventBus,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  names(): string[] {
    return Object.keys(this.config);
  }

  http(name: string): HttpClient {
    const existing = this.built.get(name);
    if (existing) return existing;
    const p = this.config[name];
    if (!p)
      throw new ConfigError(
        `unknown provider "${name}"; providers: ${this.names().join(", ") || "(none configured)"}`,
      );
    const headers = Object.fromEntries(
      Object.entries(p.headers).map(([h, v]) => [h, interpolate(name, h, v, this.env)]),
    );
    // an api_key is a bearer credential: interpolated and registered as a secret like a header's value
    if (p.api_key !== undefined)
      headers.authorization = `Bearer ${interpolateSecret(
        p.api_key,
        this.env,
        (variable) => {
          throw new ConfigError(`providers.${name}.api_key: environment variable ${variable} is not set`);
        },
        "authorization",
      )}`;
    const policy = new ProviderPolicy(
      name,
      this.store,
      policyOptions(p, this.sync, this.switches.enabled, this.switches),
      this.owner,
      this.events,
    );
    const client = new HttpClient(policy, {
      ...(p.base_url ? { baseUrl: p.base_url } : {}),
      headers,
      ...(p.api_key !== undefined ? { credentialsHint: `providers.${name}.api_key` } : {}),
    });
    this.built.set(name, client);
    return client;
  }

  /**
   * The HTTP client of a provider a connector defines (not in `providers:`), built once per name: its
   * breaker, gate and bucket live in the ledger under `name` like any other's.
   */
  own(name: string, spec: OwnProviderSpec): HttpClient {
    const existing = this.built.get(name);
    if (existing) return existing;
    const defaults = providerSchema.parse({});
    const retry = spec.policy?.retry ?? defaults.retry;
    const p: ProviderConfig = {
      ...defaults,
      ...spec.policy,
      concurrency: spec.concurrency,
      retry: { ...retry, budget: spec.budgetSeconds ?? retry.budget },
    };
    const options = {
      ...policyOptions(p, this.sync, this.switches.enabled, this.switches),
      ...(spec.rate ? { rate: spec.rate } : {}),
      ...(spec.reserve ? { rateReserve: spec.reserve } : {}),
      ...(spec.sharedConcurrency ? { sharedConcurrency: true } : {}),
    };
    const policy = new ProviderPolicy(name, this.store, options, this.owner, this.events);
    const client = new HttpClient(policy, {
      baseUrl: spec.baseUrl,
      headers: spec.headers,
      ...(spec.credentialsHint ? { credentialsHint: spec.credentialsHint } : {}),
    });
    this.built.set(name, client);
    return client;
  }

  policy(name: string): ProviderPolicy {
    return this.http(name).policy;
  }
}

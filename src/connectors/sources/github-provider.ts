import { createHash } from "node:crypto";
import type { GithubSourceConfig } from "../../config/sources-schema.js";
import { interpolateSecret, registerSecret } from "../../config/secrets.js";
import { ConfigError } from "../../errors.js";
import type { OwnProviderSpec } from "../../resilience/providers.js";

/** An hour and five minutes: a call may wait out a whole primary window (GitHub's are an hour). */
const BUDGET_SECONDS = 3900;

export interface GithubProvider {
  /** `github:HOST:IDENTITY`: one breaker, gate and budget per API host and token, shared by every process. */
  name: string;
  spec: OwnProviderSpec;
  anonymous: boolean;
}

/** A token's identity in the ledger and in messages: a short hash, never the token. */
export function tokenIdentity(token: string | undefined): string {
  return token ? `token-${createHash("sha256").update(token).digest("hex").slice(0, 12)}` : "anonymous";
}

/**
 * The provider a github source calls through: its token (`${VAR}` from the environment, a
 * registered secret), GitHub's headers, the source's concurrency, reserve and points a minute.
 */
export function githubProvider(o: GithubSourceConfig, at: string, env: NodeJS.ProcessEnv): GithubProvider {
  const token =
    o.token === undefined
      ? undefined
      : interpolateSecret(
          o.token,
          env,
          (name) => {
            throw new ConfigError(`${at}.token: environment variable ${name} is not set`);
          },
          "token",
        ).trim() || undefined;
  registerSecret(token);
  const host = new URL(o.base_url).host;
  return {
    name: `github:${host}:${tokenIdentity(token)}`,
    anonymous: token === undefined,
    spec: {
      baseUrl: o.base_url,
      headers: {
        accept: "application/vnd.github+json",
        "x-github-api-version": "2022-11-28",
        "user-agent": "syncwarden",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      concurrency: o.concurrency,
      sharedConcurrency: true,
      reserve: o.rate_limit_reserve,
      rate: { requests: o.points_per_minute, perSeconds: 60, burst: Math.max(1, o.concurrency) },
      budgetSeconds: BUDGET_SECONDS,
      credentialsHint: `${at}.token and the variable it uses`,
    },
  };
}

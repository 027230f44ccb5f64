import type { WebhookConfig } from "../config/alerts-schema.js";
import { interpolateSecret, redactJson, registerSecret } from "../config/secrets.js";
import { ConfigError } from "../errors.js";
import type { HttpClient } from "../resilience/http-client.js";
import type { Providers } from "../resilience/providers.js";

/** What a webhook receives (JSON): never a header value or another secret. */
export interface AlertPayload {
  alert: string;
  status: "firing" | "resolved";
  condition: string;
  summary: string;
  details: Record<string, unknown>;
  /** ISO time. */
  at: string;
}

/** The provider name of a webhook: its breaker, gate and retries are its own, shared across processes. */
export const webhookProvider = (w: Pick<WebhookConfig, "name">): string =>
  `${WEBHOOK_PROVIDER_PREFIX}${w.name}`;
export const WEBHOOK_PROVIDER_PREFIX = "alert-";

/** A webhook's HTTP client through the resilience layer (retry, breaker, rate gate of its own). */
export function webhookClient(providers: Providers, w: WebhookConfig, env: NodeJS.ProcessEnv): HttpClient {
  const headers = Object.fromEntries(
    Object.entries(w.headers).map(([h, v]) => {
      const value = interpolateSecret(v, env, (variable) => {
        throw new ConfigError(
          `alerts.webhooks.${w.name}.headers.${h}: environment variable ${variable} is not set`,
        );
      });
      // a webhook's headers are there to carry secrets
      registerSecret(value);
      return [h, value];
    }),
  );
  return providers.own(webhookProvider(w), {
    baseUrl: w.url,
    headers,
    concurrency: 1,
    budgetSeconds: w.retry.budget,
    credentialsHint: `alerts.webhooks.${w.name}.headers`,
    ...(w.rate
      ? { rate: { requests: w.rate.requests, perSeconds: w.rate.per_seconds, burst: w.rate.burst } }
      : {}),
    policy: { retry: w.retry, breaker: w.breaker, timeout: w.timeout },
  });
}

/** Posts a payload (redacted as a whole: no registered secret leaves in it); the answer's HTTP status. */
export async function post(
  client: HttpClient,
  url: string,
  payload: AlertPayload,
  signal?: AbortSignal,
): Promise<number> {
  const body = JSON.parse(redactJson(payload)) as unknown;
  const res = await client.postJson(url, body, signal);
  return res.status;
}

import type { FaultServer } from "../../src/testing/fault-server.js";

/** shop: products, then each product's features, embedded one by one; catalog: products only. */
export function shopConfig(url: string, extra = ""): string {
  return `sync: { max_retries: 1, retry_wait_seconds: 0, max_workers: 2 }
providers:
  api:
    base_url: ${JSON.stringify(url)}
    headers: { X-Api-Key: "\${SHOP_KEY}" }
    retry: { max_attempts: 3, base_delay: 0.01, max_delay: 0.02 }
  embeddings:
    base_url: ${JSON.stringify(`${url}/v1`)}
    retry: { max_attempts: 3, base_delay: 0.01, max_delay: 0.02 }
    breaker: { failure_threshold: 3, success_threshold: 1, timeout: 0.2, max_timeout: 0.4 }
    classify: { "502": permanent }
jobs:
  shop:
    phases:
      - name: products
        source: { type: http-json, provider: api, url: /products, pagination: { style: page, size: 50 } }
      - name: features
        source: { type: http-json, provider: api, for_each: products, url: "/products/{id}/features" }
        enrich: [{ type: openai-embeddings, provider: embeddings, model: m, batch_size: 1 }]
  catalog:
    phases:
      - name: products
        source: { type: http-json, provider: api, url: /products, pagination: { style: page, size: 50 } }
${extra}`;
}

/**
 * The embeddings endpoint is down (503: retried, opens the breaker) for its first 6 requests, then
 * answers one in five with 502 (classified permanent: the item is dead at once).
 */
export const faults = (server: FaultServer): void => {
  let calls = 0;
  server.setScript(({ path }) => {
    if (path !== "/v1/embeddings") return undefined;
    calls++;
    if (calls <= 6) return { kind: "status", status: 503 };
    return calls % 5 === 0 ? { kind: "status", status: 502 } : undefined;
  });
};

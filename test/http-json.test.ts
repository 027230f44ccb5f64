import { afterEach, describe, expect, it } from "vitest";
import { startFaultServer, type FaultServer } from "../src/testing/fault-server.js";
import { runCli, Workspace } from "./helpers/workspace.js";

function config(url: string, pagination: string): string {
  return `sync: { max_retries: 1, retry_wait_seconds: 0 }
providers:
  api: { base_url: ${JSON.stringify(url)}, retry: { base_delay: 0.01 } }
jobs:
  shop:
    phases:
      - name: products
        source: { type: http-json, provider: api, url: /products, version: updated_at, since: { param: since, field: updated_at }, pagination: ${pagination} }
      - name: features
        source: { type: http-json, provider: api, for_each: products, url: "/products/{id}/features", pagination: ${pagination} }
`;
}

interface Result {
  phases: { name: string; total: number; completed: number; skipped: number; checkpoint: string | null }[];
}

describe("http-json source", () => {
  let ws: Workspace;
  let server: FaultServer;
  afterEach(async () => {
    await server.close();
    ws.cleanup();
  });

  for (const [style, pagination] of [
    ["page", "{ style: page, size: 4 }"],
    ["offset", "{ style: offset, size_param: limit, size: 4 }"],
    ["cursor", "{ style: cursor, size_param: limit, size: 4 }"],
    ["link", "{ style: link, size: 4 }"],
  ] as const) {
    it(`${style} pagination lists every record once; since makes later runs incremental`, async () => {
      ws = new Workspace();
      server = await startFaultServer({ products: 9, featuresPerProduct: 2 });
      ws.write("syncwarden.yaml", config(server.url, pagination));
      const first = await runCli(["run", "--json"], { cwd: ws.dir });
      expect(first.code, first.stderr).toBe(0);
      const r1 = JSON.parse(first.stdout) as Result;
      const newest = server.data.products
        .map((p) => p.updated_at)
        .sort()
        .at(-1);
      expect(r1.phases[0]).toMatchObject({ total: 9, completed: 9, checkpoint: newest });
      expect(r1.phases[1]).toMatchObject({ total: 18, completed: 18 });
      const products = ws.documents("shop", "products");
      expect(products.size).toBe(9);
      expect(JSON.parse(products.get("3")!)).toMatchObject({ id: 3, name: "Product 3" });
      expect(ws.documents("shop", "features").size).toBe(18);

      server.touchProduct(5);
      const second = JSON.parse((await runCli(["run", "--json"], { cwd: ws.dir })).stdout) as Result;
      // only the touched product is listed; features list again in full and are unchanged
      expect(second.phases[0]).toMatchObject({ total: 1, completed: 1 });
      expect(second.phases[0]!.checkpoint).toBe(server.data.products.find((p) => p.id === 5)!.updated_at);
      expect(second.phases[1]).toMatchObject({ total: 18, completed: 0, skipped: 18 });
    });
  }
});

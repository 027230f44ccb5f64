import { renameSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { ReplicaWorkspace } from "./replicas-workspace.js";

interface BreakerRow {
  kind: string;
  provider: string;
  path?: string;
  breaker: { state: string; isolated: boolean };
}

let ws: ReplicaWorkspace;
afterEach(() => ws.cleanup());

async function breakers(): Promise<BreakerRow[]> {
  const r = await ws.cli(["breakers", "--json"]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as BreakerRow[];
}

describe("breakers: replica targets", () => {
  it("lists a target's breaker opened by 3 failed runs; reset and isolate work on it by name", async () => {
    ws = new ReplicaWorkspace();
    ws.put(ws.local, "a.txt", "a");
    expect((await ws.replicate()).code).toBe(0);
    const closed = await ws.cli(["breakers"]);
    expect(closed.stdout).toBe(`target replica:notes:drive → ${ws.remote}: breaker closed\n`);

    // the target folder is gone (unplugged): three failed runs open its breaker
    renameSync(ws.remote, `${ws.remote}.away`);
    for (let i = 0; i < 3; i++) expect((await ws.replicate()).code).toBe(3);
    expect(await breakers()).toEqual([
      expect.objectContaining({
        kind: "target",
        provider: "replica:notes:drive",
        path: ws.remote,
        breaker: expect.objectContaining({ state: "open", isolated: false }) as object,
      }),
    ]);
    const text = await ws.cli(["breakers"]);
    expect(text.stdout).toMatch(/^target replica:notes:drive → .*: breaker open until \d{4}-.*missing/m);
    // status's provider list stays providers only
    const status = JSON.parse((await ws.cli(["status", "--json"])).stdout) as { providers: unknown[] };
    expect(status.providers).toEqual([]);

    // back, but the breaker is still open: skipped until reset by hand
    renameSync(`${ws.remote}.away`, ws.remote);
    ws.put(ws.local, "b.txt", "b");
    expect((await ws.replicate()).json.targets[0]!.status).toBe("skipped");
    const reset = await ws.cli(["breakers", "reset", "replica:notes:drive"]);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stderr).toBe("replica:notes:drive: breaker reset to closed\n");
    expect((await breakers())[0]!.breaker.state).toBe("closed");
    const after = await ws.replicate();
    expect(after.code).toBe(0);
    expect(after.json.targets[0]).toMatchObject({ status: "ok", copied: 1 });
    expect(ws.tree(ws.remote)).toEqual({ "a.txt": "a", "b.txt": "b" });

    // isolate holds it open until reset
    expect((await ws.cli(["breakers", "isolate", "replica:notes:drive"])).code).toBe(0);
    expect((await breakers())[0]!.breaker).toMatchObject({ state: "open", isolated: true });
    expect((await ws.cli(["breakers"])).stdout).toContain("breaker open (isolated)");
    expect((await ws.replicate()).json.targets[0]!.status).toBe("skipped");
    expect((await ws.cli(["breakers", "reset", "replica:notes:drive"])).code).toBe(0);
    expect((await ws.replicate()).json.targets[0]!.status).toBe("ok");

    // an unknown name: usage error naming the valid ones
    for (const name of ["replica:notes:usb", "nope"]) {
      const bad = await ws.cli(["breakers", "reset", name]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(
        `unknown breaker "${name}"; providers: (none configured); replica targets: replica:notes:drive`,
      );
    }
  });
});

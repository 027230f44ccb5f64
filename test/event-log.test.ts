import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.js";
import { openServices } from "../src/service/open-services.js";
import { Workspace } from "./helpers/workspace.js";

// The events table is a subscriber of the one event map: each record names the run it belongs to, and
// two runs going on at once in one process (an MCP server, a daemon) never write into each other's.

let ws: Workspace;
afterEach(() => ws.cleanup());

const twoJobs = `sync: { max_workers: 2 }
jobs:
  alpha:
    phases:
      - { name: files, source: { type: git, repo: ./repo, include: ["a/**"] }, sink: { type: sqlite-docs, table: a } }
  beta:
    phases:
      - { name: files, source: { type: git, repo: ./repo, include: ["b/**"] }, sink: { type: sqlite-docs, table: b } }
`;

describe("event log", () => {
  it("two runs at once in one process: every record carries its own run and job, none the other's", async () => {
    ws = new Workspace();
    const files: Record<string, string> = {};
    for (let i = 0; i < 300; i++) {
      files[`a/${i}.md`] = `alpha ${i}`;
      files[`b/${i}.md`] = `beta ${i}`;
    }
    ws.commit(files);
    ws.write("syncwarden.yaml", twoJobs);
    const services = openServices(loadConfig(ws.configFile), { progressIntervalMs: 5 });
    try {
      const [a, b] = await Promise.all([
        services.sync.execute({ job: "alpha", trigger: "api" }),
        services.sync.execute({ job: "beta", trigger: "api" }),
      ]);
      expect([a.status, b.status]).toEqual(["completed", "completed"]);
      const records = await services.sync.eventLog({ limit: 10_000 });
      const jobOfRun = new Map([
        [a.runId, "alpha"],
        [b.runId, "beta"],
      ]);
      const ofRuns = records.filter((r) => r.runId !== null);
      // both runs' starts, phases, plans and ends are there, each under its own run
      for (const [runId, job] of jobOfRun) {
        const mine = ofRuns.filter((r) => r.runId === runId).map((r) => r.type);
        expect(mine).toEqual(
          expect.arrayContaining(["run:start", "phase:start", "plan:recorded", "phase:end", "run:end"]),
        );
        expect(ofRuns.filter((r) => r.runId === runId).every((r) => r.job === job)).toBe(true);
      }
      expect(ofRuns.every((r) => jobOfRun.has(r.runId!))).toBe(true);
      // the runs did overlap: one started before the other ended
      const at = (runId: string, type: string): number =>
        records.find((r) => r.runId === runId && r.type === type)!.ts;
      expect(at(a.runId, "run:start")).toBeLessThanOrEqual(at(b.runId, "run:end"));
      expect(at(b.runId, "run:start")).toBeLessThanOrEqual(at(a.runId, "run:end"));
    } finally {
      await services.close();
    }
  });
});

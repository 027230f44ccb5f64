import { describe, expect, it } from "vitest";
import { healthSettings } from "../src/config/health.js";
import { loadConfig } from "../src/config/load-config.js";
import { Workspace } from "./helpers/workspace.js";

const JOB = `jobs:
  j:
    phases:
      - name: p
        source: { type: git, repo: repo }
        sink: { type: sqlite-docs, table: t }
`;

describe("health: configuration and its aliases", () => {
  it("health.interval and replica_breaker are read; the orchestrator's keys are accepted as aliases; both set is an error naming both", () => {
    const ws = new Workspace();
    try {
      ws.write("syncwarden.yaml", JOB);
      expect(healthSettings(loadConfig(ws.configFile).config)).toEqual({
        intervalMs: 300_000,
        replicaBreaker: { failureThreshold: 3, timeoutMs: 60_000 },
      });
      ws.write(
        "syncwarden.yaml",
        `${JOB}health: { interval: 90s, replica_breaker: { failure_threshold: 5, timeout: 2m } }\n`,
      );
      expect(healthSettings(loadConfig(ws.configFile).config)).toEqual({
        intervalMs: 90_000,
        replicaBreaker: { failureThreshold: 5, timeoutMs: 120_000 },
      });
      ws.write(
        "syncwarden.yaml",
        `${JOB}orchestrator: { resilience_check_interval: 900, sync_interval: 300 }\n`,
      );
      expect(healthSettings(loadConfig(ws.configFile).config)).toMatchObject({
        intervalMs: 900_000,
        replicaEveryMs: 300_000,
      });
      ws.write(
        "syncwarden.yaml",
        `${JOB}health: { interval: 5m }\norchestrator: { resilience_check_interval: 900 }\n`,
      );
      expect(() => loadConfig(ws.configFile)).toThrow(
        /syncwarden\.yaml: health\.interval and orchestrator\.resilience_check_interval \(its alias\) are both set/,
      );
      ws.write("syncwarden.yaml", `${JOB}health: { interval: often }\n`);
      expect(() => loadConfig(ws.configFile)).toThrow(
        /syncwarden\.yaml:\d+:\d+: health\.interval: invalid health\.interval "often"/,
      );
      ws.write("syncwarden.yaml", `${JOB}metrics: { port: 70000 }\n`);
      expect(() => loadConfig(ws.configFile)).toThrow(/metrics\.port/);
    } finally {
      ws.cleanup();
    }
  });
});

import { utimesSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig, openServices, type Services } from "../src/index.js";
import { Workspace } from "./helpers/workspace.js";
import { copySessionFixtures } from "./helpers/sessions.js";

const MAIN = "5c1e9f0a-2b7d-4e8a-9c3f-1a2b3c4d5e01";
const CORRUPT = "7d2e4f6a-8b9c-4d0e-a1f2-3b4c5d6e7f02";
const ORIGINAL = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c03";
const RESUMED = "0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a04";
const CODEX = "019a7c3e-1f2d-7a4b-9c8d-0e1f2a3b4c05";

/** The file `claude --resume` started was written after its original. */
function resumedLater(ws: Workspace): void {
  const later = new Date(Date.now() - 1_800_000);
  utimesSync(path.join(ws.dir, "sessions/claude/-home-dev-api", `${RESUMED}.jsonl`), later, later);
}

function sessionsConfig(extra = ""): string {
  return `sync: { max_retries: 1, retry_wait_seconds: 0, max_workers: 2 }
jobs:
  memory:
    phases:
      - name: episodes
        source: { type: sessions, path: ["./sessions/claude/**/*.jsonl", "./sessions/codex/**/*.jsonl"]${extra} }
        sink: { type: sqlite-docs, table: episodes }
`;
}

describe("sessions source", () => {
  let ws: Workspace;
  let services: Services | undefined;
  afterEach(async () => {
    await services?.close();
    services = undefined;
    ws.cleanup();
  });

  const open = (config: string): Services => {
    ws.write("syncwarden.yaml", config);
    services = openServices(loadConfig(ws.configFile));
    return services;
  };

  it("turns every fixture transcript into episodes: main line only, tool results in, metadata out", async () => {
    ws = new Workspace();
    copySessionFixtures(path.join(ws.dir, "sessions"));
    resumedLater(ws);
    const { sync } = open(sessionsConfig());
    const result = await sync.execute({ job: "memory", trigger: "api" });
    expect(result.status, JSON.stringify(result)).toBe("completed");
    const docs = ws.documents("memory", "episodes");
    expect([...docs.keys()].sort()).toEqual(
      [`${CODEX}:0-1`, `${CORRUPT}:0-2`, `${MAIN}:0-4`, `${ORIGINAL}:0-2`, `${RESUMED}:3-4`].sort(),
    );
    const main = docs.get(`${MAIN}:0-4`)!;
    console.log(main);
    console.log(docs.get(`${CODEX}:0-1`));
  });
});

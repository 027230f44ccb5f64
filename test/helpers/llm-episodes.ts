import type { Extraction } from "../../src/ledger/knowledge.js";
import type { Workspace } from "./workspace.js";

/** An episode of a coding session as the sessions source renders one: turns under "## User"/"## Assistant". */
export function episode(i: number, padding = 0): string {
  return [
    `Episode ${i}: fix the login crash in src/auth-${i}.ts`,
    "## User",
    `The handler in src/auth-${i}.ts throws ECONNRESET when redis drops.`,
    "## Assistant",
    `src/auth-${i}.ts uses express; validateToken${i}() lives in src/auth-${i}.ts.`,
    ...Array.from({ length: padding }, (_, n) => `## User\nline ${n} of padding in src/pad-${i}-${n}.ts`),
    "## User",
    `Decision: retry the redis call once in episode ${i} @alice`,
  ].join("\n");
}

/** Writes the episodes as the json-source fixture's items file (`items.json`). */
export function writeEpisodes(ws: Workspace, episodes: { key: string; content: string }[]): void {
  ws.write("items.json", JSON.stringify(episodes.map((e) => ({ ...e, version: "v1" }))));
}

/** One provider `llm` at `url`, one job of one phase: json-source → llm-extract → `sink`. */
export function llmConfig(
  url: string,
  o: { step?: string; sink?: string; provider?: string; sync?: string; job?: string; items?: string } = {},
): string {
  return `sync: { max_retries: 1, retry_wait_seconds: 0, ${o.sync ?? "max_workers: 4"} }
providers:
  llm:
    base_url: ${url}/v1
    api_key: \${LLM_API_KEY}
    retry: { max_attempts: 3, base_delay: 0.01, max_delay: 0.05 }
    breaker: { failure_threshold: 5, success_threshold: 1, timeout: 0.5 }
    timeout: 2
${o.provider ?? ""}
jobs:
  ${o.job ?? "sessions"}:
    phases:
      - name: episodes
        source: { type: module, module: ${process.cwd()}/test/fixtures/json-source.mjs, file: ${o.items ?? "items.json"} }
        enrich: [{ type: llm-extract, provider: llm, model: fake-model${o.step ? `, ${o.step}` : ""} }]
        sink: ${o.sink ?? "{ type: sqlite-docs, table: episodes }"}
`;
}

export const EXTRACTION_SINK = `{ type: module, module: ${process.cwd()}/test/fixtures/extraction-sink.mjs, file: extractions.jsonl }`;

export interface RunResult {
  status: string;
  degradation: string;
  warnings: string[];
  error?: { errorClass: string; message: string };
  phases: { total: number; completed: number; degraded: number; dead: number; pending: number }[];
}

export type Logged = { key: string; version: string; extraction: Extraction };

/** The OpenAI-compatible `POST /v1/embeddings` endpoint of the fault-injecting test server, minus HTTP. */
import type { IncomingMessage } from "node:http";
import { embed } from "./fault-data.js";

/** Largest accepted request body, in bytes. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** Reads the request body as UTF-8; `undefined` if it exceeds MAX_BODY_BYTES (the excess is drained, not kept). */
export async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  return size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString("utf8");
}

export interface EmbeddingsResult {
  status: number;
  body: unknown;
  /** Number of inputs embedded (0 on error). */
  inputs: number;
}

function invalid(status: number, message: string): EmbeddingsResult {
  return { status, body: { error: { message, type: "invalid_request_error" } }, inputs: 0 };
}

/** Answers an embeddings request body (`undefined` = too large) with bag-of-words vectors of `dim` dimensions. */
export function embeddingsResponse(raw: string | undefined, dim: number): EmbeddingsResult {
  if (raw === undefined) return invalid(413, "request body too large");
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return invalid(400, "body must be valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return invalid(400, "body must be a JSON object");
  }
  const { model, input } = body as { model?: unknown; input?: unknown };
  if (typeof model !== "string" || model === "") return invalid(400, "model must be a non-empty string");
  let inputs: string[];
  if (typeof input === "string") inputs = [input];
  else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === "string")) {
    inputs = input;
  } else return invalid(400, "input must be a string or a non-empty array of strings");

  let tokens = 0;
  const data = inputs.map((text, index) => {
    const e = embed(text, dim);
    tokens += e.tokens;
    return { object: "embedding", index, embedding: e.vector };
  });
  return {
    status: 200,
    body: { object: "list", data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } },
    inputs: inputs.length,
  };
}

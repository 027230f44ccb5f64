import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { hostname, networkInterfaces } from "node:os";

/*
 * What every HTTP surface (the status page, MCP over HTTP) checks before it answers (shared by both):
 * - DNS rebinding: the Host header must name this server (127.0.0.1:PORT or localhost:PORT, and on a
 *   non-loopback bind its address, the machine's name or an interface's address), and an Origin, when
 *   sent, must be http:// one of those; else 403. A page on evil.example that rebinds its name to
 *   127.0.0.1 still sends Host: evil.example.
 * - a token, compared in constant time, from a bearer header (or, for the page, its cookie); else 401.
 */

/** A refused request: its HTTP status and why. */
export class Refusal extends Error {
  readonly refusal = true;
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const isRefusal = (e: unknown): e is Refusal => (e as { refusal?: unknown } | null)?.refusal === true;

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** True when `host` is a loopback address or name. */
export const isLoopback = (host: string): boolean => LOOPBACK.has(host);

/** The token given, else the first set variable of `envNames`, else a fresh random one (`generated`). */
export function resolveToken(
  given: string | undefined,
  envNames: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): { token: string; generated: boolean } {
  if (given) return { token: given, generated: false };
  for (const name of envNames) {
    const v = env[name];
    if (v) return { token: v, generated: false };
  }
  return { token: randomBytes(32).toString("base64url"), generated: true };
}

/** Constant-time comparison of a presented token with the expected one. */
export function tokenMatches(expected: string, presented: string | undefined): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(presented ?? "");
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer T` header, or undefined. */
export function bearerOf(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith("Bearer ") ? h.slice("Bearer ".length) : undefined;
}

/** The Host values this server answers to once bound to `bindHost:port`. */
export function allowedHosts(bindHost: string, port: number): string[] {
  const names = new Set(["127.0.0.1", "localhost"]);
  if (!isLoopback(bindHost)) {
    const wildcard = bindHost === "0.0.0.0" || bindHost === "::";
    if (!wildcard) names.add(bindHost.includes(":") ? `[${bindHost}]` : bindHost);
    else {
      names.add(hostname());
      for (const list of Object.values(networkInterfaces()))
        for (const a of list ?? []) names.add(a.family === "IPv6" ? `[${a.address}]` : a.address);
    }
  }
  return [...names].map((n) => `${n}:${port}`);
}

/** Throws a 403 Refusal unless Host is one of `hosts` and Origin (when sent) is http:// one of them. */
export function checkHostAndOrigin(req: IncomingMessage, hosts: readonly string[]): void {
  if (!hosts.includes(req.headers.host ?? ""))
    throw new Refusal(403, `Host ${req.headers.host ?? "(none)"} is not allowed`);
  const origin = req.headers.origin;
  if (origin !== undefined && !hosts.some((h) => origin === `http://${h}`))
    throw new Refusal(403, `Origin ${origin} is not allowed`);
}

/** A request's body parsed as JSON, read up to `maxBytes` (a 413 Refusal past it, a 400 when it is not JSON). */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new Refusal(413, `request body over ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    throw new Refusal(400, "the request body is not JSON");
  }
}

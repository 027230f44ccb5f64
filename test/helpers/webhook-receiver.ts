import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  body: Record<string, unknown>;
  raw: string;
  headers: IncomingHttpHeaders;
}

export interface Receiver {
  url: string;
  got: Received[];
  refused: number;
  down: boolean;
  close(): Promise<void>;
}

/** A loopback webhook receiver: records every POST it accepts; while `down`, answers 503. */
export async function receiver(): Promise<Receiver> {
  const state = {
    got: [] as Received[],
    refused: 0,
    down: false,
    url: "",
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
  const server: Server = createServer((req, res) => {
    let raw = "";
    req.on("data", (b: Buffer) => (raw += b.toString()));
    req.on("end", () => {
      if (state.down) {
        state.refused++;
        res.writeHead(503).end("down");
        return;
      }
      state.got.push({ body: JSON.parse(raw) as Record<string, unknown>, raw, headers: req.headers });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/ops`;
  return state;
}

/** Deliveries of one alert in one status. */
export const of = (got: readonly Received[], alert: string, status: string): Received[] =>
  got.filter((r) => r.body.alert === alert && r.body.status === status);

/** Every delivery as "alert status", in arrival order. */
export const lines = (got: readonly Received[]): string[] =>
  got.map((r) => `${String(r.body.alert)} ${String(r.body.status)}`);

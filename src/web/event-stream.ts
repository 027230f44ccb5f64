import type { ServerResponse } from "node:http";
import type { EventBus, SyncEvent } from "../events.js";

/** The events the page follows live. */
const LIVE = new Set<SyncEvent["type"]>([
  "run:start",
  "run:end",
  "progress",
  "phase:end",
  "item:failed",
  "breaker:transition",
  "gate:pause",
  "replica:end",
  "health:check",
]);

const HEARTBEAT_MS = 15_000;

/**
 * `/events`: Server-Sent Events from the one event map. The subscription and the heartbeat end when
 * the client goes away (or the server closes the response).
 */
export function streamEvents(events: EventBus, res: ServerResponse): void {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
  });
  res.write(": syncwarden events\n\n");
  const subscription = events.on((e) => {
    if (LIVE.has(e.type)) res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
  });
  const heartbeat = setInterval(() => res.write(": heartbeat\n\n"), HEARTBEAT_MS);
  heartbeat.unref();
  res.on("close", () => {
    subscription.dispose();
    clearInterval(heartbeat);
  });
}

// A no-op syncwarden sink for the benchmark: accepts every change, writes nothing.

/** @type {import("../dist/index.js").ConnectorFactory<import("../dist/index.js").Sink>} */
export default function noopSink() {
  return { type: "bench-noop", apply: async () => undefined };
}

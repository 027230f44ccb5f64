// A no-op syncwarden source for the benchmark: `count` items, constant target, empty content.
// Loaded by the engine as `source: { type: module, module: <this file>, count: N }`.

/** @type {import("../dist/index.js").ConnectorFactory<import("../dist/index.js").Source>} */
export default function noopSource(options) {
  const count = Number(options.count ?? 1000);
  const target = String(options.target ?? "t1");
  return {
    type: "bench-noop",
    target: async () => target,
    list: async () => ({ mode: "snapshot", items: items(count) }),
    fetch: async () => ({ content: "" }),
  };
}

async function* items(count) {
  for (let i = 0; i < count; i++) yield { key: `item-${i}`, version: "1", op: "upsert" };
}

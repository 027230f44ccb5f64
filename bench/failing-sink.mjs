// A syncwarden sink for the benchmark that refuses every change: its items end DEAD (max_retries: 0).

/** @type {import("../dist/index.js").ConnectorFactory<import("../dist/index.js").Sink>} */
export default function failingSink() {
  return {
    type: "bench-failing",
    apply: async () => {
      throw new Error("bench: this sink refuses every change");
    },
  };
}

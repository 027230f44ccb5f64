// The layer rule of DESIGN.md, checked by `npm run lint`: dependencies point down only, and no two
// modules import each other (no cycles). From the top:
//   surfaces  cli (which starts the daemon and MCP surfaces), mcp, daemon
//   service   SyncService, ReplicaService, HealthService: the only way in for surfaces
//   beside    health (which may read replicas), replicas
//   engine    planner, runner, progress
//   below     connectors → resilience → ledger; config; errors, events, results (shared vocabulary)
const SURFACES = "^src/(cli|mcp|daemon|web)/";
const BELOW_SERVICE = "^src/(engine|ledger|resilience|connectors|replicas|health)/";

/** A rule: modules matching `from` may not import modules matching `to`. */
const forbid = (name, comment, from, to, extra = {}) => ({
  name,
  comment,
  severity: "error",
  from: { path: from, ...(extra.from ?? {}) },
  to: { path: to, ...(extra.to ?? {}) },
});

module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      comment: "no two modules import each other, directly or through others",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    forbid(
      "surfaces-through-services",
      "surfaces reach engine, ledger, resilience, connectors, replicas and health only through the services",
      SURFACES,
      BELOW_SERVICE,
    ),
    forbid("daemon-and-mcp-below-cli", "the CLI starts the daemon and the MCP server, not the reverse", "^src/(mcp|daemon)/", "^src/cli/"),
    forbid("service-below-surfaces", "services never import a surface", "^src/service/", SURFACES),
    forbid(
      "beside-below-service",
      "replicas and health are used through the services",
      "^src/(replicas|health)/",
      `^src/(service|cli|mcp|daemon|web)/`,
    ),
    forbid("replicas-below-health", "health reads replicas; replicas never read health", "^src/replicas/", "^src/health/"),
    forbid("engine-below", "the engine knows nothing above it", "^src/engine/", `^src/(service|replicas|health|cli|mcp|daemon|web)/`),
    forbid(
      "plugins-below-engine",
      "connectors, resilience and the ledger know nothing of the engine or anything above",
      "^src/(connectors|resilience|ledger)/",
      `^src/(engine|service|replicas|health|cli|mcp|daemon|web)/`,
    ),
    forbid("ledger-at-the-bottom", "the ledger imports no plugin or resilience code", "^src/ledger/", "^src/(connectors|resilience)/"),
    forbid("resilience-below-connectors", "connectors use the resilient client, not the reverse", "^src/resilience/", "^src/connectors/"),
    forbid(
      "vocabulary-at-the-bottom",
      "config, errors, events, results, fsync and sqlite-backup import only each other",
      "^src/(config/|errors\\.ts|events\\.ts|results\\.ts|fsync\\.ts|sqlite-backup\\.ts)",
      "^src/(?!config/|errors\\.ts|events\\.ts|results\\.ts|fsync\\.ts|sqlite-backup\\.ts)",
    ),
    forbid(
      "no-implementation-above-ledger",
      "nothing above src/ledger names an implementation: openLedger() picks it",
      "^src/(?!ledger/)",
      "^src/ledger/(sqlite|postgres)/",
    ),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};

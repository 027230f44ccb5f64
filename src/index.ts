// The public library API: explicit named exports only.
export {
  SyncService,
  LAST_SUCCESS_KEY,
  type ServiceEvent,
  type ServiceListener,
} from "./service/sync-service.js";
export type { SyncRequest, SyncResult, SyncStatus, Degradation, Trigger } from "./service/types.js";
export {
  loadConfig,
  resolveConfigFile,
  DEFAULT_CONFIG_FILE,
  type LoadedConfig,
} from "./config/load-config.js";
export type { ConfigFile, JobConfig, PhaseConfig, SyncSettings } from "./config/schema.js";
export type { Ledger } from "./ledger/ledger.js";
export { SqliteLedger } from "./ledger/sqlite/sqlite-ledger.js";
export type {
  ItemStatus,
  StatusCounts,
  PhaseRef,
  PlannedItem,
  ClaimedItem,
  DocumentWrite,
  SearchHit,
  EventRecord,
  RunRecord,
} from "./ledger/types.js";
export type {
  Source,
  Sink,
  Enricher,
  Doc,
  SinkChange,
  Fetched,
  SourceListing,
  ConnectorContext,
  ConnectorFactory,
} from "./connectors/types.js";
export type { EngineEvent, EngineEventMap, Progress, PhaseResult } from "./engine/events.js";
export {
  ProviderPolicy,
  type PolicyOptions,
  type PolicyEvent,
  type RetryOptions,
} from "./resilience/policy.js";
export { CircuitBreaker, type BreakerOptions, type BreakerTransition } from "./resilience/circuit-breaker.js";
export { RateGate } from "./resilience/rate-gate.js";
export { HttpClient, type HttpResponse } from "./resilience/http-client.js";
export { Providers } from "./resilience/providers.js";
export { classifyError, classifyStatus, HTTP_STATUS_CLASSES } from "./resilience/classify.js";
export { backoffDelay, type Jitter } from "./resilience/backoff.js";
export { parseRetryAfter, parseRateLimit } from "./resilience/retry-after.js";
export { redact } from "./resilience/redact.js";
export type { BreakerRecord, GateRecord, DebtRecord } from "./ledger/types.js";
export {
  SyncError,
  PermanentError,
  HttpError,
  BrokenCircuitError,
  isHttpError,
  isBrokenCircuitError,
  ConfigError,
  UsageError,
  isSyncError,
  isConfigError,
  isUsageError,
  type ErrorClass,
} from "./errors.js";
export {
  replicate,
  resolveTargets,
  replicaLastSuccess,
  type ReplicateOverrides,
} from "./replicas/replicate.js";
export type { ResolvedTarget, RunOptions, TargetReport, TargetStatus } from "./replicas/run-target.js";
export { verifyTarget, type VerifyReport } from "./replicas/verify.js";
export { replicaStatus, type ReplicaTargetStatus } from "./replicas/target-status.js";
export { runDoctor, type DoctorOptions, type DoctorReport } from "./health/doctor.js";

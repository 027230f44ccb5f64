// The public library API: explicit named exports only.
export { SyncService, type ServiceOptions } from "./service/sync-service.js";
export { MemoryService } from "./service/memory-service.js";
export {
  ReplicaService,
  type ReplicaRequest,
  type ReplicaResult,
  type ReplicaTargetStatus,
  type TargetReport,
  type VerifyReport,
} from "./service/replica-service.js";
export { openServices, type Services } from "./service/open-services.js";
export {
  runDoctor,
  type DoctorOptions,
  type DoctorReport,
  type CheckResult,
  type RepairResult,
} from "./service/doctor.js";
export type {
  SyncRequest,
  SyncResult,
  SyncStatus,
  RunStatus,
  Degradation,
  Trigger,
} from "./service/types.js";
export {
  EventBus,
  type EventMap,
  type EventName,
  type SyncEvent,
  type Listener,
  type Disposable,
} from "./events.js";
export type { Progress, PhaseResult } from "./results.js";
export {
  loadConfig,
  resolveConfigFile,
  DEFAULT_CONFIG_FILE,
  type LoadedConfig,
} from "./config/load-config.js";
export type { ConfigFile, JobConfig, PhaseConfig, SyncSettings } from "./config/schema.js";
export type { Ledger } from "./ledger/ledger.js";
export type { RunStore } from "./ledger/run-store.js";
export type { PlanStore, ItemFilter } from "./ledger/plan-store.js";
export type { LockStore } from "./ledger/lock-store.js";
export type { EventStore } from "./ledger/event-store.js";
export type { MetaStore } from "./ledger/meta-store.js";
export type { ResilienceStore, Reading } from "./ledger/resilience-store.js";
export type { MaintenanceStore, StorageFacts, RestoreOutcome } from "./ledger/maintenance-store.js";
export type { DocumentStore } from "./ledger/document-store.js";
export type {
  KnowledgeStore,
  KnowledgeWrite,
  KnowledgeFilter,
  KnowledgeStats,
  Extraction,
  ExtractedEntity,
  ExtractedFact,
  EpisodeOrigin,
  EpisodeRecord,
  EntityRecord,
  FactRecord,
} from "./ledger/knowledge.js";
export { openLedger, openMaintenance, type LedgerConfig } from "./ledger/open-ledger.js";
export type {
  ItemStatus,
  StatusCounts,
  PhaseRef,
  PlannedItem,
  ClaimedItem,
  DocumentWrite,
  DocumentChunk,
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
export { ProviderPolicy, type PolicyOptions, type RetryOptions } from "./resilience/policy.js";
export { CircuitBreaker, type BreakerOptions } from "./resilience/circuit-breaker.js";
export { RateGate } from "./resilience/rate-gate.js";
export { HttpClient, type HttpResponse } from "./resilience/http-client.js";
export { Providers } from "./resilience/providers.js";
export { classifyError, classifyStatus, HTTP_STATUS_CLASSES } from "./resilience/classify.js";
export { backoffDelay, type Jitter } from "./resilience/backoff.js";
export { parseRetryAfter, parseRateLimit, retryAfterHint } from "./resilience/retry-after.js";
export { parseResetDuration } from "./resilience/reset-duration.js";
export { parseUsageLimits, type UsageLimit, type UsageLimits } from "./resilience/usage-limits.js";
export { UsagePacer, type UsageLimitOptions, type UsageTicket } from "./resilience/usage-pacer.js";
export { LlmExtract } from "./connectors/enrichers/llm-extract.js";
export { redact, registerSecret } from "./config/secrets.js";
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
  LockedError,
  isLockedError,
  BudgetSpentError,
  DegradableError,
  isDegradableError,
  type ErrorClass,
} from "./errors.js";
export { resolveTargets, type ReplicateOverrides, type ResolvedTarget } from "./replicas/targets.js";

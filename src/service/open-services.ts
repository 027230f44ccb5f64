import type { LoadedConfig } from "../config/load-config.js";
import { EventBus } from "../events.js";
import { openLedger } from "../ledger/open-ledger.js";
import { EventLogWriter } from "./event-log.js";
import { AlertService } from "./alert-service.js";
import { HealthService } from "./health-service.js";
import { Metrics } from "./metrics.js";
import { ReplicaService } from "./replica-service.js";
import { SyncService } from "./sync-service.js";

/** Both services over one ledger and one event map (what the CLI, the daemon and the MCP server open). */
export interface Services {
  sync: SyncService;
  replicas: ReplicaService;
  health: HealthService;
  events: EventBus;
  /** Prometheus metrics over this ledger and event map, when asked for (`openServices(…, { metrics: true })`). */
  metrics?: Metrics;
  /** Webhooks told of conditions that need a person (`alerts:`); the daemon evaluates them. */
  alerts: AlertService;
  close(): Promise<void>;
}

export function openServices(
  loaded: LoadedConfig,
  options: { progressIntervalMs?: number; metrics?: boolean } = {},
): Services {
  const ledger = openLedger(loaded);
  const events = new EventBus();
  const log = new EventLogWriter(events, ledger.events);
  const { metrics: withMetrics, ...rest } = options;
  const sync = new SyncService(loaded, ledger, { ...rest, events, log });
  const metrics = withMetrics ? new Metrics(loaded, ledger, events) : undefined;
  const replicas = new ReplicaService(loaded, ledger, { events, log });
  const alerts = new AlertService(loaded, ledger, events, sync.providers);
  return {
    sync,
    replicas,
    health: new HealthService(loaded, ledger, events, sync, replicas),
    events,
    ...(metrics ? { metrics } : {}),
    alerts,
    close: async () => {
      metrics?.dispose();
      alerts.dispose();
      await sync.close();
      await replicas.close();
    },
  };
}

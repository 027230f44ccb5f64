import type { AlertKind, WebhookConfig } from "../config/alerts-schema.js";
import type { LoadedConfig } from "../config/load-config.js";
import { redact } from "../config/secrets.js";
import { errorMessage } from "../errors.js";
import type { Disposable, EventBus } from "../events.js";
import type { CheckResult } from "../health/types.js";
import type { Ledger } from "../ledger/ledger.js";
import type { HttpClient } from "../resilience/http-client.js";
import type { Providers } from "../resilience/providers.js";
import { doctorConditions, ledgerConditions, replicaCondition, type Condition } from "./alert-conditions.js";
import { post, WEBHOOK_PROVIDER_PREFIX, webhookClient, type AlertPayload } from "./alert-webhook.js";

/** Where the alerts' state lives (MetaStore): what fired, and which webhooks still have to be told. */
export const ALERTS_STATE_KEY = "alerts:state";

interface AlertRecord {
  kind: AlertKind;
  status: "firing" | "resolved";
  summary: string;
  details: Record<string, unknown>;
  /** ISO time of the status change. */
  at: string;
  /** Webhooks not yet told of this status (delivered on a later pass while a receiver is down). */
  pending: string[];
}
type AlertState = Record<string, AlertRecord>;

/** One webhook's answer to `alerts test`. */
export interface WebhookAnswer {
  webhook: string;
  ok: boolean;
  httpStatus?: number;
  message: string;
}

/** Kinds whose conditions come from events or doctor, not from a ledger read: carried over until told otherwise. */
const CARRIED: ReadonlySet<AlertKind> = new Set(["replica_conflict", "doctor_critical"]);

/**
 * Alerts: conditions read from the ledger (and from doctor's checks and replica events), each fired once
 * to every webhook that wants its kind while it lasts and resolved once when it clears. The state is
 * kept in the ledger's metadata, so a restart neither re-fires nor forgets a pending delivery.
 */
export class AlertService {
  private readonly clients = new Map<string, HttpClient>();
  /** Replica conditions seen in events since the last pass (null: the target's last run had no conflict). */
  private readonly replicaSeen = new Map<string, Condition | null>();
  private subscription: Disposable | undefined;
  private passing: Promise<void> = Promise.resolve();

  constructor(
    private readonly loaded: LoadedConfig,
    private readonly ledger: Ledger,
    private readonly events: EventBus,
    private readonly providers: Providers,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  get webhooks(): readonly WebhookConfig[] {
    return this.loaded.config.alerts.webhooks;
  }

  /** Evaluates at once when a run ends, a breaker changes or a replica target ends (the daemon calls it). */
  watch(): Disposable {
    this.subscription ??= this.events.on((e) => {
      if (e.type === "replica:end")
        this.replicaSeen.set(
          `replica_conflict:${e.replica}:${e.target}`,
          replicaCondition(e.replica, e.target, e.conflicts),
        );
      // (not the webhooks' own breakers: a delivery must not set off another pass)
      const own = e.type === "breaker:transition" && e.provider.startsWith(WEBHOOK_PROVIDER_PREFIX);
      if (!own && (e.type === "run:end" || e.type === "breaker:transition" || e.type === "replica:end"))
        void this.evaluate().catch(() => undefined);
    });
    return { dispose: () => (this.subscription?.dispose(), (this.subscription = undefined)) };
  }

  /**
   * One pass (passes run one at a time): the conditions now against the recorded state; new ones fire,
   * cleared ones resolve, and every pending delivery is tried. `checks`: doctor's results, when it ran.
   */
  evaluate(checks?: readonly CheckResult[], signal?: AbortSignal): Promise<void> {
    this.passing = this.passing.catch(() => undefined).then(() => this.pass(checks, signal));
    return this.passing;
  }

  private async pass(checks: readonly CheckResult[] | undefined, signal?: AbortSignal): Promise<void> {
    if (this.webhooks.length === 0) return;
    const state = await this.load();
    const now = Date.now();
    const active = new Map((await ledgerConditions(this.loaded, this.ledger, now)).map((c) => [c.id, c]));
    if (checks) for (const c of doctorConditions(checks)) active.set(c.id, c);
    for (const [id, c] of this.replicaSeen) if (c) active.set(id, c);
    // conditions no read shows: still firing unless their source said otherwise
    for (const [id, r] of Object.entries(state))
      if (r.status === "firing" && CARRIED.has(r.kind) && !active.has(id)) {
        const cleared = r.kind === "doctor_critical" ? checks !== undefined : this.replicaSeen.has(id);
        if (!cleared) active.set(id, { id, kind: r.kind, summary: r.summary, details: r.details });
      }
    this.replicaSeen.clear();
    const at = new Date(now).toISOString();
    for (const c of active.values()) {
      const r = state[c.id];
      if (r?.status === "firing") continue;
      state[c.id] = {
        kind: c.kind,
        status: "firing",
        summary: c.summary,
        details: c.details,
        at,
        pending: this.wanting(c.kind),
      };
    }
    for (const [id, r] of Object.entries(state))
      if (r.status === "firing" && !active.has(id))
        state[id] = {
          ...r,
          status: "resolved",
          summary: `resolved: ${r.summary}`,
          at,
          pending: this.wanting(r.kind),
        };
    await this.save(state);
    for (const [id, r] of Object.entries(state)) {
      for (const name of [...r.pending]) {
        if (signal?.aborted) break;
        const webhook = this.webhooks.find((w) => w.name === name);
        const delivered =
          webhook === undefined ||
          (await this.deliver(
            webhook,
            {
              alert: id,
              status: r.status,
              condition: r.kind,
              summary: r.summary,
              details: r.details,
              at: r.at,
            },
            signal,
          ));
        if (delivered) {
          r.pending = r.pending.filter((n) => n !== name);
          await this.save(state);
        }
      }
    }
    // a resolution every webhook was told of is done with
    await this.save(
      Object.fromEntries(
        Object.entries(state).filter(([, r]) => r.status === "firing" || r.pending.length > 0),
      ),
    );
  }

  /** Sends a test alert to each webhook (or the one named) and says what each answered. */
  async test(only?: string, signal?: AbortSignal): Promise<WebhookAnswer[]> {
    const answers: WebhookAnswer[] = [];
    for (const w of this.webhooks) {
      if (only !== undefined && w.name !== only) continue;
      const payload: AlertPayload = {
        alert: "test",
        status: "firing",
        condition: "test",
        summary: "syncwarden test alert (syncwarden alerts test)",
        details: { config: this.loaded.file },
        at: new Date().toISOString(),
      };
      try {
        const httpStatus = await post(this.client(w), w.url, payload, signal);
        this.events.emit("alert:sent", { alert: "test", webhook: w.name, status: "test", httpStatus });
        answers.push({ webhook: w.name, ok: true, httpStatus, message: `HTTP ${httpStatus}` });
      } catch (e) {
        const message = redact(errorMessage(e));
        this.events.emit("alert:failed", { alert: "test", webhook: w.name, status: "test", message });
        answers.push({ webhook: w.name, ok: false, message });
      }
    }
    return answers;
  }

  private wanting(kind: AlertKind): string[] {
    return this.webhooks.filter((w) => w.events.includes(kind)).map((w) => w.name);
  }

  private client(w: WebhookConfig): HttpClient {
    let c = this.clients.get(w.name);
    if (!c) this.clients.set(w.name, (c = webhookClient(this.providers, w, this.env)));
    return c;
  }

  private async deliver(w: WebhookConfig, payload: AlertPayload, signal?: AbortSignal): Promise<boolean> {
    try {
      const httpStatus = await post(this.client(w), w.url, payload, signal);
      this.events.emit("alert:sent", {
        alert: payload.alert,
        webhook: w.name,
        status: payload.status,
        httpStatus,
      });
      return true;
    } catch (e) {
      const message = redact(errorMessage(e));
      this.events.emit("alert:failed", {
        alert: payload.alert,
        webhook: w.name,
        status: payload.status,
        message,
      });
      return false;
    }
  }

  private async load(): Promise<AlertState> {
    const raw = await this.ledger.meta.get(ALERTS_STATE_KEY);
    return raw === undefined ? {} : (JSON.parse(raw) as AlertState);
  }

  private save(state: AlertState): Promise<void> {
    return this.ledger.meta.set(ALERTS_STATE_KEY, JSON.stringify(state));
  }

  dispose(): void {
    this.subscription?.dispose();
    this.subscription = undefined;
  }
}

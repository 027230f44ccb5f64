// The status page's script: renders /api/* JSON and follows /events (Server-Sent Events). No framework.

interface Progress {
  job: string;
  phase: string;
  total: number;
  completed: number;
  skipped: number;
  dead: number;
  failed: number;
  percent: number;
  itemsPerSecond: number;
}
interface Breaker {
  state: string;
  failures: number;
  openUntil: string | null;
  isolated: boolean;
  reason: string | null;
}
interface Job {
  job: string;
  lastRun: {
    status: string | null;
    degradation: string | null;
    startedAt: string;
    finishedAt: string | null;
  } | null;
  running: Progress[];
  failed: number;
  dead: number;
  nextRunAt: string | null;
}
interface State {
  generatedAt: string;
  jobs: Job[];
  providers: {
    provider: string;
    breaker: Breaker;
    gate: { pausedUntil: string | null; reason: string | null } | null;
  }[];
  replicas: { name: string; path: string; breaker: Breaker; lastSuccess: string | null }[];
}
interface Item {
  id: number;
  job: string;
  phase: string;
  key: string;
  status: string;
  attempts: number;
  errorClass: string | null;
  errorMessage: string | null;
}
interface ChartPoint {
  minute: number;
  itemsPerSecond: number;
  errors: number;
}

const $ = (sel: string): HTMLElement => {
  const el = document.querySelector<HTMLElement>(sel);
  if (!el) throw new Error(`the page has no ${sel}`);
  return el;
};

function el(tag: string, text?: string, cls?: string): HTMLElement {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function row(cells: (string | Node)[], attrs: Record<string, string> = {}): HTMLTableRowElement {
  const tr = document.createElement("tr");
  for (const [k, v] of Object.entries(attrs)) tr.setAttribute(k, v);
  for (const c of cells) {
    const td = document.createElement("td");
    td.append(c);
    tr.append(td);
  }
  return tr;
}

/** A row of one cell across the table, for a table with nothing to show. */
function placeholder(text: string, columns: number): HTMLTableRowElement {
  const tr = row([text]);
  (tr.firstElementChild as HTMLTableCellElement).colSpan = columns;
  return tr;
}

const when = (iso: string | null): string => (iso ? new Date(iso).toLocaleString() : "—");

async function api<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    credentials: "same-origin",
    ...(body === undefined
      ? {}
      : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

function button(label: string, data: Record<string, string>, run: () => Promise<unknown>): HTMLButtonElement {
  const b = el("button", label) as HTMLButtonElement;
  for (const [k, v] of Object.entries(data)) b.dataset[k] = v;
  b.addEventListener("click", () => {
    b.disabled = true;
    run()
      .then(refresh)
      .catch((e: unknown) => alert(String(e)))
      .finally(() => (b.disabled = false));
  });
  return b;
}

function progressCell(p: Progress | undefined): Node {
  const span = el("span", "", "progress");
  if (!p) return span;
  const done = p.completed + p.skipped + p.dead;
  const bar = document.createElement("progress");
  bar.max = Math.max(p.total, 1);
  bar.value = done;
  span.append(bar, ` ${done}/${p.total} ${p.phase} (${p.itemsPerSecond}/s)`);
  return span;
}

function renderJobs(jobs: Job[]): void {
  const body = $("#jobs tbody");
  body.replaceChildren(
    ...jobs.map((j) =>
      row(
        [
          j.job,
          el(
            "span",
            j.lastRun?.status ?? (j.lastRun ? "running" : "never"),
            `pill ${j.lastRun?.status ?? ""}`,
          ),
          j.lastRun?.degradation ?? "—",
          when(j.lastRun?.finishedAt ?? j.lastRun?.startedAt ?? null),
          progressCell(j.running[0]),
          String(j.failed),
          String(j.dead),
          el("span", when(j.nextRunAt), "next"),
          j.failed + j.dead > 0
            ? button("retry", { action: "retry", job: j.job }, () => api("/api/retry", { job: j.job }))
            : "",
        ],
        { "data-job": j.job },
      ),
    ),
  );
}

function breakerButtons(name: string): Node {
  const span = el("span");
  span.append(
    button("reset", { action: "reset", name }, () => api("/api/breaker", { name, action: "reset" })),
    " ",
    button("isolate", { action: "isolate", name }, () => api("/api/breaker", { name, action: "isolate" })),
  );
  return span;
}

function renderState(s: State): void {
  renderJobs(s.jobs);
  $("#breakers tbody").replaceChildren(
    ...s.providers.map((p) =>
      row(
        [
          p.provider,
          el("span", p.breaker.isolated ? "isolated" : p.breaker.state, `pill state ${p.breaker.state}`),
          String(p.breaker.failures),
          when(p.breaker.openUntil),
          p.gate ? `paused until ${when(p.gate.pausedUntil)} (${p.gate.reason ?? ""})` : "open",
          breakerButtons(p.provider),
        ],
        { "data-provider": p.provider },
      ),
    ),
  );
  $("#replicas tbody").replaceChildren(
    ...(s.replicas.length === 0 ? [placeholder("no replica targets configured", 5)] : []),
    ...s.replicas.map((r) =>
      row(
        [
          r.name,
          r.path,
          el("span", r.breaker.state, `pill state ${r.breaker.state}`),
          when(r.lastSuccess),
          breakerButtons(r.name),
        ],
        { "data-replica": r.name },
      ),
    ),
  );
  $("#updated").textContent = `updated ${new Date(s.generatedAt).toLocaleTimeString()}`;
}

let nextItems: number | null = null;

async function loadItems(append: boolean): Promise<void> {
  const after = append && nextItems !== null ? nextItems : 0;
  const page = await api<{ items: Item[]; next: number | null }>(`/api/items?limit=50&after=${after}`);
  const rows = page.items.map((i) =>
    row(
      [
        i.job,
        i.phase,
        i.key,
        el("span", i.status, `pill ${i.status}`),
        String(i.attempts),
        `${i.errorClass ?? ""}: ${i.errorMessage ?? ""}`,
        button("retry", { action: "retry", item: String(i.id) }, () => api("/api/retry", { ids: [i.id] })),
      ],
      { "data-item": String(i.id) },
    ),
  );
  for (const r of rows) r.children[5]?.classList.add("error");
  const body = $("#items tbody");
  if (append) body.append(...rows);
  else body.replaceChildren(...rows);
  nextItems = page.next;
  $("#more-items").hidden = page.next === null;
}

function drawChart(points: ChartPoint[]): void {
  const w = 600;
  const h = 160;
  const pad = 24;
  const maxIps = Math.max(1, ...points.map((p) => p.itemsPerSecond));
  const maxErr = Math.max(1, ...points.map((p) => p.errors));
  const x = (i: number): number => pad + (i * (w - 2 * pad)) / Math.max(points.length - 1, 1);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  points.forEach((p, i) => {
    if (p.errors === 0) return;
    const bh = ((h - 2 * pad) * p.errors) / maxErr;
    const r = document.createElementNS(ns, "rect");
    r.setAttribute("class", "err");
    r.setAttribute("x", String(x(i) - 2));
    r.setAttribute("y", String(h - pad - bh));
    r.setAttribute("width", "4");
    r.setAttribute("height", String(bh));
    svg.append(r);
  });
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("class", "ips");
  line.setAttribute(
    "points",
    points.map((p, i) => `${x(i)},${h - pad - ((h - 2 * pad) * p.itemsPerSecond) / maxIps}`).join(" "),
  );
  svg.append(line);
  const label = (tx: number, ty: number, text: string): void => {
    const t = document.createElementNS(ns, "text");
    t.setAttribute("x", String(tx));
    t.setAttribute("y", String(ty));
    t.textContent = text;
    svg.append(t);
  };
  label(pad, 12, `items/s (line, max ${maxIps}) · errors/min (bars, max ${maxErr})`);
  label(pad, h - 6, "−60 min");
  label(w - pad - 20, h - 6, "now");
  $("#chart").replaceChildren(svg);
}

async function loadDoctor(): Promise<void> {
  const report = await api<{ checks: { name: string; status: string; message: string }[] }>("/api/doctor");
  $("#doctor").replaceChildren(
    ...report.checks.map((c) => {
      const li = el("li");
      li.append(el("span", c.status, `pill ${c.status}`), ` ${c.name}: ${c.message}`);
      return li;
    }),
  );
}

let timer: number | undefined;
/** Reloads what events may have changed, at most every 300 ms. */
function refresh(): void {
  if (timer !== undefined) return;
  timer = window.setTimeout(() => {
    timer = undefined;
    void Promise.all([api<State>("/api/state").then(renderState), loadItems(false)]).catch(showError);
  }, 300);
}

function showError(e: unknown): void {
  const live = $("#live");
  live.textContent = String(e);
  live.className = "pill bad";
}

function follow(): void {
  const live = $("#live");
  const source = new EventSource("/events");
  source.onopen = () => {
    live.textContent = "live";
    live.className = "pill ok";
  };
  source.onerror = () => {
    live.textContent = "reconnecting…";
    live.className = "pill warn";
  };
  source.addEventListener("progress", (m: MessageEvent<string>) => {
    const p = JSON.parse(m.data) as Progress;
    const cell = document.querySelector(`#jobs tr[data-job="${CSS.escape(p.job)}"] td:nth-child(5)`);
    cell?.replaceChildren(progressCell(p));
  });
  for (const type of [
    "run:start",
    "run:end",
    "phase:end",
    "item:failed",
    "breaker:transition",
    "gate:pause",
    "replica:end",
  ])
    source.addEventListener(type, refresh);
  source.addEventListener("run:end", () => void api<ChartPoint[]>("/api/chart").then(drawChart));
}

$("#more-items").addEventListener("click", () => void loadItems(true).catch(showError));
void Promise.all([
  api<State>("/api/state").then(renderState),
  loadItems(false),
  api<ChartPoint[]>("/api/chart").then(drawChart),
]).catch(showError);
void loadDoctor().catch(showError);
follow();
// runs by other processes reach the page through the ledger
window.setInterval(refresh, 5000);
window.setInterval(() => void api<ChartPoint[]>("/api/chart").then(drawChart).catch(showError), 30_000);
// the checks read the whole database (quick_check): run on demand, not on a timer
$("#run-doctor").addEventListener("click", () => void loadDoctor().catch(showError));

// Section 9's rows of the bench table (bench/run.mjs) from benchGitHub()'s result (bench/github.mjs).

const int = (n) => Math.round(n).toLocaleString("en-US");
const secs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
const mb = (kib) => (kib === undefined || kib === null ? "n/a" : `${Math.round((kib * 1024) / 1e6)} MB`);
const mark = (ok) => (ok ? "✓" : "✗");
const x = (r) =>
  r === undefined || !Number.isFinite(r) ? "n/a" : `${r >= 0.1 ? r.toFixed(2) : r.toFixed(3)}×`;
const statuses = (s) =>
  Object.entries(s)
    .map(([k, v]) => `${int(v)} × ${k}`)
    .join(", ");

/** The rows of (a): first sync, after changes, no change; counted requests beside the naive octokit walk. */
function syncRows(g) {
  const { files, changed } = g.sizes;
  const steps = [
    ["first", `first sync of ${int(files)} files`, files + 3, `≤ files + 3 = ${int(files + 3)}`],
    ["changed", `sync after ${changed} changed files`, changed + 3, `≤ ${changed} + 3`],
    ["noChange", "sync with no change", 1, "≤ 1"],
  ];
  return steps.map(([id, what, max, target], i) => {
    const { ours: o, octokit: k } = g.syncs[id];
    const fps = (done, ms) => (done > 0 ? int(done / (ms / 1000)) : "–");
    return (
      `| 9a${["", "′", "″"][i]}. GitHub source, ${what}: counted requests (\`syncwarden run\`; octokit: branch, recursive tree, a blob per file) ` +
      `| ${int(o.counted)} counted, ${secs(o.wallMs)} (${statuses(o.statuses)}) ` +
      `| ${int(k.counted)} counted, ${secs(k.wallMs)}: @octokit/rest + plugin-throttling, ${int(k.files)} blobs ` +
      `| ${x(o.counted / k.counted)} octokit's requests; ${x(k.wallMs / o.wallMs)} octokit's speed ` +
      `| ${fps(g.syncs[id].done, o.wallMs)} · ${fps(k.files, k.wallMs)} files/s ` +
      `| ${mb(o.peakRssKiB)} · ${mb(k.peakRssKiB)} | ${target} ${mark(o.counted <= max)} |`
    );
  });
}

/** The rows of (b): three processes on one token, ours with each reserve, beside three octokit processes. */
function sharedRows(g) {
  const { limit, windowSeconds, processes, sharedFiles } = g.sizes;
  const k = g.shared.octokit;
  const rate = (s) => (s.rate ? s.rate.ratio : undefined);
  const perSecond = (s) => int(s.counted / (s.wallMs / 1000));
  return g.shared.ours.map((o, i) => {
    const goal = 1 - o.reserve;
    const ok = o.rate !== undefined && Math.abs(o.rate.ratio - goal) <= 0.02 && o.refusals === 0;
    const target =
      o.reserve === 0
        ? "within 2% of the limit"
        : `within 2% of ${goal.toFixed(2)}× the limit (the reserve kept)`;
    return (
      `| 9b${["", "′", "″"][i]}. ${processes} processes, one token of ${int(limit)} requests per ${windowSeconds} s, ${int(sharedFiles)} files each (ours: rate_limit_reserve ${o.reserve}): aggregate rate ÷ the limit ` +
      `| ${x(rate(o))} the limit over ${o.rate?.fullWindows ?? 0} full windows, ${int(o.refusals)} × 403/429, ${secs(o.wallMs)} ` +
      `| ${x(rate(k))} the limit over ${k.rate?.fullWindows ?? 0} full windows, ${int(k.refusals)} × 403/429, ${secs(k.wallMs)}: ${processes} octokit-throttled processes ` +
      `| ${x(rate(o))} the limit; ${x(rate(o) / rate(k))} octokit's rate ` +
      `| ${perSecond(o)} · ${perSecond(k)} counted req/s over the run ` +
      `| ${mb(o.peakRssKiB)} · ${mb(k.peakRssKiB)} (largest of ${processes}) ` +
      `| ${target}, 0 × 403/429 ${mark(ok)} |`
    );
  });
}

export function githubRows(g) {
  return [...syncRows(g), ...sharedRows(g)];
}

/** The footnote under the table. */
export function githubNote(g) {
  const s = g.sizes;
  const late = (r) => (r ? r.lateMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(", ") : "n/a");
  const used = (r) => (r ? r.usedShare.map((u) => `${Math.round(u * 100)}%`).join(", ") : "n/a");
  const who = [
    ...g.shared.ours.map((o) => [`ours (reserve ${o.reserve})`, o]),
    ["octokit", g.shared.octokit],
  ];
  const plain = g.syncs.first.octokitPlain;
  return (
    `GitHub (9): counted = requests that used rate budget at the fake (304s with a token, /rate_limit and refusals do not). ` +
    (plain
      ? `The same first walk with @octokit/rest alone (no throttling plugin): ${secs(plain.wallMs)}, ${mb(plain.peakRssKiB)} (reference). `
      : "") +
    `(b) compresses GitHub's hour into ${s.windowSeconds} s (${int(s.limit)} per window)` +
    (g.sourceOptions.points_per_minute
      ? `, and the source's points_per_minute to ${int(g.sourceOptions.points_per_minute)} alike (also in (a))`
      : "") +
    `. Windows used up to the last, and how late each next one started: ` +
    who.map(([n, r]) => `${n} ${used(r.rate)}, late ${late(r.rate)} (${statuses(r.statuses)})`).join("; ") +
    "."
  );
}

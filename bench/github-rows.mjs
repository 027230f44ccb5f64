// Section 8's rows of the bench table (bench/run.mjs) from benchGitHub()'s result (bench/github.mjs).

const int = (n) => Math.round(n).toLocaleString("en-US");
const secs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
const mb = (kib) => (kib === undefined || kib === null ? "n/a" : `${Math.round((kib * 1024) / 1e6)} MB`);
const mark = (ok) => (ok ? "✓" : "✗");
const x = (r) => (r === undefined || !Number.isFinite(r) ? "n/a" : `${r >= 0.1 ? r.toFixed(2) : r.toFixed(3)}×`);
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
      `| 8a${["", "′", "″"][i]}. GitHub source, ${what}: counted requests (\`syncwarden run\`; octokit: branch, recursive tree, a blob per file) ` +
      `| ${int(o.counted)} counted, ${secs(o.wallMs)} (${statuses(o.statuses)}) ` +
      `| ${int(k.counted)} counted, ${secs(k.wallMs)}: @octokit/rest + plugin-throttling, ${int(k.files)} blobs ` +
      `| ${x(o.counted / k.counted)} octokit's requests; ${x(k.wallMs / o.wallMs)} octokit's speed ` +
      `| ${fps(g.syncs[id].done, o.wallMs)} · ${fps(k.files, k.wallMs)} files/s ` +
      `| ${mb(o.peakRssKiB)} · ${mb(k.peakRssKiB)} | ${target} ${mark(o.counted <= max)} |`
    );
  });
}

/** The row of (b): three processes on one token. */
function sharedRow(g) {
  const { limit, windowSeconds, processes, sharedFiles } = g.sizes;
  const { ours: o, octokit: k } = g.shared;
  const rate = (s) => (s.rate ? s.rate.ratio : undefined);
  const perSecond = (s) => int(s.counted / (s.wallMs / 1000));
  const ok = o.rate !== undefined && Math.abs(o.rate.ratio - 1) <= 0.02 && o.refusals === 0;
  return (
    `| 8b. ${processes} processes, one token of ${int(limit)} requests per ${windowSeconds} s, ${int(sharedFiles)} files each: aggregate rate ÷ the limit ` +
    `| ${x(rate(o))} the limit over ${o.rate?.fullWindows ?? 0} full windows, ${int(o.refusals)} × 403/429, ${secs(o.wallMs)} ` +
    `| ${x(rate(k))} the limit over ${k.rate?.fullWindows ?? 0} full windows, ${int(k.refusals)} × 403/429, ${secs(k.wallMs)}: ${processes} octokit-throttled processes ` +
    `| ${x(rate(o))} the limit; ${x(rate(o) / rate(k))} octokit's rate ` +
    `| ${perSecond(o)} · ${perSecond(k)} counted req/s over the run ` +
    `| ${mb(o.peakRssKiB)} · ${mb(k.peakRssKiB)} (largest of ${processes}) ` +
    `| within 2% of the limit, 0 × 403/429 ${mark(ok)} |`
  );
}

export function githubRows(g) {
  return [...syncRows(g), sharedRow(g)];
}

/** The footnote under the table. */
export function githubNote(g) {
  const s = g.sizes;
  const o = g.shared.ours;
  const k = g.shared.octokit;
  const late = (r) => (r ? r.lateMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(", ") : "n/a");
  const used = (r) => (r ? r.usedShare.map((u) => `${Math.round(u * 100)}%`).join(", ") : "n/a");
  return (
    `GitHub (8): counted = requests that used rate budget at the fake (304s with a token, /rate_limit and refusals do not). ` +
    `(b) compresses GitHub's hour into ${s.windowSeconds} s (${int(s.limit)} per window)` +
    (g.sourceOptions.points_per_minute ? `, and the source's points_per_minute to ${int(g.sourceOptions.points_per_minute)} alike` : "") +
    `; ours runs with rate_limit_reserve: 0 there, 0.05 in (a). Windows used: ours ${used(o.rate)}, next window late by ${late(o.rate)}; ` +
    `octokit ${used(k.rate)}, late by ${late(k.rate)}; octokit's responses: ${statuses(k.statuses)}.`
  );
}

import { hashSide } from "./hash-side.js";
import { scanTree } from "./walk-tree.js";
import { scanOptions, type ResolvedTarget } from "./targets.js";

export interface VerifyReport {
  replica: string;
  target: string;
  match: boolean;
  error?: string;
  onlyLocal: string[];
  onlyRemote: string[];
  differ: string[];
}

/** Hashes both sides in full (no cached hashes) and lists every difference. */
export async function verifyTarget(t: ResolvedTarget): Promise<VerifyReport> {
  const r: VerifyReport = {
    replica: t.replica,
    target: t.target,
    match: false,
    onlyLocal: [],
    onlyRemote: [],
    differ: [],
  };
  try {
    const opts = scanOptions(t, false);
    const scanL = await scanTree(t.localRoot, opts);
    const scanR = await scanTree(t.remoteRoot, opts);
    const local = await hashSide(t.localRoot, scanL.files, new Map());
    const remote = await hashSide(t.remoteRoot, scanR.files, new Map());
    for (const [p, e] of local) {
      const o = remote.get(p);
      if (!o) r.onlyLocal.push(p);
      else if (o.sha256 !== e.sha256) r.differ.push(p);
    }
    for (const p of remote.keys()) if (!local.has(p)) r.onlyRemote.push(p);
    r.match = r.onlyLocal.length + r.onlyRemote.length + r.differ.length === 0;
  } catch (e) {
    r.error = e instanceof Error ? e.message : String(e);
  }
  return r;
}

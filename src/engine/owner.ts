import { randomBytes } from "node:crypto";
import { machineName } from "../config/host.js";

/**
 * A lease owner id: host, pid and a nonce, so a dead holder on this host is recognised at once and two
 * processes that got the same pid are told apart.
 */
export function newOwnerId(): string {
  return `${machineName()}:${process.pid}:${randomBytes(4).toString("hex")}`;
}

/** True when a process of this host with that pid exists (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** True when the owner is a process of this host that no longer exists. Other hosts wait for lease expiry. */
export function isOwnerGone(owner: string): boolean {
  const parts = owner.split(":");
  if (parts.length < 3) return false;
  const pid = Number(parts[parts.length - 2]);
  const host = parts.slice(0, -2).join(":");
  if (host !== machineName() || !Number.isInteger(pid)) return false;
  return pid !== process.pid && !pidAlive(pid);
}

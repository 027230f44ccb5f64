import { hostname } from "node:os";

/**
 * This machine's name in leases, locks and replica snapshots: SYNCWARDEN_HOST, else the host name.
 * Containers often share or randomise host names; workers on different machines must not share one.
 */
export function machineName(): string {
  return process.env.SYNCWARDEN_HOST?.trim() || hostname();
}

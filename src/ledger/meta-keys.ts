// The names of the metadata values syncwarden keeps (MetaStore), in one place for every reader.

/** The ISO time of a job's last run that completed (unscoped). */
export const lastSuccessKey = (job: string): string => `last_success:${job}`;

/** `replica:<replica>:<target>`: the name of a replica target's lock and breaker. */
export const replicaLockName = (t: { replica: string; target: string }): string =>
  `replica:${t.replica}:${t.target}`;

/** The ISO time of a replica target's last run that ended `ok`. */
export const replicaLastSuccessKey = (t: { replica: string; target: string }): string =>
  `last_success:${replicaLockName(t)}`;

/** The ISO time a scheduled (daemon or doctor) run of a replica target last started. */
export const replicaLastRunKey = (t: { replica: string; target: string }): string =>
  `last_run:${replicaLockName(t)}`;

import { z } from "zod";
import { name } from "./names.js";
import { scheduleSchema } from "./schedule-schema.js";

/** One folder a replica is kept in step with (a cloud-drive folder, an external drive, a share). */
export const replicaTargetSchema = z.strictObject({
  name: name("target name"),
  /** Relative to the config file. */
  path: z.string().min(1),
  direction: z.enum(["push", "pull", "bidirectional"]).default("bidirectional"),
  conflict: z.enum(["newest", "local", "remote", "manual"]).default("manual"),
  /** Abort before deleting more than this percent of either side (unless --force). */
  max_delete: z.number().min(0).max(100).default(50),
  /** An mtime change within this many seconds (with equal size and hash) is not a change. */
  modtime_window: z.number().min(0).default(2),
  /** When the daemon replicates this target: `{ every: 10m }` or `{ cron: "0 * * * *" }`, as a job's. */
  schedule: scheduleSchema.optional(),
});

export const replicaSchema = z
  .strictObject({
    /** The local folder, relative to the config file; default: the state folder. */
    folder: z.string().min(1).optional(),
    targets: z.array(replicaTargetSchema).min(1, "a replica needs at least one target"),
  })
  .superRefine((r, ctx) => {
    const seen = new Set<string>();
    r.targets.forEach((t, i) => {
      if (seen.has(t.name))
        ctx.addIssue({
          code: "custom",
          message: `duplicate target name "${t.name}"`,
          path: ["targets", i, "name"],
        });
      seen.add(t.name);
    });
  });

export const replicasSchema = z.record(name("replica name"), replicaSchema).default({});

export type ReplicaTargetConfig = z.infer<typeof replicaTargetSchema>;
export type ReplicaConfig = z.infer<typeof replicaSchema>;

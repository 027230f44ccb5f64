import { z } from "zod";
import { errorMessage } from "../errors.js";
import { parseSchedule } from "./schedule.js";

/** `{ every: 10m }` or `{ cron: "0 * * * *" }`, checked when the configuration loads (interval syntax, cron syntax). */
export const scheduleSchema = z
  .strictObject({ every: z.string().optional(), cron: z.string().optional() })
  .superRefine((s, ctx) => {
    try {
      parseSchedule("", s, "schedule");
    } catch (e) {
      // parseSchedule names the key as "schedule.every: …"; the loader prefixes file:line and the full path
      const message = errorMessage(e).replace(/^schedule(\.(every|cron))?: /, "");
      const key = /^schedule\.(every|cron)/.exec(errorMessage(e))?.[1];
      ctx.addIssue({ code: "custom", message, path: key ? [key] : [] });
    }
  });

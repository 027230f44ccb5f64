import { z } from "zod";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** A name used as a key or reference (a job, phase, provider, table…); the message names what it is and the value. */
export const name = (what: string) =>
  z
    .string({
      error: (i) => `expected a ${what}, got ${(JSON.stringify(i.input) as string | undefined) ?? "nothing"}`,
    })
    .regex(NAME, {
      error: (i) => `${what} ${JSON.stringify(i.input)} must be letters, digits, '_', '.' or '-'`,
    });

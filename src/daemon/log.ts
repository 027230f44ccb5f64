import { pino, type DestinationStream, type Logger } from "pino";
import { redact, redactJsonLine } from "../config/secrets.js";
import { UsageError } from "../errors.js";

/** What the daemon logs through: a pino logger fits, and so does a test's recorder. */
export interface DaemonLogger {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

export type LogFormat = "pretty" | "json";

export function parseLogFormat(value: string | undefined): LogFormat {
  if (value === undefined || value === "pretty" || value === "json") return value ?? "pretty";
  throw new UsageError(`--log-format must be pretty or json, got "${value}"`);
}

const LEVELS: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};

/** One pino JSON line as "2026-05-01T12:00:00.123Z INFO  message [err: …]" (a line per event). */
export function formatPretty(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith("\n") ? line : `${line}\n`;
  }
  const time = typeof entry.time === "number" ? new Date(entry.time).toISOString() : "";
  const level = (typeof entry.level === "number" ? (LEVELS[entry.level] ?? "LOG") : "LOG").padEnd(5);
  const msg = typeof entry.msg === "string" ? entry.msg : "";
  const err = entry.err as { message?: unknown } | undefined;
  const extra = typeof err?.message === "string" && !msg.includes(err.message) ? ` [${err.message}]` : "";
  return `${time} ${level} ${msg}${extra}`.replace(/\s*\n\s*/g, " ") + "\n";
}

/** A pino logger to stderr: pino's JSON lines, or one readable line per event. */
export function createDaemonLogger(
  format: LogFormat,
  out: { write(s: string): unknown } = process.stderr,
): Logger {
  const dest: DestinationStream = {
    write: (line: string) => {
      out.write(format === "json" ? redactJsonLine(line) : redact(formatPretty(line)));
    },
  };
  return pino({ base: { name: "syncwarden-daemon", pid: process.pid } }, dest);
}

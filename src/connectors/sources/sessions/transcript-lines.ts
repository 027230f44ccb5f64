import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";

/** One JSON line of a transcript: its value, 1-based line number and the byte offset where it starts. */
export interface TranscriptRecord {
  value: Record<string, unknown>;
  line: number;
  offset: number;
}

export interface TranscriptLines {
  records: TranscriptRecord[];
  /** Line numbers that are not a JSON object. */
  malformed: number[];
  /** The byte offset after the last line read, and the number of lines before it. */
  end: number;
  endLine: number;
  /** The bytes read, from `range.from`. */
  bytes: Buffer;
}

/**
 * The JSON lines of bytes [from, to) of a file, whose line `firstLine` starts at `from`. A last line without
 * its newline is still being written: it is left for the next read unless `takeUnterminated` (the session
 * is finished).
 */
export async function readTranscriptLines(
  file: string,
  range: { from: number; to: number; firstLine: number },
  takeUnterminated: boolean,
): Promise<TranscriptLines> {
  const length = Math.max(0, range.to - range.from);
  const buf = Buffer.alloc(length);
  const fh = await open(file, "r");
  try {
    let got = 0;
    while (got < length) {
      const { bytesRead } = await fh.read(buf, got, length - got, range.from + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
  } finally {
    await fh.close();
  }
  const records: TranscriptRecord[] = [];
  const malformed: number[] = [];
  let start = 0;
  let line = range.firstLine;
  const take = (a: number, b: number): void => {
    line++;
    const text = buf.toString("utf8", a, b).trim();
    if (text === "") return;
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === "object" && value !== null && !Array.isArray(value))
        records.push({ value: value as Record<string, unknown>, line, offset: range.from + a });
      else malformed.push(line);
    } catch {
      malformed.push(line);
    }
  };
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, start)) {
    take(start, i);
    start = i + 1;
  }
  if (start < buf.length && takeUnterminated) {
    take(start, buf.length);
    start = buf.length;
  }
  return { records, malformed, end: range.from + start, endLine: line, bytes: buf };
}

/** A sha256 that has read the first `length` bytes of a file (the prefix a checkpoint stands on). */
export async function prefixHash(file: string, length: number): Promise<Hash> {
  const hash = createHash("sha256");
  if (length > 0)
    for await (const chunk of createReadStream(file, { start: 0, end: length - 1 }))
      hash.update(chunk as Buffer);
  return hash;
}

/** The hex digest of what a hash has read so far (it can read on). */
export const digestSoFar = (hash: Hash): string => hash.copy().digest("hex").slice(0, 32);

// A custom sink: writes each document to <dir>/<key> (temp file + rename), removes it on delete.
// Idempotent by (key, version): writing the same version twice leaves the same file.
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

/** @type {import("syncwarden").ConnectorFactory<import("syncwarden").Sink>} */
export default function createFolderSink(options, ctx) {
  const root = path.resolve(ctx.baseDir, String(options.dir ?? "out"));
  const target = (key) => {
    const file = path.resolve(root, key);
    if (!file.startsWith(root + path.sep)) throw new Error(`key ${key} escapes ${root}`);
    return file;
  };
  return {
    type: "folder",
    async apply(change) {
      const file = target(change.key);
      if (change.kind === "delete") {
        await rm(file, { force: true });
        return undefined;
      }
      await mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, change.content);
      await rename(tmp, file);
      return undefined;
    },
  };
}

import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers/workspace.js";

// The package as a consumer gets it: `npm pack`, then a fresh project installs the tarball (its
// dependencies come from the configured registry) and compiles a file against the public API with the
// repository's own TypeScript (the pinned version) and skipLibCheck off, so every shipped .d.ts is checked.

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  devDependencies: Record<string, string>;
};
const TSC = path.join(ROOT, "node_modules/typescript/bin/tsc");
// npm's own cache (read through, so a warm cache makes the install quick); a temp one when there is none
const npmCache = path.join(userInfo().homedir, ".npm");

const CONSUMER = `import {
  openServices, loadConfig, SyncService, ReplicaService, runDoctor, openLedger, ProviderPolicy,
  SyncError, PermanentError, ConfigError, UsageError, HttpError, BrokenCircuitError, LockedError,
  isSyncError, isConfigError, isUsageError, isHttpError, isBrokenCircuitError, isLockedError,
  type SyncResult, type Ledger, type Source, type Sink,
} from "syncwarden";

export async function main(file: string): Promise<SyncResult | string> {
  const { sync, replicas, health, close } = openServices(loadConfig(file));
  const ledger: Ledger = openLedger({ stateDir: "." });
  await ledger.close();
  const kinds = [SyncError, PermanentError, ConfigError, UsageError, HttpError, BrokenCircuitError, LockedError];
  const guards = [isSyncError, isConfigError, isUsageError, isHttpError, isBrokenCircuitError];
  try {
    const report = await health.run({});
    const result: SyncResult = await sync.execute({ job: "code", trigger: "api", options: { wait: false } });
    return \`\${result.status} \${report.exitCode} \${kinds.length} \${guards.length} \${(await replicas.status()).length}\`;
  } catch (e) {
    if (isLockedError(e)) return \`held by pid \${e.holder.pid}\`;
    throw e;
  } finally {
    await close();
  }
}
export type Connectors = [Source, Sink, typeof SyncService, typeof ReplicaService, typeof runDoctor, typeof ProviderPolicy];
`;

interface Packed {
  shipped: string[];
  tarball: string;
}

/** `npm pack` into dir; the tarball's path and the files it holds. */
async function pack(dir: string): Promise<Packed> {
  const packed = await run("npm", ["pack", "--json", "--pack-destination", dir], { cwd: ROOT });
  const [{ filename, files }] = JSON.parse(packed.stdout) as [
    { filename: string; files: { path: string }[] },
  ];
  return { shipped: files.map((f) => f.path), tarball: path.join(dir, filename) };
}

describe("the published package", { timeout: 240_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), "syncwarden-consumer-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let packed: Promise<Packed> | undefined;
  const packOnce = (): Promise<Packed> => (packed ??= pack(dir));

  it("14.14 LockedError, isLockedError and every error class and guard the README names are exported", async () => {
    const api = (await import("../src/index.js")) as Record<string, unknown>;
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    const named = new Set([...readme.matchAll(/`((?:is)?[A-Z]?[A-Za-z]*Error)`/g)].map((m) => m[1]!));
    named.delete("isError"); // the MCP result field, not an export
    expect([...named]).toEqual(expect.arrayContaining(["LockedError", "isLockedError", "SyncError"]));
    for (const name of named) expect(typeof api[name], name).toBe("function");
    const locked = new (api.LockedError as new (m: string, h: object) => Error)("held", { pid: 1 });
    expect((api.isLockedError as (e: unknown) => boolean)(locked)).toBe(true);
    expect((api.isSyncError as (e: unknown) => boolean)(locked)).toBe(true);
  });

  it("14.14 the examples/ folder the README links to ships in the package", async () => {
    const { shipped } = await packOnce();
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    const linked = [...readme.matchAll(/\]\((examples\/[^)#]+)\)/g)].map((m) => m[1]!.replace(/\/$/, ""));
    expect(linked.length).toBeGreaterThan(0);
    for (const link of linked)
      expect(
        shipped.some((f) => f === link || f.startsWith(`${link}/`)),
        link,
      ).toBe(true);
  });

  it("14.14 a fresh project installs the packed tarball without @types/better-sqlite3 and compiles against every shipped .d.ts with skipLibCheck off", async () => {
    const { shipped, tarball } = await packOnce();
    expect(shipped).toContain("dist/index.d.ts");
    writeFileSync(
      path.join(dir, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    const cache = existsSync(npmCache) ? ["--cache", npmCache, "--prefer-offline"] : [];
    await run(
      "npm",
      [
        "install",
        "--ignore-scripts", // better-sqlite3's native build is not what is tested here
        "--no-audit",
        "--no-fund",
        "--no-save",
        ...cache,
        tarball,
        `@types/node@${pkg.devDependencies["@types/node"]!}`,
      ],
      { cwd: dir, timeout: 200_000 },
    );
    expect(existsSync(path.join(dir, "node_modules/syncwarden/dist/index.d.ts"))).toBe(true);
    expect(existsSync(path.join(dir, "node_modules/@types/better-sqlite3"))).toBe(false);

    writeFileSync(path.join(dir, "consumer.ts"), CONSUMER);
    writeFileSync(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ["node"],
        },
        // the consumer's file, and every declaration file the package ships (not only those it reaches)
        include: ["consumer.ts", "node_modules/syncwarden/dist/**/*.d.ts"],
      }),
    );
    const tsc = await run(process.execPath, [TSC, "-p", dir], { cwd: dir }).then(
      () => "",
      (e: unknown) => (e as { stdout?: string }).stdout ?? "tsc did not run",
    );
    expect(tsc).toBe("");
  });
});

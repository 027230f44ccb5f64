import { describe, expect, it } from "vitest";
import type { EventRecord } from "../../src/ledger/types.js";
import type { Harness } from "./harness.js";

const event = (n: number, job: string | null, extra: Partial<EventRecord> = {}): EventRecord => ({
  ts: 1_000 + n,
  runId: job && `run-${job}`,
  job,
  level: "info",
  type: "item",
  message: `event ${n}`,
  ...extra,
});

export function eventsContract(h: Harness): void {
  describe("events", () => {
    it("lists appended events oldest first, with their data and an id", async () => {
      const { ledger } = h();
      await ledger.events.append([
        event(1, "j", { level: "warn", type: "circuit", data: { from: "closed", to: "open" } }),
        event(2, null),
      ]);
      const listed = await ledger.events.list({ limit: 10 });
      expect(listed).toEqual([
        {
          id: expect.any(Number) as number,
          ts: 1_001,
          runId: "run-j",
          job: "j",
          level: "warn",
          type: "circuit",
          message: "event 1",
          data: { from: "closed", to: "open" },
        },
        {
          id: expect.any(Number) as number,
          ts: 1_002,
          runId: null,
          job: null,
          level: "info",
          type: "item",
          message: "event 2",
          data: undefined,
        },
      ]);
      expect(listed[1]!.id).toBeGreaterThan(listed[0]!.id!);
    });

    it("limit keeps the newest; job and since filter; events of every process are there", async () => {
      const { ledger } = h();
      const other = await h().second();
      for (let n = 0; n < 10; n++)
        await (n % 2 ? other : ledger).events.append([event(n, n < 6 ? "a" : "b")]);
      const messages = (list: EventRecord[]) => list.map((e) => e.message);
      expect(messages(await ledger.events.list({ limit: 3 }))).toEqual(["event 7", "event 8", "event 9"]);
      expect(messages(await ledger.events.list({ job: "a", limit: 2 }))).toEqual(["event 4", "event 5"]);
      expect(messages(await ledger.events.list({ since: 1_008, limit: 10 }))).toEqual(["event 8", "event 9"]);
      expect(messages(await ledger.events.list({ job: "a", since: 1_004, limit: 10 }))).toEqual([
        "event 4",
        "event 5",
      ]);
      expect(await ledger.events.list({ job: "none", limit: 10 })).toEqual([]);
    });
  });
}

export function metaContract(h: Harness): void {
  describe("meta", () => {
    it("get is undefined until set; set overwrites; values survive a restart and are shared", async () => {
      const { ledger } = h();
      expect(await ledger.meta.get("last_success:j")).toBeUndefined();
      await ledger.meta.set("last_success:j", "100");
      await ledger.meta.set("last_success:j", "200");
      await ledger.meta.set("schedule:j", "x");
      expect(await ledger.meta.get("last_success:j")).toBe("200");
      const other = await h().second();
      expect(await other.meta.get("schedule:j")).toBe("x");
      const reopened = await h().reopen();
      expect(await reopened.meta.get("last_success:j")).toBe("200");
    });

    it("delete removes a value for every process; deleting a missing key is no error", async () => {
      const { ledger } = h();
      await ledger.meta.set("sessions-state:j:p:a", "{}");
      await ledger.meta.set("sessions-state:j:p:b", "{}");
      await ledger.meta.delete("sessions-state:j:p:a");
      await ledger.meta.delete("sessions-state:j:p:none");
      expect(await ledger.meta.get("sessions-state:j:p:a")).toBeUndefined();
      const other = await h().second();
      expect(await other.meta.get("sessions-state:j:p:a")).toBeUndefined();
      expect(await other.meta.get("sessions-state:j:p:b")).toBe("{}");
    });
  });
}

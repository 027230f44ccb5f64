import { describe, expect, it } from "vitest";
import type { JobLock, LockAttempt } from "../../src/ledger/types.js";
import { sleep } from "./fixtures.js";
import type { Harness } from "./harness.js";

const holder = (owner: string) => ({ owner, pid: 4242, host: `host-${owner}` });

function lockOf(attempt: LockAttempt): JobLock {
  if (!attempt.acquired) throw new Error(`expected the lock, ${attempt.holder.owner} holds it`);
  return attempt.lock;
}

export function locksContract(h: Harness): void {
  describe("locks", () => {
    it("one holder at a time across processes; the loser is told who holds it", async () => {
      const { ledger } = h();
      const other = await h().second();
      const mine = lockOf(await ledger.locks.acquire("j", holder("a"), 60_000));
      expect(mine).toMatchObject({ job: "j", owner: "a", pid: 4242, host: "host-a", expired: false });
      expect(mine.expiresAt - mine.heartbeatAt).toBe(60_000);

      const theirs = await other.locks.acquire("j", holder("b"), 60_000);
      expect(theirs).toMatchObject({
        acquired: false,
        holder: { owner: "a", host: "host-a", fence: mine.fence },
      });
      // another job is free
      expect((await other.locks.acquire("k", holder("b"), 60_000)).acquired).toBe(true);
    });

    it("many processes racing for a free lock: exactly one wins", async () => {
      const { ledger } = h();
      const other = await h().second();
      const attempts = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? other : ledger).locks.acquire("j", holder(`o${i}`), 60_000),
        ),
      );
      const winners = attempts.filter((a) => a.acquired);
      expect(winners).toHaveLength(1);
      const winner = winners[0]!.lock;
      expect((await ledger.locks.read("j"))?.owner).toBe(winner.owner);
      for (const a of attempts)
        if (!a.acquired) expect(a.holder).toMatchObject({ owner: winner.owner, fence: winner.fence });
    });

    it("an expired lock (after ttlMs, by the ledger's clock) is reclaimed by another, with a larger fence", async () => {
      const { ledger } = h();
      const other = await h().second();
      const old = lockOf(await ledger.locks.acquire("j", holder("a"), 50));
      expect((await other.locks.acquire("j", holder("b"), 60_000)).acquired).toBe(false);
      await sleep(120);
      expect(await other.locks.read("j")).toMatchObject({ owner: "a", expired: true });
      const taken = await other.locks.acquire("j", holder("b"), 60_000);
      expect(taken).toMatchObject({
        acquired: true,
        lock: { owner: "b" },
        reclaimed: { owner: "a", fence: old.fence },
      });
      expect(lockOf(taken).fence).toBeGreaterThan(old.fence);
      expect(await ledger.locks.renew("j", "a", old.fence, 60_000)).toBe(false);
    });

    it("takeOver takes a live lock from the named owner only", async () => {
      const { ledger } = h();
      const other = await h().second();
      const old = lockOf(await ledger.locks.acquire("j", holder("a"), 60_000));
      expect((await other.locks.acquire("j", holder("b"), 60_000, "someone-else")).acquired).toBe(false);
      const taken = await other.locks.acquire("j", holder("b"), 60_000, "a");
      expect(taken).toMatchObject({ acquired: true, lock: { owner: "b" }, reclaimed: { owner: "a" } });
      expect(lockOf(taken).fence).toBeGreaterThan(old.fence);
      expect(await ledger.locks.read("j")).toMatchObject({ owner: "b", expired: false });
    });

    it("fences strictly increase with every acquisition, also after a release", async () => {
      const { ledger } = h();
      const other = await h().second();
      const fences: number[] = [];
      for (let i = 0; i < 4; i++) {
        const handle = i % 2 ? other : ledger;
        const lock = lockOf(await handle.locks.acquire("j", holder(`o${i}`), 60_000));
        fences.push(lock.fence);
        await handle.locks.release("j", `o${i}`);
        expect(await ledger.locks.read("j")).toBeUndefined();
      }
      for (let i = 1; i < fences.length; i++) expect(fences[i]).toBeGreaterThan(fences[i - 1]!);
    });

    it("renew extends a held lock past its first expiry, and fails once the lock is lost or released", async () => {
      const { ledger } = h();
      const other = await h().second();
      const lock = lockOf(await ledger.locks.acquire("j", holder("a"), 100));
      for (let i = 0; i < 4; i++) {
        await sleep(50);
        expect(await ledger.locks.renew("j", "a", lock.fence, 100)).toBe(true);
      }
      // 200 ms after acquiring with a 100 ms ttl: still held
      expect((await other.locks.acquire("j", holder("b"), 60_000)).acquired).toBe(false);
      const renewed = await ledger.locks.read("j");
      expect(renewed!.expiresAt).toBeGreaterThan(lock.expiresAt);
      expect(await ledger.locks.renew("j", "a", lock.fence + 1, 100)).toBe(false);

      lockOf(await other.locks.acquire("j", holder("b"), 60_000, "a"));
      expect(await ledger.locks.renew("j", "a", lock.fence, 100)).toBe(false);
      await other.locks.release("j", "a"); // not the holder: nothing happens
      expect(await ledger.locks.read("j")).toMatchObject({ owner: "b" });
      await other.locks.release("j", "b");
      expect(await ledger.locks.read("j")).toBeUndefined();
      expect(await ledger.locks.renew("j", "b", lock.fence + 1, 100)).toBe(false);
    });

    it("list shows every lock and whether it has expired", async () => {
      const { ledger } = h();
      await ledger.locks.acquire("short", holder("a"), 30);
      await ledger.locks.acquire("long", holder("b"), 60_000);
      await sleep(100);
      const locks = await (await h().second()).locks.list();
      expect(locks.map((l) => [l.job, l.owner, l.expired]).sort()).toEqual([
        ["long", "b", false],
        ["short", "a", true],
      ]);
    });

    it("a lock survives a restart of the process that reads it", async () => {
      const { ledger } = h();
      const lock = lockOf(await ledger.locks.acquire("j", holder("a"), 60_000));
      const reopened = await h().reopen();
      expect(await reopened.locks.read("j")).toEqual(lock);
    });
  });
}

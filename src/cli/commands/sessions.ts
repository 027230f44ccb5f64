import type { Command } from "commander";
import { isLockedError } from "../../errors.js";
import { parseHookInput, type SessionHookInput } from "../../service/session-hook.js";
import { act, globalsOf, withServices, type GlobalOptions } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { commandHelpText } from "../help-text.js";

export function register(program: Command): void {
  const sessions = program.command("sessions").description("coding-agent transcripts (the sessions source)");
  sessions
    .command("hook")
    .description(
      "a Claude Code SessionEnd/PreCompact hook: reads the hook's JSON on stdin and marks that transcript finished, so the next run emits its last turns",
    )
    .addHelpText("after", commandHelpText("sessions hook"))
    .option("--job <name>", "the job to run (default: the one whose sessions source covers the transcript)")
    .option("--run", "run that job now (a job another run holds is left queued for that run: exit 0)")
    .action(act((_o: unknown, cmd: Command) => hookCommand(globalsOf<HookOptions>(cmd))));
}

interface HookOptions extends GlobalOptions {
  job?: string;
  run?: boolean;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const say = (line: string): boolean => process.stderr.write(`syncwarden sessions hook: ${line}\n`);

/** `syncwarden sessions hook [--job NAME] [--run]`: never blocks the agent; bad stdin is exit 2 with the reason. */
async function hookCommand(opts: HookOptions): Promise<number> {
  let input: SessionHookInput;
  try {
    input = parseHookInput(await readStdin());
  } catch (e) {
    say(e instanceof Error ? e.message : String(e));
    return EXIT.usage;
  }
  return withServices(opts, async ({ sync }) => {
    const marked = await sync.memory.markSessionEnded(input, opts.job);
    if (marked.job === null) {
      say(`no sessions source covers ${marked.file}: nothing to do`);
      return EXIT.ok;
    }
    if (!opts.run) {
      say(
        `${marked.file} marked ${marked.mode === "end" ? "ended" : "for a flush"}; the next run of ${marked.job} emits its last turns`,
      );
      return EXIT.ok;
    }
    try {
      const result = await sync.execute({ job: marked.job, trigger: "cli", options: { wait: false } });
      const p = result.phases.reduce(
        (a, r) => ({ total: a.total + r.total, completed: a.completed + r.completed }),
        {
          total: 0,
          completed: 0,
        },
      );
      say(`ran ${marked.job}: ${result.status}, ${p.completed}/${p.total} episodes`);
    } catch (e) {
      if (!isLockedError(e)) throw e;
      say(
        `queued: ${marked.job} is running now (${e.message}); its next run emits this session's last turns`,
      );
    }
    return EXIT.ok;
  });
}

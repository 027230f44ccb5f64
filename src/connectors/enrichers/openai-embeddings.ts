import type { EmbeddingsEnrichConfig } from "../../config/steps-schema.js";
import { PermanentError } from "../../errors.js";
import type { ConnectorContext, Doc, Enricher } from "../types.js";

interface Waiting {
  text: string;
  resolve: (v: number[]) => void;
  reject: (e: unknown) => void;
}

/** Embeds each document through POST /v1/embeddings; concurrent calls are sent together, `batch_size` at a time. */
export class OpenAiEmbeddings implements Enricher {
  readonly type = "openai-embeddings";
  private queue: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;
  private ctx: ConnectorContext | undefined;

  constructor(readonly o: EmbeddingsEnrichConfig) {}

  async enrich(doc: Doc, ctx: ConnectorContext): Promise<Doc> {
    const values = await this.embed(doc.content.slice(0, this.o.max_input_chars) || doc.key, ctx);
    return { ...doc, vector: { model: this.o.model, values } };
  }

  /** One text's embedding; joins the batch being gathered (sent after 5 ms or when full). */
  embed(text: string, ctx: ConnectorContext): Promise<number[]> {
    this.ctx = ctx;
    return new Promise((resolve, reject) => {
      this.queue.push({ text, resolve, reject });
      if (this.queue.length >= this.o.batch_size) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), 5);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue.splice(0, this.o.batch_size);
    if (this.queue.length > 0) this.timer = setTimeout(() => this.flush(), 0);
    if (batch.length === 0 || !this.ctx) return;
    this.send(batch, this.ctx).catch((e: unknown) => {
      for (const w of batch) w.reject(e);
    });
  }

  private async send(batch: Waiting[], ctx: ConnectorContext): Promise<void> {
    const res = await ctx
      .http(this.o.provider)
      .postJson("embeddings", { model: this.o.model, input: batch.map((w) => w.text) }, ctx.signal);
    const data = (res.body as { data?: { index?: number; embedding?: unknown[] }[] } | null)?.data;
    if (!Array.isArray(data) || data.length !== batch.length) {
      throw new PermanentError(
        `${this.o.provider}: /v1/embeddings answered ${Array.isArray(data) ? data.length : "no"} embeddings for ${batch.length} inputs`,
      );
    }
    data.forEach((d, i) => {
      const w = batch[d.index ?? i];
      if (!w) return;
      if (Array.isArray(d.embedding) && d.embedding.every((x) => typeof x === "number"))
        w.resolve(d.embedding);
      else w.reject(new PermanentError(`${this.o.provider}: an embedding is not a list of numbers`));
    });
  }
}

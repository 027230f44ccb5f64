/** A text's lines (each with its line break), addressed by 0-based index, so chunks are cut at whole lines. */
export class Lines {
  /** Offset of each line's first character; one more entry holds the text's length. */
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) this.starts.push(i + 1);
    // a text that ends with a line break has no empty line after it
    if (this.starts[this.starts.length - 1] === text.length && text.length > 0) this.starts.pop();
    if (text.length === 0) this.starts.pop();
    this.starts.push(text.length);
  }

  /** How many lines the text has (0 for an empty text). */
  get count(): number {
    return this.starts.length - 1;
  }

  /** The characters of lines first..last (inclusive). */
  chars(first: number, last: number): number {
    return this.starts[last + 1]! - this.starts[first]!;
  }

  /** The text of lines first..last (inclusive), line breaks included. */
  slice(first: number, last: number): string {
    return this.text.slice(this.starts[first], this.starts[last + 1]);
  }
}

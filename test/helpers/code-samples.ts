// Small source files the code-chunk tests cut and index: Python, TypeScript, Go, and the other languages a grammar reads.

export const PY = `"""Inventory of otters."""
import os
from typing import List

MAX = 10


# Counts the otters in a raft.
def count_otters(raft: List[str]) -> int:
    return len(raft)


@dataclass
class Raft:
    """A group of otters."""

    name: str

    def add(self, otter: str) -> None:
        self.members.append(otter)

    @property
    def size(self) -> int:
        return len(self.members)


if __name__ == "__main__":
    print(count_otters(["a"]))
`;

export const TS = `import { readFile } from "node:fs/promises";
import path from "node:path";

/** How many otters fit in a raft. */
export const RAFT_SIZE = 12;

/**
 * Reads a census file.
 */
export async function readCensus(file: string): Promise<string[]> {
  const text = await readFile(path.resolve(file), "utf8");
  return text.split("\\n");
}

export class Raft {
  private readonly members: string[] = [];

  constructor(readonly river: string) {}

  add(otter: string): void {
    this.members.push(otter);
  }

  get size(): number {
    return this.members.length;
  }
}

export const countOtters = (raft: Raft): number => raft.size;

interface Census {
  river: string;
}
`;

export const GO = `package otters

import "fmt"

// Raft is a group of otters.
type Raft struct {
	Members []string
}

// Add puts an otter in the raft.
func (r *Raft) Add(otter string) {
	r.Members = append(r.Members, otter)
}

func Count(r Raft) int {
	return len(r.Members)
}

var zoo = fmt.Sprintf("%d", 1)
`;

/** Small files of the other languages a grammar reads. */
export const OTHERS: Record<string, string> = {
  "a.rs":
    'use std::fmt;\n\n/// A raft.\npub struct Raft { n: u32 }\n\nimpl fmt::Display for Raft {\n    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {\n        write!(f, "{}", self.n)\n    }\n}\n\nimpl Raft {\n    pub fn new() -> Self { Raft { n: 0 } }\n    pub fn add(&mut self) { self.n += 1; }\n}\n\nfn main() {}\n',
  "A.java":
    "package a;\n\nimport java.util.List;\n\npublic class Raft {\n    private int n;\n\n    public Raft() { n = 0; }\n\n    /** Adds. */\n    public void add(int k) {\n        n += k;\n    }\n}\n",
  "a.cs":
    "using System;\n\nnamespace Otters {\n    public class Raft {\n        public int N { get; set; }\n        public void Add(int k) {\n            N += k;\n        }\n    }\n}\n",
  "a.cpp":
    "#include <vector>\n\nnamespace otters {\nclass Raft {\n public:\n  void add(int k);\n};\n}\n\nvoid otters::Raft::add(int k) {\n  n_ += k;\n}\n\ntemplate <typename T>\nT twice(T x) {\n  return x + x;\n}\n",
  "a.c":
    "#include <stdio.h>\n\nstatic int *count(int *raft) {\n  return raft;\n}\n\nint main(void) {\n  return 0;\n}\n",
  "a.rb":
    "require 'set'\n\nmodule Otters\n  class Raft\n    def add(k)\n      @n += k\n    end\n\n    def self.build\n      new\n    end\n  end\nend\n",
  "a.php":
    "<?php\nnamespace Otters;\n\nfunction count_raft($r) {\n    return count($r);\n}\n\nclass Raft {\n    public function add($k) {\n        $this->n += $k;\n    }\n}\n",
  "a.sh": "#!/bin/sh\nset -e\n\nbuild() {\n  make all\n}\n\nbuild\n",
  "a.js":
    "const a = require('a');\n\nmodule.exports.f = function f() {\n  return 1;\n};\n\nexport default class Raft {\n  add() { return 2; }\n}\n",
};

/** A Go file of functions big enough not to be merged with their neighbours (each over 300 characters). */
export const RIVER = [
  "package otters",
  "",
  'import "strings"',
  "",
  ...["Depth", "Width", "Current"].flatMap((name, n) => [
    `// ${name} measures the river at a gauge.`,
    `func ${name}(gauges []string) int {`,
    "\ttotal := 0",
    "\tfor _, g := range gauges {",
    `\t\tif strings.HasPrefix(g, "${name.toLowerCase()}") {`,
    `\t\t\ttotal += len(g) * ${n + 2}`,
    "\t\t}",
    "\t}",
    ...(name === "Width" ? ["\t// beavers widen the banks", "\ttotal += beaverDams(gauges)"] : []),
    "\tif total > 1000 {",
    "\t\treturn 1000",
    "\t}",
    "\treturn total",
    "}",
    "",
  ]),
].join("\n");

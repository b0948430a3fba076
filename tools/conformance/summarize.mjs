// Prints the failing and warning checks of one conformance run, scenario by scenario, and
// writes them to DIR/failures.json. Usage: node summarize.mjs DIR BASELINE.yml (BASELINE "-":
// none, as in the federated layouts, whose verdict compare.mjs gives)
//
// The suite saves each scenario's checks to DIR/server-<scenario>-<timestamp>/checks.json;
// its own summary counts failures only, while its baseline logic also treats a WARNING as a
// failing scenario, so both are shown here.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [dir, baselinePath] = process.argv.slice(2);
const listed = new Set(
  (baselinePath === "-" ? "" : readFileSync(baselinePath, "utf8"))
    .split("\n")
    .map((line) => line.match(/^\s*-\s*([A-Za-z0-9_-]+)/)?.[1])
    .filter(Boolean),
);

const failures = {};
for (const entry of readdirSync(dir).sort()) {
  const scenario = entry.match(/^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/)?.[1];
  if (!scenario) continue;
  const checks = JSON.parse(readFileSync(join(dir, entry, "checks.json"), "utf8"));
  const bad = checks.filter((c) => c.status === "FAILURE" || c.status === "WARNING");
  if (bad.length === 0) continue;
  failures[scenario] = bad.map((c) => ({
    id: c.id,
    status: c.status,
    message: c.errorMessage ?? c.description,
  }));
}

writeFileSync(join(dir, "failures.json"), JSON.stringify(failures, null, 2) + "\n");
const names = Object.keys(failures);
console.log(`\nFailing scenarios (${names.length}):`);
for (const name of names) {
  console.log(`  ${name}${listed.has(name) || baselinePath === "-" ? "" : "   <-- NOT IN BASELINE"}`);
  for (const c of failures[name]) console.log(`      ${c.status} ${c.id}: ${c.message}`);
}

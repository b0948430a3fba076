// Decides whether the mesh breaks anything for a conformant upstream: compares one suite's
// run through the mesh (the federated layouts of run.sh) with the same suite run directly
// against the upstream server, scenario by scenario.
//
// Usage: node compare.mjs SUITE MESH_DIR BASELINE.yml DIRECT_DIR...
//
// A scenario fails in a run when any of its checks is a FAILURE or a WARNING (the suite's
// own baseline rule), or when it ran in some direct run but left no checks through the mesh.
// A scenario fails directly only when it fails in every direct run given: run.sh gives one,
// the server in the mode the layout mirrors (the same protocol generation between the mesh
// and the server as between the suite and the server directly); given several, the mesh
// must pass whatever the server passes in any of them. A regression
// is a scenario that fails through the mesh and not directly; the baseline's SUITE section
// lists the known ones, each with the reason. The exit status is 1 on a regression that is
// not listed and on a listed scenario that is no regression (delete its line), else 0.
// Writes MESH_DIR/comparison.json.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [suite, meshDir, baselinePath, ...directDirs] = process.argv.slice(2);
if (!suite || !meshDir || !baselinePath || directDirs.length === 0) {
  console.error("usage: node compare.mjs SUITE MESH_DIR BASELINE.yml DIRECT_DIR...");
  process.exit(2);
}

// run reads one run's scenarios: every scenario that left checks, and those that failed.
function run(dir) {
  const ran = new Set();
  const failing = new Set();
  let passedChecks = 0;
  let failedChecks = 0;
  for (const entry of existsSync(dir) ? readdirSync(dir) : []) {
    const scenario = entry.match(/^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/)?.[1];
    if (!scenario || !existsSync(join(dir, entry, "checks.json"))) continue;
    ran.add(scenario);
    for (const c of JSON.parse(readFileSync(join(dir, entry, "checks.json"), "utf8"))) {
      if (c.status === "FAILURE" || c.status === "WARNING") {
        failing.add(scenario);
        failedChecks++;
      } else if (c.status === "SUCCESS") {
        passedChecks++;
      }
    }
  }
  return { dir, ran, failing, passedChecks, failedChecks };
}

// listed reads the SUITE section of the baseline ("SUITE:" then "  - scenario" lines).
function listed(path) {
  const names = new Set();
  let section = null;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const head = line.match(/^([A-Za-z0-9_-]+):/);
    if (head) section = head[1];
    const item = line.match(/^\s+-\s*([A-Za-z0-9_-]+)/);
    if (item && section === suite) names.add(item[1]);
  }
  return names;
}

const mesh = run(meshDir);
const direct = directDirs.map(run);
const ranDirectly = new Set(direct.flatMap((d) => [...d.ran]));
const failingDirectly = new Set([...ranDirectly].filter((s) => direct.every((d) => d.failing.has(s) || !d.ran.has(s))));
const missing = [...ranDirectly].filter((s) => !mesh.ran.has(s));
const failingThroughMesh = new Set([...mesh.failing, ...missing]);
const regressions = [...failingThroughMesh].filter((s) => !failingDirectly.has(s)).sort();
const known = listed(baselinePath);
const unexpected = regressions.filter((s) => !known.has(s));
const stale = [...known].filter((s) => !regressions.includes(s)).sort();
const better = [...failingDirectly].filter((s) => !failingThroughMesh.has(s)).sort();

const count = (r) =>
  `${r.ran.size} scenarios, ${r.failing.size} failing (checks: ${r.passedChecks} passed, ${r.failedChecks} failed or warned)`;
console.log(`\nSuite ${suite}, through the mesh against directly:`);
console.log(`  through the mesh  ${count(mesh)}`);
for (const d of direct) console.log(`  directly          ${count(d)}   [${d.dir}]`);
console.log(`  failing directly${direct.length > 1 ? " in every run" : ""}: ${failingDirectly.size}`);
const list = (title, names, note = () => "") => {
  console.log(`  ${title} (${names.length})`);
  for (const s of names) console.log(`      ${s}${note(s)}`);
};
list("regressions: fail through the mesh, pass directly", regressions, (s) =>
  known.has(s) ? "   (baseline)" : missing.includes(s) ? "   <-- NOT IN BASELINE (no checks through the mesh)" : "   <-- NOT IN BASELINE",
);
list("fail directly, pass through the mesh", better);
if (stale.length > 0) list("baseline entries that are no regression now (delete them)", stale);

writeFileSync(
  join(meshDir, "comparison.json"),
  JSON.stringify(
    {
      suite,
      throughMesh: { scenarios: mesh.ran.size, failing: [...mesh.failing].sort(), missing },
      direct: direct.map((d) => ({ dir: d.dir, scenarios: d.ran.size, failing: [...d.failing].sort() })),
      failingDirectly: [...failingDirectly].sort(),
      regressions,
      unexpected,
      stale,
      passOnlyThroughMesh: better,
    },
    null,
    2,
  ) + "\n",
);
if (unexpected.length > 0 || stale.length > 0) {
  console.log(`  VERDICT: FAILED (${unexpected.length} regressions not in the baseline, ${stale.length} stale baseline entries)`);
  process.exit(1);
}
console.log(`  VERDICT: ok (the mesh breaks no scenario the server passes, beyond the ${known.size} listed)`);

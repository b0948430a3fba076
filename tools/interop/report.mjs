// What every interop client script shares: the JSON report it prints on stdout when it
// ends (with the SDK's package and version), the overall deadline after which it gives
// up, and the small helpers its steps use.
import { readFileSync } from 'node:fs';

// OVERALL_TIMEOUT_MS bounds a script: past it the report says timedOut and it exits 1.
export const OVERALL_TIMEOUT_MS = 30_000;

// sdkVersion is the installed version of an npm package beside these scripts.
export function sdkVersion(sdkPackage) {
  return JSON.parse(readFileSync(new URL(`./node_modules/${sdkPackage}/package.json`, import.meta.url), 'utf8')).version;
}

// newReport starts a script's report with fields and arms the overall deadline. finish
// prints the report and exits: 0 when ok (and not timed out), 1 otherwise.
export function newReport(scriptName, sdkPackage, url, fields) {
  const report = { ok: false, sdkVersion: sdkVersion(sdkPackage), nodeVersion: process.version, url, ...fields };
  const finish = (ok) => {
    report.ok = ok && !report.timedOut;
    process.stdout.write(JSON.stringify(report) + '\n');
    process.exit(report.ok ? 0 : 1);
  };
  setTimeout(() => {
    console.error(`${scriptName}: gave up after ${OVERALL_TIMEOUT_MS} ms`);
    report.timedOut = true;
    finish(false);
  }, OVERALL_TIMEOUT_MS);
  return { report, finish };
}

export function check(cond, message) {
  if (!cond) throw new Error(message);
}

// text joins the text content of a tool result.
export function text(content) {
  return (content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

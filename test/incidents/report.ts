/**
 * The one line each incident replay prints (issue 16): `incident NAME: key=value ...`, the
 * figures an admin of that incident would have wanted (deliveries/s, worst delivery time, log
 * lines, bounces generated). Printed to the test's output, and appended to the file named by
 * MDA_INCIDENT_REPORT when `npm run incidents` (scripts/incidents.mjs) collects them.
 * Must not: decide pass or fail (the tests assert), or print anything else.
 */
import { appendFileSync } from 'node:fs';

export type IncidentName = 'honeypot' | 'backscatter' | 'flood' | 'clamav' | 'spamc';

/** Formats one figure: numbers with at most 2 decimals, strings as given. */
const figure = (v: string | number): string => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : v);

export function incidentLine(name: IncidentName, figures: Record<string, string | number>): string {
  return `incident ${name}: ${Object.entries(figures).map(([k, v]) => `${k}=${figure(v)}`).join(' ')}`;
}

/** reportIncident prints the line (and appends it to MDA_INCIDENT_REPORT, if set). */
export function reportIncident(name: IncidentName, figures: Record<string, string | number>): void {
  const line = incidentLine(name, figures);
  console.log(line);
  const file = process.env.MDA_INCIDENT_REPORT;
  if (file) appendFileSync(file, `${line}\n`);
}

/**
 * currentSite: the host facts the Sieve environment test reports (RFC 5183), read once per
 * run by the caller (delivery, `mda sieve test`). Must not: be read by the evaluator itself.
 */
import { hostname } from 'node:os';
import type { SieveSite } from './environment.js';

/** The build id esbuild defines ("0.1.0-<build>"); absent when running from source (tests). */
declare const __MDA_BUILD__: string | undefined;

export function currentSite(): SieveSite {
  const build = typeof __MDA_BUILD__ === 'string' ? __MDA_BUILD__ : 'source';
  return { host: hostname(), version: build.replace(/-[^-]*$/, '') };
}

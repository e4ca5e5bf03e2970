/**
 * Builds the scanner clients named in the config. The only place that knows
 * which class serves which `type`. Must not: run scans.
 */
import type { ScannerConfig } from '../config/schema.js';
import { ClamdClient } from './clamd/client.js';
import { FilterClient } from './filter/client.js';
import { SpamdClient } from './spamd/client.js';
import type { ScannerClient } from './types.js';

export function createScanner(cfg: ScannerConfig): ScannerClient {
  switch (cfg.type) {
    case 'spamd':
      return new SpamdClient(cfg);
    case 'clamd':
      return new ClamdClient(cfg);
    case 'filter':
      return new FilterClient(cfg);
  }
}

/**
 * The items of the environment test (RFC 5183 §4) as mda answers them, from the facts the
 * caller gathered (SieveSite). Owns the item table only. Must not: look anything up itself
 * (site.ts reads the host name). Pure.
 */

/** What the host knows about itself: read once per run by the caller. */
export interface SieveSite {
  /** This host's name (RFC 5183 §4 "host"), ideally fully qualified. */
  host: string;
  /** mda's version (RFC 5183 §4 "version"). */
  version: string;
}

/**
 * The value of an environment item, or undefined for an item mda does not know (the test is
 * then false, RFC 5183 §4). Item names compare case-insensitively, as Pigeonhole does.
 */
export function environmentItem(name: string, site: SieveSite): string | undefined {
  switch (name.toLowerCase()) {
    case 'domain': {
      // "the primary DNS domain associated with the Sieve execution context": the host's
      // domain, or the host itself when its name has no dot (Pigeonhole does the same)
      const dot = site.host.indexOf('.');
      return dot > 0 && dot < site.host.length - 1 ? site.host.slice(dot + 1) : site.host;
    }
    case 'host':
      return site.host;
    case 'location':
      return 'MDA'; // RFC 5183 §4: evaluation during final delivery
    case 'name':
      return 'mda';
    case 'phase':
      return 'during'; // the message is being delivered
    case 'version':
      return site.version;
    default:
      return undefined;
  }
}

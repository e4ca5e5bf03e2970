/**
 * Answers one policy request: the pure steps of decide.ts with the I/O between them (the
 * alias files, the shared RCPT resolver of src/recipients/, the maildirsize read), all
 * under one per-request budget (src/deadline). Never refuses because of its own trouble:
 * a budget overrun, a thrown error, an account lookup or a Maildir it cannot read all end
 * in DUNNO and a rate-limited log line. One PolicyService per config (rebuilt on reload);
 * its caches are its own. Must not: speak the wire protocol (handler.ts) or write files.
 */
import type { Config } from '../config/schema.js';
import { Deadline } from '../deadline/deadline.js';
import { temp } from '../outcome/outcome.js';
import type { Account } from '../privileges/accounts.js';
import { rcptQuotaVerdict, type RcptQuotaVerdict } from '../recipients/quota-verdict.js';
import { resolveAddress, systemAccounts, type AccountSource, type RcptResolution } from '../recipients/resolve.js';
import { recipientRules, type RecipientRules } from '../recipients/rules.js';
import { AliasFiles } from './aliases.js';
import { actionLine, fromQuota, fromResolution, screenRequest, type Decision, type PolicyScope } from './decide.js';
import type { PolicyRequest } from './request.js';
import type { TroubleLog } from './trouble-log.js';
import { TtlCache } from './ttl-cache.js';

/** Entries per cache: a flood to this many distinct addresses within cache_ttl only costs lookups. */
const CACHE_ENTRIES = 10_000;

export interface PolicyServiceOptions {
  config: Config;
  /** Resolve as `mda lmtp` does in this mode: only [users] entries (virtual) or system accounts too. */
  virtualOnly: boolean;
  /** The account deliveries run as (the server's own after its switch): planRecipient's `running`. */
  running: Account;
  trouble: TroubleLog;
  /** The account database; the system's (passwd/NSS) unless a test stands in. */
  accounts?: (signal: AbortSignal, running: Account) => AccountSource;
}

export class PolicyService {
  private readonly rules: RecipientRules;
  private readonly scope: PolicyScope;
  private readonly aliases: AliasFiles;
  private readonly resolutions: TtlCache<RcptResolution>;
  private readonly verdicts: TtlCache<RcptQuotaVerdict>;

  constructor(private readonly o: PolicyServiceOptions) {
    this.rules = recipientRules(o.config, { virtualOnly: o.virtualOnly });
    this.scope = { domains: this.rules.domains, delimiters: this.rules.delimiters };
    this.aliases = new AliasFiles(o.config.policy.aliases);
    this.resolutions = new TtlCache(o.config.policy.cacheTtlMs, CACHE_ENTRIES);
    this.verdicts = new TtlCache(o.config.policy.cacheTtlMs, CACHE_ENTRIES);
  }

  /** answer returns the `action=...` line for one request; never throws. `gone`: the client left. */
  async answer(req: PolicyRequest, gone: AbortSignal): Promise<string> {
    const budget = Deadline.start(this.o.config.policy.requestTimeoutMs, { graceMs: 0, onHardStop: () => undefined });
    const onGone = () => budget.abort(temp('signal', 'the client closed the connection'));
    gone.addEventListener('abort', onGone, { once: true });
    let d: Decision;
    try {
      d = await budget.race(this.decide(req, budget.signal));
    } catch (err) {
      d = budget.signal.aborted
        ? { verdict: 'dunno', why: 'out of time', trouble: `no answer within request_timeout (${this.o.config.policy.requestTimeoutMs}ms)` }
        : { verdict: 'dunno', why: 'internal error', trouble: `internal error: ${err instanceof Error ? err.message : String(err)}` };
    } finally {
      gone.removeEventListener('abort', onGone);
      budget.dispose();
    }
    if (d.verdict === 'dunno' && d.trouble !== undefined) {
      this.o.trouble.warn(d.why, `DUNNO for ${JSON.stringify(req.recipient)}${req.queueId ? ` (${req.queueId})` : ''}: ${d.trouble}`);
    }
    return actionLine(d, this.o.config.policy);
  }

  private async decide(req: PolicyRequest, signal: AbortSignal): Promise<Decision> {
    const screened = screenRequest(req, this.scope, await this.aliases.names());
    if (screened.kind === 'answer') return screened.decision;
    const key = screened.address.toLowerCase();
    let r = this.resolutions.get(key);
    if (r === undefined) {
      r = await resolveAddress(screened.address, this.rules, (this.o.accounts ?? systemAccounts)(signal, this.o.running));
      // A lookup that failed is not cached: the next request may find the directory back.
      if (r.kind !== 'temp' && !signal.aborted) this.resolutions.set(key, r);
    }
    const next = fromResolution(r);
    if (!('kind' in next)) return next;
    const vkey = `${next.target.mbox?.inbox ?? next.target.maildir}\0${next.target.uid}\0${req.size}`;
    let v = this.verdicts.get(vkey);
    if (v === undefined) {
      v = await rcptQuotaVerdict(next.target, req.size, this.o.config, signal);
      if (v.verdict === 'over' || !v.unread) this.verdicts.set(vkey, v);
    }
    return fromQuota(v);
  }
}

/**
 * The `--metrics HOST:PORT` option of a long-running server, as serveCommand's hooks
 * (server/serve-command.ts): checkMetricsOption with --listen (a bad address is a usage
 * error, before anything is opened), openMetricsOption while still root (after the
 * sockets, before the uid switch, so a port below 1024 works); serveCommand closes it
 * on every exit path. What it serves is plugged in later by the protocol, once its
 * metrics facade exists; until then a scrape gets an empty page. One MetricsPage per
 * server run, no module state. Must not: compute metrics or know a protocol.
 */
import { parseMetricsAddress, startMetricsHttp } from './metrics-http.js';
import type { OpenedBeforeSwitch } from './serve-command.js';

/** Where the protocol plugs in what GET /metrics renders. */
export interface MetricsPage {
  show(render: () => string): void;
}

/** checkMetricsOption: why `text` is not a metrics address (for a usage error), or undefined (also when the option is absent). */
export function checkMetricsOption(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const m = parseMetricsAddress(text);
  return m.ok ? undefined : `--metrics ${m.why}`;
}

/** openMetricsOption listens on `text` (checked before); undefined when the option is absent; rejects with `--metrics ADDR: why`. */
export async function openMetricsOption(text: string | undefined): Promise<OpenedBeforeSwitch<MetricsPage> | undefined> {
  if (text === undefined) return undefined;
  const m = parseMetricsAddress(text);
  if (!m.ok) throw new Error(`--metrics ${m.why}`);
  let render = (): string => '';
  const http = await startMetricsHttp(m.address, () => render()).catch((err: Error) => {
    throw new Error(`--metrics ${text}: ${err.message}`);
  });
  return {
    value: { show: (r) => void (render = r) },
    banner: `metrics on http://${http.bound}/metrics`,
    close: () => http.close(),
  };
}

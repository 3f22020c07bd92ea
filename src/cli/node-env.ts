/**
 * Node reads and parses the PEM file that NODE_EXTRA_CA_CERTS names at every start,
 * before any script runs: 34 ms of a 55 ms `node -e 0` on Debian 12 with its 140-certificate
 * bundle named there. mountkit makes no TLS connection, so the processes that start Node
 * for it (bin/mountkit, and the relaunch under unshare(1)) move the variable aside under
 * STASHED_CA_CERTS_ENV; the CLI puts it back first thing, so that whatever mountkit starts
 * afterwards (a plugin's child, the relaunch's own children) inherits the environment the
 * user gave. Only the CLI's own process lacks the extra certificates.
 */
export const CA_CERTS_ENV = 'NODE_EXTRA_CA_CERTS';
export const STASHED_CA_CERTS_ENV = 'MOUNTKIT_NODE_EXTRA_CA_CERTS';

/** Puts a stashed NODE_EXTRA_CA_CERTS back, in place; an empty value stays empty. */
export function restoreCaCertsEnv(env: NodeJS.ProcessEnv): void {
  const stashed = env[STASHED_CA_CERTS_ENV];
  if (stashed === undefined) return;
  delete env[STASHED_CA_CERTS_ENV];
  env[CA_CERTS_ENV] = stashed;
}

/** A copy of env for a Node process started for mountkit, with NODE_EXTRA_CA_CERTS moved aside. */
export function nodeStartEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { [CA_CERTS_ENV]: certs, [STASHED_CA_CERTS_ENV]: _stale, ...rest } = env;
  return certs === undefined ? rest : { ...rest, [STASHED_CA_CERTS_ENV]: certs };
}

/** Node's option making its inspector's websocket id known on stderr alone, not served at /json/list too (bin/mountkit's start_node says why). */
export const INSPECTOR_UNPUBLISHED = '--inspect-publish-uid=stderr';

/** Node's options for a Node started for mountkit: `execArgv`, with INSPECTOR_UNPUBLISHED unless it names the inspector's publishing itself. */
export function nodeStartOptions(execArgv: readonly string[]): string[] {
  return execArgv.some((arg) => arg.startsWith('--inspect-publish-uid')) ? [...execArgv] : [INSPECTOR_UNPUBLISHED, ...execArgv];
}

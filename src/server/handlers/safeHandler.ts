import type { Connection } from 'vscode-languageserver';

/** Services never throw into the protocol: a failure is logged and the client gets an empty answer. */
export function safely<A extends unknown[], R>(
  connection: Connection,
  name: string,
  fallback: R,
  handler: (...args: A) => R,
): (...args: A) => R {
  return (...args: A) => {
    try {
      return handler(...args);
    } catch (error) {
      connection.console.error(`embedtune: ${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return fallback;
    }
  };
}

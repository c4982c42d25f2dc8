import { format, inspect, type InspectOptions } from 'node:util';
import type { RemoteConsole } from 'vscode-languageserver';

/**
 * Over stdio, stdout carries the protocol: a library that prints there would corrupt it. vscode-languageserver routes
 * console output to the client's log when it opens stdio itself; the server opens it (to write messages its own
 * way), so it does the same here. console.count, table, time and group print through console.log, and assert
 * through console.warn, so these six cover them.
 */
export function routeConsoleToClient(remote: RemoteConsole): void {
  const text = (args: unknown[]) => format(...args);
  console.log = (...args: unknown[]) => remote.log(text(args));
  console.info = (...args: unknown[]) => remote.info(text(args));
  console.debug = (...args: unknown[]) => remote.log(text(args));
  console.dir = (item: unknown, options?: InspectOptions) => remote.log(inspect(item, options));
  console.warn = (...args: unknown[]) => remote.warn(text(args));
  console.error = (...args: unknown[]) => remote.error(text(args));
}

/**
 * Runs `start`, then removes the process-wide error listeners it added. Emscripten's Node glue (both tfjs wasm builds)
 * installs listeners that rethrow every error, so that after the wasm backend starts any uncaught error anywhere in
 * the trainer ends with exit code 7 and a dump of the glue's one 50 kB line instead of Node's normal report. tfjs
 * never uses what they are for (Emscripten's exit()).
 */
export async function withoutAddedProcessHandlers<T>(start: () => Promise<T>): Promise<T> {
  const uncaught = new Set(process.listeners('uncaughtException'));
  const unhandled = new Set(process.listeners('unhandledRejection'));
  try {
    return await start();
  } finally {
    for (const listener of process.listeners('uncaughtException')) {
      if (!uncaught.has(listener)) process.removeListener('uncaughtException', listener);
    }
    for (const listener of process.listeners('unhandledRejection')) {
      if (!unhandled.has(listener)) process.removeListener('unhandledRejection', listener);
    }
  }
}

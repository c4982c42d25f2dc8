/** The webview's handle on the extension: typed messages out, and state that survives a reload of the panel. */
export interface WebviewChannel<Out, State> {
  post(message: Out): void;
  getState(): State | undefined;
  setState(state: State): void;
}

export function connect<Out, State>(): WebviewChannel<Out, State> {
  const api = acquireVsCodeApi<State>();
  return {
    post: (message) => api.postMessage(message),
    getState: () => api.getState(),
    setState: (state) => void api.setState(state),
  };
}

/**
 * Calls `handle` with each message from the extension that `parse` accepts. Messages from any other source are
 * ignored: the extension's come from the webview host's own origin.
 */
export function onMessage<In>(parse: (value: unknown) => In | undefined, handle: (message: In) => void): void {
  window.addEventListener('message', (event: MessageEvent) => {
    const message = parse(event.data);
    if (message === undefined) {
      console.warn('EmbedTune: ignored a malformed message', event.data);
      return;
    }
    handle(message);
  });
}

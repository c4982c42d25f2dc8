/**
 * Whether the encoder recomputes its layers in the backward pass. `auto` turns it on where memory is the limit:
 * WebAssembly addresses at most 4 GiB and its heap never shrinks, and the plain-JS backend keeps every tensor in the
 * JS heap. tfjs-node's memory is the machine's, so there the time matters more.
 */
export function useGradientCheckpointing(setting: 'auto' | boolean, backendName: string): boolean {
  if (setting !== 'auto') return setting;
  return backendName === 'wasm' || backendName === 'cpu';
}

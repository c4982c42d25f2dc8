/**
 * Whether the tfjs engine recomputes encoder layers in the backward pass. `auto` means on: tfjs keeps every
 * activation of the forward pass and every gradient computed from it until the whole backward pass ends (PyTorch frees
 * them as it goes), so a step without checkpointing needs about three times the memory, which WebAssembly's 4 GiB
 * cannot hold for MiniLM at batch 32. The price is one more forward pass per step. `false` trades the memory back for
 * that time where memory is plentiful. (The accelerate engine reads `auto` as Hugging Face's default, off.)
 */
export function useGradientCheckpointing(setting: 'auto' | boolean): boolean {
  return setting === 'auto' ? true : setting;
}

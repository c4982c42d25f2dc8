import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { LoraSettings } from './bert/bertEncoder';
import type { NamedTensors } from './namedTensors';
import { writeSafetensors } from './safetensors';

/**
 * Writes LoRA weights as PEFT saves them (`adapter_config.json`, `adapter_model.safetensors`), so that
 * `PeftModel.from_pretrained(AutoModel.from_pretrained(base), dir)` applies them to the base model.
 * `snapshot` holds the encoder's LoRA variables as EmbedTune stores them: A is [in, r] and B is [r, out]; PEFT's
 * Linear layers hold the transposes, lora_A.weight [r, in] and lora_B.weight [out, r].
 */
export function writePeftAdapterFolder(dir: string, snapshot: NamedTensors, lora: LoraSettings, baseModel: string): void {
  const weights: NamedTensors = new Map();
  for (const [name, tensor] of snapshot) {
    if (!name.includes('.lora_A.') && !name.includes('.lora_B.')) continue;
    const [rows, cols] = tensor.shape as [number, number];
    weights.set(`base_model.model.${name}`, {
      dtype: 'F32',
      shape: [cols, rows],
      data: transpose(tensor.data as Float32Array, rows, cols),
    });
  }
  if (weights.size === 0) throw new Error('This checkpoint has no LoRA weights; --adapter-only applies to strategy lora.');
  const temp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}`);
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp, { recursive: true });
  writeSafetensors(join(temp, 'adapter_model.safetensors'), weights);
  const config = {
    peft_type: 'LORA',
    task_type: 'FEATURE_EXTRACTION',
    base_model_name_or_path: baseModel,
    r: lora.r,
    lora_alpha: lora.alpha,
    lora_dropout: lora.dropout,
    target_modules: peftTargets(snapshot),
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    modules_to_save: null,
  };
  writeFileSync(join(temp, 'adapter_config.json'), `${JSON.stringify(config, null, 2)}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(temp, dir);
}

/**
 * The modules that carry LoRA weights, inside a layer (`attention.self.query`, MPNet's `attention.attn.q`, DistilBERT's
 * `attention.q_lin`…), read from the weights themselves so that every family's names come out right. PEFT matches
 * module names by suffix, so these never catch the pooler's `dense`.
 */
function peftTargets(snapshot: NamedTensors): string[] {
  const modules = [...snapshot.keys()]
    .filter((name) => name.endsWith('.lora_A.weight'))
    .map((name) => name.slice(0, -'.lora_A.weight'.length).replace(/^(?:encoder|transformer)\.layer\.\d+\./, ''));
  return [...new Set(modules)];
}

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

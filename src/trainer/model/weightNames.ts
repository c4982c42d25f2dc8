/**
 * What a weight is, from its Hugging Face name, in every family EmbedTune loads: BERT and RoBERTa
 * (`encoder.layer.N.…LayerNorm`), MPNet (`encoder.layer.N.attention.LayerNorm`) and DistilBERT
 * (`transformer.layer.N.sa_layer_norm`, `output_layer_norm`). Freezing, adapters and weight decay ask here, so that
 * each family's names get the same treatment.
 */

/** A LayerNorm scale or shift (`LayerNorm` in BERT's names, `layer_norm` in DistilBERT's). */
export function isLayerNormWeight(name: string): boolean {
  return name.includes('LayerNorm') || name.includes('layer_norm');
}

/** The index of the encoder layer a weight belongs to, or undefined for embeddings and weights shared by all layers. */
export function encoderLayerOf(name: string): number | undefined {
  const index = /^(?:encoder|transformer)\.layer\.(\d+)\./.exec(name)?.[1];
  return index === undefined ? undefined : Number(index);
}

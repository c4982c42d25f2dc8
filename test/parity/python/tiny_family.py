"""Builds small random checkpoints of each model family with transformers itself, saved as sentence-transformers folders.

Each model is transformers' own class (RobertaModel, XLMRobertaModel, DistilBertModel, MPNetModel) built from a small
config, its weights redrawn at a larger scale than the default init (so that attention is far from uniform and every
weight matters to the output), and saved with save_pretrained; SentenceTransformer then wraps it with mean pooling and
normalization and saves the folder users would load. Tokenizers: RoBERTa gets a byte-level BPE (tokenizers) and
XLM-RoBERTa a SentencePiece Unigram model (sentencepiece, nmt_nfkc) that transformers converts as it converts XLM-R's
own sentencepiece.bpe.model (Precompiled normalizer, Metaspace, Unigram), both trained here on the request's corpus;
DistilBERT takes the WordPiece tokenizer of `wordpiece_from` and MPNet that of `mpnet_tokenizer_from` (all-mpnet-base-v2's).

Request: {"out": folder, "families": [...], "corpus": [...], "wordpiece_from": folder, "mpnet_tokenizer_from": folder,
          "seed": int}
Answer:  {"folders": {family: folder}}
"""
import io
import json
import os
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")

import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
from sentence_transformers.sentence_transformer import modules  # noqa: E402
import sentencepiece  # noqa: E402
from tokenizers import ByteLevelBPETokenizer, processors  # noqa: E402
from transformers import (  # noqa: E402
    AutoTokenizer,
    DistilBertConfig,
    DistilBertModel,
    MPNetConfig,
    MPNetModel,
    PreTrainedTokenizerFast,
    RobertaConfig,
    RobertaModel,
    XLMRobertaConfig,
    XLMRobertaModel,
)

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
SMALL = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64}


def roberta_style_tokenizer(tokenizer_object):
    tokenizer_object.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True, add_prefix_space=False)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer_object,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_max_length=512,
    )


def bpe_tokenizer(corpus):
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(corpus, vocab_size=700, min_frequency=2, special_tokens=SPECIALS)
    return roberta_style_tokenizer(bpe._tokenizer)


def sentencepiece_tokenizer(corpus):
    """sentencepiece's default ids (<unk> 0, <s> 1, </s> 2), as XLM-R's model has them; the converter then puts
    <s> <pad> </s> <unk> first, as fairseq did, and <mask> last."""
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus), model_writer=model, vocab_size=500, model_type="unigram", character_coverage=1.0,
        minloglevel=2,
    )
    with tempfile.TemporaryDirectory() as source:
        with open(os.path.join(source, "sentencepiece.bpe.model"), "wb") as f:
            f.write(model.getvalue())
        with open(os.path.join(source, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump({"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 512}, f)
        return AutoTokenizer.from_pretrained(source)


def randomize(model, seed):
    """Redraws every weight: N(0, 0.08) for matrices and biases, 1 + N(0, 0.1) for LayerNorm scales, N(0, 0.5) for MPNet's bias."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator)
            if name.endswith("weight") and ("LayerNorm" in name or "layer_norm" in name):
                parameter.copy_(1 + 0.1 * noise)
            elif "relative_attention_bias" in name:
                parameter.copy_(0.5 * noise)
            else:
                parameter.copy_(0.08 * noise)


def build(family, request):
    corpus = request["corpus"]
    if family == "roberta":
        tokenizer = bpe_tokenizer(corpus)
        config = RobertaConfig(vocab_size=len(tokenizer), max_position_embeddings=130, type_vocab_size=1, pad_token_id=1, layer_norm_eps=1e-5, **SMALL)
        model = RobertaModel(config, add_pooling_layer=True)
    elif family == "xlm-roberta":
        tokenizer = sentencepiece_tokenizer(corpus)
        config = XLMRobertaConfig(vocab_size=len(tokenizer), max_position_embeddings=130, type_vocab_size=1, pad_token_id=1, layer_norm_eps=1e-5, **SMALL)
        model = XLMRobertaModel(config, add_pooling_layer=True)
    elif family == "distilbert":
        tokenizer = AutoTokenizer.from_pretrained(request["wordpiece_from"])
        config = DistilBertConfig(vocab_size=len(tokenizer), max_position_embeddings=128, dim=32, n_layers=2, n_heads=4, hidden_dim=64, pad_token_id=tokenizer.pad_token_id)
        model = DistilBertModel(config)
    elif family == "mpnet":
        tokenizer = AutoTokenizer.from_pretrained(request["mpnet_tokenizer_from"])
        config = MPNetConfig(vocab_size=len(tokenizer), max_position_embeddings=130, pad_token_id=1, layer_norm_eps=1e-5, relative_attention_num_buckets=32, **SMALL)
        model = MPNetModel(config, add_pooling_layer=True)
    else:
        raise ValueError(family)
    randomize(model, request["seed"])
    folder = os.path.join(request["out"], family)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    transformer = modules.Transformer(folder, max_seq_length=64)
    dimension = transformer.get_word_embedding_dimension()
    st = SentenceTransformer(modules=[transformer, modules.Pooling(dimension, pooling_mode="mean"), modules.Normalize()], device="cpu")
    st.save(folder)
    # The classic sentence_bert_config.json, as hub models such as all-mpnet-base-v2 carry it (and sentence-transformers
    # still reads), in place of the newer format this version writes.
    with open(os.path.join(folder, "sentence_bert_config.json"), "w", encoding="utf-8") as f:
        json.dump({"max_seq_length": 64, "do_lower_case": False}, f)
    return folder


def main(request_path: str, answer_path: str) -> None:
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    folders = {family: build(family, request) for family in request["families"]}
    with open(answer_path, "w", encoding="utf-8") as f:
        json.dump({"folders": folders}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

"""Import keras-hub backbones built from constructor arguments (random weights, no downloads).

For each backbone at a tiny size: whether `archspec import` reads it (or the first line of its
refusal), whether the compiled spec has the backbone's parameter count, the max abs difference of
their outputs on a random batch (weights copied by node), and the blocks the spec defines.

Every weight is perturbed before the import (plus 0.1 x standard normal noise), so biases, norm
offsets and scales are not their initial zeros and ones and a weight copied to the wrong place shows.
Text backbones get token ids across the vocabulary and a padding mask whose first row ends in padding.

    python benchmarks/import_hub.py [--only NAME ...]
"""

from __future__ import annotations

import argparse
import re
import traceback

import numpy as np

from archspec.keras.equivalence import max_difference, sample_inputs
from archspec.keras.importer import import_and_rebuild
from archspec.keras.importer.verify import model_outputs

TEXT = {"vocabulary_size": 50, "num_layers": 2, "num_heads": 2, "hidden_dim": 8, "intermediate_dim": 16,
        "max_sequence_length": 16}
DECODER = {"vocabulary_size": 50, "num_layers": 2, "num_query_heads": 2, "num_key_value_heads": 1,
           "hidden_dim": 8, "intermediate_dim": 16}
IMAGE = {"image_shape": (32, 32, 3)}

BACKBONES = {
    "ViTBackbone": {**IMAGE, "patch_size": 8, "num_layers": 2, "num_heads": 2, "hidden_dim": 8, "mlp_dim": 16},
    "DeiTBackbone": {**IMAGE, "patch_size": 8, "num_layers": 2, "num_heads": 2, "hidden_dim": 8,
                     "intermediate_dim": 16},
    "ResNetBackbone": {**IMAGE, "input_conv_filters": [64], "input_conv_kernel_sizes": [3],
                       "stackwise_num_filters": [64, 16], "stackwise_num_blocks": [1, 1],
                       "stackwise_num_strides": [1, 2], "block_type": "basic_block"},
    "VGGBackbone": {**IMAGE, "stackwise_num_repeats": [1, 1], "stackwise_num_filters": [4, 8]},
    "DenseNetBackbone": {**IMAGE, "stackwise_num_repeats": [1, 1]},
    "XceptionBackbone": {**IMAGE, "stackwise_conv_filters": [[8, 8], [16, 16]],
                         "stackwise_pooling": [True, False]},
    "CSPNetBackbone": {**IMAGE, "stem_filters": 8, "stem_kernel_size": 3, "stem_strides": 1,
                       "stackwise_depth": [1, 1], "stackwise_strides": [1, 2], "stackwise_num_filters": [8, 16],
                       "block_type": "dark_block", "stage_type": "dark"},
    "BertBackbone": TEXT,
    "DistilBertBackbone": TEXT,
    "RobertaBackbone": TEXT,
    "XLMRobertaBackbone": TEXT,
    "ElectraBackbone": {"vocab_size": 50, "num_layers": 2, "num_heads": 2, "hidden_dim": 8, "embedding_dim": 8,
                        "intermediate_dim": 16, "max_sequence_length": 16},
    "AlbertBackbone": {**TEXT, "embedding_dim": 4},
    "FNetBackbone": {key: value for key, value in TEXT.items() if key != "num_heads"},
    "DebertaV3Backbone": {**{key: value for key, value in TEXT.items() if key != "max_sequence_length"},
                          "max_sequence_length": 16},
    "GPT2Backbone": TEXT,
    "OPTBackbone": TEXT,
    "GPTNeoXBackbone": {**TEXT, "hidden_dim": 16},  # heads of 8: at 4, RoPE on a quarter is 1 feature (keras-hub fails)
    "LlamaBackbone": DECODER,
    "MistralBackbone": DECODER,
    "Qwen2Backbone": DECODER,
    "GemmaBackbone": {**DECODER, "head_dim": 4},
}


def perturb(model, seed: int = 0) -> None:
    """Add 0.1 x N(0, 1) to every float weight of `model`."""
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        value = np.asarray(weight)
        if np.issubdtype(value.dtype, np.floating):
            weight.assign((value + 0.1 * rng.normal(size=value.shape)).astype(value.dtype))


def batch_for(model, seed: int = 1) -> list[np.ndarray]:
    """A random batch in the model's input order: token ids in [0, 50), segment ids 0 or 1, padding masks 1
    then 0 in the first row's last 3 steps, floats standard normal."""
    batch = sample_inputs(model, seed=seed, batch=2, floats="normal")
    rng = np.random.default_rng(seed)
    for index, tensor in enumerate(model.inputs):
        if "mask" in tensor.name:
            batch[index] = np.ones_like(batch[index])
            batch[index][0, -3:] = 0
        elif np.issubdtype(batch[index].dtype, np.integer):
            top = 2 if "segment" in tensor.name else 50
            batch[index] = rng.integers(0, top, size=batch[index].shape).astype(batch[index].dtype)
    return batch


def measure(keras_hub, name: str) -> dict:
    model = getattr(keras_hub.models, name)(**BACKBONES[name])
    perturb(model)
    row = {"backbone": name, "params": model.count_params()}
    try:
        text, rebuilt = import_and_rebuild(model, f"keras_hub.models.{name}", doc="keras-hub")
    except Exception as error:  # the refusal is the result
        message = str(error).strip() or "".join(traceback.format_exception_only(error)).strip()
        row["refused"] = re.sub(r"/\S*/site-packages/", "", message.splitlines()[0])[:240]  # the library's own path
        return row
    batch = batch_for(model)
    row.update(spec_params=rebuilt.count_params(),
               diff=max_difference(model_outputs(model, batch), model_outputs(rebuilt, batch)),
               blocks=_block_count(text))
    return row


def _block_count(text: str) -> int:
    import yaml

    return len(yaml.safe_load(text).get("blocks") or {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="backbone class names (default: all)")
    arguments = parser.parse_args()
    import keras_hub

    rows = []
    for name in arguments.only or BACKBONES:
        try:
            rows.append(measure(keras_hub, name))
        except Exception as error:  # the constructor itself failed at these arguments
            rows.append({"backbone": name, "refused": f"no: not built: {type(error).__name__}: "
                                                      f"{str(error).splitlines()[0][:160]}"})
    print("| backbone | params | imported | params equal | max abs diff | blocks |")
    print("|---|---:|---|---|---:|---:|")
    for row in rows:
        if "params" not in row:
            print(f"| {row['backbone']} | | {row['refused'].replace('|', '/')} | | | |")
        elif "refused" in row:
            print(f"| {row['backbone']} | {row['params']:,} | no: {row['refused'].replace('|', '/')} | | | |")
        else:
            print(f"| {row['backbone']} | {row['params']:,} | yes | {row['spec_params'] == row['params']} "
                  f"| {row['diff']:.1e} | {row['blocks']} |")
    done = sum("refused" not in row for row in rows)
    print(f"\n{done} of {len(rows)} import exactly (weights perturbed; max abs diff on a random batch).")


if __name__ == "__main__":
    main()

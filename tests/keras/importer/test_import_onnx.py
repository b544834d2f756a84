"""`archspec import model.onnx`: PyTorch models exported to ONNX become specs whose compiled model, holding
the ONNX weights, computes what onnxruntime computes (within 1e-4); unsupported graphs are refused whole."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.keras  # every test exports a PyTorch module and builds a Keras model
torch = pytest.importorskip("torch")
onnxruntime = pytest.importorskip("onnxruntime")

import onnx_models as models  # noqa: E402
from torch import nn  # noqa: E402

from archspec.keras.importer.onnx import OnnxImportError, import_onnx  # noqa: E402

MNIST = (1, 28, 28)


def _onnxruntime(path, image):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"image": image})[0]


@pytest.mark.parametrize("name, module, blocks", [
    ("resnet", models.ResNet, True), ("mobilenet", models.MobileNet, True), ("unet", models.UNet, False)])
def test_a_pytorch_model_imports_and_matches_onnxruntime(tmp_path, name, module, blocks):
    path = models.export(module(), MNIST, tmp_path / f"{name}.onnx")
    result = import_onnx(path)
    assert result.max_difference < 1e-4
    assert ("\nblocks:\n" in result.text) is blocks
    assert "batch_norm" in result.text  # exported with TrainingMode.PRESERVE: the batch norms stay layers
    assert result.model.count_params() == sum(p.numel() for p in module().parameters()) + _running_stats(module())


def _running_stats(module):
    return sum(layer.running_mean.numel() * 2 for layer in module.modules() if isinstance(layer, nn.BatchNorm2d))


@pytest.mark.parametrize("cell, op", [(nn.LSTM, "lstm"), (nn.GRU, "gru")])
def test_a_recurrent_classifier_imports_with_its_final_state(tmp_path, cell, op):
    path = models.export(models.LSTMClassifier(cell=cell), MNIST, tmp_path / "rnn.onnx", batch=2)
    result = import_onnx(path)
    assert f"rnn:                   {{op: {op}, units: 32" in result.text
    assert result.max_difference < 1e-4


def test_a_dynamic_batch_recurrence_is_refused_with_the_fixed_batch_hint(tmp_path):
    path = models.export(models.LSTMClassifier(), MNIST, tmp_path / "rnn.onnx")
    with pytest.raises(OnnxImportError, match=r"cannot be imported: Shape \(node '/Shape'\).*export with a fixed "
                                              r"batch size \(no dynamic_axes\) and they become constants$"):
        import_onnx(path)


class _TokenMLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed, self.norm, self.out = nn.Linear(6, 8), nn.LayerNorm(8), nn.Linear(8, 3)
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.act(self.norm(self.embed(x))))


def test_layer_norm_gelu_and_matmul_biases_over_tokens(tmp_path):
    path = models.export(_TokenMLP(), (5, 6), tmp_path / "tokens.onnx")
    result = import_onnx(path)
    # MatMul + Add: one dense with its bias; torch's erf formula (opset 17): one gelu
    assert result.text.split("nodes:\n")[1].split("\n\n")[0] == (
        "  embed: {op: dense, units: 8}\n"
        "  norm:  {op: layer_norm, epsilon: 1.0e-05}\n"
        "  act:   {op: activation, activation: gelu}\n"
        "  out:   {op: dense, units: 3}")
    assert result.max_difference < 1e-4


def test_folded_batch_norms_import_as_biased_convolutions(tmp_path):
    path = models.export(models.MobileNet(), MNIST, tmp_path / "folded.onnx", keep_batch_norm=False)
    result = import_onnx(path)
    assert "batch_norm" not in result.text and result.max_difference < 1e-4


class _Mixed(nn.Module):
    """Flatten of channel-major features, Pad, nearest and bilinear Resize, a functional ReLU, a LeakyReLU."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, stride=2, dilation=1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.smooth = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.act = nn.LeakyReLU(0.2)
        self.fc = nn.Linear(4 * 28 * 28, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv(nn.functional.pad(x, (1, 2, 0, 1))))
        x = self.act(self.smooth(self.up(x)))
        return torch.softmax(self.fc(torch.flatten(x, 1)), dim=1)


def test_flatten_keeps_the_channel_major_order_of_onnx(tmp_path):
    path = models.export(_Mixed(), (1, 15, 13), tmp_path / "mixed.onnx")
    result = import_onnx(path)
    assert "op: permute" in result.text or "permute(" in result.text
    assert result.max_difference < 1e-4


def test_the_command_writes_the_spec_and_its_weights(tmp_path):
    from archspec.cli import app
    from archspec.keras.compiler import compile_model
    from archspec.spec.frontend import load_spec

    path = models.export(models.UNet(), MNIST, tmp_path / "unet.onnx")
    target = tmp_path / "net.yaml"
    result = CliRunner().invoke(app, ["import", str(path), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"wrote {target} and {tmp_path / 'net.weights.h5'}; matches onnxruntime")
    model = compile_model(load_spec(target))
    model.load_weights(tmp_path / "net.weights.h5")
    image = np.random.default_rng(1).normal(size=(3, *MNIST)).astype("float32")
    got = np.moveaxis(np.asarray(model(np.moveaxis(image, 1, -1))), -1, 1)
    assert np.abs(got - _onnxruntime(path, image)).max() < 1e-4


class _Trig(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cos(torch.sin(x) + 1.0)


def test_unsupported_operators_are_all_named_and_nothing_is_written(tmp_path, capsys):
    from archspec.cli import main

    path = models.export(_Trig(), (4,), tmp_path / "trig.onnx")
    message = f"{path}: 2 operator(s) cannot be imported: Sin (node '/Sin'), Cos (node '/Cos'); supported: Add, "
    with pytest.raises(OnnxImportError) as error:
        import_onnx(path)
    assert str(error.value).startswith(message)
    with pytest.raises(SystemExit) as exit_:
        main(["import", str(path), "-o", str(tmp_path / "trig.yaml")])
    assert exit_.value.code == 1
    assert capsys.readouterr().err.startswith(message)
    assert sorted(item.name for item in tmp_path.iterdir()) == ["trig.onnx"]


class _PaddedPool(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.max_pool2d(x, 3, 2, 1)


def test_a_padded_max_pool_of_a_possibly_negative_input_is_refused_by_name(tmp_path):
    path = models.export(_PaddedPool(), (2, 8, 8), tmp_path / "pool.onnx")
    with pytest.raises(OnnxImportError, match=r"MaxPool node '/MaxPool': pads \[1, 1, 1, 1\] with strides \[2, 2\] "
                                              r"pad with other values than zero"):
        import_onnx(path)


def test_an_old_opset_is_refused(tmp_path):
    path = tmp_path / "old.onnx"
    torch.onnx.export(_PaddedPool(), (torch.randn(1, 2, 8, 8),), str(path), dynamo=False, opset_version=11,
                      input_names=["image"])
    with pytest.raises(OnnxImportError, match="opset 11 is too old; export with opset_version=13 or later"):
        import_onnx(path)


def test_init_weights_loads_the_imported_weights_and_refuses_others(tmp_path):
    from archspec.errors import RunError
    from archspec.keras.compiler import compile_model
    from archspec.spec.frontend import loads_spec
    from archspec.train.runner import load_init_weights

    path = models.export(models.MobileNet(), MNIST, tmp_path / "mobilenet.onnx")
    result = import_onnx(path)
    result.model.save_weights(tmp_path / "net.weights.h5")
    model = compile_model(loads_spec(result.text, "net.yaml"))
    load_init_weights(model, tmp_path / "net.weights.h5")
    image = np.random.default_rng(2).normal(size=(2, 28, 28, 1)).astype("float32")
    assert np.abs(np.asarray(model(image)) - np.asarray(result.model(image))).max() < 1e-6
    other = compile_model(loads_spec(result.text.replace("dense(10)", "dense(7)"), "other.yaml"))
    with pytest.raises(RunError, match=r"^--init-weights .*net.weights.h5: the weights do not fit this spec's model"):
        load_init_weights(other, tmp_path / "net.weights.h5")
    with pytest.raises(RunError, match=r"^--init-weights .*missing.weights.h5: no such .weights.h5 file$"):
        load_init_weights(model, tmp_path / "missing.weights.h5")


def test_a_tiny_vit_imports_with_attention_class_token_and_positions(tmp_path):
    path = models.export(models.TinyViT(), MNIST, tmp_path / "vit.onnx", batch=2)
    result = import_onnx(path)
    nodes = result.text.split("nodes:\n")[1].split("\n\n")[0]
    # torch's packed q|k|v MatMul, per-head Reshape/Transpose/Gather, scaled MatMul, Softmax, MatMul, Gemm: one node
    assert nodes.count("{op: attention, heads: 2, key_dim: 16}") == 2
    assert "  patch:                      {op: conv2d, filters: 32, kernel: 7, strides: 7, padding: valid}\n" \
           "  reshape:                    {op: reshape, shape: [16, 32]}\n" \
           "  concat_1:                   {op: class_token}\n" \
           "  add:                        {op: positional_embedding}\n" in nodes
    assert "  gather:                     {op: take, index: 0}\n" in nodes
    assert result.model.count_params() == sum(p.numel() for p in models.TinyViT().parameters())
    assert result.max_difference < 1e-4


class _HandWrittenAttention(nn.Module):
    """timm's ViT attention, batch first: qkv reshaped to (B, N, 3, heads, d), unbound, scores scaled after."""

    def __init__(self, width: int = 12, heads: int = 3) -> None:
        super().__init__()
        self.heads, self.scale = heads, 0.3  # not 1/sqrt(d): the importer folds the difference into the queries
        self.qkv, self.proj = nn.Linear(width, width * 3), nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, steps, width = x.shape
        qkv = self.qkv(x).reshape(batch, steps, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # (B, heads, N, d) each
        scores = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)  # (B, heads, N, N)
        return x + self.proj((scores @ v).transpose(1, 2).reshape(batch, steps, width))


def test_hand_written_batch_first_attention_with_another_scale_imports(tmp_path):
    path = models.export(_HandWrittenAttention(), (5, 12), tmp_path / "attention.onnx", batch=2)
    result = import_onnx(path)
    assert "{op: attention, heads: 3, key_dim: 4}" in result.text
    assert result.max_difference < 1e-4


class _SequenceOps(nn.Module):
    """Conv1d over (C, L), a scalar and a learned broadcast constant, Split, Slice with a step, a broadcast Mul."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(4, 6, 3, padding=1)
        self.bias = nn.Parameter(torch.randn(6, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x) * 0.5 + self.bias  # (N, 6, 12)
        first, rest = torch.split(y, [2, 4], dim=1)  # (N, 2, 12), (N, 4, 12)
        mixed = rest * first[:, :1, :]  # (N, 4, 12) * (N, 1, 12)
        return torch.cat([mixed.flatten(1), y[:, :, 1:-1:2].flatten(1)], 1)


def test_conv1d_split_slice_and_broadcasting_merges(tmp_path):
    path = models.export(_SequenceOps(), (4, 12), tmp_path / "sequence.onnx")
    result = import_onnx(path)
    for line in ("conv:                    {op: conv1d, filters: 6}",  # kernel 3, same padding: the defaults
                 'mul:                     {op: expr, expr: "x * 0.5"}',
                 'add:                     {op: expr, expr: "x + bias", learnable: {bias: {shape: [6]}}}',
                 'split_0:                 {op: slice, axis: 2, stop: 2}',
                 'mul_1:                   {op: expr, expr: "x * y"}',
                 "slice_1:                 {op: slice, start: 1, stop: 11, step: 2}"):
        assert line in result.text, line
    assert result.max_difference < 1e-4


class _BatchSlice(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[1:] * 2.0


def test_slicing_the_batch_axis_is_refused_by_node(tmp_path):
    path = models.export(_BatchSlice(), (3,), tmp_path / "batch.onnx", batch=2)
    with pytest.raises(OnnxImportError, match=r"^Slice node '/Slice': slicing the batch axis is not read$"):
        import_onnx(path)


class _Bidirectional(nn.Module):
    """A bidirectional recurrence read by its last step, or by both final states concatenated."""

    def __init__(self, cell: type[nn.Module], sequence: bool) -> None:
        super().__init__()
        self.rnn, self.sequence = cell(28, 16, batch_first=True, bidirectional=True), sequence
        self.fc = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps, state = self.rnn(torch.flatten(x, 1, 2))  # (N, T, 2H); (2, N, H)
        state = state[0] if isinstance(state, tuple) else state
        return self.fc(steps[:, -1] if self.sequence else torch.cat([state[-2], state[-1]], 1))


@pytest.mark.parametrize("cell, sequence, reads", [
    (nn.LSTM, True, "  rnn:                   {op: lstm, units: 16, return_sequences: true, bidirectional: true}\n"
                    "  gather:                {op: take, index: -1}\n"),
    (nn.GRU, False, "  rnn:                   {op: gru, units: 16, bidirectional: true}\n"
                    "  gather:                {op: slice, stop: 16}\n"
                    "  gather_1:              {op: slice, start: 16, stop: 32}\n")])
def test_a_bidirectional_recurrence_imports_with_its_steps_or_final_states(tmp_path, cell, sequence, reads):
    path = models.export(_Bidirectional(cell, sequence), MNIST, tmp_path / "birnn.onnx", batch=2)
    result = import_onnx(path)
    assert reads in result.text
    assert result.max_difference < 1e-4


class _TorchAttention(nn.Module):
    """nn.MultiheadAttention on (N, 4, 12): cross-attention to a projected memory, or causal self-attention."""

    def __init__(self, causal: bool) -> None:
        super().__init__()
        self.causal, self.memory = causal, nn.Linear(6, 12)
        self.att = nn.MultiheadAttention(12, 3, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.causal:  # the bool mask exports as an Add of 0 / -inf before the Softmax
            mask = torch.triu(torch.ones(4, 4, dtype=torch.bool), 1)
            return self.att(x, x, x, need_weights=False, attn_mask=mask)[0]
        memory = self.memory(x[:, :, :6])
        return self.att(x, memory, memory, need_weights=False)[0]


@pytest.mark.parametrize("causal, reads", [
    (False, "  att:    {op: attention, heads: 3, key_dim: 4}\n\nedges:\n  - image -> slice -> memory\n"
            "  - image -> att\n  - {from: memory, to: att, kind: attention}\n"),
    (True, "  att: {op: attention, heads: 3, key_dim: 4, causal: true}\n\nedges:\n  - image -> att\n")])
def test_cross_attention_and_a_causal_mask_import(tmp_path, causal, reads):
    path = models.export(_TorchAttention(causal), (4, 12), tmp_path / "attention.onnx", batch=2)
    result = import_onnx(path)
    assert reads in result.text
    assert result.max_difference < 1e-4


class _MaskedAttention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.att = nn.MultiheadAttention(12, 3, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = torch.zeros(4, 4, dtype=torch.bool)
        mask[:, 3] = True  # the last key hidden from every query: no causal mask
        return self.att(x, x, x, need_weights=False, attn_mask=mask)[0]


def test_attention_with_another_mask_is_refused_naming_its_matmuls(tmp_path):
    path = models.export(_MaskedAttention(), (4, 12), tmp_path / "masked.onnx", batch=2)
    with pytest.raises(OnnxImportError) as error:
        import_onnx(path)
    assert str(error.value) == (
        f"{path}: MatMul of two computed tensors (node '/att/MatMul_1', '/att/MatMul_2') is read only as part of "
        "attention (MatMul(q, kᵀ), Softmax, MatMul by v, between projections); these are in none that the "
        "importer recognises (attention with a mask other than a causal one, or whose inner tensors are read "
        "elsewhere, is not read)")

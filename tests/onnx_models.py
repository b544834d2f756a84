"""Small PyTorch models written out here (random weights, no downloads), exported to ONNX for the import tests
and benchmarks/import_onnx.py. Each takes MNIST-shaped images (1 x 28 x 28) unless it says otherwise."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn


class BasicBlock(nn.Module):
    """ResNet-18's block: two 3x3 convolutions, a projection when the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = x if self.downsample is None else self.downsample(x)
        return self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))) + skip)


class ResNet(nn.Module):
    """ResNet-18's layout (stem, max pool, four stages of two blocks), narrow."""

    def __init__(self, width: int = 8, classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        widths = [width, width * 2, width * 4, width * 8]
        stages, cin = [], width
        for index, cout in enumerate(widths):
            stride = 1 if index == 0 else 2
            stages.append(nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout)))
            cin = cout
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class InvertedResidual(nn.Module):
    """MobileNetV2's block: 1x1 expand, 3x3 depthwise, 1x1 project, ReLU6, a residual at stride 1."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int = 4) -> None:
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        self.conv = nn.Sequential(
            nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(),
            nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_residual else self.conv(x)


class MobileNet(nn.Module):
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU6())
        self.features = nn.Sequential(InvertedResidual(8, 8, 1), InvertedResidual(8, 16, 2),
                                      InvertedResidual(16, 16, 1), InvertedResidual(16, 16, 1))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(16, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(self.stem(x))), 1))


def _double_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


class UNet(nn.Module):
    """Two levels down, two up: max-pool, transposed convolutions, concatenated skips; (1, 28, 28) -> (1, 28, 28)."""

    def __init__(self, width: int = 8) -> None:
        super().__init__()
        self.down1, self.down2 = _double_conv(1, width), _double_conv(width, width * 2)
        self.pool = nn.MaxPool2d(2)
        self.bottom = _double_conv(width * 2, width * 4)
        self.up2 = nn.ConvTranspose2d(width * 4, width * 2, 2, stride=2)
        self.dec2 = _double_conv(width * 4, width * 2)
        self.up1 = nn.ConvTranspose2d(width * 2, width, 2, stride=2)
        self.dec1 = _double_conv(width * 2, width)
        self.head = nn.Conv2d(width, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d1 = self.down1(x)
        d2 = self.down2(self.pool(d1))
        b = self.bottom(self.pool(d2))
        u2 = self.dec2(torch.cat([self.up2(b), d2], 1))
        u1 = self.dec1(torch.cat([self.up1(u2), d1], 1))
        return torch.sigmoid(self.head(u1))


def export(module: nn.Module, shape: tuple[int, ...], path: Path, *, keep_batch_norm: bool = True,
           batch: int | None = None) -> Path:
    """`module` (in eval mode) as ONNX opset 17 at `path`, batch axis dynamic. torch folds each batch norm
    into the convolution before it unless `keep_batch_norm` asks it not to (TrainingMode.PRESERVE). With a
    fixed `batch` the sizes torch computes from the input's shape (recurrent states) become constants."""
    torch.manual_seed(0)
    module.eval()
    with torch.no_grad():  # random running statistics, so the batch norms are not identities
        for layer in module.modules():
            if isinstance(layer, nn.BatchNorm2d):
                layer.running_mean.uniform_(-0.5, 0.5)
                layer.running_var.uniform_(0.5, 1.5)
    mode = torch.onnx.TrainingMode.PRESERVE if keep_batch_norm else torch.onnx.TrainingMode.EVAL
    dynamic = {} if batch else {"image": {0: "batch"}}
    torch.onnx.export(module, (torch.randn(batch or 1, *shape),), str(path), dynamo=False, opset_version=17,
                      input_names=["image"], output_names=["output"], dynamic_axes=dynamic,
                      training=mode)
    return path


class LSTMClassifier(nn.Module):
    """An image read row by row (28 steps of 28 pixels) by an LSTM; its last state classifies."""

    def __init__(self, hidden: int = 32, classes: int = 10, cell: type[nn.Module] = nn.LSTM) -> None:
        super().__init__()
        self.rnn = cell(28, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, state = self.rnn(torch.flatten(x, 1, 2))
        return self.fc((state[0] if isinstance(state, tuple) else state)[-1])


class TinyViT(nn.Module):
    """7x7 patches (16 tokens of width 32), a class token, learned positions, two encoder layers."""

    def __init__(self, width: int = 32, classes: int = 10) -> None:
        super().__init__()
        self.patch = nn.Conv2d(1, width, 7, stride=7)
        self.cls = nn.Parameter(torch.randn(1, 1, width))
        self.pos = nn.Parameter(torch.randn(1, 17, width))
        layer = nn.TransformerEncoderLayer(width, 2, width * 2, dropout=0.0, batch_first=True, activation="gelu")
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.patch(x).flatten(2).transpose(1, 2)
        tokens = torch.cat([self.cls.expand(x.shape[0], -1, -1), tokens], 1) + self.pos
        return self.head(self.norm(self.encoder(tokens))[:, 0])


MODELS = {"resnet": ResNet, "mobilenet": MobileNet, "unet": UNet, "lstm": LSTMClassifier, "vit": TinyViT}
"""The five test models by name; each takes (1, 28, 28) images."""

"""Every Keras layer class the importer does not import, with the reason (issue 29, item 2).

A class is imported when an op lists it in `keras_classes` (or it is the model's `InputLayer`);
every other public class of `keras.layers` is named here with why it has no spec form.
tests/keras/importer/test_importer_coverage.py keeps the two lists complete and disjoint, so a Keras upgrade
that adds a layer, or a new op that imports one of these, fails until this file says so.
"""

from __future__ import annotations

NO_OP_YET = ("has no archspec op yet; a plugin op that lists it in keras_classes imports it (docs/plugins.md)")

REASONS: dict[str, tuple[str, ...]] = {
    "works on volumes (3-D); archspec's ops are for vectors, sequences and images": (
        "AveragePooling3D", "Conv3D", "Conv3DTranspose", "ConvLSTM3D", "Cropping3D", "GlobalAveragePooling3D",
        "GlobalMaxPooling3D", "MaxPooling3D", "SpatialDropout3D", "UpSampling3D", "ZeroPadding3D"),
    NO_OP_YET: (
        "ActivityRegularization", "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
        "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D", "AdditiveAttention", "AlphaDropout",
        "Attention", "CategoryEncoding", "CenterCrop", "Conv1DTranspose", "ConvLSTM1D", "ConvLSTM2D",
        "DepthwiseConv1D", "Discretization", "Dot", "GaussianDropout", "GaussianNoise",
        "Minimum", "RepeatVector", "Resizing", "UpSampling1D"),
    "is training-time data augmentation, which belongs to the input pipeline, not the architecture": (
        "AugMix", "AutoContrast", "ContrastLimitedAdaptiveHistogramEqualization", "CutMix", "Equalization",
        "MaxNumBoundingBoxes", "MixUp", "Pipeline", "RandAugment", "RandomBrightness", "RandomColorDegeneration",
        "RandomColorJitter", "RandomContrast", "RandomCrop", "RandomElasticTransform", "RandomErasing", "RandomFlip",
        "RandomGaussianBlur", "RandomGrayscale", "RandomHue", "RandomInvert", "RandomPerspective",
        "RandomPosterization", "RandomRotation", "RandomSaturation", "RandomSharpness", "RandomShear",
        "RandomTranslation", "RandomZoom", "Solarization"),
    "preprocesses raw data (strings, categories, audio) before the network; specs start at tensors": (
        "HashedCrossing", "Hashing", "IntegerLookup", "MelSpectrogram", "STFTSpectrogram", "StringLookup",
        "TextVectorization"),
    "is a cell or a generic RNN over a cell; archspec imports whole recurrent layers (lstm, gru, simple_rnn)": (
        "GRUCell", "LSTMCell", "RNN", "SimpleRNNCell", "StackedRNNCells"),
    "wraps code a spec cannot express (a Python function, another framework's module, a SavedModel, "
    "any inner layer); Lambda is refused by Keras's own safe loading too": (
        "FlaxLayer", "JaxLayer", "Lambda", "Layer", "SpectralNormalization", "TFSMLayer", "TimeDistributed",
        "TorchModuleWrapper", "Wrapper"),
}
"""Reason -> the Keras layer classes it applies to (each class once)."""

REFUSED: dict[str, str] = {name: reason for reason, names in REASONS.items() for name in names}
"""Keras layer class name -> why `archspec import` has no node for it."""

IMPORTED_OUTSIDE_OPS = ("InputLayer",)
"""Classes the importer reads without an op: the model's inputs."""

"""Every keras.ops function that `archspec import` does not import, with the reason
(tests/keras/importer/test_importer_ops_coverage.py checks that this list and the importer's registry cover
keras.ops exactly; the layer classes are listed once, in archspec/keras/importer/coverage.py)."""

from __future__ import annotations


def _words(text: str) -> list[str]:
    """The names of a reason's group, written as running text."""
    return text.split()


OPS_ALIASES = {"swish": "Silu", "hard_swish": "HardSilu", "fft2": "FFT2"}
"""keras.ops functions whose operation class is not their name in CamelCase."""

MATH = "element-wise math with no op (an expr node can often write it by hand)"
SETTINGS = "an activation with settings that no activation name carries (alpha, threshold, ...)"
REDUCTION = "a reduction or statistic over axes: no op (global pools cover the common ones)"
CREATION = "creates a tensor from sizes or values, not from the model's inputs: a spec has no constant nodes"
LINALG = "linear algebra, FFT or signal processing: no op"
LOSS = "a loss or metric: it belongs to training, not the model's graph"
CONTROL = "control flow or a function transform: the graph would depend on the data or on Python"
QUERY = "a query of a tensor at trace time (shape, dtype, ...) or a conversion, not a computation"
LAYER_FUNCTION = "the function behind a layer: call the layer (Conv2D, BatchNormalization, ...), which imports"
LOGIC = "comparison, logical, bitwise or integer-index computation: no op (a spec's tensors are float features)"
SHAPE_OPS = "an axis rearrangement or combination with no mapping yet (a plugin op can import it)"
CAST = ("a dtype change: no op; a cast to the tensor's own dtype is no node (importer.keras_ops.passes_through) "
        "and a cast of an attention mask is read with the mask (importer.masks)")

REFUSED_OPS: dict[str, str] = {
    "cast": CAST,
    **dict.fromkeys(_words("""
        abs absolute angle arccos arccosh arcsin arcsinh arctan arctan2 arctanh cbrt ceil clip conj
        conjugate cos cosh deg2rad divide_no_nan erf erfc erfinv exp exp2 expm1 fabs floor floor_divide fmax fmin
        fmod hypot i0 imag ldexp log log10 log1p log2 logaddexp logaddexp2 minimum mod nan_to_num negative nextafter
        power rad2deg real reciprocal round rsqrt sign signbit sin sinc sinh sqrt square tan trunc
        heaviside"""), MATH),
    **dict.fromkeys(_words("""
        celu elu glu hard_shrink leaky_relu soft_shrink sparse_plus sparsemax squareplus
        threshold"""), SETTINGS),
    **dict.fromkeys(_words("""
        all amax amin any argmax argmin average count_nonzero cumprod cumsum logsumexp max mean
        median min moments nanargmax nanargmin nancumprod nancumsum nanmax nanmean nanmedian nanmin nanpercentile
        nanprod nanquantile nanstd nansum nanvar norm percentile prod ptp quantile std sum trace var corrcoef
        histogram bincount digitize segment_max segment_min segment_prod segment_sum trapezoid diff
        normalize"""), REDUCTION),
    **dict.fromkeys(_words("""
        arange array bartlett blackman empty empty_like eye full full_like geomspace hamming hanning
        identity kaiser linspace logspace meshgrid ones ones_like tri vander zeros zeros_like"""), CREATION),
    **dict.fromkeys(_words("""
        cholesky cholesky_inverse cross det eig eigh einsum fft ifft2 inner inv irfft istft kron
        lstsq lu_factor logdet matmul matrix_rank outer pinv polar qr rfft slogdet solve solve_triangular stft svd
        tensordot vdot dot cdist correlate view_as_complex view_as_real"""), LINALG),
    **dict.fromkeys(_words("""
        binary_crossentropy categorical_crossentropy ctc_decode ctc_loss
        sparse_categorical_crossentropy psnr in_top_k"""), LOSS),
    **dict.fromkeys(_words("""
        associative_scan cond custom_gradient fori_loop jvp map scan switch vectorize vectorized_map
        while_loop stop_gradient"""), CONTROL),
    **dict.fromkeys(_words("""
        convert_to_numpy convert_to_tensor copy dtype is_tensor ndim shape size saturate_cast
        isreal"""), QUERY),
    **dict.fromkeys(_words("""
        adaptive_average_pool adaptive_max_pool average_pool batch_normalization conv conv_transpose
        depthwise_conv dot_product_attention layer_normalization max_pool rms_normalization separable_conv one_hot
        multi_hot extract_sequences fold unfold depth_to_space space_to_depth"""), LAYER_FUNCTION),
    **dict.fromkeys(_words("""
        allclose argpartition argsort bitwise_and bitwise_invert bitwise_left_shift bitwise_not
        bitwise_or bitwise_right_shift bitwise_xor equal gcd greater greater_equal isclose isfinite isin isinf isnan
        isneginf isposinf lcm left_shift less less_equal logical_and logical_not logical_or logical_xor nonzero
        not_equal right_shift searchsorted select sort top_k unique unravel_index where take_along_axis scatter
        scatter_update slice_update"""), LOGIC),
    **dict.fromkeys(_words("""
        append array_split broadcast_to diag diagflat diagonal dsplit dstack expand_dims flip fliplr
        flipud hsplit hstack moveaxis ravel rearrange repeat roll rot90 slice squeeze stack swapaxes take tile tril
        triu unstack view vsplit vstack"""), SHAPE_OPS),
}
"""keras.ops function -> why the importer has no spec form for it."""

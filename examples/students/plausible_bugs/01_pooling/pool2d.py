def pool2d(x, pool_size, strides=None, mode="max", padding="valid"):
    """Pool a batch of feature maps x of shape (batch, height, width, channels)."""
    # A plausible student answer: 'same' is implemented by zero-padding the input and then
    # pooling 'valid'. Right size, right split, wrong values at the border: a window of
    # negative numbers now "finds" a 0, and averages count the padded zeros.
    kh, kw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    if strides is None:
        strides = (kh, kw)
    sh, sw = (strides, strides) if isinstance(strides, int) else strides
    if padding == "same":
        height, width = x.shape[1:3]
        pad_h = max((math.ceil(height / sh) - 1) * sh + kh - height, 0)
        pad_w = max((math.ceil(width / sw) - 1) * sw + kw - width, 0)
        x = np.pad(x, ((0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)))
    batch, height, width, channels = x.shape
    out_h, out_w = (height - kh) // sh + 1, (width - kw) // sw + 1
    reduce = {"max": np.max, "avg": np.mean, "min": np.min}[mode]
    out = np.empty((batch, out_h, out_w, channels), dtype=x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            out[:, i, j, :] = reduce(x[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :], axis=(1, 2))
    return out
